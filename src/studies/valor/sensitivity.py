"""Missing-data sensitivity analysis of the early vs delayed start ALSFRS-R comparisons.

Tipping-point (delta-adjusted) multiple imputation: missing week-``w`` ALSFRS-R changes
of ITT participants (withdrawn, died or not assessed) are imputed under missing at random
by proper Bayesian normal linear regression on start group, baseline ALSFRS-R and
progression subgroup (``mice.impute.norm``; Rubin 1987, sec. 5.3); the imputed values of
the *early-start* group are then shifted by ``delta`` points (0 = MAR; negative = worse
than MAR predicts), each completed data set is analyzed by ANCOVA (start group, baseline,
progression subgroup) and the differences are combined by Rubin's rules
(:func:`trialsupp.stats.mi.pool`, Barnard-Rubin df). The tipping point is the first
delta at which the nominal P value reaches .05.

The MMRM of the efficacy tables needs no imputation; this analysis asks how far the
missing early-start outcomes would have to be from the MAR prediction to remove the
difference. Written here (not statsmodels/mice) because Python has no delta-adjusted MI.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.stats.mi import pool

from .common import DELAYED, EARLY, GROUP, PROGGR, endpoint_records, population

DELTAS = (0.0, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -8.0)


def analysis_frame(data: Mapping[str, pd.DataFrame], week: int, pop_name: str = "ITT") -> pd.DataFrame:
    """One row per participant of the population: start group, subgroup, baseline ALSFRS-R and
    the week-``week`` change (NaN when missing)."""
    pop = population(data["adsl"], pop_name)
    rec = endpoint_records(data, "ALSFRST", pop, [week])[["USUBJID", "CHG"]]
    df = pop[["USUBJID", GROUP, PROGGR, "BLALSFRS"]].merge(rec, on="USUBJID", how="left")
    return df.sort_values("USUBJID").reset_index(drop=True)


def _design(df: pd.DataFrame, fit_rows: np.ndarray | None = None) -> np.ndarray:
    """Imputation model columns: intercept, early start, baseline and (when both levels occur
    among the rows the model is fitted to, ``fit_rows``) the progression subgroup."""
    fit = df if fit_rows is None else df[fit_rows]
    cols = [np.ones(len(df)), (df[GROUP] == EARLY).to_numpy(float), df["BLALSFRS"].to_numpy(float)]
    if fit[PROGGR].nunique() > 1:
        cols.append((df[PROGGR] == fit[PROGGR].iloc[0]).to_numpy(float))
    return np.column_stack(cols)


def not_estimable(df: pd.DataFrame) -> str | None:
    """Why the imputation model cannot be fitted to the observed rows of ``df`` (None when it can):
    each start group needs observed values, and the observed design must have full rank with at
    least 2 residual degrees of freedom (a data cut before most participants reach the week)."""
    obs = df["CHG"].notna().to_numpy()
    n_obs = {g: int((obs & (df[GROUP] == g).to_numpy()).sum()) for g in (EARLY, DELAYED)}
    if min(n_obs.values()) == 0:
        return f"{n_obs[EARLY]} early-start and {n_obs[DELAYED]} delayed-start values observed"
    X = _design(df, obs)[obs]
    if X.shape[0] - X.shape[1] < 2 or np.linalg.matrix_rank(X) < X.shape[1]:
        return f"{int(obs.sum())} values observed"
    return None


def impute(df: pd.DataFrame, n_imputations: int, seed: int) -> list[np.ndarray]:
    """MAR draws of the missing CHG values (mice.impute.norm): sigma^2* = RSS / chi^2_{n-p},
    beta* ~ N(beta_hat, sigma^2* (X'X)^-1), y* = x beta* + sigma* e."""
    y = df["CHG"].to_numpy(float)
    obs = ~np.isnan(y)
    X = _design(df, obs)
    Xo, yo = X[obs], y[obs]
    n, p = Xo.shape
    xtx_inv = np.linalg.inv(Xo.T @ Xo)
    bhat = xtx_inv @ Xo.T @ yo
    rss = float(np.sum((yo - Xo @ bhat) ** 2))
    chol = np.linalg.cholesky(xtx_inv)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_imputations):
        s2 = rss / rng.chisquare(n - p)
        beta = bhat + np.sqrt(s2) * (chol @ rng.standard_normal(p))
        yy = y.copy()
        yy[~obs] = X[~obs] @ beta + np.sqrt(s2) * rng.standard_normal(int((~obs).sum()))
        out.append(yy)
    return out


def _ancova_design(df: pd.DataFrame) -> np.ndarray:
    """ANCOVA columns: intercept, early start, baseline, progression subgroup (when both occur;
    treatment coding, first sorted level as reference, as ``C(PROGGR)`` in a formula)."""
    cols = [np.ones(len(df)), (df[GROUP] == EARLY).to_numpy(float), df["BLALSFRS"].to_numpy(float)]
    levels = sorted(df[PROGGR].dropna().unique())
    cols += [(df[PROGGR] == lv).to_numpy(float) for lv in levels[1:]]
    return np.column_stack(cols)


def ancova_many(df: pd.DataFrame, ys: Sequence[np.ndarray]) -> list[tuple[float, float, float]]:
    """:func:`ancova` of each outcome vector in ``ys`` (one QR of the shared design; the ANCOVA
    runs 160 times per tipping-point table, where a formula fit per call cost a second)."""
    X = _ancova_design(df)
    Y = np.column_stack(ys)
    keep = np.isfinite(X).all(axis=1) & np.isfinite(Y).all(axis=1)    # complete cases, as a formula fit
    X, Y = X[keep], Y[keep]
    q, r = np.linalg.qr(X)
    beta = np.linalg.solve(r, q.T @ Y)
    dfr = X.shape[0] - X.shape[1]
    s2 = np.sum((Y - X @ beta) ** 2, axis=0) / dfr
    rinv = np.linalg.inv(r)
    v = float(rinv[1] @ rinv[1])                     # [(X'X)^-1]_{EARLY, EARLY}
    return [(float(b), float(np.sqrt(v * s)), float(dfr)) for b, s in zip(beta[1], s2)]


def ancova(df: pd.DataFrame, y: np.ndarray) -> tuple[float, float, float]:
    """Early minus delayed start difference, its SE and residual df (OLS: start group, baseline,
    progression subgroup)."""
    return ancova_many(df, [y])[0]


def tipping_point(data: Mapping[str, pd.DataFrame], week: int, deltas: Sequence[float] = DELTAS,
                  n_imputations: int = 20, seed: int = 1, pop_name: str = "ITT") -> pd.DataFrame:
    """ARD rows (context ``tipping``; variable ``ALSFRST``; group2_level ``Week w``;
    variable_level = delta): pooled difference, 95% CI, P and fraction of missing information
    per delta, plus the missing counts per start group and the tipping point."""
    df = analysis_frame(data, week, pop_name)
    miss = df["CHG"].isna().to_numpy()
    early = (df[GROUP] == EARLY).to_numpy()
    why = not_estimable(df)
    draws = [] if why else impute(df, n_imputations, seed)
    code = code_ref(tipping_point)
    method = (f"Delta-adjusted multiple imputation ({n_imputations} imputations, Bayesian normal regression "
              "on start group, baseline and progression subgroup); ANCOVA; Rubin's rules")
    if why:
        method += f"; not estimable at week {week}: {why}"
    parts, tip = [], None
    for delta in deltas:
        stats = {"estimate": None, "conf.low": None, "conf.high": None, "p.value": None, "fmi": None}
        if not why:
            shifted = []
            for yy in draws:
                y = yy.copy()
                y[miss & early] += delta
                shifted.append(y)
            est, se, dfs = zip(*ancova_many(df, shifted))
            dfc = dfs[0]
            pr = pool(est, se, dfcom=dfc)
            if tip is None and pr.p_value >= 0.05:
                tip = delta
            stats = {"estimate": pr.estimate, "conf.low": pr.conf_low, "conf.high": pr.conf_high,
                     "p.value": pr.p_value, "fmi": pr.fmi}
        parts.append(ard_rows({"delta": float(delta), **stats},
                              variable="ALSFRST", variable_level=f"{delta:g}", group1=GROUP, group1_level=EARLY,
                              group2="AVISIT", group2_level=f"Week {week}", context="tipping", method=method,
                              code=code, fmt={"delta": "d0", "estimate": "d1", "conf.low": "d1", "conf.high": "d1",
                                              "p.value": "pvalue", "fmi": "pct0"},
                              error=f"week {week}, {why}" if why else None))
    counts = {"n.missing.early": int((miss & early).sum()), "n.missing.delayed": int((miss & ~early).sum()),
              "n.early": int(early.sum()), "n.delayed": int((~early).sum()),
              "n.imputations": int(n_imputations),
              "tipping.point": ("not estimable" if why else "not reached" if tip is None
                                else f"{tip:g}".replace("-", "\u2212")),
              "delta.min": f"{min(deltas):g}".replace("-", "\u2212")}
    parts.append(ard_rows(counts, variable="ALSFRST", group2="AVISIT", group2_level=f"Week {week}",
                          context="tipping.summary", method=method, code=code,
                          fmt={k: ("str" if isinstance(v, str) else "int") for k, v in counts.items()}))
    return bind_ard(*parts)


def completed_data(data: Mapping[str, pd.DataFrame], week: int, delta: float, n_imputations: int = 20,
                   seed: int = 1) -> pd.DataFrame:
    """The delta-adjusted completed data sets stacked (column ``IMP``): the input of the
    independent R check (tests/reference/valor/tipping.R)."""
    df = analysis_frame(data, week)
    miss = df["CHG"].isna().to_numpy()
    early = (df[GROUP] == EARLY).to_numpy()
    out = []
    for i, yy in enumerate(impute(df, n_imputations, seed), start=1):
        y = yy.copy()
        y[miss & early] += delta
        out.append(df.assign(Y=y, IMP=i))
    return pd.concat(out, ignore_index=True)
