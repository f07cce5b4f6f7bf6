"""Tables too wide for the page (issue 16): the shared layout step splits them into column
groups that repeat the stub column (or turns the page) instead of overflowing the page or
shrinking the type below 7 pt. A synthetic 12-arm table is typeset with the real page template
(Typst, CSR landscape and JAMA portrait) and as RTF (printed by LibreOffice); the text positions
stay in the text column and no text is smaller than 7 pt."""
from __future__ import annotations

import math
import re
import shutil

import pytest

from trialsupp.ard.fmt import CSR, JAMA
from trialsupp.display import Table
from trialsupp.display._layout import column_groups, mono_width, parts_layout
from trialsupp.display._render_typst import table_parts

from .pdf_layout import have_poppler, overflow, read_pages
from .rtf_pdf import convert_all, soffice

ARMS = 12
ROWS = 30
TEMPLATE = "src/trialsupp/templates/_extensions/trialsupp/typst-template.typ"


def wide(rules=CSR, landscape=True, arms=ARMS, spanners=False) -> Table:
    t = Table("Summary of Laboratory Values by Dose", stub_header="System organ class\n  Preferred term",
              landscape=landscape, rules=rules)
    for k in range(arms):
        t = t.add_column(f"a{k}", f"Arm {k + 1} dose {10 * (k + 1)} mg\n(N=1{k:02d})")
    if spanners:
        for g in range(0, arms, 3):
            t = t.spanner(f"Cohort {g // 3 + 1}", [f"a{k}" for k in range(g, min(g + 3, arms))])
    t = t.add_group("Gastrointestinal disorders")
    for r in range(ROWS):
        t = t.add_row(f"Preferred term number {r}",
                      {f"a{k}": f"{(r * 7 + k * 3) % 90 + 100.25:.2f} ({(r * 3 + k) % 50 + 10.5:.2f})"
                       for k in range(arms)}, indent=1)
    return t.footnote("Mean (SD) of the laboratory value.")


def test_column_groups_are_even_and_keep_spanners():
    d = wide(spanners=True).data
    groups = column_groups(d, avail=660.0, size=7.0, pad=4.5)
    assert [len(g) for g in groups] == [6, 6]                      # even, not greedy 9 + 3
    assert all(len(g) % 3 == 0 for g in groups)                    # a cohort's columns stay together
    assert [j for g in groups for j in g] == list(range(ARMS))
    # the RTF (monospace, 7.5 pt minimum) needs more groups on the same page
    mono = column_groups(d, avail=(15840 - 2880) / 20, size=7.5, measure=mono_width, pad=4.0)
    assert len(mono) >= 2 and all(len(g) % 3 == 0 for g in mono)


def test_a_table_that_fits_is_not_split():
    parts = table_parts(wide(arms=4).data)
    assert len(parts) == 1 and parts[0].columns == (1, 2, 3, 4) and parts[0].label(1, 1) == ""


def test_parts_share_one_type_size_not_below_7pt():
    for t in (wide(), wide(rules=JAMA, landscape=False)):
        parts = table_parts(t.data)
        assert len(parts) >= 2
        assert len({p.layout.font_size for p in parts}) == 1 and parts[0].layout.font_size >= 7.0
        assert all(not p.layout.overflow for p in parts)
        assert parts[0].label(1, len(parts)) == f"Part 1 of {len(parts)}: columns 1-{parts[0].columns[-1]} of 12"
    rtf = parts_layout(wide().data, avail=(15840 - 2880) / 20, size=9.0, min_size=7.5, measure=mono_width, pad=4.0)
    assert len(rtf) >= 2 and rtf[0].layout.font_size >= 7.5


def _font_sizes(pdf, pattern: str = r".") -> dict[float, int]:
    """Effective size (pt) of the PDF's text runs matching ``pattern``: font size x text
    matrix x CTM scale."""
    from pypdf import PdfReader
    sizes: dict[float, int] = {}

    def visit(text, cm, tm, font, size):
        if text.strip() and re.search(pattern, text):
            eff = round(size * math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]), 2)
            sizes[eff] = sizes.get(eff, 0) + len(text.strip())
    for page in PdfReader(str(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return sizes


def _typeset(table: Table, tmp_path, csr: bool, project_dir):
    typst = pytest.importorskip("typst")
    shutil.copy(project_dir / TEMPLATE, tmp_path / "typst-template.typ")
    flag = str(csr).lower()
    src = ('#import "typst-template.typ": jama-supplement\n'
           f'#show: jama-supplement.with(title: "Wide", csr: {flag}, landscape: {flag}, protocol: "X", '
           'date: "2025-01-15", contents: false)\n#pagebreak()\n'
           + table.to_typst(include_title=True, number="Table 14-9.99"))
    (tmp_path / "wide.typ").write_text(src, encoding="utf-8")
    typst.compile(str(tmp_path / "wide.typ"), output=str(tmp_path / "wide.pdf"))
    return tmp_path / "wide.pdf"


@pytest.mark.skipif(not have_poppler(), reason="poppler-utils (pdftotext) not installed")
@pytest.mark.parametrize("layout", ["csr", "jama"])
def test_wide_table_pdf_stays_on_the_page(layout, tmp_path, project_dir):
    csr = layout == "csr"
    table = wide(rules=CSR if csr else JAMA, landscape=csr)
    pdf = _typeset(table, tmp_path, csr, project_dir)
    pages = read_pages(pdf)[1:]                 # page 1: the template's front matter
    faults = [f for p in pages for f in overflow(p)]
    assert faults == [], faults[:5]
    for p in pages:                             # and inside the paper, margins included
        assert all(0 < w[0] and w[2] < p.width for ln in p.lines for w in ln.words), p.number
    # the table's text (headings, row labels, statistics) is never below 7 pt (notes are 1 pt smaller)
    sizes = _font_sizes(pdf, r"Arm|dose|Preferred|term|number|\d+\.\d\d|Gastro|System|N=|Part")
    assert sizes and min(sizes) >= 7.0, sizes
    text = " ".join(" ".join(p.text for p in pages).split())     # a wrapped stub label joined
    # every arm is printed, the stub repeats in each column group
    assert all(f"Arm {k + 1} dose" in text for k in range(ARMS))
    n = len(table_parts(table.data))
    assert n >= 2 and len(re.findall(r"\bnumber 29\b", text)) == n
    assert all(f"Part {k} of {n}: columns" in text for k in range(1, n + 1))
    # each part's heading repeats on its continuation pages: every page with rows has "Arm"
    assert all("Arm " in p.text for p in pages if "Preferred term" in p.text)


@pytest.mark.skipif(not soffice() or not have_poppler(), reason="LibreOffice or poppler not installed")
def test_wide_table_rtf_in_libreoffice(tmp_path):
    rtf = tmp_path / "t-wide.rtf"
    text = wide().to_rtf(rtf, number="Table 14-9.99", titles=["Population: Safety"],
                         header_left="Protocol: X", footer_left="Source: test")
    sizes = {int(x) for x in re.findall(r"\\fs(\d+)", text)} - {4}     # fs4: 2 pt spacer paragraphs
    assert min(sizes) >= 14, sizes                                      # half-points: 7 pt
    assert text.count("\\sect\n") >= 1 and text.count("{\\header\n") == text.count("\\sectd")
    pages = read_pages(convert_all([rtf], tmp_path / "pdf")[rtf])
    n = text.count("\\sectd")
    assert len(pages) >= n
    faults = [f for p in pages for f in overflow(p)]
    assert faults == [], faults[:5]
    seen = set()
    for p in pages:
        part = re.search(r"Part (\d+) of (\d+): columns (\d+)-(\d+) of 12", p.text)
        assert part, f"page {p.number}: no part label"
        a, b = int(part.group(3)), int(part.group(4))
        heads = re.findall(r"Arm (\d+) dose", p.text)
        assert heads and {int(h) for h in heads} == set(range(a, b + 1)), (p.number, heads)
        assert ("(continued)" in p.text) == (p.number > 1)
        assert "Preferred term number" in p.text
        seen |= set(range(a, b + 1))
    assert seen == set(range(1, ARMS + 1))
    assert sum(p.text.count("Preferred term number 29") for p in pages) == n
