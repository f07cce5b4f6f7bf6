"""MMRMFitter: mixed model for repeated measures by REML/ML (lifelines-style)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import linalg, optimize

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_frame, ard_records
from trialsupp.stats._result import FittedResult
from trialsupp.stats.exceptions import ConvergenceError, ConvergenceWarning, NotEstimableError

from . import likelihood as lik
from .covariance import get_structure
from .design import build_spec, design_matrix
from .kenwardroger import kr_f_test, kr_vcov
from .lsmeans import lsmeans_grid
from .satterthwaite import satterthwaite_df
from .testing import t_contrast

__all__ = ["MMRMFitter"]

DF_METHODS = {"kenward-roger": "Kenward-Roger", "kenward-roger-linear": "Kenward-Roger (linear)",
              "satterthwaite": "Satterthwaite", "residual": "residual", "wald": "normal (Wald)"}


class _StructureFailed(Exception):
    pass


class MMRMFitter(FittedResult):
    """Mixed model for repeated measures with a structured residual covariance.

    Parameters
    ----------
    covariance : {"us", "toep", "ar1", "cs"}
        First covariance structure to try (see ``covariance.py``).
    df_method : {"kenward-roger", "kenward-roger-linear", "satterthwaite", "residual", "wald"}
        Denominator df (and, for KR, adjusted covariance of beta).
    reml : bool
        REML (default) or ML estimation.
    alpha : float
        1 - confidence level.
    fallback : sequence of str
        Order of structures tried when a fit fails (no convergence or a Hessian
        that is not positive definite).  Structures before ``covariance`` are skipped.
    lsmeans_weights : {"equal", "proportional"}
        Weights over categorical covariates for LS means.
    information : {"observed", "expected"}
        Information matrix whose inverse ``W`` is the covariance of the covariance
        parameters in Satterthwaite/KR: observed (Hessian; SAS PROC MIXED and R mmrm)
        or expected (R pbkrtest).

    Attributes (after ``fit``)
    --------------------------
    beta_, vcov_beta_ (adjusted for KR), vcov_beta_model_ (unadjusted), covariance_matrix_,
    theta_, structure_used_, structures_tried_, converged_, loglik_, aic_, bic_, n_subjects_,
    n_obs_, fallback_reason_.
    """

    def __init__(self, covariance: str = "us", df_method: str = "kenward-roger", reml: bool = True,
                 alpha: float = 0.05, fallback=("us", "toep", "ar1", "cs"),
                 lsmeans_weights: str = "equal", information: str = "observed", maxiter: int = 2000):
        if df_method not in DF_METHODS:
            raise ValueError(f"df_method must be one of {list(DF_METHODS)}")
        if df_method.startswith("kenward") and not reml:
            raise ValueError("Kenward-Roger needs REML estimation (reml=True)")
        self.covariance = get_structure(covariance).name
        self.df_method, self.reml, self.alpha = df_method, reml, alpha
        self.fallback = tuple(get_structure(s).name for s in (fallback or ()))
        if information not in ("observed", "expected"):
            raise ValueError("information must be 'observed' or 'expected'")
        self.lsmeans_weights, self.information, self.maxiter = lsmeans_weights, information, maxiter

    # ------------------------------------------------------------------ fitting
    def fit(self, df: pd.DataFrame, outcome: str = "CHG", subject: str = "USUBJID",
            visit: str = "AVISIT", group: str = "TRT01P", covariates=(), interactions=(),
            visit_order=None, group_order=None, group_by_visit: bool = True) -> "MMRMFitter":
        """Fit the model; rows with a missing outcome are dropped (MAR likelihood).

        ``interactions`` is a list of tuples (``("BASE", "AVISIT")``) or strings
        (``"BASE:AVISIT"``).  Categorical variables use treatment coding with the
        first level (``visit_order``/``group_order`` or sorted) as reference.
        """
        spec, frame = build_spec(df, outcome=outcome, subject=subject, visit=visit, group=group,
                                 covariates=covariates, interactions=interactions,
                                 visit_order=visit_order, group_order=group_order,
                                 group_by_visit=group_by_visit)
        X = design_matrix(spec, frame)
        self._check_rank(X, spec.columns)
        y = frame[outcome].to_numpy(float)
        subj = pd.factorize(frame[subject])[0]
        vis = pd.Index(spec.levels[visit]).get_indexer(frame[visit])
        m = len(spec.levels[visit])
        data = lik.PatternData(X, y, subj, vis, m)
        self.spec_, self.frame_, self.data_ = spec, frame, data
        self._lsmeans_L = {}
        self.n_obs_, self.n_subjects_, self.n_visits_ = len(y), data.n_subjects, m
        S0 = self._start_cov(X, y, subj, vis, m)
        order = [self.covariance] + [s for s in self.fallback if s != self.covariance]
        if self.covariance in self.fallback:
            order = list(self.fallback[self.fallback.index(self.covariance):])
        reasons = []
        for name in order:
            try:
                self._fit_structure(get_structure(name), S0)
            except _StructureFailed as exc:
                reasons.append(f"{name}: {exc}")
                continue
            self.structures_tried_ = order[:order.index(name) + 1]
            self.fallback_reason_ = "; ".join(reasons) or None
            if reasons:
                warnings.warn(f"MMRM fell back to covariance {name!r} ({self.fallback_reason_})",
                              ConvergenceWarning, stacklevel=2)
            self._fitted = True
            return self
        raise ConvergenceError("MMRM did not converge with any covariance structure: " + "; ".join(reasons))

    @staticmethod
    def _check_rank(X, names):
        q, r, piv = linalg.qr(X, mode="economic", pivoting=True)
        d = np.abs(np.diag(r))
        tol = d.max() * max(X.shape) * np.finfo(float).eps * 10
        rank = int(np.sum(d > tol))
        if rank < X.shape[1]:
            bad = [names[i] for i in piv[rank:]]
            raise NotEstimableError(
                "singular design matrix (not estimable): column(s) " + ", ".join(bad)
                + " are linear combinations of the others (e.g. an arm with no observations at a visit, "
                  "or a covariate constant within the data)")

    @staticmethod
    def _start_cov(X, y, subj, vis, m):
        beta = np.linalg.lstsq(X, y, rcond=None)[0]
        R = np.full((subj.max() + 1, m), np.nan)
        R[subj, vis] = y - X @ beta
        S = pd.DataFrame(R).cov(min_periods=2).to_numpy()
        diag = np.nanmean(R ** 2, axis=0)
        S[np.isnan(S)] = 0.0
        np.fill_diagonal(S, np.where(np.isfinite(diag) & (diag > 0), diag, np.nanmean(diag)))
        w, V = np.linalg.eigh((S + S.T) / 2)
        w = np.maximum(w, 1e-2 * max(w.max(), 1e-8))
        return (V * w) @ V.T

    SEARCH_TOL = ({"ftol": 1e-8, "gtol": 1e-4}, {"ftol": 1e-13, "gtol": 1e-7})

    def _fit_structure(self, struct, S0):
        data, m, reml = self.data_, self.data_.m, self.reml

        def f_grad(phi):
            with np.errstate(over="ignore", invalid="ignore"):
                theta = struct.theta_from_phi(phi, m)
                st = lik.evaluate(data, struct.sigma(theta, m), reml)
            if st is None or not np.isfinite(st.f):
                return 1e300, np.zeros_like(phi)
            g_theta = np.einsum("kab,ab->k", struct.dsigma(theta, m), st.M)
            return st.f, struct.jacobian(phi, m).T @ g_theta

        phi = struct.start_phi(S0)
        # a loose quasi-Newton search, then Newton in theta (quadratic convergence) to the
        # optimum; if Newton fails from there, the search is tightened and Newton retried
        for tol in self.SEARCH_TOL:
            res = optimize.minimize(f_grad, phi, jac=True, method="L-BFGS-B",
                                    options={"maxiter": self.maxiter, **tol})
            if not np.isfinite(res.fun) or res.fun >= 1e299:
                raise _StructureFailed("likelihood could not be evaluated")
            phi = res.x
            theta, st, H, Pk, conv_msg = self._newton(struct, struct.theta_from_phi(phi, m))
            if not conv_msg:
                break
        if conv_msg:
            raise _StructureFailed(conv_msg)
        self.structure_used_ = struct.name
        self._struct = struct
        self.theta_ = pd.Series(theta, index=struct.theta_names(m))
        self.covariance_matrix_ = pd.DataFrame(struct.sigma(theta, m), index=self.spec_.levels[self.spec_.visit],
                                               columns=self.spec_.levels[self.spec_.visit])
        self.converged_ = True
        self._st, self._Pk = st, Pk
        # covariance of theta: inverse observed (default, as SAS/mmrm) or expected information
        self.W_ = np.linalg.inv(H / 2 if self.information == "observed" else self._Iexp)
        names = self.spec_.columns
        self.beta_ = pd.Series(st.beta, index=names)
        self.vcov_beta_model_ = pd.DataFrame(st.Phi, index=names, columns=names)
        V = st.Phi
        if self.df_method.startswith("kenward"):
            dS, d2S = struct.dsigma(theta, m), struct.d2sigma(theta, m)
            SQ, SR = lik.kr_pieces(data, st, dS, d2S, self.W_)
            V = kr_vcov(st.Phi, Pk, self.W_, SQ, SR, linear=self.df_method.endswith("linear"))
        self.vcov_beta_ = pd.DataFrame(V, index=names, columns=names)
        q, p = len(theta), data.p
        self.m2loglik_ = st.f
        self.loglik_ = -st.f / 2
        k = q + (0 if reml else p)
        self.aic_ = st.f + 2 * k
        self.bic_ = st.f + k * np.log(data.n_subjects)
        self.n_theta_ = q

    def _newton(self, struct, theta, max_iter=50):
        """Newton polish in theta with step halving; checks the Hessian is positive definite."""
        data, m, reml = self.data_, self.data_.m, self.reml
        st = lik.evaluate(data, struct.sigma(theta, m), reml)
        if st is None:
            return theta, None, None, None, "covariance not positive definite at the optimum"
        for _ in range(max_iter):
            dS, d2S = struct.dsigma(theta, m), struct.d2sigma(theta, m)
            g = np.einsum("kab,ab->k", dS, st.M)
            H, Pk, Iexp = lik.hessian(data, st, dS, d2S, reml)
            try:
                step = np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                return theta, st, H, Pk, "singular Hessian of the likelihood"
            dec = float(g @ step)
            if abs(dec) < 1e-12 * max(1.0, abs(st.f)):
                # one more full step: Newton converges quadratically, so the optimum no longer
                # depends (beyond rounding) on where the quasi-Newton search stopped
                st_new = lik.evaluate(data, struct.sigma(theta - step, m), reml)
                if st_new is not None and st_new.f <= st.f + 1e-10 * abs(st.f):
                    theta, st = theta - step, st_new
                break
            t = 1.0
            while t > 1e-8:
                new = theta - t * step
                st_new = lik.evaluate(data, struct.sigma(new, m), reml)
                if st_new is not None and st_new.f <= st.f + 1e-10 * abs(st.f):
                    theta, st = new, st_new
                    break
                t /= 2
            else:
                break
        dS, d2S = struct.dsigma(theta, m), struct.d2sigma(theta, m)
        g = np.einsum("kab,ab->k", dS, st.M)
        H, Pk, Iexp = lik.hessian(data, st, dS, d2S, reml)
        ev = np.linalg.eigvalsh(H)
        if not np.all(np.isfinite(ev)) or ev.min() <= 1e-10 * max(ev.max(), 1e-300):
            return theta, st, H, Pk, "Hessian of the likelihood is not positive definite"
        try:
            gnorm = float(g @ np.linalg.solve(H, g))
        except np.linalg.LinAlgError:
            return theta, st, H, Pk, "singular Hessian of the likelihood"
        if gnorm > 1e-6:
            return theta, st, H, Pk, f"gradient not zero at the optimum (Newton decrement {gnorm:.2g})"
        self._Iexp = Iexp
        return theta, st, H, Pk, None

    # ---------------------------------------------------------------- inference
    def _df(self, l) -> float:
        if self.df_method == "residual":
            return float(self.n_obs_ - self.data_.p)
        if self.df_method == "wald":
            return float("inf")
        return satterthwaite_df(l, self._st.Phi, self._Pk, self.W_)

    def contrast(self, L, label=None, null: float = 0.0) -> pd.DataFrame:
        """t test (one row per row of ``L``) of ``L beta``; ``L`` rows may be dicts by column name."""
        self._check_fitted()
        rows = self._as_matrix(L)
        out = [t_contrast(l, self.beta_.to_numpy(), self.vcov_beta_.to_numpy(), self._df(l),
                          self.alpha, null) for l in rows]
        res = pd.DataFrame(out)
        if label is not None:
            res.index = [label] if isinstance(label, str) else list(label)
        return res

    def f_test(self, L) -> dict:
        """Multi-df F test of ``L beta = 0`` (KR scaled F for KR methods, else Wald F with
        the residual/Satterthwaite-free denominator ``n_obs - p``)."""
        self._check_fitted()
        L = self._as_matrix(L)
        if self.df_method.startswith("kenward"):
            return kr_f_test(L, self.beta_.to_numpy(), self._st.Phi, self.vcov_beta_.to_numpy(),
                             self._Pk, self.W_)
        from scipy import stats
        b, V, c = self.beta_.to_numpy(), self.vcov_beta_.to_numpy(), L.shape[0]
        F = float((L @ b) @ np.linalg.solve(L @ V @ L.T, L @ b)) / c
        den = self.n_obs_ - self.data_.p
        return {"statistic": F, "df.num": c, "df.den": den, "p.value": float(stats.f.sf(F, c, den))}

    def _as_matrix(self, L) -> np.ndarray:
        if isinstance(L, pd.DataFrame):
            return L.reindex(columns=self.spec_.columns, fill_value=0.0).to_numpy(float)
        if isinstance(L, dict):
            L = [L]
        if isinstance(L, (list, tuple)) and L and isinstance(L[0], dict):
            return np.array([[d.get(c, 0.0) for c in self.spec_.columns] for d in L], float)
        return np.atleast_2d(np.asarray(L, float))

    def lsmeans_L(self, weights: str | None = None) -> pd.DataFrame:
        """Contrast vectors of the visit x arm LS means."""
        self._check_fitted()
        weights = weights or self.lsmeans_weights
        cache = self.__dict__.setdefault("_lsmeans_L", {})     # reset by fit; to_ard asks twice
        if (id(self.spec_), weights) not in cache:
            cache[(id(self.spec_), weights)] = lsmeans_grid(self.spec_, self.frame_, weights)
        return cache[(id(self.spec_), weights)].copy()

    def lsmeans(self, visit=None, weights: str | None = None) -> pd.DataFrame:
        """LS means by visit and arm (estimate, SE, df, CI, t test against 0, n)."""
        Lg = self.lsmeans_L(weights)
        if visit is not None:
            Lg = Lg.loc[[visit] if not isinstance(visit, (list, tuple)) else list(visit)]
        res = self.contrast(Lg.to_numpy())
        res.index = Lg.index
        n = self.frame_.groupby([self.spec_.visit, self.spec_.group], observed=True).size()
        res.insert(0, "n", [int(n.get(i, 0)) for i in Lg.index])
        return res

    def lsmeans_diff(self, reference=None, visit=None, weights: str | None = None) -> pd.DataFrame:
        """Differences of LS means (arm - reference) at each visit."""
        Lg = self.lsmeans_L(weights)
        ref = reference if reference is not None else self.spec_.levels[self.spec_.group][0]
        visits = self.spec_.levels[self.spec_.visit] if visit is None else \
            ([visit] if not isinstance(visit, (list, tuple)) else list(visit))
        rows, idx = [], []
        for v in visits:
            for arm in self.spec_.levels[self.spec_.group]:
                if arm == ref:
                    continue
                rows.append(Lg.loc[(v, arm)].to_numpy() - Lg.loc[(v, ref)].to_numpy())
                idx.append((v, arm, ref))
        res = self.contrast(np.array(rows))
        res.index = pd.MultiIndex.from_tuples(idx, names=[self.spec_.visit, self.spec_.group, "reference"])
        return res

    @property
    def summary(self) -> pd.DataFrame:
        """Coefficient table (estimate, SE, df, CI, t, p)."""
        self._check_fitted()
        return self.contrast(np.eye(len(self.beta_)), label=list(self.beta_.index))

    @property
    def method_(self) -> str:
        self._check_fitted()
        est = "REML" if self.reml else "ML"
        return f"MMRM, {est}, {self._struct.label} covariance, {DF_METHODS[self.df_method]} df"

    # ---------------------------------------------------------------------- ARD
    def to_ard(self, visit=None, reference=None) -> pd.DataFrame:
        """ARD rows: LS means per visit x arm, differences vs reference, method and structure."""
        self._check_fitted()
        code = code_ref(MMRMFitter.to_ard)
        sp = self.spec_
        warn = (f"covariance fell back to {self.structure_used_!r}: {self.fallback_reason_}"
                if self.fallback_reason_ else None)
        common = dict(variable=sp.outcome, method=self.method_, code=code, warning=warn)
        records = []
        keep = ["estimate", "std.error", "df", "conf.low", "conf.high"]
        for (v, arm), r in self.lsmeans(visit).iterrows():
            records += ard_records({"n": int(r["n"]), **{k: r[k] for k in keep}}, group1=sp.group,
                                   group1_level=arm, group2=sp.visit, group2_level=v,
                                   context="mmrm_lsmeans", **common)
        keep = keep + ["statistic", "p.value"]
        for (v, arm, ref), r in self.lsmeans_diff(reference, visit).iterrows():
            records += ard_records({k: r[k] for k in keep}, group1=sp.group, group1_level=arm,
                                   group2=sp.visit, group2_level=v, variable_level=f"{arm} - {ref}",
                                   context="mmrm_diff", **common)
        records += ard_records({"method": self.method_, "covariance": self.structure_used_,
                                "converged": bool(self.converged_), "N": int(self.n_subjects_),
                                "N_obs": int(self.n_obs_), "loglik": float(self.loglik_),
                                "aic": float(self.aic_)},
                               context="mmrm_model", labels={"covariance": "Covariance structure",
                                                             "loglik": "Log-likelihood", "aic": "AIC"},
                               **common)
        return ard_frame(records)   # one frame for all cells (a frame per cell cost more than the fit)
