"""The ``text/markdown`` output of a table: one raw HTML block and one raw Typst block.

Quarto keeps the ``{=html}`` block in HTML output and the ``{=typst}`` block in
Typst/PDF output (see shared/quarto-notes.md item 2); Pandoc (the built-in
publisher) does the same. The fences are made longer than any backtick run in
the content, so that text such as an AE term containing backticks cannot close
them.

In Quarto's HTML format a ``text/html`` representation wins over
``text/markdown`` (``displayDataMimeType``); ``Table._repr_html_`` returns the
same HTML, so both paths give the same table.
"""
from __future__ import annotations

import re

__all__ = ["as_markdown_output", "raw_block"]


def raw_block(content: str, fmt: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{{={fmt}}}\n{content}\n{fence}\n"


def as_markdown_output(table) -> str:
    """The markdown string for a table cell output (raw html block + raw typst block)."""
    html = table.to_html()
    typ = table.to_typst()
    return raw_block(html, "html") + "\n" + raw_block(typ, "typst")


def _typst_str(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def csr_output_meta(output_id: str, population: str, source: str, data_cut: str | None = None) -> dict:
    """Cell output placed before a CSR table or figure: the population line (HTML and PDF) and,
    for the PDF running header and footer, ``#metadata((id, source, cut))<ts-output>``, which the
    Typst template reads (output id such as "Table 14-5.01", "Page x of y" per output).

    Display with ``display(csr_output_meta(...), raw=True)``. Plain labels, no statistics.
    """
    from html import escape
    pop = f"Population: {population}"
    html = f'<p class="ts-population"><strong>{escape(pop)}</strong></p>'
    meta = (f"#metadata((id: {_typst_str(output_id)}, source: {_typst_str(source)}, "
            f"cut: {_typst_str(data_cut or 'none')}))<ts-output>\n"
            f"#block(sticky: true, above: 0.2em, below: 0.6em, text(weight: \"bold\", "
            f"{_typst_str(pop)}))")
    return {"text/markdown": raw_block(html, "html") + "\n" + raw_block(meta, "typst")}
