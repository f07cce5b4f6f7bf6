"""``quarto render`` in a trialsupp project: the Quarto-native way to publish.

``_quarto.yml`` runs this module before and after Quarto renders::

    project:
      pre-render: python -m trialsupp.quarto_prerender
      post-render: python -m trialsupp.quarto_prerender --post

Before (``pre-render``): for the study whose report Quarto renders
(``QUARTO_PROJECT_INPUT_FILES``; all the project's reports with
``QUARTO_PROJECT_RENDER_ALL``), trialsupp runs its pipeline up to the results store,
as ``trialsupp render`` does (data, notebooks with the notebook cache, ARD rows), and
puts into the project what the report reads: ``_results/`` (``ard.json``,
``run.json``, ``floats.json``, ``parameters.qmd``, ``provenance.qmd``,
``trialsupp.json``) and the executed notebooks in their display form in place of
``notebooks/<study>/*.ipynb``, whose committed versions (without outputs) are kept
in ``.trialsupp-cache/quarto-sources/`` meanwhile. The pipeline's own output goes to
``_output/<study>/`` as usual (ARD store, notebook previews).

After (``post-render``): the HTML contents list is nested in reading order as the
built-in publisher's (also in the staged build), the committed notebooks are put back, and the notebook
previews are copied next to each rendered document (``notebooks/<nb>.html``, the
target of the source links).

In a fresh checkout, ``python -m trialsupp.quarto_prerender --init`` first writes
empty ``_results/`` placeholders: Quarto reads every report's includes before it runs
the pre-render step.

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


class PrerenderError(RuntimeError):
    pass


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


def stage_for_quarto(build: Path, project: Path, study_name: str) -> None:
    """Called by the pipeline (``render(stage_into=project)``) after the results store:
    ``_results/`` and the display copies of the executed notebooks go into the project."""
    results = project / "_results"
    if results.exists():
        shutil.rmtree(results)
    shutil.copytree(build / "_results", results)
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
    (results / MANIFEST).write_text(json.dumps({"study": study_name, "notebooks": manifest}, indent=1),
                                    encoding="utf-8")


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
    from trialsupp.pipeline.render import render
    restore_sources(project)
    studies = studies_to_render(project)
    if not studies:
        return              # Quarto renders something that is not a study's report
    if len(studies) > 1:
        raise PrerenderError(
            f"this render covers {len(studies)} studies ({', '.join(studies)}), whose reports share "
            "_results/; render one report at a time, e.g. `quarto render report/"
            f"{studies[0]}/index.qmd`, or use `trialsupp render --study NAME`")
    render(studies[0], project=project, formats=("html",), engine="quarto", stage_into=project)


def post_render(project: Path) -> None:
    manifest = project / "_results" / MANIFEST
    study = json.loads(manifest.read_text())["study"] if manifest.is_file() else None
    restore_sources(project)
    if study is None:
        return
    previews = project / "_output" / study / "notebooks"
    for out in os.environ.get("QUARTO_PROJECT_OUTPUT_FILES", "").splitlines():
        target = (project / out.strip()).parent / "notebooks"
        if out.strip().endswith(".html") and previews.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            for page in previews.glob("*.html"):
                shutil.copy2(page, target / page.name)


PLACEHOLDERS = ("parameters.qmd", "provenance.qmd")


def init(project: Path) -> list[Path]:
    """Quarto resolves every report's includes before its pre-render step runs, so the
    files the reports include from ``_results/`` must exist: empty placeholders."""
    made = []
    for name in PLACEHOLDERS:
        path = project / "_results" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("", encoding="utf-8")
            made.append(path)
    return made


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
        if "--init" in argv:
            init(project)
        elif "--post" in argv:
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
