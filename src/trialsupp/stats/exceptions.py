"""Exceptions and warnings shared by the statistics modules."""
from __future__ import annotations

__all__ = ["NotEstimableError", "ConvergenceError", "ConvergenceWarning", "StatisticalWarning"]


class NotEstimableError(ValueError):
    """A statistic cannot be estimated from the data (empty arm, constant outcome, singular design...)."""


class ConvergenceError(ValueError):
    """An iterative fit did not converge."""


class ConvergenceWarning(UserWarning):
    """An iterative fit converged with problems (boundary, non-positive-definite Hessian...)."""


class StatisticalWarning(UserWarning):
    """A result is computed but its assumptions are doubtful (small expected counts, dropped rows...)."""
