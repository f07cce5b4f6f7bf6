"""Common base for fitted statistical results (lifelines-style fitters)."""
from __future__ import annotations

import abc

import pandas as pd

from trialsupp.ard.schema import check_ard

__all__ = ["FittedResult"]


class FittedResult(abc.ABC):
    """Base for fitters: ``fit`` returns self, fitted attributes end in ``_``.

    Subclasses implement ``summary`` (a DataFrame) and ``to_ard`` (ARD rows).
    """

    _fitted: bool = False

    def _check_fitted(self) -> None:
        if not self._fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call .fit(...) first")

    @property
    @abc.abstractmethod
    def summary(self) -> pd.DataFrame:
        """Tidy table of the fitted results."""

    @abc.abstractmethod
    def to_ard(self) -> pd.DataFrame:
        """The fitted results as ARD rows."""

    def check(self) -> "FittedResult":
        """Validate ``to_ard()`` against the ARD schema; returns self."""
        check_ard(self.to_ard())
        return self

    def _repr_html_(self) -> str:
        if not self._fitted:
            return f"<p>{type(self).__name__} (not fitted)</p>"
        return f"<p><b>{type(self).__name__}</b></p>" + self.summary.to_html(float_format=lambda v: f"{v:.4g}")

    def __repr__(self) -> str:
        if not self._fitted:
            return f"<{type(self).__name__} (not fitted)>"
        return f"<{type(self).__name__}>\n{self.summary.to_string()}"

