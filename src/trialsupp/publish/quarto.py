"""The Quarto path: ``quarto render`` of the staged project.

Quarto (>= 1.5) must be on PATH (quarto.org, ``pip install quarto-cli``, or on
machines without GitHub access ``../shared/tools/quarto/install.sh``; CI installs it).

One ``quarto render <entry>`` for both formats (``--to html`` or ``--to typst``
for one; Quarto's ``typst`` format compiles the PDF with its Typst). The project config
(``<stage>/_quarto.yml``) sets ``output-dir: _output``; outputs are looked up
there and copied to ``out_dir`` when one is given.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Iterable

from trialsupp._files import link_or_copy
from trialsupp.publish import crossref as _xref
from trialsupp.publish.builtin import _data_ard_ids, nest_float_list
from trialsupp.publish.inline import inline_resources
from trialsupp.publish.prefill import prefill_report
from trialsupp.publish.provenance import EXTENSION, load_store, provenance_html
from trialsupp.publish.qmd import PublishError, parse_qmd, results_dir

MIN_VERSION = (1, 5)
QUARTO_TO = {"html": ("html", ".html"), "pdf": ("typst", ".pdf")}


def quarto_version(quarto: str = "quarto") -> tuple[int, ...] | None:
    """Version of the ``quarto`` on PATH, or None when it is missing or broken."""
    exe = shutil.which(quarto)
    if exe is None:
        return None
    try:
        res = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", res.stdout or "")
    if res.returncode != 0 or not m:
        return None
    return tuple(int(g) for g in m.groups() if g is not None)


def quarto_available(min_version: tuple[int, ...] = MIN_VERSION, quarto: str = "quarto") -> bool:
    """True when ``quarto --version`` reports at least ``min_version``."""
    version = quarto_version(quarto)
    return version is not None and version >= tuple(min_version)


def _output_path(stage: Path, entry: Path, suffix: str) -> Path | None:
    rel = entry.resolve().relative_to(stage)
    candidates = [stage / "_output" / rel.with_suffix(suffix), entry.with_suffix(suffix)]
    for c in candidates:
        if c.is_file():
            return c
    hits = sorted((stage / "_output").rglob(entry.stem + suffix)) if (stage / "_output").is_dir() else []
    return hits[0] if hits else None


def publish_quarto(stage_dir: str | Path, entry: str | Path, formats: Iterable[str] = ("html", "pdf"),
                   out_dir: str | Path | None = None, *, ard_json=None, quarto: str = "quarto",
                   profile: str | None = None, timeout: float = 1800) -> dict[str, Path]:
    """Render the staged report with Quarto; returns ``{"html": Path, "pdf": Path}``.

    The project's filter ``_extensions/trialsupp/trialsupp.lua`` adds what the
    built-in publisher adds (source lines, contents list, provenance blob of the
    displayed rows) from the report's ``_results/``. Warns when
    Quarto's numbering (order of appearance) would differ from the JAMA
    numbering by first citation used by the built-in publisher.
    """
    stage = Path(stage_dir).resolve()
    entry_path = ((stage / entry) if not Path(entry).is_absolute() else Path(entry)).resolve()
    if not entry_path.is_file():
        raise PublishError(f"report entry not found: {entry_path}")
    exe = shutil.which(quarto)
    if exe is None or not quarto_available(quarto=quarto):
        raise PublishError(f"Quarto >= {'.'.join(map(str, MIN_VERSION))} is not on PATH; "
                           "use engine='builtin'")
    results = results_dir(entry_path)
    if ard_json is not None and not (results / "ard.json").is_file():
        store = load_store(ard_json)
        results.mkdir(exist_ok=True)
        (results / "ard.json").write_text(json.dumps(store), encoding="utf-8")
    _warn_numbering(stage, entry_path)
    formats = tuple(formats)
    unknown = [f for f in formats if f not in QUARTO_TO]
    if unknown or not formats:
        raise PublishError(f"unknown format {', '.join(unknown) or '(none)'} (html, pdf)")
    # One Quarto process per format, run side by side: each is single-threaded (Deno, then
    # Pandoc, then Typst), so on two cores HTML and PDF take the time of the slower one.
    # Each runs in its own copy of the staged project (hard links: inputs are only read),
    # because two renders of one project share .quarto/ and _output/.
    # One process for all formats when there is one core (start-up is shared).
    # A process of one format gets the report with trialsupp's shortcodes written out
    # for that format (publish.prefill): Quarto's shortcode passes cost more than the rest
    # of trialsupp's work in the render.
    env = {**os.environ, "TRIALSUPP_STAGED_BUILD": "1"}  # the pre-render script has nothing to do
    entry_rel = entry_path.relative_to(stage)
    if len(formats) > 1 and (os.cpu_count() or 1) < 2:
        runs = [(stage, [])]
    else:
        runs = [(_link_copy(stage, f".quarto-{f}"), [QUARTO_TO[f][0]]) for f in formats]
        value = _ard_values(results)
        for where, (to,) in runs:
            prefill_report(where / entry_rel, where, to, value)

    def finish(where: Path, tos: list[str]) -> None:   # the HTML page while Typst still runs
        page = _output_path(where, where / entry_rel, ".html") if "html" in formats else None
        if page is not None and (not tos or "html" in tos):
            _finish_html(page, where, where / entry_rel)
    try:
        found_in = _run_quarto(exe, runs, entry_rel, profile, env, timeout, on_done=finish)
        written: dict[str, Path] = {}
        for fmt in formats:
            to, suffix = QUARTO_TO[fmt]
            where = found_in.get(to, stage)
            found = _output_path(where, where / entry_rel, suffix)
            if found is None:
                raise PublishError(f"quarto render {entry_rel} succeeded but no "
                                   f"{entry_path.stem}{suffix} was found under {where}")
            if where != stage:                 # bring it home: the staged project's _output/
                home = stage / found.relative_to(where)
                home.parent.mkdir(parents=True, exist_ok=True)
                found = Path(shutil.copy2(found, home))
            written[fmt] = found
    finally:
        for where, _ in runs:
            if where != stage:
                shutil.rmtree(where, ignore_errors=True)
    for fmt, found in list(written.items()):
        if out_dir is not None:
            dest = Path(out_dir)
            dest.mkdir(parents=True, exist_ok=True)
            found = Path(shutil.copy2(found, dest / found.name))
        written[fmt] = found
    return written


# Rendering HTML, Quarto is asked for what the page needs and no more: no embedding (Quarto
# parses the page again and runs Pandoc once more over it) and no provenance blob (a 1 MB
# <script> its HTML post-processing would parse and write); the page is finished here with
# what the built-in publisher does too: local resources written in as Pandoc's
# --embed-resources writes them, the blob of the rows shown, the nested contents list.
HTML_ARGS = ("-M", "embed-resources:false", "-M", "trialsupp-provenance:after-render")
PROVENANCE_MARK = "<!-- trialsupp:provenance -->"


def _finish_html(page: Path, project: Path, entry: Path) -> None:
    """Self-contained HTML page with the provenance blob, in place (idempotent)."""
    text = page.read_text(encoding="utf-8")
    text, _ = inline_resources(text, [page.parent, entry.parent, project])
    files = page.parent / f"{page.stem}_files"        # what Quarto's embedding removes too
    if files.is_dir():
        shutil.rmtree(files, ignore_errors=True)
    if PROVENANCE_MARK in text:
        results = results_dir(entry)
        shown = results / "ard-shown.json"
        store = load_store(shown if shown.is_file() else results / "ard.json")
        js = (project / EXTENSION / "provenance.js").read_text(encoding="utf-8")
        blob = provenance_html(store, js, ids=_data_ard_ids(text)).rstrip("\n")
        text = text.replace(PROVENANCE_MARK, blob, 1)
    page.write_text(nest_float_list(text), encoding="utf-8")


def _ard_values(results: Path):
    """``value(id)``: an ARD row's formatted value, from ``_results/ard-values.json`` (the rows
    the report shows) else the whole store; None for an unknown id."""
    path = results / "ard-values.json"
    values = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    store: dict | None = None

    def value(ard_id: str) -> str | None:
        nonlocal store
        text = values.get(ard_id)
        if text is None:
            if store is None:
                rows = load_store(results / "ard.json").get("rows", [])
                store = {r["id"]: r.get("stat_fmt") for r in rows if r.get("id") is not None}
            text = store.get(ard_id)
        return text if isinstance(text, str) else None
    return value


def _link_copy(stage: Path, name: str) -> Path:
    """A copy of the staged project in its hidden folder ``name`` (Quarto skips hidden folders;
    a killed render's copy goes with the build folder), hard-linked where possible."""
    dest = stage / name
    shutil.rmtree(dest, ignore_errors=True)
    ignore = shutil.ignore_patterns(".quarto*", "_output")
    shutil.copytree(stage, dest, symlinks=True, copy_function=link_or_copy, ignore=ignore)
    return dest


def _run_quarto(exe: str, runs, entry_rel: Path, profile, env, timeout, on_done=None) -> dict[str, Path]:
    """Start one ``quarto render`` per (folder, --to list) at once; wait for all; raise on failure.
    ``on_done(folder, --to list)`` is called as each one succeeds (in the order started).
    Returns the folder each Quarto format was rendered in."""
    procs = []
    for where, tos in runs:
        cmd = [exe, "render", str(entry_rel)] + [a for to in tos for a in ("--to", to)]
        if tos == ["html"]:
            cmd += HTML_ARGS
        if profile:
            cmd += ["--profile", profile]
        procs.append((where, tos, "quarto " + " ".join(cmd[1:]),
                      subprocess.Popen(cmd, cwd=where, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, env=env)))
    failure = None
    for where, tos, label, proc in procs:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            failure = failure or PublishError(f"{label} timed out after {timeout} s")
            continue
        if proc.returncode != 0 and failure is None:
            tail = "\n".join((err or out or "").strip().splitlines()[-40:])
            failure = PublishError(f"{label} failed (exit {proc.returncode}):\n{tail}")
        elif failure is None and on_done is not None:
            try:
                on_done(where, tos)
            except Exception as exc:        # the other processes are still waited for
                failure = exc
    if failure:
        raise failure
    return {to: where for where, tos, _, _ in procs for to in tos}


def _warn_numbering(stage: Path, entry: Path) -> None:
    try:
        doc = parse_qmd(entry, stage)
        numbering = _xref.number_elements(doc)
    except PublishError:
        return  # Quarto supports more than the built-in parser; let Quarto report problems
    bad = _xref.appearance_mismatch(numbering)
    if bad:
        warnings.warn("Quarto numbers eTables/eFigures in order of appearance, JAMA by first "
                      f"citation; these elements would get different numbers: {', '.join(bad)}. "
                      "Reorder the report so elements appear in order of first citation.",
                      stacklevel=3)
