"""Typst renderer: a ``#table`` with ``stroke: none`` and horizontal rules only.

Rules: above the column headings (the rule below the title), below the column
headings, and at the bottom. The header repeats on every page of a long table.
Abbreviations, general notes, lettered footnotes and the source line follow in
smaller text. No ``#figure``: Quarto wraps the block in a figure with the
``tbl-cap`` caption (``include_title=True`` prints the title for standalone use).
``landscape=True`` puts the table on its own flipped (landscape) page(s) when the
document is portrait; in an already landscape document (the CSR layout) it is set in
the flow (no nested page, so the title block before it stays with it), and the notes
go into a repeating table footer, so that they are printed on every page of a long table.
"""
from __future__ import annotations

from typing import Optional

from ._escape import escape_typst
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


def render_typst(data: TableData, *, include_title: bool = False, number: Optional[str] = None,
                 page: bool = False) -> str:
    """The Typst source of the table (a markup block).

    ``page=True`` wraps it in a complete document preamble (for standalone compiles).
    """
    r: Resolved = resolve(data)
    d = data
    ncol = len(d.columns) + 1
    size = d.font_size or (7.5 if d.landscape else 8.5)
    stub_w = f"{float(d.stub_width.rstrip('%'))}%" if d.stub_width else "auto"
    colspec = "(" + ", ".join([stub_w] + ["1fr"] * len(d.columns)) + ",)"
    align = "(" + ", ".join(["left"] + [("center" if c.align == "center" else "left")
                                        for c in d.columns]) + ",)"
    L: list[str] = []
    L.append("#[")
    L.append(f"#set text(size: {size}pt)")
    L.append("#set par(justify: false)")
    if include_title and (d.title or number):
        head = f"*{escape_typst(number)}.* " if number else ""
        L.append(f"#block(below: 0.6em, sticky: true)[{head}{_text(d.title)}{_marks(r.mark('title'))}]")
    L.append("#table(")
    L.append(f"  columns: {colspec},")
    L.append(f"  align: {align},")
    L.append("  stroke: none,")
    L.append("  inset: (x: 4pt, y: 2.5pt),")
    L.append(f"  table.hline(stroke: {THICK}),")
    L.append("  table.header(repeat: true,")
    if d.spanners:
        keys = list(d.column_keys())
        starts = {min(keys.index(k) for k in s.columns): (i, s) for i, s in enumerate(d.spanners)}
        row = ["[]"]
        j = 0
        rules = []
        while j < len(keys):
            if j in starts:
                i, s = starts[j]
                row.append(f"table.cell(colspan: {len(s.columns)}, align: center)"
                           f"[*{render_cell(s.label) if hasattr(s.label, 'ids') else _text(s.label)}*"
                           f"{_marks(r.mark('spanner', i))}]")
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
    for i, row in enumerate(d.rows):
        lab = f"{_text(row.label)}{_marks(r.mark('row', i))}"
        if row.kind == "group":
            L.append(f"  table.cell(colspan: {ncol})[*{lab}*],")
            continue
        ind = f"#h({1.0 * row.indent}em)" if row.indent else ""
        cells = [f"[{ind}{lab}]"]
        for c in d.columns:
            cells.append(f"[{render_cell(row.cell(c.key))}{_marks(r.mark('cell', i, c.key))}]")
        L.append("  " + ", ".join(cells) + ",")
    notes = _notes(d, r)
    if d.landscape and notes:
        # CSR: footnotes repeat at the foot of every page of the table
        L.append(f"  table.footer(repeat: true, table.hline(stroke: {THICK}),")
        L.append(f"    table.cell(colspan: {ncol}, inset: (x: 4pt, top: 3pt, bottom: 0pt))"
                 f"[#set text(size: {size - 1}pt); #set par(spacing: 0.45em)")
        for n in notes:
            L.append(f"#par[{n}]")
        L.append("    ]),")
        notes = []
    else:
        L.append(f"  table.hline(stroke: {THICK}),")
    L.append(")")
    if notes:
        L.append(f"#block(above: 0.4em, width: 100%)[#set text(size: {size - 1}pt)")
        L.append("#set par(spacing: 0.45em)")
        for n in notes:
            L.append(f"#par[{n}]")
        L.append("]")
    L.append("]")
    body = "\n".join(L)
    if d.landscape:
        # no nested flipped page when the page is already landscape (CSR documents)
        body = ("#let ts-table-body = [\n" + body + "\n]\n"
                "#context if page.flipped { ts-table-body } else { page(flipped: true, ts-table-body) }")
    if page:
        body = PREAMBLE + body + "\n"
    return body


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
