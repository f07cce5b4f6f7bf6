"""Least-squares means machinery shared by ANCOVA and MMRM.

Everything here is model-agnostic: a coefficient vector ``beta``, its
covariance ``vcov``, a design reference grid ``L`` (one row per estimate,
columns = model coefficients) and degrees of freedom (a scalar, one per row,
or ``None`` for normal-based inference). Model modules only have to build the
grid rows, which :func:`reference_grid` does for any patsy design.

Weights over the non-treatment factors (SAS / emmeans):

* ``"equal"`` - every combination of the other factors' levels gets the same
  weight (SAS ``LSMEANS`` default, emmeans default);
* ``"proportional"`` - combinations weighted by their observed frequencies in
  the analysis data (SAS ``LSMEANS / OM``, emmeans ``weights = "proportional"``).

Numeric covariates are held at their mean in the analysis data (both).
"""
from __future__ import annotations

import itertools
import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

__all__ = ["linear_estimates", "reference_grid", "pairwise_contrasts", "back_transform_log",
           "WEIGHTS"]

WEIGHTS = ("equal", "proportional")
ESTIMATE_COLUMNS = ["estimate", "std.error", "df", "statistic", "p.value", "conf.low", "conf.high"]


def linear_estimates(beta: np.ndarray, vcov: np.ndarray, L: np.ndarray | pd.DataFrame,
                     df: float | Sequence[float] | None, alpha: float = 0.05,
                     labels: Sequence | None = None, null: float = 0.0) -> pd.DataFrame:
    """Estimates ``L beta`` with SE, t (or z) statistic, two-sided P value and CI.

    Parameters
    ----------
    beta : array, shape (p,)
    vcov : array, shape (p, p)
    L : array or DataFrame, shape (k, p)
        Rows are linear combinations (a DataFrame's index gives the labels).
    df : float, sequence of float, or None
        Denominator degrees of freedom (residual df for OLS, Satterthwaite or
        Kenward-Roger per row for mixed models); ``None`` uses the normal.
    alpha : float
        1 - confidence level.
    labels : sequence, optional
        Row labels (default: the DataFrame index or 0..k-1).
    null : float
        Value under H0 for the test.

    Returns
    -------
    DataFrame
        Columns ``estimate, std.error, df, statistic, p.value, conf.low, conf.high``.
    """
    if isinstance(L, pd.DataFrame):
        labels = list(L.index) if labels is None else labels
        L = L.to_numpy(float)
    L = np.atleast_2d(np.asarray(L, float))
    beta, vcov = np.asarray(beta, float), np.asarray(vcov, float)
    est = L @ beta
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", L, vcov, L), 0.0))
    if df is None:
        dfs = np.full(len(est), np.inf)
    else:
        dfs = np.broadcast_to(np.asarray(df, float), est.shape).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = (est - null) / se
    p = 2.0 * sps.t.sf(np.abs(stat), dfs)
    q = sps.t.ppf(1.0 - alpha / 2.0, dfs)
    out = pd.DataFrame({"estimate": est, "std.error": se, "df": dfs if df is not None else np.nan,
                        "statistic": stat, "p.value": p, "conf.low": est - q * se,
                        "conf.high": est + q * se},
                       index=labels if labels is not None else range(len(est)))
    return out[ESTIMATE_COLUMNS]


def reference_grid(design_info, data: pd.DataFrame, factor: str, levels: Sequence,
                   other_factors: Iterable[str] = (), covariates: Iterable[str] = (),
                   weights: str = "equal", at: dict | None = None) -> pd.DataFrame:
    """Rows of the design matrix averaged to give one LS mean per level of ``factor``.

    Parameters
    ----------
    design_info : patsy.DesignInfo
        Design of the fitted model (``X.design_info``).
    data : DataFrame
        The analysis data the model was fitted to (complete cases).
    factor : str
        Column whose levels get LS means (treatment).
    levels : sequence
        Levels of ``factor`` (order of the result).
    other_factors : iterable of str
        Other categorical model variables, averaged over by ``weights``.
    covariates : iterable of str
        Numeric model variables, held at their mean in ``data`` (or ``at``).
    weights : {"equal", "proportional"}
    at : dict, optional
        Fixed values for covariates or factors (overrides the mean / averaging).

    Returns
    -------
    DataFrame
        Index = levels, columns = design column names.
    """
    import patsy  # statsmodels dependency

    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, not {weights!r}")
    at = dict(at or {})
    other_factors = [f for f in other_factors if f not in at]
    covariates = list(covariates)
    fixed = {c: at.get(c, float(pd.to_numeric(data[c]).mean())) for c in covariates}
    fixed.update({k: v for k, v in at.items() if k not in fixed})
    if weights == "proportional":
        base = data[[*other_factors]].copy() if other_factors else pd.DataFrame(index=[0])
    else:
        combos = list(itertools.product(*[sorted(data[f].dropna().unique().tolist(), key=str)
                                           for f in other_factors])) or [()]
        base = pd.DataFrame(combos, columns=other_factors) if other_factors else pd.DataFrame(index=[0])
    rows = {}
    for lvl in levels:
        grid = base.copy()
        grid[factor] = lvl
        for col, val in fixed.items():
            grid[col] = val
        for col in data.columns:  # columns patsy needs but we do not vary (e.g. unused)
            if col not in grid.columns:
                grid[col] = data[col].iloc[0]
        (X,) = patsy.build_design_matrices([design_info], grid, return_type="dataframe")
        rows[lvl] = X.mean(axis=0)
    return pd.DataFrame(rows).T


def pairwise_contrasts(grid: pd.DataFrame, pairs: str | Sequence[tuple] = "reference",
                       reference=None) -> pd.DataFrame:
    """Difference rows ``grid[a] - grid[b]`` for the requested pairs.

    Parameters
    ----------
    grid : DataFrame
        Output of :func:`reference_grid` (index = levels).
    pairs : "reference", "all", or sequence of (a, b)
        ``"reference"``: every level vs ``reference``; ``"all"``: every level
        vs reference first, then the remaining pairs (later level minus earlier).
    reference : level, optional
        Default: the first level.

    Returns
    -------
    DataFrame
        Index = (a, b) tuples, columns as ``grid``.
    """
    levels = list(grid.index)
    reference = levels[0] if reference is None else reference
    if reference not in levels:
        raise ValueError(f"reference level {reference!r} not among {levels}")
    if isinstance(pairs, str):
        if pairs not in ("reference", "all"):
            raise ValueError("pairs must be 'reference', 'all' or a list of (a, b) pairs")
        chosen = [(lvl, reference) for lvl in levels if lvl != reference]
        if pairs == "all":
            rest = [lvl for lvl in levels if lvl != reference]
            chosen += [(b, a) for a, b in itertools.combinations(rest, 2)]
    else:
        chosen = [tuple(p) for p in pairs]
    for a, b in chosen:
        if a not in levels or b not in levels:
            raise ValueError(f"pair ({a!r}, {b!r}) uses a level not in {levels}")
    return pd.DataFrame([grid.loc[a] - grid.loc[b] for a, b in chosen],
                        index=pd.Index(chosen, tupleize_cols=False))


def back_transform_log(frame: pd.DataFrame) -> pd.DataFrame:
    """Back-transform log-scale estimates: ratio = exp(estimate), CI = exp(limits), % change.

    For LS means this gives geometric LS means; for differences, geometric
    mean ratios with ``pct.change = exp(estimate) - 1`` (a proportion) and its
    CI limits. P values are unchanged.
    """
    out = pd.DataFrame(index=frame.index)
    out["ratio"] = np.exp(frame["estimate"])
    out["conf.low"] = np.exp(frame["conf.low"])
    out["conf.high"] = np.exp(frame["conf.high"])
    out["pct.change"] = np.expm1(frame["estimate"])
    out["pct.change.low"] = np.expm1(frame["conf.low"])
    out["pct.change.high"] = np.expm1(frame["conf.high"])
    out["p.value"] = frame["p.value"]
    return out


def t_quantile(alpha: float, df: float) -> float:
    """Two-sided critical t value (normal when df is None or infinite)."""
    return float(sps.norm.ppf(1 - alpha / 2) if df is None or math.isinf(df) else sps.t.ppf(1 - alpha / 2, df))
