"""Combining results from multiply imputed data sets.

* :func:`pool` -- Rubin's rules (Rubin 1987, *Multiple Imputation for Nonresponse in
  Surveys*, ch. 3) for a scalar estimate: pooled estimate, total variance
  ``T = Ubar + (1 + 1/m) B``, relative increase in variance ``r``, ``lambda``,
  degrees of freedom (Rubin 1987, or the Barnard & Rubin 1999 small-sample df when
  the complete-data df ``dfcom`` is given) and the fraction of missing information
  ``fmi = (r + 2/(df + 3)) / (r + 1)`` (the definition used by R ``mice::pool``).
* :func:`pool_chisq` -- the D2 statistic of Li, Raghunathan & Rubin (1991,
  *Statist. Med.* 10:1081-93) for combining chi-square (or squared z) statistics.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sst

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows
from trialsupp.stats.exceptions import NotEstimableError

__all__ = ["PooledEstimate", "pool", "PooledChisq", "pool_chisq"]


@dataclass
class PooledEstimate:
    """Rubin's-rules result (fields mirror R ``mice::pool`` column names)."""
    estimate: float
    ubar: float
    b: float
    t: float
    std_error: float
    df: float
    riv: float
    lambda_: float
    fmi: float
    m: int
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    alpha: float = 0.05
    method: str = field(default="Rubin's rules")

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"estimate": self.estimate, "std.error": self.std_error, "statistic": self.statistic,
                              "df": self.df, "p.value": self.p_value, "conf.low": self.conf_low,
                              "conf.high": self.conf_high, "ubar": self.ubar, "b": self.b, "t": self.t,
                              "riv": self.riv, "lambda": self.lambda_, "fmi": self.fmi, "m": self.m}])

    def to_ard(self, **keys) -> pd.DataFrame:
        """ARD rows ``estimate``, ``std.error``, ``statistic``, ``df``, ``p.value``, ``conf.low``,
        ``conf.high``, ``fmi``; ``keys`` go to :func:`ard_rows` (variable, group1, ...)."""
        stats = {"estimate": self.estimate, "std.error": self.std_error, "statistic": self.statistic,
                 "df": self.df, "p.value": self.p_value, "conf.low": self.conf_low,
                 "conf.high": self.conf_high, "fmi": self.fmi}
        keys.setdefault("context", "mi_pool")
        return ard_rows(stats, method=self.method, code=code_ref(pool),
                        labels={"fmi": "Fraction of missing information"}, **keys)


def pool(estimates, std_errors=None, *, variances=None, dfcom: float | None = None,
         alpha: float = 0.05) -> PooledEstimate:
    """Pool a scalar estimate over ``m`` imputations by Rubin's rules.

    Parameters
    ----------
    estimates : array-like (m,)
        Complete-data estimates Q_l.
    std_errors, variances : array-like (m,)
        Complete-data standard errors or variances U_l (give one).
    dfcom : float, optional
        Complete-data degrees of freedom; if given (finite), the Barnard-Rubin (1999)
        adjusted df ``1 / (1/df_old + 1/df_obs)`` is used, else Rubin's (1987)
        ``df_old = (m - 1) / lambda^2``.
    alpha : float
        1 - confidence level; the CI and p use the t distribution with ``df``.
    """
    q = np.asarray(estimates, float)
    if variances is None:
        if std_errors is None:
            raise ValueError("give std_errors or variances")
        u = np.asarray(std_errors, float) ** 2
    else:
        u = np.asarray(variances, float)
    m = len(q)
    if m < 2 or len(u) != m:
        raise NotEstimableError("need at least 2 imputations with one variance each")
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(u))):
        bad = np.flatnonzero(~(np.isfinite(q) & np.isfinite(u)))
        raise NotEstimableError(f"non-finite estimate or variance in imputation(s) {[int(i) for i in bad]}")
    qbar, ubar, b = q.mean(), u.mean(), q.var(ddof=1)
    t = ubar + (1 + 1 / m) * b
    riv = (1 + 1 / m) * b / ubar if ubar > 0 else np.inf
    lam = (1 + 1 / m) * b / t if t > 0 else 0.0
    df_old = (m - 1) / lam**2 if lam > 0 else np.inf
    if dfcom is not None and np.isfinite(dfcom):
        df_obs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
        df = 1 / (1 / df_old + 1 / df_obs)
        method = "Rubin's rules; Barnard-Rubin small-sample df"
    else:
        df = df_old
        method = "Rubin's rules; Rubin (1987) df"
    fmi = (riv + 2 / (df + 3)) / (riv + 1) if np.isfinite(df) else lam
    se = np.sqrt(t)
    stat = qbar / se if se > 0 else np.nan
    tq = sst.t.ppf(1 - alpha / 2, df) if np.isfinite(df) else sst.norm.ppf(1 - alpha / 2)
    p = 2 * (sst.t.sf(abs(stat), df) if np.isfinite(df) else sst.norm.sf(abs(stat)))
    return PooledEstimate(float(qbar), float(ubar), float(b), float(t), float(se), float(df), float(riv),
                          float(lam), float(fmi), m, float(stat), float(p), float(qbar - tq * se),
                          float(qbar + tq * se), alpha, method)


@dataclass
class PooledChisq:
    """D2 result (Li, Raghunathan & Rubin 1991): F statistic on (k, df2)."""
    statistic: float
    df1: float
    df2: float
    p_value: float
    riv: float
    m: int

    def to_ard(self, **keys) -> pd.DataFrame:
        keys.setdefault("context", "mi_pool")
        return ard_rows({"statistic": self.statistic, "df.num": self.df1, "df.den": self.df2,
                         "p.value": self.p_value},
                        method="D2 pooling of chi-square statistics (Li, Raghunathan & Rubin 1991)",
                        code=code_ref(pool_chisq), **keys)


def pool_chisq(chisq, df: int) -> PooledChisq:
    """Combine chi-square statistics d_l (each on ``df`` = k) from m imputations by D2.

    ``r2 = (1 + 1/m) var(sqrt(d_l))``, ``D2 = (mean(d)/k - (m+1)/(m-1) r2) / (1 + r2)``,
    referred to F(k, df2) with ``df2 = k^(-3/m) (m - 1) (1 + 1/r2)^2``.
    """
    d = np.asarray(chisq, float)
    m = len(d)
    if m < 2:
        raise NotEstimableError("need at least 2 imputations")
    r2 = (1 + 1 / m) * np.var(np.sqrt(d), ddof=1)
    D2 = (d.mean() / df - (m + 1) / (m - 1) * r2) / (1 + r2)
    df2 = df ** (-3 / m) * (m - 1) * (1 + 1 / r2) ** 2 if r2 > 0 else np.inf
    p = sst.f.sf(max(D2, 0.0), df, df2) if np.isfinite(df2) else sst.chi2.sf(max(D2, 0.0) * df, df)
    return PooledChisq(float(D2), float(df), float(df2), float(p), float(r2), m)
