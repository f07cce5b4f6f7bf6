"""Time-to-event standard outputs from ADTTE: summary table (NEST TTET01: events, censored,
Kaplan-Meier quartiles with CIs, Cox hazard ratio vs the reference arm) and the Kaplan-Meier
figure with numbers at risk (KMG01). Statistics: ``trialsupp.stats.survival.KaplanMeier``
and ``trialsupp.stats.cox.CoxPH``; the figure is ``trialsupp.display.figures.km_plot``.

ADTTE conventions: one record per subject and ``PARAMCD``; ``AVAL`` the time (unit from
``AVALU`` when present, else days), ``CNSR`` 0 = event, > 0 = censored. The arm is the
ADSL ``arm`` merged by ``id``.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Optional, Sequence

import pandas as pd

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.display import cell
from trialsupp.stats.cox import CoxPH
from trialsupp.stats.survival import KaplanMeier, event_from_cnsr

from ._display import arm_table, header_ard, is_csr
from ._spine import TLG, InputError, arm_levels, need, population, population_label, stack_total, with_arm

__all__ = ["time_to_event", "km_figure", "tte_parameters", "risk_times"]

EVENT = "EVENT"


def tte_parameters(adtte: pd.DataFrame) -> dict[str, str]:
    """``{PARAMCD: PARAM}`` of ADTTE in order of appearance."""
    need(adtte, "ADTTE", ["PARAMCD"])
    d = adtte.drop_duplicates("PARAMCD")
    lab = "PARAM" if "PARAM" in d.columns else "PARAMCD"
    return {str(k): str(v) for k, v in zip(d["PARAMCD"], d[lab])}


def risk_times(tmax: float, target: int = 6) -> list[float]:
    """0 and a round step (1, 2, 2.5 or 5 x 10^k) giving about ``target`` intervals up to ``tmax``."""
    if not tmax or tmax <= 0:
        return [0.0]
    raw = tmax / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [float(k * step) for k in range(int(tmax // step) + 1)]


def _analysis_data(adtte, adsl, paramcd, arm, pop_flag, id, time, cnsr, arms):
    pop = population(adsl, pop_flag, arm, id)
    if not len(pop):
        raise InputError(f"ADSL: no subjects with {pop_flag} = Y and a treatment arm in {arm}")
    need(adtte, "ADTTE", ["PARAMCD", time, cnsr, id])
    params = tte_parameters(adtte)
    paramcd = paramcd or next(iter(params))
    if paramcd not in params:
        raise InputError(f"ADTTE: PARAMCD {paramcd!r} not found (present: {', '.join(params)})")
    d = with_arm(adtte[adtte["PARAMCD"] == paramcd], pop, arm, id, "ADTTE")
    if d[id].duplicated().any():
        raise InputError(f"ADTTE PARAMCD {paramcd}: more than one record per {id} "
                         f"(e.g. {d.loc[d[id].duplicated(), id].iloc[0]})")
    d = d.assign(**{EVENT: event_from_cnsr(d[cnsr])})
    levels = [a for a in arm_levels(pop, arm, arms) if (d[arm] == a).any()]
    unit = "days"
    if "AVALU" in d.columns and d["AVALU"].astype(str).str.strip().ne("").any():
        unit = str(d["AVALU"].dropna().astype(str).str.strip().replace("", pd.NA).dropna().iloc[0]).lower()
    return pop, d, paramcd, params[paramcd], levels, unit


def time_to_event(adtte: pd.DataFrame, adsl: pd.DataFrame, *, paramcd: Optional[str] = None,
                  time: str = "AVAL", cnsr: str = "CNSR", reference: Any = None,
                  conf_type: str = "log-log", arm: str = "TRT01A", pop_flag: Optional[str] = "SAFFL",
                  id: str = "USUBJID", arms: Optional[Sequence[Any]] = None, layout: str = "jama",
                  title: Optional[str] = None) -> TLG:
    """Events, censored, KM median and quartiles (``conf_type`` CI, Brookmeyer-Crowley), and
    the Cox hazard ratio (Efron ties, Wald CI and P) of each arm vs ``reference`` (default the
    first arm). ``paramcd``: default the first ADTTE parameter."""
    pop, d, paramcd, plabel, levels, unit = _analysis_data(adtte, adsl, paramcd, arm, pop_flag, id,
                                                           time, cnsr, arms)
    reference = levels[0] if reference is None else reference
    d = d.assign(**{arm: pd.Categorical(d[arm], categories=levels)})
    km = KaplanMeier(conf_type=conf_type).fit(d, time, EVENT, by=arm, levels=levels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # "no events" conditions are carried on the rows
        summ = km.to_ard()
    decimals = 1 if unit.startswith(("month", "week", "year")) else 0
    q = summ["variable_level"].isin(["q1", "median", "q3"])
    summ.loc[q, "fmt"] = f"d{decimals}"
    parts = [header_ard(stack_total(pop[pop[arm].isin(levels)], arm, levels, False), arm), summ]
    pct = []
    for g in levels:
        n, e = km.n_[g], km.n_event_[g]
        pct.append(ard_rows({"p": e / n if n else None}, variable=time, variable_level="events",
                                     group1=arm, group1_level=g, context="km",
                                     method="Events / subjects", code=code_ref(time_to_event),
                                     fmt={"p": "pct1" if layout == "csr" or n >= 100 else "pct0"}))
    parts += pct
    cox_ok = len(levels) > 1
    if cox_ok:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cox = CoxPH().fit(d.assign(**{arm: d[arm].astype(str)}), time, EVENT, treatment=arm,
                                  reference=reference).to_ard()
            parts.append(cox[cox["group1"] == arm])
        except Exception as exc:          # not estimable (e.g. no events): say so in the table
            cox_ok = False
            parts.append(ard_rows({"estimate": None}, variable="HR", context="cox", group1=arm,
                                  method="Cox proportional hazards", code=code_ref(CoxPH.fit),
                                  error=f"hazard ratio not estimable: {exc}"))
    ard = bind_ard(*parts)
    title = title or f"Time to Event: {plabel}"
    others = [g for g in levels if g != reference]

    def build(placed, rules):
        csr = is_csr(rules)
        t = arm_table(placed, title, arm, levels, rules)
        km_rows = placed[placed["context"] == "km"]
        t = _events_row(t, km_rows, arm, levels, csr, rules)
        t = t.add_stat_row("Censored, No." if not csr else "Censored, n", km_rows, "{n_censor}", variable=time,
                           variable_level=None)
        t = t.add_stat_row(f"Median (95% CI), {unit}", km_rows, "{median} ({ci})", variable_level="median")
        t = t.add_stat_row(f"25th and 75th percentiles, {unit}", _quartile_rows(km_rows), "{q1}, {q3}")
        cox_rows = placed[(placed["context"] == "cox") & (placed["group1"] == arm)]
        if len(cox_rows) and "p.value" in set(cox_rows["stat_name"]):
            cells = {str(reference): "Reference"}
            for g in others:
                sub = cox_rows[cox_rows["group1_level"] == g]
                cells[str(g)] = cell(sub, "{estimate} ({ci})", rules=rules) if len(sub) else ""
            t = t.add_row("Hazard ratio (95% CI)", cells, ard=cox_rows)
            cells = {str(reference): ""}
            for g in others:
                sub = cox_rows[cox_rows["group1_level"] == g]
                cells[str(g)] = cell(sub, "{p.value}", rules=rules) if len(sub) else ""
            t = t.add_row("P value", cells, ard=cox_rows)
        t = t.footnote(f"Kaplan-Meier estimates; {conf_type} confidence intervals. Hazard ratios vs "
                       f"{reference} from a Cox proportional hazards model (Efron ties), Wald CI and P.")
        return t

    return TLG(f"tte-{paramcd.lower()}", title, ard, population_label(pop_flag), ("adtte", "adsl"), "table", build)


def _events_row(t, km_rows, arm, levels, csr, rules):
    cells = {}
    for g in levels:
        sub = km_rows[(km_rows["group1_level"] == g) & km_rows["stat_name"].isin(["n_event", "p"])]
        cells[str(g)] = cell(sub, "{n_event} ({p}%)" if csr else "{n_event} ({p})", rules=rules)
    return t.add_row("Events, n (%)" if csr else "Events, No. (%)", cells, ard=km_rows)


def _quartile_rows(km_rows: pd.DataFrame) -> pd.DataFrame:
    return km_rows[km_rows["stat_name"].isin(["q1", "q3"])]


def km_figure(adtte: pd.DataFrame, adsl: pd.DataFrame, *, paramcd: Optional[str] = None,
              time: str = "AVAL", cnsr: str = "CNSR", reference: Any = None, conf_type: str = "log-log",
              times: Optional[Sequence[float]] = None, ylabel: Optional[str] = None,
              arm: str = "TRT01A", pop_flag: Optional[str] = "SAFFL", id: str = "USUBJID",
              arms: Optional[Sequence[Any]] = None, layout: str = "jama",
              title: Optional[str] = None) -> TLG:
    """Kaplan-Meier curves by arm with pointwise CIs, censor marks, numbers at risk at ``times``
    (default: round steps, :func:`risk_times`) and the Cox HR of the second arm vs the reference
    when there are two arms (NEST KMG01)."""
    pop, d, paramcd, plabel, levels, unit = _analysis_data(adtte, adsl, paramcd, arm, pop_flag, id,
                                                           time, cnsr, arms)
    reference = levels[0] if reference is None else reference
    km = KaplanMeier(conf_type=conf_type).fit(d, time, EVENT, by=arm, levels=levels)
    times = list(times) if times is not None else risk_times(float(d[time].max()))
    steps = sorted(km.table_["time"].unique().tolist())
    surv = km.survival_at_ard(steps)
    last = {g: km.table_.loc[km.table_["group"] == g, "time"].max() for g in km.groups_}
    own = {g: set(km.table_.loc[km.table_["group"] == g, "time"].astype(float)) for g in km.groups_}
    keep = [float(t) <= last[g] and float(t) in own[g] for g, t in zip(surv["group1_level"], surv["variable_level"])]
    surv = surv[keep]
    surv = surv[surv["stat_name"].isin(["estimate", "conf.low", "conf.high"])].copy()
    surv["fmt"] = "d3"
    code = code_ref(KaplanMeier.fit)
    cens = [ard_rows({"n_censor": int(r.n_censor)}, variable=time, variable_level=float(r.time),
                     group1=arm, group1_level=r.group, context="km_surv",
                     method="Number censored at the time (censor marks)", code=code)
            for r in km.table_.itertuples() if r.n_censor > 0]
    risk = km.at_risk_ard(times)
    parts = [surv, *cens, risk[risk["stat_name"] == "n_risk"]]
    hr = len(levels) == 2
    if hr:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cox = CoxPH().fit(d.assign(**{arm: d[arm].astype(str)}), time, EVENT, treatment=arm,
                                  reference=reference).to_ard()
            parts.append(cox[(cox["group1"] == arm) & cox["stat_name"].isin(["estimate", "conf.low", "conf.high"])])
        except Exception:
            hr = False
    ard = bind_ard(*parts)
    title = title or f"Kaplan-Meier Estimates: {plabel}"
    xmax = max([float(d[time].max()), *times]) * 1.02
    ylabel = ylabel or "Probability without event"

    def build(placed, rules):
        import matplotlib.pyplot as plt

        from trialsupp.display.figures import km_plot
        from trialsupp.display.theme import house_theme

        hr_rows = placed[placed["context"] == "cox"] if hr else None
        with house_theme("full"):
            fig, ax = plt.subplots(figsize=(6.5, 4.2))
            km_plot(placed, ax=ax, groups=levels, ci=True, censor=True, risk_table=True, times=times,
                    rules=rules, hr=hr_rows if hr and len(hr_rows) else None,
                    xlabel=f"Time ({unit})", ylabel=ylabel, xmax=xmax,
                    legend_loc="best")
        return fig

    return TLG(f"km-{paramcd.lower()}", title, ard, population_label(pop_flag), ("adtte", "adsl"), "figure", build)
