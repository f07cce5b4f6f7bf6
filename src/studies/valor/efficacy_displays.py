"""Layout of the simulated VALOR/OLE efficacy tables and figures from placed ARD rows.

Nothing is computed here: every number shown is the ``stat_fmt`` (text) or
``stat`` (position) of a placed ARD row.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from trialsupp.ard.fmt import JAMA, FormatRules
from trialsupp.display import figures as F
from trialsupp.display.table import Table, cell, fill, select
from trialsupp.display.theme import group_style
from trialsupp.display._table_data import Cell

from .common import ARM, ARM_LABELS, DELAYED, EARLY, ENDPOINTS, GROUP, GROUP_LABELS, PBO, TOF

EST_CI = "{estimate} ({ci})"
JOINT_RANK_ROW = "ALSFRS-R and death or permanent ventilation, joint rank test"
STUB = {
    "ALSFRST": "ALSFRS-R total score, points",
    "SVCPP": "SVC, % predicted",
    "HHDMS": "HHD megascore, z score",
    "ALSAQ40": "ALSAQ-40 total score, points",
    "SOD1": "CSF total SOD1 protein",
    "NFL": "Plasma NfL",
}
ABBR = {"ALSFRS-R": "ALS Functional Rating Scale–Revised", "ALS": "amyotrophic lateral sclerosis",
        "ALSAQ-40": "40-item ALS Assessment Questionnaire", "HHD": "handheld dynamometry",
        "LS": "least squares", "NE": "not estimable", "NfL": "neurofilament light chain",
        "SOD1": "superoxide dismutase 1", "SVC": "slow vital capacity", "CSF": "cerebrospinal fluid",
        "MMRM": "mixed model for repeated measures", "GMR": "geometric mean ratio"}


def _show_cells(ard: pd.DataFrame, keys: Sequence[str], templates: Sequence[str], rules: FormatRules,
                wheres: Sequence[Mapping]) -> dict[str, Cell]:
    return {k: cell(ard, t, rules=rules, **w) for k, t, w in zip(keys, templates, wheres)}


# ---------------------------------------------------------------- tables
def table_week28(placed: pd.DataFrame, rules: FormatRules = JAMA) -> Table:
    """eTable: week-28 outcomes in the faster-progression population (tofersen vs placebo)."""
    t = (Table("Change From Baseline to Week 28 in the Faster-Progression Population", label="tbl-week28",
               stub_header="Outcome", rules=rules)
         .columns_from(placed, by=ARM, levels=[PBO, TOF], labels=ARM_LABELS, header="{level}\n(n = {n})")
         .add_column("diff", "Difference or ratio\n(95% CI)")
         .add_column("p", "P value"))
    t = t.add_heading("Change from baseline, LS mean (95% CI)")
    for code in ("ALSFRST", "SVCPP", "HHDMS"):
        m = select(placed, variable=code, group2_level="Week 28")
        cells = {PBO: cell(m, EST_CI, rules=rules, context="mmrm_lsmeans", group1_level=PBO),
                 TOF: cell(m, EST_CI, rules=rules, context="mmrm_lsmeans", group1_level=TOF),
                 "diff": cell(m, EST_CI, rules=rules, context="mmrm_diff"),
                 "p": cell(m, "{p.value}", rules=rules, context="mmrm_diff")}
        t = t.add_row(STUB[code], cells, indent=1, ard=m)
    jr = select(placed, variable="ALSFRST", context="jointrank", stat_name="p.value")
    t = t.add_row(JOINT_RANK_ROW, {"p": cell(jr, "{p.value}", rules=rules)}, indent=1, ard=jr)
    t = t.add_heading("Ratio to baseline, geometric mean (95% CI)")
    for code in ("SOD1", "NFL"):
        g = select(placed, variable=code)
        cells = {PBO: cell(g, "{geomean} ({ci})", rules=rules, context="ancova.geomean", group1_level=PBO),
                 TOF: cell(g, "{geomean} ({ci})", rules=rules, context="ancova.geomean", group1_level=TOF),
                 "diff": cell(g, EST_CI, rules=rules, context="ancova.ratio"),
                 "p": cell(g, "{p.value}", rules=rules, context="ancova.ratio")}
        t = t.add_row(STUB[code], cells, indent=1, ard=g)
    t = (t.footnote("Mixed model for repeated measures of the change from baseline over the double-blind "
                    "visits (arm, visit, arm by visit interaction and baseline value; unstructured covariance; "
                    "REML; Kenward-Roger degrees of freedom). Difference: tofersen minus placebo.",
                    locate={"row": "Change from baseline, LS mean (95% CI)"})
         .footnote("P values: of the difference in the same row (MMRM: t test with Kenward-Roger degrees of "
                   "freedom; geometric mean ratios: analysis of covariance t test).", locate={"column": "p"})
         .footnote("Finkelstein-Schoenfeld joint rank test of the ALSFRS-R change at week 28 and death or "
                   "permanent ventilation (the prespecified primary analysis), adjusted by rank analysis of "
                   "covariance for baseline ALSFRS-R and time since symptom onset; missing ALSFRS-R values "
                   "of survivors multiply imputed; a test without an estimate.", locate={"row": JOINT_RANK_ROW})
         .footnote("Analysis of covariance of the log ratio to baseline (arm and log baseline value), "
                   "back-transformed: geometric mean ratio to baseline per arm; between arms, the ratio of "
                   "the two (tofersen/placebo).", locate={"row": "Ratio to baseline, geometric mean (95% CI)"})
         .footnote("Simulated data shaped like the VALOR trial; not the trial's data.")
         .abbreviations({k: ABBR[k] for k in ("ALSFRS-R", "CSF", "HHD", "LS", "NfL", "SOD1", "SVC", "REML")
                         if k in ABBR} | {"REML": "restricted maximum likelihood"}))
    return t


def table_early_delayed(placed: pd.DataFrame, weeks: Sequence[int] = (52, 148),
                        rules: FormatRules = JAMA) -> Table:
    """eTable: early vs delayed start at weeks 52 and 148 (MMRM LS means and differences)."""
    t = (Table("Early vs Delayed Start of Tofersen: Change From Baseline to Weeks 52 and 148",
               label="tbl-early-delayed", stub_header="Outcome, LS mean change (95% CI)", rules=rules)
         .add_column("nobs", "Assessed, No.\n(delayed / early)")
         .columns_from(placed, by=GROUP, levels=[DELAYED, EARLY], labels=GROUP_LABELS, header="{level}\n(n = {n})")
         .add_column("diff", "Difference\n(95% CI)")
         .add_column("p", "P value"))
    shown = placed[placed["group2_level"].isin([f"Week {w}" for w in weeks])
                   & placed["stat_name"].isin(["estimate", "conf.low", "conf.high", "p.value"])]
    for w in weeks:
        t = t.add_group(f"Week {w}")
        for code in ENDPOINTS:
            m = select(placed, variable=code, group2_level=f"Week {w}")
            nv = select(placed, variable=code, group2_level=f"Week {w}", context="visit_n")
            cells = {DELAYED: cell(m, EST_CI, rules=rules, context="mmrm_lsmeans", group1_level=DELAYED),
                     EARLY: cell(m, EST_CI, rules=rules, context="mmrm_lsmeans", group1_level=EARLY),
                     "diff": cell(m, EST_CI, rules=rules, context="mmrm_diff"),
                     "p": cell(m, "{p.value}", rules=rules, context="mmrm_diff")}
            if not nv.empty:
                cells["nobs"] = Cell((fill(select(nv, group1_level=DELAYED), "{n}", rules=rules), " / ",
                                      fill(select(nv, group1_level=EARLY), "{n}", rules=rules)))
            t = t.add_row(STUB[code], cells, indent=1, ard=m)
    t = (t.footnote("Mixed model for repeated measures of the change from baseline (start group, visit, start "
                    "group by visit interaction, baseline value and progression subgroup; unstructured "
                    "covariance; REML; Kenward-Roger degrees of freedom); participants contribute every "
                    "observed visit (missing at random). Difference: early start minus placebo / delayed start.",
                    locate="stub")
         .footnote("Nominal P values, not adjusted for multiplicity.", locate={"column": "p"})
         .footnote("Participants with an observed value at the visit; the column headers give the randomized "
                   "numbers.", locate={"column": "nobs"})
         .footnote("Early start: randomized to tofersen; placebo / delayed start: randomized to placebo, "
                   "switched to tofersen at the start of the open-label extension.")
         .footnote("Simulated data shaped like the VALOR trial; not the trial's data.")
         .abbreviations({k: ABBR[k] for k in ("ALSAQ-40", "ALSFRS-R", "HHD", "LS", "SVC")
                         + (("NE",) if shown["stat"].isna().any() else ())}
                        | {"REML": "restricted maximum likelihood"}))
    return t


def table_calibration(placed: pd.DataFrame, rules: FormatRules = JAMA) -> Table:
    """eTable: simulated vs published figures, the tolerance rule applied and its verdict."""
    rows = select(placed, context="calibration")
    summ = select(rows, variable="summary")
    t = (Table("Calibration of the Simulated Study Against the Published Figures", label="tbl-calibration",
               stub_header="Figure", rules=rules, font_size=7, stub_width="34%")
         .add_column("src", "Published record")
         .add_column("sim", "Simulated value\n(95% CI)")
         .add_column("rule", "Data cut;\nrule")
         .add_column("ok", "Verdict"))
    section = None
    names = [n for n in dict.fromkeys(rows["variable"]) if n != "summary"]
    for name in names:
        r = select(rows, variable=name)
        sec = select(r, stat_name="section")["stat_fmt"].iloc[0]
        if sec != section:
            t, section = t.add_group(sec), sec
        sim = r[r["stat_name"].isin(["estimate", "conf.low", "conf.high"])]
        has_w = (r["stat_name"] == "width.ratio").any()
        cells = {"src": cell(r, "{source}", rules=rules),
                 "sim": Cell((fill(sim, EST_CI if len(sim) == 3 else "{estimate}", rules=rules),)),
                 "rule": cell(r, "{cut.short}; {rule.short}", rules=rules),
                 "ok": cell(r, "{verdict} ({width.ratio})" if has_w else "{verdict}", rules=rules)}
        label = select(r, stat_name="label")["stat_fmt"].iloc[0]
        t = t.add_row(label, cells, indent=1, ard=r)
    lo, hi = (select(summ, stat_name=k)["stat_fmt"].iloc[0] for k in ("width.low", "width.high"))
    t = (t.footnote("Rules: 95% CI, the simulated estimate lies inside the published 95% CI, the simulated CI "
                    "lies on the same side of the null value (0; 1 for hazard ratios) as the published CI, and "
                    f"its width is {lo} to {hi} times the published width (log scale for hazard ratios); "
                    "\u00b115%/CI, within 15% of the published point estimate or, for a simulated value "
                    "with a 95% CI, the published value inside it; P side, a P value on the same side "
                    "of .05 as the published one; equal, counts fixed by design.", locate={"column": "rule"})
         .footnote("In parentheses, for the 95% CI rule: simulated width divided by published width of the 95% CI.",
                   locate={"column": "ok"})
         .footnote("Simulated values come from the same analyses as the efficacy tables: MMRM LS means and "
                   "differences, joint rank test, log-scale ANCOVA geometric mean ratios to baseline, Cox "
                   "hazard ratios, each at the data cut of the published figure (12 mo, 12-month integrated "
                   "analysis; final, final analysis at OLE completion).", locate={"column": "sim"})
         .footnote("Simulated data shaped like the VALOR trial; not the trial's data.")
         .abbreviations({k: ABBR[k] for k in ("ALSAQ-40", "ALSFRS-R", "CSF", "GMR", "HHD", "MMRM", "NfL",
                                               "SOD1", "SVC")}
                        | {"ANCOVA": "analysis of covariance", "HR": "hazard ratio", "LS": "least squares",
                           "OLE": "open-label extension"}))
    return t


def table_sensitivity(placed: pd.DataFrame, weeks: Sequence[int] = (52, 148), rules: FormatRules = JAMA) -> Table:
    """eTable: tipping-point (delta-adjusted multiple imputation) analysis of the ALSFRS-R
    difference, early minus delayed start, at weeks 52 and 148."""
    t = (Table("Tipping-Point Sensitivity Analysis of the ALSFRS-R Difference, Early vs Delayed Start",
               label="tbl-sensitivity", stub_header="Imputation of missing values", rules=rules)
         .add_column("delta", "Delta applied to imputed\nearly-start values, points")
         .add_column("miss", "Missing, early / delayed start, No.")
         .add_column("diff", "Difference\n(95% CI)")
         .add_column("p", "P value"))
    for w in weeks:
        rows = select(placed, variable="ALSFRST", group2_level=f"Week {w}")
        summ = select(rows, context="tipping.summary")
        t = t.add_group(f"Week {w}")
        tip = select(rows, context="tipping")
        for i, delta in enumerate(dict.fromkeys(tip["variable_level"])):
            r = select(tip, variable_level=delta)
            stub = "Missing at random" if float(delta) == 0 else "Delta-adjusted"
            cells = {"delta": cell(r, "{delta}", rules=rules), "diff": cell(r, EST_CI, rules=rules),
                     "p": cell(r, "{p.value}", rules=rules)}
            if i == 0:
                cells["miss"] = cell(summ, "{n.missing.early} / {n.missing.delayed}", rules=rules)
            t = t.add_row(stub, cells, indent=1, ard=r)
    t = (t.footnote("Missing week-52 or week-148 ALSFRS-R changes of randomized participants (withdrawal, "
                    "death, or visit not done) were multiply imputed under missing at random (Bayesian normal "
                    "regression on start group, baseline ALSFRS-R and progression subgroup); the imputed values "
                    "of the early-start group were then shifted by delta points (negative: worse than predicted). "
                    "Each completed data set was analyzed by analysis of covariance (start group, baseline, "
                    "progression subgroup) and the results combined by Rubin's rules.", locate="stub")
         .footnote("Nominal P values, not adjusted for multiplicity.", locate={"column": "p"})
         .footnote("Simulated data shaped like the VALOR trial; not the trial's data.")
         .abbreviations({k: ABBR[k] for k in ("ALSFRS-R",)}))
    return t


# ---------------------------------------------------------------- figures
BANDS = [(0, 28, "VALOR"), (28, None, "OLE")]


def figure_change(placed: pd.DataFrame, panels: Sequence[tuple[str, Mapping]], ncols: int = 2,
                  ylabels: Mapping[str, str] | None = None):
    """Panels of LS mean change (95% CI) by start group over weeks (MMRM rows relabelled by week)."""
    n = len(panels)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.0, 2.9 * nrows), squeeze=False)
    for k, (title, where) in enumerate(panels):
        ax = axes.flat[k]
        rows = select(placed, context="mmrm_lsmeans", **where)
        F.mean_change_plot(rows, ax=ax, y_stat="estimate", groups=[DELAYED, EARLY], labels=GROUP_LABELS,
                           bands=BANDS, dodge=2.0,
                           ylabel=(ylabels or {}).get(title, "LS mean change (95% CI)"))
        ax.set_title(title, loc="left", fontweight="bold", pad=14)
        if k:
            ax.get_legend().remove()
        ax.set_xticks([t for t in ax.get_xticks() if t != 16])
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    labels = {(ylabels or {}).get(title) for title, _ in panels}
    if ylabels and len(labels) == 1:        # the same measure in every panel: one y range
        F.share_y(list(axes.flat)[:n])
    fig.tight_layout()
    return fig


BIOMARKER_TICKS = (28, 52, 76, 100, 124, 148)


def figure_biomarkers(placed: pd.DataFrame):
    """GMR to baseline (95% CI) of plasma NfL and CSF SOD1 by start group over weeks, log axis."""
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.0))
    for ax, code in zip(axes, ("NFL", "SOD1")):
        rows = select(placed, context="ancova.geomean", variable=code)
        # numbers per visit only under the labelled weeks (VALOR visits are 2-4 weeks apart)
        rows = rows[(rows["stat_name"] != "n") | rows["variable_level"].map(lambda w: int(w) in BIOMARKER_TICKS)]
        F.ratio_plot(rows, ax=ax, y_stat="geomean", groups=[DELAYED, EARLY], labels=GROUP_LABELS, bands=BANDS,
                     dodge=2.0, ylabel="GMR to baseline (95% CI)")
        ax.set_title(STUB[code], loc="left", fontweight="bold", pad=14)
        ax.set_xticks([0, *BIOMARKER_TICKS])
        ax.set_xlim(-4, 152)
    axes[1].get_legend().remove()
    fig.tight_layout()
    return fig


def figure_individual(traj: pd.DataFrame, lsmeans: pd.DataFrame, share: pd.DataFrame, week: int):
    """ALSFRS-R trajectories per start group (with the MMRM LS mean line) and the share of
    participants stabilised or improved at ``week`` (bars from ARD proportions)."""
    fig = plt.figure(figsize=(7.0, 2.9))
    gs = fig.add_gridspec(1, 3, width_ratios=[1, 1, 0.8])
    ids: list[str] = []
    for k, g in enumerate((EARLY, DELAYED)):
        ax = fig.add_subplot(gs[0, k])
        sub = traj[traj[GROUP] == g]
        lm = select(lsmeans, group1_level=g)
        F.spaghetti_plot(sub, x="WEEK", y="CHG", id="USUBJID", group=GROUP, ax=ax, summary=lm, y_stat="estimate",
                         groups=[g], labels={g: "LS mean"}, xlabel="Week",
                         ylabel="ALSFRS-R change from baseline" if k == 0 else "", alpha=0.3)
        color = group_style(1 if g == EARLY else 0).color      # same colours as the other figures
        for line in ax.get_lines():
            line.set_color(color)
        F.legend_below(ax, [plt.Line2D([], [], color=color, linewidth=2.0, marker="o",
                                       label="LS mean (MMRM)")])
        ax.set_ylabel("ALSFRS-R change from baseline" if k == 0 else "")
        ax.axhline(0, color="#7F7F7F", linewidth=0.6, linestyle="--", zorder=0)
        ax.axvline(week, color="#7F7F7F", linewidth=0.6, linestyle=":", zorder=0)
        ax.set_title(GROUP_LABELS[g], loc="left", fontweight="bold")
        ids += F.figure_ard_ids(fig)
    ax = fig.add_subplot(gs[0, 2])
    rows = select(share, variable="STABFL", variable_level="Y")
    for i, g in enumerate((EARLY, DELAYED)):
        r = select(rows, group1_level=g)
        p = float(select(r, stat_name="p")["stat"].iloc[0] or 0.0)
        ax.bar(i, 100 * p, color=group_style(1 if g == EARLY else 0).color, width=0.6, edgecolor="black",
               linewidth=0.5, hatch=None if g == EARLY else "//")
        text = fill(r, "{n} of {N}\n({p}%)")
        ax.text(i, 100 * p + 1.5, text.text, ha="center", va="bottom")
        ids += list(text.ids)
    ax.set_xticks([0, 1], [GROUP_LABELS[EARLY], "Placebo /\ndelayed start"])
    ax.set_ylabel(f"Stabilized or improved at week {week}, %")
    ymax = max(1.0, ax.get_ylim()[1])
    ax.set_ylim(0, ymax * 1.35)
    fig.tight_layout()
    return fig, list(dict.fromkeys(ids + F.figure_ard_ids(fig)))


def figure_forest(diff: pd.DataFrame, hr: pd.DataFrame, level_labels: Mapping[str, str]):
    """Two stacked forest plots: week-52 ALSFRS-R difference and HR for death or permanent
    ventilation, early vs delayed start, overall and per subgroup level."""
    n = len(list(dict.fromkeys(zip(diff["variable"], diff["variable_level"].astype(str))))) + \
        len(set(diff["variable"])) - 1
    h1 = 0.22 * (n + 2) + 0.9
    fig = plt.figure(figsize=(7.0, 2 * h1 + 0.4))
    # plot area narrow enough that the No., Events and estimate columns fit right of it
    top = fig.add_axes([0.36, 0.5 + 0.9 / (2 * h1 + 0.4) * 0.8, 0.26, 0.5 - 1.3 / (2 * h1 + 0.4)])
    bot = fig.add_axes([0.36, 0.9 / (2 * h1 + 0.4), 0.26, 0.5 - 1.3 / (2 * h1 + 0.4)])
    F.forest_plot(diff, ax=top, log=False, labels=level_labels,
                  columns={"Difference (95% CI)": EST_CI},
                  xlabel="Difference in ALSFRS-R change at week 52, points",
                  favours=("Favors delayed start", "Favors early start"))
    F.forest_plot(hr, ax=bot, log=True, labels=level_labels, columns={"HR (95% CI)": EST_CI},
                  xlabel="Hazard ratio, death or permanent ventilation",
                  favours=("Favors early start", "Favors delayed start"))
    return fig
