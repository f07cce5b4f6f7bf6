"""Restricted mean survival time (RMST) up to ``tau``, per group and between groups.

The RMST is the area under the Kaplan-Meier curve on [0, tau]; its variance is
the Greenwood-type formula of R ``survival:::survmean`` (``print(survfit, rmean=tau)``),
identical to ``survRM2::rmst2``:
``Var = sum_j A_j^2 d_j / (n_j (n_j - d_j))`` with A_j the area under the curve
from event time t_j to tau. Between groups: difference (normal CI and z test, as
survRM2 ``unadjusted.result``) and ratio (CI on the log scale, delta method).
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
from trialsupp.ard.schema import bind_ard
from trialsupp.stats.survival import check_tte

__all__ = ["RMST", "rmst_km"]


def rmst_km(t: np.ndarray, e: np.ndarray, tau: float) -> tuple[float, float]:
    """RMST and its SE up to ``tau`` for one sample (R ``survival:::survmean`` formula)."""
    ut, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e)
    rem = np.bincount(inv)
    n = np.cumsum(rem[::-1])[::-1].astype(float)
    surv = np.cumprod(1 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
    keep = ut <= tau
    tt = np.r_[ut[keep], tau]
    ss = np.r_[surv[keep], surv[keep][-1] if keep.any() else 1.0]
    hh = np.r_[hh[keep], 0.0]
    rect = np.diff(np.r_[0.0, tt]) * np.r_[1.0, ss[:-1]]
    mean = rect.sum()
    var = np.sum(np.cumsum(rect[1:][::-1]) ** 2 * hh[::-1][1:])
    return float(mean), float(np.sqrt(var))


class RMST:
    """Restricted mean survival time per group and treatment - reference contrasts.

    Parameters
    ----------
    tau : float
        Truncation time (same units as the time variable).
    alpha : float
        1 - confidence level.

    Attributes (after ``fit``)
    --------------------------
    groups_ : DataFrame ``group, n, n_event, rmst, std.error, conf.low, conf.high``.
    contrasts_ : DataFrame ``group, reference, measure (difference/ratio), estimate,
        std.error, conf.low, conf.high, statistic, p.value``.
    """

    def __init__(self, tau: float, alpha: float = 0.05):
        if not np.isfinite(tau) or tau <= 0:
            raise ValueError("tau must be a positive number")
        self.tau, self.alpha = float(tau), alpha

    def fit(self, df: pd.DataFrame, time: str, event: str, group: str | None = None,
            reference: Any = None, levels: Sequence[Any] | None = None) -> "RMST":
        d = check_tte(df, time, event, [group] if group else [])
        self.time, self.event, self.group = time, event, group
        z = float(sst.norm.ppf(1 - self.alpha / 2))
        if group is None:
            lv, parts = ["Overall"], {"Overall": d}
        else:
            lv = list(levels) if levels is not None else sorted(d[group].unique())
            if reference is not None:
                lv = [reference] + [x for x in lv if x != reference]
            parts = {g: d[d[group] == g] for g in lv}
        empty = [g for g, x in parts.items() if len(x) == 0]
        if empty:
            raise NotEstimableError(f"{group}: no rows for level(s) {empty}")
        rows = []
        for g, x in parts.items():
            t, e = x[time].to_numpy(float), x[event].to_numpy(float)
            if t.max() < self.tau:
                warnings.warn(f"group {g!r}: tau={self.tau:g} exceeds the largest follow-up time "
                              f"{t.max():g}; the KM curve is extended flat (as R survmean)",
                              StatisticalWarning, stacklevel=2)
            m, se = rmst_km(t, e, self.tau)
            rows.append({"group": g, "n": len(t), "n_event": int(e.sum()), "rmst": m, "std.error": se,
                         "conf.low": m - z * se, "conf.high": m + z * se,
                         "tmax": float(t.max())})
        self.groups_ = pd.DataFrame(rows)
        self.reference_ = lv[0]
        cons = []
        r0 = self.groups_.iloc[0]
        for _, r1 in self.groups_.iloc[1:].iterrows():
            diff = r1["rmst"] - r0["rmst"]
            se = float(np.hypot(r1["std.error"], r0["std.error"]))
            cons.append({"group": r1["group"], "reference": r0["group"], "measure": "difference",
                         "estimate": diff, "std.error": se, "conf.low": diff - z * se, "conf.high": diff + z * se,
                         "statistic": diff / se if se > 0 else np.nan,
                         "p.value": 2 * sst.norm.sf(abs(diff / se)) if se > 0 else np.nan})
            lr = np.log(r1["rmst"] / r0["rmst"])
            sel = float(np.hypot(r1["std.error"] / r1["rmst"], r0["std.error"] / r0["rmst"]))
            cons.append({"group": r1["group"], "reference": r0["group"], "measure": "ratio",
                         "estimate": np.exp(lr), "std.error": sel, "conf.low": np.exp(lr - z * sel),
                         "conf.high": np.exp(lr + z * sel), "statistic": lr / sel if sel > 0 else np.nan,
                         "p.value": 2 * sst.norm.sf(abs(lr / sel)) if sel > 0 else np.nan})
        self.contrasts_ = pd.DataFrame(cons)
        return self

    @property
    def method_(self) -> str:
        return (f"Restricted mean survival time to tau={self.tau:g} (area under the Kaplan-Meier curve; "
                "variance as R survival:::survmean / survRM2); normal CI")

    @property
    def summary(self) -> pd.DataFrame:
        return self.groups_

    def to_ard(self) -> pd.DataFrame:
        """ARD: per group ``n``, ``n_event``, ``estimate`` (RMST), ``std.error``, ``conf.low``,
        ``conf.high``; per contrast (``variable_level`` difference/ratio, group2 = reference)
        ``estimate``, ``std.error`` (log scale for the ratio), CI, ``statistic``, ``p.value``."""
        code = code_ref(RMST.fit)
        parts = []
        for _, r in self.groups_.iterrows():
            parts.append(ard_rows({"n": int(r["n"]), "n_event": int(r["n_event"])} |
                                  {"estimate": r["rmst"], "std.error": r["std.error"],
                                   "conf.low": r["conf.low"], "conf.high": r["conf.high"]},
                                  variable=self.time, variable_level="rmst", group1=self.group,
                                  group1_level=r["group"] if self.group else None, context="rmst",
                                  method=self.method_, code=code, labels={"estimate": "RMST"}))
        for _, r in self.contrasts_.iterrows():
            parts.append(ard_rows({k: r[k] for k in ("estimate", "std.error", "conf.low", "conf.high",
                                                     "statistic", "p.value")},
                                  variable=self.time, variable_level=r["measure"], group1=self.group,
                                  group1_level=r["group"], group2=self.group, group2_level=r["reference"],
                                  context="rmst", method=f"{self.method_}; {r['measure']} vs {r['reference']}",
                                  code=code, labels={"estimate": f"RMST {r['measure']}"}))
        return bind_ard(*parts)
