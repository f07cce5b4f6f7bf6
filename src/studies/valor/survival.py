"""Time to death or permanent ventilation (ADTTE PARAMCD DTHPV) and to death (DTH),
early start vs placebo / delayed start, from randomization (weeks = AVAL / 7).

Per population (ITT, faster progressors) and end point: Kaplan-Meier curves with
numbers at risk (``KaplanMeier``), medians with 95% CIs, Cox hazard ratio (early vs
delayed start, Efron ties, Wald CI; ``CoxPH``) and the RMST difference up to ``tau``
(``RMST``). ``tau`` and the at-risk grid are chosen from the data as documented in
:func:`rmst_tau` (selection rules, not statistics).
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.stats.cox import CoxPH
from trialsupp.stats.descriptive import ard_summary
from trialsupp.stats.rmst import RMST
from trialsupp.stats.survival import KaplanMeier

from ._common import population, start_groups

__all__ = ["ENDPOINTS", "TIME", "EVENT", "RISK_STEP_WEEKS", "tte_data", "risk_times", "rmst_tau",
           "followup_ard", "km_ard", "curve_ard", "cox_ard", "rmst_ard", "tte_analysis"]

ENDPOINTS = {"DTHPV": "Death or permanent ventilation", "DTH": "Death"}
TIME, EVENT = "WEEKS", "EVENT"
RISK_STEP_WEEKS = 48          # numbers at risk every 48 weeks (display grid)
DAYS_PER_WEEK = 7.0


def tte_data(adtte: pd.DataFrame, adsl: pd.DataFrame, paramcd: str, pop: str = "ITT",
             sim: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per participant of ``pop``: WEEKS (AVAL days / 7), EVENT (1 - CNSR), STARTGR."""
    keep = set(population(adsl, pop)["USUBJID"])
    d = adtte[(adtte["PARAMCD"] == paramcd) & adtte["USUBJID"].isin(keep)].copy()
    if d["USUBJID"].duplicated().any():
        raise ValueError(f"ADTTE {paramcd}: more than one record per participant")
    d[TIME] = d["AVAL"].astype(float) / DAYS_PER_WEEK
    d[EVENT] = 1 - d["CNSR"].astype(int)
    d["STARTGR"] = pd.Categorical(d["STARTGR"], categories=list(start_groups(sim)))
    return d.reset_index(drop=True)


def followup_ard(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Largest follow-up time per start group of each data set (``ard_summary`` max)."""
    return bind_ard(*[ard_summary(d, TIME, by="STARTGR", statistic=("N", "max"), fmt={"max": "d1"})
                      for d in frames])


def rmst_tau(followup: pd.DataFrame, step: float) -> float:
    """tau = the shortest of the groups' largest follow-up times (``followup`` ARD rows),
    rounded down to a whole number of ``step`` weeks (so the KM curves of both groups
    are defined up to tau)."""
    mx = [float(v) for v in followup.loc[followup["stat_name"] == "max", "stat"] if v is not None]
    if not mx:
        raise ValueError("no follow-up rows to choose tau from")
    return float(math.floor(min(mx) / step) * step)


def risk_times(tau_or_max: float, step: float = RISK_STEP_WEEKS) -> list[float]:
    """0, step, 2*step, ... up to ``tau_or_max``."""
    return [float(k * step) for k in range(int(tau_or_max // step) + 1)]


def tau_ard(tau: float, step: float, sim_every: float | None = None) -> pd.DataFrame:
    """The chosen tau as an ARD row (context "rmst", stat ``tau``) for text and footnotes."""
    return ard_rows({"tau": tau, "tau_years": tau / (365.25 / DAYS_PER_WEEK)}, variable=TIME,
                    context="rmst_tau", method=f"tau = shortest largest follow-up of the groups, "
                                                f"rounded down to a multiple of {step:g} weeks",
                    code=code_ref(rmst_tau), fmt={"tau": "d0", "tau_years": "d1"},
                    labels={"tau": "RMST truncation time (weeks)", "tau_years": "RMST truncation time (years)"})


def _fit_km(d: pd.DataFrame, sim=None) -> KaplanMeier:
    return KaplanMeier().fit(d, TIME, EVENT, by="STARTGR", levels=list(start_groups(sim)))


def km_ard(d: pd.DataFrame, sim: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """n, events, censored and quartiles (median with 95% CI) per start group."""
    out = _fit_km(d, sim).to_ard().copy()
    weeks = out["variable_level"].isin(["q1", "median", "q3"])
    out.loc[weeks, "fmt"] = "d0"          # whole weeks: the visit grid has no sub-week precision
    return out


def curve_ard(d: pd.DataFrame, times: Sequence[float], sim: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """KM curve steps (context km_surv at every distinct time, with n_censor at that time) and
    numbers at risk at ``times`` (context km_at_risk), per start group."""
    km = _fit_km(d, sim)
    steps = sorted(set(d[TIME].astype(float)))
    surv = km.survival_at_ard(steps)
    # censorings AT each step time, per group (at_risk: cumulative censorings; the plot
    # needs the count at the time itself, from the same KaplanMeier table)
    cens = []
    for g in km.groups_:
        tab = km.table_[km.table_["group"] == g]
        for r in tab.itertuples():
            cens.append(ard_rows({"n_censor": int(r.n_censor)}, variable=TIME, variable_level=float(r.time),
                                 group1="STARTGR", group1_level=g, context="km_surv",
                                 method=km.method_, code=code_ref(KaplanMeier.fit)))
    # keep curve rows of each group only at that group's own times (steps of the other group
    # would duplicate the value; harmless but bulky)
    own = {g: set(km.table_.loc[km.table_["group"] == g, "time"].astype(float)) for g in km.groups_}
    surv = surv[[float(t) in own.get(g, ()) for t, g in zip(surv["variable_level"], surv["group1_level"])]]
    surv = surv[surv["stat_name"].isin(["estimate", "conf.low", "conf.high"])]
    # the figure prints numbers at risk; the cumulative n_event/n_censor at those times would share
    # ids with the per-time n_censor rows above whenever a censoring falls on a display time
    risk = km.at_risk_ard(times)
    return bind_ard(surv, *cens, risk[risk["stat_name"] == "n_risk"])


def cox_ard(d: pd.DataFrame, sim: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """HR early vs delayed start (reference) with Wald 95% CI."""
    delayed, _ = start_groups(sim)
    dd = d.assign(STARTGR=d["STARTGR"].astype(str))
    return CoxPH().fit(dd, TIME, EVENT, treatment="STARTGR", reference=delayed).to_ard()


def rmst_ard(d: pd.DataFrame, tau: float, sim: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """RMST per group up to tau and the difference (and ratio) early - delayed start."""
    delayed, early = start_groups(sim)
    dd = d.assign(STARTGR=d["STARTGR"].astype(str))
    out = RMST(tau).fit(dd, TIME, EVENT, group="STARTGR", reference=delayed, levels=[delayed, early]).to_ard()
    out = out.copy()
    est = out["stat_name"].isin(["estimate", "std.error", "conf.low", "conf.high"]) & \
        (out["variable_level"] != "ratio")
    out.loc[est, "fmt"] = "d1"
    return out


def tte_analysis(adtte: pd.DataFrame, adsl: pd.DataFrame, populations: Sequence[str] = ("ITT", "Faster progression"),
                 sim: Mapping[str, Any] | None = None, step: float = 12.0) -> dict[str, Any]:
    """Everything of the time-to-event table: per (population, end point) the ARD of
    KM summary, Cox and RMST (tagged ``group2 = "POPULATION"``/``ENDPOINT`` only in the
    analysis id, see the notebook), plus the common tau.

    Returns ``{"tau": float, "tau_ard": DataFrame, "followup": DataFrame,
    "parts": {(pop, paramcd): DataFrame}}``.
    """
    data = {(p, cd): tte_data(adtte, adsl, cd, p, sim) for p in populations for cd in ENDPOINTS}
    fu = followup_ard(data.values())
    tau = rmst_tau(fu, step)
    parts = {}
    for key, d in data.items():
        parts[key] = bind_ard(km_ard(d, sim), cox_ard(d, sim), rmst_ard(d, tau, sim))
    return {"tau": tau, "tau_ard": tau_ard(tau, step), "followup": fu, "parts": parts, "data": data}


def analysis_id(pop: str, paramcd: str) -> str:
    """Analysis id of one (population, end point): ``dthpv-itt``, ``dth-faster``."""
    short = {"ITT": "itt", "Faster progression": "faster", "Slower progression": "slower"}[pop]
    return f"{paramcd.lower()}-{short}"
