"""Satterthwaite degrees of freedom for a single linear contrast of beta.

``df = 2 (l' Phi l)^2 / (g' W g)`` with ``g_k = d(l' Phi l)/d theta_k = -l' Phi P_k Phi l``,
``P_k = X' dV^-1/dtheta_k X`` and ``W`` the inverse observed information of the
covariance parameters (REML or ML Hessian), as in SAS ``DDFM=SATTERTHWAITE``.
The value does not depend on how theta is parameterised.
"""
from __future__ import annotations

import numpy as np

__all__ = ["satterthwaite_df", "variance_gradient"]


def variance_gradient(l: np.ndarray, Phi: np.ndarray, Pk: np.ndarray) -> np.ndarray:
    """Gradient of ``l' Phi(theta) l`` with respect to theta."""
    u = Phi @ l
    return -np.einsum("p,kpq,q->k", u, Pk, u)


def satterthwaite_df(l: np.ndarray, Phi: np.ndarray, Pk: np.ndarray, W: np.ndarray) -> float:
    """Satterthwaite df of the contrast ``l' beta``; ``inf`` when the variance is known exactly."""
    l = np.asarray(l, float).ravel()
    v = float(l @ Phi @ l)
    g = variance_gradient(l, Phi, Pk)
    den = float(g @ W @ g)
    return 2 * v * v / den if den > 0 else float("inf")
