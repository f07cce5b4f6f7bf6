"""Word output: the supplement as one DOCX, and (CSR layout) one DOCX per output table.

Both are made by Pandoc's DOCX writer from the published HTML (one run: the per-table
documents are cut from the whole one, ``docx_split``), so that every number and
footnote is the very text of the HTML and PDF (both are rendered from the same ARD rows):
tables keep their header rows, spanning cells and footnotes; figures are the 600-dpi PNG
twins of the SVGs shown in the HTML (``figures/``); styles come from the reference
documents shipped in ``trialsupp/templates/docx/`` (``reference.docx`` portrait,
``reference-landscape.docx`` for CSR outputs, with "Page X of Y" in the footer).
With ``SOURCE_DATE_EPOCH`` set, Pandoc dates the document and its zip entries by it, so the
DOCX is byte-reproducible like the HTML and PDF.
"""
from __future__ import annotations

import base64
import hashlib
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from trialsupp.publish.qmd import PublishError

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "docx"
_DROP = re.compile(r"<script\b.*?</script>|<style\b.*?</style>", re.S | re.I)
_SVG_SRC = re.compile(r'src="data:image/svg\+xml;base64,([^"]+)"')


def reference_doc(landscape: bool = False) -> Path:
    path = TEMPLATES / ("reference-landscape.docx" if landscape else "reference.docx")
    if not path.is_file():
        raise PublishError(f"missing Word reference document {path}")
    return path


def _png_for_svgs(html: str, figures: Path | None) -> str:
    """Replace each inline SVG figure by its PNG twin in ``figures/`` (same stem), matched by
    the SVG's bytes; Word needs a raster fallback Pandoc cannot make without rsvg."""
    if not figures or not figures.is_dir():
        return html
    by_hash = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in figures.glob("*.svg")}

    def swap(m: re.Match) -> str:
        svg = by_hash.get(hashlib.sha256(base64.b64decode(m.group(1))).hexdigest())
        png = svg.with_suffix(".png") if svg else None
        # relative: Pandoc writes the path into the DOCX, which must not depend on the folder
        return f'src="{figures.name}/{png.name}"' if png and png.is_file() else m.group(0)
    return _SVG_SRC.sub(swap, html)


def _clean(html: str) -> str:
    """Drop what Word cannot use (scripts, styles, provenance popups); keep the front matter
    (heading, citation, simulated-data statement, contents with links), which Pandoc's
    HTML reader would skip inside ``<header>``/``<nav>`` or take as the title; give each
    table's stub column a third of the width (Pandoc reads ``<col>`` widths)."""
    html = _DROP.sub("", html)
    html = re.sub(r"<(/?)(header|nav|main)\b[^>]*>", r"<\1div>", html)     # Pandoc reads only <main> when present
    html = re.sub(r'<h1 class="title">(.*?)</h1>', r'<p><strong>\1</strong></p>', html, flags=re.S)
    html = re.sub(r'<div[^>]*class="[^"]*ts-popup[^"]*"[^>]*>.*?</div>', "", html, flags=re.S)
    # the collapsed list of a figure's ARD ids: interactive HTML only (the PDF prints its source line)
    html = re.sub(r'<details class="ts-ard-list">.*?</details>', "", html, flags=re.S)
    html = _SPAN.sub(_bare_span, html)
    return re.sub(r"(<table\b[^>]*>)(.*?)(</table>)", _colgroup, html, flags=re.S)


_SPAN = re.compile(r"<span\b([^>]*)>")
_SPAN_ATTR = re.compile(r'\s([\w:-]+)="([^"]*)"')


def _bare_span(m: re.Match) -> str:
    """A statistic's span without what only the web page uses (ARD ids, keyboard focus, the
    ``ts-*`` classes and the decimal-alignment widths), which Pandoc's DOCX writer ignores
    but its HTML reader would parse: two thirds of the page's bytes. Other spans are kept as they are."""
    attrs = _SPAN_ATTR.findall(m.group(1))
    if not all(k in ("class", "style", "tabindex", "data-ard") for k, _v in attrs):
        return m.group(0)
    classes = [v for k, v in attrs if k == "class"]
    if not classes or not all(c.startswith("ts-") for c in classes[0].split()):
        return m.group(0)
    return "<span>"


def _colgroup(m: re.Match) -> str:
    head, body, tail = m.groups()
    if "<colgroup" in body:
        return m.group(0)
    first_row = re.search(r"<tr\b.*?</tr>", body, re.S)
    if not first_row:
        return m.group(0)
    spans = [int(x or 1) for x in re.findall(r'<t[hd]\b(?:[^>]*colspan="(\d+)")?[^>]*>', first_row.group(0))]
    ncol = sum(spans)
    if ncol < 2:
        return m.group(0)
    stub, rest = 32.0, 68.0 / (ncol - 1)
    cols = f'<col style="width: {stub:g}%">' + "".join(f'<col style="width: {rest:.2f}%">' for _ in range(ncol - 1))
    return f"{head}<colgroup>{cols}</colgroup>{body}{tail}"


def drop_scripts(html: str) -> str:
    """The page without its ``<script>`` elements (Word uses none; the provenance blob of a CSR
    appendix is 12 MB, which every regular expression below would scan). Plain ``str.find``:
    the published pages write the tag in lower case (``_clean`` still drops any other)."""
    out, pos = [], 0
    while True:
        start = html.find("<script", pos)
        end = html.find("</script>", start) if start >= 0 else -1
        if end < 0:
            break
        out.append(html[pos:start])
        pos = end + len("</script>")
    out.append(html[pos:])
    return "".join(out)


def html_to_docx(html: str, target: Path, *, figures: Path | None = None, landscape: bool = False,
                 title: str | None = None) -> Path:
    from trialsupp.publish.builtin import _pandoc
    html = _clean(_png_for_svgs(drop_scripts(html), figures))
    with tempfile.TemporaryDirectory(prefix="trialsupp-docx-") as tmp:
        src = Path(tmp) / "in.html"
        src.write_text(html, encoding="utf-8")
        args = [f"--reference-doc={reference_doc(landscape)}", "--wrap=none"]
        if figures is not None:
            args.append(f"--resource-path={figures.parent}")
        out = Path(tmp) / "out.docx"
        _pandoc().convert_file(str(src), "docx", format="html", outputfile=str(out), extra_args=args,
                               verify_format=False)      # no two extra Pandoc runs listing formats
        if title:
            _set_core_title(out, title)
        target.parent.mkdir(parents=True, exist_ok=True)
        out.replace(target)
    return target


def _set_core_title(path: Path, title: str) -> None:
    """Document title in the DOCX properties (read aloud by screen readers), without the
    title paragraph Pandoc would add for ``--metadata title``; entry dates are kept."""
    import io
    import zipfile
    from trialsupp.publish.docx_split import core_title
    src = zipfile.ZipFile(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, core_title(data, title) if info.filename == "docProps/core.xml" else data)
    src.close()
    path.write_bytes(buf.getvalue())


_ELEMENT_ID = re.compile(r"tbl-|table-|figure-")


class _Elements(HTMLParser):
    """Output elements: JAMA table floats (``id="tbl-..."``) and CSR output sections (level-2
    sections, ``<section id="table-14-1.01-...">``); their outer HTML spans in the source."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.text = text
        self.lines = [0]
        for line in text.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.depth = 0
        self.open: tuple[str, int, int, str] | None = None    # (id, depth, offset, tag)
        self.spans: list[tuple[str, int, int]] = []

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.lines[line - 1] + col

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "meta", "link", "input", "hr", "col", "source", "wbr"):
            return
        self.depth += 1
        a = dict(attrs)
        ident = a.get("id") or ""
        output = _ELEMENT_ID.match(ident) or (tag == "section" and "level2" in (a.get("class") or "").split())
        if self.open is None and ident and output and not ident.endswith("-table"):
            self.open = (ident, self.depth, self._offset(), tag)

    def handle_startendtag(self, tag, attrs):      # <img ... />: opens and closes nothing
        pass

    def handle_endtag(self, tag):
        if self.open and self.depth == self.open[1] and tag == self.open[3]:
            end = self.text.index(">", self._offset()) + 1
            self.spans.append((self.open[0], self.open[2], end))
            self.open = None
        self.depth -= 1


def table_elements(html: str) -> list[tuple[str, str]]:
    """(element id, outer HTML) of every output element of the supplement, in order."""
    parser = _Elements(html)
    parser.feed(html)
    return [(ident, html[a:b]) for ident, a, b in parser.spans]


def _unescape(text: str) -> str:
    from html import unescape
    return unescape(text)


def output_file_stem(ident: str) -> str:
    """CSR outputs are named like their RTF twins: ``table-14-1.01-summary...`` -> ``t-14-1-01``."""
    m = re.match(r"(table|figure)-(\d+(?:-\d+)*(?:\.\d+)?)-", ident)
    if m:
        return f"{m.group(1)[0]}-{m.group(2).replace('.', '-')}"
    return ident


def output_elements(html: str, out_dir: Path) -> list[tuple[str, str, Path, str]]:
    """(element id, the element alone as an HTML page, target DOCX, title) of every output
    table of the supplement page ``html``, in order; figures are left out (the PDF and the
    figure files serve)."""
    jobs = []
    for ident, fragment in table_elements(html):
        if "<table" not in fragment:
            continue
        page = f'<html lang="en"><head><meta charset="utf-8"></head><body>{fragment}</body></html>'
        head = re.search(r"<(h\d|caption)\b[^>]*>(.*?)</\1>", fragment, re.S)
        title = " ".join(re.sub(r"<[^>]+>", "", head.group(2)).split()) if head else ident
        jobs.append((ident, page, out_dir / f"{output_file_stem(ident)}.docx", _unescape(title)))
    return jobs


def fragment_docx(jobs: list[tuple[str, str, Path, str]], *, landscape: bool = True) -> list[Path]:
    """Each element's DOCX made by Pandoc from the element's HTML alone (one run per element,
    as many at once as there are cores): what ``output_docx`` cuts from the whole document."""
    import os
    from concurrent.futures import ThreadPoolExecutor
    from trialsupp.publish.builtin import _pandoc
    if not jobs:
        return []
    _pandoc()                    # Pandoc looked up once, before the threads run it
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda j: html_to_docx(j[1], j[2], landscape=landscape, title=j[3]), jobs))


def output_docx(html: Path | str, out_dir: Path, *, landscape: bool = True, whole: Path | None = None) -> list[Path]:
    """One DOCX per output element (the CSR layout): ``<out_dir>/t-14-1-01.docx`` etc.
    ``html``: the supplement page's path, or its text; ``whole``: the DOCX Pandoc made of that
    page with the same reference document (``supplement.docx``), made here if not given.
    Each element's package is cut from the whole document (``docx_split``); an element not
    found there is converted on its own by Pandoc."""
    from trialsupp.publish.docx_split import cut_elements
    if isinstance(html, Path):
        html = html.read_text(encoding="utf-8")
    html = drop_scripts(html)
    jobs = output_elements(html, out_dir)
    if not jobs:
        return []
    elements = [(ident, target, title) for ident, _page, target, title in jobs]
    cut = cut_elements(whole, elements, landscape=landscape) if whole is not None else None
    if cut is None:              # no whole document of this layout at hand: one Pandoc run makes it
        with tempfile.TemporaryDirectory(prefix="trialsupp-docx-") as tmp:
            own = html_to_docx(html, Path(tmp) / "whole.docx", landscape=landscape)
            cut = cut_elements(own, elements, landscape=landscape) or {}
    fragment_docx([j for j in jobs if j[2] not in cut], landscape=landscape)
    return [target for _ident, _page, target, _title in jobs]
