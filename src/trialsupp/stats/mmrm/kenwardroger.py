"""Kenward-Roger (1997) adjusted covariance of beta and degrees of freedom.

``Phi_A = Phi + 2 Phi {sum_kl W_kl (Q_kl - P_k Phi P_l - R_kl / 4)} Phi`` with
``P_k = X' dV^-1/dtheta_k X``, ``Q_kl = X' dV^-1/dtheta_k V dV^-1/dtheta_l X``,
``R_kl = X' V^-1 d2V/dtheta_k dtheta_l V^-1 X`` and ``W`` the inverse observed REML
information of theta.

Which variant
-------------
* ``"kenward-roger"`` keeps the ``R`` term with theta in SAS PROC MIXED's own
  parameterisation (see ``covariance.py``).  For ``us``, ``toep`` and ``cs`` that
  parameterisation is linear, ``R = 0``, and the result is SAS ``DDFM=KR`` (which
  for these types is the same as ``DDFM=KR(LINEAR)``); for ``ar1`` it is SAS
  ``DDFM=KR`` with the second-derivative term of (variance, rho).
* ``"kenward-roger-linear"`` drops ``R`` (SAS ``DDFM=KR(LINEAR)``; R ``mmrm``'s
  "Kenward-Roger-Linear").  Note that R ``mmrm``'s plain "Kenward-Roger" keeps
  ``R`` in its *Cholesky* parameterisation for ``us`` and so differs slightly
  from SAS; the two variants here are parameterisation-free except for ``R``.

For one contrast the KR df equals the Satterthwaite df computed from the
unadjusted ``Phi`` (lambda = 1); the standard error uses ``Phi_A``.
Multi-row contrasts use the KR scaled F test.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["kr_vcov", "kr_f_test"]


def kr_vcov(Phi: np.ndarray, Pk: np.ndarray, W: np.ndarray, SQ: np.ndarray,
            SR: np.ndarray | None, linear: bool = False) -> np.ndarray:
    """KR-adjusted covariance of beta from the pieces of ``likelihood.kr_pieces``."""
    PPP = np.einsum("kl,kpq,qr,lrs->ps", W, Pk, Phi, Pk, optimize=True)
    inner = SQ - PPP
    if SR is not None and not linear:
        inner = inner - 0.25 * SR
    out = Phi + 2 * Phi @ inner @ Phi
    return (out + out.T) / 2


def kr_f_test(L: np.ndarray, beta: np.ndarray, Phi: np.ndarray, PhiA: np.ndarray,
              Pk: np.ndarray, W: np.ndarray) -> dict:
    """KR F test of ``L beta = 0`` (``L`` full row rank, c rows)."""
    L = np.atleast_2d(np.asarray(L, float))
    c = L.shape[0]
    Lb = L @ beta
    F = float(Lb @ np.linalg.solve(L @ PhiA @ L.T, Lb)) / c
    Theta = L.T @ np.linalg.solve(L @ Phi @ L.T, L)
    Fk = np.einsum("pq,qr,krs,st->kpt", Theta, Phi, Pk, Phi, optimize=True)  # Theta Phi P_k Phi
    tr = np.einsum("kpp->k", Fk)
    A1 = float(tr @ W @ tr)
    A2 = float(np.einsum("kl,kpq,lqp->", W, Fk, Fk))
    B = (A1 + 6 * A2) / (2 * c)
    g = ((c + 1) * A1 - (c + 4) * A2) / ((c + 2) * A2)
    den = 3 * c + 2 * (1 - g)
    c1, c2, c3 = g / den, (c - g) / den, (c + 2 - g) / den
    Estar = 1 / (1 - A2 / c)
    Vstar = (2 / c) * (1 + c1 * B) / ((1 - c2 * B) ** 2 * (1 - c3 * B))
    rho = Vstar / (2 * Estar ** 2)
    m = 4 + (c + 2) / (c * rho - 1)
    lam = m / (Estar * (m - 2))
    Fs = lam * F
    return {"statistic": Fs, "df.num": c, "df.den": m, "scale": lam,
            "p.value": float(stats.f.sf(Fs, c, m))}
