"""t tests and confidence intervals for single contrasts of beta."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["t_contrast"]


def t_contrast(l: np.ndarray, beta: np.ndarray, vcov: np.ndarray, df: float,
               alpha: float = 0.05, null: float = 0.0) -> dict:
    """Estimate, SE, df, t statistic, two-sided p value and (1-alpha) CI of ``l' beta``.

    ``df = inf`` gives the normal (Wald) test.
    """
    l = np.asarray(l, float).ravel()
    est = float(l @ beta)
    se = math.sqrt(max(float(l @ vcov @ l), 0.0))
    # the distribution's methods with df as an argument: a frozen stats.t(df) rebuilds the
    # distribution object (docstrings included) on every call
    args = (df,) if np.isfinite(df) else ()
    dist = stats.t if args else stats.norm
    q = float(dist.ppf(1 - alpha / 2, *args))
    t = (est - null) / se if se > 0 else float("nan")
    p = float(2 * dist.sf(abs(t), *args)) if se > 0 else float("nan")
    return {"estimate": est, "std.error": se, "df": float(df), "conf.low": est - q * se,
            "conf.high": est + q * se, "statistic": t, "p.value": p}
