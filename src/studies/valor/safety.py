"""Adverse events: overview and AEs by system organ class / preferred term.

Two populations (columns), both safety populations of ADSL:
* VALOR by randomized arm (``TRT01P``): AEs of the VALOR period (ADAE APERIOD = 1);
* everyone ever treated with tofersen (ADSL TOFFL = Y), VALOR and OLE: AEs that
  started on tofersen (ADAE TRTA = the tofersen arm label).

The counts are the standard outputs ``trialsupp.tlg.ae_overview`` and ``tlg.ae_by_soc_pt``
(participants counted once per row, header N from ADSL), called once per population; this
module selects the records and relabels the rows for the pooled table: column variable
``group1 = "GROUP"`` with levels ``Placebo`` / ``Tofersen 100 mg`` (VALOR) and
``TOFERSEN_ANY`` (ever treated); header sizes ``variable = "POPULATION"``; overview rows
``variable = "OVERVIEW"``, level = key of :data:`OVERVIEW`. SOC/PT rows follow
``Table.add_hierarchical``: SOC rows ``variable == "AEBODSYS"``; PT rows ``variable ==
"AEDECOD"`` with ``group2 = "AEBODSYS"`` / its SOC; any AE ``variable = "ANY_AE"``.
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from trialsupp import tlg
from trialsupp.ard.schema import ard_rows, bind_ard

__all__ = ["GROUP", "EVER_TOF", "VALOR_ARMS", "OVERVIEW", "populations", "overview_ard", "soc_pt_ard",
           "ae_table_ard"]

GROUP = "GROUP"
EVER_TOF = "TOFERSEN_ANY"
VALOR_ARMS = ("Placebo", "Tofersen 100 mg")
NEURO = "SERIOUS NEUROLOGICAL EVENTS"
#: overview row key -> (label, ADAE variables read, record selector), for ``tlg.ae_overview(define=...)``
OVERVIEW = {
    "any": ("Any adverse event", (), lambda ae: pd.Series(True, index=ae.index)),
    "serious": ("Serious adverse event", ("AESER",), lambda ae: ae["AESER"] == "Y"),
    "related": ("Adverse event related to study drug", ("AEREL",), lambda ae: ae["AEREL"] == "RELATED"),
    "severe": ("Severe adverse event", ("AESEV",), lambda ae: ae["AESEV"] == "SEVERE"),
    "discontinued": ("Adverse event leading to discontinuation of study drug", ("AEACN",),
                     lambda ae: ae["AEACN"] == "DRUG WITHDRAWN"),
    "fatal": ("Adverse event with fatal outcome (death)", ("AESDTH",), lambda ae: ae["AESDTH"] == "Y"),
    "neuro": ("Serious neurological event", ("CQ01NAM",), lambda ae: ae["CQ01NAM"] == NEURO),
}


def populations(adsl: pd.DataFrame, adae: pd.DataFrame, tof_label: str = VALOR_ARMS[1],
                arms: Sequence[str] = VALOR_ARMS) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, list[str]]]:
    """{"valor": (ADSL, ADAE, column levels), "ever": (...)}: the records each column reads,
    with the column in ``GROUP`` (ADSL; the standard outputs merge it into ADAE by USUBJID)."""
    saf = adsl[adsl["SAFFL"] == "Y"]
    valor_p = saf.assign(**{GROUP: saf["TRT01P"]})
    ever = saf[saf["TOFFL"] == "Y"]
    ever_p = ever.assign(**{GROUP: EVER_TOF})
    return {"valor": (valor_p, adae[adae["APERIOD"] == 1], list(arms)),
            "ever": (ever_p, adae[adae["TRTA"] == tof_label], [EVER_TOF])}


def _spine(levels: list[str]) -> dict:
    return dict(arm=GROUP, pop_flag="SAFFL", emergent=None, total=False, arms=levels)


def _relabel(ard: pd.DataFrame, variable: dict, level: dict | None = None) -> pd.DataFrame:
    """Pooled-table labels: header rows -> POPULATION, other ``variable`` renamed, levels mapped."""
    out = ard.copy()
    head = out["variable"] == GROUP
    out.loc[head, ["group1", "group1_level"]] = list(zip([GROUP] * head.sum(), out.loc[head, "variable_level"]))
    out.loc[head, "variable_level"] = None
    out["variable"] = out["variable"].replace({GROUP: "POPULATION", **variable})
    for var, mapping in (level or {}).items():
        hit = out["variable"] == var
        out.loc[hit, "variable_level"] = out.loc[hit, "variable_level"].map(mapping)
    out["context"] = "ae"
    return out.reset_index(drop=True)


def overview_ard(adsl: pd.DataFrame, adae: pd.DataFrame, **kw) -> pd.DataFrame:
    """Participants with >= 1 AE of each overview kind (``variable = "OVERVIEW"``, level = key)."""
    key_of = {label: key for key, (label, _, _) in OVERVIEW.items()}
    parts = []
    for people, ae, levels in populations(adsl, adae, **kw).values():
        std = tlg.ae_overview(ae, people, categories=list(OVERVIEW), define=OVERVIEW, **_spine(levels))
        parts.append(_relabel(std.ard, {"AECAT": "OVERVIEW"}, {"OVERVIEW": key_of}))
    return bind_ard(*parts)


def soc_pt_ard(adsl: pd.DataFrame, adae: pd.DataFrame, **kw) -> pd.DataFrame:
    """Participants with >= 1 AE: any AE, per SOC and per PT (``group2`` = its SOC), per column;
    every (SOC, PT) pair of ADAE in every column (zeros included)."""
    pairs = sorted(set(zip(adae["AEBODSYS"], adae["AEDECOD"])))
    parts = []
    for people, ae, levels in populations(adsl, adae, **kw).values():
        std = tlg.ae_by_soc_pt(ae, people, terms=pairs, **_spine(levels))
        parts.append(_relabel(std.ard, {"ANYAE": "ANY_AE"}, {"ANY_AE": {tlg.adverse.ANY_AE: None}}))
    return bind_ard(*parts)


def ae_table_ard(adsl: pd.DataFrame, adae: pd.DataFrame, threshold: float = 0.10, **kw) -> pd.DataFrame:
    """SOC/PT rows of the terms reported by >= ``threshold`` (proportion) of any column, and their
    SOCs (``tlg.filter_terms``; SOC rows count every term)."""
    return tlg.filter_terms(soc_pt_ard(adsl, adae, **kw), 100 * threshold, exclude=())


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
    ae_by_group = {}
    for people, ae, levels in populations(adsl, adae).values():
        ae = ae.drop(columns=[GROUP], errors="ignore").merge(people[["USUBJID", GROUP]], on="USUBJID")
        ae_by_group.update({g: ae[ae[GROUP] == g] for g in levels})
    parts = []
    for g in EXPOSURE_GROUPS:
        years = float(f.loc[f[GROUP] == g, "EXPYR"].sum())
        ae = ae_by_group.get(g, adae.iloc[0:0])
        for key in EAIR_ROWS:
            n = int(OVERVIEW[key][2](ae).sum()) if len(ae) else 0
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
