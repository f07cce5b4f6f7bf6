"""A small, real project for pipeline tests: CDISC pilot ADSL, one notebook, one report."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import nbformat

from trialsupp.project import install_templates

REPO = Path(__file__).resolve().parents[2]

STUDY = """
name: mini
title: Mini study
simulated: true
citation: {authors: "A Author", title: "A title", journal: "JAMA Netw Open", year: 2026, doi: "10.0/x"}
format_rules: {rounding: half_even, minus: "\\u2212", pvalue_style: jama}
data: {source: files, dir: data/mini}
parameters:
  population: {type: choice, choices: [Safety, ITT], default: Safety, description: "Analysis population"}
notebooks: [notebooks/mini/baseline.ipynb]
report: report/mini/index.qmd
"""

PARAMS = '''study = "mini"
data_dir = "data/mini"
out_dir = "."
population = "Safety"
'''

BASELINE = '''#| label: tbl-baseline
#| tbl-cap: "Baseline Characteristics by Randomized Group"
from trialsupp.notebook import open_session
from trialsupp.stats.descriptive import ard_summary, ard_tabulate
from trialsupp.ard.schema import bind_ard
from trialsupp.display.table import Table
s = open_session(study=study, data_dir=data_dir, out_dir=out_dir, params=dict(population=population))
adsl = s.data["adsl"]
pop = adsl[adsl["SAFFL"] == "Y"]
ard = bind_ard(ard_summary(pop, "AGE", by="TRT01P", statistic=("N", "mean", "sd")),
               ard_tabulate(pop, "SEX", by="TRT01P"))
placed = s.record(ard, output="tbl-baseline", analysis_id="baseline", population=population, inputs=["adsl"])
FAIL_HERE
(Table("Baseline Characteristics", label="tbl-baseline", stub_header="Characteristic")
 .columns_from(placed, by="TRT01P")
 .add_stat_row("Age, mean (SD), y", placed, "{mean} ({sd})", variable="AGE")
 .add_stat_row("Female, No. (%)", placed, "{n} ({p})", variable="SEX", variable_level="F"))
'''

REPORT = """---
title: Mini study
---

{{< results parameters >}}

{{< pagebreak >}}

# eMethods

Baseline characteristics are in @tbl-baseline. The mean age in the placebo group was
{{< ard baseline.baseline.placebo.age.mean >}} years.

# eTables

{{< embed ../../notebooks/mini/baseline.ipynb#tbl-baseline >}}

{{< results provenance >}}
"""


def make_project(root: Path, fail: bool = False) -> Path:
    """Build the project in ``root`` (laid out as ``trialsupp new`` does: trialsupp.yml,
    src/studies/mini/study.yml, templates installed by the tool); returns the study config path."""
    install_templates(root)
    (root / "data" / "mini").mkdir(parents=True)
    shutil.copy2(REPO / "data" / "cdiscpilot01" / "adsl.xpt", root / "data" / "mini" / "adsl.xpt")
    (root / "report" / "mini").mkdir(parents=True)
    (root / "report" / "mini" / "index.qmd").write_text(REPORT)
    write_notebook(root, fail)
    from trialsupp.data.manifest import accept
    accept(root / "data" / "mini", "test fixture", who="tests")     # the input manifest a render requires
    study = root / "src" / "studies" / "mini" / "study.yml"
    study.parent.mkdir(parents=True)
    study.write_text(textwrap.dedent(STUDY))
    (root / "trialsupp.yml").write_text("default: mini\nstudies:\n  mini: src/studies/mini/study.yml\n")
    return study


def write_notebook(root: Path, fail: bool) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    body = BASELINE.replace("FAIL_HERE", "raise RuntimeError('deliberate failure')" if fail else "")
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (root / "notebooks" / "mini").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / "notebooks" / "mini" / "baseline.ipynb")
