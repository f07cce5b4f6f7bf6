"""Parse the subset of Quarto markdown that trialsupp reports use.

Supported (everything else that Quarto would treat specially is refused with a
:class:`PublishError` naming the file and line, so that the built-in publisher
never silently renders something differently from Quarto):

* YAML front matter (entry file only);
* ``{{< include path >}}`` on a line of its own (path relative to the including
  file, ``/path`` relative to the project directory; nested includes allowed);
* ``{{< results NAME >}}`` on a line of its own: the generated ``_results/NAME.qmd``
  next to the report (``parameters``, ``provenance``; trialsupp's extension shortcode);
* ``{{< embed path.ipynb#label >}}`` on a line of its own (path relative to the
  entry document, ``/path`` relative to the project directory);
* ``{{< pagebreak >}}`` on a line of its own;
* ``{{< ard ID >}}`` inline (one ARD id);
* escaped shortcodes ``{{{< ... >}}}`` (rendered literally);
* cross-references ``@tbl-x`` / ``@fig-x`` (bare form only);
* float divs ``::: {#tbl-x}`` / ``::: {#fig-x}`` (content, then the caption as
  the last paragraph, as in Quarto);
* callouts ``::: {.callout-note|tip|warning|important|caution}`` with an
  optional ``title="..."``;
* plain Pandoc divs with classes, fenced code blocks and raw blocks
  (```` ```{=html} ````, ```` ```{=typst} ````), and ordinary Pandoc markdown.

Refused: any other shortcode; executable code cells (```` ```{python} ````) and
inline code (`` `{python} x` ``); shortcodes inside fenced blocks; bracketed or
suppressed cross-references (``[@tbl-x]``, ``[-@tbl-x]``); references to other
Quarto cross-reference kinds (``@sec-x``, ``@eq-x``, ...); Quarto-only layout
divs (``.column-*``, ``.panel-*``, ``.content-*``, ``layout*``).
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import yaml

from trialsupp import _yaml


class PublishError(RuntimeError):
    """A report source the publisher cannot render (names file and line)."""


@dataclass(frozen=True)
class Loc:
    """A position in a report source file."""
    file: Path
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def _err(loc: Loc, message: str) -> PublishError:
    return PublishError(f"{loc}: {message}")


# ---- parsed items --------------------------------------------------------

@dataclass
class Text:
    """Ordinary markdown lines, each with its location."""
    lines: list[tuple[str, Loc]]


@dataclass
class Embed:
    path: Path          # resolved notebook path
    ref: str            # path as written
    label: str
    loc: Loc


@dataclass
class PageBreak:
    loc: Loc


@dataclass
class CalloutOpen:
    kind: str           # note, tip, warning, important, caution
    title: str | None
    loc: Loc


@dataclass
class FloatDiv:
    """``::: {#tbl-x}`` ... ``:::``: the body lines; the last paragraph is the caption."""
    label: str
    lines: list[tuple[str, Loc]]
    loc: Loc


@dataclass
class DivClose:
    loc: Loc


Item = Text | Embed | PageBreak | CalloutOpen | FloatDiv | DivClose


@dataclass
class Document:
    entry: Path
    project_dir: Path
    meta: dict
    items: list = field(default_factory=list)

    def texts(self) -> Iterator[tuple[str, Loc]]:
        """Every markdown line (outside embeds), with its location."""
        for item in self.items:
            if isinstance(item, Text):
                yield from item.lines
            elif isinstance(item, FloatDiv):
                yield from item.lines


# ---- patterns ------------------------------------------------------------

SHORTCODE_RE = re.compile(r"(?<!\{)\{\{<\s*(.*?)\s*>\}\}(?!\})")
ESCAPED_SHORTCODE_RE = re.compile(r"\{\{\{<(.*?)>\}\}\}")
XREF_RE = re.compile(r"(?<![\w@\[\-])@((?:tbl|fig)-[A-Za-z0-9_-]*[A-Za-z0-9_])")
BRACKET_XREF_RE = re.compile(r"\[-?@(?:tbl|fig)-[^\]]*\]")
OTHER_XREF_RE = re.compile(
    r"(?<![\w@])@((?:sec|eq|lst|thm|lem|cor|prp|cnj|def|exm|exr|sol|rem|tip|nte|wrn|imp|cau)-[\w-]+)")
FENCE_RE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})\s*(.*)$")
DIV_OPEN_RE = re.compile(r"^\s{0,3}(:{3,})\s*(\{.*\}|[\w-]+)\s*$")
DIV_CLOSE_RE = re.compile(r"^\s{0,3}(:{3,})\s*$")
INLINE_CODE_CELL_RE = re.compile(r"`\{(?:python|r|julia|ojs)\}")
CALLOUT_KINDS = ("note", "tip", "warning", "important", "caution")
QUARTO_ONLY_DIV_CLASSES = re.compile(r"^(column-|panel-|content-|layout|cell)")


def split_front_matter(text: str, file: Path) -> tuple[dict, list[str], int]:
    """(metadata, body lines, line number of the first body line)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, lines, 1
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            try:
                meta = _yaml.safe_load("\n".join(lines[1:i])) or {}
            except yaml.YAMLError as exc:
                raise PublishError(f"{file}:1: invalid YAML front matter: {exc}") from exc
            if not isinstance(meta, dict):
                raise PublishError(f"{file}:1: front matter must be a YAML mapping")
            return meta, lines[i + 1:], i + 2
    raise PublishError(f"{file}:1: front matter is not closed with '---'")


_SHELL_QUOTING = re.compile(r"[\"'\\]")
_SHELL_BLANKS = re.compile(r"[ \t\r\n]+")


def split_args(text: str) -> list[str]:
    """``shlex.split(text)``; without quotes or backslashes (nearly every shortcode), a plain
    split on shlex's blanks, with the same result at a tenth of the cost."""
    if _SHELL_QUOTING.search(text):
        return shlex.split(text)
    return [t for t in _SHELL_BLANKS.split(text) if t]


def _shortcode_args(body: str, loc: Loc) -> tuple[str, list[str]]:
    try:
        parts = split_args(body)
    except ValueError as exc:
        raise _err(loc, f"cannot parse shortcode {{{{< {body} >}}}}: {exc}") from exc
    if not parts:
        raise _err(loc, "empty shortcode {{< >}}")
    return parts[0], parts[1:]


def _parse_attrs(spec: str) -> tuple[str | None, list[str], dict[str, str]]:
    """Pandoc attribute block ``{#id .class key="value"}`` (or a bare class)."""
    if not spec.startswith("{"):
        return None, [spec], {}
    ident, classes, kv = None, [], {}
    for tok in split_args(spec[1:-1]):
        if tok.startswith("#"):
            ident = tok[1:]
        elif tok.startswith("."):
            classes.append(tok[1:])
        elif "=" in tok:
            k, v = tok.split("=", 1)
            kv[k] = v
        else:
            classes.append(tok)
    return ident, classes, kv


def resolve_path(ref: str, base_dir: Path, project_dir: Path) -> Path:
    if ref.startswith("/"):
        return (project_dir / ref.lstrip("/")).resolve()
    return (base_dir / ref).resolve()


RESULTS = "_results"


def results_dir(entry: str | Path) -> Path:
    """Where trialsupp's staging step writes what a report reads (``ard.json``,
    ``run.json``, ``floats.json``, ``parameters.qmd``, ...): ``_results/`` next to the
    report, so the reports of several studies in one project never share it."""
    return Path(entry).parent / RESULTS


def parse_qmd(entry: str | Path, project_dir: str | Path) -> Document:
    """Parse ``entry`` (resolving includes) into a :class:`Document`."""
    entry = Path(entry).resolve()
    project_dir = Path(project_dir).resolve()
    if not entry.is_file():
        raise PublishError(f"report entry not found: {entry}")
    text = entry.read_text(encoding="utf-8")
    meta, lines, first = split_front_matter(text, entry)
    doc = Document(entry=entry, project_dir=project_dir, meta=meta)
    _parse_lines(doc, entry, lines, first, stack=(entry,))
    return doc


def _parse_lines(doc: Document, file: Path, lines: list[str], first: int,
                 stack: tuple[Path, ...]) -> None:
    items = doc.items
    buf: list[tuple[str, Loc]] = []
    div_stack: list[str] = []      # "callout" | "plain" for divs opened in this file
    fence: str | None = None
    i = 0

    def flush():
        if buf:
            items.append(Text(list(buf)))
            buf.clear()

    while i < len(lines):
        line = lines[i]
        loc = Loc(file, first + i)
        # fenced code / raw blocks pass through verbatim
        m = FENCE_RE.match(line)
        if fence is not None:
            if m and m.group(2)[0] == fence[0] and len(m.group(2)) >= len(fence) and not m.group(3).strip():
                fence = None
            elif SHORTCODE_RE.search(line):
                raise _err(loc, "shortcodes inside fenced code or raw blocks are not supported")
            buf.append((line, loc))
            i += 1
            continue
        if m:
            info = m.group(3).strip()
            if re.match(r"^\{\s*[A-Za-z]", info):
                raise _err(loc, f"executable code cell ```{info} is not supported: put code in a "
                                "notebook and use {{< embed >}}")
            fence = m.group(2)
            buf.append((line, loc))
            i += 1
            continue

        stripped = line.strip()
        # block shortcodes on a line of their own
        sc = SHORTCODE_RE.fullmatch(stripped)
        if sc:
            name, args = _shortcode_args(sc.group(1), loc)
            if name in ("include", "results"):
                flush()
                if len(args) != 1:
                    raise _err(loc, f"{name} takes exactly one {'path' if name == 'include' else 'name'}")
                target = (resolve_path(args[0], file.parent, doc.project_dir) if name == "include"
                          else results_dir(doc.entry) / f"{args[0]}.qmd")
                if not target.is_file():
                    raise _err(loc, f"{'included' if name == 'include' else 'results'} file not found: "
                                    f"{args[0]} ({target})")
                if target in stack:
                    raise _err(loc, f"circular include of {target}")
                sub_meta, sub_lines, sub_first = split_front_matter(
                    target.read_text(encoding="utf-8"), target)
                if sub_meta:
                    raise _err(Loc(target, 1), "front matter in an included file is not supported")
                _parse_lines(doc, target, sub_lines, sub_first, stack + (target,))
                i += 1
                continue
            if name == "embed":
                flush()
                if len(args) != 1 or "#" not in args[0]:
                    raise _err(loc, "embed takes one argument 'path.ipynb#label' "
                                    "(options such as echo=true are not supported)")
                ref, label = args[0].rsplit("#", 1)
                if not ref.endswith(".ipynb"):
                    raise _err(loc, f"embed supports executed .ipynb notebooks only, got {ref}")
                path = resolve_path(ref, doc.entry.parent, doc.project_dir)
                items.append(Embed(path=path, ref=ref, label=label, loc=loc))
                i += 1
                continue
            if name == "pagebreak":
                flush()
                if args:
                    raise _err(loc, "pagebreak takes no arguments")
                items.append(PageBreak(loc))
                i += 1
                continue
        # divs
        dm = DIV_OPEN_RE.match(line)
        if dm:
            ident, classes, kv = _parse_attrs(dm.group(2))
            if ident and re.match(r"^(tbl|fig)-", ident):
                flush()
                body, j = _collect_div(lines, i + 1, file, first, loc)
                items.append(FloatDiv(label=ident, lines=body, loc=loc))
                i = j + 1
                continue
            callouts = [c for c in classes if c.startswith("callout")]
            if callouts:
                kind = callouts[0].partition("-")[2]
                if kind not in CALLOUT_KINDS:
                    raise _err(loc, f"unsupported callout class .{callouts[0]} "
                                    f"(use one of {', '.join('callout-' + k for k in CALLOUT_KINDS)})")
                flush()
                items.append(CalloutOpen(kind=kind, title=kv.get("title"), loc=loc))
                div_stack.append("callout")
                i += 1
                continue
            bad = [c for c in classes if QUARTO_ONLY_DIV_CLASSES.match(c)] + \
                  [k for k in kv if QUARTO_ONLY_DIV_CLASSES.match(k)]
            if bad:
                raise _err(loc, f"Quarto layout div .{bad[0]} is not supported")
            if ident and re.match(r"^(sec|eq|lst|thm|lem|tip|nte|wrn|imp|cau)-", ident):
                raise _err(loc, f"cross-reference div #{ident} is not supported (only #tbl-/#fig-)")
            div_stack.append("plain")
            buf.append((line, loc))
            i += 1
            continue
        if DIV_CLOSE_RE.match(line) and div_stack:
            kind = div_stack.pop()
            if kind == "callout":
                flush()
                items.append(DivClose(loc))
            else:
                buf.append((line, loc))
            i += 1
            continue
        _check_inline(line, loc)
        buf.append((line, loc))
        i += 1
    if fence is not None:
        raise _err(Loc(file, first + len(lines) - 1), "fenced block is not closed")
    if div_stack:
        raise _err(Loc(file, first + len(lines) - 1), "div opened with ':::' is not closed")
    flush()


def _collect_div(lines, start, file, first, open_loc) -> tuple[list[tuple[str, Loc]], int]:
    depth, fence = 1, None
    body = []
    for j in range(start, len(lines)):
        line = lines[j]
        loc = Loc(file, first + j)
        m = FENCE_RE.match(line)
        if fence is not None:
            if m and m.group(2)[0] == fence[0] and not m.group(3).strip():
                fence = None
        elif m:
            fence = m.group(2)
        elif DIV_OPEN_RE.match(line):
            depth += 1
        elif DIV_CLOSE_RE.match(line):
            depth -= 1
            if depth == 0:
                return body, j
        if fence is None and not m:
            _check_inline(line, loc)
            sc = SHORTCODE_RE.fullmatch(line.strip())
            if sc and _shortcode_args(sc.group(1), loc)[0] in ("include", "results", "embed", "pagebreak"):
                raise _err(loc, "block shortcodes inside a #tbl-/#fig- div are not supported")
        body.append((line, loc))
    raise _err(open_loc, "div opened with ':::' is not closed")


def _check_inline(line: str, loc: Loc) -> None:
    """Refuse inline constructs the built-in publisher does not support."""
    plain = ESCAPED_SHORTCODE_RE.sub("", line)
    for m in SHORTCODE_RE.finditer(plain):
        name, args = _shortcode_args(m.group(1), loc)
        if name == "ard":
            if len(args) != 1:
                raise _err(loc, "ard takes exactly one ARD id")
            continue
        if name in ("include", "results", "embed", "pagebreak"):
            raise _err(loc, f"the {name} shortcode must be on a line of its own")
        raise _err(loc, f"unsupported shortcode {{{{< {name} >}}}} (supported: include, results, "
                        "embed, pagebreak, ard)")
    if INLINE_CODE_CELL_RE.search(line):
        raise _err(loc, "inline executable code is not supported")
    bm = BRACKET_XREF_RE.search(line)
    if bm:
        raise _err(loc, f"bracketed cross-reference {bm.group(0)} is not supported: write @tbl-x")
    om = OTHER_XREF_RE.search(line)
    if om:
        raise _err(loc, f"cross-reference @{om.group(1)} is not supported (only @tbl- and @fig-)")


def ard_ids(line: str) -> list[str]:
    """ARD ids of the ``{{< ard ID >}}`` shortcodes on a line."""
    plain = ESCAPED_SHORTCODE_RE.sub("", line)
    out = []
    for m in SHORTCODE_RE.finditer(plain):
        parts = split_args(m.group(1))
        if parts and parts[0] == "ard":
            out.extend(parts[1:])
    return out


def xrefs(line: str) -> list[str]:
    """Labels cited with ``@tbl-x`` / ``@fig-x`` on a line (code spans excluded)."""
    return XREF_RE.findall(_strip_code_spans(line))


def _strip_code_spans(line: str) -> str:
    return re.sub(r"(`+)(.+?)\1", lambda m: " " * len(m.group(0)), line)


def prose_lines(lines: list[tuple[str, Loc]]) -> Iterator[tuple[str, Loc, bool]]:
    """(line, loc, is_prose): ``is_prose`` is False inside fenced code/raw blocks."""
    fence = None
    for line, loc in lines:
        m = FENCE_RE.match(line)
        if fence is not None:
            if m and m.group(2)[0] == fence[0] and len(m.group(2)) >= len(fence) and not m.group(3).strip():
                fence = None
            yield line, loc, False
        elif m:
            fence = m.group(2)
            yield line, loc, False
        else:
            yield line, loc, True
