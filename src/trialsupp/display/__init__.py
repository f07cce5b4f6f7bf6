"""trialsupp.display: tables and figures built from placed ARD rows only.

Tables: :class:`Table` (immutable builder), :func:`cell`, footnote locations
``at_*``; renderers ``Table.to_html/to_typst/to_rtf`` and
:func:`as_markdown_output`. Figures: :mod:`trialsupp.display.figures`,
:func:`house_theme`, :func:`show_figure`.
"""
from .markdown import as_markdown_output
from .table import (AmbiguousStatError, ArdIndex, MissingStatError, NotPlacedError, Table, at_cell,
                    at_column, at_row, at_spanner, at_stub, at_title, cell, select)

__all__ = ["Table", "cell", "select", "ArdIndex", "at_title", "at_stub", "at_column", "at_spanner",
           "at_row", "at_cell", "MissingStatError", "AmbiguousStatError", "NotPlacedError",
           "as_markdown_output"]
