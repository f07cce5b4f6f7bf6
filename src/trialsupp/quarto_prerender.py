"""``quarto render`` in a trialsupp project: the Quarto-native way to publish.

``_quarto.yml`` runs this module before and after Quarto renders::

    project:
      pre-render: python -m trialsupp.quarto_prerender
      post-render: python -m trialsupp.quarto_prerender --post

Before (``pre-render``): for the study whose report Quarto renders
(``QUARTO_PROJECT_INPUT_FILES``; all the project's reports with
``QUARTO_PROJECT_RENDER_ALL``), trialsupp runs its pipeline up to the results store,
as ``trialsupp render`` does (data, notebooks with the notebook cache, ARD rows), and
puts into the project what the report reads: ``report/<study>/_results/`` (``ard.json``,
``run.json``, ``floats.json``, ``parameters.qmd``, ``provenance.qmd``,
``trialsupp.json``) and the executed notebooks in their display form in place of
``notebooks/<study>/*.ipynb``, whose committed versions (without outputs) are kept
in ``.trialsupp-cache/quarto-sources/`` meanwhile. The pipeline's own output goes to
``_output/<study>/`` as usual (ARD store, notebook previews).

After (``post-render``): the HTML contents list is nested in reading order as the
built-in publisher's (also in the staged build), the committed notebooks are put back, and the notebook
previews are copied next to each rendered document (``notebooks/<nb>.html``, the
target of the source links).

Each report has its own ``_results/``, so ``quarto render`` of the whole project
publishes every study. Reports read the generated markdown with the extension's
``{{< results NAME >}}`` shortcode rather than ``{{< include >}}``: Quarto resolves
includes when it scans the project, before the pre-render script runs, so a fresh
checkout renders without any preparatory step.

Inside the build folder that ``trialsupp render --engine quarto`` stages, the
pipeline has done all this already; ``TRIALSUPP_STAGED_BUILD`` tells the script so.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

STAGED = "TRIALSUPP_STAGED_BUILD"
BACKUP = Path(".trialsupp-cache") / "quarto-sources"
MANIFEST = "quarto-sources.json"
RESULTS = "_results"


def _project() -> Path:
    return Path(os.environ.get("QUARTO_PROJECT_DIR") or os.getcwd()).resolve()


def studies_to_render(project: Path) -> list[str]:
    """The studies whose reports Quarto is about to render."""
    from trialsupp.study import available_studies, load_study
    names = available_studies(project)
    reports = {load_study(n, project).report.resolve(): n for n in names}
    if os.environ.get("QUARTO_PROJECT_RENDER_ALL"):
        wanted = list(reports.values())
    else:
        files = [f for f in os.environ.get("QUARTO_PROJECT_INPUT_FILES", "").splitlines() if f.strip()]
        wanted = list(dict.fromkeys(reports[p] for f in files
                                    if (p := (project / f).resolve()) in reports))
    return wanted


def stage_for_quarto(build: Path, project: Path, study_name: str, report_dir: Path) -> None:
    """Called by the pipeline (``render(stage_into=project)``) after the results store:
    the report's ``_results/`` and the display copies of the executed notebooks go into
    the project. ``report_dir``: the report's folder relative to the project."""
    results = project / report_dir / RESULTS
    if results.exists():
        shutil.rmtree(results)
    shutil.copytree(build / report_dir / RESULTS, results)
    manifest = []
    backup = project / BACKUP / study_name
    for nb in sorted((build / "notebooks" / study_name).glob("*.ipynb")):
        source = project / "notebooks" / study_name / nb.name
        kept = backup / nb.name
        if source.is_file() and not kept.exists():   # an existing backup is the committed version
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, kept)
        manifest.append({"source": str(source.relative_to(project)), "backup": str(kept.relative_to(project))})
        shutil.copy2(nb, source)
    (results / MANIFEST).write_text(json.dumps({"study": study_name, "report_dir": report_dir.as_posix(),
                                                "notebooks": manifest}, indent=1), encoding="utf-8")


def restore_sources(project: Path) -> list[str]:
    """Put the committed notebooks back (also after an interrupted render)."""
    restored = []
    root = project / BACKUP
    if not root.is_dir():
        return restored
    for kept in sorted(root.rglob("*.ipynb")):
        rel = kept.relative_to(root)
        target = project / "notebooks" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(kept, target)
        restored.append(str(target.relative_to(project)))
    shutil.rmtree(root, ignore_errors=True)
    return restored


def pre_render(project: Path) -> None:
    """Each study whose report Quarto renders goes through the pipeline up to the results
    store; each report has its own ``_results/``, so one ``quarto render`` of the whole
    project publishes every study."""
    from trialsupp.pipeline.render import render
    restore_sources(project)
    for study in studies_to_render(project):
        render(study, project=project, formats=("html",), engine="quarto", stage_into=project)


def _manifests(project: Path) -> list[dict]:
    from trialsupp.study import available_studies, load_study
    found = []
    for name in available_studies(project):
        path = load_study(name, project).report.parent / RESULTS / MANIFEST
        if path.is_file():
            found.append(json.loads(path.read_text(encoding="utf-8")))
    return found


def post_render(project: Path) -> None:
    manifests = _manifests(project)
    restore_sources(project)
    outputs = [o.strip() for o in os.environ.get("QUARTO_PROJECT_OUTPUT_FILES", "").splitlines() if o.strip()]
    for m in manifests:
        previews = project / "_output" / m["study"] / "notebooks"
        for out in outputs:
            page = project / out
            if not (out.endswith(".html") and previews.is_dir()
                    and page.parent.as_posix().endswith("/" + m["report_dir"])):
                continue
            target = page.parent / "notebooks"
            target.mkdir(parents=True, exist_ok=True)
            for preview in previews.glob("*.html"):
                shutil.copy2(preview, target / preview.name)


def nest_contents(project: Path) -> None:
    """The HTML contents in reading order, as the built-in publisher writes them: eTable and
    eFigure lines under the eTables and eFigures entries (``builtin.nest_float_list``)."""
    from trialsupp.publish.builtin import nest_float_list
    for out in os.environ.get("QUARTO_PROJECT_OUTPUT_FILES", "").splitlines():
        page = project / out.strip()
        if out.strip().endswith(".html") and page.is_file():
            text = page.read_text(encoding="utf-8")
            nested = nest_float_list(text)
            if nested != text:
                page.write_text(nested, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--post" in argv:
        nest_contents(_project())   # also inside trialsupp's build folder
    if os.environ.get(STAGED):
        return 0            # inside trialsupp's own build folder: the pipeline staged everything
    project = _project()
    try:
        if "--post" in argv:
            post_render(project)
        else:
            pre_render(project)
    except Exception as exc:  # Quarto shows the script's stderr; one clear line
        print(f"trialsupp: error: {exc}", file=sys.stderr)
        if "--post" not in argv:
            restore_sources(project)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
