"""(Restricted) log-likelihood of the MMRM with analytic gradient and Hessian.

Subjects with the same set of observed visits share ``Sigma_i``, so all
per-subject work is vectorised over *missingness-pattern groups*.  ``f`` below is
``-2 log L`` (REML: ``log|V| + log|X'V^-1X| + r'V^-1 r + (N-p) log 2 pi``; ML:
``log|V| + r'V^-1 r + N log 2 pi``), with ``beta`` profiled out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

_potrf, _potri = lapack.dpotrf, lapack.dpotri

__all__ = ["PatternData", "LikState", "evaluate", "hessian", "kr_pieces"]

LOG2PI = np.log(2 * np.pi)


@dataclass
class Pattern:
    idx: np.ndarray   # observed visit indices (sorted)
    X: np.ndarray     # (n_g, m_g, p)
    y: np.ndarray     # (n_g, m_g)
    X2: np.ndarray    # X as (n_g * m_g, p): the same rows, for sums over subjects and visits

    def __post_init__(self):
        self.ix = np.ix_(self.idx, self.idx)      # the pattern's block of Sigma


class PatternData:
    """Data grouped by missingness pattern.

    Parameters
    ----------
    X, y : design matrix and outcome of the observed rows.
    subj, visit : integer subject codes and visit indices (0..m-1) per row.
    m : number of visits.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, subj: np.ndarray, visit: np.ndarray, m: int):
        self.m, self.p, self.N = m, X.shape[1], X.shape[0]
        order = np.lexsort((visit, subj))
        X, y, subj, visit = X[order], y[order], subj[order], visit[order]
        starts = np.flatnonzero(np.r_[True, subj[1:] != subj[:-1]])
        bounds = np.r_[starts, len(subj)]
        groups: dict[tuple, list[int]] = {}
        for s in range(len(starts)):
            key = tuple(visit[bounds[s]:bounds[s + 1]])
            groups.setdefault(key, []).append(s)
        self.patterns = []
        for key, members in groups.items():
            rows = np.concatenate([np.arange(bounds[s], bounds[s + 1]) for s in members])
            mg = len(key)
            self.patterns.append(Pattern(np.array(key), X[rows].reshape(len(members), mg, -1),
                                         y[rows].reshape(len(members), mg), X[rows]))
        self.n_subjects = len(starts)


@dataclass
class LikState:
    f: float
    beta: np.ndarray
    Phi: np.ndarray           # (X'V^-1X)^-1
    M: np.ndarray             # d f / d Sigma (m x m)
    cache: list               # per pattern: (K, KX, E, H)


def evaluate(data: PatternData, Sigma: np.ndarray, reml: bool = True, need_grad: bool = True):
    """``-2 log L`` at ``Sigma`` (``None`` if ``Sigma`` is not positive definite)."""
    if not np.all(np.isfinite(Sigma)):
        return None
    p = data.p
    XtKX = np.zeros((p, p))
    XtKy = np.zeros(p)
    logdet = 0.0
    cache = []
    for g in data.patterns:
        # LAPACK potrf/potri directly: the scipy wrappers' checks cost more than these tiny
        # factorisations, which run for every pattern at every likelihood evaluation
        c, info = _potrf(Sigma[g.ix], lower=1, clean=1)
        if info != 0 or not np.all(np.diag(c) > 0):
            return None
        K, info = _potri(c, lower=1)
        if info != 0:
            return None
        K = np.tril(K) + np.tril(K, -1).T
        logdet += g.X.shape[0] * 2 * np.sum(np.log(np.diag(c)))
        # plain matmuls, not einsum: this runs hundreds of times per fit (see _bilinear)
        KX = np.matmul(K, g.X)
        KX2 = KX.reshape(g.X2.shape)
        XtKX += g.X2.T @ KX2
        XtKy += KX2.T @ g.y.ravel()
        cache.append([K, KX])
    try:
        cX = linalg.cho_factor(XtKX, lower=True)
    except (linalg.LinAlgError, ValueError):
        return None
    beta = linalg.cho_solve(cX, XtKy)
    Phi = linalg.cho_solve(cX, np.eye(p))
    Phi = (Phi + Phi.T) / 2
    rKr = 0.0
    M = np.zeros((data.m, data.m))
    for g, cc in zip(data.patterns, cache):
        K, KX = cc
        r = g.y - g.X @ beta
        E = r @ K  # rows e_s = K r_s
        rKr += float(np.sum(E * r))
        H = _bilinear(KX, Phi, KX) if reml else None
        cc.extend([E, H])
        if need_grad:
            Mg = g.X.shape[0] * K - E.T @ E
            if reml:
                Mg = Mg - H
            M[g.ix] += Mg
    n_eff = data.N - (p if reml else 0)
    f = logdet + rKr + n_eff * LOG2PI
    if reml:
        f += 2 * np.sum(np.log(np.diag(cX[0])))
    return LikState(f=float(f), beta=beta, Phi=Phi, M=M, cache=cache)


def _bilinear(A: np.ndarray, B: np.ndarray, C: np.ndarray) -> np.ndarray:
    """``sum_s A_s B C_s'`` (``A``, ``C``: (n, m, p); ``B``: (p, p)) as one matmul; the same as
    ``einsum("sap,pq,sbq->ab", ...)`` without its per-call contraction-path search."""
    n, m, p = A.shape
    AB = np.matmul(A, B)
    return AB.transpose(1, 0, 2).reshape(m, n * p) @ C.transpose(1, 0, 2).reshape(m, n * p).T


def _trace_pairs(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``tr(A_k B_l)`` for all k, l (``einsum("kab,lba->kl")`` as one matmul)."""
    q = A.shape[0]
    return A.reshape(q, -1) @ B.transpose(0, 2, 1).reshape(B.shape[0], -1).T


def _sub(D: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return D[..., idx[:, None], idx[None, :]]


def hessian(data: PatternData, st: LikState, dS: np.ndarray, d2S: np.ndarray | None,
            reml: bool = True):
    """Hessian of ``f`` w.r.t. theta, ``P_k = X' dV^-1/dtheta_k X`` (q, p, p) and the expected
    information of theta, ``tr(P V_k P V_l) / 2`` (REML; ``K`` in place of ``P`` for ML)."""
    q, p = dS.shape[0], data.p
    Phi = st.Phi
    T1 = np.zeros((q, q))
    TQ = np.zeros((q, q))   # tr(Phi Q_kl)
    Y1 = np.zeros((q, q))   # sum_s e' V_k K V_l e
    Pk = np.zeros((q, p, p))
    a = np.zeros((q, p))
    for g, (K, KX, E, H) in zip(data.patterns, st.cache):
        V = _sub(dS, g.idx)
        n, mg = g.y.shape
        KX2 = KX.reshape(g.X2.shape)
        KV = np.matmul(K, V)
        T1 += n * _trace_pairs(KV, KV)
        VK = np.matmul(V, K)
        Y1 += _trace_pairs(VK, np.matmul(V, E.T @ E))
        if reml:
            TQ += _trace_pairs(VK, np.matmul(V, H))
        VKX = np.matmul(V[:, None], KX[None])                   # (q, n, mg, p)
        Pk -= np.matmul(KX2.T, VKX.reshape(q, n * mg, p))
        C = (KX.transpose(1, 2, 0).reshape(mg * p, n) @ E).reshape(mg, p, mg)   # sum_s KX_sap E_sb
        a += V.reshape(q, mg * mg) @ C.transpose(0, 2, 1).reshape(mg * mg, p)
    Y2 = a @ Phi @ a.T
    trPVPV = T1
    if reml:
        B = np.matmul(Phi, Pk)
        trPVPV = T1 - 2 * TQ + _trace_pairs(B, B)
    Hf = -trPVPV + 2 * (Y1 - Y2)
    if d2S is not None:
        Hf += d2S.reshape(q, q, -1) @ st.M.ravel()
    return (Hf + Hf.T) / 2, Pk, (trPVPV + trPVPV.T) / 4


def kr_pieces(data: PatternData, st: LikState, dS: np.ndarray, d2S: np.ndarray | None,
              W: np.ndarray):
    """``sum_kl W_kl Q_kl`` and ``sum_kl W_kl R_kl`` (p x p) for Kenward-Roger."""
    p = data.p
    SQ = np.zeros((p, p))
    SR = np.zeros((p, p))
    for g, (K, KX, E, H) in zip(data.patterns, st.cache):
        V = _sub(dS, g.idx)
        q, mg = V.shape[:2]
        WV = np.tensordot(W, V, axes=1)                          # sum_l W_kl V_l
        Ng = np.matmul(V, K).transpose(1, 0, 2).reshape(mg, q * mg) @ WV.reshape(q * mg, mg)
        SQ += KX.reshape(g.X2.shape).T @ np.matmul(Ng, KX).reshape(g.X2.shape)
        if d2S is not None:
            Rg = np.tensordot(W, _sub(d2S, g.idx), axes=2)
            SR += KX.reshape(g.X2.shape).T @ np.matmul(Rg, KX).reshape(g.X2.shape)
    return SQ, SR
