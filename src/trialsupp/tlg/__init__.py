"""Standard ADaM outputs: one verb family with one argument spine (see ``_spine``)."""
from ._spine import TLG, TOTAL, InputError
from .adverse import ae_by_soc_pt, ae_overview
from .subjects import demographics, disposition, exposure

__all__ = ["TLG", "TOTAL", "InputError", "demographics", "disposition", "exposure", "ae_overview",
           "ae_by_soc_pt"]
