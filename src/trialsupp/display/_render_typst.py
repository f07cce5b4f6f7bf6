"""Typst renderer: a ``#table`` with ``stroke: none`` and horizontal rules only.

Rules: above the column headings (the rule below the title), below the column
headings, and at the bottom. The header repeats on every page of a long table.
Abbreviations, general notes, lettered footnotes and the source line follow in
smaller text. No ``#figure``: Quarto wraps the block in a figure with the
``tbl-cap`` caption (``include_title=True`` prints the title for standalone use).
A table too wide for the page even in 7 pt type is split into column groups, each
repeating the stub column (the shared layout step, ``_layout.parts_layout``).
``landscape=True`` puts the table on its own flipped (landscape) page(s) when the
document is portrait; in an already landscape document (the CSR layout) it is set in
the flow (no nested page, so the title block before it stays with it), and the notes
go into a repeating table footer, so that they are printed on every page of a long table.
"""
from __future__ import annotations

from typing import Optional

from ._escape import escape_typst
from ._layout import (NBSP, Layout, Part, decimal_parts, layout, parent_rows, parts_layout, protect, row_blocks,
                      spans_table, tokens)
from ._table_data import Cell, Resolved, TableData, resolve

THICK = "0.8pt"
THIN = "0.5pt"


def _text(text: str) -> str:
    return " #linebreak() ".join(escape_typst(t) for t in text.split("\n"))


def _marks(letters) -> str:
    return f"#super[{escape_typst(','.join(letters))}]" if letters else ""


def render_cell(cell: Cell) -> str:
    # Stats are plain text in Typst (there is no hover); ids are kept in the HTML.
    return "".join(_text(p) if isinstance(p, str) else _text(p.text) for p in cell.parts)


# Text width (pt) the table is laid out for: portrait JAMA page (A4, the narrower of A4 and US
# letter, with 2.2 cm side margins), and a landscape page (JAMA flipped page; CSR appendix).
# Statistic columns get fixed widths; text columns share what the page really has (fr).
AVAIL_PORTRAIT = 470.0
AVAIL_LANDSCAPE = 660.0
INSET_X = 4.0


MIN_SIZE = 7.0          # type is never set smaller than this: a wider table is split instead


def _page(d: TableData) -> dict:
    size = d.font_size or (7.5 if d.landscape else 8.5)
    # a portrait table sits in a figure (a container: no page break to a landscape page
    # there): a wide one is set in smaller type, then split; set landscape=True to turn the page
    return dict(avail=AVAIL_LANDSCAPE if d.landscape else AVAIL_PORTRAIT, size=size,
                min_size=min(MIN_SIZE, size), pad=INSET_X + 0.5)


def table_layout(data: TableData) -> Layout:
    """The shared layout step (column widths, type size, orientation) of the whole table."""
    return layout(data, **_page(data))


def table_parts(data: TableData) -> list[Part]:
    """The table as set on the PDF page: whole, or in column groups when it is too wide."""
    return parts_layout(data, **_page(data))


def _num(cell: Cell) -> str:
    """A statistic cell: its pieces (``_layout.tokens``) do not break across lines."""
    return " ".join(f"#box[{_text(t)}]" for t in tokens(cell.text))


def _dec_cell(cell: Cell, j: int) -> Optional[str]:
    parts = decimal_parts(cell.text)
    if parts is None:
        return None
    lead, tail = (x.replace(" ", NBSP) for x in parts)     # a leading space would be dropped
    return (f"#box(width: ts-dw.at({j}).at(0), align(right)[{_text(lead)}])"
            f"#box(width: ts-dw.at({j}).at(1), align(left)[{_text(tail)}])")


def spanner_index(r: Resolved, s) -> int:
    """Index of a (possibly clipped) spanner of a column group among the whole table's."""
    return next(i for i, t in enumerate(r.data.spanners)
                if t.label == s.label and set(s.columns) <= set(t.columns))


def render_typst(data: TableData, *, include_title: bool = False, number: Optional[str] = None,
                 page: bool = False) -> str:
    """The Typst source of the table (a markup block).

    A table too wide for the page in the smallest readable type (``MIN_SIZE``) is set as
    column groups, one after the other, each repeating the stub column and labelled
    "Part 1 of 2: columns 1-6 of 12". ``page=True`` wraps it in a complete document
    preamble (for standalone compiles).
    """
    r: Resolved = resolve(data)
    d = data
    parts = table_parts(d)
    size = parts[0].layout.font_size
    L: list[str] = []
    L.append("#[")
    L.append(f"#set text(size: {size}pt)")
    L.append(f"#show table: set text(size: {size}pt)")   # the size the layout was measured for
    L.append("#set par(justify: false)")
    if include_title and (d.title or number):
        head = f"*{escape_typst(number)}.* " if number else ""
        L.append(f"#block(below: 0.6em, sticky: true)[{head}{_text(d.title)}{_marks(r.mark('title'))}]")
    notes = _notes(d, r)
    for k, part in enumerate(parts):
        if k:
            L.append("#v(1.2em, weak: true)")
        L += _table(part.data, part.layout, r, notes if d.landscape else [],
                    part.label(k + 1, len(parts)))
    if notes and not d.landscape:
        L.append(f"#block(above: 0.4em, width: 100%)[#set text(size: {size - 1}pt)")
        L.append("#set par(spacing: 0.45em)")
        for n in notes:
            L.append(f"#par[{n}]")
        L.append("]")
    L.append("#metadata(\"ts-table-end\")<ts-table-end>")      # page headers: "(continued)"
    L.append("]")
    body = "\n".join(L)
    if d.landscape:
        # no nested flipped page when the page is already landscape (CSR documents)
        body = ("#let ts-table-body = [\n" + body + "\n]\n"
                "#context if page.flipped { ts-table-body } else { page(flipped: true, ts-table-body) }")
    if page:
        body = PREAMBLE + body + "\n"
    return body


def _table(d: TableData, lay: Layout, r: Resolved, footer_notes: list[str], label: str = "") -> list[str]:
    """One ``table(...)`` (the whole table or one column group); ``r``: the whole table's marks;
    ``footer_notes``: notes repeated at the foot of every page of the table (CSR); ``label``: a
    column group's "Part 1 of 2: columns 1-6 of 12", above the rule of its repeated heading."""
    ncol = len(d.columns) + 1
    size = lay.font_size
    numeric = (False,) + lay.numeric
    colspec = "(" + ", ".join(f"{w:.1f}pt" if numeric[j] else f"{w:.1f}fr"
                              for j, w in enumerate(lay.widths)) + ",)"
    align = "(" + ", ".join(["left"] + [("center" if c.align == "center" or lay.numeric[j] else "left")
                                        for j, c in enumerate(d.columns)]) + ",)"
    # CSR: decimal alignment of statistic columns (units under units, measured in context)
    decimal = d.rules.pvalue_style == "csr"
    dec_cols = {j for j, c in enumerate(d.columns) if decimal and lay.numeric[j]}
    L: list[str] = []
    L.append("#context {")
    dw = []
    for j, c in enumerate(d.columns):
        leads, tails = ["[]"], ["[]"]
        if j in dec_cols:
            for row in d.rows:
                parts = decimal_parts(row.cell(c.key).text)
                if parts:
                    leads.append(f"[{_text(parts[0].replace(' ', NBSP))}]")
                    tails.append(f"[{_text(parts[1].replace(' ', NBSP))}]")
        dw.append(f"(calc.max(..({', '.join(dict.fromkeys(leads))},).map(x => measure(x).width)), "
                  f"calc.max(..({', '.join(dict.fromkeys(tails))},).map(x => measure(x).width)))")
    L.append(f"let ts-dw = ({', '.join(dw)},)" if dec_cols else "let ts-dw = ()")
    L.append("table(")
    L.append(f"  columns: {colspec},")
    L.append(f"  align: {align},")
    L.append("  stroke: none,")
    L.append(f"  inset: (x: {INSET_X:g}pt, y: 2.5pt),")
    if label:
        L.append("  table.header(repeat: true,")
        L.append(f"    table.cell(colspan: {ncol}, inset: (x: 0pt, top: 0pt, bottom: 3pt))"
                 f"[#text(style: \"italic\")[{escape_typst(label)}]],")
        L.append(f"    table.hline(stroke: {THICK}),")
    else:
        L.append(f"  table.hline(stroke: {THICK}),")
        L.append("  table.header(repeat: true,")
    if d.spanners:
        keys = list(d.column_keys())
        starts = {min(keys.index(k) for k in s.columns): s for s in d.spanners}
        row = ["[]"]
        j = 0
        rules = []
        while j < len(keys):
            if j in starts:
                s = starts[j]
                row.append(f"table.cell(colspan: {len(s.columns)}, align: center)"
                           f"[*{render_cell(s.label) if hasattr(s.label, 'ids') else _text(s.label)}*"
                           f"{_marks(r.mark('spanner', spanner_index(r, s)))}]")
                rules.append(f"table.hline(start: {j + 1}, end: {j + 1 + len(s.columns)}, stroke: {THIN})")
                j += len(s.columns)
            else:
                row.append("[]")
                j += 1
        L.append("    " + ", ".join(row) + ",")
        for rule in rules:
            L.append(f"    {rule},")
    hdr = [f"table.cell(align: left + bottom)[*{_text(d.stub_header)}*{_marks(r.mark('stub'))}]"]
    for c in d.columns:
        hdr.append(f"table.cell(align: center + bottom)[*{render_cell(c.header)}*"
                   f"{_marks(r.mark('column', c.key))}]")
    L.append("    " + ", ".join(hdr) + ",")
    L.append(f"    table.hline(stroke: {THIN}),")
    L.append("  ),")
    # a labelled block (an arm and its visits) is one unbreakable stub cell spanning its rows:
    # the page never breaks inside it (``_layout.row_blocks``)
    blocks = row_blocks(d)
    inside = {i + k for i, n in blocks.items() for k in range(1, n)}
    # a parent row (a visit's n row above its shift rows) is a sub-header that is not repeated:
    # Typst never leaves it as the last row of a page
    parents = parent_rows(d)
    for i, row in enumerate(d.rows):
        lab = f"{_text(protect(row.label))}{_marks(r.mark('row', i))}"
        if row.kind == "group":
            # a sub-header: never the last line of a page, repeated on continuation pages
            L.append(f"  table.header(level: 2, table.cell(colspan: {ncol})[*{lab}*]),")
            continue
        if spans_table(d, row):         # a row heading: across the table, a sub-header too
            body = f"#pad(left: {1.0 * row.indent}em)[{lab}]" if row.indent else lab
            L.append(f"  table.header(level: {3 + row.indent}, table.cell(colspan: {ncol})[{body}]),")
            continue
        # an indented label keeps its indent on every line it wraps to
        cells = [f"pad(left: {1.0 * row.indent}em)[{lab}]" if row.indent else f"[{lab}]"]
        if i in blocks:
            cells = [f"table.cell(rowspan: {blocks[i]}, breakable: false, {cells[0]})"]
        elif i in inside:
            cells = []                  # the block's stub cell spans this row
        for j, c in enumerate(d.columns):
            cell = row.cell(c.key)
            mark = _marks(r.mark('cell', i, c.key))
            content = (_dec_cell(cell, j) if j in dec_cols else None)
            if content is None:
                content = (_num(cell) if lay.numeric[j] and cell.text and "\n" not in cell.text
                           else _text(protect(cell.text)))
            cells.append(f"[{content}{mark}]")
        if i in parents:
            L.append(f"  table.header(level: {3 + row.indent}, repeat: false, " + ", ".join(cells) + "),")
            continue
        L.append("  " + ", ".join(cells) + ",")
    if footer_notes:
        # CSR: footnotes repeat at the foot of every page of the table
        L.append(f"  table.footer(repeat: true, table.hline(stroke: {THICK}),")
        L.append(f"    table.cell(colspan: {ncol}, inset: (x: 4pt, top: 3pt, bottom: 0pt))"
                 f"[#set text(size: {size - 1}pt); #set par(spacing: 0.45em)")
        for n in footer_notes:
            L.append(f"#par[{n}]")
        L.append("    ]),")
    else:
        L.append(f"  table.hline(stroke: {THICK}),")
    L.append(")")
    L.append("}")
    return L


def _notes(d: TableData, r: Resolved) -> list[str]:
    notes = []
    if r.abbreviations:
        notes.append("Abbreviations: " + "; ".join(f"{escape_typst(a)}, {escape_typst(m)}"
                                                   for a, m in r.abbreviations) + escape_typst("."))
    notes += [_text(str(g)) for g in r.general]
    notes += [f"{_marks((l,))}{_text(str(t))}" for l, t in r.notes]
    if d.source:
        notes.append(_text(d.source))
    return notes


PREAMBLE = """#set page(paper: "us-letter", margin: 1in)
#set text(font: ("Libertinus Serif", "New Computer Modern"), size: 10pt)
"""
