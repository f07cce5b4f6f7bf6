"""``trialsupp new``: a project from an ADaM folder (see ``write`` and ``inventory``)."""
from .inventory import Inventory, inspect_adam
from .write import NewError, new_project

__all__ = ["new_project", "inspect_adam", "Inventory", "NewError"]
