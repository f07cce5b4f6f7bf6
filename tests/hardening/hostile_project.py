"""A small real project whose DATA carry hostile labels (for the safe-output tests).

ADSL is the CDISC pilot ADSL (Safety population) written as Parquet, with an extra
variable ``AETERM`` whose values are HTML/Typst/RTF specials, e.g.
``<script>alert(1)</script>``. One notebook tabulates it (rows labelled by the
terms), writes the same table as RTF with ``Table.to_rtf`` into its output folder,
and the built-in publisher renders HTML and PDF. The study also declares a ``str``
parameter (``label``) to test parameter injection.
"""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import nbformat
import pandas as pd
import pyreadstat

REPO = Path(__file__).resolve().parents[2]

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
TYPST = "#panic(\"boom\") $x^2$ @ref *bold* _emph_ `raw` <lab> a\\b"
RTF = "{\\rtf1\\b brace} }{ back\\slash"
QUOTE = "O'Brien \"quoted\" x=\"1\" onmouseover=alert(3)"
TERMS = [SCRIPT, IMG, TYPST, RTF, QUOTE]

STUDY = """
name: hostile
title: Hostile labels study
simulated: true
citation: {authors: "A Author", title: "A title", journal: "JAMA Netw Open", year: 2026, doi: "10.0/x"}
format_rules: {rounding: half_even, minus: "\\u2212", pvalue_style: jama}
data: {source: files, dir: data/hostile}
parameters:
  population: {type: choice, choices: [Safety, ITT], default: Safety, description: "Analysis population"}
  label: {type: str, default: "Adverse events", description: "Row heading"}
notebooks: [notebooks/hostile/events.ipynb]
report: report/hostile/index.qmd
"""

PARAMS = '''study = "hostile"
data_dir = "data/hostile"
out_dir = "."
population = "Safety"
label = "Adverse events"
'''

EVENTS = '''#| label: tbl-events
#| tbl-cap: "Participants by Reported Term"
from pathlib import Path
from trialsupp.notebook import open_session
from trialsupp.data.checks import check_study
from trialsupp.stats.descriptive import ard_tabulate
from trialsupp.ard.schema import bind_ard
from trialsupp.display.table import Table
s = open_session(study=study, data_dir=data_dir, out_dir=out_dir, params=dict(population=population, label=label))
check_study(s.data.datasets, {"adsl": ["USUBJID", "TRT01P", "SAFFL", "AETERM"]})
adsl = s.data["adsl"]
pop = adsl[adsl["SAFFL"] == "Y"]
ard = bind_ard(ard_tabulate(pop, "TRT01P"), ard_tabulate(pop, "AETERM", by="TRT01P"))
placed = s.record(ard, output="tbl-events", analysis_id="events", population=population, inputs=["adsl"])
t = (Table("Participants by Reported Term", label="tbl-events", stub_header="Term")
     .columns_from(placed, by="TRT01P")
     .add_categorical(placed, "AETERM", label + ", No. (%)", group1="TRT01P"))
t.to_rtf(Path(out_dir) / "t-events.rtf", number="Table 14-1.01")
t
'''

REPORT = """---
title: Hostile labels study
---

{{< results parameters >}}

# eTables

Terms are in @tbl-events.

{{< embed ../../notebooks/hostile/events.ipynb#tbl-events >}}
"""


def hostile_adsl() -> pd.DataFrame:
    adsl, _ = pyreadstat.read_xport(str(REPO / "data" / "cdiscpilot01" / "adsl.xpt"))
    adsl = adsl[["USUBJID", "TRT01P", "SAFFL", "ITTFL", "AGE", "SEX"]].copy()
    adsl["AETERM"] = [TERMS[i % len(TERMS)] for i in range(len(adsl))]
    return adsl.reset_index(drop=True)


def make_project(root: Path) -> Path:
    """Build the project in ``root``; returns the study YAML path."""
    for name in ("_quarto.yml", "_extensions"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / name)
    (root / "data" / "hostile").mkdir(parents=True)
    adsl = hostile_adsl()
    adsl.to_parquet(root / "data" / "hostile" / "adsl.parquet", index=False)
    # a second dataset, so that the order in which files are listed could matter
    adae = pd.DataFrame({"USUBJID": adsl["USUBJID"].iloc[::7].tolist(), "AESEQ": 1.0,
                         "AEDECOD": [TERMS[i % len(TERMS)] for i in range(len(adsl.iloc[::7]))]})
    adae.to_parquet(root / "data" / "hostile" / "adae.parquet", index=False)
    (root / "report" / "hostile").mkdir(parents=True)
    (root / "report" / "hostile" / "index.qmd").write_text(REPORT)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(EVENTS)]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (root / "notebooks" / "hostile").mkdir(parents=True)
    nbformat.write(nb, root / "notebooks" / "hostile" / "events.ipynb")
    from trialsupp.data.manifest import accept
    accept(root / "data" / "hostile", "test fixture", who="tests")     # the input manifest a render requires
    study = root / "hostile.yaml"
    study.write_text(textwrap.dedent(STUDY))
    return study
