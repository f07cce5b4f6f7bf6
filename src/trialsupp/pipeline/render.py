"""``trialsupp render``: data -> executed notebooks -> results store -> HTML + PDF.

Everything is written into a fresh version folder and swapped in as ``<out>`` only
when every step succeeded (see ``outdir``).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from trialsupp.ard import store
from trialsupp.ard.audit import audit_output, study_exemptions
from trialsupp.ard.provenance import environment, git_state, sha256_file
from trialsupp.pipeline import outdir, reuse
from trialsupp.publish.notebook_preview import write_preview
import trialsupp
from trialsupp.pipeline.cache import NotebookCache, cache_dir, digest, hash_deps, key_parts
from trialsupp.pipeline.deps import exec_line, read_record
from trialsupp.pipeline.execute import execute_notebook
from trialsupp.pipeline.kernels import KernelPool
from trialsupp.pipeline.progress import Reporter
from trialsupp.pipeline.stage import (parameter_rows, parameters_qmd, provenance_qmd, stage_metadata,
                                      stage_notebooks, stage_project, study_metadata,
                                      write_shown_store)
from trialsupp.data.io import DataError
from trialsupp.project import add_code_path, entry_point, install_templates, study_ref
from trialsupp.study import Study, load_study, resolve_params

FORMATS = ("html", "pdf", "docx")


@dataclass
class RenderResult:
    out: Path
    files: dict[str, Path] = field(default_factory=dict)
    n_rows: int = 0
    numbering: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    cache_hits: list[str] = field(default_factory=list)
    cache_misses: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)     # notebook -> why it ran or was restored
    unbound: list = field(default_factory=list)
    engine: str = ""
    unchanged: bool = False          # nothing the render depends on changed: the output was left as it is


class AuditError(RuntimeError):
    """``--strict``: the rendered output shows numbers not bound to ARD rows."""


def _check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"--to: unknown format(s) {', '.join(bad) or '(none)'}; choose from html, pdf, docx")
    return tuple(f for f in FORMATS if f in formats)


def preflight(study: Study) -> None:
    """Fail before any work when a path the render needs is missing."""
    if study.raw["data"].get("source") != "simulate" and not study.data_dir.is_dir():
        raise FileNotFoundError(f"data directory {study.data_dir} does not exist")
    for nb in study.notebooks:
        if not nb.is_file():
            raise FileNotFoundError(f"notebook {nb} listed by study {study.name} does not exist")
    if not study.report.is_file():
        raise FileNotFoundError(f"report {study.report} of study {study.name} does not exist")


def prepare_data(study: Study, params: dict[str, Any], vdir: Path) -> Path:
    """The folder the notebooks read: generated (simulated study) or the study's data folder."""
    if study.raw["data"].get("source") == "simulate":
        simulate = generator(study)
        target = vdir / "data"
        simulate(seed=params["seed"], out=target, formats=("parquet",), config=study.path)
        return target
    return study.data_dir


def check_inputs(study: Study, data_dir: Path) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Input datasets -> SHA-256, and the manifest's record for run.json. A study that reads
    files needs its manifest, and every file of the folder must be listed and unchanged."""
    if not study.reads_files:
        return hash_inputs(data_dir), None
    from trialsupp.data.manifest import check_folder, load_manifest, run_record
    manifest = load_manifest(data_dir, study.manifest)
    return check_folder(data_dir, manifest), run_record(manifest)


def check_data_requirements(study: Study, data_dir: Path) -> None:
    """The datasets, variables and types the study config and each notebook declare they
    need (``data.requirements``), checked on the data as delivered before any notebook runs."""
    from trialsupp.data.io import read_study
    from trialsupp.data.requirements import check, notebook_requirements, parse
    reqs = parse(study.raw.get("requirements"), f"study config {study.label}")
    for nb in study.notebooks:
        reqs += notebook_requirements(nb)
    if not reqs:
        return
    names = sorted({r.dataset for r in reqs})
    present = {p.stem.lower() for p in data_dir.iterdir() if p.suffix.lower() in (".xpt", ".parquet")}
    for r in reqs:
        if r.dataset not in present:
            raise DataError(f"dataset {r.dataset}: no {r.dataset}.xpt or {r.dataset}.parquet in {data_dir} "
                            f"(required by {r.by})")
    from trialsupp.data.parsed import parsed_dir, store_study
    folder = parsed_dir(study.project_dir)
    data = read_study(data_dir, names, parsed=folder, store=False)
    check(data.datasets, reqs)
    store_study(folder, data)     # checked frames: the notebooks read these, not the XPT files


def generator(study: Study):
    """The study's data generator (``data: {source: simulate, generator: "module:function"}``),
    called as ``generator(seed=, out=, formats=, config=<study config path>)``."""
    spec = study.raw["data"].get("generator")
    if not spec:
        raise ValueError(f"{study.label}: data.generator: a simulated study names its generator "
                         "('module:function' in the project's src/)")
    return entry_point(spec, study.project_dir, f"{study.label}: data.generator")


def hash_inputs(data_dir: Path) -> dict[str, str]:
    from trialsupp.data.io import FORMATS, NOT_DATASETS
    paths = sorted(p for p in data_dir.iterdir()
                   if p.suffix.lower() in FORMATS and p.stem.lower() not in NOT_DATASETS)
    for p in paths:     # was skipped here, then an IsADirectoryError inside the notebook
        if not p.is_file():
            raise DataError(f"{p}: is {'a directory' if p.is_dir() else 'not a regular file'}, "
                            f"expected a {p.suffix.lower().lstrip('.')} file")
    return {p.name: sha256_file(p) for p in paths}


def run_notebooks(study: Study, params: dict[str, Any], data_dir: Path, vdir: Path, inputs: dict[str, str],
                  jobs: int, reporter: Reporter, cache: NotebookCache,
                  written: list[str] | None = None, kernels: KernelPool | None = None) -> list[Path]:
    """Execute (or restore from the cache) every notebook; each writes its files into
    its own work folder, merged into the output afterwards (their paths, relative to the
    output, are appended to ``written``). ``kernels``: the render's warm kernel pool (closed
    here; its zygote starts when the first notebook must run, unless started before)."""
    project = study.project_dir
    system = {"study": study_ref(study.path, project, study.name), "data_dir": str(data_dir)}
    values = {k: ("" if v is None else v) for k, v in {**system, **params}.items()}

    def run_one(nb: Path) -> Path:
        rel = nb.relative_to(project).as_posix()
        dest = vdir / "notebooks" / nb.name
        work = vdir / ".work" / nb.stem
        parts = key_parts(nb, _replace_places(values, {str(project): "."}), inputs)
        key = digest(parts)
        with reporter.task(rel) as note:
            found = cache.find(key, parts, rel)
            cache.reasons[rel] = found.reason
            if found.entry is not None:
                cache.restore(found.entry, dest, work)
                date_rtf_files(work)
                cache.hits.append(rel)
                note("restored from cache")
            else:
                cache.misses.append(rel)
                note(found.reason)
                work.mkdir(parents=True, exist_ok=True)
                record = vdir / ".work" / f"{nb.stem}.deps"
                startup = exec_line(str(record), [str(project), str(data_dir)],
                                    [str(vdir), str(cache.root), str(Path(trialsupp.__file__).parent)])
                execute_notebook(nb, dest, {**values, "out_dir": str(work)}, cwd=project, display_name=rel,
                                 startup=startup, pool=kernels, finish=functools.partial(
                                     normalise_nb, places={str(work): ".", str(vdir): ".", str(project): "."},
                                     run_places={str(work): ".", str(vdir): "."}))
                deps = hash_deps(read_record(record), project)
                cache.deps[rel] = deps
                record.unlink(missing_ok=True)
                cache.store(key, parts, rel, dest, work, deps)
        return dest

    kernels = kernels or KernelPool(project)
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(run_one, nb) for nb in study.notebooks]
            try:
                executed = [f.result() for f in futures]
            except BaseException:           # a failed notebook or Ctrl-C: stop the others' kernels now
                for f in futures:
                    f.cancel()
                kernels.close()
                raise
    finally:
        kernels.close()
    work_root = vdir / ".work"
    if work_root.is_dir():
        for work in sorted(work_root.iterdir()):
            if written is not None:
                written += [p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()]
            shutil.copytree(work, vdir, dirs_exist_ok=True)
        shutil.rmtree(work_root)
    return executed


def date_rtf_files(folder: Path) -> None:
    """RTF outputs restored from the notebook cache carry the run time of the render that
    executed them: date them by this render (``SOURCE_DATE_EPOCH``), as a re-execution would,
    so that they agree with run.json and verify's re-run writes the same bytes."""
    from trialsupp.display._render_rtf import restamp, run_stamp
    stamp = run_stamp()
    for path in sorted(folder.rglob("*.rtf")):
        text = path.read_text(encoding="latin-1")
        dated = restamp(text, stamp)
        if dated != text:
            path.write_text(dated, encoding="latin-1")


INJECTED_CELL_ID = "injected-parameters"


def _replace_places(value: Any, places: dict[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in places.items():
            value = value.replace(old + os.sep, new + "/").replace(old, new)
        return value
    if isinstance(value, list):
        return [_replace_places(v, places) for v in value]
    if isinstance(value, dict):
        return {k: _replace_places(v, places) for k, v in value.items()}
    return value


def normalise_notebook(path: Path, places: dict[str, str] | None = None,
                       run_places: dict[str, str] | None = None) -> None:
    """Drop run-time stamps papermill and nbclient write, so executions compare equal.

    Also: papermill gives its injected-parameters cell a random id (fixed here), and
    ``places`` maps run-specific folders (the version folder ``.<out>.<stamp>-<hex>`` and
    the notebook's work folder, which ``out_dir``/``data_dir`` point into) to stable
    relative paths in that cell and in the papermill parameters (longest first);
    ``run_places`` (the temporary folders only) are also replaced in printed outputs, so a
    cached notebook keeps no absolute path of an earlier render's temporary folder.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    normalise_nb(nb, places, run_places)
    store.atomic_write_text(path, json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def normalise_nb(nb: dict, places: dict[str, str] | None = None, run_places: dict[str, str] | None = None) -> None:
    """``normalise_notebook`` on the notebook in memory."""
    places = dict(sorted((places or {}).items(), key=lambda kv: -len(kv[0])))
    run_places = dict(sorted((run_places or {}).items(), key=lambda kv: -len(kv[0])))
    pm = nb.get("metadata", {}).get("papermill", {})
    for key in ("start_time", "end_time", "duration", "input_path", "output_path"):
        pm.pop(key, None)
    if places and isinstance(pm.get("parameters"), dict):
        pm["parameters"] = _replace_places(pm["parameters"], places)
    for cell in nb.get("cells", []):
        if INJECTED_CELL_ID in cell.get("metadata", {}).get("tags", []):
            cell["id"] = INJECTED_CELL_ID
            if places:
                cell["source"] = _replace_places(cell.get("source", ""), places)
        cell.get("metadata", {}).pop("execution", None)
        if run_places:         # printed paths of this run's temporary folders (never the ARD itself)
            for output in cell.get("outputs", []):
                for field_ in ("text", "traceback"):
                    if field_ in output:
                        output[field_] = _replace_places(output[field_], run_places)
                for mime, value in list(output.get("data", {}).items()):
                    if mime.startswith("text/") or mime == "image/svg+xml":
                        output["data"][mime] = _replace_places(value, run_places)
                if output.get("metadata"):          # e.g. the paths of a figure's saved files
                    output["metadata"] = _replace_places(output["metadata"], run_places)
        pmc = cell.get("metadata", {}).get("papermill", {})
        for key in ("start_time", "end_time", "duration"):
            pmc.pop(key, None)


def render(study: str | Path | None = None, out: str | Path | None = None, formats: Sequence[str] = FORMATS,
           seed: int | None = None, jobs: int | None = None, params: dict[str, Any] | None = None,
           engine: str = "auto", wait: bool = False, reporter: Reporter | None = None,
           force: bool = False, strict: bool = False, project: str | Path | None = None,
           reproducible: bool = False, stage_into: str | Path | None = None,
           kernels: KernelPool | None = None) -> RenderResult:
    """Render a study (see the module docstring). ``stage_into``: stop after the results
    store and put ``_results/`` and the executed notebooks into that project folder, for
    ``quarto render`` to publish (``trialsupp.quarto_prerender``, Quarto's pre-render step).
    ``kernels``: a kernel pool the caller started early (``kernels.start_early``); closed here."""
    from trialsupp.pipeline.reproducible import document_time, epoch_of
    from trialsupp.publish import resolve_engine

    started = time.monotonic()
    reporter = reporter or Reporter(quiet=True)
    formats = _check_formats(formats)
    st = load_study(study, project)
    project = st.project_dir
    install_templates(project)      # the Quarto extension and base _quarto.yml, when missing or outdated
    add_code_path(project)          # <project>/src: notebooks and generators import the project's own code
    overrides = dict(params or {})
    if seed is not None:
        if "seed" not in st.params:
            raise ValueError(f"study {st.name} takes no seed (its data are not simulated)")
        overrides["seed"] = seed
    values = resolve_params(st, overrides)
    preflight(st)
    engine = resolve_engine(engine)     # "quarto" or "builtin" (fails early for a missing Quarto)
    fixed = document_time(st, values, reproducible)
    before = {k: os.environ.get(k) for k in ("SOURCE_DATE_EPOCH", "TRIALSUPP_PROJECT")}
    # every document is dated by one time: the fixed one, else the run's start (to the second),
    # so that verify can re-make each of them byte for byte (Pandoc's DOCX zip dates included)
    clock = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    os.environ["SOURCE_DATE_EPOCH"] = epoch_of(fixed[0] if fixed else clock)  # kernels, Quarto, Pandoc read it
    from trialsupp.pipeline.fingerprint import render_fingerprints
    fp, compute = render_fingerprints(st, values, formats, engine, fixed)
    try:
        return _render(st, project, values, out, formats, jobs, engine, wait, reporter, force, strict,
                       fixed, started, stage_into, fp, compute, kernels)
    finally:        # a library call leaves the process environment as it found it
        if kernels is not None:
            kernels.close()
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _render(st: Study, project: Path, values: dict[str, Any], out, formats, jobs, engine, wait,
            reporter, force, strict, fixed, started, stage_into=None, fp=None, compute=None,
            kernels=None) -> RenderResult:
    from trialsupp.publish import engine_versions, number_elements, publish
    from trialsupp.publish.qmd import results_dir
    out = Path(out) if out else project / "_output" / st.name
    out = Path(os.path.abspath(out))     # "../x" normalised; not resolve(): <out> is a symlink
    # one kernel more than cores: a kernel starting up, or a notebook waiting on the render
    # process (its executed copy being written), leaves a core idle otherwise (valor: -1.1 s)
    jobs = jobs or (os.cpu_count() or 1) + 1
    cache = NotebookCache(cache_dir(project), enabled=not force, project=project)
    os.environ["TRIALSUPP_PROJECT"] = str(project)      # kernels find the project from any folder
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")                   # notebooks run in parallel; BLAS threads fight

    with outdir.output_lock(out, wait=wait):
        if fp and stage_into is None and not force:
            from trialsupp.pipeline.fingerprint import unchanged
            if unchanged(out, fp):
                outdir.sweep_leftovers(out)          # still clear what killed renders left behind
                reporter.stage_skipped("render", "unchanged: nothing it depends on changed")
                result = _unchanged_result(out, formats, engine, started)
                if strict and result.unbound:        # --strict judges the recorded audit too
                    raise AuditError(f"{len(result.unbound)} number(s) not bound to an ARD row: "
                                     + "; ".join(result.unbound[:5]) + (" ..." if len(result.unbound) > 5 else ""))
                return result
        prev = None          # only report/ (or what else only the publisher reads) changed: re-publish
        if compute and stage_into is None and not force:
            prev = reuse.previous(out, compute, project, st.notebooks)
        vdir = outdir.new_version_dir(out)
        build = out.parent / f".{out.name}.build-{vdir.name.rsplit('-', 1)[-1]}"
        nb_files: list[str] = []
        kernels = kernels or KernelPool(project)
        background = ThreadPoolExecutor(max_workers=2)    # ard.csv and Word, made while publishing
        csv_done, parsed, previews = None, None, []
        if prev is None and (not cache.enabled or cache.unseen(st.notebooks)):
            kernels.start()         # a cold render: the zygote imports while the data are made
        try:
            if prev is not None:
                with reporter.stage("data and notebooks: unchanged, from the previous render"):
                    data_dir = st.data_dir
                    if st.raw["data"].get("source") == "simulate":
                        reuse.reuse_data(prev, vdir)
                        data_dir = vdir / "data"
                    inputs, manifest_record = check_inputs(st, data_dir)     # as the full path records them
                    executed = reuse.reuse_notebooks(prev, st.notebooks, vdir)
                    nb_files = list(prev.files)
                    cache.deps[""] = prev.run[reuse.KEY].get("notebook_deps") or {}
                    for nb in st.notebooks:
                        rel = nb.relative_to(project).as_posix()
                        cache.reasons[rel] = reuse.REASON
                        cache.hits.append(rel)
            else:
                with reporter.stage("data"):
                    data_dir = prepare_data(st, values, vdir)
                    inputs, manifest_record = check_inputs(st, data_dir)
                    check_data_requirements(st, data_dir)
                with reporter.stage("notebooks"):
                    executed = run_notebooks(st, values, data_dir, vdir, inputs, jobs, reporter, cache, nb_files,
                                             kernels)
                    # each executed notebook parsed once: its preview, then its ARD rows and display copy
                    parsed = [store.read_notebook(nb) for nb in executed]
                    for nb, doc in zip(executed, parsed):
                        previews.append(write_preview(nb, title=f"notebooks/{st.name}/{nb.name} (executed)",
                                                      notebook=doc))
            with reporter.stage("results store"):
                build.mkdir()
                stage_project(project, build)
                stage_metadata(build, st)
                entry = build / st.report.relative_to(project)
                results = results_dir(entry)            # report/<study>/_results/
                results.mkdir(parents=True)
                if parsed is None:
                    parsed = [store.read_notebook(nb) for nb in executed]
                rows = []
                for nb, doc in zip(executed, parsed):
                    rows += store.collect_notebook(nb, f"notebooks/{st.name}/{nb.name}", nb=doc)
                shown_nbs = stage_notebooks(executed, build / "notebooks" / st.name, results, parsed)
                param_rows = parameter_rows(st, values)
                (results / "parameters.qmd").write_text(parameters_qmd(param_rows), encoding="utf-8")
                (results / "provenance.qmd").write_text("", encoding="utf-8")   # filled below
                numbering = number_elements(entry)
                rows = store.resolve_output_ids(rows, numbering)
                run = run_metadata(st, values, inputs, project, out)
                clock_started = run["started"]
                run["started"] = (fixed[0] if fixed else dt.datetime.fromtimestamp(
                    int(os.environ["SOURCE_DATE_EPOCH"]), dt.timezone.utc)).isoformat(timespec="seconds")
                run["formats"] = list(formats)
                run["notebooks"] = dict(sorted(cache.reasons.items()))
                if manifest_record:
                    run["data_manifest"] = manifest_record
                store_key = {"numbering": numbering, "run": store.run_digest(run)}
                if prev is not None and reuse.same_store(prev, store_key):    # same rows, same run: same bytes
                    store.write_run(vdir, run)
                    reuse.reuse_store(prev, vdir)
                    ard_doc = json.loads((vdir / "ard.json").read_text(encoding="utf-8"))
                else:       # ard.csv is written while the publisher works (joined before the manifest)
                    ard_doc = store.write_store(rows + param_rows, vdir, run, csv=False)
                    csv_done = background.submit(store.write_csv, ard_doc["rows"], vdir)
                (results / "provenance.qmd").write_text(provenance_qmd(rows, run), encoding="utf-8")
                shutil.copy2(vdir / "ard.json", results / "ard.json")
                # ard_doc: one copy for the shown store, the built-in publisher and the audit
                shutil.copy2(vdir / "run.json", results / "run.json")
                (results / "trialsupp.json").write_text(     # the study's `trialsupp:` map
                    json.dumps(study_metadata(st), indent=1, ensure_ascii=False), encoding="utf-8")
                write_shown_store(build, entry, store=ard_doc, notebooks=shown_nbs)
            if stage_into is not None:          # `quarto render` publishes (pre-render script)
                from trialsupp.quarto_prerender import stage_for_quarto
                with reporter.stage("stage for quarto render"):
                    stage_for_quarto(build, Path(stage_into), st.name, st.report.parent.relative_to(project))
                files, unbound = {}, []
            else:
                with reporter.stage("publish " + "+".join(formats)):
                    # Word is made from the published HTML (same text, same numbers)
                    web = tuple(f for f in formats if f != "docx") or ("html",)
                    if "docx" in formats and "html" not in web:
                        web = ("html",) + web
                    texts, patterns = study_exemptions(st)
                    early = EarlyAudit(vdir, patterns, texts, html="html" in formats, doc=ard_doc)
                    csr = st.raw.get("layout") == "csr"
                    word = EarlyWord(vdir, csr=csr, pool=background) if "docx" in formats else None
                    files = publish(build, entry, vdir, formats=web, engine=engine, study=st, params=values,
                                    run=run, **({"on_written": early, "word_source": word, "ard_json": ard_doc}
                                                if engine == "builtin" else {}))
                    files = name_outputs(files, vdir)
                    remove_control_characters(vdir, clean=[files[k] for k in early.cleaned if k in files] + previews)
                    if "docx" in formats:
                        files.update(publish_docx(vdir, csr=csr, keep_html="html" in formats,
                                                  made=word.result() if word else None))
                with reporter.stage("audit"):
                    unbound = early.result(vdir)
                    if unbound and strict:
                        listed = "; ".join(u.line() for u in unbound[:5])
                        raise AuditError(f"{len(unbound)} number(s) not bound to an ARD row: {listed}"
                                         + (" ..." if len(unbound) > 5 else ""))
            elapsed = time.monotonic() - started
            run_json = vdir / "run.json"
            meta = json.loads(run_json.read_text())
            meta["elapsed_s"] = round(elapsed, 2)
            if fixed:
                meta["reproducible"] = {"document_time": run["started"], "source": fixed[1],
                                        "clock_started": clock_started}
            meta["engine"] = engine_versions(engine)     # {"name": "quarto", "quarto": "1.10.18"} or builtin's
            meta["audit_unbound"] = [u.line() for u in unbound]
            if fp and stage_into is None:
                meta["fingerprint"] = fp             # an unchanged re-render leaves this output as it is
                if compute:                          # a change to report/ only re-publishes
                    meta[reuse.KEY] = reuse.record(compute, nb_files, cache.deps, store_key)
                meta["n_rows"] = len(rows) + len(param_rows)
            store.atomic_write_text(run_json, json.dumps(meta, indent=1, sort_keys=True) + "\n")
            if csv_done is not None:
                csv_done.result()
            write_output_manifest(vdir)
            outdir.swap_in(out, vdir)
        except BaseException:
            background.shutdown(wait=True, cancel_futures=True)     # nothing writes into vdir any more
            shutil.rmtree(vdir, ignore_errors=True)
            raise
        finally:
            background.shutdown(wait=True)
            kernels.close()
            shutil.rmtree(build, ignore_errors=True)
    return RenderResult(out=out, files={k: out / Path(v).name for k, v in files.items()},
                        n_rows=len(rows) + len(param_rows), numbering=numbering, elapsed_s=elapsed,
                        cache_hits=cache.hits, cache_misses=cache.misses, reasons=dict(cache.reasons),
                        unbound=unbound,
                        engine=engine)


class EarlyAudit:
    """The audit of each document as soon as the publisher has written it (the HTML's while
    the PDF is still being made); ``result`` audits what it did not see."""

    def __init__(self, vdir: Path, patterns: list[str], texts: list[str], html: bool, doc: dict | None = None):
        self.vdir, self.patterns, self.texts, self.html = vdir, patterns, texts, html
        self.doc = doc                  # the parsed ard.json of vdir, if at hand
        self.found: dict[str, list] = {}
        self._ard = None
        self._pdf_context = None
        self.cleaned: set[str] = set()        # documents ("html") this audit left without control characters
        self._lock = threading.Lock()

    def ard(self):
        with self._lock:
            if self._ard is None:
                self._ard = store.store_doc_frame(self.doc) if self.doc is not None else store.read_store(self.vdir)
            return self._ard

    def __call__(self, kind: str, path: Path) -> None:
        from trialsupp.ard.audit import audit_html, audit_pdf, pdf_context
        from trialsupp.display._escape import strip_controls
        if kind == "html" and self.html:     # the HTML as published: without control characters
            text = path.read_text(encoding="utf-8")
            clean = strip_controls(text)
            if clean != text:
                store.atomic_write_text(path, clean)
            self.cleaned.add(kind)
            self.found["html"] = audit_html(clean, self.ard(), self.patterns)
            self._pdf_context = pdf_context(self.ard())      # while the PDF is still being made
        elif kind == "pdf":
            self.found["pdf"] = audit_pdf(path, self.ard(), self.patterns, self.texts, context=self._pdf_context)

    def result(self, vdir: Path) -> list:
        shown = [k for k in ("html", "pdf") if (vdir / f"supplement.{k}").exists()]
        if all(k in self.found for k in shown):
            return [u for k in shown for u in self.found[k]]
        return audit_output(vdir, self.patterns, self.texts)


def _unchanged_result(out: Path, formats, engine: str, started: float) -> RenderResult:
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    files = {f: out / f"supplement.{f}" for f in formats if (out / f"supplement.{f}").is_file()}
    return RenderResult(out=out, files=files, n_rows=int(meta.get("n_rows", 0)),
                        elapsed_s=time.monotonic() - started, engine=engine,
                        unbound=list(meta.get("audit_unbound", [])), unchanged=True)


def remove_control_characters(vdir: Path, clean: Sequence[Path] = ()) -> None:
    """No BEL, ESC or other control character from the data reaches a published HTML page
    (the escaping functions drop them from tables; this also covers text that came
    through Pandoc or a notebook's own output). ``clean``: pages already stripped (the
    notebook previews are written stripped; the audited HTML is stripped by its audit)."""
    from trialsupp.display._escape import strip_controls
    skip = {Path(p).resolve() for p in clean}
    for page in vdir.rglob("*.html"):
        if page.resolve() in skip:
            continue
        text = page.read_text(encoding="utf-8")
        clean = strip_controls(text)
        if clean != text:
            store.atomic_write_text(page, clean)


class EarlyWord:
    """``supplement.docx`` (and, for the CSR layout, ``docx/<element>.docx`` per output table)
    made from the published HTML as soon as the publisher has written it, while the PDF is
    still being made (``word_source`` of ``publish_builtin``)."""

    def __init__(self, vdir: Path, csr: bool, pool: ThreadPoolExecutor | None = None):
        self.vdir, self.csr, self.pool = vdir, csr, pool
        self.made: Path | None = None
        self._job = None

    def __call__(self, source: Path) -> None:
        """Make the documents; with ``pool``, in that pool (the HTML's audit goes on meanwhile:
        ``result()`` waits for them)."""
        if self.pool is None:
            self._make(source)
        else:
            self._job = self.pool.submit(self._make, source)

    def result(self) -> Path | None:
        if self._job is not None:
            self._job.result()
        return self.made

    def _make(self, source: Path) -> None:
        self.made = make_word(self.vdir, source, csr=self.csr)


def make_word(vdir: Path, source: Path, *, csr: bool) -> Path:
    """``<vdir>/supplement.docx`` from the published page ``source`` (one Pandoc run) and, for the
    CSR layout, ``docx/<element>.docx`` cut from it."""
    from trialsupp.display._escape import strip_controls
    from trialsupp.publish.docx import html_to_docx, output_docx
    html = strip_controls(source.read_text(encoding="utf-8"))   # as remove_control_characters leaves the page
    made = html_to_docx(html, vdir / "supplement.docx", figures=vdir / "figures", landscape=csr)
    if csr:
        output_docx(html, vdir / "docx", whole=made)
    return made


def publish_docx(vdir: Path, *, csr: bool, keep_html: bool, made: Path | None = None) -> dict[str, Path]:
    """``supplement.docx`` and, for the CSR layout, ``docx/<element>.docx`` per output table,
    unless ``made`` already (see ``EarlyWord``)."""
    html = vdir / "supplement.html"
    if made is None:
        made = make_word(vdir, html, csr=csr)
    if not keep_html:
        html.unlink()
    return {"docx": made}


def name_outputs(files: dict[str, Path], vdir: Path) -> dict[str, Path]:
    """Published files are called ``supplement.<ext>`` whatever the report's file name."""
    named = {}
    for kind, path in files.items():
        target = vdir / f"supplement{Path(path).suffix}"
        if Path(path).resolve() != target.resolve():
            os.replace(path, target)
        named[kind] = target
    return named


def write_output_manifest(vdir: Path) -> None:
    """``manifest.json``: the SHA-256 of every file the render wrote (``verify`` checks them)."""
    from trialsupp.pipeline.integrity import OUTPUT_MANIFEST, hash_output
    doc = {"schema": "trialsupp-output-manifest/1", "files": hash_output(vdir)}
    store.atomic_write_text(vdir / OUTPUT_MANIFEST, json.dumps(doc, indent=1, sort_keys=True) + "\n")


def run_metadata(st: Study, values: dict[str, Any], inputs: dict[str, str], project: Path,
                 out: Path) -> dict[str, Any]:
    env = environment()
    return {"study": st.name, "study_config": str(st.path.resolve()), "project": str(project.resolve()),
            "params": values, "inputs": inputs, "git": git_state(project),
            "python": env["python"], "packages": env["packages"],
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "out_dir": str(out)}
