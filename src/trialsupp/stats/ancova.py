"""ANCOVA (SAS PROC GLM style) with Type III tests, LS means and treatment differences.

The model is fitted by ordinary least squares (statsmodels) with sum-to-zero
contrasts for every factor, so that the Wald F test of a term's columns is
the SAS Type III test. LS means use :mod:`trialsupp.stats.lsmeans` with equal
(SAS default) or proportional (SAS ``OM``, emmeans ``weights="proportional"``)
weights over the other factors, covariates at their mean.

:func:`dose_response` fits the same model with treatment as a numeric dose
(the CDISC pilot Table 14-3.01 "p-value (Dose Response)").
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as sps

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows
from trialsupp.ard.schema import bind_ard
from trialsupp.stats._result import FittedResult
from trialsupp.stats.descriptive import group_levels
from trialsupp.stats.exceptions import NotEstimableError, StatisticalWarning
from trialsupp.stats.lsmeans import (back_transform_log, linear_estimates, pairwise_contrasts,
                                     reference_grid, WEIGHTS)

__all__ = ["ANCOVAFitter", "dose_response", "complete_cases"]

METHOD = "ANCOVA, Type III sums of squares (sum-to-zero contrasts)"


def complete_cases(df: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, str | None]:
    """Rows without missing model variables, and a warning text naming what was dropped."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"model variable(s) not in data: {', '.join(missing)}")
    na = df[list(columns)].isna()
    keep = ~na.any(axis=1)
    if keep.all():
        return df.loc[:, list(columns)].copy(), None
    counts = ", ".join(f"{c} ({int(na[c].sum())})" for c in columns if na[c].any())
    text = f"{int((~keep).sum())} row(s) with missing values dropped: {counts}"
    warnings.warn(text, StatisticalWarning, stacklevel=3)
    return df.loc[keep, list(columns)].copy(), text


def _term(name: str) -> str:
    return f'Q("{name}")'


def _formula(outcome: str, factors: dict[str, list], covariates: Sequence[str],
             interactions: Sequence[tuple[str, str]] = ()) -> str:
    parts = [f"C({_term(f)}, Sum, levels={levels!r})" for f, levels in factors.items()]
    parts += [_term(c) for c in covariates]
    term_of = {f: f"C({_term(f)}, Sum, levels={lv!r})" for f, lv in factors.items()}
    term_of.update({c: _term(c) for c in covariates})
    parts += [f"{term_of[a]}:{term_of[b]}" for a, b in interactions]
    return f"{_term(outcome)} ~ " + " + ".join(parts) if parts else f"{_term(outcome)} ~ 1"


def _aliased_columns(X: pd.DataFrame) -> list[str]:
    """Design columns that are linear combinations of earlier ones."""
    out, rank = [], 0
    for j in range(X.shape[1]):
        r = np.linalg.matrix_rank(X.iloc[:, : j + 1].to_numpy(float))
        if r == rank:
            out.append(X.columns[j])
        rank = r
    return out


def _fit_ols(data: pd.DataFrame, formula: str):
    import patsy

    y, X = patsy.dmatrices(formula, data, return_type="dataframe", NA_action="raise")
    n, p = X.shape
    if n <= p:
        raise NotEstimableError(f"{n} observations for {p} model parameters: no residual degrees of freedom")
    if np.linalg.matrix_rank(X.to_numpy(float)) < p:
        raise NotEstimableError("singular design: aliased column(s) " + ", ".join(_aliased_columns(X)))
    res = sm.OLS(y.iloc[:, 0], X).fit()
    if res.ssr <= 1e-12 * max(1.0, float(np.sum((y.iloc[:, 0] - y.iloc[:, 0].mean()) ** 2))):
        raise NotEstimableError("outcome is fitted exactly (constant outcome or a perfect fit): "
                                "residual variance is zero")
    return res, X.design_info


def _type3(res, design_info) -> pd.DataFrame:
    """Wald F test of each term's columns (Type III with sum-to-zero coding)."""
    rows = {}
    mse = res.mse_resid
    for term, sl in design_info.term_name_slices.items():
        if term == "Intercept":
            continue
        L = np.zeros((sl.stop - sl.start, len(res.params)))
        L[:, sl] = np.eye(sl.stop - sl.start)
        b = L @ res.params.to_numpy()
        V = L @ res.cov_params().to_numpy() @ L.T
        q = L.shape[0]
        f = float(b @ np.linalg.solve(V, b) / q)
        rows[term] = {"ss": f * q * mse, "df.num": q, "df.den": res.df_resid, "statistic": f,
                      "p.value": float(sps.f.sf(f, q, res.df_resid))}
    return pd.DataFrame(rows).T


def _pretty(term: str) -> str:
    """'C(Q("TRTP"), Sum, levels=[...])' -> 'TRTP'; 'Q("BASE")' -> 'BASE'."""
    import re

    return re.sub(r'C\(Q\("([^"]+)"\), Sum, levels=\[.*?\]\)|Q\("([^"]+)"\)',
                  lambda m: m.group(1) or m.group(2), term)


class ANCOVAFitter(FittedResult):
    """Analysis of covariance with Type III tests, LS means and differences vs reference.

    Parameters
    ----------
    alpha : float
        1 - confidence level of the intervals.
    weights : {"equal", "proportional"}
        LS-mean weights over the other factors (SAS default / SAS ``OM``).
    pairs : "reference", "all" or list of (level, level)
        Treatment differences to report.
    log : bool
        Analyse ``log(outcome)`` and also report back-transformed geometric
        LS means and geometric mean ratios with % change.

    Attributes (after ``fit``)
    --------------------------
    model_ : statsmodels RegressionResults
    type3_ : DataFrame of Type III F tests
    lsmeans_ : DataFrame of LS means (index = treatment level)
    diffs_ : DataFrame of differences (index = (level, reference))
    n_ : Series, observations per treatment level in the model
    warning_ : str or None, rows dropped for missing values
    """

    def __init__(self, alpha: float = 0.05, weights: str = "equal",
                 pairs: str | Sequence[tuple] = "reference", log: bool = False):
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {WEIGHTS}, not {weights!r}")
        self.alpha, self.weights, self.pairs, self.log = alpha, weights, pairs, log

    def fit(self, df: pd.DataFrame, outcome: str, factors: Sequence[str],
            covariates: Sequence[str] = (), treatment: str | None = None,
            reference=None, levels: Sequence | None = None,
            interactions: Sequence[tuple[str, str]] = ()) -> "ANCOVAFitter":
        """Fit ``outcome ~ factors + covariates (+ interactions)``.

        Parameters
        ----------
        df : DataFrame
        outcome : str
        factors : list of str
            Categorical variables; the first is the treatment unless ``treatment`` is given.
        covariates : list of str
            Numeric covariates (e.g. baseline).
        treatment : str, optional
        reference : level, optional
            Reference treatment level (default: first level).
        levels : sequence, optional
            Treatment levels in display order (default: categorical order or sorted).
            Levels without observations get not-estimable rows.
        interactions : list of (str, str), optional

        Raises
        ------
        NotEstimableError
            Fewer than 2 treatment levels with data, singular design, constant outcome.
        """
        factors = list(factors)
        self.treatment_ = treatment or factors[0]
        if self.treatment_ not in factors:
            factors = [self.treatment_, *factors]
        self.outcome_, self.covariates_ = outcome, list(covariates)
        all_levels = list(levels) if levels is not None else group_levels(df[self.treatment_])
        data, self.warning_ = complete_cases(df, [outcome, *factors, *self.covariates_])
        if self.log:
            bad = int((data[outcome] <= 0).sum())
            if bad:
                raise NotEstimableError(f"log-scale ANCOVA: {bad} non-positive value(s) of {outcome}")
            data[outcome] = np.log(data[outcome].astype(float))
        present = set(data[self.treatment_].unique())
        self.levels_ = [lvl for lvl in all_levels if lvl in present]
        self.empty_levels_ = [lvl for lvl in all_levels if lvl not in present]
        if len(self.levels_) < 2:
            raise NotEstimableError(
                f"{self.treatment_}: fewer than 2 levels with non-missing data ({self.levels_})")
        data = data[data[self.treatment_].isin(self.levels_)]
        fac_levels = {f: (self.levels_ if f == self.treatment_ else
                          sorted(data[f].unique().tolist(), key=str)) for f in factors}
        self.reference_ = self.levels_[0] if reference is None else reference
        if self.reference_ not in all_levels:
            raise ValueError(f"reference {self.reference_!r} is not a level of {self.treatment_}")
        self.model_, self.design_info_ = _fit_ols(data, _formula(outcome, fac_levels, self.covariates_,
                                                                 interactions))
        self.data_ = data
        self.factors_ = factors
        self.n_ = data[self.treatment_].value_counts().reindex(all_levels, fill_value=0)
        self.all_levels_ = all_levels
        t3 = _type3(self.model_, self.design_info_)
        t3.index = [_pretty(t) for t in t3.index]
        self.type3_ = t3
        self.lsmeans_ = self.lsmeans(self.weights)
        self.diffs_ = self.differences(self.weights)
        self._fitted = True
        return self

    # -- estimates ---------------------------------------------------------------------
    def grid(self, weights: str | None = None) -> pd.DataFrame:
        """Reference grid rows (one per fitted treatment level)."""
        others = [f for f in self.factors_ if f != self.treatment_]
        return reference_grid(self.design_info_, self.data_, self.treatment_, self.levels_,
                              other_factors=others, covariates=self.covariates_,
                              weights=weights or self.weights)

    def _estimates(self, L: pd.DataFrame) -> pd.DataFrame:
        return linear_estimates(self.model_.params.to_numpy(), self.model_.cov_params().to_numpy(),
                                L, df=self.model_.df_resid, alpha=self.alpha)

    def lsmeans(self, weights: str | None = None) -> pd.DataFrame:
        """LS means per treatment level with ``"equal"`` or ``"proportional"`` weights."""
        return self._estimates(self.grid(weights))

    def differences(self, weights: str | None = None, pairs=None) -> pd.DataFrame:
        """Treatment differences (level minus comparator) with SE, t CI and P value."""
        pairs = self.pairs if pairs is None else pairs
        if isinstance(pairs, str) and self.reference_ in self.empty_levels_:
            return pd.DataFrame(columns=linear_estimates(np.zeros(1), np.eye(1), np.eye(1), 1).columns)
        L = pairwise_contrasts(self.grid(weights), pairs, self.reference_)
        return self._estimates(L)

    @property
    def summary(self) -> pd.DataFrame:
        self._check_fitted()
        ls = self.lsmeans_.copy()
        ls.index = pd.MultiIndex.from_tuples([("lsmean", str(i)) for i in ls.index])
        df = self.diffs_.copy()
        df.index = pd.MultiIndex.from_tuples([("diff", f"{a} - {b}") for a, b in df.index])
        return pd.concat([ls, df])

    # -- ARD ---------------------------------------------------------------------------
    def to_ard(self) -> pd.DataFrame:
        """ARD rows: Type III tests, LS means, differences (and back-transforms if ``log``)."""
        self._check_fitted()
        code = code_ref(ANCOVAFitter.fit)
        trt, y = self.treatment_, self.outcome_
        level = f"{100 * (1 - self.alpha):g}%"
        labels = {"conf.low": f"{level} CI lower limit", "conf.high": f"{level} CI upper limit"}
        wtxt = "equal weights" if self.weights == "equal" else "proportional (OM) weights"
        scale = " (log scale)" if self.log else ""
        parts = []
        for term, r in self.type3_.iterrows():
            parts.append(ard_rows({k: r[k] for k in ("statistic", "df.num", "df.den", "p.value")},
                                  variable=y, variable_level=term, context="ancova.type3",
                                  method=METHOD, code=code, warning=self.warning_))
        est_stats = ("estimate", "std.error", "df", "conf.low", "conf.high")
        for lvl in self.all_levels_:
            base = dict(variable=y, group1=trt, group1_level=lvl, context="ancova.lsmeans",
                        method=f"{METHOD}; LS means{scale}, {wtxt}, covariates at mean",
                        code=code, labels=labels, warning=self.warning_)
            if lvl in self.empty_levels_:
                parts.append(ard_rows({"N": 0}, **base))
                parts.append(ard_rows({k: None for k in est_stats}, error=f"no observations in {lvl}", **base))
                continue
            r = self.lsmeans_.loc[lvl]
            parts.append(ard_rows({"N": int(self.n_[lvl]), **{k: r[k] for k in est_stats}}, **base))
        diff_stats = ("estimate", "std.error", "df", "statistic", "conf.low", "conf.high", "p.value")
        wanted = ([(lvl, self.reference_) for lvl in self.all_levels_ if lvl != self.reference_]
                  if isinstance(self.pairs, str) else [tuple(p) for p in self.pairs])
        have = set(self.diffs_.index)
        extra = [p for p in self.diffs_.index if p not in wanted]
        for a, b in [*wanted, *extra]:
            base = dict(variable=y, group1=trt, group1_level=a, group2=trt, group2_level=b,
                        context="ancova.diff", method=f"{METHOD}; difference in LS means{scale}",
                        code=code, labels=labels, warning=self.warning_)
            if (a, b) not in have:
                parts.append(ard_rows({k: None for k in diff_stats},
                                      error=f"no observations in {a if a in self.empty_levels_ else b}",
                                      **base))
                continue
            parts.append(ard_rows({k: self.diffs_.loc[[(a, b)]].iloc[0][k] for k in diff_stats}, **base))
        if self.log:
            parts.append(self._ratio_ard(code, labels))
        return bind_ard(*parts)

    def _ratio_ard(self, code: str, labels: dict) -> pd.DataFrame:
        parts = []
        gm = back_transform_log(self.lsmeans_)
        for lvl, r in gm.iterrows():
            parts.append(ard_rows({"geomean": r["ratio"], "conf.low": r["conf.low"],
                                   "conf.high": r["conf.high"]}, variable=self.outcome_,
                                  group1=self.treatment_, group1_level=lvl, context="ancova.geomean",
                                  method=f"{METHOD}; geometric LS mean (exp of log-scale LS mean)",
                                  code=code, labels={**labels, "geomean": "Geometric LS mean"},
                                  fmt={"geomean": "sig3", "conf.low": "sig3", "conf.high": "sig3"}))
        ratio = back_transform_log(self.diffs_)
        for (a, b), r in ratio.iterrows():
            parts.append(ard_rows({"estimate": r["ratio"], "conf.low": r["conf.low"],
                                   "conf.high": r["conf.high"], "pct.change": r["pct.change"],
                                   "pct.change.low": r["pct.change.low"],
                                   "pct.change.high": r["pct.change.high"], "p.value": r["p.value"]},
                                  variable=self.outcome_, group1=self.treatment_, group1_level=a,
                                  group2=self.treatment_, group2_level=b, context="ancova.ratio",
                                  method=f"{METHOD}; geometric mean ratio, % change = exp(diff) - 1",
                                  code=code,
                                  labels={**labels, "estimate": "Geometric mean ratio",
                                          "pct.change": "% change", "pct.change.low": "% change, CI lower",
                                          "pct.change.high": "% change, CI upper"},
                                  fmt={"estimate": "ratio", "conf.low": "ratio", "conf.high": "ratio",
                                       "pct.change": "pct1", "pct.change.low": "pct1",
                                       "pct.change.high": "pct1"}))
        return bind_ard(*parts)


def dose_response(df: pd.DataFrame, outcome: str, dose: str, factors: Sequence[str] = (),
                  covariates: Sequence[str] = (), alpha: float = 0.05) -> pd.DataFrame:
    """Test of a linear dose effect: ``outcome ~ dose (numeric) + factors + covariates``.

    The Type III F test of the dose term (``= t^2`` of its slope) as in the
    CDISC pilot Table 14-3.01 ("p-value (Dose Response)", R ``drop1(test="F")``).

    Returns
    -------
    DataFrame
        ARD rows (context ``ancova.dose_response``, ``variable_level = dose``):
        ``estimate`` (slope per dose unit), ``std.error``, ``conf.low``,
        ``conf.high``, ``statistic`` (F), ``df.num``, ``df.den``, ``p.value``.
    """
    data, warning = complete_cases(df, [outcome, dose, *factors, *covariates])
    data[dose] = pd.to_numeric(data[dose], errors="raise").astype(float)
    fac_levels = {f: sorted(data[f].unique().tolist(), key=str) for f in factors}
    res, info = _fit_ols(data, _formula(outcome, fac_levels, [dose, *covariates]))
    t3 = _type3(res, info)
    name = _term(dose)
    est = linear_estimates(res.params.to_numpy(), res.cov_params().to_numpy(),
                           (res.params.index == name).astype(float)[None, :], df=res.df_resid,
                           alpha=alpha).iloc[0]
    r = t3.loc[name]
    level = f"{100 * (1 - alpha):g}%"
    return bind_ard(ard_rows({"estimate": est["estimate"], "std.error": est["std.error"],
                     "conf.low": est["conf.low"], "conf.high": est["conf.high"],
                     "statistic": r["statistic"], "df.num": int(r["df.num"]), "df.den": r["df.den"],
                     "p.value": r["p.value"]},
                    variable=outcome, variable_level=dose, group1=dose, context="ancova.dose_response",
                    method=f"{METHOD}; test of linear dose effect ({dose} as a continuous covariate)",
                    code=code_ref(dose_response), warning=warning,
                    labels={"conf.low": f"{level} CI lower limit", "conf.high": f"{level} CI upper limit",
                            "estimate": "Slope per dose unit"}))
