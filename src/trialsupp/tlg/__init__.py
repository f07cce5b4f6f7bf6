"""Standard ADaM outputs: one verb family with one argument spine (see ``_spine``)."""
from ._spine import TLG, TOTAL, InputError
from .adverse import ae_by_soc_pt, ae_overview, filter_terms
from .subjects import demographics, disposition, exposure

__all__ = ["TLG", "TOTAL", "InputError", "demographics", "disposition", "exposure", "ae_overview",
           "ae_by_soc_pt", "filter_terms"]
from .bds import bds_by_visit, shift_table  # noqa: E402
__all__ += ["bds_by_visit", "shift_table"]
from .tte import km_figure, time_to_event  # noqa: E402
__all__ += ["time_to_event", "km_figure"]
from .notebook import show  # noqa: E402
__all__ += ["show"]
