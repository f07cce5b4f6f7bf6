"""The staged report with trialsupp's shortcodes written out, for one Quarto format.

``trialsupp render`` publishes with Quarto from a build folder of its own; there the
``{{< ard ID >}}`` values, the ``{{< results NAME >}}`` files and ``{{< pagebreak >}}``
are written into the report before Quarto reads it, as the built-in publisher writes
them (``builtin.ard_markdown``) and as the extension's ``ard.lua`` / Quarto's
``pagebreak`` would print them. A document without shortcodes spares Quarto its shortcode
passes (about 0.6-0.9 CPU-s per format for the 152 values of VALOR: Quarto's shortcode
handling, not the ``ard`` function). ``quarto render`` in a project keeps the shortcodes.

Left to Quarto: other shortcodes, escaped ones (``{{{< >}}}``), shortcodes inside code
spans and fenced code or raw blocks.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

from trialsupp.publish.builtin import ard_markdown
from trialsupp.publish.qmd import (ESCAPED_SHORTCODE_RE, FENCE_RE, SHORTCODE_RE, PublishError,
                                   resolve_path, results_dir, split_front_matter)

# what Quarto's pagebreak shortcode returns (quarto-pre/shortcodes-handlers.lua)
PAGEBREAK = {"html": '<div style="page-break-after: always;"></div>', "typst": "#pagebreak()"}
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_BLOCK = re.compile(r"^\s*\{\{<\s*(results|pagebreak|include)\b\s*(.*?)\s*>\}\}\s*$")


def prefill_report(entry: str | Path, project: str | Path, fmt: str,
                   value: Callable[[str], str | None]) -> list[Path]:
    """Rewrite ``entry`` and the files it includes (in place: each file is replaced, never
    written through, since the build folder's copies are hard links) with the shortcodes
    written out for ``fmt`` (``"html"`` or ``"typst"``). ``value(id)`` is an ARD row's
    formatted value (None: unknown id, a :class:`PublishError`). Returns the files rewritten."""
    if fmt not in PAGEBREAK:
        raise PublishError(f"prefill: unknown format {fmt!r} (html, typst)")
    entry, project = Path(entry).resolve(), Path(project).resolve()
    results = results_dir(entry)
    done: list[Path] = []
    todo, seen = [entry], set()
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        out = _expand(lines, path, fmt, value, results, includes=lambda ref, base=path.parent:
                      todo.append(resolve_path(ref, base, project)))
        new = "".join(out)
        if new != text:
            tmp = path.with_name(f".{path.name}.prefill")
            tmp.write_text(new, encoding="utf-8")
            os.replace(tmp, path)           # a new file: the hard-linked original stays as it was
            done.append(path)
    return done


def _expand(lines: list[str], path: Path, fmt: str, value, results: Path, includes) -> list[str]:
    out, fence = [], None
    body_start = 0
    if path.suffix == ".qmd" and lines and lines[0].strip() == "---":
        _, _, first = split_front_matter("".join(lines), path)
        body_start = first - 1                # front matter left as it is
    for i, line in enumerate(lines):
        if i < body_start:
            out.append(line)
            continue
        m = FENCE_RE.match(line)
        if fence is not None:
            if m and m.group(2)[0] == fence[0] and len(m.group(2)) >= len(fence) and not m.group(3).strip():
                fence = None
            out.append(line)
            continue
        if m:
            fence = m.group(2)
            out.append(line)
            continue
        block = _BLOCK.match(line)
        if block:
            name, arg = block.group(1), block.group(2).strip().strip("\"'")
            if name == "include":
                includes(arg)
                out.append(line)
            elif name == "pagebreak" and not arg:
                out.append(f"```{{={fmt}}}\n{PAGEBREAK[fmt]}\n```\n")
            elif name == "results" and arg:
                target = results / f"{arg}.qmd"
                if not target.is_file():
                    raise PublishError(f"{path}:{i + 1}: results file not found: {arg} ({target})")
                sub = target.read_text(encoding="utf-8").splitlines(keepends=True)
                expanded = _expand(sub, target, fmt, value, results, includes)
                if expanded and not expanded[-1].endswith("\n"):
                    expanded[-1] += "\n"
                out.extend(expanded)
            else:
                out.append(line)
            continue
        out.append(_inline(line, f"{path}:{i + 1}", fmt, value))
    return out


def _inline(line: str, loc: str, fmt: str, value) -> str:
    if "{{<" not in line:
        return line

    def ard(m):
        parts = m.group(1).split()
        if len(parts) != 2 or parts[0] != "ard":
            return m.group(0)                 # another shortcode: Quarto's
        text = value(parts[1])
        if text is None:
            raise PublishError(f"{loc}: unknown ARD id '{parts[1]}' (not in the results store)")
        return ard_markdown(parts[1], text, fmt)

    def outside_code(segment: str) -> str:
        kept: list[str] = []

        def keep(m):
            kept.append(m.group(0))
            return f"\x00{len(kept) - 1}\x00"
        segment = ESCAPED_SHORTCODE_RE.sub(keep, segment)
        segment = SHORTCODE_RE.sub(ard, segment)
        return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], segment)

    pieces, last = [], 0
    for m in _CODE_SPAN.finditer(line):
        pieces.append(outside_code(line[last:m.start()]))
        pieces.append(m.group(0))
        last = m.end()
    pieces.append(outside_code(line[last:]))
    return "".join(pieces)
