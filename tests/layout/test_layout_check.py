"""Layout check of the rendered studies (issue 16): in the PDFs no statistic is broken across
lines, no heading, caption or table group label is left as the last line of a page, and no text
leaves the text column; the RTFs, printed by LibreOffice, repeat the column headings on every page
and say "(continued)" on later pages. Reuses the session renders of tests/conftest.py."""
from __future__ import annotations

import json
import re

import pytest

from .pdf_layout import (broken_numbers, csr_header_faults, have_poppler, outline_titles, overflow,
                         read_pages, stranded)
from .rtf_pdf import convert_all, header_cells, soffice

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not have_poppler(), reason="poppler-utils (pdftotext) not installed")]


def _check_pdf(pdf):
    pages = read_pages(pdf)
    heads = outline_titles(pdf)
    faults = {"broken": [], "stranded": [], "overflow": []}
    for p in pages:
        faults["broken"] += broken_numbers(p)
        faults["stranded"] += stranded(p, heads)
        faults["overflow"] += overflow(p)
    return pages, faults


@pytest.mark.parametrize("study", ["valor", "cdisc"])
def test_pdf_layout(study, request):
    result = request.getfixturevalue(f"{study}_render")
    pages, faults = _check_pdf(result.out / "supplement.pdf")
    assert len(pages) > 5
    for kind, found in faults.items():
        assert found == [], f"{study} PDF, {kind}: {found[:10]}"


def test_csr_running_headers_follow_the_outputs(cdisc_render):
    """CSR PDF: each output's header counts its own pages ("Page 2 of 3", "(continued)") and
    ends with the output: the Provenance appendix after the last output carries no output
    header or footer (it used to read "Figure 14-1 (continued)", "Page 8 of 8")."""
    pages = read_pages(cdisc_render.out / "supplement.pdf")
    assert csr_header_faults(pages, appendices=("Provenance",)) == []


def _etable_pages(pages, title: str) -> list[int]:
    """Pages that show the eTable with this title: its caption page and the pages whose
    running header says "eTable N (continued)"."""
    start, number = next((p.number, m.group(1)) for p in pages if p.number > 1
                         for m in [re.search(rf"^eTable (\d+)\. {re.escape(title)}", p.text, re.M)] if m)
    cont = [p.number for p in pages if p.number > start and f"eTable {number} (continued)" in p.text]
    return [start] + cont


def test_valor_calibration_table_fits_two_pages(valor_render):
    """The simulated-vs-published table (33 rows, text columns) fits on at most 2 pages."""
    pages = read_pages(valor_render.out / "supplement.pdf")
    shown = _etable_pages(pages, "Calibration of the Simulated Study")
    assert 1 <= len(shown) <= 2, shown


@pytest.fixture(scope="module")
def rtf_pdfs(cdisc_render, tmp_path_factory):
    if not soffice():
        pytest.skip("LibreOffice (soffice) not installed")
    rtfs = sorted((cdisc_render.out / "rtf").glob("*.rtf"))
    assert rtfs
    return convert_all(rtfs, tmp_path_factory.mktemp("rtf-pdf"))


def test_rtf_headings_on_every_page_in_libreoffice(rtf_pdfs, cdisc_render):
    started = json.loads((cdisc_render.out / "run.json").read_text())["started"]
    stamp = f"Run: {started[:10]} {started[11:16]} UTC"      # the render's recorded start (verify re-uses it)
    multi = 0
    for rtf, pdf in rtf_pdfs.items():
        text = rtf.read_text(encoding="ascii")
        sections = header_cells(text)        # one per column group of a wide table
        figure = "\\pict" in text and rtf.name.startswith("f-")
        assert all(sections) or figure, rtf.name    # a table repeats its column headings; a figure has none
        pages = read_pages(pdf)
        multi += len(pages) > 1
        for p in pages:
            words = set(p.text.split())
            missing = [[h for h in heads if any(w not in words for w in h.split())] for heads in sections]
            assert not sections or min(missing, key=len) == [], \
                f"{rtf.name} page {p.number}: column heading(s) {min(missing, key=len)} missing"
            if p.number > 1:
                assert "(continued)" in p.text, f"{rtf.name} page {p.number}: no (continued)"
            assert re.search(rf"Page {p.number} of {len(pages)}", p.text), f"{rtf.name} page {p.number}"
            assert stamp in p.text, f"{rtf.name} page {p.number}: no {stamp!r}"
    assert multi >= 3          # the check saw continuation pages


def test_rtf_layout_in_libreoffice(rtf_pdfs):
    faults = []
    for rtf, pdf in rtf_pdfs.items():
        for p in read_pages(pdf):
            faults += [f"{rtf.name} {x}" for x in broken_numbers(p) + overflow(p)]
    assert faults == [], faults[:10]
