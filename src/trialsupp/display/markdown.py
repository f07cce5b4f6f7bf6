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
