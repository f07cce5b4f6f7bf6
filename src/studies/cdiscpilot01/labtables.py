"""CSR layouts of the CDISCPILOT01 laboratory and concomitant medication outputs (14-6.01 to
14-6.05, 14-7.04), built from placed ARD rows only (no statistics)."""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from trialsupp.ard.fmt import CSR, FormatRules
from trialsupp.display import ArdIndex, Table, cell, select
from trialsupp.display.table import header_cell

from .common import ARM_SHORT, ARMS

__all__ = ["arm_spanner", "t_lab_summary", "t_lab_range", "t_lab_shift_visit", "t_lab_shift", "t_conmeds",
           "COUNT_RULE"]

COUNT_RULE = ("Counts are of records with a value (a record whose normal range indicator is missing "
              "is not counted).")


def arm_spanner(t: Table, hdr: pd.DataFrame, arm: str, keys: Sequence[str], rules: FormatRules = CSR,
                short: bool = True) -> Table:
    """Spanner "Placebo (N=86)" over ``keys``, N bound to the header ARD (``labs.header_n``)."""
    sub = select(hdr, group1_level=arm, stat_name="N")
    name = ARM_SHORT[arm] if short else arm
    return t.spanner(header_cell(sub, f"{name} (N={{N}})", rules=rules), list(keys))


def _n_pct(at: ArdIndex, rules: FormatRules, zero_pct: bool = False, **where):
    """Shell style: "n (pct%)" of the rows ``where``; a zero count prints "0" (lab shells) or
    "0 (0%)" (``zero_pct``)."""
    n = at.values("stat", stat_name="n", **where)
    if not len(n):
        return "0"
    if n[0] == 0 and not zero_pct:
        return at.cell("{n}", rules=rules, stat_name="n", **where)
    return at.cell("{n} ({p}%)", rules=rules, **where)


def t_lab_summary(placed: pd.DataFrame, groups: Mapping[str, Mapping[str, str]], hdr: pd.DataFrame,
                  rules: FormatRules = CSR) -> Table:
    """14-6.01: per test and visit, N, mean (SD) and change from baseline mean (SD) per arm.
    ``groups``: {"CHEMISTRY": {paramcd: label}, "HEMATOLOGY": {...}}; analysis_id lab-<paramcd>."""
    t = Table("Summary Statistics for Continuous Laboratory Values", stub_header="Visit", landscape=True,
              rules=rules)
    for arm in ARMS:
        t = (t.add_column(f"{arm}|N", "N").add_column(f"{arm}|v", "Mean (SD)")
              .add_column(f"{arm}|c", "Change\nfrom Bsln\nMean (SD)"))
        t = arm_spanner(t, hdr, arm, [f"{arm}|N", f"{arm}|v", f"{arm}|c"], rules)
    by_id = ArdIndex(placed, "analysis_id")
    for group, labels in groups.items():
        t = t.add_group(group)
        for pc, label in labels.items():
            p = by_id.select(analysis_id=f"lab-{pc.lower()}")
            at = ArdIndex(p, "variable", "group1_level", "group2_level")
            at_visit = ArdIndex(p, "group2_level")
            t = t.add_heading(label)
            for vis in dict.fromkeys(select(p, variable="AVAL")["group2_level"]):
                cells = {}
                for arm in ARMS:
                    a = dict(variable="AVAL", group1_level=arm, group2_level=vis)
                    c = dict(variable="CHG", group1_level=arm, group2_level=vis)
                    if not len(at.values("stat", **a)) or at.values("stat", stat_name="N", **a)[0] == 0:
                        continue
                    cells[f"{arm}|N"] = at.cell("{N}", rules=rules, **a)
                    cells[f"{arm}|v"] = at.cell("{mean} ({sd})", rules=rules, **a)
                    cells[f"{arm}|c"] = at.cell("{mean} ({sd})", rules=rules, **c) if len(at.values("stat", **c)) else ""
                t = t.add_row(str(vis), cells, indent=1, ard=at_visit.select(group2_level=vis))
    return (t.footnote("[1] End of treatment is the last on-treatment value (AENTMTFL = Y).")
             .footnote("NOTE: " + COUNT_RULE.replace("normal range indicator", "value")))


def t_lab_range(placed: pd.DataFrame, groups: Mapping[str, Sequence[str]], names: Mapping[str, str],
                hdr: pd.DataFrame, title: str, prefix: str, rules: FormatRules = CSR) -> Table:
    """14-6.02 / 14-6.03: per test, records low / normal / high per arm and the exact P value.
    ``groups``: {"CHEMISTRY": [paramcd, ...], ...}; analysis_id ``<prefix>-<paramcd>``."""
    t = Table(title, stub_header="", landscape=True, rules=rules)
    cats = (("L", "Low"), ("N", "Normal"), ("H", "High"))
    for arm in ARMS:
        for c, lab in cats:
            t = t.add_column(f"{arm}|{c}", lab)
        t = arm_spanner(t, hdr, arm, [f"{arm}|{c}" for c, _ in cats], rules)
    t = t.add_column("p", "p-val\n[1]")
    by_id = ArdIndex(placed, "analysis_id")
    for group, params in groups.items():
        t = t.add_group(group)
        for pc in params:
            p = by_id.select(analysis_id=f"{prefix}-{pc.lower()}")
            at = ArdIndex(p, "group1_level", "variable_level")
            cells = {}
            for arm in ARMS:
                for c, _ in cats:
                    cells[f"{arm}|{c}"] = _n_pct(at, rules, group1_level=arm, variable_level=c)
            pv = select(p, stat_name="p.value")
            cells["p"] = cell(pv, "{p.value}", rules=rules) if len(pv) else ""
            t = t.add_row(names[pc], cells, ard=p)
    return (t.footnote("[1] Fisher-Freeman-Halton exact test of treatment group versus category "
                       "(R fisher.test); blank when the test has a single category.")
             .footnote("Note: Percentages are based on the number of records with non-missing assessments "
                       "(i.e., the total of the low, normal, and high categories) within each treatment "
                       "group. " + COUNT_RULE))


def _shift_columns(t: Table, hdr: pd.DataFrame, rules: FormatRules) -> Table:
    for arm in ARMS:
        for b, bl in (("N", "Normal"), ("H", "High")):
            t = t.add_column(f"{arm}|{b}", f"{bl} at\nBaseline")
        t = arm_spanner(t, hdr, arm, [f"{arm}|N", f"{arm}|H"], rules)
    return t


def _shift_rows(t: Table, p: pd.DataFrame, rules: FormatRules, label_n: str, drop_empty_high: bool,
                extra: dict | None = None) -> Table:
    """Rows n, Normal, High of one shift block (``p``: ARD of one test [and visit])."""
    at = ArdIndex(p, "group1_level", "group2_level", "variable_level")
    cells = {}
    for arm in ARMS:
        for b in ("N", "H"):
            sub = dict(group1_level=arm, group2_level=b, variable_level="N", stat_name="N")
            cells[f"{arm}|{b}"] = at.cell("{N}", rules=rules, **sub) if len(at.values("stat", **sub)) else "0"
    t = t.add_row(label_n, cells | (extra or {}), indent=1, ard=p)
    for to, tl in (("N", "Normal"), ("H", "High")):
        n_to = select(p, variable_level=to, stat_name="n")
        if to == "H" and drop_empty_high and (n_to["stat"] == 0).all():
            continue   # shell: the High row is left out when every count is zero
        cells = {}
        for arm in ARMS:
            for b in ("N", "H"):
                cells[f"{arm}|{b}"] = _n_pct(at, rules, group1_level=arm, group2_level=b, variable_level=to)
        t = t.add_row(tl, cells, indent=2, ard=p)
    return t


def t_lab_shift_visit(placed: pd.DataFrame, groups: Mapping[str, Sequence[str]], names: Mapping[str, str],
                      visits: Sequence[str], hdr: pd.DataFrame, rules: FormatRules = CSR) -> Table:
    """14-6.04: per test and visit, n per baseline category and shift-to counts (pct of n)."""
    t = _shift_columns(Table("Shifts of Laboratory Values During Treatment, Categorized Based on Threshold "
                             "Ranges, by Visit", stub_header="Test / Week / Shift to", landscape=True,
                             rules=rules), hdr, rules)
    by_id = ArdIndex(placed, "analysis_id")
    for group, params in groups.items():
        t = t.add_group(group)
        for pc in params:
            t = t.add_heading(names[pc])
            for vis in visits:
                p = by_id.select(analysis_id=f"shiftvis-{pc.lower()}-{vis.split()[-1]}")
                t = _shift_rows(t, p, rules, f"Week {vis.split()[-1]}: n", drop_empty_high=True)
    return t.footnote("Shift from the baseline range category to the category at the visit; percentages are "
                      "of n, the records of the arm with that baseline category at the visit. " + COUNT_RULE)


def t_lab_shift(placed: pd.DataFrame, groups: Mapping[str, Mapping[str, str]], hdr: pd.DataFrame,
                rules: FormatRules = CSR) -> Table:
    """14-6.05: per test, n per baseline category and shift-to counts over the treatment period,
    CMH P value."""
    t = _shift_columns(Table("Shifts of Laboratory Values During Treatment, Categorized Based on Threshold "
                             "Ranges", stub_header="Test / Shift to", landscape=True, rules=rules), hdr, rules)
    t = t.add_column("p", "p-value\n[1]")
    by_id = ArdIndex(placed, "analysis_id")
    for group, labels in groups.items():
        t = t.add_group(group)
        for pc, label in labels.items():
            p = by_id.select(analysis_id=f"shift-{pc.lower()}")
            t = t.add_heading(label)
            pv = select(p, stat_name="p.value")
            extra = {"p": cell(pv, "{p.value}", rules=rules) if len(pv) else ""}
            t = _shift_rows(t, p, rules, "n", drop_empty_high=False, extra=extra)
    return (t.footnote("[1] CMH test (row mean scores) of treatment group versus on-treatment category, "
                       "stratified by baseline category; blank when no record is high.")
             .footnote("Counts of on-treatment records (ANL01FL = Y, End of Treatment excluded) by baseline "
                       "and on-treatment range; percentages are of n. " + COUNT_RULE))


def t_conmeds(placed: pd.DataFrame, rules: FormatRules = CSR) -> Table:
    """14-7.04: subjects per therapeutic class and medication (class alphabetical; medications by
    descending placebo count, then name)."""
    t = Table("Summary of Concomitant Medications (Number of Subjects)", stub_header="Therapeutic class, n (%)",
              landscape=True, rules=rules)
    for arm in ARMS:
        sub = select(placed, variable="ANYCM", group1_level=arm, stat_name="N")
        t = t.add_column(arm, header_cell(sub, f"{arm}\n(N={{N}})", rules=rules))

    at = ArdIndex(placed, "group1_level")

    def row(t, label, indent, **where):
        cells = {a: _n_pct(at, rules, group1_level=a, **where) for a in ARMS}
        return t.add_row(label, cells, indent=indent, ard=select(placed, **where))

    anyv = select(placed, variable="ANYCM")["variable_level"].iloc[0]
    t = row(t, anyv, 0, variable="ANYCM")
    for cls in sorted(dict.fromkeys(select(placed, variable="CMCLAS")["variable_level"])):
        t = row(t, cls, 0, variable="CMCLAS", variable_level=cls)
        meds = select(placed, variable="CMDECOD", group2_level=cls, group1_level=ARMS[0], stat_name="n")
        for med, _ in sorted(zip(meds["variable_level"], meds["stat"]), key=lambda x: (-x[1], x[0])):
            t = row(t, med, 1, variable="CMDECOD", group2_level=cls, variable_level=med)
    return t.footnote("Note: A subject is counted once per therapeutic class and once per medication. "
                      "Percentages are of the subjects of each treatment group (N). All CM records count, "
                      "prior and concomitant.")


VS_COUNT_RULE = ("n counts the records with a value (a visit record without a value is not counted); "
                 "N is the number of subjects of the treatment group.")


def t_vs_stats(placed: pd.DataFrame, title: str, blocks: Sequence[tuple[str, str, str]], hdr: pd.DataFrame,
               rules: FormatRules = CSR) -> Table:
    """14-7.01 to 14-7.03 as the shells: one column per statistic, treatment groups in rows with their N.

    ``blocks``: (variable AVAL/CHG, variable_level or "" for all rows of the variable, heading label).
    Rows: per block and arm, one row per planned relative time; the arm and its N are printed on the
    arm's first row (the shell's layout).
    """
    t = Table(title, stub_header="Measure / Position /\nTreatment", landscape=True, rules=rules)
    t = t.add_column("armN", "N").add_column("time", "Planned\nRelative Time", align="left")
    stats = (("N", "n", "{N}"), ("mean", "Mean", "{mean}"), ("sd", "SD", "{sd}"), ("median", "Median", "{median}"),
             ("min", "Min.", "{min}"), ("max", "Max.", "{max}"))
    for key, head, _ in stats:
        t = t.add_column(key, head)
    group, end = None, False
    for var, level, label in blocks:
        g, _, pos = label.partition(", ")
        if g != group:
            t, group = t.add_group(g), g
        if pos:
            t = t.add_heading(pos)
        where = dict(variable=var) | ({"variable_level": level} if level else {})
        times = list(dict.fromkeys(select(placed, **where)["group2_level"]))
        end = end or "End of Trt." in times
        for arm in ARMS:
            for i, time in enumerate(times):
                sub = select(placed, group1_level=arm, group2_level=time, **where)
                cells = {k: cell(sub, tpl, rules=rules) for k, _, tpl in stats}
                cells["time"] = str(time)
                if i == 0:
                    cells["armN"] = cell(select(hdr, group1_level=arm, stat_name="N"), "{N}", rules=rules)
                t = t.add_row(ARM_SHORT[arm] if i == 0 else "", cells, indent=1 if pos else 0, ard=sub)
    if end:   # not the shell's "(on or before the Week 24 visit)": the ADVS record falls later for half of them
        t = t.footnote("End of Trt.: the last on-treatment assessment of the specified vital sign (ADVS visit "
                       "End of Treatment; it may follow the Week 24 visit).")
    return t.footnote("NOTE: " + VS_COUNT_RULE)
