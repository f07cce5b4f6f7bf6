"""Cox proportional hazards model with Efron or Breslow ties and strata (as R ``coxph``).

lifelines' ``CoxPHFitter`` handles ties by Efron only, so the partial likelihood
is maximised here by Newton-Raphson with step halving (vectorised numpy: risk-set
sums by reverse cumulative sums within strata; Efron's correction by expanding each
tied event time into its d deaths). Reported: HR with Wald CI and p, and the global
Wald, score (log-rank for one binary covariate) and likelihood-ratio tests.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sst

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows
from trialsupp.stats.exceptions import ConvergenceError, ConvergenceWarning, NotEstimableError
from trialsupp.ard.schema import bind_ard
from trialsupp.stats.survival import check_tte

__all__ = ["CoxPH"]


class _RiskSets:
    """Precomputed ordering and event-time groups for the partial likelihood."""

    def __init__(self, t: np.ndarray, e: np.ndarray, s: np.ndarray, X: np.ndarray, ties: str):
        order = np.lexsort((-e, -t, s))  # by stratum, time descending (events first at ties)
        self.X = X[order]
        t, e, s = t[order], e[order], s[order]
        n = len(t)
        self.start = np.r_[0, np.flatnonzero(np.diff(s)) + 1]  # first row of each stratum
        self.strat_of_row = np.repeat(np.arange(len(self.start)), np.diff(np.r_[self.start, n]))
        # groups of equal (stratum, time); the risk set of a group = rows up to its last row
        new = np.r_[True, (np.diff(t) != 0) | (np.diff(s) != 0)]
        gid = np.cumsum(new) - 1
        last = np.r_[np.flatnonzero(new)[1:] - 1, n - 1]
        d = np.bincount(gid, weights=e)
        ev = d > 0
        self.gid, self.e = gid, e
        self.g_last = last[ev]
        self.g_index = np.flatnonzero(ev)
        dd = d[ev].astype(int)
        # Efron: the k-th of d tied deaths removes k/d of the deaths' risk (Breslow: 0)
        self.rep = np.repeat(np.arange(len(dd)), dd)
        self.frac = (np.concatenate([np.arange(k) / k for k in dd]) if ties == "efron"
                     else np.zeros(dd.sum()))
        self.ngroups = len(d)

    def _cum(self, a: np.ndarray) -> np.ndarray:
        """Cumulative sums restarted at each stratum, evaluated at the event groups' last rows."""
        c = np.cumsum(a, axis=0)
        base = np.concatenate([np.zeros((1,) + a.shape[1:]), c[self.start[1:] - 1]]) if len(self.start) > 1 \
            else np.zeros((1,) + a.shape[1:])
        c = c - base[self.strat_of_row]
        return c[self.g_last]

    def evaluate(self, beta: np.ndarray, need_hess: bool = True):
        X, e = self.X, self.e
        eta = X @ beta
        eta_max = eta.max()
        r = np.exp(eta - eta_max)  # scaled for stability; cancels in ratios
        rX = r[:, None] * X
        S0, S1 = self._cum(r), self._cum(rX)
        # sums over the deaths of each event group
        de = e * r
        D0 = np.bincount(self.gid, weights=de, minlength=self.ngroups)[self.g_index]
        D1 = np.stack([np.bincount(self.gid, weights=de * X[:, j], minlength=self.ngroups)[self.g_index]
                       for j in range(X.shape[1])], axis=1)
        f = self.frac
        s0 = S0[self.rep] - f * D0[self.rep]
        s1 = S1[self.rep] - f[:, None] * D1[self.rep]
        loglik = float(e @ eta - np.sum(np.log(s0) + eta_max))
        xbar = s1 / s0[:, None]
        grad = e @ X - xbar.sum(0)
        if not need_hess:
            return loglik, grad, None
        rXX = rX[:, :, None] * X[:, None, :]
        S2 = self._cum(rXX)
        D2 = np.einsum("n,nj,nk->njk", de, X, X)
        D2g = np.zeros((self.ngroups,) + D2.shape[1:])
        np.add.at(D2g, self.gid, D2)
        D2g = D2g[self.g_index]
        s2 = S2[self.rep] - f[:, None, None] * D2g[self.rep]
        info = (s2 / s0[:, None, None]).sum(0) - np.einsum("nj,nk->jk", xbar, xbar)
        return loglik, grad, info


class CoxPH:
    """Cox proportional hazards regression (R ``coxph`` compatible).

    Parameters
    ----------
    ties : {"efron", "breslow"}
    alpha : float
        1 - confidence level of the Wald CIs.
    max_iter, tol : int, float
        Newton-Raphson limits; convergence when the relative change of the
        log partial likelihood is below ``tol`` (R ``coxph.control(eps=1e-9)``).

    Attributes (after ``fit``)
    --------------------------
    params_ : Series of log hazard ratios; ``variance_matrix_``; ``standard_errors_``.
    loglik_, loglik_null_ : log partial likelihood at the estimate and at beta = 0.
    wald_test_, score_test_, lr_test_ : dicts with ``statistic``, ``df``, ``p.value``.
    n_, n_event_, n_iter_ : int.
    """

    def __init__(self, ties: str = "efron", alpha: float = 0.05, max_iter: int = 50, tol: float = 1e-10):
        if ties not in ("efron", "breslow"):
            raise ValueError("ties must be 'efron' or 'breslow'")
        self.ties, self.alpha, self.max_iter, self.tol = ties, alpha, max_iter, tol

    # ------------------------------------------------------------------ design
    def _design(self, d: pd.DataFrame, treatment: str | None, reference: Any, covariates: list[str]):
        cols, names = [], []
        if treatment is not None:
            lv = sorted(d[treatment].unique())
            ref = reference if reference is not None else lv[0]
            if ref not in lv:
                raise NotEstimableError(f"{treatment}: reference level {ref!r} has no rows (levels {lv})")
            lv = [ref] + [x for x in lv if x != ref]
            if len(lv) < 2:
                raise NotEstimableError(f"{treatment}: only one level ({ref!r}); no treatment effect to estimate")
            for x in lv[1:]:
                cols.append((d[treatment] == x).to_numpy(float))
                names.append(f"{treatment}[{x}]")
            self.treatment_levels_ = lv
        for c in covariates:
            v = d[c]
            if v.dtype.kind in "biuf":
                cols.append(v.to_numpy(float))
                names.append(c)
            else:  # categorical covariate: treatment contrasts vs the first sorted level
                lv = sorted(v.unique())
                for x in lv[1:]:
                    cols.append((v == x).to_numpy(float))
                    names.append(f"{c}[{x}]")
        if not cols:
            raise ValueError("give a treatment and/or covariates")
        X = np.column_stack(cols)
        const = [n for n, j in zip(names, range(X.shape[1])) if np.ptp(X[:, j]) == 0]
        if const:
            raise NotEstimableError(f"covariate(s) {const} are constant; their effect is not estimable")
        if np.linalg.matrix_rank(X - X.mean(0)) < X.shape[1]:
            raise NotEstimableError(f"design columns {names} are collinear")
        return X, names

    def fit(self, df: pd.DataFrame, time: str, event: str, treatment: str | None = None,
            covariates: Sequence[str] | str = (), strata: str | Sequence[str] | None = None,
            reference: Any = None) -> "CoxPH":
        """Fit the model.

        Parameters
        ----------
        df : DataFrame
        time, event : str
            ``event`` 1 = event, 0 = censored.
        treatment : str, optional
            Categorical column; one HR per non-reference level.
        covariates : str or list of str
            Numeric columns (linear) or categorical (dummy coded).
        strata : str or list of str, optional
            Separate baseline hazards (R ``strata()``).
        reference : optional
            Reference level of ``treatment`` (default: first sorted level).
        """
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
        d = check_tte(df, time, event, [treatment, *covariates, *strata_cols])
        self.time, self.event, self.treatment, self.covariates, self.strata = \
            time, event, treatment, covariates, strata_cols
        e = d[event].to_numpy(float)
        if e.sum() == 0:
            raise NotEstimableError(f"{event}: no events (all censored); hazard ratios are not estimable")
        X, names = self._design(d, treatment, reference, covariates)
        t = d[time].to_numpy(float)
        s = (pd.factorize(d[strata_cols].astype(str).agg("|".join, axis=1))[0] if strata_cols
             else np.zeros(len(d), dtype=int))
        rs = _RiskSets(t, e, s, X, self.ties)
        beta, ll, grad, info, it = self._newton(rs, np.zeros(X.shape[1]))
        ll0, g0, i0 = rs.evaluate(np.zeros(X.shape[1]))
        sd = X.std(0)
        diverged = np.abs(beta) * sd > 5       # monotone likelihood: Newton walks off to infinity
        try:
            vcov = np.linalg.inv(info)
            if not np.all(np.isfinite(vcov)):
                raise np.linalg.LinAlgError("non-finite inverse")
        except np.linalg.LinAlgError as exc:
            if not diverged.any():
                raise NotEstimableError("information matrix is singular") from exc
            vcov = np.linalg.pinv(info)        # the finite part; diverged terms are reported as NE
            vcov[diverged, :] = np.nan
            vcov[:, diverged] = np.nan
        self.n_iter_ = it
        self.n_, self.n_event_ = len(d), int(e.sum())
        self.params_ = pd.Series(beta, index=names)
        self.variance_matrix_ = pd.DataFrame(vcov, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(vcov)), index=names)
        self.loglik_, self.loglik_null_ = ll, ll0
        k = len(beta)
        sc = float(g0 @ np.linalg.solve(i0, g0))
        wd = float("nan") if diverged.any() else float(beta @ info @ beta)
        lr = 2 * (ll - ll0)
        self.score_test_ = {"statistic": sc, "df": k, "p.value": float(sst.chi2.sf(sc, k))}
        self.wald_test_ = {"statistic": wd, "df": k, "p.value": float(sst.chi2.sf(wd, k))}
        self.lr_test_ = {"statistic": lr, "df": k, "p.value": float(sst.chi2.sf(lr, k))}
        # monotone likelihood: a coefficient running off to infinity (e.g. no events in one arm)
        self.infinite_ = pd.Series((np.abs(beta) * sd > 10) | diverged, index=names)
        if self.infinite_.any():
            warnings.warn(f"coefficient(s) {list(self.infinite_[self.infinite_].index)} may be infinite "
                          "(monotone likelihood, e.g. no events in a group)", ConvergenceWarning, stacklevel=2)
        return self

    def _newton(self, rs: _RiskSets, beta: np.ndarray):
        ll, grad, info = rs.evaluate(beta)
        for it in range(1, self.max_iter + 1):
            try:
                step = np.linalg.solve(info, grad)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(info, grad, rcond=None)[0]
            new = beta + step
            ll_new, g_new, i_new = rs.evaluate(new)
            halvings = 0
            while (not np.isfinite(ll_new) or ll_new < ll - 1e-12) and halvings < 30:  # step halving
                step /= 2
                new = beta + step
                ll_new, g_new, i_new = rs.evaluate(new)
                halvings += 1
            done = abs(ll_new - ll) <= self.tol * max(abs(ll_new), 1.0) and np.max(np.abs(step)) < 1e-6
            beta, ll, grad, info = new, ll_new, g_new, i_new
            if done:
                return beta, ll, grad, info, it
        if np.all(np.isfinite(beta)) and np.max(np.abs(grad)) < 1e-6:
            return beta, ll, grad, info, self.max_iter  # flat likelihood (infinite coefficient)
        raise ConvergenceError(f"Cox partial likelihood did not converge in {self.max_iter} iterations")

    # ------------------------------------------------------------------ output
    @property
    def method_(self) -> str:
        s = f"; stratified by {', '.join(self.strata)}" if self.strata else ""
        return f"Cox proportional hazards model ({self.ties.capitalize()} ties){s}; Wald CI"

    @property
    def summary(self) -> pd.DataFrame:
        z = float(sst.norm.ppf(1 - self.alpha / 2))
        b, se = self.params_, self.standard_errors_
        with np.errstate(over="ignore"):  # exp of an infinite (monotone) coefficient
            return self._summary(b, se, z)

    def _summary(self, b: pd.Series, se: pd.Series, z: float) -> pd.DataFrame:
        return pd.DataFrame({"term": b.index, "coef": b.to_numpy(), "std.error": se.to_numpy(),
                             "statistic": (b / se).to_numpy(),
                             "p.value": 2 * sst.norm.sf(np.abs((b / se).to_numpy())),
                             "estimate": np.exp(b).to_numpy(), "conf.low": np.exp(b - z * se).to_numpy(),
                             "conf.high": np.exp(b + z * se).to_numpy()})

    def to_ard(self) -> pd.DataFrame:
        """ARD: per term ``estimate`` (HR), ``std.error`` (of log HR), ``statistic`` (Wald z),
        ``p.value``, ``conf.low``/``conf.high`` (HR); model rows ``n``, ``n_event`` and,
        with ``variable_level`` wald/score/lr, the global tests (``statistic``, ``df``, ``p.value``)."""
        code = code_ref(CoxPH.fit)
        parts = [ard_rows({"n": self.n_, "n_event": self.n_event_}, variable=self.time, context="cox",
                          method=self.method_, code=code)]
        for _, r in self.summary.iterrows():
            term = r["term"]
            grp = {}
            if self.treatment and term.startswith(f"{self.treatment}["):
                grp = dict(group1=self.treatment, group1_level=term[len(self.treatment) + 1:-1],
                           group2=self.treatment, group2_level=self.treatment_levels_[0])
            err = "not estimable (monotone likelihood: coefficient infinite)" if self.infinite_[term] else None
            parts.append(ard_rows({k: r[k] for k in ("estimate", "std.error", "statistic", "p.value",
                                                     "conf.low", "conf.high")},
                                  variable=term, context="cox", method=self.method_ + "; HR = exp(coef)",
                                  code=code, labels={"estimate": "Hazard ratio"},
                                  error=err, **grp))
            if err:
                parts[-1]["stat"] = None
        for name, test in (("wald", self.wald_test_), ("score", self.score_test_), ("lr", self.lr_test_)):
            parts.append(ard_rows(test, variable=self.time, variable_level=name, context="cox",
                                  method=f"{self.method_}; {name} test", code=code))
        return bind_ard(*parts)
