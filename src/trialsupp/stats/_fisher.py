"""Exact Fisher (Freeman-Halton) test for r x c tables by a network algorithm.

The two-sided P value is the total null probability (fixed margins,
multivariate hypergeometric) of all tables whose probability is at most the
observed table's (relative tolerance 1e-7, as R ``fisher.test``).

Algorithm (after Mehta & Patel 1983): columns are filled one at a time; a
node is the multiset of remaining row sums (rows are exchangeable in the
remaining sub-problem, so the state is sorted). Each node keeps the distinct
past path values ``-sum log x_ij!`` with their summed probability mass. For
every past value we bound the best and worst possible completion (per-column
relaxation ignoring the coupling through row sums, which gives valid
bounds): if even the least probable completion is more probable than the
observed table the path contributes nothing; if even the most probable
completion is at most as probable, the whole sub-tree counts and its total
mass is known in closed form (``n! / (prod r! prod c!)``); otherwise the
path is extended. The last two columns are resolved together with numpy.

Limits: exact for any table, but run time grows with the number of
intermediate nodes; a guard (``max_nodes``) raises ``NotEstimableError``
instead of running for hours. Tables with n up to a few hundred and up to
about 5 x 5 are fast.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import gammaln
from scipy.special import logsumexp as _scipy_logsumexp

from trialsupp.stats.exceptions import NotEstimableError

__all__ = ["fisher_exact_rxc"]

_TOL = 1e-7


@lru_cache(maxsize=None)
def _allocations(total: int, caps: tuple[int, ...]) -> np.ndarray:
    """All non-negative integer vectors x with sum(x) == total and x <= caps (rows of an array),
    in lexicographic order. Two caps are one ``arange``; more are stacked once per level
    (hand-optimised: a ``column_stack`` per first value was most of a lab table's test time)."""
    if len(caps) == 1:
        return np.array([[total]], dtype=np.int64) if total <= caps[0] else np.zeros((0, 1), np.int64)
    lo, hi = max(0, total - sum(caps[1:])), min(total, caps[0])
    if lo > hi:
        return np.zeros((0, len(caps)), np.int64)
    firsts = np.arange(lo, hi + 1, dtype=np.int64)
    if len(caps) == 2:
        return np.column_stack([firsts, total - firsts])
    tails = [_allocations(total - int(f), caps[1:]) for f in firsts]
    sizes = [len(t) for t in tails]
    if not sum(sizes):
        return np.zeros((0, len(caps)), np.int64)
    return np.column_stack([np.repeat(firsts, sizes), np.vstack(tails)])


def _logsumexp(values) -> float:
    """``scipy.special.logsumexp`` of a 1-D sequence of finite floats: the same numpy operations
    in the same order (so the same bits; a test checks), without scipy's array-API dispatch,
    which cost more than the sum itself for the thousands of short sums of one P value."""
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return float(_scipy_logsumexp(a))
    a_max = np.max(a, keepdims=True)
    at_max = a == a_max
    rest = np.where(at_max, -np.inf, a)
    m = np.sum(at_max.astype(np.float64), keepdims=True, dtype=np.float64)
    s = np.sum(np.exp(rest - a_max), keepdims=True, dtype=np.float64)
    s = np.where(s == 0, s, s / m)
    out = (np.log1p(s) + np.log(m) + a_max)[0]
    return float(out) if np.isfinite(out) else float(_scipy_logsumexp(a))   # scipy's edge cases


_LOG2 = math.log(2.0)


def _logaddexp(x: float, y: float) -> float:
    """``numpy.logaddexp`` of two finite floats, numpy's formula on Python floats (same bits;
    a numpy call per scalar pair was a fifth of a P value's time)."""
    if x == y:
        return x + _LOG2
    d = x - y
    return x + math.log1p(math.exp(-d)) if d > 0 else y + math.log1p(math.exp(d))


def _lfact(x):
    return gammaln(np.asarray(x, dtype=float) + 1.0)


def _even_fill(total: int, caps: np.ndarray) -> np.ndarray:
    """Allocation minimising sum log x! (convex): spread as evenly as caps allow."""
    x = np.zeros(len(caps), np.int64)
    left = total
    order = np.argsort(caps)
    k = len(caps)
    for pos, i in enumerate(order):
        share = min(int(caps[i]), left // (k - pos))
        x[i] = share
        left -= share
    # distribute the remainder one by one to rows with spare capacity and smallest x
    while left > 0:
        spare = np.where(x < caps)[0]
        i = spare[np.argmin(x[spare])]
        x[i] += 1
        left -= 1
    return x


@lru_cache(maxsize=200_000)
def _bounds(rows: tuple[int, ...], cols: tuple[int, ...]) -> tuple[float, float]:
    """Upper and lower bound of -sum log x! over completions with these margins."""
    caps = np.array(rows)
    hi = lo = 0.0
    for c in cols:
        hi -= float(np.sum(_lfact(_even_fill(c, caps))))
        y = np.zeros(len(caps), np.int64)
        left = c
        for i in np.argsort(-caps):
            y[i] = min(int(caps[i]), left)
            left -= y[i]
        lo -= float(np.sum(_lfact(y)))
    return hi, lo


@lru_cache(maxsize=200_000)
def _log_subtree_mass(rows: tuple[int, ...], cols: tuple[int, ...]) -> float:
    """log of sum over completions of prod 1/x_ij! = log(n! / (prod r! prod c!))."""
    n = sum(rows)
    return float(_lfact(n) - np.sum(_lfact(rows)) - np.sum(_lfact(cols)))


def fisher_exact_rxc(table, max_nodes: int = 2_000_000) -> tuple[float, float]:
    """Exact two-sided Fisher-Freeman-Halton test.

    Parameters
    ----------
    table : array_like of int, shape (r, c)
    max_nodes : int
        Guard on the work done; exceeding it raises ``NotEstimableError``.

    Returns
    -------
    (p_observed, p_value)
        Null probability of the observed table and the exact P value.
    """
    t = np.asarray(table)
    if t.ndim != 2 or np.any(t < 0) or np.any(t != np.round(t)):
        raise ValueError("table must be a 2-D array of non-negative integers")
    t = t.astype(np.int64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]  # empty rows/columns carry no information
    if t.size == 0 or min(t.shape) < 2:
        return 1.0, 1.0
    if t.shape[0] > t.shape[1]:
        t = t.T  # fewer rows: fewer allocations per column
    rows = tuple(int(v) for v in t.sum(axis=1))
    cols = tuple(sorted((int(v) for v in t.sum(axis=0)), reverse=True))
    n = sum(rows)
    log_const = float(np.sum(_lfact(rows)) + np.sum(_lfact(cols)) - _lfact(n))
    obs = -float(np.sum(_lfact(t)))
    p_obs = math.exp(log_const + obs)
    threshold = obs + _TOL * max(1.0, abs(obs))

    # stage: dict state (sorted remaining rows) -> dict past value -> log of summed path mass
    layer = {tuple(sorted(rows)): {0.0: 0.0}}
    counted: list[float] = []  # log masses of counted sets of tables
    nodes = 0
    for j in range(len(cols) - 2):
        rest = cols[j + 1:]
        nxt: dict[tuple, dict[float, float]] = {}
        for state, pasts in layer.items():
            allocs = _allocations(cols[j], state)
            nodes += len(allocs) * len(pasts)
            if nodes > max_nodes:
                raise NotEstimableError(
                    f"exact r x c Fisher test too large (more than {max_nodes} network nodes); "
                    "use the chi-square test or a Monte Carlo P value")
            contrib = -np.sum(_lfact(allocs), axis=1)
            remaining = np.array(state)[None, :] - allocs
            for a, rem in zip(contrib.tolist(), remaining.tolist()):   # Python numbers: faster scalar math
                key = tuple(sorted(rem))
                hi, lo = _bounds(key, rest)
                log_sub = _log_subtree_mass(key, rest)
                for past, log_mass in pasts.items():
                    val = past + a
                    if val + hi <= threshold:  # every completion is at most as probable
                        counted.append(log_mass + a + log_sub)
                    elif val + lo > threshold:  # no completion qualifies
                        continue
                    else:
                        bucket = nxt.setdefault(key, {})
                        k = round(float(val), 9)
                        add = log_mass + a
                        bucket[k] = _logaddexp(bucket[k], add) if k in bucket else add
        layer = nxt
    # last two columns: the second-to-last allocation fixes the last column
    c1, c2 = cols[-2], cols[-1]
    for state, pasts in layer.items():
        allocs = _allocations(c1, state)
        last = np.array(state)[None, :] - allocs
        ok = np.all(last >= 0, axis=1) & (last.sum(axis=1) == c2)
        vals = -np.sum(_lfact(allocs[ok]), axis=1) - np.sum(_lfact(last[ok]), axis=1)
        for past, log_mass in pasts.items():
            keep = past + vals <= threshold
            if np.any(keep):
                counted.append(log_mass + _logsumexp(vals[keep]))
    p = math.exp(log_const + _logsumexp(counted)) if counted else 0.0
    return p_obs, min(1.0, p)
