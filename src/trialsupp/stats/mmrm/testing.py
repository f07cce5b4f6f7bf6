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
    dist = stats.norm if not np.isfinite(df) else stats.t(df)
    q = float(dist.ppf(1 - alpha / 2))
    t = (est - null) / se if se > 0 else float("nan")
    p = float(2 * dist.sf(abs(t))) if se > 0 else float("nan")
    return {"estimate": est, "std.error": se, "df": float(df), "conf.low": est - q * se,
            "conf.high": est + q * se, "statistic": t, "p.value": p}
