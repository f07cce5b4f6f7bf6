"""A small staged project for the publisher tests (built in a tmp dir).

Fixtures live in conftest.py; this module holds the sources so tests can build
variants of the project."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]

TABLE_MD = '''```{=html}
<table class="ts-table" data-quarto-disable-processing="true">
<thead><tr><th>Characteristic</th><th>Placebo (n = 36)</th><th>Active (n = 38)</th></tr></thead>
<tbody>
<tr><td>Age, mean (SD), y</td><td><span class="ts-stat" data-ard="tbl-baseline.age.placebo.mean tbl-baseline.age.placebo.sd" tabindex="0">61.2 (8.4)</span></td><td><span class="ts-stat" data-ard="tbl-baseline.age.active.mean" tabindex="0">60.9 (7.9)</span></td></tr>
<tr><td>Male, No. (%)</td><td>20 (56)</td><td>22 (58)</td></tr>
</tbody>
</table>
```

```{=typst}
#table(
  columns: (2fr, 1fr, 1fr),
  stroke: none,
  table.hline(stroke: 0.8pt),
  table.header([*Characteristic*], [*Placebo (n = 36)*], [*Active (n = 38)*]),
  table.hline(stroke: 0.5pt),
  [Age, mean (SD), y], [61.2 (8.4)], [60.9 (7.9)],
  [Male, No. (%)], [20 (56)], [22 (58)],
  table.hline(stroke: 0.8pt),
)
```
'''

AE_MD = TABLE_MD.replace("Age, mean (SD), y", "Any adverse event, No. (%)").replace(
    "tbl-baseline.age", "tbl-ae.any")

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="360" height="160" viewBox="0 0 360 160">'
       '<rect x="0" y="0" width="360" height="160" fill="white"/>'
       '<polyline points="20,20 120,60 220,90 340,130" fill="none" stroke="black" stroke-width="2"/>'
       '<polyline points="20,20 120,40 220,55 340,70" fill="none" stroke="#777" stroke-width="2" '
       'stroke-dasharray="6 4"/></svg>')

ARD_MIME = "application/vnd.trialsupp.ard+json"


def _cell(label, cap_key, cap, outputs):
    src = f"#| label: {label}\n#| {cap_key}: \"{cap}\"\nshow()"
    cell = nbformat.v4.new_code_cell(src, execution_count=1, outputs=outputs)
    return cell


def make_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tables"),
        _cell("tbl-baseline", "tbl-cap", "Baseline Characteristics of the Participants", [
            nbformat.v4.new_output("display_data", data={"text/markdown": TABLE_MD,
                                                         "text/plain": "<Table>"}),
            nbformat.v4.new_output("display_data", data={ARD_MIME: {"rows": []},
                                                         "text/plain": "ARD rows"}),
        ]),
        _cell("tbl-ae", "tbl-cap", "Adverse Events", [
            nbformat.v4.new_output("display_data", data={"text/markdown": AE_MD}),
        ]),
        _cell("fig-km", "fig-cap", "Kaplan-Meier Estimates of Event-Free Survival", [
            nbformat.v4.new_output("stream", name="stdout", text="saved\n"),
            nbformat.v4.new_output("display_data", data={"image/svg+xml": SVG,
                                                         "text/plain": "<Figure>"}),
        ]),
    ]
    nbformat.write(nb, str(path))


ROWS = [
    {"id": "tbl-baseline.age.placebo.mean", "output_id": "tbl-baseline", "stat_name": "mean",
     "stat_label": "Mean", "stat": 61.2345, "stat_fmt": "61.2", "method": "Arithmetic mean",
     "population": "ITT", "group1": "TRT01P", "group1_level": "Placebo", "variable": "AGE",
     "code": "trialsupp.stats.summary:ard_summary@abc123", "notebook": "notebooks/demo/tables.ipynb",
     "cell_id": "tbl-baseline", "inputs": {"adsl": "0" * 64}},
    {"id": "tbl-baseline.age.placebo.sd", "output_id": "tbl-baseline", "stat_name": "sd",
     "stat": 8.41, "stat_fmt": "8.4", "method": "SD", "population": "ITT"},
    {"id": "tbl-baseline.age.active.mean", "output_id": "tbl-baseline", "stat_name": "mean",
     "stat": 60.91, "stat_fmt": "60.9", "method": "Arithmetic mean", "population": "ITT"},
    {"id": "tbl-ae.any.placebo.n", "output_id": "tbl-ae", "stat_name": "n", "stat": 12,
     "stat_fmt": "12", "population": "Safety"},
    {"id": "fig-km.hr.estimate", "output_id": "fig-km", "stat_name": "estimate",
     "stat_label": "Hazard ratio", "stat": 0.6512, "stat_fmt": "0.65 (95% CI, 0.51-0.80)",
     "method": "Cox proportional hazards </script> test", "population": "ITT",
     "notebook": "notebooks/demo/tables.ipynb", "cell_id": "fig-km"},
]

INDEX = """---
title: "DEMO Trial: Supplement 1"
trialsupp:
  citation: "Doe J, Roe R. Demo of a supplement. *JAMA Netw Open*. 2025;8(1):e000000."
  simulated: true
  footer: "© 2025 Doe J et al. JAMA Network Open."
---

# eMethods

The primary analysis is summarised in @fig-km; participants are described in
@tbl-baseline and adverse events in @tbl-ae. The hazard ratio was
{{< ard fig-km.hr.estimate >}}.

{{< include _results.qmd >}}
"""

RESULTS = """# eResults

::: {.callout-note title="Simulated study"}
All numbers come from the results store; see {{{< ard ID >}}} in the source.
:::

{{< embed ../../notebooks/demo/tables.ipynb#tbl-ae >}}

{{< embed ../../notebooks/demo/tables.ipynb#tbl-baseline >}}

{{< pagebreak >}}

{{< embed ../../notebooks/demo/tables.ipynb#fig-km >}}
"""


def build_stage(root: Path, index: str = INDEX, results: str = RESULTS) -> Path:
    stage = root / "stage"
    (stage / "report" / "demo").mkdir(parents=True)
    (stage / "notebooks" / "demo").mkdir(parents=True)
    (stage / "report" / "demo" / "_results").mkdir()
    shutil.copy2(REPO / "_quarto.yml", stage / "_quarto.yml")
    shutil.copytree(REPO / "_extensions", stage / "_extensions")
    (stage / "report" / "demo" / "index.qmd").write_text(index, encoding="utf-8")
    (stage / "report" / "demo" / "_results.qmd").write_text(results, encoding="utf-8")
    make_notebook(stage / "notebooks" / "demo" / "tables.ipynb")
    (stage / "report" / "demo" / "_results" / "ard.json").write_text(json.dumps(
        {"run": {"run_date": "2025-01-15T10:00:00Z", "study": "demo"}, "rows": ROWS}), encoding="utf-8")
    return stage


