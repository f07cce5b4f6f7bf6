"""The ``trialsupp`` command. Every expected failure prints one ``trialsupp: error: ...`` line."""
from __future__ import annotations

import argparse
import os
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
    from trialsupp.pipeline.progress import Reporter
    from trialsupp.pipeline.render import render
    params = _key_values(args.param)
    result = render(study=args.study, out=args.out, formats=_formats(args.to), seed=args.seed,
                    jobs=args.jobs, params=params, engine=args.engine, wait=args.wait,
                    reporter=Reporter(quiet=args.quiet))
    print(f"rendered {result.out} ({result.n_rows} ARD rows, {result.elapsed_s:.1f} s): "
          + ", ".join(sorted(p.name for p in result.files.values())))
    return 0


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


COMMANDS: dict[str, Callable] = {"render": cmd_render, "params": cmd_params}


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="trialsupp", description="Traceable clinical-trial supplements and CSR appendices.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("render", help="execute the notebooks and publish HTML + PDF")
    r.add_argument("--study", default="valor", help="study name or path to a study YAML (default: valor)")
    r.add_argument("--out", help="output folder (default: _output/<study>)")
    r.add_argument("--to", default="html,pdf", help="formats, comma-separated: html,pdf")
    r.add_argument("--seed", type=int, help="simulation seed (simulated studies)")
    r.add_argument("--jobs", type=int, help="notebooks executed in parallel (default: cores)")
    r.add_argument("--param", "-P", action="append", metavar="KEY=VALUE", help="study parameter")
    r.add_argument("--engine", choices=("auto", "quarto", "builtin"), default="auto",
                   help="publisher: Quarto when on PATH (auto), or the built-in Pandoc+Typst one")
    r.add_argument("--wait", action="store_true", help="wait for another render of the same output")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress display")

    pa = sub.add_parser("params", help="list a study's parameters")
    pa.add_argument("--study", default="valor")
    return p


def _expected_errors() -> tuple[type[BaseException], ...]:
    from trialsupp.ard.schema import ARDError
    from trialsupp.data.io import DataError
    from trialsupp.pipeline.execute import NotebookError
    from trialsupp.pipeline.outdir import OutputBusyError
    from trialsupp.study import ConfigError
    errors = [ARDError, DataError, NotebookError, OutputBusyError, ConfigError,
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
        sys.stderr.write(f"trialsupp: error: {exc}\n")
        return EXIT_FAIL


if __name__ == "__main__":
    raise SystemExit(main())
