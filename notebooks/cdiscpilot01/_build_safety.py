"""Generate the CDISCPILOT01 safety-side notebooks (populations, demographics, safety, labs, vitals).

Run: ``python notebooks/cdiscpilot01/_build_safety.py`` (writes the .ipynb files next to this script).
Each output cell: Quarto options (``#| label: t-14-x-yy``, ``#| echo: false``), ARD from
``studies.cdiscpilot01``, ``s.record(...)``, a CSR ``Table`` from the placed rows,
its RTF in ``<out_dir>/rtf/``, then the table as the cell's display.
"""
from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent

PARAMS = '''study = "cdiscpilot01"
data_dir = "data/cdiscpilot01"
out_dir = "_output/cdiscpilot01"
data_cut = ""
population = "Efficacy"'''

SETUP = '''from pathlib import Path
from IPython.display import display
from trialsupp.notebook import open_session
from studies.cdiscpilot01 import tables as T
# data_cut "" = no cut (study.py rejects data_cut=None although the yaml default is null)
s = open_session(study=study, data_dir=data_dir, out_dir=out_dir,
                 params=dict(population=population, **({"data_cut": data_cut} if data_cut else {})))
rtf_dir = Path(out_dir) / "rtf"
rtf_dir.mkdir(parents=True, exist_ok=True)

def write_rtf(table, label, number, pop, program):
    """Write the CSR RTF; display the population line and the PDF page-header metadata."""
    table.to_rtf(rtf_dir / f"{label}.rtf", **T.rtf_options(number, pop, program=f"{program}, cell {label}",
                                                             data_cut=data_cut))
    display(T.csr_output_meta(number, pop, program, label, data_cut), raw=True)
    return table'''


def out_cell(label, body):
    return nbf.v4.new_code_cell(f"#| label: {label}\n#| echo: false\n" + body.strip() + "\n")


NOTEBOOKS = {
    "populations": ("CDISCPILOT01: populations, disposition, sites (Tables 14-1.01 to 14-1.03)", [
        ("t-14-1-01", '''from studies.cdiscpilot01.populations import t14_1_01, POP_ROWS
placed = s.record(t14_1_01(s.data["adsl"]), output="14-1.01", analysis_id="populations",
                  population="All randomized", inputs=["adsl"])
display(write_rtf(T.t_populations(placed, POP_ROWS), "t-14-1-01", "14-1.01", "All randomized subjects",
                  "notebooks/cdiscpilot01/populations.ipynb"))'''),
        ("t-14-1-02", '''from studies.cdiscpilot01.populations import t14_1_02, TERM_REASONS
placed = s.record(t14_1_02(s.data["adsl"]), output="14-1.02", analysis_id="disposition",
                  population="All randomized", inputs=["adsl"])
display(write_rtf(T.t_end_of_study(placed, TERM_REASONS), "t-14-1-02", "14-1.02", "All randomized subjects",
                  "notebooks/cdiscpilot01/populations.ipynb"))'''),
        ("t-14-1-03", '''from studies.cdiscpilot01.populations import t14_1_03
placed = s.record(t14_1_03(s.data["adsl"]), output="14-1.03", analysis_id="sites",
                  population="All randomized", inputs=["adsl"])
display(write_rtf(T.t_sites(placed), "t-14-1-03", "14-1.03", "All randomized subjects",
                  "notebooks/cdiscpilot01/populations.ipynb"))'''),
    ]),
    "demographics": ("CDISCPILOT01: demographic and baseline characteristics (Table 14-2.01)", [
        ("t-14-2-01", '''from studies.cdiscpilot01.demographics import t14_2_01, CONTINUOUS, CATEGORICAL, LEVEL_LABELS
placed = s.record(t14_2_01(s.data["adsl"]), output="14-2.01", analysis_id="demog",
                  population="ITT", inputs=["adsl"])
display(write_rtf(T.t_demographics(placed, CONTINUOUS, CATEGORICAL, LEVEL_LABELS), "t-14-2-01", "14-2.01",
                  "Intent-to-Treat", "notebooks/cdiscpilot01/demographics.ipynb"))'''),
        ("t-pilot1-demographic", '''# R Submission Pilot 1 "tlf-demographic" display (2-decimal statistics), kept for comparison
from studies.cdiscpilot01.demographics import pilot1_demographic
from trialsupp.display import Table
pilot1 = s.record(pilot1_demographic(s.data["adsl"]), output="pilot1-demographic", analysis_id="demog",
                  population="ITT", inputs=["adsl"])
t = T.arm_columns(Table("Summary of Demographic and Baseline Characteristics (R Submission Pilot 1 layout)",
                        landscape=True), pilot1, "TRT01P", variable="AGE")
for var, lab in [("AGE", "Age"), ("HEIGHTBL", "Baseline Height (cm)"), ("WEIGHTBL", "Baseline Weight (kg)"),
                 ("BMIBL", "Baseline BMI (kg/m^2)"), ("MMSETOT", "MMSE Total")]:
    t = t.add_continuous(pilot1, var, lab, {"Mean (sd)": "{mean} ({sd})", "Median": "{median}",
                                            "Min - Max": "{min} - {max}"})
t = t.add_categorical(pilot1, "AGEGR1", "Pooled Age Group 1", template="{n}")
t = t.add_categorical(pilot1, "RACE", "Race", template="{n}")
display(t)'''),
    ]),
    "safety": ("CDISCPILOT01: exposure and adverse events (Tables 14-4.01, 14-5.01, 14-5.02)", [
        ("t-14-4-01", '''from studies.cdiscpilot01.safety import t14_4_01
placed = s.record(t14_4_01(s.data["adsl"]), output="14-4.01", analysis_id="exposure",
                  population="Safety", inputs=["adsl"])
display(write_rtf(T.t_exposure(placed), "t-14-4-01", "14-4.01", "Safety", "notebooks/cdiscpilot01/safety.ipynb"))'''),
        ("t-14-5-01", '''from studies.cdiscpilot01.safety import t14_5_01
placed = s.record(t14_5_01(s.data["adae"], s.data["adsl"]), output="14-5.01", analysis_id="teae",
                  population="Safety", inputs=["adae", "adsl"])
display(write_rtf(T.t_ae(placed, "Incidence of Treatment Emergent Adverse Events by Treatment Group",
                         "ANY BODY SYSTEM"), "t-14-5-01", "14-5.01", "Safety",
                  "notebooks/cdiscpilot01/safety.ipynb"))'''),
        ("t-14-5-02", '''from studies.cdiscpilot01.safety import t14_5_02
placed = s.record(t14_5_02(s.data["adae"], s.data["adsl"]), output="14-5.02", analysis_id="teae-serious",
                  population="Safety", inputs=["adae", "adsl"])
display(write_rtf(T.t_ae(placed, "Incidence of Treatment Emergent Serious Adverse Events by Treatment Group",
                         "ANY BODY SYSTEM"), "t-14-5-02", "14-5.02", "Safety",
                  "notebooks/cdiscpilot01/safety.ipynb"))'''),
    ]),
    "labs": ("CDISCPILOT01: laboratory (Tables 14-6.01, 14-6.05, 14-6.06)", [
        ("t-14-6-01", '''import pandas as pd
from studies.cdiscpilot01.labs import t14_6_01
adlbc = s.data["adlbc"]
labels = dict(sorted(zip(adlbc["PARAMCD"], adlbc["PARAM"]), key=lambda kv: kv[1]))
placed = pd.concat([s.record(t14_6_01(adlbc, pc), output="14-6.01", analysis_id=f"chem-{pc.lower()}",
                             population="Safety", inputs=["adlbc"]) for pc in labels], ignore_index=True)
display(write_rtf(T.t_lab_summary(placed, labels), "t-14-6-01", "14-6.01", "Safety",
                  "notebooks/cdiscpilot01/labs.ipynb"))'''),
        ("t-14-6-05", '''from studies.cdiscpilot01.labs import t14_6_05
from trialsupp.display import Table, cell, select
from trialsupp.ard.fmt import CSR
shift = {pc: s.record(t14_6_05(adlbc, pc), output="14-6.05", analysis_id=f"shift-{pc.lower()}",
                      population="Safety", inputs=["adlbc"]) for pc in labels}
t = Table("Shifts of Laboratory Values During Treatment, Categorized Based on Threshold Ranges",
          stub_header="Test / Shift", landscape=True, rules=CSR)
for arm in T.ARMS:
    for b, bl in (("N", "Normal"), ("H", "High")):
        t = t.add_column(f"{arm}|{b}", f"{bl} at\\nBaseline")
    t = t.spanner(T.ARM_SHORT[arm], [f"{arm}|N", f"{arm}|H"])
t = t.add_column("p", "p-value")
for pc, lab in labels.items():
    p = shift[pc]
    t = t.add_heading(lab)
    for to, tl in (("N", "Normal"), ("H", "High")):
        cells = {}
        for arm in T.ARMS:
            for b in ("N", "H"):
                sub = select(p, group1_level=arm, group2_level=b, variable_level=to)
                cells[f"{arm}|{b}"] = cell(sub, "{n}", rules=CSR) if len(sub) else "0"
        if to == "N":
            pv = select(p, stat_name="p.value")
            cells["p"] = cell(pv, "{p.value}", rules=CSR) if len(pv) else ""
        t = t.add_row(tl, cells, indent=1)
display(write_rtf(t.footnote("Counts of on-treatment records (ANL01FL = Y) by baseline and on-treatment range."),
                  "t-14-6-05", "14-6.05", "Safety", "notebooks/cdiscpilot01/labs.ipynb"))'''),
        ("t-14-6-06", '''from studies.cdiscpilot01.labs import t14_6_06
placed = s.record(t14_6_06(s.data["adlbhy"]), output="14-6.06", analysis_id="hylaw",
                  population="Safety", inputs=["adlbhy"])
display(write_rtf(T.t_hylaw(placed), "t-14-6-06", "14-6.06", "Safety", "notebooks/cdiscpilot01/labs.ipynb"))'''),
    ]),
    "vitals": ("CDISCPILOT01: vital signs (Tables 14-7.01 to 14-7.03)", [
        ("t-14-7-01", '''from studies.cdiscpilot01.vitals import t14_7_01, VS_PARAMS
advs = s.data["advs"]
placed = s.record(t14_7_01(advs), output="14-7.01", analysis_id="vs", population="Safety", inputs=["advs"])
measures = {k: f"{VS_PARAMS[k.split('/')[0]]}, {k.split('/')[1].lower()}"
            for k in dict.fromkeys(placed["variable_level"])}
display(write_rtf(T.t_vs_summary(placed, "Summary of Vital Signs at Baseline and End of Treatment", "AVAL",
                                 measures), "t-14-7-01", "14-7.01", "Safety", "notebooks/cdiscpilot01/vitals.ipynb"))'''),
        ("t-14-7-02", '''from studies.cdiscpilot01.vitals import t14_7_02
placed = s.record(t14_7_02(advs), output="14-7.02", analysis_id="vs-chg", population="Safety", inputs=["advs"])
display(write_rtf(T.t_vs_summary(placed, "Summary of Vital Signs Change from Baseline at End of Treatment",
                                 "CHG", measures), "t-14-7-02", "14-7.02", "Safety",
                  "notebooks/cdiscpilot01/vitals.ipynb"))'''),
        ("t-14-7-03", '''from studies.cdiscpilot01.vitals import t14_7_03
from trialsupp.display import Table, cell, select
from trialsupp.ard.fmt import CSR
placed = s.record(t14_7_03(advs), output="14-7.03", analysis_id="weight", population="Safety", inputs=["advs"])
t = T.t_vs_summary(placed, "Summary of Weight Change from Baseline at End of Treatment", "AVAL", {})
for var, lab in (("AVAL", "Weight (kg)"), ("CHG", "Weight Change from Baseline")):
    t = t.add_heading(lab)
    for time in dict.fromkeys(select(placed, variable=var)["group2_level"]):
        t = t.add_row(str(time), {a: cell(select(placed, variable=var, group1_level=a, group2_level=time),
                                          "n={N}  {mean} ({sd})  Med {median}  [{min}, {max}]", rules=CSR)
                                  for a in T.ARMS}, indent=1, ard=select(placed, variable=var))
display(write_rtf(t, "t-14-7-03", "14-7.03", "Safety", "notebooks/cdiscpilot01/vitals.ipynb"))'''),
    ]),
}


def build(name, title, outputs):
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    p = nbf.v4.new_code_cell(PARAMS)
    p.metadata["tags"] = ["parameters"]
    cells = [nbf.v4.new_markdown_cell(f"# {title}\n\nGenerated by `_build_safety.py`; do not edit by hand."),
             p, nbf.v4.new_code_cell("#| echo: false\n" + SETUP)]
    cells += [out_cell(label, body) for label, body in outputs]
    for i, c in enumerate(cells):
        c["id"] = f"{name}-{i:02d}"
    nb.cells = cells
    nbf.write(nb, HERE / f"{name}.ipynb")


if __name__ == "__main__":
    for name, (title, outputs) in NOTEBOOKS.items():
        build(name, title, outputs)
        print("wrote", HERE / f"{name}.ipynb")
