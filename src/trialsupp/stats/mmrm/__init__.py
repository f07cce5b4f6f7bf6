"""Mixed models for repeated measures (MMRM) with unstructured and structured covariances.

``MMRMFitter`` fits ``outcome ~ arm * visit + covariates`` by REML (or ML), with
Kenward-Roger or Satterthwaite degrees of freedom, LS means and ARD output.
"""
from .covariance import STRUCTURES, get_structure
from .fit import MMRMFitter

__all__ = ["MMRMFitter", "STRUCTURES", "get_structure"]
