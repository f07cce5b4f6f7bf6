"""Finkelstein-Schoenfeld joint rank test of a fatal event and a functional score.

Pairwise rule (Finkelstein & Schoenfeld 1999, *Statist. Med.* 18:1341-54; as in
the ALS "CAFS"/joint-rank analyses): participants i and j are compared on the
fatal event (death or permanent ventilation) within their shared follow-up
``s = min(t_i, t_j)``: if exactly one had the event by ``s`` that one is worse; if
both had it, the earlier is worse. If not decided (neither had the event by ``s``,
or both at the same time), they are compared on the functional change (higher is
better). Score ``u_i = sum_j (+1 better, -1 worse, 0 tie)``.

Test: ``T = sum of u_i in the treatment arm``; permutation (hypergeometric)
variance ``Var = m n / (N (N - 1)) sum u_i^2`` (the ``u_i`` sum to 0);
``Z = T / sqrt(Var)``, two-sided normal p. Identical to ``coin::independence_test``
of the scores with ``distribution = "asymptotic"``.

Covariate adjustment (``adjust="koch"``): Stokes-Koch nonparametric rank ANCOVA
(Koch, Tangen, Jung & Amara 1998, *Statist. Med.* 17:1863-92; Stokes, Davis & Koch,
*Categorical Data Analysis Using SAS*, ch. 14): the scores are regressed by least
squares on the covariates (their ranks by default), without the treatment term;
the residuals replace the scores in the permutation test above (the extended
Cochran-Mantel-Haenszel mean-score statistic with residual scores; ``Q = Z^2``, 1 df).

Missing functional values (``n_imputations > 0``): each missing value (by default
only for participants without the fatal event -- the value of a participant who died
is not defined and their fatal-event comparisons decide most pairs) is imputed from
a normal linear regression on the arm and the ``impute_covariates`` with proper
posterior draws (Rubin 1987, sec. 5.3; R ``mice.impute.norm``): ``sigma^2* = RSS / chi^2_{n-p}``,
``beta* ~ N(beta_hat, sigma^2* (X'X)^{-1})``, ``y* = X beta* + N(0, sigma^2*)``. The test is
run on each completed data set and the Z statistics are combined by Rubin's rules
with within-imputation variance 1 (``combine="rubin"``: pooled ``Z = mean Z_l /
sqrt(1 + (1 + 1/m) B)``, t reference with Rubin's df), a normalising transformation
before pooling as recommended for test statistics (van Buuren, *Flexible Imputation
of Missing Data*, 2nd ed., sec. 5.3), or by the D2 rule of Li, Raghunathan & Rubin (1991)
on ``Z_l^2`` (``combine="d2"``; two-sided, loses the sign). Pairs still needing a
missing value are ties and are counted in a warning (never silently).
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sst

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows
from trialsupp.stats.exceptions import NotEstimableError, StatisticalWarning
from trialsupp.stats.mi import pool, pool_chisq
from trialsupp.ard.schema import bind_ard

__all__ = ["JointRankTest", "fs_scores", "permutation_z"]


def fs_scores(time, fatal, y) -> tuple[np.ndarray, int]:
    """Finkelstein-Schoenfeld scores by broadcasting over all pairs.

    Returns
    -------
    scores : ndarray (N,)
    n_missing_pairs : int
        Unordered pairs that needed the functional value but had it missing (counted as ties).
    """
    t = np.asarray(time, float)
    f = np.asarray(fatal, float) == 1
    y = np.asarray(y, float)
    ti, tj = t[:, None], t[None, :]
    ei = f[:, None] & (ti <= tj)  # i had the event within the shared follow-up min(ti, tj)
    ej = f[None, :] & (tj <= ti)
    r = np.where(ei & ej, np.sign(ti - tj), 0.0)  # both: the later event is better
    r = np.where(ei & ~ej, -1.0, r)
    r = np.where(ej & ~ei, 1.0, r)
    undecided = ~(ei | ej) | (ei & ej & (ti == tj))
    yd = np.sign(y[:, None] - y[None, :])
    miss = undecided & np.isnan(yd)
    np.fill_diagonal(miss, False)
    r = np.where(undecided, np.nan_to_num(yd, nan=0.0), r)
    np.fill_diagonal(r, 0.0)
    return r.sum(1), int(miss.sum() // 2)


def permutation_z(u: np.ndarray, trt: np.ndarray) -> tuple[float, float, float]:
    """``T = sum(u[trt])`` centred at its permutation mean, permutation variance, Z."""
    u = np.asarray(u, float)
    N, m = len(u), int(trt.sum())
    n = N - m
    uc = u - u.mean()
    T = float(uc[trt].sum())
    V = m * n / (N * (N - 1)) * float(np.sum(uc**2))
    return T, V, T / np.sqrt(V) if V > 0 else np.nan


def _ranks(a: np.ndarray) -> np.ndarray:
    return sst.rankdata(a, method="average")


class JointRankTest:
    """Finkelstein-Schoenfeld joint rank test, optional Koch rank ANCOVA and MI.

    Parameters
    ----------
    n_imputations : int
        0 = no imputation; otherwise the number of imputed data sets (e.g. 20).
    seed : int, optional
        Seed of the imputation random generator (``numpy.random.default_rng``).
    adjust : {None, "koch"}
        Covariate adjustment (Stokes-Koch nonparametric ANCOVA on the scores).
    rank_covariates : bool
        Koch: regress on the ranks of the covariates (True) or their values.
    combine : {"rubin", "d2"}
        Combination of the per-imputation Z statistics.
    impute_fatal : bool
        Also impute missing functional values of participants who had the fatal event.
    alpha : float

    Attributes (after ``fit``)
    --------------------------
    statistic_, p_value_ : pooled Z (or D2 F) and p; ``z_`` per imputation (array).
    scores_ : DataFrame of per-participant scores (mean over imputations).
    n_ : dict by arm; ``n_missing_`` missing functional values; ``pooled_`` the MI result.
    """

    def __init__(self, n_imputations: int = 0, seed: int | None = None, adjust: str | None = None,
                 rank_covariates: bool = True, combine: str = "rubin", impute_fatal: bool = False,
                 alpha: float = 0.05):
        if adjust not in (None, "koch"):
            raise ValueError("adjust must be None or 'koch'")
        if combine not in ("rubin", "d2"):
            raise ValueError("combine must be 'rubin' or 'd2'")
        if n_imputations == 1 or n_imputations < 0:
            raise ValueError("n_imputations must be 0 or >= 2")
        self.n_imputations, self.seed, self.adjust = n_imputations, seed, adjust
        self.rank_covariates, self.combine, self.impute_fatal, self.alpha = \
            rank_covariates, combine, impute_fatal, alpha

    # --------------------------------------------------------------- checks
    @staticmethod
    def _check(df: pd.DataFrame, cols: list[str]) -> None:
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"columns not in data: {missing}")
        for c in cols:
            na = df[c].isna().to_numpy()
            if na.any():
                raise ValueError(f"variable {c!r} has missing values in rows {list(df.index[na][:10])}")

    def fit(self, df: pd.DataFrame, time: str, fatal: str, outcome: str, arm: str, treatment: Any,
            covariates: Sequence[str] = (), impute_covariates: Sequence[str] | None = None) -> "JointRankTest":
        """Run the test.

        Parameters
        ----------
        df : DataFrame, one row per participant.
        time : str
            Time of the fatal event, or of the end of follow-up for it.
        fatal : str
            1 = fatal event (death / permanent ventilation) at ``time``, 0 = none.
        outcome : str
            Functional change (higher = better), may be missing.
        arm : str
            Two-level arm column; ``treatment`` is the level whose score sum is ``T``
            (Z > 0 favours ``treatment``).
        covariates : list of str
            Numeric covariates for ``adjust="koch"`` (and the default imputation model).
        impute_covariates : list of str, optional
            Predictors of the imputation model besides the arm (default: ``covariates``).
        """
        covariates = list(covariates)
        impute_covariates = covariates if impute_covariates is None else list(impute_covariates)
        self._check(df, [time, fatal, arm, *covariates, *impute_covariates])
        if outcome not in df.columns:
            raise ValueError(f"column {outcome!r} not in data")
        lv = sorted(df[arm].unique())
        if len(lv) != 2 or treatment not in lv:
            raise NotEstimableError(f"{arm}: need exactly two arms including {treatment!r}; found {lv}")
        t = pd.to_numeric(df[time], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(t) | (t < 0)
        if bad.any():
            raise ValueError(f"variable {time!r} must be finite and >= 0; bad rows {list(df.index[bad][:10])}")
        f = df[fatal].to_numpy(float)
        bad = ~np.isin(f, (0.0, 1.0))
        if bad.any():
            raise ValueError(f"variable {fatal!r} must be 0/1; bad rows {list(df.index[bad][:10])}")
        y = pd.to_numeric(df[outcome], errors="coerce").to_numpy(float)
        trt = (df[arm] == treatment).to_numpy()
        self.arm, self.treatment, self.control = arm, treatment, [x for x in lv if x != treatment][0]
        self.outcome, self.time, self.covariates = outcome, time, covariates
        self.n_ = {treatment: int(trt.sum()), self.control: int((~trt).sum())}
        if min(self.n_.values()) < 1:
            raise NotEstimableError(f"{arm}: an arm has no participants")
        Z = None
        if covariates:
            Z = np.column_stack([_ranks(df[c].to_numpy(float)) if self.rank_covariates
                                 else df[c].to_numpy(float) for c in covariates])
        miss = np.isnan(y)
        self.n_missing_ = int(miss.sum())
        to_impute = miss & ((f == 0) | self.impute_fatal)
        if self.n_imputations == 0 or not to_impute.any():
            completed = [y]
        else:
            P = np.column_stack([np.ones(len(y)), trt.astype(float)] +
                                [df[c].to_numpy(float) for c in impute_covariates])
            completed = self._impute(y, P, to_impute)
        zs, ts, diffs, scores, nmiss = [], [], [], [], []
        for yy in completed:
            u, nm = fs_scores(t, f, yy)
            s = u if self.adjust is None else self._koch_residuals(u, Z)
            T, V, z = permutation_z(s, trt)
            zs.append(z)
            ts.append(T)
            diffs.append(u[trt].mean() - u[~trt].mean())
            scores.append(u)
            nmiss.append(nm)
        self.z_ = np.array(zs)
        self.T_ = np.array(ts)
        self.scores_ = pd.DataFrame({"arm": df[arm].to_numpy(), "score": np.mean(scores, axis=0)}, index=df.index)
        self.mean_score_difference_ = float(np.mean(diffs))
        self.n_missing_pairs_ = int(max(nmiss))
        self.warning_ = None
        if self.n_missing_pairs_:
            self.warning_ = (f"{self.n_missing_pairs_} pair(s) not decided by the fatal event had a missing "
                             f"{outcome!r} and were counted as ties")
            warnings.warn(self.warning_, StatisticalWarning, stacklevel=2)
        if len(completed) == 1:
            self.pooled_ = None
            self.statistic_ = float(self.z_[0])
            self.p_value_ = float(2 * sst.norm.sf(abs(self.statistic_)))
            self.df_ = None
        elif self.combine == "rubin":
            self.pooled_ = pool(self.z_, variances=np.ones(len(self.z_)), alpha=self.alpha)
            self.statistic_, self.p_value_, self.df_ = \
                self.pooled_.statistic, self.pooled_.p_value, self.pooled_.df
        else:
            self.pooled_ = pool_chisq(self.z_**2, 1)
            self.statistic_, self.p_value_, self.df_ = \
                self.pooled_.statistic, self.pooled_.p_value, self.pooled_.df2
        return self

    def _impute(self, y: np.ndarray, P: np.ndarray, target: np.ndarray) -> list[np.ndarray]:
        """Proper (Bayesian) normal linear regression imputation draws (mice.impute.norm)."""
        obs = ~np.isnan(y)
        Xo, yo = P[obs], y[obs]
        n, p = Xo.shape
        if n <= p:
            raise NotEstimableError(f"too few observed {self.outcome!r} values ({n}) for the imputation model")
        XtX_inv = np.linalg.inv(Xo.T @ Xo)
        bhat = XtX_inv @ Xo.T @ yo
        rss = float(np.sum((yo - Xo @ bhat) ** 2))
        L = np.linalg.cholesky(XtX_inv)
        rng = np.random.default_rng(self.seed)
        out = []
        for _ in range(self.n_imputations):
            sigma2 = rss / rng.chisquare(n - p)
            beta = bhat + np.sqrt(sigma2) * (L @ rng.standard_normal(p))
            yy = y.copy()
            yy[target] = P[target] @ beta + np.sqrt(sigma2) * rng.standard_normal(int(target.sum()))
            out.append(yy)
        return out

    @staticmethod
    def _koch_residuals(u: np.ndarray, Z: np.ndarray | None) -> np.ndarray:
        if Z is None:
            raise ValueError("adjust='koch' needs covariates")
        X = np.column_stack([np.ones(len(u)), Z])
        beta, *_ = np.linalg.lstsq(X, u, rcond=None)
        return u - X @ beta

    # --------------------------------------------------------------- output
    @property
    def method_(self) -> str:
        m = "Finkelstein-Schoenfeld joint rank test (permutation variance)"
        if self.adjust == "koch":
            cov = ", ".join(self.covariates)
            m += f"; Stokes-Koch rank ANCOVA on {'ranks of ' if self.rank_covariates else ''}{cov}"
        if self.pooled_ is not None:
            m += (f"; {self.n_imputations} imputations (Bayesian normal regression), "
                  + ("Z combined by Rubin's rules (within variance 1)" if self.combine == "rubin"
                     else "D2 pooling of Z^2 (Li, Raghunathan & Rubin 1991)"))
        return m

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"treatment": self.treatment, "control": self.control,
                              "n_treatment": self.n_[self.treatment], "n_control": self.n_[self.control],
                              "mean_score_difference": self.mean_score_difference_,
                              "statistic": self.statistic_, "df": self.df_, "p.value": self.p_value_,
                              "n_missing": self.n_missing_, "n_imputations": self.n_imputations}])

    def to_ard(self) -> pd.DataFrame:
        """ARD: per arm ``n`` and mean score (``mean``); test rows ``estimate`` (mean score
        difference treatment - control), ``statistic`` (Z, or D2 F), ``p.value`` (+ ``df`` with MI)."""
        code = code_ref(JointRankTest.fit)
        parts = []
        for a in (self.treatment, self.control):
            sc = self.scores_.loc[self.scores_["arm"] == a, "score"]
            parts.append(ard_rows({"n": self.n_[a], "mean": float(sc.mean())}, variable=self.outcome,
                                  group1=self.arm, group1_level=a, context="jointrank", method=self.method_,
                                  code=code, labels={"mean": "Mean joint rank score"}, warning=self.warning_))
        stats = {"estimate": self.mean_score_difference_, "statistic": self.statistic_}
        if self.df_ is not None:
            stats["df"] = self.df_
        stats["p.value"] = self.p_value_
        parts.append(ard_rows(stats, variable=self.outcome, group1=self.arm, group1_level=self.treatment,
                              group2=self.arm, group2_level=self.control, context="jointrank",
                              method=self.method_, code=code, warning=self.warning_,
                              labels={"estimate": "Mean score difference", "statistic": "Z"}))
        return bind_ard(*parts)
