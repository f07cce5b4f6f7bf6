"""Generate the VALOR long-term supplement "frame" notebooks: design, baseline (with
CONSORT), survival, safety and dictionary.

Run: ``python notebooks/valor/_build_frame.py`` (writes the .ipynb files next to this
script). Each element cell starts with Quarto options (``#| label``, ``#| tbl-cap`` /
``#| fig-cap``, ``#| echo: false``), computes ARD rows with
``studies.valor``, records them with ``s.record(...)`` and displays a
``Table`` / figure built from the placed rows only
(``studies.valor.displays``).
"""
from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent

PARAMS = {
    "design": ["study", "data_dir", "out_dir", "seed", "data_cut"],
    "baseline": ["study", "data_dir", "out_dir", "seed", "data_cut", "population"],
    "survival": ["study", "data_dir", "out_dir", "seed", "data_cut", "population"],
    "safety": ["study", "data_dir", "out_dir", "seed", "data_cut"],
    "dictionary": ["study", "data_dir", "out_dir", "seed", "data_cut"],
}
DEFAULTS = {"study": '"valor"', "data_dir": '"data/valor"', "out_dir": '"."', "seed": "48",
            "data_cut": '"final"', "population": '"ITT"'}


def params_cell(names):
    c = nbf.v4.new_code_cell("\n".join(f"{n} = {DEFAULTS[n]}" for n in names))
    c.metadata["tags"] = ["parameters"]
    return c


def setup_cell(names):
    p = ", ".join(f"{n}={n}" for n in names if n in ("seed", "data_cut", "population"))
    return nbf.v4.new_code_cell(f'''import warnings
from IPython.display import display
from trialsupp.notebook import open_session
from trialsupp.display.figure_output import show_figure
from studies.valor import displays as D
s = open_session(study=study, data_dir=data_dir, out_dir=out_dir, params=dict({p}))
sim = s.study.raw["simulation"]''')


def element(label, cap_kind, caption, body):
    head = f'#| label: {label}\n#| {cap_kind}: "{caption}"\n#| echo: false\n'
    return nbf.v4.new_code_cell(head + body.strip() + "\n")


def plain(body):
    return nbf.v4.new_code_cell("#| echo: false\n" + body.strip() + "\n")


NOTEBOOKS = {
    "design": ("VALOR / OLE: design constants for the eMethods (study config as ARD rows)", [
        plain('''from studies.valor.design import config_ard
from trialsupp.display import Table, cell, select
design = s.record(config_ard(sim, s.study.raw), output="design", analysis_id="config",
                  population="all", inputs=[])
t = Table("Design constants read from the study configuration", stub_header="Constant").add_column(
    "value", "Value")
for r in design.itertuples():
    t = t.add_row(f"{r.stat_label} ({r.variable}{'' if r.variable_level is None else ', ' + str(r.variable_level)})",
                  {"value": cell(select(design, id=r.id), "{value}")}, ard=select(design, id=r.id))
display(t)'''),
    ]),
    "baseline": ("VALOR / OLE: baseline characteristics and participant flow", [
        element("tbl-baseline", "tbl-cap", "Baseline Characteristics of the Participants by Randomized Group",
                '''from studies.valor.baseline import baseline_ard
placed = s.record(baseline_ard(s.data["adsl"], sim), output="tbl-baseline", analysis_id="baseline",
                  population="ITT", inputs=["adsl"])
display(D.baseline_table(placed))'''),
        element("fig-consort", "fig-cap",
                "Flow of Participants Through VALOR and the Open-Label Extension",
                '''from studies.valor.consort import consort_ard
consort = s.record(consort_ard(s.data["adsl"], s.data["adex"]), output="fig-consort", analysis_id="consort",
                   population="ITT", inputs=["adsl", "adex"])
fig = D.consort_figure(consort)
_ = show_figure(fig, "fig-consort", out_dir)'''),
    ]),
    "survival": ("VALOR / OLE: time to death or permanent ventilation and to death", [
        plain('''import pandas as pd
from studies.valor import survival as S
pops = list(dict.fromkeys(["ITT", "Faster progression", population]))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")      # "no events" / tau warnings are carried as ARD conditions
    tte = S.tte_analysis(s.data["adtte"], s.data["adsl"], pops, sim, step=sim["visits"]["ole_every_weeks"])
heading = {"ITT": "All participants (ITT)", "Faster progression": "Faster progression",
           "Slower progression": "Slower progression"}
analyses = [(S.analysis_id(p, cd), heading[p], lab, cd) for p in pops for cd, lab in S.ENDPOINTS.items()]'''),
        element("tbl-tte", "tbl-cap",
                "Time to Death or Permanent Ventilation and to Death by Start Group",
                '''placed = pd.concat([s.record(tte["parts"][(p, cd)], output="tbl-tte", analysis_id=S.analysis_id(p, cd),
                             population=p, inputs=["adtte", "adsl"]) for p in pops for cd in S.ENDPOINTS],
                   ignore_index=True)
tau_rows = s.record(tte["tau_ard"], output="tbl-tte", analysis_id="tau", population="ITT",
                    inputs=["adtte", "adsl"])
display(D.tte_table(placed, analyses, tau_rows))'''),
        element("fig-km", "fig-cap",
                "Kaplan-Meier Estimates of Time to Death or Permanent Ventilation (A) and to Death (B) by Start Group",
                '''panels = []
for k, (cd, lab) in enumerate(S.ENDPOINTS.items()):
    d = tte["data"][(population, cd)]
    fu = S.followup_ard([d])
    times = S.risk_times(max(v for v in fu.loc[fu["stat_name"] == "max", "stat"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curves = s.record(S.curve_ard(d, times, sim), output="fig-km", analysis_id=S.analysis_id(population, cd),
                          population=population, inputs=["adtte", "adsl"])
    hr = placed[(placed["analysis_id"] == S.analysis_id(population, cd)) & (placed["context"] == "cox")
                & (placed["group1"] == "STARTGR")]
    ylab = "Probability free of death or\\npermanent ventilation" if cd == "DTHPV" else "Probability of survival"
    panels.append((f"{'AB'[k]}. {lab}", curves, hr, times, ylab))
fig = D.km_figure(panels)
_ = show_figure(fig, "fig-km", out_dir)'''),
    ]),
    "safety": ("VALOR / OLE: adverse events", [
        element("tbl-safety-overview", "tbl-cap",
                "Overview of Adverse Events in VALOR and in All Tofersen-Treated Participants",
                '''from studies.valor import safety as A
placed = s.record(A.overview_ard(s.data["adsl"], s.data["adae"]), output="tbl-safety-overview",
                  analysis_id="overview", population="Safety", inputs=["adsl", "adae"])
display(D.safety_overview_table(placed))'''),
        element("tbl-ae", "tbl-cap",
                "Most Frequent Adverse Events by System Organ Class and Preferred Term",
                '''from trialsupp.ard.schema import ard_rows
from trialsupp.ard.provenance import code_ref
THRESHOLD = 0.10
rule = ard_rows({"threshold": THRESHOLD}, variable="AEDECOD", context="selection", fmt={"threshold": "pct0"},
                method="Preferred terms shown: proportion >= threshold in any column",
                code=code_ref(A.frequent_terms), labels={"threshold": "Display threshold"})
placed = s.record(A.ae_table_ard(s.data["adsl"], s.data["adae"], threshold=THRESHOLD), output="tbl-ae",
                  analysis_id="soc-pt", population="Safety", inputs=["adsl", "adae"])
rule = s.record(rule, output="tbl-ae", analysis_id="rule", population="Safety", inputs=[])
display(D.ae_table(placed, rule))'''),
    ]),
    "dictionary": ("VALOR / OLE: data dictionary of the analysis data sets (define.json)", [
        element("tbl-dictionary", "tbl-cap", "Data Dictionary of the Analysis Data Sets",
                '''import json
from studies.valor.design import dictionary_ard
define = json.loads((s.data.root / "define.json").read_text(encoding="utf-8"))
placed = s.record(dictionary_ard(define), output="tbl-dictionary", analysis_id="define", population="all",
                  inputs=[])
display(D.dictionary_table(placed))'''),
    ]),
}


def build(name):
    title, cells = NOTEBOOKS[name]
    nb = nbf.v4.new_notebook()
    nb.cells = [nbf.v4.new_markdown_cell(f"# {title}\n\nGenerated by `notebooks/valor/_build_frame.py`; "
                                         "edit that script, not this file."),
                params_cell(PARAMS[name]), setup_cell(PARAMS[name])] + cells
    for i, c in enumerate(nb.cells):
        c.id = f"{name}-{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbf.write(nb, HERE / f"{name}.ipynb")


if __name__ == "__main__":
    for name in NOTEBOOKS:
        build(name)
        print("wrote", HERE / f"{name}.ipynb")
