"""Kaplan-Meier estimation and log-rank tests, matching R ``survival``.

* :class:`KaplanMeier` -- KM curves (estimate from lifelines' ``KaplanMeierFitter``),
  Greenwood standard errors, ``log-log``/``log``/``plain`` confidence intervals
  (R ``survfit(conf.type=)``), quantiles (median, quartiles) with the
  Brookmeyer-Crowley interval exactly as R ``quantile.survfit``, survival at
  chosen times and numbers at risk as data and ARD rows.
* :class:`LogRankTest` -- (stratified) log-rank / Fleming-Harrington ``rho`` test
  as R ``survdiff``.
* :func:`event_from_cnsr` -- ADaM ADTTE ``CNSR`` (1 = censored) to event (1 = event).
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sst

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.stats.exceptions import NotEstimableError, StatisticalWarning

__all__ = ["KaplanMeier", "LogRankTest", "event_from_cnsr", "check_tte"]

CONF_TYPES = ("log-log", "log", "plain")
_TOL = float(np.sqrt(np.finfo(float).eps))  # R quantile.survfit tolerance


# ---------------------------------------------------------------- input checks
def _rows(mask: np.ndarray, index: pd.Index, limit: int = 10) -> str:
    bad = list(index[mask][:limit])
    more = f" (and {int(mask.sum()) - limit} more)" if mask.sum() > limit else ""
    return f"{bad}{more}"


def event_from_cnsr(cnsr: Any) -> Any:
    """Event indicator (1 = event, 0 = censored) from ADaM ``CNSR`` (0 = event, >=1 = censored).

    ADaM allows several positive censoring codes; every non-zero code is a censoring.

    Parameters
    ----------
    cnsr : array-like or pandas.Series
        The ``CNSR`` values (no missing values).

    Returns
    -------
    Same type as ``cnsr`` (Series keep their index), integer 0/1.
    """
    s = pd.Series(cnsr)
    if s.isna().any():
        raise ValueError(f"CNSR has missing values in rows {_rows(s.isna().to_numpy(), s.index)}")
    bad = ~s.apply(lambda v: float(v).is_integer() and v >= 0)
    if bad.any():
        raise ValueError(f"CNSR must be a non-negative integer code; bad rows {_rows(bad.to_numpy(), s.index)}")
    out = (s == 0).astype(int)
    return out if isinstance(cnsr, pd.Series) else out.to_numpy()


def check_tte(df: pd.DataFrame, time: str, event: str, others: Sequence[str] = ()) -> pd.DataFrame:
    """Validate time-to-event input; return ``df`` restricted to the used columns.

    Raises ``ValueError`` naming the variable and rows for missing columns, missing
    values, negative or non-finite times, or event values other than 0/1, and
    :class:`NotEstimableError` for an empty data set.
    """
    cols = [time, event, *[c for c in others if c is not None]]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"columns not in data: {missing}")
    if len(df) == 0:
        raise NotEstimableError("no rows in the data")
    d = df[list(dict.fromkeys(cols))]
    for c in d.columns:
        na = d[c].isna().to_numpy()
        if na.any():
            raise ValueError(f"variable {c!r} has missing values in rows {_rows(na, d.index)}")
    t = pd.to_numeric(d[time], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        raise ValueError(f"variable {time!r} must be finite and >= 0; bad rows {_rows(bad, d.index)}")
    e = pd.to_numeric(d[event], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(e, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"variable {event!r} must be 0/1 (1 = event); bad rows {_rows(bad, d.index)}"
                         " -- for ADaM CNSR use event_from_cnsr()")
    return d


# ---------------------------------------------------------------- KM pieces
def _km_table(t: np.ndarray, e: np.ndarray) -> pd.DataFrame:
    """R survfit-style table at every distinct time (events and censorings)."""
    from lifelines import KaplanMeierFitter  # the KM estimate itself from lifelines

    kmf = KaplanMeierFitter().fit(t, e)
    et = kmf.event_table
    et = et[et["removed"] > 0]
    times = et.index.to_numpy(dtype=float)
    n_risk = et["at_risk"].to_numpy(dtype=float)
    n_event = et["observed"].to_numpy(dtype=float)
    surv = kmf.survival_function_.iloc[:, 0].reindex(et.index).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)  # Greenwood
    std_err = np.sqrt(np.cumsum(h))  # SE of log S (R survfit$std.err); inf once S = 0
    return pd.DataFrame({"time": times, "n_risk": n_risk.astype(int), "n_event": n_event.astype(int),
                         "n_censor": et["censored"].to_numpy(dtype=int), "surv": surv,
                         "std_err": std_err})


def _confint(surv: np.ndarray, se: np.ndarray, z: float, conf_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of S(t) as R ``survival:::survfit_confint`` (se = SE of log S)."""
    surv = np.asarray(surv, float)
    se = np.asarray(se, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            w = z * se * surv
            lo, hi = np.maximum(surv - w, 0), np.minimum(surv + w, 1)
        elif conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lo, hi = np.exp(np.log(xx) - z * se), np.minimum(np.exp(np.log(xx) + z * se), 1)
        elif conf_type == "log-log":
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            w = z * se / np.log(xx)  # negative
            lo, hi = np.exp(-np.exp(np.log(-np.log(xx)) - w)), np.exp(-np.exp(np.log(-np.log(xx)) + w))
        else:
            raise ValueError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")
    bad = surv == 0  # R: undefined at S = 0
    lo, hi = np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)
    return lo, hi


def _findq(x: np.ndarray, y: np.ndarray, probs: np.ndarray, tol: float = _TOL) -> np.ndarray:
    """Port of R ``survival:::findq``: first x where cumulative y reaches p.

    ``y`` is 1 - S (non-decreasing, may hold NaN). Where y equals p within ``tol``
    over a flat stretch, the quantile is the midpoint of that stretch; if the curve
    ends exactly at p, the midpoint of the reaching time and the last time.
    """
    probs = np.asarray(probs, float)
    out = np.full(probs.shape, np.nan)
    if np.all(np.isnan(y)) or np.nanmax(y) < probs.min():
        return out
    xmax = x[-1]
    keep = ~pd.Series(y).duplicated().to_numpy()  # NaN counts as one value, as in R
    x, y = x[keep], y[keep]
    n = len(y)
    ok = ~np.isnan(y)
    idx = np.arange(n)[ok]
    yy = y[ok]
    order = np.argsort(yy, kind="stable")
    yy, idx = yy[order], idx[order]

    def step(v: np.ndarray) -> np.ndarray:  # approx(v, idx, p, "constant", f = 1)
        k = np.searchsorted(v, probs, side="left")
        res = np.where((probs < v[0]) | (probs > v[-1]), -1, idx[np.minimum(k, len(v) - 1)])
        return res

    i1, i2 = step(yy + tol), step(yy - tol)
    valid = (i1 >= 0) & (i2 >= 0)
    out[valid] = (x[i1[valid]] + x[i2[valid]]) / 2
    out[probs == 0] = x[0]
    if not np.isnan(y[-1]):
        last = np.abs(probs - y[-1]) < tol
        if last.any():
            out[last & (i1 >= 0)] = (x[i1[last & (i1 >= 0)]] + xmax) / 2
    return out


# ---------------------------------------------------------------- Kaplan-Meier
class KaplanMeier:
    """Kaplan-Meier estimator with Greenwood SEs, R-compatible CIs and quantile CIs.

    Parameters
    ----------
    alpha : float
        1 - confidence level.
    conf_type : {"log-log", "log", "plain"}
        Transformation for the pointwise CI of S(t), as R ``survfit(conf.type=)``.
        The quantile (median) CIs invert these pointwise limits (Brookmeyer-Crowley,
        R ``quantile.survfit``), so they depend on ``conf_type`` too.

    Attributes (after ``fit``)
    --------------------------
    table_ : DataFrame
        One row per group and distinct time: ``group, time, n_risk, n_event,
        n_censor, surv, std_err`` (SE of log S, R ``std.err``), ``conf_low, conf_high``.
    quantiles_ : DataFrame
        ``group, prob, stat_name (q1/median/q3), estimate, conf_low, conf_high``;
        NaN = not reached (reported as not estimable in the ARD).
    groups_ : list
        Group levels in order; ``n_``, ``n_event_``, ``n_censor_`` dicts by group.
    """

    def __init__(self, alpha: float = 0.05, conf_type: str = "log-log"):
        if conf_type not in CONF_TYPES:
            raise ValueError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")
        if not 0 < alpha < 1:
            raise ValueError("alpha must be in (0, 1)")
        self.alpha = alpha
        self.conf_type = conf_type

    @property
    def _z(self) -> float:
        return float(sst.norm.ppf(1 - self.alpha / 2))

    @property
    def method_(self) -> str:
        return (f"Kaplan-Meier; Greenwood variance; {100 * (1 - self.alpha):g}% CI {self.conf_type}; "
                f"quantile CI by Brookmeyer-Crowley (R quantile.survfit)")

    def fit(self, df: pd.DataFrame, time: str, event: str, by: str | None = None,
            levels: Sequence[Any] | None = None) -> "KaplanMeier":
        """Fit KM curves.

        Parameters
        ----------
        df : DataFrame
        time, event : str
            Column names; ``event`` is 1 = event, 0 = censored (see :func:`event_from_cnsr`).
        by : str, optional
            Grouping column (one curve per level).
        levels : sequence, optional
            Order of the groups (default: sorted levels); a listed level with no
            rows raises :class:`NotEstimableError`.
        """
        d = check_tte(df, time, event, [by] if by else [])
        self.time, self.event, self.by = time, event, by
        if by is None:
            groups = {"Overall": d}
        else:
            lv = list(levels) if levels is not None else sorted(d[by].unique())
            groups = {g: d[d[by] == g] for g in lv}
            empty = [g for g, x in groups.items() if len(x) == 0]
            if empty:
                raise NotEstimableError(f"{by}: no rows for level(s) {empty}")
        self.groups_ = list(groups)
        tabs, quants, self.n_, self.n_event_, self.n_censor_ = [], [], {}, {}, {}
        self._data = {}
        for g, x in groups.items():
            t = x[time].to_numpy(float)
            e = x[event].to_numpy(float).astype(int)
            self._data[g] = (t, e)
            tab = _km_table(t, e)
            tab["conf_low"], tab["conf_high"] = _confint(tab["surv"].to_numpy(), tab["std_err"].to_numpy(),
                                                         self._z, self.conf_type)
            tab.insert(0, "group", g)
            tabs.append(tab)
            self.n_[g], self.n_event_[g] = len(t), int(e.sum())
            self.n_censor_[g] = int(len(t) - e.sum())
            quants.append(self._quantiles(g, tab))
        self.table_ = pd.concat(tabs, ignore_index=True)
        self.quantiles_ = pd.concat(quants, ignore_index=True)
        return self

    def _quantiles(self, g: Any, tab: pd.DataFrame, probs=(0.25, 0.5, 0.75)) -> pd.DataFrame:
        x = np.r_[0.0, tab["time"].to_numpy()]
        p = np.asarray(probs, float)
        q = _findq(x, np.r_[0.0, 1 - tab["surv"].to_numpy()], p)
        lo = _findq(x, np.r_[0.0, 1 - tab["conf_low"].to_numpy()], p)
        hi = _findq(x, np.r_[0.0, 1 - tab["conf_high"].to_numpy()], p)
        names = {0.25: "q1", 0.5: "median", 0.75: "q3"}
        return pd.DataFrame({"group": g, "prob": p, "stat_name": [names.get(v, f"q{v:g}") for v in p],
                             "estimate": q, "conf_low": lo, "conf_high": hi})

    def quantile(self, probs: Sequence[float]) -> pd.DataFrame:
        """Survival-time quantiles (prob = 1 - S) with CIs, per group."""
        return pd.concat([self._quantiles(g, self.table_[self.table_["group"] == g], probs)
                          for g in self.groups_], ignore_index=True)

    # ---------------------------------------------------------- at chosen times
    def survival_at(self, times: Sequence[float]) -> pd.DataFrame:
        """S(t) with SE and CI at ``times`` (right-continuous step function, R ``summary(times=)``).

        Times after the last follow-up of a group give NaN (not estimable). At
        S(t) = 1 the CI is (1, 1).
        """
        rows = []
        for g in self.groups_:
            tab = self.table_[self.table_["group"] == g]
            tt = tab["time"].to_numpy()
            tmax = self._data[g][0].max()
            for t in times:
                k = np.searchsorted(tt, t, side="right") - 1
                if t > tmax:
                    s = se = lo = hi = np.nan
                elif k < 0:
                    s, se, lo, hi = 1.0, 0.0, 1.0, 1.0
                else:
                    r = tab.iloc[k]
                    s, se, lo, hi = r["surv"], r["std_err"], r["conf_low"], r["conf_high"]
                    if s == 1.0:
                        lo = hi = 1.0
                rows.append({"group": g, "time": float(t), "surv": s, "std_err": se,
                             "conf_low": lo, "conf_high": hi})
        return pd.DataFrame(rows)

    def at_risk(self, times: Sequence[float]) -> pd.DataFrame:
        """Numbers at risk (time >= t) and cumulative events / censorings (time <= t) per group."""
        rows = []
        for g in self.groups_:
            t, e = self._data[g]
            for s in times:
                rows.append({"group": g, "time": float(s), "n_risk": int((t >= s).sum()),
                             "n_event": int(((t <= s) & (e == 1)).sum()),
                             "n_censor": int(((t <= s) & (e == 0)).sum())})
        return pd.DataFrame(rows)

    def _grp(self) -> dict:
        return {"group1": self.by} if self.by else {}

    def at_risk_ard(self, times: Sequence[float]) -> pd.DataFrame:
        """ARD rows ``n_risk``, ``n_event``, ``n_censor`` (cumulative) with ``variable_level`` = time."""
        code = code_ref(KaplanMeier.at_risk)
        tab = self.at_risk(times)
        parts = [ard_rows({"n_risk": r.n_risk, "n_event": r.n_event, "n_censor": r.n_censor},
                          variable=self.time, variable_level=r.time, group1=self.by,
                          group1_level=r.group if self.by else None, context="km_at_risk",
                          method="Number at risk (time >= t); cumulative events and censorings (time <= t)",
                          code=code) for r in tab.itertuples()]
        return bind_ard(*parts)

    def survival_at_ard(self, times: Sequence[float]) -> pd.DataFrame:
        """ARD rows ``estimate``, ``std.error`` (of S, delta method), ``conf.low``, ``conf.high`` per time."""
        code = code_ref(KaplanMeier.survival_at)
        parts = []
        for r in self.survival_at(times).itertuples():
            err = "not estimable (time after last follow-up)" if np.isnan(r.surv) else None
            parts.append(ard_rows({"estimate": r.surv, "std.error": r.surv * r.std_err,
                                   "conf.low": r.conf_low, "conf.high": r.conf_high},
                                  variable=self.time, variable_level=r.time, group1=self.by,
                                  group1_level=r.group if self.by else None, context="km_surv",
                                  method=self.method_, code=code, error=err))
        return bind_ard(*parts)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per group: n, events, censored, median and quartiles with CIs."""
        rows = []
        for g in self.groups_:
            q = self.quantiles_[self.quantiles_["group"] == g].set_index("stat_name")
            rows.append({"group": g, "n": self.n_[g], "n_event": self.n_event_[g],
                         "n_censor": self.n_censor_[g],
                         "median": q.loc["median", "estimate"], "median_conf_low": q.loc["median", "conf_low"],
                         "median_conf_high": q.loc["median", "conf_high"],
                         "q1": q.loc["q1", "estimate"], "q3": q.loc["q3", "estimate"]})
        return pd.DataFrame(rows)

    def to_ard(self) -> pd.DataFrame:
        """ARD: per group ``n``, ``n_event``, ``n_censor``; and for ``variable_level`` in
        median/q1/q3 the quantile (stat ``median``/``q1``/``q3``) with ``conf.low``/``conf.high``.
        A quantile not reached has ``stat=None`` and ``error`` saying so."""
        code = code_ref(KaplanMeier.fit)
        parts = []
        for g in self.groups_:
            common = dict(variable=self.time, group1=self.by, group1_level=g if self.by else None,
                          context="km", method=self.method_, code=code)
            parts.append(ard_rows({"n": self.n_[g], "n_event": self.n_event_[g],
                                   "n_censor": self.n_censor_[g]}, **common))
            if self.n_event_[g] == 0:
                warnings.warn(f"group {g!r}: no events (all censored)", StatisticalWarning, stacklevel=2)
            for r in self.quantiles_[self.quantiles_["group"] == g].itertuples():
                for name, val, why in ((r.stat_name, r.estimate, "not reached (KM curve stays above 1 - p)"),
                                       ("conf.low", r.conf_low, "not reached (lower CI limit of S(t) stays above 1 - p)"),
                                       ("conf.high", r.conf_high, "not reached (upper CI limit of S(t) stays above 1 - p)")):
                    parts.append(ard_rows({name: val}, variable_level=r.stat_name,
                                          error=why if not np.isfinite(val) else None, **common))
        return bind_ard(*parts)


# ---------------------------------------------------------------- log-rank
class LogRankTest:
    """K-sample (stratified) log-rank / Fleming-Harrington G(rho) test, as R ``survdiff``.

    Weights are ``S(t-)^rho`` with S the pooled (within-stratum) Kaplan-Meier
    estimate just before t; ``rho=0`` is the log-rank test, ``rho=1`` Peto-Peto.

    Attributes (after ``fit``)
    --------------------------
    statistic_, df_, p_value_ : chi-square statistic, degrees of freedom, p-value.
    observed_, expected_ : Series by group (weighted, summed over strata).
    variance_ : DataFrame, the G x G variance matrix of observed - expected.
    """

    def __init__(self, rho: float = 0.0):
        self.rho = float(rho)

    def fit(self, df: pd.DataFrame, time: str, event: str, group: str, strata: str | Sequence[str] | None = None,
            levels: Sequence[Any] | None = None) -> "LogRankTest":
        strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
        d = check_tte(df, time, event, [group, *strata_cols])
        self.time, self.event, self.group, self.strata = time, event, group, strata_cols
        lv = list(levels) if levels is not None else sorted(d[group].unique())
        counts = d[group].value_counts()
        empty = [g for g in lv if counts.get(g, 0) == 0]
        if empty:
            raise NotEstimableError(f"{group}: no rows for level(s) {empty}")
        if len(lv) < 2:
            raise NotEstimableError(f"{group}: need at least two groups, found {lv}")
        d = d[d[group].isin(lv)]
        gi = pd.Categorical(d[group], categories=lv).codes
        G = len(lv)
        t = d[time].to_numpy(float)
        e = d[event].to_numpy(float)
        if e.sum() == 0:
            raise NotEstimableError(f"{event}: no events (all censored); the log-rank test is not defined")
        sk = (d[strata_cols].astype(str).agg("|".join, axis=1).to_numpy() if strata_cols
              else np.zeros(len(d), dtype=int))
        O, E, V = np.zeros(G), np.zeros(G), np.zeros((G, G))
        for s in pd.unique(sk):
            m = sk == s
            o, ex, v = self._stratum(t[m], e[m], gi[m], G)
            O += o
            E += ex
            V += v
        self.observed_ = pd.Series(O, index=lv)
        self.expected_ = pd.Series(E, index=lv)
        self.variance_ = pd.DataFrame(V, index=lv, columns=lv)
        self.n_ = pd.Series(np.bincount(gi, minlength=G), index=lv)
        oe = (O - E)[:-1]
        vv = V[:-1, :-1]
        self.df_ = int((E > 0).sum() - 1)  # as R survdiff
        self.statistic_ = float(oe @ np.linalg.pinv(vv) @ oe) if self.df_ > 0 else np.nan
        self.p_value_ = float(sst.chi2.sf(self.statistic_, self.df_)) if self.df_ > 0 else np.nan
        self.levels_ = lv
        return self

    def _stratum(self, t, e, g, G):
        ut, inv = np.unique(t, return_inverse=True)
        T = len(ut)
        dth = np.zeros((T, G))
        rem = np.zeros((T, G))
        np.add.at(dth, (inv, g), e)
        np.add.at(rem, (inv, g), 1.0)
        n_g = np.cumsum(rem[::-1], axis=0)[::-1]  # at risk: time >= t
        n = n_g.sum(1)
        d = dth.sum(1)
        km = np.cumprod(1 - d / n)
        w = np.r_[1.0, km[:-1]] ** self.rho if self.rho else np.ones(T)  # S(t-)^rho
        keep = d > 0
        n_g, n, d, w, dth = n_g[keep], n[keep], d[keep], w[keep], dth[keep]
        O = (w[:, None] * dth).sum(0)
        frac = n_g / n[:, None]
        E = (w * d)[:, None] * frac
        c = np.where(n > 1, w**2 * d * (n - d) / np.maximum(n - 1, 1), 0.0)
        V = np.diag((c[:, None] * frac).sum(0)) - np.einsum("t,tg,th->gh", c, frac, frac)
        return O, E.sum(0), V

    @property
    def method_(self) -> str:
        name = "Log-rank test" if self.rho == 0 else f"Fleming-Harrington G(rho={self.rho:g}) test"
        if self.strata:
            name = f"Stratified {name[0].lower()}{name[1:]} (strata: {', '.join(self.strata)})"
        return name + " (R survdiff)"

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"group": self.levels_, "n": self.n_.to_numpy(), "observed": self.observed_.to_numpy(),
                             "expected": self.expected_.to_numpy(),
                             "statistic": self.statistic_, "df": self.df_, "p.value": self.p_value_})

    def to_ard(self) -> pd.DataFrame:
        """ARD rows ``statistic`` (chi-square), ``df``, ``p.value``, ``method``."""
        return ard_rows({"statistic": self.statistic_, "df": self.df_, "p.value": self.p_value_,
                         "method": self.method_},
                        variable=self.time, group1=self.group, context="logrank",
                        method=self.method_, code=code_ref(LogRankTest.fit))
