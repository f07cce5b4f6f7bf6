"""RTF renderer for CSR tables: hand-written RTF 1.9 (one file per output).

Why not rtflite: rtflite 2.6 (installed) fails to build a document from a pandas
DataFrame here (its narwhals conversion raises "DataFrame.to_native() takes 1
positional argument"), and it converts LaTeX-like text (``\\alpha``) by default,
which would change AE terms. Hand-written RTF keeps escaping in one place
(``_escape.escape_rtf``) and the output byte-stable.

Layout (ICH E3 / SAS ODS RTF conventions): the page header repeats the header
line (e.g. protocol and "Page X of Y") and the centred titles ("Table 14-3.01",
title, population) and the column headings (a table in the page header, as
pharmaRTF does: LibreOffice ignores ``\\trhdr``), with "(continued)" after the
number on later pages; rules are horizontal only; footnotes, the footer line
(e.g. program path) and the run date/time are in
the page footer so they repeat on every page.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from typing import Optional, Sequence

from ._escape import escape_rtf
from ._layout import (NBSP, Layout, decimal_parts, mono_width, parent_rows, parts_layout, protect, row_blocks,
                      row_groups, spans_table, tokens)
from ._render_typst import MIN_SIZE, spanner_index
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


def run_stamp() -> str:
    """Run date and time for the footer: ``SOURCE_DATE_EPOCH`` (the reproducible-builds
    convention; ``trialsupp render`` sets it to the render's recorded start, and ``verify``
    re-runs with the same value), else now; in UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = (datetime.fromtimestamp(int(epoch), timezone.utc) if epoch.isdigit()
            else datetime.now(timezone.utc))
    return when.strftime("%Y-%m-%d %H:%M UTC")


RUN_LINE = re.compile(r"Run: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
_FOOTER_GROUP = re.compile(r"\{\\footerf?\n.*?\n\}\n", re.S)


def restamp(rtf: str, stamp: str) -> str:
    """The RTF with the run date/time of its page footers replaced by ``stamp`` (an output
    restored from the notebook cache is dated by the render that publishes it)."""
    return _FOOTER_GROUP.sub(lambda m: RUN_LINE.sub("Run: " + stamp, m.group(0)), rtf)


def run_footer(footer_right: str, run: Optional[str]) -> str:
    """Right part of the footer line: the caller's text and "Run: <date time>"
    (``run``: "auto" for :func:`run_stamp`, a text, or None/"" for none)."""
    stamp = run_stamp() if run == "auto" else run
    return "   ".join(x for x in (footer_right, f"Run: {stamp}" if stamp else "") if x)


def _dec_pad(d: TableData, lay: Layout) -> dict[str, tuple[int, int]]:
    """CSR decimal alignment in a monospace font: per numeric column key, the longest
    (lead, tail) of its cells; cells are padded to those lengths with non-breaking spaces."""
    out = {}
    for j, c in enumerate(d.columns):
        if not lay.numeric[j]:
            continue
        parts = [decimal_parts(r.cell(c.key).text) for r in d.rows]
        parts = [p for p in parts if p]
        if parts:
            out[c.key] = (max(len(a) for a, _ in parts), max(len(b) for _, b in parts))
    return out


def render_rtf(data: TableData, *, number: Optional[str] = None, titles: Sequence[str] = (),
               header_left: str = "", header_right: str = "Page {page} of {pages}",
               footer_left: str = "", footer_right: str = "",
               font: str = "Courier New", font_size: float = 9.0,
               landscape: Optional[bool] = None, stub_fraction: Optional[float] = None,
               run: Optional[str] = "auto") -> str:
    """The RTF document of a table.

    number : e.g. "Table 14-3.01" (first title line); titles: further lines (population ...).
    header_left/right, footer_left/right : page header/footer texts; ``{page}`` and
        ``{pages}`` become page-number fields.
    run : run date/time printed in the footer ("auto": ``SOURCE_DATE_EPOCH`` or now, in UTC,
        see :func:`run_stamp`; None: none).

    Column widths come from the shared layout step (``_layout.parts_layout``, measured in
    the monospace font). The column headings are a table in the page header, so
    that every reader (Word, LibreOffice) repeats them on each page; pages after
    the first say "(continued)" after the table number (``\titlepg`` first-page header).
    A table too wide for a landscape page in the smallest type (1.5 pt below ``font_size``,
    never below 7 pt) is set as column groups, each in its own section (its own page header
    with its column headings) that repeats the stub column.
    """
    r: Resolved = resolve(data)
    d = data
    land = d.landscape if landscape is None else landscape
    pw, ph = (15840, 12240) if land else (12240, 15840)
    margin = TWIPS_PER_IN
    width = pw - 2 * margin
    parts = parts_layout(d, avail=width / 20, avail_landscape=None if land else (15840 - 2 * margin) / 20,
                         size=font_size, min_size=max(font_size - 1.5, min(MIN_SIZE, font_size)),
                         measure=mono_width, pad=4.0,   # gap 3pt + slack
                         stub_share=stub_fraction if stub_fraction is not None else None)
    if parts[0].layout.landscape and not land:
        land = True
        pw, ph = ph, pw
        width = pw - 2 * margin
    fs = int(round(parts[0].layout.font_size * 2))

    out: list[str] = []
    out.append(r"{\rtf1\ansi\ansicpg1252\deff0\uc1" + "\n")
    out.append(r"{\fonttbl{\f0\fmodern\fcharset0 " + _t(font) + r";}}" + "\n")
    out.append(r"{\colortbl;\red0\green0\blue0;}" + "\n")
    out.append(r"{\info{\title " + _t(" ".join(x for x in (number or "", d.title) if x)) + "}}\n")
    out.append(rf"\paperw{pw}\paperh{ph}\margl{margin}\margr{margin}\margt{margin}\margb{margin}"
               rf"\headery720\footery720" + (r"\landscape" if land else "") + "\n")
    # page footer: notes, then the footer line and the run date/time (the same in every section)
    notes = []
    if r.abbreviations:
        notes.append("Abbreviations: " + "; ".join(f"{_t(a)}, {_t(m)}" for a, m in r.abbreviations) + ".")
    notes += [_t(str(g)) for g in r.general]
    notes += [_marks((l,)) + _t(str(t)) for l, t in r.notes]
    if d.source:
        notes.append(_t(d.source))
    right = run_footer(footer_right, run)
    footers: dict[str, str] = {}
    for kind in ("footerf", "footer"):
        ftr = ["{\\" + kind + "\n"]
        ftr += [rf"\pard\plain\ql\f0\fs{fs} " + n + r"\par" + "\n" for n in notes]
        if footer_left or right:
            ftr.append(_line_lr(footer_left, right, width, fs))
        footers[kind] = "".join(ftr) + "}\n"

    for k, part in enumerate(parts):
        if k:       # a new section on a new page: its own page header with its column headings
            out.append(r"\pard\plain\f0\fs" + str(fs) + r"\sect" + "\n")
        first = k == 0
        out.append(r"\sectd" + ("" if first else r"\sbkpage") + (r"\titlepg" if first else "") + (r"\lndscpsxn" if land else "")
                   + rf"\pgwsxn{pw}\pghsxn{ph}" + "\n")
        label = part.label(k + 1, len(parts))
        out += _part(part.data, part.layout, r, width, fs, number=number, titles=list(titles) + ([label] if label else []),
                     header_left=header_left, header_right=header_right, first=first, footers=footers)
    out.append(r"\pard\plain\f0\fs" + str(fs) + r"\par" + "\n}")
    return "".join(out)


def _part(d: TableData, lay: Layout, r: Resolved, width: int, fs: int, *, number, titles, header_left,
          header_right, first: bool, footers: dict[str, str]) -> list[str]:
    """One section of the document: page headers (with the column headings), footers and rows
    of the whole table or of one column group. ``first``: the first section (its first page
    has no "(continued)"); ``r``: the whole table's footnote marks."""
    ncols = len(d.columns)
    scale = width / (lay.total * 20) if lay.total else 1.0
    all_edges, x = [], 0.0
    for w in lay.widths:
        x += w * 20 * scale
        all_edges.append(int(round(x)))
    all_edges[-1] = width
    stub_w = all_edges[0]
    edges = all_edges[1:]
    decimal = _dec_pad(d, lay) if d.rules.pvalue_style == "csr" else {}

    def body_text(key: str, cell: Cell) -> str:
        text = cell.text
        if key in decimal:
            parts = decimal_parts(text)
            if parts:
                lw, tw = decimal[key]
                # padded with non-breaking spaces (a reader drops trailing plain spaces)
                return _t((parts[0].rjust(lw, NBSP) + parts[1].ljust(tw, NBSP)).replace(" ", NBSP))
        if lay.numeric[d.column_keys().index(key)] and "\n" not in text:
            # the unbreakable pieces of a statistic keep their spaces non-breaking
            text = " ".join(t.replace(" ", NBSP) for t in tokens(text))
        return _t(protect(text))

    def row(cells: Sequence[tuple[int, str, str]], *, header: bool = False, top: bool = False,
            bottom: bool = False, bottom_cells: Sequence[bool] = (), keep_next: bool = False) -> str:
        """cells: (right edge, alignment ql/qc, rtf text)."""
        s = [r"\trowd\trgaph60\trleft0" + (r"\trhdr" if header else "") + r"\trkeep"]
        for j, (edge, _, _) in enumerate(cells):
            b = ""
            if top:
                b += r"\clbrdrt" + BORDER
            if bottom or (bottom_cells and bottom_cells[j]):
                b += r"\clbrdrb" + BORDER
            s.append(b + r"\clvertalb" + rf"\cellx{edge}")
        kn = r"\keepn" if keep_next else ""
        for _, al, text in cells:
            s.append(rf"\pard\plain\intbl{kn}\{al}\f0\fs{fs} " + text + r"\cell")
        s.append(r"\row")
        return "".join(s) + "\n"

    # column heading rows (spanners, then the headings): placed in the page header
    head_rows: list[str] = []
    keys = list(d.column_keys())
    if d.spanners:
        starts = {min(keys.index(k) for k in s.columns): s for s in d.spanners}
        cells, under = [(stub_w, "ql", "")], [False]
        j = 0
        while j < ncols:
            if j in starts:
                s = starts[j]
                j += len(s.columns)
                cells.append((all_edges[j], "qc", (_cell_text(s.label) if hasattr(s.label, "ids") else _t(s.label))
                              + _marks(r.mark("spanner", spanner_index(r, s)))))
                under.append(True)
            else:
                j += 1
                cells.append((all_edges[j], "qc", ""))
                under.append(False)
        head_rows.append(row(cells, top=True, bottom_cells=under))
    cells = [(stub_w, "ql", _t(d.stub_header) + _marks(r.mark("stub")))]
    for j, c in enumerate(d.columns):
        cells.append((edges[j], "qc", _cell_text(c.header) + _marks(r.mark("column", c.key))))
    head_rows.append(row(cells, top=not d.spanners, bottom=True))

    def page_header(kind: str, continued: bool) -> list[str]:
        hdr = ["{\\" + kind + "\n"]
        if header_left or header_right:
            hdr.append(_line_lr(header_left, header_right, width, fs))
        lines = ([number] if number else []) + ([d.title] if d.title else []) + list(titles)
        for k, line in enumerate(lines):
            cont = " (continued)" if continued and k == 0 else ""
            hdr.append(rf"\pard\plain\qc\f0\fs{fs} " + _t(line + cont)
                       + (_marks(r.mark("title")) if line == d.title else "") + r"\par" + "\n")
        hdr.append(rf"\pard\plain\f0\fs{fs}\par" + "\n")
        hdr += head_rows
        hdr.append(rf"\pard\plain\f0\fs4\par" + "\n}\n")
        return hdr

    out: list[str] = []
    if first:
        out += page_header("headerf", continued=False)
    out += page_header("header", continued=True)
    # a later section has no first-page header/footer (no \titlepg)
    out += [footers["footerf"], footers["footer"]] if first else [footers["footer"]]
    if not first:       # LibreOffice starts no new section (page, header) where a table comes first
        out.append(r"\pard\plain\f0\fs4\par" + "\n")
    # a labelled block (an arm and its visits), and a short group with its label (a measure or
    # position and all its rows), and a parent row with its children (a visit's n row and its shift
    # rows): every row but its last is kept with the next, so that a page never starts mid-group
    # without the label RTF cannot repeat
    keep = {i + k for blocks in (row_blocks(d), row_groups(d), parent_rows(d))
            for i, n in blocks.items() for k in range(n - 1)}
    for i, rw in enumerate(d.rows):
        last = i == len(d.rows) - 1
        lab = _t(rw.label) + _marks(r.mark("row", i))
        if rw.kind == "group":
            out.append(row([(width, "ql", r"{\b " + lab + "}")], bottom=last, keep_next=True))
            continue
        indent = rf"\li{240 * rw.indent}" if rw.indent else ""
        if spans_table(d, rw):          # a row heading: across the table, kept with the next row
            out.append(row([(width, "ql" + indent, lab)], bottom=last, keep_next=True))
            continue
        cells = [(stub_w, "ql" + indent, lab)]
        for j, c in enumerate(d.columns):
            cells.append((edges[j], "qc" if c.align == "center" or lay.numeric[j] else "ql",
                          body_text(c.key, rw.cell(c.key)) + _marks(r.mark("cell", i, c.key))))
        out.append(row(cells, bottom=last, keep_next=i in keep))
    return out
