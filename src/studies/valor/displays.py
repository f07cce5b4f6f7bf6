"""Tables and figures of the VALOR long-term supplement frame, built from PLACED ARD rows
only (``trialsupp.display``); nothing is computed here. Used by the notebooks in
``notebooks/valor/``.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.transforms import ScaledTranslation

from trialsupp.display import Table, at_column, at_row, at_spanner, cell, select
from trialsupp.display._table_data import Cell, Stat
from trialsupp.display.table import header_cell

from ._common import GROUP_LABELS, START_GROUPS
from .consort import ARMS, EXITS, NODE_LABELS, STAGES
from .safety import EVER_TOF, OVERVIEW, VALOR_ARMS

__all__ = ["baseline_table", "tte_table", "safety_overview_table", "ae_table", "dictionary_table",
           "consort_figure", "km_figure", "fmt_of"]

ABBREV = {
    "ALS": "amyotrophic lateral sclerosis",
    "ALSFRS-R": "ALS Functional Rating Scale–Revised",
    "CSF": "cerebrospinal fluid", "HHD": "handheld dynamometry", "IQR": "interquartile range",
    "NfL": "neurofilament light chain", "SOD1": "superoxide dismutase 1", "SVC": "slow vital capacity",
}
GROUP_NOTE = ("Early start: randomized to tofersen in VALOR. Placebo / delayed start: randomized to placebo "
              "in VALOR and switched to tofersen on entering the open-label extension.")


def fmt_of(placed: pd.DataFrame, stat_name: str, **where: Any) -> str:
    """The formatted text (``stat_fmt``) of exactly one placed row (for plain-text notes)."""
    hit = select(placed, stat_name=stat_name, **where)
    if len(hit) != 1:
        raise KeyError(f"expected one placed row {stat_name!r} {where}, found {len(hit)}")
    return str(hit["stat_fmt"].iloc[0])


NOT_REACHED = ("median not reached during follow-up (the Kaplan-Meier estimate or its confidence limit "
               "never fell to one half)")


def _reword(c: Cell, reason: str) -> Cell:
    """The same cell (text, ARD ids) with every NE reason replaced by one reader-facing reason."""
    parts = tuple(Stat(p.text, p.ids, (reason,) if p.ne_reasons else ()) if isinstance(p, Stat) else p
                  for p in c.parts)
    return Cell(parts)


def _header(rows: pd.DataFrame, name: str, template: str = "{name}\n(n = {n})"):
    return header_cell(rows, template, plain={"name": name})


# ---------------------------------------------------------------- baseline
def baseline_table(placed: pd.DataFrame, groups: Sequence[str] = START_GROUPS,
                   labels: Mapping[str, str] = GROUP_LABELS,
                   subgroups: Sequence[str] = ("Faster progression", "Slower progression"),
                   title: str = "Baseline Characteristics of the Participants by Randomized Group") -> Table:
    t = Table(title, label="tbl-baseline", stub_header="Characteristic", font_size=7.5, stub_width="24%")
    blocks = [(sg, sg) for sg in subgroups] + [(None, "All participants")]
    for sg, span in blocks:
        keys = []
        for g in groups:
            key = f"{span}|{g}"
            n_rows = select(placed, variable="STARTGR", variable_level=g, group2_level=sg, stat_name="n")
            t = t.add_column(key, _header(n_rows, labels.get(g, g)),
                             where={"group1_level": g, "group2_level": sg})
            keys.append(key)
        if sg is None:
            n_rows = select(placed, variable="STARTGR", variable_level="Total", group2_level=None, stat_name="n")
            t = t.add_column(f"{span}|Total", _header(n_rows, "Total"),
                             where={"group1_level": "Total", "group2_level": None})
            keys.append(f"{span}|Total")
        t = t.spanner(span, keys)
    t = (t.add_stat_row("Age, mean (SD), y", placed, "{mean} ({sd})", variable="AGE")
          .add_stat_row("Male, No. (%)", placed, "{n} ({p})", variable="SEX", variable_level="Male")
          .add_categorical(placed, "RACE", "Race, No. (%)",
                           levels={"WHITE": "White", "ASIAN": "Asian",
                                   "BLACK OR AFRICAN AMERICAN": "Black or African American",
                                   "OTHER": "Other", "NOT REPORTED": "Not reported"})
          .add_stat_row("Hispanic or Latino ethnicity, No. (%)", placed, "{n} ({p})", variable="ETHNIC",
                        variable_level="HISPANIC OR LATINO")
          .add_categorical(placed, "REGION", "Region, No. (%)",
                           levels={"North America": "North America", "Europe": "Europe", "Asia": "Asia"})
          .add_stat_row("Time since symptom onset, median (IQR), mo", placed, "{median} ({iqr})",
                        variable="ONSETMO")
          .add_stat_row("ALSFRS-R total score, mean (SD)", placed, "{mean} ({sd})", variable="BLALSFRS")
          .add_stat_row("SVC, mean (SD), % of predicted", placed, "{mean} ({sd})", variable="BLSVC")
          .add_stat_row("HHD megascore, mean (SD)", placed, "{mean} ({sd})", variable="BLHHD")
          .add_stat_row("Plasma NfL, geometric mean (95% CI), pg/mL", placed, "{geomean} ({ci})",
                        variable="NFLBL", context="geomean")
          .add_stat_row("CSF SOD1, geometric mean (95% CI), ng/mL", placed, "{geomean} ({ci})",
                        variable="BLSOD1", context="geomean")
          .add_stat_row("SOD1 p.Ala5Val variant, No. (%)", placed, "{n} ({p})", variable="A5VFL",
                        variable_level="Y")
          .add_stat_row("Riluzole use, No. (%)", placed, "{n} ({p})", variable="RILUFL", variable_level="Y")
          .add_stat_row("Edaravone use, No. (%)", placed, "{n} ({p})", variable="EDARAFL", variable_level="Y"))
    t = (t.footnote(GROUP_NOTE)
          .footnote("Prespecified progression subgroups of VALOR; faster progression was the primary "
                    "analysis population of VALOR.", at_spanner(subgroups[0]))
          .footnote("Race and ethnicity as recorded in the (simulated) data set in fixed categories; "
                    "reported to describe the study population.", at_row("Race, No. (%)"))
          .footnote("Time from ALS symptom onset to randomization.",
                    at_row("Time since symptom onset, median (IQR), mo"))
          .footnote("Scores range from 0 to 48; higher scores indicate better function.",
                    at_row("ALSFRS-R total score, mean (SD)"))
          .footnote("Average of muscle-strength z scores; higher scores indicate greater strength.",
                    at_row("HHD megascore, mean (SD)"))
          .abbreviations({k: ABBREV[k] for k in ("ALS", "ALSFRS-R", "CSF", "HHD", "IQR", "NfL", "SOD1", "SVC")}))
    return t


# ---------------------------------------------------------------- time to event
def tte_table(placed: pd.DataFrame, analyses: Sequence[tuple[str, str, str, str]],
              tau_rows: pd.DataFrame, groups: Sequence[str] = START_GROUPS,
              labels: Mapping[str, str] = GROUP_LABELS,
              title: str = "Time to Death or Permanent Ventilation and to Death, Early Start vs "
                           "Placebo / Delayed Start") -> Table:
    """``analyses``: (analysis_id, population heading, end point label, paramcd) in display order."""
    delayed, early = groups
    t = Table(title, label="tbl-tte", stub_header="Population and end point", font_size=7.5, stub_width="19%")
    for g in groups:
        t = (t.add_column(f"{g}|events", "Events/total, No.")
              .add_column(f"{g}|median", "Median (95% CI), wk")
              .spanner(labels.get(g, g), [f"{g}|events", f"{g}|median"]))
    t = t.add_column("hr", "HR (95% CI)")
    t = t.add_column("hrp", "P value")
    t = t.add_column("rmst", header_cell(tau_rows, "RMST difference to week {tau}\n(95% CI), wk"))
    current = None
    for aid, pop, ep, _ in analyses:
        if pop != current:
            t = t.add_group(pop)
            current = pop
        a = select(placed, analysis_id=aid)
        cells = {}
        for g in groups:
            cells[f"{g}|events"] = cell(a, "{n_event}/{n}", context="km", group1_level=g, variable_level=None)
            cells[f"{g}|median"] = _reword(cell(a, "{median} ({ci})", context="km", group1_level=g,
                                                variable_level="median"), NOT_REACHED)
        cells["hr"] = cell(a, "{estimate} ({ci})", context="cox", group1="STARTGR")
        cells["hrp"] = cell(a, "{p.value}", context="cox", group1="STARTGR")
        cells["rmst"] = cell(a, "{estimate} ({ci})", context="rmst", variable_level="difference")
        t = t.add_row(ep, cells, indent=1, ard=a)
    t = (t.footnote(GROUP_NOTE)
          .footnote("Time from randomization; participants without the event were censored at the date "
                    "last known alive (or at the data cut).", "stub")
          .footnote("Kaplan-Meier estimate; 95% CI by the Brookmeyer-Crowley method (log-log transformation).",
                    at_column(f"{delayed}|median"))
          .footnote("Cox proportional hazards model with start group as the only covariate (Efron ties); "
                    "HR below 1 favors early start.", at_column("hr"))
          .footnote("Wald test of the HR in the same row (nominal, not adjusted for multiplicity).",
                    at_column("hrp"))
          .footnote("Restricted mean survival time (area under the Kaplan-Meier curve) of early start minus "
                    "placebo / delayed start, up to the shortest of the groups' longest follow-up: the mean "
                    "event-free time gained by starting tofersen earlier.", at_column("rmst"))
          .abbreviations({"HR": "hazard ratio", "RMST": "restricted mean survival time"}))
    return t


# ---------------------------------------------------------------- exposure and listing
def exposure_table(placed: pd.DataFrame, title: str = "Exposure to Study Drug (Intrathecal Doses)") -> Table:
    groups = ("Placebo", "Tofersen 100 mg", "TOFERSEN_ANY")
    labels = {"Placebo": "Placebo", "Tofersen 100 mg": "Tofersen 100 mg",
              "TOFERSEN_ANY": "Ever treated with tofersen,\nVALOR and OLE"}
    t = Table(title, label="tbl-exposure", stub_header="Exposure")
    for g in groups:
        n = select(placed, variable="NDOSE", group1_level=g, stat_name="N")
        t = t.add_column(g, header_cell(n, labels[g] + "\n(n = {N})"))
    t = t.spanner("VALOR (randomized period)", list(groups[:2]))
    for var, label in (("NDOSE", "Doses per participant"), ("SPANWK", "First to last dose, wk")):
        t = t.add_heading(label)
        for tmpl, lab in (("{mean} ({sd})", "Mean (SD)"), ("{median} ({min}-{max})", "Median (range)")):
            t = t.add_row(lab, {g: cell(placed, tmpl, variable=var, group1_level=g) for g in groups}, indent=1,
                          ard=select(placed, variable=var))
    t = t.add_row("Participant-years of exposure",
                  {g: cell(placed, "{sum}", variable="EXPYR", group1_level=g) for g in groups},
                  ard=select(placed, variable="EXPYR"))
    eair = select(placed, variable="EAIR")
    if len(eair):
        from .safety import EAIR_ROWS
        t = t.add_heading("Events per 100 participant-years (No. of events)")
        for key, lab in EAIR_ROWS.items():
            t = t.add_row(lab, {g: cell(eair, "{rate} ({n_events})", variable_level=key, group1_level=g)
                                for g in groups}, indent=1, ard=select(eair, variable_level=key))
        t = t.footnote("Exposure-adjusted event rates: adverse events (every event, not participants) of the "
                       "column's period divided by its participant-years of exposure, times 100.",
                       at_row("Events per 100 participant-years (No. of events)"))
    return (t.footnote("VALOR columns: doses of the randomized period; last column: every tofersen dose in VALOR "
                       "or the open-label extension.")
             .footnote("From the first dose to the last dose plus one dosing interval of 4 weeks.",
                       at_row("Participant-years of exposure"))
             .abbreviations({"OLE": "open-label extension"}))


def deaths_sae_listing_table(placed: pd.DataFrame, title: str = "Listing of Deaths and Serious Adverse Events"
                             ) -> Table:
    t = (Table(title, label="tbl-listing", stub_header="Randomized group", font_size=7.0, stub_width="11%")
         .add_column("uid", "Participant")
         .add_column("agesex", "Age, y/sex")
         .add_column("sae", "Serious adverse events (study day of onset, period)")
         .add_column("death", "Study day of death"))
    for uid in dict.fromkeys(placed["variable_level"]):
        r = select(placed, variable_level=uid)
        dead = (r["stat_name"] == "death.day").any()
        cells = {"uid": cell(r, "{id}"), "agesex": cell(r, "{age}/{sex}"), "sae": cell(r, "{sae}")}
        if dead:
            cells["death"] = cell(r, "{death.day}")
        group = str(r.loc[r["stat_name"] == "group", "stat"].iloc[0])
        t = t.add_row("Tofersen" if group.startswith("Tofersen") else group, cells, ard=r)
    return (t.footnote("Study days from randomization (day 1). Periods: VALOR (randomized, double-blind) and OLE "
                       "(open-label extension, all participants on tofersen).")
             .footnote("Simulated data shaped like the VALOR trial; not the trial's data.")
             .abbreviations({"OLE": "open-label extension"}))


# ---------------------------------------------------------------- safety
def _safety_columns(t: Table, placed: pd.DataFrame, arms: Sequence[str] = VALOR_ARMS,
                    ever_label: str = "Ever treated with tofersen,\nVALOR and OLE") -> Table:
    for arm in arms:
        n = select(placed, variable="POPULATION", group1_level=arm, stat_name="n")
        t = t.add_column(arm, _header(n, arm), where={"group1_level": arm})
    t = t.spanner("VALOR (randomized period)", list(arms))
    n = select(placed, variable="POPULATION", group1_level=EVER_TOF, stat_name="n")
    return t.add_column(EVER_TOF, _header(n, ever_label), where={"group1_level": EVER_TOF})


def safety_overview_table(placed: pd.DataFrame,
                          title: str = "Overview of Adverse Events in VALOR and in All Tofersen-Treated "
                                       "Participants") -> Table:
    t = _safety_columns(Table(title, label="tbl-safety-overview", stub_header="Participants with event, No. (%)"),
                        placed)
    for key, (label, *_) in OVERVIEW.items():
        t = t.add_stat_row(label, placed, "{n} ({p})", variable="OVERVIEW", variable_level=key)
    return (t.footnote("VALOR columns: adverse events that started during the randomized period, by randomized "
                       "group. Ever treated with tofersen: adverse events that started while on tofersen in "
                       "VALOR or in the open-label extension.", at_spanner("VALOR (randomized period)"))
             .footnote("Participants with at least 1 event are counted once per row.")
             .footnote("Action taken with study drug: drug withdrawn.",
                       at_row("Adverse event leading to discontinuation of study drug"))
             .footnote("Serious adverse events in the customized query of serious neurological events "
                       "(myelitis, radiculitis, aseptic or chemical meningitis, papilledema).",
                       at_row("Serious neurological event"))
             .abbreviations({"OLE": "open-label extension"}))


def ae_table(placed: pd.DataFrame, rule: pd.DataFrame,
             title: str = "Adverse Events by System Organ Class and Preferred Term") -> Table:
    """``rule``: the placed row of the display threshold (its value is bound in the footnote)."""
    t = _safety_columns(Table(title, label="tbl-ae", stub_header="System organ class\n  Preferred term"), placed)
    t = t.add_hierarchical(placed, "AEBODSYS", "AEDECOD", sort="descending", sort_column=EVER_TOF,
                           overall=("Any adverse event", {"variable": "ANY_AE"}))
    return (t.footnote("Preferred terms reported by {threshold}% or more of the participants in any column "
                       "(MedDRA-style terms); a system organ class row counts participants with any adverse "
                       "event in the class, including terms not shown. Participants are counted once per row.",
                       ard=rule)
             .footnote("VALOR columns: adverse events that started during the randomized period. Ever treated "
                       "with tofersen: adverse events that started on tofersen in VALOR or the open-label "
                       "extension.", at_spanner("VALOR (randomized period)"))
             .abbreviations({"CSF": "cerebrospinal fluid", "OLE": "open-label extension"}))


# ---------------------------------------------------------------- data dictionary
def dictionary_table(placed: pd.DataFrame, title: str = "Data Dictionary of the Analysis Data Sets") -> Table:
    t = Table(title, label="tbl-dictionary", stub_header="Data set", stub_width="22%", font_size=8)
    t = t.add_column("value", "Description", align="left")
    for ds in dict.fromkeys(placed["variable"]):
        d = select(placed, variable=ds)
        t = t.add_group(f"{ds}: " + fmt_of(d, "label"))
        for lab, tpl in (("Structure", "{structure}"), ("Key variables", "{keys}"),
                         ("Records, No.", "{records}"), ("Variables, No.", "{n_variables}"),
                         ("Variables", "{variables}")):
            t = t.add_row(lab, {"value": cell(d, tpl)}, indent=1, ard=d)
    return (t.footnote("ADaM-style data sets generated by the study simulator (simulated data, not the trial's "
                       "data); variable labels, types and code lists are in define.json beside the data. Record "
                       "counts are those of the data files before any data cut.")
              .abbreviations({"ADaM": "Analysis Data Model"}))


# ---------------------------------------------------------------- figures
def consort_figure(placed: pd.DataFrame):
    from trialsupp.display.figures import consort_diagram
    from trialsupp.display.theme import house_theme
    from trialsupp.display.theme import FULL_PAGE
    kw = dict(arms=list(ARMS), arm_labels={"Placebo": "placebo (delayed start)",
                                           "Tofersen 100 mg": "tofersen (early start)"},
              labels=NODE_LABELS, stages=STAGES, exits=EXITS, font_size=7.0, width=FULL_PAGE)
    with house_theme("full"):
        # consort_diagram lays boxes out in inches; draw once to learn the height, then again on
        # axes that fill a figure of exactly that size (1 data unit = 1 inch, so text fits its boxes)
        probe = consort_diagram(placed, **kw)
        lo, hi = probe.get_ylim()
        plt.close(probe.figure)
        fig = plt.figure(figsize=(FULL_PAGE, abs(hi - lo)))
        ax = fig.add_axes([0, 0, 1, 1])
        consort_diagram(placed, ax=ax, **kw)
    return fig


def km_figure(panels: Sequence[tuple[str, pd.DataFrame, pd.DataFrame, Sequence[float], str]],
              groups: Sequence[str] = START_GROUPS, labels: Mapping[str, str] = GROUP_LABELS,
              xmax: Optional[float] = None):
    """``panels``: (title, curve/at-risk rows, HR rows, at-risk times, y label) per panel."""
    from trialsupp.display.figures import km_plot
    from trialsupp.display.theme import FULL_PAGE, house_theme
    with house_theme("full"):
        fig, axes = plt.subplots(len(panels), 1, figsize=(FULL_PAGE * 0.78, 3.1 * len(panels)))
        axes = [axes] if len(panels) == 1 else list(axes)
        for ax, (title, rows, hr, times, ylab) in zip(axes, panels):
            km_plot(rows, ax, groups=list(groups), labels=dict(labels), hr=hr, times=list(times),
                    xlabel="Weeks since randomization", ylabel=ylab, legend_loc="outside",
                    hr_pos=(0.97, 0.05), xmax=xmax, ci=False)
            ax.set_title(title, loc="left", fontweight="bold")
            ax.set_yticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])      # km_plot's ".1f" labels on 0.25 ticks mislead
            names = set(labels.get(g, g) for g in groups) | {"No. at risk"}
            for txt in ax.texts:
                if txt.get_text().startswith("HR"):          # HR annotation at bottom right
                    txt.set_ha("right")
                elif txt.get_text() in names:                 # at-risk row labels clear of the 0 column
                    txt.set_transform(txt.get_transform() + ScaledTranslation(-0.12, 0, fig.dpi_scale_trans))
        fig.subplots_adjust(hspace=0.95, left=0.3, right=0.97, top=0.95, bottom=0.17)
    return fig
