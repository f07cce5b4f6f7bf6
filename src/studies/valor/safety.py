"""Adverse events: overview and AEs by system organ class / preferred term.

Two populations (columns), both safety populations of ADSL:
* VALOR by randomized arm (``TRT01P``): AEs of the VALOR period (ADAE APERIOD = 1);
* everyone ever treated with tofersen (ADSL TOFFL = Y), VALOR and OLE: AEs that
  started on tofersen (ADAE TRTA = the tofersen arm label).

Counts are participants (``ard_tabulate`` of a per-participant flag; header N from
the population). Column variable ``group1 = "GROUP"`` with levels
``Placebo`` / ``Tofersen 100 mg`` (VALOR) and ``TOFERSEN_ANY`` (ever treated).
SOC/PT rows follow ``Table.add_hierarchical``: SOC rows ``variable == "AEBODSYS"``;
PT rows ``variable == "AEDECOD"`` with ``group2 = "AEBODSYS"`` / its SOC.
"""
from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from trialsupp.ard.schema import ard_rows, bind_ard

from trialsupp.stats.descriptive import ard_tabulate

from ._common import flag_ard, tag

__all__ = ["GROUP", "EVER_TOF", "VALOR_ARMS", "OVERVIEW", "populations", "overview_ard", "soc_pt_ard",
           "frequent_terms", "keep_terms", "ae_table_ard"]

GROUP = "GROUP"
EVER_TOF = "TOFERSEN_ANY"
VALOR_ARMS = ("Placebo", "Tofersen 100 mg")
NEURO = "SERIOUS NEUROLOGICAL EVENTS"
#: overview row key -> (label, AE selection)
OVERVIEW = {
    "any": ("Any adverse event", lambda ae: ae),
    "serious": ("Serious adverse event", lambda ae: ae[ae["AESER"] == "Y"]),
    "related": ("Adverse event related to study drug", lambda ae: ae[ae["AEREL"] == "RELATED"]),
    "severe": ("Severe adverse event", lambda ae: ae[ae["AESEV"] == "SEVERE"]),
    "discontinued": ("Adverse event leading to discontinuation of study drug",
                     lambda ae: ae[ae["AEACN"] == "DRUG WITHDRAWN"]),
    "fatal": ("Adverse event with fatal outcome (death)", lambda ae: ae[ae["AESDTH"] == "Y"]),
    "neuro": ("Serious neurological event", lambda ae: ae[ae["CQ01NAM"] == NEURO]),
}


def populations(adsl: pd.DataFrame, adae: pd.DataFrame, tof_label: str = VALOR_ARMS[1],
                arms: Sequence[str] = VALOR_ARMS) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """{"valor": (participants, AEs), "ever": (participants, AEs)} with a ``GROUP`` column."""
    saf = adsl[adsl["SAFFL"] == "Y"]
    valor_p = saf.assign(**{GROUP: pd.Categorical(saf["TRT01P"], categories=list(arms))})
    valor_ae = adae[(adae["APERIOD"] == 1) & adae["USUBJID"].isin(valor_p["USUBJID"])]
    valor_ae = valor_ae.assign(**{GROUP: valor_ae["TRT01P"]})
    ever = saf[saf["TOFFL"] == "Y"]
    ever_p = ever.assign(**{GROUP: pd.Categorical([EVER_TOF] * len(ever), categories=[EVER_TOF])})
    ever_ae = adae[(adae["TRTA"] == tof_label) & adae["USUBJID"].isin(ever_p["USUBJID"])]
    ever_ae = ever_ae.assign(**{GROUP: EVER_TOF})
    return {"valor": (valor_p, valor_ae), "ever": (ever_p, ever_ae)}


def _flag(people: pd.DataFrame, ae: pd.DataFrame, variable: str, level: Any = None, **tags) -> pd.DataFrame:
    levels = list(people[GROUP].cat.categories)
    return flag_ard(people, people["USUBJID"].isin(set(ae["USUBJID"])), by=GROUP, levels=levels,
                    variable=variable, variable_level=level, context="ae", **tags)


def overview_ard(adsl: pd.DataFrame, adae: pd.DataFrame, **kw) -> pd.DataFrame:
    """Participants with >= 1 AE of each overview kind (``variable = "OVERVIEW"``, level = key)."""
    parts = []
    for people, ae in populations(adsl, adae, **kw).values():
        parts.append(flag_ard(people, pd.Series(True, index=people.index), by=GROUP,
                              levels=list(people[GROUP].cat.categories), variable="POPULATION",
                              statistic=("n",), context="ae"))
        for key, (_, pick) in OVERVIEW.items():
            parts.append(_flag(people, pick(ae), "OVERVIEW", key))
    return bind_ard(*parts)


def frequent_terms(ard: pd.DataFrame, threshold: float = 0.10) -> list[tuple[str, str]]:
    """(SOC, PT) pairs whose proportion (``p`` rows of :func:`soc_pt_ard`) is >= ``threshold``
    in any column. Selection only."""
    pt = ard[(ard["variable"] == "AEDECOD") & (ard["stat_name"] == "p")]
    keep = pt[[s is not None and s >= threshold for s in pt["stat"]]]
    return sorted({(s, t) for s, t in zip(keep["group2_level"], keep["variable_level"])})


def keep_terms(ard: pd.DataFrame, terms: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The rows of :func:`soc_pt_ard` for ``terms`` (their SOCs, PTs, any-AE and N rows)."""
    terms = set(terms)
    socs = {s for s, _ in terms}
    is_pt = ard["variable"] == "AEDECOD"
    is_soc = ard["variable"] == "AEBODSYS"
    keep = ~is_pt & ~is_soc
    keep |= is_soc & ard["variable_level"].isin(socs)
    keep |= is_pt & pd.Series([(s, t) in terms for s, t in zip(ard["group2_level"], ard["variable_level"])],
                              index=ard.index)
    return ard[keep].reset_index(drop=True)


def _tabulate(people: pd.DataFrame, ae: pd.DataFrame, var: str, categories: Sequence[str]) -> pd.DataFrame:
    """Participants with >= 1 AE per level of ``var`` (all ``categories``, zeros included)."""
    groups = list(people[GROUP].cat.categories)
    if not len(ae):
        return bind_ard(*[_flag(people, ae, var, c) for c in categories])
    d = ae.assign(**{var: pd.Categorical(ae[var], categories=list(categories)),
                     GROUP: pd.Categorical(ae[GROUP], categories=groups)})
    out = ard_tabulate(d, var, by=GROUP, denominator=people, id="USUBJID")
    return tag(out, context="ae")


def soc_pt_ard(adsl: pd.DataFrame, adae: pd.DataFrame, **kw) -> pd.DataFrame:
    """Participants with >= 1 AE: any AE, per SOC and per PT (``group2`` = its SOC), per column.

    SOC rows count every AE of the SOC (also terms not shown after :func:`keep_terms`).
    """
    pt_soc = dict(zip(adae["AEDECOD"], adae["AEBODSYS"]))
    socs = sorted(set(pt_soc.values()), key=str.casefold)
    pts = sorted(pt_soc, key=str.casefold)
    parts = []
    for people, ae in populations(adsl, adae, **kw).values():
        parts.append(flag_ard(people, pd.Series(True, index=people.index), by=GROUP,
                              levels=list(people[GROUP].cat.categories), variable="POPULATION",
                              statistic=("n",), context="ae"))
        parts.append(_flag(people, ae, "ANY_AE"))
        parts.append(_tabulate(people, ae, "AEBODSYS", socs))
        pt = _tabulate(people, ae, "AEDECOD", pts)
        pt["group2"] = "AEBODSYS"
        pt["group2_level"] = [pt_soc[t] for t in pt["variable_level"]]
        parts.append(pt)
    return bind_ard(*parts)


def ae_table_ard(adsl: pd.DataFrame, adae: pd.DataFrame, threshold: float = 0.10, **kw) -> pd.DataFrame:
    """SOC/PT rows of the terms reported by >= ``threshold`` of any column (and their SOCs)."""
    full = soc_pt_ard(adsl, adae, **kw)
    return keep_terms(full, frequent_terms(full, threshold))


# ---------------------------------------------------------------- exposure (ADEX) and listings
EXPOSURE_GROUPS = ("Placebo", "Tofersen 100 mg", EVER_TOF)
DOSING_INTERVAL_DAYS = 28      # a maintenance dose covers 4 weeks: exposure runs to last dose + 28 days


def exposure_frame(adsl: pd.DataFrame, adex: pd.DataFrame, tof_label: str = VALOR_ARMS[1]) -> pd.DataFrame:
    """One row per participant and exposure group: doses, time from first to last dose (weeks)
    and exposure (years, first dose to last dose + one dosing interval). Groups: VALOR by
    randomized arm (period 1 doses), and every tofersen dose in VALOR or the OLE."""
    saf = adsl.loc[adsl["SAFFL"] == "Y", ["USUBJID", "TRT01P"]]
    ex = adex.drop(columns=[c for c in ("TRT01P",) if c in adex.columns]).merge(saf, on="USUBJID")
    ex = ex.assign(ASTDT=pd.to_datetime(ex["ASTDT"]))
    parts = [ex[ex["APERIOD"] == 1].assign(**{GROUP: ex["TRT01P"]}),
             ex[ex["TRTA"] == tof_label].assign(**{GROUP: EVER_TOF})]
    rows = []
    for part in parts:
        for (uid, grp), d in part.groupby(["USUBJID", GROUP], observed=True):
            span = (d["ASTDT"].max() - d["ASTDT"].min()).days
            rows.append({"USUBJID": uid, GROUP: grp, "NDOSE": float(len(d)), "SPANWK": span / 7.0,
                         "EXPYR": (span + DOSING_INTERVAL_DAYS) / 365.25})
    out = pd.DataFrame(rows)
    out[GROUP] = pd.Categorical(out[GROUP], categories=list(EXPOSURE_GROUPS))
    return out


def exposure_ard(adsl: pd.DataFrame, adex: pd.DataFrame) -> pd.DataFrame:
    """Doses per participant and weeks from first to last dose (N, mean, SD, median, min, max)
    and total participant-years of exposure, per exposure group."""
    from trialsupp.stats.descriptive import ard_summary
    f = exposure_frame(adsl, adex)
    stats = ("N", "mean", "sd", "median", "min", "max")
    doses = ard_summary(f, "NDOSE", by=GROUP, statistic=stats,
                        fmt={"N": "int", "mean": "d1", "sd": "d1", "median": "d0", "min": "d0", "max": "d0"})
    span = ard_summary(f, "SPANWK", by=GROUP, statistic=stats,
                       fmt={"N": "int", "mean": "d0", "sd": "d0", "median": "d0", "min": "d0", "max": "d0"})
    years = [ard_rows({"sum": float(f.loc[f[GROUP] == g, "EXPYR"].sum())}, variable="EXPYR", group1=GROUP,
                      group1_level=g, context="exposure", method="Sum of (last dose - first dose + 28 days) / 365.25",
                      fmt={"sum": "d1"}) for g in EXPOSURE_GROUPS]
    return bind_ard(doses, span, *years)


#: exposure-adjusted rows: key -> label (AE selection from OVERVIEW)
EAIR_ROWS = {"any": "Any adverse event", "serious": "Serious adverse event",
             "related": "Adverse event related to study drug", "neuro": "Serious neurological event"}


def eair_ard(adsl: pd.DataFrame, adae: pd.DataFrame, adex: pd.DataFrame) -> pd.DataFrame:
    """Exposure-adjusted event rates per exposure group: adverse events (records, not
    participants) per 100 participant-years of exposure (``exposure_frame``), context ``eair``,
    variable ``EAIR``, variable_level = the ``EAIR_ROWS`` key; stats ``n_events``, ``rate``."""
    f = exposure_frame(adsl, adex)
    pops = populations(adsl, adae)
    ae_by_group = {g: ae[ae[GROUP] == g] for _, ae in pops.values() for g in ae[GROUP].unique()}
    parts = []
    for g in EXPOSURE_GROUPS:
        years = float(f.loc[f[GROUP] == g, "EXPYR"].sum())
        ae = ae_by_group.get(g, adae.iloc[0:0])
        for key in EAIR_ROWS:
            n = int(len(OVERVIEW[key][1](ae)))
            parts.append(ard_rows({"n_events": n, "rate": 100.0 * n / years if years else None},
                                  variable="EAIR", variable_level=key, group1=GROUP, group1_level=g, context="eair",
                                  method="Events / participant-years of exposure x 100",
                                  fmt={"n_events": "int", "rate": "d1"},
                                  error=None if years else "no exposure"))
    return bind_ard(*parts)


def deaths_sae_listing(adsl: pd.DataFrame, adae: pd.DataFrame) -> pd.DataFrame:
    """Listing rows (one per participant with a death or a serious AE): participant, randomized
    group, age/sex, serious AE preferred terms with study day of onset and period, and the
    study day of death. Study days from randomization."""
    saf = adsl[adsl["SAFFL"] == "Y"]
    sae = adae[(adae["AESER"] == "Y") & adae["USUBJID"].isin(saf["USUBJID"])]
    who = sorted(set(sae["USUBJID"]) | set(saf.loc[saf["DTHFL"] == "Y", "USUBJID"]))
    rows = []
    for uid in who:
        p = saf[saf["USUBJID"] == uid].iloc[0]
        ev = sae[sae["USUBJID"] == uid].sort_values("ASTDY")
        terms = "; ".join(f"{t.title()} (day {int(dy)}, {per})" for t, dy, per in
                          zip(ev["AEDECOD"], ev["ASTDY"], ev["APERIODC"]))
        dday = None
        if p["DTHFL"] == "Y":
            dday = int((pd.to_datetime(p["DTHDT"]) - pd.to_datetime(p["RANDDT"])).days) + 1
        st = {"id": str(uid), "group": str(p["TRT01P"]), "age": int(p["AGE"]), "sex": str(p["SEX"]),
              "sae": terms or "None"}
        if dday is not None:
            st["death.day"] = dday
        rows.append(ard_rows(st,
                             variable="USUBJID", variable_level=uid, context="listing",
                             method="Listing of deaths and serious adverse events",
                             fmt={"id": "str", "group": "str", "age": "int", "sex": "str", "sae": "str",
                                  "death.day": "int"}))
    return bind_ard(*rows)
