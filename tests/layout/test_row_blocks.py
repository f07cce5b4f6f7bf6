"""Labelled row blocks are not split across pages (issue 16): in a table shaped like CDISC
14-7.01 (a measure group, a position heading, then per arm a block "Xan. High" / Baseline,
Week 24, End of Trt. whose later rows have a blank stub label), a page never breaks inside an
arm's block, in the PDF (Typst) or in the RTF as LibreOffice prints it. Each block's rows carry
a block id in their time label, so the test sees on which page every row of a block lands.
In the RTF a short group (a position heading and its 9 rows) is also kept whole, so every RTF
page's first row has its position label above it on that page (RTF cannot repeat it)."""
from __future__ import annotations

import re
from collections import defaultdict

import pytest

from trialsupp.ard.fmt import CSR
from trialsupp.display import Table
from trialsupp.display._layout import parent_rows, row_blocks, row_groups

from .pdf_layout import have_poppler, read_pages
from .rtf_pdf import convert_all, soffice
from .test_wide_tables import _typeset

TIMES = ("Baseline", "Week 24", "End of Trt.")
ARMS = ("Placebo", "Xan. Low", "Xan. High")
MEASURES = ("Systolic Blood Pressure", "Diastolic Blood Pressure", "Pulse Rate", "Temperature")
POSITIONS = ("Supine", "Standing 1 min", "Standing 3 min")


def vital_signs() -> Table:
    t = Table("Summary of Vital Signs at Baseline and End of Treatment",
              stub_header="Measure / Position /\nTreatment", landscape=True, rules=CSR)
    t = t.add_column("armN", "N").add_column("time", "Planned\nRelative Time", align="left")
    for key in ("n", "mean", "sd"):
        t = t.add_column(key, key.title())
    b = 0
    for m in MEASURES:
        t = t.add_group(m)
        for pos in POSITIONS:
            t = t.add_heading(pos)
            for arm in ARMS:
                b += 1
                for i, time in enumerate(TIMES):
                    cells = {"time": f"{time} B{b:02d}", "n": str(80 - i), "mean": f"{120 + b}.{i}",
                             "sd": f"{10 + i}.25"} | ({"armN": "86"} if i == 0 else {})
                    t = t.add_row(arm if i == 0 else "", cells, indent=1)
    return t.footnote("NOTE: synthetic values.")


def _pages_of(pages, marker: str) -> dict[str, set[int]]:
    """The pages on which each synthetic row tag (``B07``, ``V12``: marker + two digits) is printed."""
    where: dict[str, set[int]] = defaultdict(set)
    for p in pages:
        for ln in p.lines:
            for b in re.findall(rf"\b{marker}(\d\d)\b", ln.text):
                where[b].add(p.number)
    return where


def test_blocks_are_the_arms_rows():
    d = vital_signs().data
    blocks = row_blocks(d)
    assert len(blocks) == len(MEASURES) * len(POSITIONS) * len(ARMS)
    assert set(blocks.values()) == {3}
    assert all(d.rows[i].label in ARMS for i in blocks)
    assert row_blocks(d, max_rows=2) == {}          # a longer block may break


def test_groups_are_the_positions():
    d = vital_signs().data
    groups = row_groups(d)
    # each position heading with its 3 arms x 3 times; a measure (31 rows) is too long to keep
    assert len(groups) == len(MEASURES) * len(POSITIONS)
    assert set(groups.values()) == {1 + len(ARMS) * len(TIMES)}
    assert all(d.rows[i].label in POSITIONS for i in groups)
    assert len(row_groups(d, max_rows=31)) == len(MEASURES) * (1 + len(POSITIONS))
    assert row_groups(d, max_rows=9) == {}


def _first_row_label_missing(page) -> str | None:
    """The first block row of a page, if its position label is not above it on that page."""
    lines = sorted(page.lines, key=lambda ln: ln.y0)
    for k, ln in enumerate(lines):
        m = re.search(r"\bB(\d\d)\b", ln.text)
        if m:
            b = int(m.group(1)) - 1
            label = POSITIONS[b // len(ARMS) % len(POSITIONS)]
            return None if any(x.text.strip() == label for x in lines[:k]) else f"B{b + 1:02d} ({label})"
    return None


@pytest.mark.skipif(not have_poppler(), reason="poppler-utils (pdftotext) not installed")
def test_pdf_never_breaks_inside_a_block(tmp_path, project_dir):
    pdf = _typeset(vital_signs(), tmp_path, True, project_dir)
    pages = read_pages(pdf)[1:]
    assert len(pages) >= 3                          # the table does break across pages
    where = _pages_of(pages, "B")
    assert len(where) == len(MEASURES) * len(POSITIONS) * len(ARMS)
    split = {b: sorted(p) for b, p in where.items() if len(p) > 1}
    assert split == {}, split
    # every page with rows repeats its measure group label (a sub-header of the table)
    for p in pages:
        if re.search(r"\bB\d\d\b", p.text):
            assert any(m in p.text for m in MEASURES), p.number


@pytest.mark.skipif(not soffice() or not have_poppler(), reason="LibreOffice or poppler not installed")
def test_rtf_never_breaks_inside_a_block(tmp_path):
    # 1 to 3 more title lines move the page breaks: without \keepn each of these splits a block
    rtfs = []
    for k in (1, 2, 3):
        rtf = tmp_path / f"t-vs{k}.rtf"
        text = vital_signs().to_rtf(rtf, number="Table 14-7.99", titles=["Population: Safety"] + ["Title"] * k,
                                    header_left="Protocol: X", footer_left="Source: test")
        # every row of a block but its last is kept with the next row
        assert text.count("\\keepn") >= len(MEASURES) * len(POSITIONS) * len(ARMS) * 2 * 6
        rtfs.append(rtf)
    pdfs = convert_all(rtfs, tmp_path / "pdf")
    for rtf in rtfs:
        pages = read_pages(pdfs[rtf])
        assert len(pages) >= 3
        where = _pages_of(pages, "B")
        assert len(where) == len(MEASURES) * len(POSITIONS) * len(ARMS)
        split = {b: sorted(p) for b, p in where.items() if len(p) > 1}
        assert split == {}, (rtf.name, split)
        # a page never starts mid-group: its first row has its position label above it
        missing = {p.number: m for p in pages if (m := _first_row_label_missing(p))}
        assert missing == {}, (rtf.name, missing)


# a table shaped like CDISC 14-6.04: per test and visit a parent row "Week k: n" (with its n counts)
# and its deeper-indented shift rows Normal / High; each visit's rows carry a block id V<nn>
TESTS = ("ALBUMIN", "BILIRUBIN", "CALCIUM", "CHLORIDE", "GLUCOSE")
WEEKS = (2, 4, 6, 8, 12, 16, 20, 24, 26)


def shifts_by_visit() -> Table:
    t = Table("Shifts of Laboratory Values During Treatment, by Visit", stub_header="Test / Week / Shift to",
              landscape=True, rules=CSR)
    for key in ("N", "H"):
        t = t.add_column(key, f"{key} at\nBaseline")
    t = t.add_group("CHEMISTRY")
    v = 0
    for test in TESTS:
        t = t.add_heading(test)
        for w in WEEKS:
            v += 1
            t = t.add_row(f"Week {w}: n V{v:02d}", {"N": "80", "H": "2"}, indent=1)
            t = t.add_row(f"Normal V{v:02d}", {"N": "78 (98%)", "H": "1 (50%)"}, indent=2)
            t = t.add_row(f"High V{v:02d}", {"N": "2 (3%)", "H": "1 (50%)"}, indent=2)
    return t.footnote("NOTE: synthetic values.")


def test_parents_are_the_visits():
    d = shifts_by_visit().data
    parents = parent_rows(d)
    assert len(parents) == len(TESTS) * len(WEEKS) and set(parents.values()) == {3}
    assert all(d.rows[i].label.startswith("Week ") for i in parents)
    assert set(parent_rows(d, max_rows=2).values()) == {2}      # a longer block keeps parent + first child


@pytest.mark.skipif(not have_poppler(), reason="poppler-utils (pdftotext) not installed")
def test_pdf_never_ends_a_page_with_a_visit_n_row(tmp_path, project_dir):
    pdf = _typeset(shifts_by_visit(), tmp_path, True, project_dir)
    pages = read_pages(pdf)[1:]
    assert len(pages) >= 3
    for p in pages:
        rows = [ln.text for ln in sorted(p.lines, key=lambda ln: ln.y0) if re.search(r"\bV\d\d\b", ln.text)]
        assert rows and not rows[-1].lstrip().startswith("Week "), (p.number, rows[-1:])
    assert len(_pages_of(pages, "V")) == len(TESTS) * len(WEEKS)


@pytest.mark.skipif(not soffice() or not have_poppler(), reason="LibreOffice or poppler not installed")
def test_rtf_never_breaks_inside_a_visit(tmp_path):
    rtfs = []
    for k in (1, 2, 3):
        rtf = tmp_path / f"t-sv{k}.rtf"
        shifts_by_visit().to_rtf(rtf, number="Table 14-6.99", titles=["Population: Safety"] + ["Title"] * k,
                                 header_left="Protocol: X", footer_left="Source: test")
        rtfs.append(rtf)
    pdfs = convert_all(rtfs, tmp_path / "pdf")
    for rtf in rtfs:
        pages = read_pages(pdfs[rtf])
        assert len(pages) >= 3
        where = _pages_of(pages, "V")
        assert len(where) == len(TESTS) * len(WEEKS)
        split = {v: sorted(p) for v, p in where.items() if len(p) > 1}
        assert split == {}, (rtf.name, split)
