"""``trialsupp verify``: the peer reviewer's check.

1. Hash the inputs again and compare with the hashes recorded by the render.
2. Re-run the whole pipeline with the recorded study and parameters in a fresh
   temporary folder.
3. Compare every ARD row (counts exactly, other numbers to ``rtol``), every
   displayed string of the HTML, and the HTML's bound numbers against the store.
4. Check every file of the output against the render's ``manifest.json`` (any byte
   changed since the render) and against the re-run's file (made with the recorded start
   time, so dated documents match byte for byte); each difference by file, place, value.
5. Write ``verify.json`` and ``verify.html`` (the reproducibility certificate).
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from trialsupp.ard.audit import audit_html
from trialsupp.ard.compare import compare_ard
from trialsupp.ard.provenance import environment, sha256_file
from trialsupp.ard.store import atomic_write_text, read_store
from trialsupp.data.io import DataError
from trialsupp.pipeline.integrity import check_manifest, explain, output_files
from trialsupp.pipeline.outdir import output_lock

SPAN = re.compile(r'<span class="ts-stat" data-ard="([^"]+)"[^>]*>(.*?)</span>', re.S)


def displayed_values(html_text: str) -> dict[str, str]:
    return {ids: re.sub(r"<[^>]+>", "", text).strip() for ids, text in SPAN.findall(html_text)}


def check_inputs(run: dict[str, Any], data_dir: Path) -> list[str]:
    problems = []
    for name, recorded in sorted((run.get("inputs") or {}).items()):
        path = data_dir / name
        if not path.exists():
            problems.append(f"input {name}: missing from {data_dir}")
        elif sha256_file(path) != recorded:
            problems.append(f"input {name}: SHA-256 differs from the recorded {recorded[:12]}... (data changed)")
    return problems


def recorded_engine(run: dict[str, Any], engine: str | None) -> str:
    """The publisher the re-run uses: the one named (``quarto``/``builtin``), or for
    ``auto``/None the one recorded in run.json, which must then be available."""
    from trialsupp.publish import PublishError, resolve_engine
    if engine not in (None, "auto"):
        return resolve_engine(engine)
    made_by = run.get("engine")
    made_by = made_by.get("name") if isinstance(made_by, dict) else made_by
    if made_by is None:                  # output from before run.json recorded the engine
        return resolve_engine("auto")
    if made_by == "quarto":
        try:
            return resolve_engine("quarto")
        except PublishError:
            version = run["engine"].get("quarto", "") if isinstance(run["engine"], dict) else ""
            raise PublishError(f"verify: this output was published with Quarto {version}, which is not "
                               "on PATH; install Quarto, or pass --engine builtin to re-publish with "
                               "the built-in publisher") from None
    return "builtin"


VERIFY_STEPS = ("inputs and output files", "re-run every notebook and re-publish", "compare files and documents",
                "compare ARD rows and displayed values", "write the certificate")


def verify(out_dir: Path, rtol: float = 1e-9, engine: str | None = None, reporter=None) -> dict[str, Any]:
    """Re-run an output from its recorded inputs and compare; ``reporter`` (``progress.Reporter``)
    shows each step (what runs, how many are left) and the re-run's notebooks."""
    from trialsupp.pipeline.progress import Reporter
    from trialsupp.pipeline.render import render
    from trialsupp.study import load_study
    reporter = reporter or Reporter(quiet=True)

    def step(i):
        return reporter.stage(f"verify {i + 1}/{len(VERIFY_STEPS)}: {VERIFY_STEPS[i]}")

    out_dir = Path(out_dir)
    recorded = read_store(out_dir)
    run = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    engine = recorded_engine(run, engine)
    # run.json records the resolved study config and project: verify works from any folder
    study = load_study(run.get("study_config") or run["study"], run.get("project"))
    study_ref = str(study.path)
    data_dir = out_dir / "data" if study.raw["data"].get("source") == "simulate" else study.data_dir
    report: dict[str, Any] = {"out_dir": str(out_dir), "study": run["study"], "params": run["params"],
                              "engine": engine,
                              "checked": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              "rtol": rtol, "problems": []}
    with step(0):
        report["problems"] += check_inputs(run, data_dir)
        render_status, changed = check_manifest(out_dir)
        report["problems"] += changed
        html_path = out_dir / "supplement.html"
        old_html = html_path.read_text(encoding="utf-8") if html_path.exists() else ""
        if old_html:
            report["problems"] += [f"HTML: {u.number!r} {u.context}" for u in audit_html(old_html, recorded)
                                   if "ARD" in u.context]

    files: list[dict[str, Any]] = []
    # the documents carry the run's date: the re-run is dated the same (SOURCE_DATE_EPOCH), so
    # every file of a faithful output is byte-identical to the re-run's
    fixed = run.get("reproducible") or {"document_time": run.get("started")}
    with tempfile.TemporaryDirectory(prefix="trialsupp-verify-") as tmp:
        formats = run.get("formats") or [f for f in ("html", "pdf", "docx")
                                          if (out_dir / f"supplement.{f}").exists()] or ["html"]
        params = {k: v for k, v in run["params"].items() if v is not None and k != "seed"}
        # force: really re-execute every notebook; a hit in the notebook cache (same machine,
        # same inputs and code) would only restore the executed notebooks being verified
        with step(1):
            try:
                again = _rerender(render, study_ref, study.project_dir, Path(tmp) / "out", formats, run, params,
                                  engine, fixed if fixed.get("document_time") else None, reporter)
            except DataError as exc:    # the inputs no longer pass their manifest: nothing to compare with
                again = None
                report["problems"].append(f"re-run refused: {exc}")
                files += [{"file": rel, "render": st, "rerun": "not re-run", "sha256": sha256_file(out_dir / rel)
                           if (out_dir / rel).is_file() else None} for rel, st in sorted(render_status.items())]
        with step(2):
            if again is not None:
                report["problems"] += compare_files(out_dir, again.out, render_status, files)
                report["documents"] = compare_documents(out_dir, again.out, formats)
                report["problems"] += [f"document {name}: SHA-256 {d['recorded'][:12]}... (recorded) vs "
                                       f"{d['rerun'][:12]}... (re-run)"
                                       for name, d in report["documents"]["files"].items() if not d["match"]]
        with step(3):
            if again is not None:
                fresh = read_store(again.out)
                if run.get("inputs") != json.loads((again.out / "run.json").read_text())["inputs"]:
                    report["problems"].append("inputs: the re-run read inputs with other hashes than recorded")
                new_html = (again.out / "supplement.html").read_text(encoding="utf-8") if "html" in formats else ""
            else:
                fresh, new_html = recorded.iloc[0:0], ""
            comparison = compare_ard(recorded, fresh, rtol=rtol)
            fresh_env = environment()

    report["files"] = files
    report["ard"] = {"recorded_rows": comparison.n_a, "rerun_rows": comparison.n_b,
                     "matched": comparison.matched, "only_recorded": comparison.only_a,
                     "only_rerun": comparison.only_b,
                     "mismatched": [d.__dict__ for d in comparison.differences]}
    report["problems"] += [f"ARD {d.line()}" for d in comparison.differences]
    if again is not None:
        report["problems"] += [f"ARD row {i} missing from the re-run" for i in comparison.only_a]
    report["problems"] += [f"ARD row {i} new in the re-run" for i in comparison.only_b]
    if old_html and new_html:
        old_vals, new_vals = displayed_values(old_html), displayed_values(new_html)
        shown = [f"displayed {ids}: {old_vals[ids]!r} (recorded) vs {new_vals.get(ids)!r} (re-run)"
                 for ids in sorted(old_vals) if old_vals[ids] != new_vals.get(ids)]
        report["displayed"] = {"compared": len(old_vals), "mismatched": len(shown)}
        report["problems"] += shown
    report["environment"] = {"recorded": {"python": run.get("python"), "packages": run.get("packages")},
                             "now": fresh_env}
    report["environment_differences"] = sorted(
        f"{k}: {v} -> {fresh_env['packages'].get(k)}" for k, v in (run.get("packages") or {}).items()
        if fresh_env["packages"].get(k) != v)
    report["verdict"] = "reproduced" if not report["problems"] else "NOT reproduced"
    with step(4), output_lock(out_dir, wait=True):        # never write into an output a render is replacing
        atomic_write_text(out_dir / "verify.json", json.dumps(report, indent=1, sort_keys=True, default=str) + "\n")
        atomic_write_text(out_dir / "verify.html", certificate_html(report))
    return report


def compare_files(out_dir: Path, rerun: Path, render_status: dict[str, str],
                  files: list[dict[str, Any]]) -> list[str]:
    """Every file of the output against the re-run's; fills ``files`` (the certificate's list)."""
    problems = []
    mine, theirs = set(output_files(out_dir)), set(output_files(rerun))
    for rel in sorted(mine | theirs):
        entry = {"file": rel, "render": render_status.get(rel, "unknown")}
        if rel not in mine:
            entry.update(rerun="made by the re-run only", sha256=None)
            problems.append(f"{rel}: made by the re-run, missing from the output")
        else:
            entry["sha256"] = sha256_file(out_dir / rel)
            if rel not in theirs:
                entry["rerun"] = "not made by the re-run"
                problems.append(f"{rel}: not made by the re-run")
            elif entry["sha256"] == sha256_file(rerun / rel):
                entry["rerun"] = "identical"
            else:
                places = explain(rel, out_dir / rel, rerun / rel)
                entry["rerun"] = "differs" if places else "same results (run time, folder or footer date differ)"
                problems += places
        files.append(entry)
    return problems


def _rerender(render, study_ref, project, out, formats, run, params, engine, fixed, reporter=None):
    import os
    from trialsupp.pipeline.reproducible import epoch_of
    before = os.environ.get("SOURCE_DATE_EPOCH")
    if fixed:
        os.environ["SOURCE_DATE_EPOCH"] = epoch_of(dt.datetime.fromisoformat(fixed["document_time"]))
    try:
        return render(study=study_ref, project=project, out=out, formats=formats,
                      seed=run["params"].get("seed"), params=params, engine=engine, force=True, reporter=reporter)
    finally:
        if before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def compare_documents(recorded: Path, rerun: Path, formats) -> dict[str, Any]:
    """SHA-256 of each published document, recorded vs re-run (reproducible renders only)."""
    files = {}
    for fmt in formats:
        name = f"supplement.{fmt}"
        a, b = recorded / name, rerun / name
        files[name] = {"recorded": sha256_file(a) if a.exists() else "missing",
                       "rerun": sha256_file(b) if b.exists() else "missing"}
        files[name]["match"] = files[name]["recorded"] == files[name]["rerun"]
    return {"compared": True, "files": files}


def certificate_html(r: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(f"<li>{e(p)}</li>" for p in r["problems"]) or "<li>none</li>"
    envd = "".join(f"<li>{e(p)}</li>" for p in r["environment_differences"]) or "<li>none</li>"
    a = r["ard"]
    files = "".join(f"<tr><td>{e(f['file'])}</td><td>{e(f['render'])}</td><td>{e(f['rerun'])}</td>"
                    f"<td><code>{e(f['sha256'] or '-')}</code></td></tr>" for f in r.get("files", []))
    colour = "#1b7837" if r["verdict"] == "reproduced" else "#b2182b"
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Reproducibility certificate</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}}h1{{font-size:1.4em}}
.verdict{{color:{colour};font-weight:bold;font-size:1.2em}}td,th{{text-align:left;padding:.2em 1em .2em 0}}</style></head>
<body><h1>Reproducibility certificate: {e(r['study'])}</h1>
<p class="verdict">Verdict: {e(r['verdict'])}</p>
<table><tr><th>Output</th><td>{e(r['out_dir'])}</td></tr><tr><th>Checked</th><td>{e(r['checked'])}</td></tr>
<tr><th>Parameters</th><td>{e(json.dumps(r['params'], sort_keys=True))}</td></tr>
<tr><th>ARD rows</th><td>{a['recorded_rows']} recorded, {a['rerun_rows']} re-run, {a['matched']} matched
(relative tolerance {r['rtol']:g}; counts exact)</td></tr>
<tr><th>Documents</th><td>{e(_documents_line(r.get('documents') or {}))}</td></tr>
<tr><th>Displayed values</th><td>{r.get('displayed', {}).get('compared', 0)} compared,
{r.get('displayed', {}).get('mismatched', 0)} mismatched</td></tr></table>
<h2>Problems</h2><ul>{rows}</ul>
<h2>Files</h2><table><tr><th>File</th><th>Since the render</th><th>Against the re-run</th><th>SHA-256</th></tr>
{files}</table>
<h2>Environment differences</h2><ul>{envd}</ul></body></html>
"""


def _documents_line(d: dict[str, Any]) -> str:
    if not d.get("compared"):
        return "not compared: " + d.get("reason", "")
    return "; ".join(f"{n}: {'identical bytes' if f['match'] else 'DIFFERENT bytes'} (SHA-256 {f['recorded'][:16]})"
                     for n, f in d["files"].items())
