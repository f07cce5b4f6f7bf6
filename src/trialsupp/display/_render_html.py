"""HTML renderer: JAMA look (horizontal rules only), every number a traceable span.

Each displayed statistic is ``<span class="ts-stat" data-ard="ID1 ID2" tabindex="0">``.
The ``<table>`` carries ``data-quarto-disable-processing="true"`` so that Quarto
does not also parse it into a Pandoc table. The caption is left out by default
(Quarto supplies it from ``tbl-cap``); ``include_caption=True`` for standalone use.
"""
from __future__ import annotations

from typing import Optional

from ._escape import escape_html
from ._layout import decimal_parts, protect, spans_table, text_width
from ._render_typst import table_layout
from ._table_data import Cell, Resolved, Stat, TableData, resolve

# Scoped to .ts-table; borders are set explicitly to override page styles
# (Bootstrap/Quarto) so that no vertical rule can appear.
CSS = """<style>
.ts-table{border-collapse:collapse;border-spacing:0;margin:0.5em 0;font-size:0.875em;width:100%;
 font-family:inherit;border-top:1.5px solid currentColor;border-bottom:1.5px solid currentColor;}
.ts-table th,.ts-table td{border-left:none!important;border-right:none!important;border-top:none;
 border-bottom:none;padding:0.2em 0.6em;vertical-align:top;background:none;}
.ts-table caption{caption-side:top;text-align:left;font-weight:bold;padding-bottom:0.3em;}
.ts-table thead tr:last-child th{border-bottom:1px solid currentColor;}
.ts-table thead th{font-weight:bold;vertical-align:bottom;text-align:center;}
.ts-table thead th.ts-stubhead{text-align:left;}
.ts-table th.ts-spanner{border-bottom:1px solid currentColor;}
.ts-table td.ts-stub{text-align:left;}
.ts-table td.ts-num{text-align:center;white-space:nowrap;font-variant-numeric:tabular-nums;}
.ts-table .ts-dec{display:inline-block;text-align:left;box-sizing:content-box;}
.ts-table.ts-csr{font-size:0.8em;}
.ts-table.ts-csr th,.ts-table.ts-csr td{padding:0.2em 0.35em;}
.ts-table td.ts-left{text-align:left;}
.ts-table td.ts-text{text-align:center;}
.ts-table tr.ts-group td{font-weight:bold;padding-top:0.5em;}
.ts-table tfoot td{border-top:1px solid currentColor;font-size:0.9em;text-align:left;}
.ts-table tfoot p{margin:0.15em 0;}
.ts-table sup.ts-fn{font-size:0.75em;line-height:0;}
.ts-stat:focus{outline:1px dotted currentColor;}
</style>"""


def _marks(letters) -> str:
    if not letters:
        return ""
    return f'<sup class="ts-fn">{escape_html(",".join(letters))}</sup>'


def _plain(text: str) -> str:
    return "<br>".join(escape_html(t) for t in text.split("\n"))


def _stat(s: Stat) -> str:
    ids = escape_html(" ".join(s.ids))
    return f'<span class="ts-stat" data-ard="{ids}" tabindex="0">{_plain(s.text)}</span>'


def _note(text) -> str:
    """A footnote: plain text, or a Cell whose numbers are bound ARD spans."""
    return render_cell(text) if isinstance(text, Cell) else _plain(text)


def render_cell(cell: Cell) -> str:
    return "".join(_plain(p) if isinstance(p, str) else _stat(p) for p in cell.parts)


def _indent_style(level: int) -> str:
    return f' style="padding-left:{0.6 + 1.2 * level:.1f}em"' if level else ""


def render_html(data: TableData, *, include_caption: bool = False,
                number: Optional[str] = None, css: bool = True) -> str:
    r: Resolved = resolve(data)
    d = data
    ncol = len(d.columns) + 1
    out = []
    if css:
        out.append(CSS)
    attrs = ' class="ts-table ts-csr"' if d.rules.pvalue_style == "csr" else ' class="ts-table"'
    if d.label:
        attrs += f' id="{escape_html(d.label)}-table"'
    attrs += ' data-quarto-disable-processing="true"'
    out.append(f"<table{attrs}>")
    # the shared layout step: column shares measured from the content (stub first)
    lay = table_layout(d)
    out.append("<colgroup>" + "".join(f'<col style="width:{100 * f:.1f}%">' for f in lay.fractions())
               + "</colgroup>")
    dec = _decimal_widths(d, lay) if d.rules.pvalue_style == "csr" else {}
    if include_caption and (d.title or number):
        head = f"{escape_html(number)}. " if number else ""
        out.append(f"<caption>{head}{escape_html(d.title)}{_marks(r.mark('title'))}</caption>")
    out.append("<thead>")
    if d.spanners:
        keys = list(d.column_keys())
        starts = {}
        for i, s in enumerate(d.spanners):
            starts[min(keys.index(k) for k in s.columns)] = (i, s)
        cells = ['<th class="ts-stubhead"></th>']
        j = 0
        while j < len(keys):
            if j in starts:
                i, s = starts[j]
                cells.append(f'<th class="ts-spanner" colspan="{len(s.columns)}">'
                             f"{_spanner_html(s.label)}{_marks(r.mark('spanner', i))}</th>")
                j += len(s.columns)
            else:
                cells.append("<th></th>")
                j += 1
        out.append("<tr>" + "".join(cells) + "</tr>")
    cells = [f'<th class="ts-stubhead" scope="col">{_plain(d.stub_header)}{_marks(r.mark("stub"))}</th>']
    for c in d.columns:
        cells.append(f'<th scope="col">{render_cell(c.header)}{_marks(r.mark("column", c.key))}</th>')
    out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</thead>")
    out.append("<tbody>")
    for i, row in enumerate(d.rows):
        lab = f"{_plain(row.label)}{_marks(r.mark('row', i))}"
        if row.kind == "group":
            out.append(f'<tr class="ts-group"><td colspan="{ncol}">{lab}</td></tr>')
            continue
        if spans_table(d, row):          # a row heading across the table
            out.append(f'<tr class="ts-heading"><td class="ts-stub" colspan="{ncol}"'
                       f'{_indent_style(row.indent)}>{lab}</td></tr>')
            continue
        tds = [f'<td class="ts-stub"{_indent_style(row.indent)}>{lab}</td>']
        for j, c in enumerate(d.columns):
            cls = "ts-num" if lay.numeric[j] else "ts-left" if c.align != "center" else "ts-text"
            cell = row.cell(c.key)
            body = render_cell(cell) if lay.numeric[j] else "".join(
                _plain(protect(p)) if isinstance(p, str) else _stat(p) for p in cell.parts)
            parts = decimal_parts(cell.text) if c.key in dec else None
            if parts:       # CSR decimal alignment: units digits under each other (tabular figures)
                lw, tw = dec[c.key]
                pad = lw - text_width(parts[0], 1.0)
                body = (f'<span class="ts-dec" style="width:{lw + tw - pad:.2f}em;padding-left:'
                        f'{pad:.2f}em">{body}</span>')
            tds.append(f'<td class="{cls}">{body}{_marks(r.mark("cell", i, c.key))}</td>')
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</tbody>")
    notes = []
    if r.abbreviations:
        notes.append("Abbreviations: " + "; ".join(f"{escape_html(a)}, {escape_html(m)}"
                                                   for a, m in r.abbreviations) + ".")
    notes += [_note(g) for g in r.general]
    notes += [f"{_marks((l,))}{_note(t)}" for l, t in r.notes]
    if d.source:
        notes.append(_plain(d.source))
    if notes:
        out.append(f'<tfoot><tr><td colspan="{ncol}">'
                   + "".join(f"<p>{n}</p>" for n in notes) + "</td></tr></tfoot>")
    out.append("</table>")
    return "\n".join(out)


def _decimal_widths(d: TableData, lay) -> dict[str, tuple[float, float]]:
    """Per statistic column: the widest part before / from the decimal point, in em (sans
    font metrics, with tabular figures every digit has the same width)."""
    out = {}
    for j, c in enumerate(d.columns):
        parts = [decimal_parts(r.cell(c.key).text) for r in d.rows] if lay.numeric[j] else []
        parts = [p for p in parts if p]
        if parts:
            out[c.key] = (max(text_width(a, 1.0) for a, _ in parts) * 1.04,
                          max(text_width(b, 1.0) for _, b in parts) * 1.04)
    return out


def _spanner_html(label) -> str:
    """A spanner label: plain text, or a Cell whose statistics are bound (e.g. "Placebo (N=86)")."""
    return render_cell(label) if hasattr(label, "ids") else _plain(label)
