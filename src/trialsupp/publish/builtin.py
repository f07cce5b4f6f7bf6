"""Built-in publisher: the same report sources as Quarto, rendered with Pandoc 3
(pypandoc-binary) and Typst (the ``typst`` Python package), no Quarto needed.

1. ``qmd.parse_qmd`` resolves includes and finds embeds, shortcodes and
   cross-references (unsupported constructs fail with file and line);
2. ``crossref.number_elements`` numbers eTables/eFigures by first citation;
3. one Pandoc markdown per target is written (HTML and Typst differ only in how
   floats, callouts, page breaks and ``{{< ard >}}`` values are wrapped);
4. HTML: Pandoc ``html5`` with a standalone template, inlined ``jama.css``,
   the ARD provenance blob and ``provenance.js``, a table of contents; local
   figures and scripts written into the page by ``inline.inline_resources``
   (nothing is loaded from the network);
5. PDF: Pandoc ``typst`` with a main template that, like Quarto's
   ``template.typ``, pulls in the partials ``$typst-template.typ()$`` and
   ``$typst-show.typ()$`` from the staged ``_extensions/trialsupp/``; then
   ``typst.compile`` with a fixed timestamp and document date.
"""
from __future__ import annotations

import datetime as _dt
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from trialsupp import _yaml
from trialsupp.publish import crossref as _xref
from trialsupp.publish.embed import embed_cell
from trialsupp.publish.inline import inline_resources
from trialsupp.publish.accessible import add_typst_alt, figure_alt
from trialsupp.publish.provenance import EXTENSION, index_rows, load_store, provenance_html
from trialsupp.publish.qmd import (ESCAPED_SHORTCODE_RE, SHORTCODE_RE, CalloutOpen, DivClose,
                                   Document, Embed, FloatDiv, Loc, PageBreak, PublishError, Text,
                                   XREF_RE, parse_qmd, prose_lines, results_dir, split_args)

TARGETS = ("html", "typst")
FLOAT_KIND = {"tbl": "quarto-float-tbl", "fig": "quarto-float-fig"}   # same kinds as Quarto
CALLOUT_TITLES = {"note": "Note", "tip": "Tip", "warning": "Warning",
                  "important": "Important", "caution": "Caution"}
# project/format options that are not document metadata
NON_META_KEYS = {"project", "format", "crossref", "execute", "filters", "shortcodes", "jupyter",
                 "engine", "template-partials", "css", "include-after-body", "include-in-header",
                 "include-before-body", "embed-resources", "section-divs", "filters", "self-contained", "minimal",
                 "html-math-method", "toc", "toc-depth", "keep-typ", "keep-md",
                 "fig-cap-location", "tbl-cap-location", "anchor-sections", "output-file",
                 "theme", "notebook-links", "notebook-view"}
_SPLIT = "TSSPLITSENTINEL"
# images inside our own eTable/eFigure wrappers must not become Pandoc figures
MD_FORMAT = "markdown-implicit_figures"

# the JAMA front block is the same Pandoc template partial Quarto uses (toc.html)
FRONT_BLOCK = (Path(__file__).resolve().parent.parent / "templates" / "_extensions" / "trialsupp"
               / "toc.html").read_text(encoding="utf-8")
HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="$if(lang)$$lang$$else$en$endif$">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="trialsupp built-in publisher (Pandoc)">
<title>$if(pagetitle)$$pagetitle$$else$Supplementary Online Content$endif$</title>
$for(header-includes)$
$header-includes$
$endfor$
</head>
<body>
""" + FRONT_BLOCK + """<main>
$body$
</main>
$if(trialsupp.footer)$
<footer class="ts-footer">$trialsupp.footer$</footer>
$endif$
$for(include-after)$
$include-after$
$endfor$
</body>
</html>
"""

# Mirrors Quarto's typst/pandoc/quarto/template.typ: definitions, the page
# function partial, header includes, the show-rule partial, the body.
TYPST_MAIN_TEMPLATE = """$definitions.typ()$

$typst-template.typ()$

$for(header-includes)$
$header-includes$
$endfor$

$typst-show.typ()$

$for(include-before)$
$include-before$
$endfor$

$body$

$for(include-after)$
$include-after$
$endfor$
"""

# Definitions Pandoc's Typst output presupposes (Quarto ships its own).
TYPST_DEFINITIONS = """// trialsupp built-in publisher: definitions presupposed by Pandoc's typst output.
#let horizontalrule = line(length: 100%, stroke: 0.5pt)
#show terms.item: it => block(breakable: false)[
  #text(weight: "bold")[#it.term]
  #block(inset: (left: 1.5em, top: -0.4em))[#it.description]
]
#let ts-callout(title: none, body) = block(
  width: 100%, inset: (left: 9pt, right: 6pt, y: 6pt), above: 1em, below: 1em,
  stroke: (left: 1.5pt + luma(110)), fill: luma(248),
  { if title != none { block(below: 0.5em, text(weight: "bold", title)) }; body })
"""


def _pandoc():
    """pypandoc, imported lazily (keeps ``import trialsupp.publish`` cheap). Its calls here pass
    ``verify_format=False``: pypandoc would otherwise run Pandoc twice more per conversion to list
    its formats (and, run from two threads at once, may fall back to a list without typst).
    The Pandoc binary is looked up here, before any thread runs it: pypandoc's search, run from
    two threads at once, can hand one of them an older Pandoc on PATH."""
    import pypandoc
    pypandoc.get_pandoc_path()
    return pypandoc


# ---- small helpers -------------------------------------------------------

def md_escape(text: str) -> str:
    """Escape text so Pandoc markdown reads it literally."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>|~^$@\"'&:;=%])", r"\\\1", text)


def ard_markdown(ard_id: str, text: str, target: str) -> str:
    """An ARD row's formatted value as Pandoc markdown: in HTML a raw span that the provenance
    popup reads (as the extension's ``ard.lua``), else the text read literally."""
    if target == "html":
        span = (f'<span class="ts-stat" data-ard="{html_escape(ard_id)}" tabindex="0">'
                f"{html_escape(text)}</span>")
        ticks = "`" * (max((len(t) for t in re.findall(r"`+", span)), default=0) + 1)
        return f"{ticks}{span}{ticks}{{=html}}"
    return md_escape(text)


def html_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def typst_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _raw(fmt: str, text: str) -> str:
    return f"```{{={fmt}}}\n{text}\n```\n"


def _merge(base: dict, over: Mapping) -> dict:
    out = dict(base)
    for k, v in (over or {}).items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(dict(out[k]), v)
        else:
            out[k] = v
    return out


def document_metadata(project_cfg: Mapping, front: Mapping, target: str) -> dict:
    """Metadata as Quarto would see it for ``target`` ("html" or "typst"):
    project config, then its ``format: <target>`` block, then the front matter
    and its ``format: <target>`` block."""
    def strip(d):
        return {k: v for k, v in (d or {}).items() if k not in NON_META_KEYS}

    def fmt_block(d):
        f = (d or {}).get("format")
        return strip(f.get(target)) if isinstance(f, Mapping) and isinstance(f.get(target), Mapping) else {}

    meta = strip(project_cfg)
    meta = _merge(meta, fmt_block(project_cfg))
    meta = _merge(meta, strip(front))
    meta = _merge(meta, fmt_block(front))
    return meta


def _run_date(store: Mapping, run_date) -> str | None:
    if run_date is not None:
        return run_date.isoformat()[:10] if hasattr(run_date, "isoformat") else str(run_date)[:10]
    run = store.get("run") or {}
    for key in ("run_date", "date", "started", "created", "timestamp"):
        value = run.get(key)
        if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
            return value[:10]
    return None


def _convert_inlines(snippets: list[str], to: str) -> list[str]:
    """Convert markdown snippets to ``to`` markup with a single Pandoc call."""
    if not snippets:
        return []
    text = f"\n\n{_SPLIT}\n\n".join(s.strip() or " " for s in snippets)
    out = _pandoc().convert_text(text, to, format=MD_FORMAT, extra_args=["--wrap=none"], verify_format=False)
    parts = [p.strip() for p in out.split(_SPLIT)]
    if len(parts) != len(snippets):
        raise PublishError("internal error: caption conversion lost a snippet")
    return [re.sub(r"\s*\n\s*\n\s*", " ", p) for p in parts]


# ---- building the markdown -----------------------------------------------

_FLOAT_LIST = re.compile(r'<ul class="ts-float-list">\s*(.*?)</ul>\s*', re.S)
_FLOAT_ITEM = re.compile(r'<li><a href="#((?:tbl|fig)-[^"]+)">.*?</a></li>', re.S)


def nest_float_list(html: str) -> str:
    """Contents in reading order (JAMA: eMethods, eResults, eTables, eFigures, eReferences):
    the eTable and eFigure lines go under the contents entries of the eTables and eFigures
    sections instead of after the whole list (left as is when those sections are missing)."""
    m = _FLOAT_LIST.search(html)
    if not m:
        return html
    items = {"tbl": [], "fig": []}
    for it in _FLOAT_ITEM.finditer(m.group(1)):
        items[it.group(1).split("-")[0]].append(it.group(0))
    out = html
    for kind, name in (("tbl", "eTables"), ("fig", "eFigures")):
        entry = re.search(r'(<li><a href="#[^"]*"[^>]*>' + name + r'</a>)(</li>)', out)
        if not entry or not items[kind]:
            return html
        out = out[:entry.start()] + entry.group(1) + "\n<ul>\n" + "\n".join(items[kind]) + "\n</ul>" \
            + entry.group(2) + out[entry.end():]
    return _FLOAT_LIST.sub("", out, count=1)


class _Builder:
    def __init__(self, doc: Document, numbering: _xref.Numbering, prefixes: dict[str, str],
                 rows: dict[str, dict], build_dir: Path, notebook_href):
        self.doc, self.numbering, self.prefixes = doc, numbering, prefixes
        self.rows, self.build_dir = rows, build_dir
        self.notebook_href = notebook_href
        self.float_ids: dict[str, list[str]] = {}
        self.embeds: dict[str, object] = {}
        self.captions: dict[str, str] = {}       # label -> caption markdown
        self.used_ids: set[str] = set()

    def figure_alts(self) -> dict[str, str]:
        """Figure label -> alternative text from its caption and ARD rows (PDF/UA-1)."""
        alts, heading = {}, ""
        for item in self.doc.items:
            if isinstance(item, Text):          # the section heading names an uncaptioned figure (CSR)
                heads = [ln.lstrip("#").strip() for ln, _loc in item.lines if ln.startswith("#")]
                heading = heads[-1] if heads else heading
            emb = self.embeds.get(id(item)) if isinstance(item, Embed) else None
            if emb is None or not emb.media:
                continue
            if emb.kind == "fig" and emb.label in self.numbering.numbers:
                caption = self.numbering.caption(emb.label, self.captions.get(emb.label))
            else:
                caption = emb.options.get("fig-alt") or emb.caption or heading or emb.label
            alts[emb.label] = figure_alt(str(caption), [self.rows[i] for i in emb.ard_ids if i in self.rows])
        return alts

    def prepare(self) -> None:
        media = self.build_dir / "media"
        for item in self.doc.items:
            if isinstance(item, Embed):
                emb = embed_cell(item.path, item.label, media_dir=media, media_prefix="media/",
                                 loc=item.loc)
                self.embeds[id(item)] = emb
                if emb.kind:
                    self.captions[item.label] = emb.caption or ""
            elif isinstance(item, FloatDiv):
                content, caption = _split_caption(item)
                self.captions[item.label] = caption

    # inline: ard values and cross-references
    def inline(self, line: str, loc: Loc, target: str) -> str:
        def ard(m):
            parts = split_args(m.group(1))
            if parts[0] != "ard":
                raise PublishError(f"{loc}: unsupported shortcode {{{{< {parts[0]} >}}}}")
            ard_id = parts[1]
            row = self.rows.get(ard_id)
            if row is None:
                raise PublishError(f"{loc}: unknown ARD id '{ard_id}' (not in the results store)")
            text = row.get("stat_fmt")
            if not isinstance(text, str):
                raise PublishError(f"{loc}: ARD row '{ard_id}' has no formatted value (stat_fmt)")
            self.used_ids.add(ard_id)
            return ard_markdown(ard_id, text, target)

        escaped = []

        def keep_escaped(m):
            escaped.append("{{< " + m.group(1).strip() + " >}}")
            return f"\x00{len(escaped) - 1}\x00"

        line = ESCAPED_SHORTCODE_RE.sub(keep_escaped, line)
        line = SHORTCODE_RE.sub(ard, line)

        def ref(m):
            label = m.group(1)
            if label not in self.numbering.numbers:
                raise PublishError(f"{loc}: reference to unknown element @{label}")
            kind = self.numbering.kinds[label]
            number = self.numbering.numbers[label].rsplit(" ", 1)[1]
            return f"[{md_escape(self.prefixes[kind])} {number}](#{label})"

        # cross-references outside inline code spans
        pieces = re.split(r"(`+[^`]*`+(?:\{[^}]*\})?)", line)
        line = "".join(p if p.startswith("`") else XREF_RE.sub(ref, p) for p in pieces)
        return re.sub(r"\x00(\d+)\x00", lambda m: md_escape(escaped[int(m.group(1))]), line)

    def lines_to_md(self, lines: list[tuple[str, Loc]], target: str) -> str:
        out = []
        for line, loc, prose in prose_lines(lines):
            out.append(self.inline(line, loc, target) if prose else line)
        return "\n".join(out) + "\n"

    def float_block(self, label: str, content_md: str, target: str, source: tuple | None) -> str:
        kind = self.numbering.kinds[label]
        if target == "html":
            caption = self.inline(self.captions[label], Loc(self.doc.entry, 0), "html")
            head = f"**{md_escape(self.numbering.numbers[label])}{md_escape(self.numbering.title_delim)}**"
            parts = [f"::::: {{#{label} .ts-float .ts-{'table' if kind == 'tbl' else 'figure'}}}",
                     f":::: {{.ts-caption}}\n{head} {caption}\n::::", "", content_md.rstrip("\n"), ""]
            if source:
                rel, cell = source
                href = self.notebook_href(rel, cell) if callable(self.notebook_href) else rel
                parts.append(f":::: {{.ts-source}}\nSource: [{md_escape(rel)}]({href}), "
                             f"cell {md_escape(cell)}; ARD ids `{_ard_prefix(label)}`\n::::")
            ids = self.float_ids.get(label) or []
            if kind == "fig" and ids:           # the ARD rows the figure shows, each traceable
                listed = " ".join(f"<code>{html_escape(i)}</code>" for i in ids)
                parts.append("```{=html}\n<details class=\"ts-ard-list\"><summary>ARD rows shown in this "
                             f"figure</summary>{listed}</details>\n```")
            parts.append(":::::")
            return "\n".join(parts) + "\n"
        number = self.numbering.number(label)
        caption_typ = self.typst_captions[label]
        open_ = (f"#figure(\n  kind: \"{FLOAT_KIND[kind]}\",\n"
                 f"  supplement: [{self._typst_supplement(kind)}],\n"
                 f"  numbering: (..n) => \"{number}\",\n"
                 f"  caption: figure.caption(position: top, [{caption_typ}]),\n)[")
        close = ""
        if source:
            rel, cell = source
            close += (f"#block(above: 0.5em, text(size: 7pt, fill: luma(90), "
                      f"{typst_string(f'Source: {rel}, cell {cell}; ARD ids {_ard_prefix(label)}')}))\n")
        close += f"]<{label}>"
        return _raw("typst", open_) + "\n" + content_md.rstrip("\n") + "\n\n" + _raw("typst", close)

    def _typst_supplement(self, kind: str) -> str:
        return self.typst_titles[kind]

    def build(self, target: str) -> str:
        out = []
        for item in self.doc.items:
            if isinstance(item, Text):
                out.append(self.lines_to_md(item.lines, target))
            elif isinstance(item, Embed):
                emb = self.embeds[id(item)]
                rel = _rel(item.path, self.doc.project_dir)
                if emb.kind:
                    self.float_ids[item.label] = emb.ard_ids
                    out.append(self.float_block(item.label, emb.markdown, target,
                                                (rel, item.label)))
                else:
                    out.append(emb.markdown)
            elif isinstance(item, FloatDiv):
                content, _ = _split_caption(item)
                out.append(self.float_block(item.label, self.lines_to_md(content, target),
                                            target, None))
            elif isinstance(item, PageBreak):
                out.append(_raw("html", '<div class="ts-pagebreak" style="page-break-after: always;"></div>')
                           if target == "html" else _raw("typst", "#pagebreak()"))
            elif isinstance(item, CalloutOpen):
                title = item.title or CALLOUT_TITLES[item.kind]
                if target == "html":
                    out.append(f"::::::: {{.callout .ts-callout .callout-{item.kind}}}\n"
                               f"::: {{.ts-callout-title}}\n{md_escape(title)}\n:::\n")
                else:
                    out.append(_raw("typst", f"#ts-callout(title: {typst_string(title)})["))
            elif isinstance(item, DivClose):
                out.append(":::::::\n" if target == "html" else _raw("typst", "]"))
        return "\n".join(out)


def _split_caption(item: FloatDiv) -> tuple[list, str]:
    lines = list(item.lines)
    while lines and not lines[-1][0].strip():
        lines.pop()
    cut = len(lines)
    while cut > 0 and lines[cut - 1][0].strip():
        cut -= 1
    caption_lines = lines[cut:]
    if not caption_lines or cut == 0:
        raise PublishError(f"{item.loc}: #{item.label} div needs content and a caption "
                           "(the last paragraph)")
    return lines[:cut], " ".join(l.strip() for l, _ in caption_lines)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# ---- public API ------------------------------------------------------------

def number_report(stage_dir: str | Path, entry_qmd: str | Path) -> dict[str, str]:
    """label -> "eTable N" / "eFigure N" for the report (for ARD ``output_id``)."""
    stage = Path(stage_dir).resolve()
    entry = stage / entry_qmd if not Path(entry_qmd).is_absolute() else Path(entry_qmd)
    project_cfg = _project_config(stage)
    doc = parse_qmd(entry, stage)
    titles, _, delim = _xref.crossref_settings(project_cfg, doc.meta)
    return dict(_xref.number_elements(doc, titles=titles, title_delim=delim).numbers)


def _project_config(stage: Path) -> dict:
    path = stage / "_quarto.yml"
    if not path.is_file():
        return {}
    try:
        return _yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PublishError(f"{path}: invalid YAML: {exc}") from exc


def publish_builtin(stage_dir: str | Path, entry_qmd: str | Path, out_dir: str | Path,
                    formats: Iterable[str] = ("html", "pdf"), ard_json=None, *,
                    run_date=None, run_time=None, notebook_href=None, keep_intermediate: bool = False,
                    font_paths: Iterable[str | Path] = (), on_written=None, word_source=None) -> dict[str, Path]:
    """Render ``entry_qmd`` of the staged project to HTML and/or PDF.

    Parameters
    ----------
    stage_dir
        The staged build directory (``_quarto.yml``, ``_extensions/``,
        ``report/<study>/`` with its ``_results/ard.json``, executed ``notebooks/``).
    entry_qmd
        The report entry, relative to ``stage_dir`` (``report/<study>/index.qmd``).
    out_dir
        Where ``<stem>.html`` / ``<stem>.pdf`` are written.
    formats
        Any of ``"html"``, ``"pdf"`` (``"typst"`` also keeps the ``.typ`` source).
    ard_json
        Results store path or dict; default ``_results/ard.json`` next to the entry.
    run_date
        Date written into the PDF (date or "YYYY-MM-DD"); default the store's
        ``run`` date, else none. The PDF is byte-for-byte reproducible.
    notebook_href
        ``f(rel_path, cell_label) -> href`` for the HTML "Source" links; default
        the notebook path relative to the project (publish notebooks alongside).
    keep_intermediate
        Also write the resolved markdown and Typst source to ``out_dir``.
    on_written
        ``f(format, path)``, called as soon as the HTML or the PDF is written (the HTML's in
        another thread): e.g. to audit one while the other is still being made.
    word_source
        ``f(path)``, called from the HTML's thread with the published HTML as soon as it is
        written, while the PDF is still being made: Word's converter (``publish.docx``) can start
        early.

    Returns
    -------
    dict
        ``{"html": Path, "pdf": Path, ...}`` plus ``"numbering"`` (label ->
        "eTable N") is available from :func:`number_report`.
    """
    formats = tuple(formats)
    unknown = set(formats) - {"html", "pdf", "typst"}
    if unknown:
        raise PublishError(f"unknown format(s): {', '.join(sorted(unknown))}")
    stage = Path(stage_dir).resolve()
    entry = (stage / entry_qmd) if not Path(entry_qmd).is_absolute() else Path(entry_qmd)
    out = Path(out_dir).resolve()
    ext_dir = stage / EXTENSION
    for name in ("typst-template.typ", "typst-show.typ", "jama.css", "provenance.js"):
        if not (ext_dir / name).is_file():
            raise PublishError(f"missing {ext_dir / name}: stage the _extensions/trialsupp folder")

    project_cfg = _project_config(stage)
    doc = parse_qmd(entry, stage)
    titles, prefixes, delim = _xref.crossref_settings(project_cfg, doc.meta)
    numbering = _xref.number_elements(doc, titles=titles, title_delim=delim)
    store = load_store(ard_json if ard_json is not None else results_dir(entry) / "ard.json")
    rows = index_rows(store)
    date = _run_date(store, run_date)

    out.mkdir(parents=True, exist_ok=True)
    stem = entry.stem
    written: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="trialsupp-publish-") as tmp:
        build = Path(tmp)
        if notebook_href is None:
            notebook_href = _default_notebook_href(out)
        builder = _Builder(doc, numbering, prefixes, rows, build, notebook_href)
        builder.prepare()
        order = sorted(numbering.numbers, key=lambda l: (l.split("-")[0] != "tbl", numbering.number(l)))
        floats_meta = [{"id": l, "caption": numbering.caption(l, builder.captions.get(l))}
                       for l in order]

        html_job = None
        if "html" in formats:
            meta = document_metadata(project_cfg, doc.meta, "html")
            meta["ts-floats"] = floats_meta
            body = builder.build("html")
            md = build / f"{stem}.html.md"
            md.write_text(_front(meta) + body, encoding="utf-8")
            used = builder.used_ids | set(_data_ard_ids(body))
            style = build / "style.html"
            style.write_text("<style>\n" + (ext_dir / "jama.css").read_text(encoding="utf-8")
                             + "\n</style>\n", encoding="utf-8")
            after_text = provenance_html(store, (ext_dir / "provenance.js").read_text(encoding="utf-8"), ids=used)
            late = _late_include(after_text)
            after = build / "after.html"
            after.write_text(AFTER_MARK if late is not None else after_text, encoding="utf-8")
            tpl = build / "template.html"
            tpl.write_text(HTML_TEMPLATE, encoding="utf-8")
            target = out / f"{stem}.html"
            args = ["--standalone", f"--template={tpl}", "--toc", "--toc-depth=2",
                    f"--resource-path={build}", f"--include-in-header={style}",
                    f"--include-after-body={after}", "--section-divs", "--wrap=none"]
            pandoc = _pandoc()

            def html_pandoc(md=md, target=target, args=args, blob=late):
                # resources are written in by inline_resources, as Pandoc's --embed-resources writes
                # them: Pandoc's embedding re-parses the whole page (0.5 of its 0.7 CPU-s for valor)
                pandoc.convert_file(str(md), "html5", format=MD_FORMAT, outputfile=str(target), extra_args=args,
                                    verify_format=False)
                html = target.read_text(encoding="utf-8")
                if blob is not None and html.count(AFTER_MARK) != 1:   # the report holds the mark itself:
                    after.write_text(after_text, encoding="utf-8")     # Pandoc includes the blob
                    pandoc.convert_file(str(md), "html5", format=MD_FORMAT, outputfile=str(target),
                                        extra_args=args, verify_format=False)
                    html, blob = target.read_text(encoding="utf-8"), None
                html, _ = inline_resources(html, [build, entry.parent])
                if blob is not None:            # the blob holds no resource: it goes in after the scan
                    html = html.replace(AFTER_MARK, blob, 1)
                target.write_text(nest_float_list(html), encoding="utf-8")
                if word_source is not None:     # Word is made from the published page, before the PDF is done
                    word_source(target)         # (first: it may hand the work to a thread of its own)
                if on_written:
                    on_written("html", target)

            # HTML and PDF are independent from here: Pandoc's HTML run (a process) goes on while
            # the Typst side is built and compiled (Typst releases the GIL)
            pool = ThreadPoolExecutor(max_workers=2)
            html_job = pool.submit(html_pandoc)
            pool.shutdown(wait=False)
            written["html"] = target
            if keep_intermediate:
                shutil.copy2(md, out / md.name)

        try:
            if "pdf" in formats or "typst" in formats:
                meta = document_metadata(project_cfg, doc.meta, "typst")
                if date:
                    meta.setdefault("trialsupp", {})
                    if isinstance(meta["trialsupp"], dict):
                        meta["trialsupp"] = {**meta["trialsupp"], "run-date": date,
                                             **({"run-time": run_time} if run_time else {})}
                kinds, labels = list(titles), list(builder.captions)
                conv = _convert_inlines([md_escape(titles[k]) for k in kinds]       # one Pandoc run for all
                                        + [builder.inline(builder.captions[l], Loc(entry, 0), "typst")
                                           for l in labels], "typst")
                builder.typst_titles = dict(zip(kinds, conv[:len(kinds)]))
                builder.typst_captions = dict(zip(labels, conv[len(kinds):]))
                body = builder.build("typst")
                md = build / f"{stem}.typst.md"
                md.write_text(_front(meta) + body, encoding="utf-8")
                tpl_dir = build / "typst-template"
                tpl_dir.mkdir()
                (tpl_dir / "template.typ").write_text(TYPST_MAIN_TEMPLATE, encoding="utf-8")
                (tpl_dir / "definitions.typ").write_text(TYPST_DEFINITIONS, encoding="utf-8")
                for name in ("typst-template.typ", "typst-show.typ"):
                    shutil.copy2(ext_dir / name, tpl_dir / name)
                typ = build / f"{stem}.typ"
                _pandoc().convert_file(
                    str(md), "typst", format=MD_FORMAT, outputfile=str(typ),
                    extra_args=["--standalone", f"--template={tpl_dir / 'template.typ'}",
                                "--wrap=preserve"], verify_format=False)
                typ.write_text(add_typst_alt(typ.read_text(encoding="utf-8"), builder.figure_alts()),
                               encoding="utf-8")
                if "typst" in formats or keep_intermediate:
                    shutil.copy2(typ, out / typ.name)
                    written["typst"] = out / typ.name
                if "pdf" in formats:
                    target = out / f"{stem}.pdf"
                    _compile_typst(typ, build, target, date, font_paths)
                    written["pdf"] = target
                if keep_intermediate:
                    shutil.copy2(md, out / md.name)
                if on_written and "pdf" in written:
                    on_written("pdf", written["pdf"])
        finally:        # the HTML runs read the temporary folder: they end before the folder goes
            if html_job is not None:
                html_job.exception()
        if html_job is not None:
            html_job.result()              # its error, if any, is raised here
    return written


# The provenance blob (the ARD rows the HTML shows, 12 MB for the CDISC pilot appendix) goes in
# after Pandoc and after the resources are written in: it holds none (inline JSON and script), and
# given to Pandoc it is parsed with the whole page (with --embed-resources, 2.4 GB and 8 s CPU
# against 0.9 GB and 3 s without it).
AFTER_MARK = "<!--trialsupp:after-body-->"


def _late_include(text: str) -> str | None:
    """What Pandoc's ``--include-after-body`` puts in the page for ``text`` (its final newline
    dropped) when it can go in after Pandoc; else None (Pandoc includes it)."""
    if not text.endswith("\n") or text.strip() + "\n" != text or "<link" in text or " src=" in text:
        return None
    return text[:-1]


def _ard_prefix(label: str) -> str:
    """Every ARD id of an element starts with its label stem (``trialsupp.ard.store.row_id``)."""
    return (label.split("-", 1)[1] if label.startswith(("tbl-", "fig-")) else label) + ".*"


def _default_notebook_href(out: Path):
    """Link to the notebook as published next to the output: ``<rel path>`` if it
    exists under ``out``, else ``notebooks/<file name>``, else ``<rel path>``."""
    def href(rel: str, cell: str) -> str:
        preview = f"notebooks/{Path(rel).stem}.html"
        if (out / preview).is_file():
            return f"{preview}#{cell}"
        if (out / rel).is_file():
            return rel
        flat = f"notebooks/{Path(rel).name}"
        return flat if (out / flat).is_file() else rel
    return href


def _front(meta: dict) -> str:
    return "---\n" + yaml.safe_dump(meta, sort_keys=True, allow_unicode=True) + "---\n\n"


def _data_ard_ids(text: str) -> list[str]:
    ids = []
    for m in re.finditer(r'data-ard="([^"]*)"', text):
        ids.extend(m.group(1).split())
    return ids


# PDF/UA-1 (ISO 14289-1): tagged, with title, language and alternative text; Typst checks
# the rules it can check and refuses to write a PDF that breaks them
PDF_STANDARDS = ("ua-1",)


# Typst runs in a child process: its caches keep what it allocated (600 MB for the 78 pages of
# the CDISC pilot appendix) until the process ends, and the render goes on to audit both documents.
_TYPST_CHILD = """
import json, sys
import typst
a = json.loads(sys.argv[1])
try:
    pdf = typst.compile(a["typ"], root=a["root"], font_paths=a["fonts"], timestamp=a["stamp"],
                        pdf_standards=a["standards"])
except Exception as exc:
    sys.stderr.write(str(exc))
    sys.exit(3)
with open(a["target"], "wb") as fh:
    fh.write(pdf)
"""


def _compile_typst(typ: Path, root: Path, target: Path, date: str | None,
                   font_paths: Iterable[str | Path]) -> None:
    import json
    import subprocess
    import sys
    when = _dt.datetime.fromisoformat(date) if date else _dt.datetime(2000, 1, 1)
    stamp = int(when.replace(tzinfo=_dt.timezone.utc).timestamp())
    args = {"typ": str(typ), "root": str(root), "fonts": [str(p) for p in font_paths], "stamp": stamp,
            "standards": list(PDF_STANDARDS), "target": str(target)}
    proc = subprocess.run([sys.executable, "-c", _TYPST_CHILD, json.dumps(args)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        # typst raises TypstError with the diagnostics
        message = proc.stderr.strip() or f"exit status {proc.returncode}"
        raise PublishError(f"Typst could not compile {typ.name}: {message}")
