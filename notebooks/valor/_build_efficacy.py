"""Generate the efficacy, biomarker, individual-course and calibration notebooks of the
simulated VALOR/OLE supplement (THE DATA ARE SIMULATED).

Run from the project root:  python notebooks/valor/_build_efficacy.py
Analyses: studies.valor.{efficacy,biomarkers}; layout:
studies.valor.efficacy_displays; calibration: studies.valor.simulate.calibrate.
Regenerate rather than edit the .ipynb files by hand.
"""
from __future__ import annotations

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent

PARAMS = {
    "efficacy": '''study = "valor"
data_dir = "data/valor"
out_dir = "."
seed = 48
data_cut = "final"
n_imputations = 20''',
    "biomarkers": '''study = "valor"
data_dir = "data/valor"
out_dir = "."
seed = 48
data_cut = "final"
population = "ITT"''',
    "individual": '''study = "valor"
data_dir = "data/valor"
out_dir = "."
seed = 48
data_cut = "final"
population = "ITT"''',
    "calibration": '''study = "valor"
data_dir = "data/valor"
out_dir = "."
seed = 48
n_imputations = 20''',
}

SESSION = {
    "efficacy": "dict(seed=seed, data_cut=data_cut, n_imputations=n_imputations)",
    "biomarkers": "dict(seed=seed, data_cut=data_cut, population=population)",
    "individual": "dict(seed=seed, data_cut=data_cut, population=population)",
    "calibration": "dict(seed=seed, n_imputations=n_imputations)",
}

SETUP = '''import warnings

import matplotlib.pyplot as plt
from IPython.display import display

from studies.valor import biomarkers as bm
from studies.valor import efficacy as ef
from studies.valor import efficacy_displays as dsp
from studies.valor.common import (ARM, ENDPOINTS, FASTER, GROUP, SLOWER,
                                             population as select_population)
from trialsupp.ard.schema import bind_ard, ard_rows
from trialsupp.display.figure_output import show_figure
from trialsupp.display.theme import house_theme
from trialsupp.notebook import open_session

warnings.simplefilter("ignore")
s = open_session(study=study, data_dir=data_dir, out_dir=out_dir, params={session})
data = s.data


def show(table):
    """Display a table as its markdown output (raw HTML + raw Typst blocks)."""
    display({{"text/markdown": table.as_markdown()}}, raw=True)'''


def code(src: str, tags=()) -> nbf.NotebookNode:
    c = nbf.v4.new_code_cell(src)
    if tags:
        c.metadata["tags"] = list(tags)
    return c


def element(label: str, caption: str, body: str) -> nbf.NotebookNode:
    kind = "tbl-cap" if label.startswith("tbl-") else "fig-cap"
    return code(f'#| label: {label}\n#| {kind}: "{caption}"\n#| echo: false\n{body}')


EFFICACY = [
    element("tbl-week28", "Change From Baseline to Week 28 in the Faster-Progression Population", '''fas = select_population(data["adsl"], FASTER)
inputs = ["adsl", "adqs", "adeff", "adlb", "adtte"]
placed = bind_ard(
    s.record(ef.ard_group_sizes(fas, ARM), output="tbl-week28", analysis_id="n", population=FASTER, inputs=["adsl"]),
    s.record(ef.ard_week28_mmrm(data), output="tbl-week28", analysis_id="mmrm", population=FASTER, inputs=inputs),
    s.record(ef.ard_jointrank_week28(data, n_imputations=n_imputations, seed=seed), output="tbl-week28",
             analysis_id="jointrank", population=FASTER, inputs=["adsl", "adqs", "adtte"]),
    s.record(bm.ard_gmr_week28(data), output="tbl-week28", analysis_id="gmr", population=FASTER,
             inputs=["adsl", "adlb"]),
)
show(dsp.table_week28(placed, rules=s.rules))'''),
    code('''#| echo: false
# early vs delayed start MMRMs (one per endpoint), used by the next two elements
fits = ef.fit_all_long(data)'''),
    element("tbl-early-delayed", "Early vs Delayed Start of Tofersen: Change From Baseline to Weeks 52 and 148", '''itt = select_population(data["adsl"], "ITT")
placed = bind_ard(
    s.record(ef.ard_group_sizes(itt, GROUP), output="tbl-early-delayed", analysis_id="n", population="ITT",
             inputs=["adsl"]),
    s.record(ef.ard_early_delayed(fits), output="tbl-early-delayed", analysis_id="mmrm", population="ITT",
             inputs=["adsl", "adqs", "adeff"]),
)
show(dsp.table_early_delayed(placed, rules=s.rules))'''),
    element("fig-change-overall", "Change From Baseline Over Time by Start Group", '''ard = bind_ard(*[ef.ard_change_over_time(f) for f in fits.values() if not isinstance(f, Exception)])
placed = s.record(ard, output="fig-change-overall", analysis_id="mmrm", population="ITT",
                  inputs=["adsl", "adqs", "adeff"])
with house_theme("full"):
    fig = dsp.figure_change(placed, [(dsp.STUB[c], {"variable": c}) for c in ENDPOINTS])
_ = show_figure(fig, "efigure-change-overall", out_dir)'''),
    element("fig-change-subgroup", "ALSFRS-R Change From Baseline Over Time by Start Group and Progression Subgroup", '''parts = []
for sub in (FASTER, SLOWER):
    f = ef.fit_long(data, "ALSFRST", sub)
    parts.append(ef.ard_change_over_time(f, subgroup=sub))
placed = s.record(bind_ard(*parts), output="fig-change-subgroup", analysis_id="mmrm", population="ITT",
                  inputs=["adsl", "adqs"])
with house_theme("full"):
    fig = dsp.figure_change(placed, [(sub, {"group2_level": sub}) for sub in (FASTER, SLOWER)],
                            ylabels={FASTER: "ALSFRS-R LS mean change (95% CI)", SLOWER: "ALSFRS-R LS mean change (95% CI)"})
_ = show_figure(fig, "efigure-change-subgroup", out_dir)'''),
    element("fig-forest", "Week-52 ALSFRS-R Difference and Hazard Ratio for Death or Permanent Ventilation by Subgroup", '''sg = ef.ard_subgroups(data)
diff = s.record(sg["diff"], output="fig-forest", analysis_id="alsfrs-week52", population="ITT",
                inputs=["adsl", "adqs"])
hr = s.record(sg["hr"], output="fig-forest", analysis_id="hr-dthpv", population="ITT", inputs=["adsl", "adtte"])
levels = {"F": "Female", "M": "Male", "<50": "<50 y", ">=50": "\\u226550 y"}
with house_theme("full"):
    fig = dsp.figure_forest(diff, hr, levels)
_ = show_figure(fig, "efigure-forest", out_dir)'''),
]

BIOMARKERS = [
    element("fig-biomarkers", "Plasma NfL and CSF SOD1 Over Time: Geometric Mean Ratio to Baseline by Start Group", '''parts = [bm.ard_gmr_over_time(data, code, bm.biomarker_weeks(data, code), population) for code in ("NFL", "SOD1")]
placed = s.record(bind_ard(*parts), output="fig-biomarkers", analysis_id="gmr", population=population,
                  inputs=["adsl", "adlb"])
with house_theme("full"):
    fig = dsp.figure_biomarkers(placed)
_ = show_figure(fig, "efigure-biomarkers", out_dir)'''),
]

INDIVIDUAL = [
    element("fig-individual", "Individual ALSFRS-R Trajectories and Participants Who Stabilized or Improved", '''rule = s.study.raw["simulation"]["stabilise_or_improve"]
cfg = ard_rows({"visit_week": rule["visit_week"], "min_change": rule["min_change"]}, variable="stabilise_or_improve",
               context="config", fmt={"visit_week": "int", "min_change": "int"})
s.record(cfg, output="fig-individual", analysis_id="config", population=population, inputs=[])
share = s.record(ef.ard_stabilised(data, rule["visit_week"], rule["min_change"], population), output="fig-individual",
                 analysis_id="stabilised", population=population, inputs=["adsl", "adqs"])
fit = ef.fit_long(data, "ALSFRST", population)
lsm = s.record(ef.ard_change_over_time(fit), output="fig-individual", analysis_id="mmrm", population=population,
               inputs=["adsl", "adqs"])
with house_theme("full"):
    fig, ids = dsp.figure_individual(ef.trajectories(data, population, max_week=rule["visit_week"] + 12), lsm,
                                     share, rule["visit_week"])
_ = show_figure(fig, "efigure-individual", out_dir, ard_ids=ids)'''),
]

CALIBRATION = [
    element("tbl-calibration", "Calibration of the Simulated Study Against the Published Figures", '''from studies.valor.simulate import calibrate as cal
from studies.valor.common import LONG_VISITS, SHORT_VISITS, VALOR_VISITS, MIN_PER_GROUP, WEEK28_WINDOW_DAYS
sim = s.study.raw["simulation"]
te = sim["treatment_effect"]
cfg = ard_rows({"seed": seed, "rel_tol": cal.REL_TOL, "p_threshold": cal.P_THRESHOLD,
                "replicates": cal.DEFAULT_REPLICATES, "n_imputations": n_imputations,
                "emax_mean": te["emax_mean"], "emax_sd": te["emax_sd"], "lag_weeks": te["lag_weeks"],
                "min_per_group": MIN_PER_GROUP, "week28_window_days": WEEK28_WINDOW_DAYS,
                "valor_visits": ", ".join(map(str, VALOR_VISITS)), "short_visits": ", ".join(map(str, SHORT_VISITS)),
                "long_visits": ", ".join(map(str, LONG_VISITS))},
               variable="constants", context="config",
               fmt={"seed": "int", "rel_tol": "pct0", "p_threshold": "pvalue", "replicates": "int",
                    "n_imputations": "int", "emax_mean": "d2", "emax_sd": "d2", "lag_weeks": "d0",
                    "min_per_group": "int", "week28_window_days": "int"})
s.record(cfg, output="tbl-calibration", analysis_id="config", population="ITT", inputs=[])
# each published figure belongs to a data cut: calibration cuts the data as delivered itself
df = cal.evaluate(cal.simulated_values(s.uncut, n_imputations, seed))
placed = s.record(cal.calibration_ard(df), output="tbl-calibration", analysis_id="calibration", population="ITT",
                  inputs=["adsl", "adqs", "adeff", "adlb", "adtte"])
show(dsp.table_calibration(placed, rules=s.rules))'''),
]

BOOKS = {"efficacy": EFFICACY, "biomarkers": BIOMARKERS, "individual": INDIVIDUAL, "calibration": CALIBRATION}
TITLES = {
    "efficacy": "Efficacy: week 28 (faster progression), early vs delayed start, change over time, subgroups",
    "biomarkers": "Biomarkers: plasma NfL and CSF SOD1 geometric mean ratios to baseline",
    "individual": "Individual course: ALSFRS-R trajectories and participants who stabilized or improved",
    "calibration": "Calibration of the simulated study against the published figures",
}


def build(name: str) -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    cells = [nbf.v4.new_markdown_cell(
        f"# Simulated VALOR/OLE: {TITLES[name]}\n\nTHE DATA ARE SIMULATED (not the trial's data). "
        "Generated by `notebooks/valor/_build_efficacy.py`."),
        code(PARAMS[name], tags=["parameters"]),
        code("#| echo: false\n" + SETUP.format(session=SESSION[name]))]
    cells += BOOKS[name]
    nb.cells = cells
    for i, c in enumerate(nb.cells):
        c["id"] = f"{name}-{i:02d}"
    return nb


if __name__ == "__main__":
    for name in BOOKS:
        nbf.write(build(name), HERE / f"{name}.ipynb")
        print(f"wrote {HERE / name}.ipynb")
