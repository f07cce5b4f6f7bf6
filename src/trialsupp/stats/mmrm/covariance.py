"""Residual covariance structures for MMRM: a registry keyed by SAS-like names.

Each structure maps an unconstrained *optimisation* vector ``phi`` to the
*inference* parameters ``theta`` (SAS PROC MIXED's parameterisation), and gives
``Sigma(theta)`` with its first and second derivatives.  Fitting works on
``phi`` (any value gives a positive-definite matrix); Satterthwaite/Kenward-Roger
and the reported covariance parameters use ``theta``.

=======  ===========================================  =======================================
name     theta (SAS parameterisation)                 phi (optimisation)
=======  ===========================================  =======================================
``us``   lower triangle of Sigma, UN(i,j) row-wise     log-Cholesky (diag on log scale)
``toep`` homogeneous Toeplitz (SAS ``TYPE=TOEP``):      log variance, atanh of the partial
         variance then covariances at lags 1..m-1     autocorrelations (Durbin-Levinson)
``ar1``  variance, AR(1) correlation rho               log variance, atanh(rho)
``cs``   CS covariance, residual variance               log total variance, scaled logit of rho
         (Sigma = CS*J + Residual*I, SAS ``TYPE=CS``)  (rho in (-1/(m-1), 1))
=======  ===========================================  =======================================

``us``, ``toep`` and ``cs`` are linear in ``theta`` (second derivatives vanish),
as in SAS, so full Kenward-Roger equals its linear variant for them; ``ar1`` is not.
"""
from __future__ import annotations

import abc
from functools import lru_cache

import numpy as np

__all__ = ["CovStructure", "STRUCTURES", "get_structure"]


class CovStructure(abc.ABC):
    """Base class: subclasses define the maps for an ``m``-visit covariance."""

    name = ""
    label = ""
    linear = True

    @abc.abstractmethod
    def n_theta(self, m: int) -> int:
        ...

    @abc.abstractmethod
    def theta_names(self, m: int) -> list[str]:
        ...

    @abc.abstractmethod
    def theta_from_phi(self, phi: np.ndarray, m: int) -> np.ndarray:
        """Inference parameters from optimisation parameters (complex-step safe)."""

    @abc.abstractmethod
    def start_phi(self, S: np.ndarray) -> np.ndarray:
        """Starting ``phi`` from an empirical (positive-definite) covariance ``S``."""

    @abc.abstractmethod
    def sigma(self, theta: np.ndarray, m: int) -> np.ndarray:
        ...

    @abc.abstractmethod
    def dsigma(self, theta: np.ndarray, m: int) -> np.ndarray:
        """First derivatives, shape ``(q, m, m)``."""

    def d2sigma(self, theta: np.ndarray, m: int) -> np.ndarray | None:
        """Second derivatives ``(q, q, m, m)``; ``None`` for a linear structure."""
        return None

    def jacobian(self, phi: np.ndarray, m: int) -> np.ndarray:
        """d theta / d phi by complex-step differentiation (exact to rounding)."""
        h = 1e-30
        q = len(phi)
        J = np.empty((self.n_theta(m), q))
        for k in range(q):
            p = phi.astype(complex)
            p[k] += 1j * h
            J[:, k] = self.theta_from_phi(p, m).imag / h
        return J


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@lru_cache(maxsize=None)
def _tril_index(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each UN(i,j), row-wise (cached: the fit asks for it on every evaluation)."""
    i, j = np.tril_indices(m)
    return _frozen(i), _frozen(j)


@lru_cache(maxsize=None)
def _us_dsigma(m: int) -> np.ndarray:
    i, j = _tril_index(m)
    D = np.zeros((len(i), m, m))
    k = np.arange(len(i))
    D[k, i, j] = D[k, j, i] = 1.0
    return _frozen(D)


@lru_cache(maxsize=None)
def _lag_index(m: int) -> np.ndarray:
    return _frozen(np.abs(np.subtract.outer(np.arange(m), np.arange(m))))


@lru_cache(maxsize=None)
def _toep_dsigma(m: int) -> np.ndarray:
    idx = _lag_index(m)
    return _frozen(np.stack([(idx == k).astype(float) for k in range(m)]))


class Unstructured(CovStructure):
    name, label = "us", "unstructured"

    def n_theta(self, m):
        return m * (m + 1) // 2

    def theta_names(self, m):
        return [f"UN({i + 1},{j + 1})" for i, j in zip(*_tril_index(m))]

    def _chol(self, phi, m):
        i, j = _tril_index(m)
        L = np.zeros((m, m), dtype=phi.dtype)
        L[i, j] = np.where(i == j, np.exp(phi), phi)
        return L

    def theta_from_phi(self, phi, m):
        i, j = _tril_index(m)
        L = self._chol(phi, m)
        return (L @ L.T)[i, j]

    def jacobian(self, phi, m):
        # analytic (the complex-step default costs q evaluations of theta_from_phi per gradient):
        # theta_ij = sum_b L_ib L_jb, so d theta_ij / d L_ab = [i=a] L_jb + [j=a] L_ib,
        # times d L_aa / d phi = L_aa on the log-scale diagonal
        i, j = _tril_index(m)
        L = self._chol(np.asarray(phi, float), m)
        a, b = i[None, :], j[None, :]
        J = (i[:, None] == a) * L[j[:, None], b] + (j[:, None] == a) * L[i[:, None], b]
        return J * np.where(i == j, L[i, j], 1.0)[None, :]

    def start_phi(self, S):
        i, j = _tril_index(S.shape[0])
        phi = np.linalg.cholesky(S)[i, j]
        phi[i == j] = np.log(phi[i == j])
        return phi

    def sigma(self, theta, m):
        i, j = _tril_index(m)
        S = np.zeros((m, m))
        S[i, j] = S[j, i] = theta
        return S

    def dsigma(self, theta, m):
        return _us_dsigma(m)


def _pacf_to_acf(kappa):
    """Autocorrelations r_1..r_n from partial autocorrelations (Durbin-Levinson)."""
    n = len(kappa)
    r = []
    a = []  # AR coefficients phi_{k,1..k}
    for k in range(n):
        kk = kappa[k]
        if k == 0:
            rk = kk
            a = [kk]
        else:
            s1 = sum(a[j] * r[k - 1 - j] for j in range(k))
            s2 = sum(a[j] * r[j] for j in range(k))
            rk = s1 + kk * (1 - s2)
            a = [a[j] - kk * a[k - 1 - j] for j in range(k)] + [kk]
        r.append(rk)
    return r


def _acf_to_pacf(r):
    """Inverse of :func:`_pacf_to_acf` (Durbin-Levinson forward recursion)."""
    kappa, a = [], []
    for k in range(len(r)):
        num = r[k] - sum(a[j] * r[k - 1 - j] for j in range(k))
        den = 1 - sum(a[j] * r[j] for j in range(k))
        kk = num / den
        a = [a[j] - kk * a[k - 1 - j] for j in range(k)] + [kk]
        kappa.append(kk)
    return np.array(kappa)


class Toeplitz(CovStructure):
    """Homogeneous Toeplitz (SAS ``TYPE=TOEP``): one variance, one covariance per lag."""

    name, label = "toep", "Toeplitz"

    def n_theta(self, m):
        return m

    def theta_names(self, m):
        return ["Variance"] + [f"TOEP({k + 1})" for k in range(1, m)]

    def theta_from_phi(self, phi, m):
        s2 = np.exp(phi[0])
        r = _pacf_to_acf([np.tanh(x) for x in phi[1:]])
        return np.array([s2] + [s2 * rk for rk in r])

    def start_phi(self, S):
        m = S.shape[0]
        s2 = float(np.mean(np.diag(S)))
        C = S / np.sqrt(np.outer(np.diag(S), np.diag(S)))
        r = [float(np.mean(np.diag(C, k))) for k in range(1, m)]
        kappa = np.clip(_acf_to_pacf(r), -0.9, 0.9) if m > 1 else np.array([])
        if not np.all(np.isfinite(kappa)):
            kappa = np.zeros(m - 1)
        return np.concatenate([[np.log(s2)], np.arctanh(kappa)])

    def sigma(self, theta, m):
        return np.asarray(theta)[_lag_index(m)]

    def dsigma(self, theta, m):
        return _toep_dsigma(m)


class AR1(CovStructure):
    """Homogeneous first-order autoregressive: Sigma_ij = s2 * rho^|i-j| (SAS ``TYPE=AR(1)``)."""

    name, label, linear = "ar1", "AR(1)", False

    def n_theta(self, m):
        return 2

    def theta_names(self, m):
        return ["Variance", "AR(1)"]

    def theta_from_phi(self, phi, m):
        return np.array([np.exp(phi[0]), np.tanh(phi[1])])

    def start_phi(self, S):
        m = S.shape[0]
        s2 = float(np.mean(np.diag(S)))
        C = S / np.sqrt(np.outer(np.diag(S), np.diag(S)))
        rho = float(np.mean(np.diag(C, 1))) if m > 1 else 0.0
        return np.array([np.log(s2), np.arctanh(np.clip(rho, -0.9, 0.9))])

    def _lag(self, m):
        return np.abs(np.subtract.outer(np.arange(m), np.arange(m))).astype(float)

    def sigma(self, theta, m):
        s2, rho = theta
        return s2 * rho ** self._lag(m)

    def dsigma(self, theta, m):
        s2, rho = theta
        d = self._lag(m)
        drho = np.where(d > 0, d * rho ** np.maximum(d - 1, 0), 0.0)
        return np.stack([rho ** d, s2 * drho])

    def d2sigma(self, theta, m):
        s2, rho = theta
        d = self._lag(m)
        drho = np.where(d > 0, d * rho ** np.maximum(d - 1, 0), 0.0)
        d2rho = np.where(d > 1, d * (d - 1) * rho ** np.maximum(d - 2, 0), 0.0)
        out = np.zeros((2, 2, m, m))
        out[0, 1] = out[1, 0] = drho
        out[1, 1] = s2 * d2rho
        return out


class CompoundSymmetry(CovStructure):
    """Compound symmetry, SAS ``TYPE=CS``: Sigma = CS * J + Residual * I."""

    name, label = "cs", "compound symmetry"

    def n_theta(self, m):
        return 2

    def theta_names(self, m):
        return ["CS", "Residual"]

    def _bounds(self, m):
        return (-1.0 / (m - 1) if m > 1 else -1.0), 1.0

    def theta_from_phi(self, phi, m):
        lo, hi = self._bounds(m)
        s2 = np.exp(phi[0])
        rho = lo + (hi - lo) / (1 + np.exp(-phi[1]))
        return np.array([s2 * rho, s2 * (1 - rho)])

    def start_phi(self, S):
        m = S.shape[0]
        lo, hi = self._bounds(m)
        s2 = float(np.mean(np.diag(S)))
        off = S[~np.eye(m, dtype=bool)]
        rho = float(np.mean(off)) / s2 if m > 1 else 0.0
        u = np.clip((rho - lo) / (hi - lo), 0.05, 0.95)
        return np.array([np.log(s2), np.log(u / (1 - u))])

    def sigma(self, theta, m):
        return theta[0] * np.ones((m, m)) + theta[1] * np.eye(m)

    def dsigma(self, theta, m):
        return np.stack([np.ones((m, m)), np.eye(m)])


STRUCTURES: dict[str, CovStructure] = {s.name: s for s in
                                       (Unstructured(), Toeplitz(), AR1(), CompoundSymmetry())}
_ALIASES = {"un": "us", "unstructured": "us", "toeplitz": "toep", "ar(1)": "ar1",
            "compound symmetry": "cs"}


def get_structure(name: str) -> CovStructure:
    """Look up a structure by name (``us``/``un``, ``toep``, ``ar1``, ``cs``)."""
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key not in STRUCTURES:
        raise ValueError(f"unknown covariance structure {name!r}; choose from {sorted(STRUCTURES)}")
    return STRUCTURES[key]
