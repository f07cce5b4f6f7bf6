"""``trialsupp render``: data -> executed notebooks -> results store -> HTML + PDF.

Everything is written into a fresh version folder and swapped in as ``<out>`` only
when every step succeeded (see ``outdir``).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from trialsupp.ard import store
from trialsupp.ard.provenance import environment, git_state, sha256_file
from trialsupp.pipeline import outdir
from trialsupp.pipeline.execute import execute_notebook
from trialsupp.pipeline.progress import Reporter
from trialsupp.study import Study, find_project_dir, load_study, resolve_params

FORMATS = ("html", "pdf")
PROJECT_FILES = ("_quarto.yml", "_extensions", "report")


@dataclass
class RenderResult:
    out: Path
    files: dict[str, Path] = field(default_factory=dict)
    n_rows: int = 0
    numbering: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0


def _check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"--to: unknown format(s) {', '.join(bad) or '(none)'}; choose from html, pdf")
    return tuple(f for f in FORMATS if f in formats)


def prepare_data(study: Study, params: dict[str, Any], vdir: Path) -> Path:
    """The folder the notebooks read: generated (simulated study) or the study's data folder."""
    if study.raw["data"].get("source") == "simulate":
        from trialsupp.simulate.valor import simulate
        target = vdir / "data"
        simulate(seed=params["seed"], out=target, formats=("parquet",))
        return target
    if not study.data_dir.is_dir():
        raise FileNotFoundError(f"data directory {study.data_dir} does not exist")
    return study.data_dir


def hash_inputs(data_dir: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(data_dir.iterdir())
            if p.is_file() and p.suffix.lower() in (".xpt", ".parquet")}


def stage_project(project: Path, build: Path) -> None:
    for name in PROJECT_FILES:
        src = project / name
        if src.is_dir():
            shutil.copytree(src, build / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        elif src.exists():
            shutil.copy2(src, build / name)


def run_notebooks(study: Study, params: dict[str, Any], data_dir: Path, vdir: Path,
                  jobs: int, reporter: Reporter) -> list[Path]:
    project = study.project_dir
    base = {"study": study.name, "data_dir": str(data_dir), "out_dir": str(vdir), **params}
    base = {k: ("" if v is None else v) for k, v in base.items()}

    def run_one(nb: Path) -> Path:
        rel = nb.relative_to(project).as_posix()
        with reporter.task(rel):
            dest = vdir / "notebooks" / nb.name
            execute_notebook(nb, dest, base, cwd=project, display_name=rel)
            normalise_notebook(dest)
            return dest

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(run_one, study.notebooks))


def normalise_notebook(path: Path) -> None:
    """Drop run-time stamps papermill and nbclient write, so executions compare equal."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    pm = nb.get("metadata", {}).get("papermill", {})
    for key in ("start_time", "end_time", "duration", "input_path", "output_path"):
        pm.pop(key, None)
    for cell in nb.get("cells", []):
        cell.get("metadata", {}).pop("execution", None)
        pmc = cell.get("metadata", {}).get("papermill", {})
        for key in ("start_time", "end_time", "duration"):
            pmc.pop(key, None)
    store.atomic_write_text(path, json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def render(study: str = "valor", out: str | Path | None = None, formats: Sequence[str] = FORMATS,
           seed: int | None = None, jobs: int | None = None, params: dict[str, Any] | None = None,
           engine: str = "auto", wait: bool = False, reporter: Reporter | None = None) -> RenderResult:
    from trialsupp.publish import number_elements, publish

    started = time.monotonic()
    reporter = reporter or Reporter(quiet=True)
    formats = _check_formats(formats)
    project = find_project_dir()
    st = load_study(study, project)
    overrides = dict(params or {})
    if seed is not None:
        if "seed" not in st.params:
            raise ValueError(f"study {st.name} takes no seed (its data are not simulated)")
        overrides["seed"] = seed
    values = resolve_params(st, overrides)
    out = Path(out) if out else project / "_output" / st.name
    out = out if out.is_absolute() else Path.cwd() / out
    jobs = jobs or os.cpu_count() or 1

    with outdir.output_lock(out, wait=wait):
        vdir = outdir.new_version_dir(out)
        build = out.parent / f".{out.name}.build-{vdir.name.rsplit('-', 1)[-1]}"
        try:
            with reporter.stage("data"):
                data_dir = prepare_data(st, values, vdir)
                inputs = hash_inputs(data_dir)
            with reporter.stage("notebooks"):
                executed = run_notebooks(st, values, data_dir, vdir, jobs, reporter)
            with reporter.stage("results store"):
                build.mkdir()
                stage_project(project, build)
                nb_stage = build / "notebooks" / st.name
                nb_stage.mkdir(parents=True)
                for nb in executed:
                    shutil.copy2(nb, nb_stage / nb.name)
                entry = build / st.report.relative_to(project)
                numbering = number_elements(entry)
                rows = []
                for nb in executed:
                    rows += store.collect_notebook(nb, f"notebooks/{st.name}/{nb.name}")
                rows = store.resolve_output_ids(rows, numbering)
                run = run_metadata(st, values, inputs, project, out)
                store.write_store(rows, vdir, run)
                (build / "_results").mkdir()
                shutil.copy2(vdir / "ard.json", build / "_results" / "ard.json")
            with reporter.stage("publish " + "+".join(formats)):
                files = publish(build, entry, vdir, formats=formats, engine=engine, study=st,
                                params=values, run=run)
            outdir.swap_in(out, vdir)
        except BaseException:
            shutil.rmtree(vdir, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(build, ignore_errors=True)
    elapsed = time.monotonic() - started
    run_json = out / "run.json"
    meta = json.loads(run_json.read_text())
    meta["elapsed_s"] = round(elapsed, 2)
    store.atomic_write_text(run_json, json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return RenderResult(out=out, files={k: out / Path(v).name for k, v in files.items()},
                        n_rows=len(rows), numbering=numbering, elapsed_s=elapsed)


def run_metadata(st: Study, values: dict[str, Any], inputs: dict[str, str], project: Path,
                 out: Path) -> dict[str, Any]:
    env = environment()
    return {"study": st.name, "params": values, "inputs": inputs, "git": git_state(project),
            "python": env["python"], "packages": env["packages"],
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "out_dir": str(out)}
