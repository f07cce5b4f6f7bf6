"""The ``trialsupp`` command. Every expected failure prints one ``trialsupp: error: ...`` line."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from typing import Callable

EXIT_USAGE, EXIT_FAIL = 2, 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, no usage dump
        sys.stderr.write(f"trialsupp: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _key_values(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {item!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _formats(text: str) -> list[str]:
    return [f.strip() for f in text.split(",") if f.strip()]


def cmd_render(args) -> int:
    kernels = None
    if args.force and not args.matrix:      # cold for sure: warm the kernels while the render imports
        from trialsupp.pipeline.kernels import start_early
        kernels = start_early(args.study)
    from trialsupp.pipeline.progress import Reporter
    from trialsupp.pipeline.render import render
    params = _key_values(args.param)
    if args.matrix:
        from trialsupp.pipeline.matrix import render_matrix
        results = render_matrix(args.matrix, out=args.out, jobs=args.jobs, engine=args.engine,
                                formats=_formats(args.to), reporter=Reporter(quiet=args.quiet), force=args.force,
                                scheduler=args.scheduler)
        for r in results:
            print(f"{'unchanged' if r.unchanged else 'rendered'} {r.out} ({r.n_rows} ARD rows, {r.elapsed_s:.1f} s)")
        return 0
    try:
        result = render(study=args.study, out=args.out, formats=_formats(args.to), seed=args.seed,
                        jobs=args.jobs, params=params, engine=args.engine, wait=args.wait,
                        reporter=Reporter(quiet=args.quiet), force=args.force, strict=args.strict,
                        reproducible=args.reproducible, kernels=kernels)
    finally:
        if kernels is not None:      # render closes it; this covers an error before it could
            kernels.close()
    if result.unchanged:
        print(f"unchanged: {result.out} is up to date (nothing it depends on changed; --force renders again)")
        return 0
    if result.unbound:
        print(f"audit: {len(result.unbound)} number(s) not bound to an ARD row (trialsupp audit lists them)")
    if args.engine == "auto" and result.engine == "builtin":
        print("Quarto is not on PATH: published with the built-in Pandoc + Typst publisher")
    print(f"rendered {result.out} ({result.n_rows} ARD rows, {result.elapsed_s:.1f} s, "
          f"{'Quarto' if result.engine == 'quarto' else 'built-in publisher'}): "
          + ", ".join(sorted(p.name for p in result.files.values())))
    return 0


def cmd_simulate(args) -> int:
    from pathlib import Path
    from trialsupp.pipeline.render import generator
    from trialsupp.study import load_study
    st = load_study(args.study)
    if st.raw["data"].get("source") != "simulate":
        raise ValueError(f"study {st.name} is not simulated (data.source: {st.raw['data'].get('source')})")
    out = Path(args.out) if args.out else st.data_dir
    simulate = generator(st)
    data = simulate(seed=args.seed, out=out, formats=_formats(args.format), config=st.path)
    rows = sum(len(df) for df in data.values())
    print(f"simulated {len(data)} datasets ({rows} records) into {out}: "
          + ", ".join(sorted(p.name for p in out.iterdir() if p.is_file())))
    return 0


def cmd_calibrate(args) -> int:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")      # before numpy loads: the replicate workers use every core
    from trialsupp.project import entry_point
    from trialsupp.study import load_study
    st = load_study(args.study)
    spec = (st.raw.get("calibration") or {}).get("command")
    if not spec:
        raise ValueError(f"study {st.name} has no calibration (calibration.command in {st.label})")
    run = entry_point(spec, st.project_dir, f"{st.label}: calibration.command")
    extra = {"scheduler": args.scheduler} if args.scheduler else {}      # a study's command may not take it
    if args.checkpoint:
        extra["checkpoint"] = args.checkpoint
    return int(run(seed=args.seed, replicates=args.replicates, jobs=args.jobs, config=st.path, **extra) or 0)


def cmd_params(args) -> int:
    from trialsupp.study import load_study
    st = load_study(args.study)
    print(f"parameters of study {st.name}:")
    for p in st.params.values():
        extra = f" (one of: {', '.join(map(str, p.choices))})" if p.choices else ""
        print(f"  {p.name:<14} {p.type:<7} default={p.default!s:<12} {p.description}{extra}")
    if st.cuts:
        print("named data cuts: " + ", ".join(f"{k} = {v}" for k, v in st.cuts.items()))
    return 0


def _out_dir(args):
    """``--out``, else ``<project>/_output/<study>`` of ``--study`` (default: the project's)."""
    from pathlib import Path
    from trialsupp.study import load_study
    if args.out:
        return Path(args.out).resolve()
    st = load_study(args.study)
    return st.project_dir / "_output" / st.name


def _render_dir(args, ref: str):
    """A rendered output: a folder, else a name under the study's project ``_output/``
    (``mytrial``, ``mytrial-matrix/final``)."""
    from pathlib import Path
    from trialsupp.study import load_study
    path = Path(ref)
    if path.is_dir() or path.is_absolute():
        return path.resolve()
    st = load_study(args.study)
    candidate = st.project_dir / "_output" / ref
    return candidate if candidate.is_dir() else path.resolve()


def cmd_trace(args) -> int:
    from trialsupp.ard.store import read_store
    from trialsupp.ard.trace import trace
    try:
        print(trace(read_store(_out_dir(args)), args.query))
    except LookupError as exc:
        sys.stderr.write(f"trialsupp: {exc.args[0]}\n")
        return EXIT_FAIL
    return 0


def cmd_audit(args) -> int:
    from trialsupp.ard.audit import audit_output
    problems = audit_output(_out_dir(args))
    for p in problems:
        print(p.line())
    print(f"{len(problems)} unbound number(s)")
    return EXIT_FAIL if problems else 0


def cmd_verify(args) -> int:
    from trialsupp.pipeline.verify import verify
    out = _out_dir(args)
    from trialsupp.pipeline.progress import Reporter
    report = verify(out, rtol=args.rtol, engine=args.engine, reporter=Reporter(quiet=args.quiet))
    for p in report["problems"]:
        print(p)
    a = report["ard"]
    print(f"{report['verdict']}: {a['matched']} of {a['recorded_rows']} ARD rows matched; "
          f"certificate {out / 'verify.html'}")
    return 0 if report["verdict"] == "reproduced" else EXIT_FAIL


def cmd_diff(args) -> int:
    from pathlib import Path
    from trialsupp.ard.compare import compare_ard, diff_html
    from trialsupp.ard.store import atomic_write_text, read_store
    args.a, args.b = str(_render_dir(args, args.a)), str(_render_dir(args, args.b))
    a, b = read_store(Path(args.a)), read_store(Path(args.b))
    result = compare_ard(a, b, rtol=args.rtol)
    for d in result.differences:
        print(d.line())
    for rid in result.only_a:
        print(f"only in {args.a}: {rid}")
    for rid in result.only_b:
        print(f"only in {args.b}: {rid}")
    html_path = Path(args.html) if args.html else Path(args.b) / "diff.html"
    atomic_write_text(html_path, diff_html(result, args.a, args.b))
    print(f"{len(result.differences)} difference(s), {len(result.only_a)} only in A, "
          f"{len(result.only_b)} only in B, {result.matched} identical; written {html_path}")
    return 0


def cmd_export(args) -> int:
    from trialsupp.export.ars import write_ars
    out = _out_dir(args)
    if not (out / "ard.json").exists():
        raise FileNotFoundError(f"no results store at {out / 'ard.json'} (render first)")
    target = write_ars(out, args.to)
    print(f"written {target} (CDISC ARS 1.0 ReportingEvent)")
    return 0


def cmd_cache(args) -> int:
    from trialsupp.pipeline.cache import NotebookCache, cache_dir
    from trialsupp.study import find_project_dir
    root = cache_dir(find_project_dir())
    if args.action == "clear":
        print(f"removed {NotebookCache(root).clear()} cached notebook(s) from {root}")
    else:
        n = sum(1 for p in root.glob("*/*") if p.parent.name != "index") if root.exists() else 0
        print(f"{root}: {n} cached notebook(s)")
    return 0


def cmd_data(args) -> int:
    from trialsupp.data.manifest import accept, check_folder, load_manifest, tracked_files
    from trialsupp.study import load_study
    st = load_study(args.study)
    if not st.reads_files:
        raise ValueError(f"study {st.name} simulates its data at each render: it has no data folder to "
                         f"{args.action}")
    if args.action == "accept":
        doc, changes = accept(st.data_dir, args.reason or "", st.manifest)
        for line in changes:
            print(line)
        print(f"recorded {len(doc['files'])} file(s) of {st.data_dir} in {doc['_path']} "
              f"({len(changes)} change(s); reason: {args.reason.strip()})")
        return 0
    manifest = load_manifest(st.data_dir, st.manifest)
    inputs = check_folder(st.data_dir, manifest)
    print(f"{st.data_dir}: {len(tracked_files(st.data_dir, st.manifest))} file(s) as recorded in "
          f"{manifest['_path']} ({len(inputs)} dataset(s))")
    return 0


def cmd_new(args) -> int:
    from pathlib import Path
    from trialsupp.scaffold import new_project
    res = new_project(Path(args.path), Path(args.adam), layout=args.layout, title=args.title, study=args.study)
    where = Path(args.path)
    print(f"wrote study {res['study']} into {where.resolve()}: {len(res['files'])} file(s)/folder(s)")
    print(f"next: cd {where} && trialsupp render --study {res['study']}")
    return 0


COMMANDS: dict[str, Callable] = {"new": cmd_new, "data": cmd_data, "calibrate": cmd_calibrate, "simulate": cmd_simulate, "cache": cmd_cache, "render": cmd_render, "params": cmd_params, "trace": cmd_trace,
                                 "audit": cmd_audit, "verify": cmd_verify, "diff": cmd_diff, "export": cmd_export}


STUDY_HELP = ("a study of this project's trialsupp.yml by NAME, or a PATH (study.yml, its folder, "
              "a project folder); default: the project's default study")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="trialsupp", description="Traceable clinical-trial supplements and CSR appendices.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("render", help="execute the notebooks and publish HTML + PDF")
    r.add_argument("--study", help=STUDY_HELP)
    r.add_argument("--out", help="output folder (default: _output/<study>)")
    r.add_argument("--to", default="html,pdf", help="formats, comma-separated: html,pdf,docx")
    r.add_argument("--seed", type=int, help="simulation seed (simulated studies)")
    r.add_argument("--jobs", type=int, help="notebooks executed in parallel (default: cores + 1)")
    r.add_argument("--param", "-P", action="append", metavar="KEY=VALUE", help="study parameter")
    r.add_argument("--engine", choices=("auto", "quarto", "builtin"), default="auto",
                   help="publisher: Quarto when on PATH (auto), or the built-in Pandoc+Typst one")
    r.add_argument("--wait", action="store_true", help="wait for another render of the same output")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    r.add_argument("--force", action="store_true", help="re-execute every notebook (ignore the cache)")
    r.add_argument("--strict", action="store_true", help="fail when the audit finds numbers not bound to ARD rows")
    r.add_argument("--reproducible", action="store_true",
                   help="byte-identical HTML/PDF: date the documents by the data cut (or SOURCE_DATE_EPOCH)")
    r.add_argument("--matrix", metavar="FILE", help="YAML list of parameter sets: one supplement each")
    r.add_argument("--scheduler", metavar="ADDRESS",
                   help="--matrix: run the sets on this Dask scheduler (default: a local cluster of --jobs processes)")

    n = sub.add_parser("new", help="a project (or one more study in it) from an ADaM folder")
    n.add_argument("path", metavar="PATH", help="project folder (created, or an existing project)")
    n.add_argument("--adam", required=True, metavar="DIR", help="folder with the ADaM .xpt/.parquet files")
    n.add_argument("--layout", choices=("jama", "csr"), default="jama",
                   help="jama: journal supplement (HTML + PDF); csr: regulatory appendix (+ RTF)")
    n.add_argument("--title", help="report title (default from STUDYID)")
    n.add_argument("--study", help="study name (default: STUDYID, lower case)")

    da = sub.add_parser("data", help="the input manifest: 'check' the data folder against it, "
                                      "'accept' (re-)records every file deliberately")
    da.add_argument("action", choices=("check", "accept"))
    da.add_argument("--study", help=STUDY_HELP)
    da.add_argument("--reason", help="why the files are (re-)recorded (required by accept; logged)")

    c = sub.add_parser("cache", help="the notebook cache: 'clear' empties it, 'info' shows where it is")
    c.add_argument("action", choices=("clear", "info"))

    sim = sub.add_parser("simulate", help="write a simulated study's ADaM datasets (its data.generator)")
    sim.add_argument("--study", help=STUDY_HELP)
    sim.add_argument("--seed", type=int, help="seed (default: simulation.seed of the config)")
    sim.add_argument("--out", help="folder (default: the study's data.dir)")
    sim.add_argument("--format", default="parquet", help="comma-separated: parquet,xpt,dataset-json")

    cal = sub.add_parser("calibrate", help="simulated vs published headline figures (a simulated study's calibration.command)")
    cal.add_argument("--study", help=STUDY_HELP)
    cal.add_argument("--seed", type=int, help="seed (default: simulation.seed)")
    cal.add_argument("--replicates", type=int, default=0, help="also run R seeds: median and share within tolerance")
    cal.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                     help="worker processes of the local Dask cluster for the replicates")
    cal.add_argument("--scheduler", metavar="ADDRESS",
                     help="run the replicates on this Dask scheduler (tcp://host:8786) instead of a local cluster")
    cal.add_argument("--checkpoint", metavar="FILE",
                     help="append each replicate's values to FILE (JSON lines) as it finishes; seeds already "
                          "in FILE are not run again (resume a stopped run)")

    pa = sub.add_parser("params", help="list a study's parameters")
    pa.add_argument("--study", help=STUDY_HELP)

    t = sub.add_parser("trace", help="the chain behind an ARD id, an element or a displayed value")
    t.add_argument("query", metavar="ID|OUTPUT|VALUE")
    t.add_argument("--study", help=STUDY_HELP)
    t.add_argument("--out", help="rendered output folder (default: _output/<study>)")

    au = sub.add_parser("audit", help="list numbers in the HTML/PDF not bound to an ARD row")
    au.add_argument("--study", help=STUDY_HELP)
    au.add_argument("--out")

    v = sub.add_parser("verify", help="re-run from the recorded inputs and certify the numbers")
    v.add_argument("--study", help=STUDY_HELP)
    v.add_argument("--out")
    v.add_argument("--rtol", type=float, default=1e-9, help="relative tolerance for non-count numbers")
    v.add_argument("--engine", choices=("auto", "quarto", "builtin"), default="auto",
                   help="publisher of the re-run (default: the one recorded in run.json)")
    v.add_argument("--quiet", "-q", action="store_true", help="no progress display")

    ex = sub.add_parser("export", help="export a render's results store to a standard (ars: CDISC ARS 1.0 JSON)")
    ex.add_argument("format", choices=("ars",))
    ex.add_argument("--study", help=STUDY_HELP)
    ex.add_argument("--out", help="rendered output folder (default: _output/<study>)")
    ex.add_argument("--to", help="file to write (default: <out>/ars.json)")

    d = sub.add_parser("diff", help="every statistic that differs between two renders")
    d.add_argument("a", metavar="OUT_A", help="an output folder, or its name under the project's _output/")
    d.add_argument("b", metavar="OUT_B")
    d.add_argument("--study", help=STUDY_HELP + " (whose project's _output/ holds OUT_A, OUT_B)")
    d.add_argument("--rtol", type=float, default=0.0)
    d.add_argument("--html", help="where to write the HTML view (default: OUT_B/diff.html)")
    return p


def _expected_errors() -> tuple[type[BaseException], ...]:
    from trialsupp.ard.schema import ARDError
    from trialsupp.data.io import DataError
    from trialsupp.pipeline.execute import NotebookError
    from trialsupp.pipeline.outdir import OutputBusyError
    from trialsupp.pipeline.render import AuditError
    from trialsupp.study import ConfigError
    errors = [ARDError, AuditError, DataError, NotebookError, OutputBusyError, ConfigError,
              FileNotFoundError, ValueError]
    try:
        from trialsupp.publish import PublishError
        errors.append(PublishError)
    except ImportError:
        pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args) or 0
    except KeyboardInterrupt:
        sys.stderr.write("trialsupp: interrupted; the previous output is unchanged\n")
        return 130
    except _expected_errors() as exc:
        if os.environ.get("TRIALSUPP_DEBUG"):
            raise
        text = os_error_line(exc) if isinstance(exc, OSError) and exc.strerror else one_line(exc)
        sys.stderr.write(f"trialsupp: error: {text}\n")
        return EXIT_FAIL
    except (OSError, shutil.Error) as exc:         # read-only folder, full disk, permissions
        if os.environ.get("TRIALSUPP_DEBUG"):
            raise
        sys.stderr.write(f"trialsupp: error: {os_error_line(exc)}\n")
        return EXIT_FAIL


def one_line(exc: BaseException) -> str:
    lines = [s.strip() for s in str(exc).strip().splitlines() if s.strip()]
    return " ".join(lines) if lines else type(exc).__name__


def os_error_line(exc: BaseException) -> str:
    """``No space left on device: /path (the output folder is unchanged)``."""
    if isinstance(exc, shutil.Error):           # copytree collects (src, dst, reason) triples
        first = exc.args[0][0] if exc.args and isinstance(exc.args[0], list) and exc.args[0] else None
        what = f"{first[2]}: {first[1]}" if first and len(first) == 3 else one_line(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        where = exc.filename2 or exc.filename
        what = exc.strerror + (f": {where}" if where else "")
    else:
        what = one_line(exc)
    return f"{what} (operating system error; nothing already written was changed)"


if __name__ == "__main__":
    raise SystemExit(main())
