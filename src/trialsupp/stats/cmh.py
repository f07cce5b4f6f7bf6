"""Generalized Cochran-Mantel-Haenszel statistics for R x C x K tables (SAS PROC FREQ ``CMH``).

For stratum h with table ``n_h`` (R x C, total ``N_h``), row and column
proportions ``p_r``, ``p_c``, under the null of no association (fixed margins,
multiple hypergeometric):

    E[vec n_h]   = N_h (p_r kron p_c)
    Var[vec n_h] = N_h^2 / (N_h - 1) (D(p_r) - p_r p_r') kron (D(p_c) - p_c p_c')

With a stratum-specific matrix ``A_h``, ``G = sum_h A_h (vec n_h - E)`` and
``Q = G' (sum_h A_h V_h A_h')^{-1} G`` is chi-square under H0 (Landis,
Heyman & Koch 1978):

* general association: ``A = [I_{R-1}, 0] kron [I_{C-1}, 0]``, df (R-1)(C-1)
* row mean scores differ: ``A = [I_{R-1}, 0] kron a'`` (column scores), df R-1
* nonzero correlation: ``A = c' kron a'`` (row and column scores), df 1

Scores (SAS ``SCORES=``): ``table`` (numeric level values, else 1, 2, ...;
the SAS default), ``rank`` (mid-ranks), ``ridit`` (rank / N_h) and
``modridit`` (rank / (N_h + 1)); rank-type scores are computed within each
stratum from that stratum's margins, as SAS does. Strata with fewer than 2
observations contribute nothing (their variance is undefined).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows
from trialsupp.ard.schema import bind_ard
from trialsupp.stats.descriptive import group_levels
from trialsupp.stats.exceptions import NotEstimableError

__all__ = ["cmh_statistics", "cmh_test", "SCORES"]

SCORES = ("table", "rank", "ridit", "modridit")
HYPOTHESES = ("general association", "row mean scores differ", "nonzero correlation")


def _scores(kind: str, table_scores: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Scores of the levels of one dimension in one stratum."""
    if kind == "table":
        return np.asarray(table_scores, float)
    rank = np.cumsum(margin) - margin + (margin + 1) / 2.0  # mid-ranks
    n = margin.sum()
    return {"rank": rank, "ridit": rank / n, "modridit": rank / (n + 1)}[kind]


def cmh_statistics(tables: np.ndarray, row_scores: Sequence[float] | None = None,
                   col_scores: Sequence[float] | None = None, scores: str = "table") -> pd.DataFrame:
    """The three generalized CMH statistics for a K x R x C array of counts.

    Parameters
    ----------
    tables : array_like, shape (K, R, C) or (R, C)
        Counts per stratum (rows = groups, columns = response levels).
    row_scores, col_scores : sequence of float, optional
        Table scores for the levels (default 1..R, 1..C); used when
        ``scores="table"``.
    scores : {"table", "rank", "ridit", "modridit"}

    Returns
    -------
    DataFrame
        Index = hypothesis; columns ``statistic``, ``df``, ``p.value``.

    Raises
    ------
    NotEstimableError
        When no stratum has 2 or more observations or a variance is zero.
    """
    if scores not in SCORES:
        raise ValueError(f"scores must be one of {SCORES}, not {scores!r}")
    t = np.asarray(tables, float)
    if t.ndim == 2:
        t = t[None]
    if t.ndim != 3:
        raise ValueError("tables must have shape (K, R, C)")
    _, R, C = t.shape
    if R < 2 or C < 2:
        raise NotEstimableError("CMH needs at least 2 rows and 2 columns")
    rs = np.arange(1, R + 1, dtype=float) if row_scores is None else np.asarray(row_scores, float)
    cs = np.arange(1, C + 1, dtype=float) if col_scores is None else np.asarray(col_scores, float)
    pick_r = np.hstack([np.eye(R - 1), np.zeros((R - 1, 1))])
    pick_c = np.hstack([np.eye(C - 1), np.zeros((C - 1, 1))])
    G = {h: 0.0 for h in HYPOTHESES}
    V = {h: 0.0 for h in HYPOTHESES}
    used = 0
    for nh in t:
        N = nh.sum()
        if N < 2:
            continue
        used += 1
        rsum, csum = nh.sum(axis=1), nh.sum(axis=0)
        pr, pc = rsum / N, csum / N
        dev = nh.reshape(-1) - N * np.kron(pr, pc)
        var = N**2 / (N - 1) * np.kron(np.diag(pr) - np.outer(pr, pr), np.diag(pc) - np.outer(pc, pc))
        a = _scores(scores, cs, csum)
        c = _scores(scores, rs, rsum)
        mats = {
            "general association": np.kron(pick_r, pick_c),
            "row mean scores differ": np.kron(pick_r, a[None, :]),
            "nonzero correlation": np.kron(c[None, :], a[None, :]),
        }
        for h, A in mats.items():
            G[h] = G[h] + A @ dev
            V[h] = V[h] + A @ var @ A.T
    if used == 0:
        raise NotEstimableError("no stratum has at least 2 observations")
    out = {}
    for h in HYPOTHESES:
        g, v = np.atleast_1d(G[h]), np.atleast_2d(V[h])
        rank = np.linalg.matrix_rank(v)
        if rank == 0:
            out[h] = (np.nan, 0, np.nan)
            continue
        q = float(g @ np.linalg.pinv(v) @ g)
        out[h] = (q, int(rank), float(sps.chi2.sf(q, rank)))
    return pd.DataFrame(out, index=["statistic", "df", "p.value"]).T.astype({"df": int})


def _level_scores(levels: list) -> np.ndarray:
    """Table scores: the numeric level values when numeric, else 1, 2, ..."""
    try:
        return np.array([float(v) for v in levels])
    except (TypeError, ValueError):
        return np.arange(1, len(levels) + 1, dtype=float)


def cmh_test(df: pd.DataFrame, row: str, col: str, strata: str | None = None,
             scores: str = "table") -> pd.DataFrame:
    """Generalized CMH tests of ``row`` (e.g. treatment) vs ``col`` (response) stratified by ``strata``.

    Level order is the categorical order (else sorted values); table scores
    are the level values when numeric, else 1, 2, ... (SAS ``SCORES=TABLE``).
    Rows with a missing value in any of the three variables are left out
    (count recorded in ``warning``).

    Returns
    -------
    DataFrame
        ARD rows per hypothesis (``variable_level``): ``statistic``, ``df``,
        ``p.value`` with ``group1 = row``, ``variable = col``, context ``cmh``.
    """
    cols = [c for c in (row, col, strata) if c is not None]
    missing_cols = [c for c in cols if c not in df.columns]
    if missing_cols:
        raise KeyError(f"column(s) not in data: {', '.join(missing_cols)}")
    sub = df[cols].dropna()
    dropped = len(df) - len(sub)
    warning = f"{dropped} row(s) with missing {', '.join(cols)} left out" if dropped else None
    rlev, clev = group_levels(df[row]), group_levels(df[col])
    slev = group_levels(df[strata]) if strata else [None]
    tables = np.zeros((len(slev), len(rlev), len(clev)))
    for k, s in enumerate(slev):
        part = sub if strata is None else sub[sub[strata] == s]
        tab = pd.crosstab(part[row], part[col]).reindex(index=rlev, columns=clev, fill_value=0)
        tables[k] = tab.to_numpy(float)
    method = (f"Cochran-Mantel-Haenszel, {scores} scores"
              + (f", stratified by {strata}" if strata else ""))
    code = code_ref(cmh_test)
    parts = []
    try:
        res = cmh_statistics(tables, _level_scores(rlev), _level_scores(clev), scores=scores)
    except NotEstimableError as exc:
        for h in HYPOTHESES:
            parts.append(ard_rows({"statistic": None, "df": None, "p.value": None}, variable=col,
                                  variable_level=h, group1=row, context="cmh", method=method,
                                  code=code, warning=warning, error=str(exc)))
        return bind_ard(*parts)
    for h, r in res.iterrows():
        err = "variance is zero (no variation within strata)" if r["df"] == 0 else None
        parts.append(ard_rows({"statistic": None if err else r["statistic"], "df": int(r["df"]),
                               "p.value": None if err else r["p.value"]},
                              variable=col, variable_level=h, group1=row, context="cmh",
                              method=f"{method}: {h}", code=code, warning=warning, error=err))
    return bind_ard(*parts)
