"""The staged build folder: project sources, study metadata, parameter rows.

The stage is a Quarto project: ``_quarto.yml`` (with the study's ``trialsupp:``
metadata merged in), ``_extensions/``, ``report/``, executed ``notebooks/<study>/``
and ``_results/`` (``ard.json`` and the generated ``parameters.qmd``).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from trialsupp import _yaml
from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.ard.store import place, to_records
from trialsupp.study import Study

PROJECT_FILES = ("_quarto.yml", "_extensions", "report")
PARAMS_OUTPUT = "parameters"


def stage_project(project: Path, build: Path) -> None:
    for name in PROJECT_FILES:
        src = project / name
        if src.is_dir():
            # a report's _results/ left by `quarto render` in the project is regenerated, never staged
            shutil.copytree(src, build / name, ignore=shutil.ignore_patterns(
                "__pycache__", ".ipynb_checkpoints", "_results"))
        elif src.exists():
            shutil.copy2(src, build / name)


def stage_notebooks(executed: list[Path], nb_stage: Path, results: Path,
                    parsed: list[dict] | None = None) -> list[dict]:
    """The executed notebooks as the report embeds them (``publish.embed.display_copy``:
    no ARD payloads, one display form per output) and ``<results>/floats.json``, the ARD
    ids each eFigure shows (read by the Quarto filter for its "ARD rows shown" list and
    the provenance blob). ``parsed``: the executed notebooks already parsed (they become the
    display copies). Returns the display copies."""
    from trialsupp.publish.embed import display_copy
    nb_stage.mkdir(parents=True, exist_ok=True)
    shown: dict[str, list[str]] = {}
    parsed = parsed or [json.loads(nb.read_text(encoding="utf-8")) for nb in executed]
    for nb, doc in zip(executed, parsed):
        shown.update(display_copy(nb, nb_stage / nb.name, nb=doc))
    results.mkdir(parents=True, exist_ok=True)
    (results / "floats.json").write_text(json.dumps(shown, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return parsed


_ARD_SHORTCODE = re.compile(r"\{\{<\s*ard\s+([^\s>]+)\s*>\}\}")
_DATA_ARD = re.compile(r'data-ard="([^"]+)"')


def write_shown_store(build: Path, study_report: Path, store: dict | None = None,
                      notebooks: list[dict] | None = None) -> Path:
    """``<report dir>/_results/ard-shown.json``: the rows the report can show (its ``ard`` shortcodes
    and the ``data-ard`` values of the embedded notebooks' outputs), and ``ard-values.json``,
    their formatted values. The Quarto
    extension reads this instead of the whole store: its Lua JSON parser is slow on
    the full ``ard.json`` (4 MB for VALOR), read once per format. ``store``: that ``ard.json``
    already parsed; ``notebooks``: the staged notebooks (``stage_notebooks``), already parsed."""
    from trialsupp.publish.qmd import results_dir
    results = results_dir(study_report)
    if store is None:
        store = json.loads((results / "ard.json").read_text(encoding="utf-8"))
    wanted: set[str] = set()
    for qmd in [*study_report.parent.rglob("*.qmd"), *results.glob("*.qmd")]:
        wanted.update(_ARD_SHORTCODE.findall(qmd.read_text(encoding="utf-8")))
    if notebooks is None:
        notebooks = [json.loads(nb.read_text(encoding="utf-8")) for nb in (build / "notebooks").rglob("*.ipynb")]
    for nb in notebooks:
        for cell in nb.get("cells", []):
            for out in cell.get("outputs", []):
                text = (out.get("data") or {}).get("text/markdown")
                if text:
                    for attr in _DATA_ARD.findall("".join(text) if isinstance(text, list) else text):
                        wanted.update(attr.split())
    rows = [r for r in store["rows"] if r.get("id") in wanted]
    target = results / "ard-shown.json"
    target.write_text(json.dumps({"run": store.get("run", {}), "rows": rows}, ensure_ascii=False),
                      encoding="utf-8")
    # what the ard shortcode prints, {id: stat_fmt}: 20 times smaller than the rows (read per format)
    values = {r["id"]: r["stat_fmt"] for r in rows if isinstance(r.get("stat_fmt"), str)}
    (results / "ard-values.json").write_text(json.dumps(values, ensure_ascii=False, sort_keys=True),
                                             encoding="utf-8")
    return target


def citation_text(study: Study) -> str:
    c = study.raw.get("citation") or {}
    parts = [c.get("authors"), c.get("title"), c.get("journal"), str(c.get("year") or ""),
             f"doi:{c['doi']}" if c.get("doi") else None]
    return ". ".join(p.rstrip(".") for p in parts if p) + "." if any(parts) else ""


def study_metadata(study: Study) -> dict[str, Any]:
    meta = {"heading": "Supplementary Online Content", "citation": citation_text(study),
            "statement": study.raw.get("supplement_sentence") or
            "This supplementary material has been provided by the authors to give readers "
            "additional information about their work.",
            "footer": study.raw.get("footer") or study.title}
    if study.simulated:
        meta["simulated"] = True
        meta["simulated-note"] = study.raw.get("simulated_statement") or (
            "The data in this supplement are simulated. They are not the trial's data: no "
            "participant-level data of the trial were used.")
    if study.raw.get("layout") == "csr":
        meta["landscape"] = True
    return meta


def stage_metadata(build: Path, study: Study) -> None:
    """Merge the study's metadata into the staged ``_quarto.yml`` under ``trialsupp:``."""
    path = build / "_quarto.yml"
    doc = _yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    doc.setdefault("trialsupp", {}).update(study_metadata(study))
    doc["title"] = study.title
    # the pipeline has done the pre-render work, and publish_quarto the post-render work:
    # no Python start-up per Quarto process in the build folder
    project = doc.get("project") or {}
    for hook in ("pre-render", "post-render"):
        if "trialsupp.quarto_prerender" in str(project.get(hook, "")):
            project.pop(hook)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def parameter_rows(study: Study, values: dict[str, Any]) -> list[dict[str, Any]]:
    """One placed ARD row per parameter (context "parameter"), so that the values printed
    on the first page are bound like every other number."""
    frames = []
    for name, value in values.items():
        shown = "none" if value in (None, "") else value
        if name == "data_cut" and value in study.cuts:
            shown = f"{value} ({study.cuts[value]})"
        frames.append(ard_rows({"value": shown if isinstance(shown, (int, float)) and not isinstance(shown, bool)
                                else str(shown)}, variable=name, context="parameter",
                               method=study.params[name].description, code=code_ref(parameter_rows),
                               fmt={"value": "str"}))          # shown as given: a seed is not a count
    if not frames:
        return []
    placed = place(bind_ard(*frames), output=PARAMS_OUTPUT, analysis_id="run", population="all",
                   rules=study.format_rules, params=values)
    placed["output_id"] = "Parameters"
    return to_records(placed)


def parameters_qmd(rows: list[dict[str, Any]]) -> str:
    """The first page's parameter line, each value an ``ard`` shortcode."""
    if not rows:
        return ""
    items = [f"{r['variable'].replace('_', ' ')} {{{{< ard {r['id']} >}}}}" for r in rows]
    return "Parameters of this render: " + "; ".join(items) + ".\n"


def _element_order(output_id: str) -> tuple:
    m = re.match(r"e(Table|Figure) (\d+)$", str(output_id))
    if m:
        return (0, m.group(1) != "Table", int(m.group(2)), "")
    return (1, 0, 0, str(output_id))


def provenance_qmd(rows: list[dict[str, Any]], run: dict[str, Any]) -> str:
    """The "Provenance" appendix: for every element its notebook cells, functions,
    input datasets with SHA-256, and the run's commit and package versions."""
    by_output: dict[str, list[dict]] = {}
    for r in rows:
        by_output.setdefault(str(r["output_id"]), []).append(r)
    lines = ["# Provenance {#provenance}", "",
             "Each element of this document was computed by the notebook cells and functions listed "
             "below from the input datasets with the SHA-256 shown. Every number is a row of the "
             "results store `ard.json`; `trialsupp trace ID` prints the chain of any one of them.", ""]
    for output in sorted(by_output, key=_element_order):
        group = by_output[output]
        cells = sorted({(r.get("notebook") or "pipeline", r.get("cell_id") or "-") for r in group})
        funcs = sorted({(r.get("code") or "").split("@")[0] for r in group if r.get("code")})
        inputs = {}
        for r in group:
            inputs.update(r.get("inputs") or {})
        # a definition list: the element's name and its list print as one unbreakable block
        # (the PDF never leaves "eTable 7 (ARD ids ae.*)" as the last line of a page)
        items = ([f"Notebook cell: `{nb}` cell `{cell}`" for nb, cell in cells]
                 + [f"Function: `{f}`" for f in funcs]
                 + [f"Input: {name} `{sha}`" for name, sha in sorted(inputs.items())])
        lines += [f"**{output}** (ARD ids `{group[0]['id'].split('.')[0]}.*`)", ""]
        lines += [(":   - " if i == 0 else "    - ") + item for i, item in enumerate(items)] or [":   -"]
        lines.append("")
    git = run.get("git") or {}
    lines += ["**Run**", "",
              f":   - Git commit: `{git.get('commit') or 'not a git checkout'}`"
              + (" (uncommitted changes)" if git.get("dirty") else ""),
              f"    - Python `{run.get('python')}`",
              "    - Packages: " + ", ".join(f"{k} `{v}`" for k, v in sorted((run.get("packages") or {}).items())),
              ""]
    return "\n".join(lines)
