"""RTF renderer for CSR tables: hand-written RTF 1.9 (one file per output).

Why not rtflite: rtflite 2.6 (installed) fails to build a document from a pandas
DataFrame here (its narwhals conversion raises "DataFrame.to_native() takes 1
positional argument"), and it converts LaTeX-like text (``\\alpha``) by default,
which would change AE terms. Hand-written RTF keeps escaping in one place
(``_escape.escape_rtf``) and the output byte-stable.

Layout (ICH E3 / SAS ODS RTF conventions): the page header repeats the header
line (e.g. protocol and "Page X of Y") and the centred titles ("Table 14-3.01",
title, population); column headings repeat on every page (``\\trhdr``); rules
are horizontal only; footnotes and the footer line (e.g. program path) are in
the page footer so they repeat on every page.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from ._escape import escape_rtf
from ._table_data import Cell, Resolved, TableData, resolve

TWIPS_PER_IN = 1440
PAGE_FIELD = r"{\field{\*\fldinst PAGE}{\fldrslt 1}}"
NUMPAGES_FIELD = r"{\field{\*\fldinst NUMPAGES}{\fldrslt 1}}"
BORDER = r"\brdrs\brdrw10"


def _t(text: str) -> str:
    return escape_rtf(text)


def _marks(letters) -> str:
    return r"{\super " + escape_rtf(",".join(letters)) + "}" if letters else ""


def _cell_text(cell: Cell) -> str:
    return _t(cell.text)


def _with_page(text: str) -> str:
    """Escape, then turn the placeholders {page} and {pages} into RTF fields."""
    parts = re.split(r"(\{pages?\})", text)
    return "".join(PAGE_FIELD if p == "{page}" else NUMPAGES_FIELD if p == "{pages}" else _t(p)
                   for p in parts)


def _line_lr(left: str, right: str, width: int, fs: int) -> str:
    return (rf"\pard\plain\f0\fs{fs}\tqr\tx{width} " + _with_page(left) + r"\tab "
            + _with_page(right) + r"\par" + "\n")


def render_rtf(data: TableData, *, number: Optional[str] = None, titles: Sequence[str] = (),
               header_left: str = "", header_right: str = "Page {page} of {pages}",
               footer_left: str = "", footer_right: str = "",
               font: str = "Courier New", font_size: float = 9.0,
               landscape: Optional[bool] = None, stub_fraction: float = 0.35) -> str:
    """The RTF document of a table.

    number : e.g. "Table 14-3.01" (first title line); titles: further lines (population ...).
    header_left/right, footer_left/right : page header/footer texts; ``{page}`` and
        ``{pages}`` become page-number fields.
    """
    r: Resolved = resolve(data)
    d = data
    land = d.landscape if landscape is None else landscape
    pw, ph = (15840, 12240) if land else (12240, 15840)
    margin = TWIPS_PER_IN
    width = pw - 2 * margin
    fs = int(round(font_size * 2))
    ncols = len(d.columns)
    stub_w = int(width * (stub_fraction if ncols else 1.0))
    col_w = (width - stub_w) // max(ncols, 1)
    edges = [stub_w + col_w * (i + 1) for i in range(ncols)]
    if edges:
        edges[-1] = width
    all_edges = [stub_w] + edges

    out: list[str] = []
    out.append(r"{\rtf1\ansi\ansicpg1252\deff0\uc1" + "\n")
    out.append(r"{\fonttbl{\f0\fmodern\fcharset0 " + _t(font) + r";}}" + "\n")
    out.append(r"{\colortbl;\red0\green0\blue0;}" + "\n")
    out.append(r"{\info{\title " + _t(" ".join(x for x in (number or "", d.title) if x)) + "}}\n")
    out.append(rf"\paperw{pw}\paperh{ph}\margl{margin}\margr{margin}\margt{margin}\margb{margin}"
               rf"\headery720\footery720" + (r"\landscape" if land else "") + "\n")
    out.append(r"\sectd" + (r"\lndscpsxn" if land else "") + rf"\pgwsxn{pw}\pghsxn{ph}" + "\n")
    # page header: header line and titles
    hdr = [r"{\header" + "\n"]
    if header_left or header_right:
        hdr.append(_line_lr(header_left, header_right, width, fs))
    for line in ([number] if number else []) + ([d.title] if d.title else []) + list(titles):
        hdr.append(rf"\pard\plain\qc\f0\fs{fs} " + _t(line)
                   + (_marks(r.mark("title")) if line == d.title else "") + r"\par" + "\n")
    hdr.append(rf"\pard\plain\f0\fs{fs}\par" + "\n}\n")
    out += hdr
    # page footer: notes, then the footer line
    notes = []
    if r.abbreviations:
        notes.append("Abbreviations: " + "; ".join(f"{_t(a)}, {_t(m)}" for a, m in r.abbreviations) + ".")
    notes += [_t(str(g)) for g in r.general]
    notes += [_marks((l,)) + _t(str(t)) for l, t in r.notes]
    if d.source:
        notes.append(_t(d.source))
    ftr = [r"{\footer" + "\n"]
    for n in notes:
        ftr.append(rf"\pard\plain\ql\f0\fs{fs} " + n + r"\par" + "\n")
    if footer_left or footer_right:
        ftr.append(_line_lr(footer_left, footer_right, width, fs))
    ftr.append("}\n")
    out += ftr

    def row(cells: Sequence[tuple[int, str, str]], *, header: bool = False, top: bool = False,
            bottom: bool = False, bottom_cells: Sequence[bool] = ()) -> str:
        """cells: (right edge, alignment ql/qc, rtf text)."""
        s = [r"\trowd\trgaph60\trleft0" + (r"\trhdr" if header else "") + r"\trkeep"]
        for j, (edge, _, _) in enumerate(cells):
            b = ""
            if top:
                b += r"\clbrdrt" + BORDER
            if bottom or (bottom_cells and bottom_cells[j]):
                b += r"\clbrdrb" + BORDER
            s.append(b + r"\clvertalb" + rf"\cellx{edge}")
        for _, al, text in cells:
            s.append(rf"\pard\plain\intbl\{al}\f0\fs{fs} " + text + r"\cell")
        s.append(r"\row")
        return "".join(s) + "\n"

    # spanners
    keys = list(d.column_keys())
    if d.spanners:
        starts = {min(keys.index(k) for k in s.columns): (i, s) for i, s in enumerate(d.spanners)}
        cells, under = [(stub_w, "ql", "")], [False]
        j = 0
        while j < ncols:
            if j in starts:
                i, s = starts[j]
                j += len(s.columns)
                cells.append((all_edges[j], "qc", (_cell_text(s.label) if hasattr(s.label, "ids") else _t(s.label)) + _marks(r.mark("spanner", i))))
                under.append(True)
            else:
                j += 1
                cells.append((all_edges[j], "qc", ""))
                under.append(False)
        out.append(row(cells, header=True, top=True, bottom_cells=under))
    cells = [(stub_w, "ql", _t(d.stub_header) + _marks(r.mark("stub")))]
    for j, c in enumerate(d.columns):
        cells.append((edges[j], "qc", _cell_text(c.header) + _marks(r.mark("column", c.key))))
    out.append(row(cells, header=True, top=not d.spanners, bottom=True))
    for i, rw in enumerate(d.rows):
        last = i == len(d.rows) - 1
        lab = _t(rw.label) + _marks(r.mark("row", i))
        if rw.kind == "group":
            out.append(row([(width, "ql", r"{\b " + lab + "}")], bottom=last))
            continue
        indent = rf"\li{240 * rw.indent}" if rw.indent else ""
        cells = [(stub_w, "ql" + indent, lab)]
        for j, c in enumerate(d.columns):
            cells.append((edges[j], "qc" if c.align == "center" else "ql",
                          _cell_text(rw.cell(c.key)) + _marks(r.mark("cell", i, c.key))))
        out.append(row(cells, bottom=last))
    out.append(r"\pard\plain\f0\fs" + str(fs) + r"\par" + "\n}")
    return "".join(out)
