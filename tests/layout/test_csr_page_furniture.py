"""CSR page furniture of the Typst template, on small documents compiled with the real template
(no render needed): the running header names the output of the page and counts its pages, and
ends with the last output (the appendix after it has the document's header and footer), for
outputs marked with ``<ts-output>`` (the CDISC study) and for numbered Quarto floats (a
``trialsupp new`` project)."""
from __future__ import annotations

import shutil

import pytest

from .pdf_layout import csr_header_faults, csr_output_header, have_poppler, read_pages

pytestmark = pytest.mark.skipif(not have_poppler(), reason="poppler-utils (pdftotext) not installed")
TEMPLATE = "src/trialsupp/templates/_extensions/trialsupp/typst-template.typ"
HEAD = ('#import "typst-template.typ": jama-supplement\n'
        '#show: jama-supplement.with(title: "T", csr: true, landscape: true, protocol: "X", '
        'date: "2025-01-15", run-time: "10:20", footer: [Document footer], contents: false)\n#pagebreak()\n')
LONG = "#table(columns: 2, ..range(150).map(i => [row #i]))\n"
APPENDIX = "= Provenance\n" + "\n\n".join(f"Entry {i}: notebook cell, function, input." for i in range(80)) + "\n"


def _compile(tmp_path, body: str):
    typst = pytest.importorskip("typst")
    shutil.copy(TEMPLATE, tmp_path / "typst-template.typ")
    (tmp_path / "doc.typ").write_text(HEAD + body, encoding="utf-8")
    typst.compile(str(tmp_path / "doc.typ"), output=str(tmp_path / "doc.pdf"))
    return read_pages(tmp_path / "doc.pdf")


def _meta(oid: str) -> str:
    return f'#metadata((id: "{oid}", source: "nb.ipynb, cell {oid}", cut: "none"))<ts-output>\n'


def test_metadata_outputs_and_the_appendix(tmp_path, project_dir):
    body = ("= 14-1 Section\n== Table 14-1.01 Short\n" + _meta("Table 14-1.01") + "A short table.\n"
            "== Figure 14-1 Long\n" + _meta("Figure 14-1") + LONG + "#pagebreak()\n" + APPENDIX)
    pages = _compile(tmp_path, body)
    heads = [csr_output_header(p) for p in pages]
    fig = [h for h in heads if h and h[0] == "Figure 14-1"]
    assert heads[1] == ("Table 14-1.01", False, 1, 1) and len(fig) >= 2
    assert [h[2] for h in fig] == list(range(1, len(fig) + 1)) and {h[3] for h in fig} == {len(fig)}
    appendix = [p for p in pages if any(ln.text == "Provenance" for ln in p.body())]
    assert appendix and len(pages) - appendix[0].number >= 1          # the appendix runs over pages
    for p in pages[appendix[0].number - 1:]:
        assert csr_output_header(p) is None and "(continued)" not in p.text and "Source:" not in p.text
        assert "Document footer" in p.text
    assert csr_header_faults(pages, appendices=("Provenance",)) == []


def test_floats_are_outputs_without_metadata(tmp_path, project_dir):
    # as Quarto writes them: each float in a container; `trialsupp new` breaks the page between them
    fig = lambda kind, sup, lab, content: (f'#block[#figure([{content}], caption: [{sup} caption], kind: "{kind}", '
                                           f'supplement: "{sup}", numbering: "1")<{lab}>]\n')
    body = ("= Standard Outputs\nIntroduction.\n" + fig("quarto-float-tbl", "Table", "tbl-a", "A short table.")
            + "#pagebreak()\n" + fig("quarto-float-tbl", "Table", "tbl-b", LONG)
            + "#pagebreak()\n" + fig("quarto-float-fig", "Figure", "fig-a", "#rect()"))
    pages = _compile(tmp_path, body)
    starts = [(p.number, h[0]) for p in pages for h in [csr_output_header(p)] if h and h[2] == 1]
    # each float names its pages; the first is on its section heading's page
    assert [s[1] for s in starts] == ["Table 1", "Table 2", "Figure 1"] and starts[0][0] == 2
    assert starts[2][0] - starts[1][0] >= 2                             # Table 2 runs over pages
    assert csr_header_faults(pages, appendices=()) == []
