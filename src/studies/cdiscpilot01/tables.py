"""CSR layouts of the CDISCPILOT01 safety outputs, built from placed ARD rows only (no statistics).

Each builder takes the placed rows of one output and returns a ``trialsupp.display.Table``.
"""
from __future__ import annotations

import pandas as pd

from trialsupp.ard.fmt import CSR, FormatRules
from trialsupp.display import ArdIndex, Table, cell, select
from trialsupp.display.table import header_cell
from trialsupp.display.markdown import csr_output_meta as output_meta

from .common import ARM_SHORT, ARMS, TOTAL

__all__ = ["rtf_options", "csr_output_meta", "arm_columns", "t_populations", "t_end_of_study", "t_sites",
           "t_demographics", "t_pilot1_demographic", "t_exposure", "t_ae", "t_vs_summary", "t_hylaw"]


def rtf_options(number: str, population: str, protocol: str = "CDISCPILOT01", program: str = "",
                data_cut: str | None = None) -> dict:
    """Keyword arguments of ``Table.to_rtf`` for a CSR page: header line (protocol, page X of Y),
    number, population; footer: source notebook and cell, data cut."""
    return dict(number=f"Table {number}", titles=[f"Population: {population}"],
                header_left=f"Protocol: {protocol}", header_right="Page {page} of {pages}",
                footer_left=f"Source: {program}" if program else "",
                footer_right=f"Data cut: {data_cut or 'none'}")


def csr_output_meta(number: str, population: str, notebook: str, cell_label: str,
                    data_cut: str | None = None) -> dict:
    """``trialsupp.display.markdown.csr_output_meta`` with this appendix's output names
    ("Figure 14-1", "Table 14-5.01")."""
    kind = "Figure " if number == "14-1" else "Table " if number[:1].isdigit() else ""
    return output_meta(kind + number, population, f"{notebook}, cell {cell_label}", data_cut)


def arm_columns(t: Table, ard: pd.DataFrame, by: str, total: bool = False, **where) -> Table:
    levels = ARMS + ([TOTAL] if total else [])
    return t.columns_from(ard, by, levels=levels, header="{level}\n(N={n})", **where)


def _n_pct(sub: pd.DataFrame, zero_pct: bool = False) -> str:
    """CSR: "n (pct%)"; a zero count prints plain "0" unless the shell prints "0 (0%)" (``zero_pct``:
    14-1.01, 14-1.02)."""
    n = select(sub, stat_name="n")
    return "{n}" if len(n) and n["stat"].iloc[0] == 0 and not zero_pct else "{n} ({p}%)"


def _count_row(t: Table, label: str, ard: pd.DataFrame, by: str, cols, indent=1, extra=None,
               zero_pct: bool = False, **where):
    cells = {}
    for lv in cols:
        sub = select(ard, group1=by, group1_level=lv, **where)
        cells[lv] = cell(sub, _n_pct(sub, zero_pct), rules=CSR)
    if extra:
        cells.update(extra)
    return t.add_row(label, cells, indent=indent, ard=select(ard, **where))


def _p_cell(ard: pd.DataFrame | ArdIndex, rules: FormatRules = CSR, flag: float | None = None, **where):
    """P value cell in the output's format; ``flag``: append "*" below that P (AE shells: 0.15).
    ``ard``: the placed rows, or an index of them (tables with hundreds of rows)."""
    at = ard if isinstance(ard, ArdIndex) else ArdIndex(ard)
    p = at.values("stat", stat_name="p.value", **where)
    if len(p) != 1:
        return ""
    star = "*" if flag is not None and p[0] is not None and p[0] < flag else ""
    return at.cell("{p.value}" + star, rules=rules, stat_name="p.value", **where)


def t_populations(placed: pd.DataFrame, rows) -> Table:
    t = arm_columns(Table("Summary of Populations", stub_header="", landscape=True, rules=CSR),
                    placed, "TRT01P", total=True, variable="ITTFL")
    for label, flag in rows:
        t = _count_row(t, label, placed, "TRT01P", ARMS + [TOTAL], indent=0, zero_pct=True, variable=flag,
                       variable_level="Y")
    return t.footnote("NOTE: N in column headers represents number of subjects entered in study "
                      "(i.e., signed informed consent). The ITT population includes all subjects randomized. "
                      "The Safety population includes all randomized subjects known to have taken at least "
                      "one dose of randomized study drug. The Efficacy population includes all subjects in "
                      "the safety population who also have at least one post-baseline ADAS-Cog and CIBIC+ "
                      "assessment.")


def t_end_of_study(placed: pd.DataFrame, reasons: dict, rules: FormatRules = CSR) -> Table:
    t = arm_columns(Table("Summary of End of Study Data", landscape=True, rules=CSR),
                    placed, "TRT01P", total=True, variable="COMPSTAT")
    t = t.add_column("p", "p-value [1]")
    cols = ARMS + [TOTAL]
    t = t.add_heading("Completion Status:")
    for i, lv in enumerate(["Completed Week 24", "Early Termination (prior to Week 24)", "Missing"]):
        extra = {"p": _p_cell(placed, rules, variable="COMPSTAT")} if i == 0 else None
        t = _count_row(t, lv, placed, "TRT01P", cols, extra=extra, zero_pct=True, variable="COMPSTAT",
                       variable_level=lv)
    t = t.add_heading("Reason for Early Termination (prior to Week 24):")
    for key, label in list(reasons.items()) + [("Missing", "Missing")]:
        extra = None
        if key == "Adverse Event":
            extra = {"p": _p_cell(placed, rules, variable="AEFL")}
        if key == "Lack of Efficacy":
            extra = {"p": _p_cell(placed, rules, variable="LOEFL")}
            label += " [2]"
        t = _count_row(t, label, placed, "TRT01P", cols, extra=extra, zero_pct=True, variable="DCSREAS",
                       variable_level=key)
    return (t.footnote("[1] Fisher's exact test.")
             .footnote("[2] Based on either patient/caregiver perception or physician perception."))


def t_sites(placed: pd.DataFrame) -> Table:
    t = Table("Summary of Number of Subjects By Site", stub_header="Pooled Id / Site Id", landscape=True,
              rules=CSR)
    keys = []
    for arm in ARMS + [TOTAL]:
        for pop in ("ITT", "Eff", "Com"):
            key = f"{arm}|{pop}"
            keys.append((key, arm, pop))
            t = t.add_column(key, pop)
        n = select(placed, variable="ALLSITES", group1_level=arm, group2_level="ITT", stat_name="n")
        t = t.spanner(header_cell(n, f"{arm} (N={{n}})", rules=CSR), [f"{arm}|{p}" for p in ("ITT", "Eff", "Com")])
    sites = [v for v in dict.fromkeys(select(placed, variable="SITE")["variable_level"])]
    for var, levels in (("SITE", sites),):
        for lv in levels:
            cells = {}
            for key, arm, pop in keys:
                sub = select(placed, variable=var, variable_level=lv, group1_level=arm, group2_level=pop)
                cells[key] = cell(sub, "{n}", rules=CSR)
            t = t.add_row(str(lv), cells, ard=select(placed, variable=var, variable_level=lv))
    cells = {key: cell(select(placed, variable="ALLSITES", variable_level="TOTAL", group1_level=arm,
                              group2_level=pop), "{n}", rules=CSR) for key, arm, pop in keys}
    t = t.add_row("TOTAL", cells, ard=select(placed, variable="ALLSITES"))
    return t.footnote("NOTE: ITT: Number of subjects in the ITT population, Eff: Number of subjects in the "
                      "Efficacy population; Com: Number of subjects completing Week 24. N in column headers: "
                      "subjects entered in study (ITT).")


PILOT1_CONTINUOUS = {"AGE": "Age", "HEIGHTBL": "Baseline Height (cm)", "WEIGHTBL": "Baseline Weight (kg)",
                     "BMIBL": "Baseline BMI (kg/m^2)", "MMSETOT": "MMSE Total"}
PILOT1_STATS = {"Mean (sd)": "{mean} ({sd})", "Median": "{median}", "Min - Max": "{min} - {max}"}


def t_pilot1_demographic(placed: pd.DataFrame) -> Table:
    """R Submission Pilot 1 ``tlf-demographic`` (its Table 14-2.01) in the published row order:
    age, pooled age group, race, then height, weight, BMI and MMSE; counts without percentages;
    statistics in rtables "xx.xx" (the ARD's ``x2`` format)."""
    t = arm_columns(Table("Demographic and Baseline Characteristics (R Submission Pilot 1)", landscape=True),
                    placed, "TRT01P", variable="AGE")
    t = t.add_continuous(placed, "AGE", PILOT1_CONTINUOUS["AGE"], PILOT1_STATS)
    t = t.add_categorical(placed, "AGEGR1", "Pooled Age Group 1", template="{n}")
    t = t.add_categorical(placed, "RACE", "Race", template="{n}")
    for var in ("HEIGHTBL", "WEIGHTBL", "BMIBL", "MMSETOT"):
        t = t.add_continuous(placed, var, PILOT1_CONTINUOUS[var], PILOT1_STATS)
    return t.footnote("Statistics as printed by R Submission Pilot 1 (rtables format: two decimals, trailing "
                      "zeros dropped); counts without percentages.")


def t_demographics(placed: pd.DataFrame, continuous, categorical: dict, level_labels=None,
                   rules: FormatRules = CSR) -> Table:
    t = arm_columns(Table("Summary of Demographic and Baseline Characteristics", landscape=True, rules=CSR),
                    placed, "TRT01P", total=True, variable="AGE")
    t = t.add_column("p", "p-value\n[1]")
    cols = ARMS + [TOTAL]
    cat_after = {"AGE": ["AGEGR1"], "DURDIS": ["DURDSGR1"], "BMIBL": ["BMIBLGR1"]}
    stats = [("n", "{N}"), ("Mean", "{mean}"), ("SD", "{sd}"), ("Median", "{median}"),
             ("Min", "{min}"), ("Max", "{max}")]
    order = [("AGE", "Age (y)"), ("SEX", "Sex"), ("RACEORIG", "Race (Origin)")] + \
        [(v, lab) for v, lab in continuous if v != "AGE"]
    labels = dict(continuous)
    for var, label in order:
        t = t.add_heading(label)
        if var in categorical and var not in labels:
            sub = select(placed, variable=var, variable_level=categorical[var][0], stat_name="N")
            t = t.add_row("n", {lv: cell(select(sub, group1_level=lv), "{N}", rules=CSR) for lv in cols}
                          | {"p": _p_cell(placed, rules, variable=var)}, indent=1, ard=sub)
            for lv in categorical[var]:
                t = _count_row(t, lv, placed, "TRT01P", cols, variable=var, variable_level=lv)
            continue
        for i, (lab, tpl) in enumerate(stats):
            extra = {"p": _p_cell(placed, rules, variable=var)} if i == 0 else {}
            cells = {lv: cell(select(placed, variable=var, group1_level=lv, context="summary"), tpl, rules=CSR)
                     for lv in cols}
            t = t.add_row(lab, cells | extra, indent=1, ard=select(placed, variable=var))
        for cvar in cat_after.get(var, []):
            for j, lv in enumerate(categorical[cvar]):
                extra = {"p": _p_cell(placed, rules, variable=cvar)} if j == 0 else None
                t = _count_row(t, (level_labels or {}).get(lv, lv), placed, "TRT01P", cols, extra=extra, variable=cvar, variable_level=lv)
    return (t.footnote("[1] P-values are results of ANOVA treatment group comparison for continuous "
                       "variables and Pearson's chi-square test for categorical variables.")
             .footnote("NOTE: Duration of disease is computed as months between date of enrollment and "
                       "date of onset of the first definite symptoms of Alzheimer's disease."))


def t_exposure(placed: pd.DataFrame) -> Table:
    t = Table("Summary of Planned Exposure to Study Drug, as of End of Study", landscape=True, rules=CSR)
    pops = ["Completers at Week 24", "Safety Population"]
    keys = []
    for pop in pops:
        for arm in ARMS:
            sub = select(placed, group2_level=pop, group1_level=arm, variable="AVGDD", stat_name="N")
            key = f"{pop}|{arm}"
            keys.append((key, pop, arm))
            t = t.add_column(key, header_cell(sub, f"{arm}\n(N={{N}})", rules=CSR))
        t = t.spanner(pop + (" [1]" if pop.startswith("Safety") else ""), [f"{pop}|{a}" for a in ARMS])
    stats = [("n", "{N}"), ("Mean", "{mean}"), ("SD", "{sd}"), ("Median", "{median}"), ("Min", "{min}"),
             ("Max", "{max}")]
    for var, label in (("AVGDD", "Average daily dose (mg)"), ("CUMDOSE", "Cumulative dose at end of study [2]")):
        t = t.add_heading(label)
        for lab, tpl in stats:
            cells = {k: cell(select(placed, variable=var, group2_level=pop, group1_level=arm), tpl, rules=CSR)
                     for k, pop, arm in keys}
            t = t.add_row(lab, cells, indent=1, ard=select(placed, variable=var))
    return (t.footnote("[1] Includes completers and early terminators.")
             .footnote("[2] End of Study refers to week 26/Early Termination."))


def t_ae(placed: pd.DataFrame, title: str, any_label: str, rules: FormatRules = CSR) -> Table:
    t = Table(title, stub_header="System Organ Class/\nPreferred Term", landscape=True, rules=CSR)
    for arm in ARMS:
        n = select(placed, variable="ANYAE", group1_level=arm, stat_name="N")
        t = t.add_column(f"{arm}|n", header_cell(n, "(N={N})\nn(%)", rules=CSR)).add_column(f"{arm}|e", "[AEs]")
        t = t.spanner(ARM_SHORT[arm], [f"{arm}|n", f"{arm}|e"])
    t = t.add_column("p_low", "Placebo vs.\nLow Dose").add_column("p_high", "Placebo vs.\nHigh Dose")
    t = t.spanner("Fisher's Exact p-values", ["p_low", "p_high"])

    at = ArdIndex(placed, "variable", "variable_level")    # ~250 rows x 9 cells: look rows up once

    def row(t, label, indent, **where):
        cells = {}
        for arm in ARMS:
            zero = at.values("stat", group1_level=arm, stat_name="n", **where)[0] == 0
            cells[f"{arm}|n"] = at.cell("{n}" if zero else "{n} ({p}%)", rules=CSR, group1_level=arm, **where)
            cells[f"{arm}|e"] = "" if zero else at.cell("[{n_event}]", rules=CSR, group1_level=arm, **where)
        cells["p_low"] = _p_cell(at, rules, 0.15, group1_level=ARMS[1], **where)
        cells["p_high"] = _p_cell(at, rules, 0.15, group1_level=ARMS[2], **where)
        return t.add_row(label, cells, indent=indent, ard=at.select(**where))

    t = row(t, any_label, 0, variable="ANYAE", variable_level="ANY BODY SYSTEM")
    socs = sorted(v for v in dict.fromkeys(select(placed, variable="AEBODSYS")["variable_level"]))
    for soc in socs:
        t = row(t, soc, 0, variable="AEBODSYS", variable_level=soc, group2=None)
        terms = select(placed, variable="AETERM", group2_level=soc, stat_name="n", group1_level=ARMS[2])
        order = sorted(zip(terms["variable_level"], terms["stat"]), key=lambda x: (-x[1], x[0]))
        for term, _ in order:  # CSR order: descending high-dose subject count, then term
            t = row(t, term, 1, variable="AETERM", variable_level=term, group2_level=soc)
    return t.footnote("NOTE: Treatment emergent events are defined as events which start on or after "
                      "the start of treatment. Adverse events are coded using MedDRA. Percentages are "
                      "based on the number of subjects in the safety population within each treatment group. "
                      "P-values are based on Fisher's Exact test for the comparison of placebo versus each "
                      "active treatment group; * P < 0.15. Events are counted once per subject for n(%) "
                      "and every occurrence for [AEs].")


def t_vs_summary(placed: pd.DataFrame, title: str, var: str, measures: dict) -> Table:
    t = Table(title, stub_header="Measure / Position / Time", landscape=True, rules=CSR)
    for arm in ARMS:
        t = t.add_column(arm, ARM_SHORT[arm])
    stats = "n={N}  {mean} ({sd})  Med {median}  [{min}, {max}]"
    for key, label in measures.items():
        t = t.add_heading(label)
        for time in [v for v in dict.fromkeys(select(placed, variable=var, variable_level=key)["group2_level"])]:
            cells = {a: cell(select(placed, variable=var, variable_level=key, group1_level=a, group2_level=time),
                             stats, rules=CSR) for a in ARMS}
            t = t.add_row(str(time), cells, indent=1, ard=select(placed, variable_level=key))
    return t.footnote("n, mean (SD), median [min, max].")


def t_hylaw(placed: pd.DataFrame, hdr: pd.DataFrame | None = None) -> Table:
    """14-6.06; ``hdr`` (``labs.header_n``) puts "(N=...)" in the arm headers as the shell."""
    t = Table("Shifts of Hy's Law Values During Treatment", stub_header="Parameter / Shift", landscape=True,
              rules=CSR)
    for arm in ARMS:
        for b in ("Normal", "High"):
            t = t.add_column(f"{arm}|{b}", f"{b} at\nBaseline")
        keys = [f"{arm}|Normal", f"{arm}|High"]
        if hdr is not None:
            from .labtables import arm_spanner
            t = arm_spanner(t, hdr, arm, keys)
        else:
            t = t.spanner(ARM_SHORT[arm], keys)
    t = t.add_column("p", "p-value\n[2]")
    for pc, label in (("TRANSHY", "Transaminase 1.5 x ULN"),
                      ("HYLAW", "Total Bili 1.5 x ULN and Transaminase 1.5 x ULN")):
        t = t.add_heading(label)
        cells = {}
        for a in ARMS:
            for b in ("Normal", "High"):
                sub = select(placed, variable=pc, group2_level=b, group1_level=a, variable_level="Normal")
                cells[f"{a}|{b}"] = cell(sub, "{N}", rules=CSR)
        if pc == "TRANSHY":
            cells["p"] = _p_cell(placed, variable_level="general association")
        t = t.add_row("n", cells, indent=1, ard=select(placed, variable=pc))
        for to in ("Normal", "High"):
            cells = {}
            for a in ARMS:
                for b in ("Normal", "High"):
                    sub = select(placed, variable=pc, group2_level=b, group1_level=a, variable_level=to)
                    cells[f"{a}|{b}"] = cell(sub, _n_pct(sub), rules=CSR)
            t = t.add_row(to, cells, indent=1, ard=select(placed, variable=pc))
    return (t.footnote("[1] Baseline versus maximum post-baseline value.")
             .footnote("[2] CMH general association test of treatment group versus shift, stratified by baseline."))
