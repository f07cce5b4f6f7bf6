"""Show a standard output in a notebook: record its ARD rows, display the table or figure and,
for the CSR layout, write the table's RTF (``<out_dir>/rtf/<label>.rtf``)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd

from ._spine import TLG

__all__ = ["show"]


def show(session, out: TLG, label: Optional[str] = None, *, analysis_id: Optional[str] = None,
         number: Optional[str] = None) -> pd.DataFrame:
    """Place and emit ``out.ard`` under ``label`` (default ``tbl-<name>`` / ``fig-<name>``),
    display its table (or figure, saved as SVG/PDF/PNG) and return the placed rows.

    ``number``: the output's own number (CSR "14-5.01"), used as its output id in the ARD and
    printed in the RTF ("Table 14-5.01"); default: the publisher numbers ``label`` (Table 1 ...).

    ``session`` is a :class:`trialsupp.notebook.Session`; its format rules (JAMA or CSR)
    format the numbers. With ``layout: csr`` in the study config, tables are also written
    as RTF with the protocol, population and source in the page header and footer.
    """
    from IPython.display import display

    label = label or ("fig-" if out.kind == "figure" else "tbl-") + out.name
    inputs = [i for i in out.inputs if i in session.data.hashes]
    placed = session.record(out.ard, output=number or label, analysis_id=analysis_id or out.name,
                            population=out.population, inputs=inputs)
    shown = out.display(placed, session.rules)
    csr = session.study.raw.get("layout") == "csr"
    if csr and number:      # the PDF running header ("Table 14-5.01 ... Page 1 of 2") and population line
        from trialsupp.display.markdown import csr_output_meta
        kind = "Figure" if out.kind == "figure" else "Table"
        display(csr_output_meta(f"{kind} {number}", out.population, f"cell {label}", session.cut), raw=True)
    if out.kind == "figure":
        from trialsupp.display.figure_output import show_figure
        show_figure(shown, label, session.out_dir)
        return placed
    display(shown)
    if csr:
        rtf = Path(session.out_dir) / "rtf"
        rtf.mkdir(parents=True, exist_ok=True)
        protocol = session.study.raw.get("protocol") or session.study.name
        # the run date/time in the footer is the render's (SOURCE_DATE_EPOCH): verify's re-run,
        # dated the same, writes the same bytes
        shown.to_rtf(rtf / f"{label}.rtf", number=f"Table {number}" if number else None, titles=[f"Population: {out.population}"],
                     header_left=f"Protocol: {protocol}", header_right="Page {page} of {pages}",
                     footer_left=f"Source: {label}", footer_right=f"Data cut: {session.cut or 'none'}")
    return placed
