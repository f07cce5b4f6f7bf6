"""CSR layout: `render --to docx` also writes one landscape DOCX per output table
(`docx/t-14-3-01.docx`, named like the RTF files), with the title, population line,
table and footnotes of the HTML/PDF output."""
from __future__ import annotations

import re
import zipfile

import pytest

from trialsupp.ard.audit import pdf_pages_text
from trialsupp.publish.docx import fragment_docx, output_elements
from .docx_text import docx_layout, docx_tables, docx_text, html_tables, numbers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cdisc(cdisc_render):
    return cdisc_render


def test_one_docx_per_output_table(cdisc):
    docx = sorted(p.stem for p in (cdisc / "docx").glob("*.docx"))
    rtf = sorted(p.stem for p in (cdisc / "rtf").glob("t-14-*.rtf"))
    assert rtf and [d for d in docx if d.startswith("t-14-")] == rtf
    assert (cdisc / "supplement.docx").is_file()


def test_output_docx_equals_the_html_and_pdf_output(cdisc):
    html = (cdisc / "supplement.html").read_text(encoding="utf-8")
    pdf = " ".join(" ".join(p.split()) for p in pdf_pages_text(cdisc / "supplement.pdf")).replace("\u2212", "-")
    sections = dict(re.findall(r'<section id="(table-14-[^"]+)"[^>]*>(.*?)</section>', html, re.S))
    assert len(sections) >= 20
    for ident, body in sections.items():
        number = re.match(r"table-(14-\d+\.\d+)", ident).group(1)
        path = cdisc / "docx" / f"t-{number.replace('.', '-')}.docx"
        z = zipfile.ZipFile(path)
        assert b'w:orient="landscape"' in z.read("word/document.xml")
        assert f"Table {number}".encode() in z.read("docProps/core.xml")
        word_tables = docx_tables(path)
        web_tables = [rows for _i, rows in html_tables(body)]
        assert len(word_tables) == len(web_tables) >= 1, number
        for w, h in zip(word_tables, web_tables):
            assert [c for r in w for c in r if c] == [c for r in h for c in r if c], number
            nums = numbers(c for r in w for c in r)
            assert not [n for n in nums if n not in pdf], number
        text = docx_text(path)
        population = re.search(r'class="ts-population"><strong>(.*?)</strong>', body)
        assert population and population.group(1) in text, number
        assert f"Table {number}" in text


def test_output_docx_cut_from_the_whole_reads_as_pandoc_on_the_element_alone(cdisc, tmp_path):
    """The per-table DOCX, cut from ``supplement.docx``, against the one Pandoc makes from that
    element's HTML alone (the former method): same paragraphs and tables in the same order
    (cell texts, spans, repeated header rows), same page and footer, same title."""
    html = (cdisc / "supplement.html").read_text(encoding="utf-8")
    jobs = output_elements(html, tmp_path)
    assert len(jobs) == len(list((cdisc / "docx").glob("*.docx"))) >= 30
    fragment_docx(jobs, landscape=True)
    for ident, _page, reference, title in jobs:
        cut, direct = docx_layout(cdisc / "docx" / reference.name), docx_layout(reference)
        assert cut == direct, ident
        assert cut["title"] == title and "Table 14-" in title, ident
        assert cut["page"]["size"]["orient"] == "landscape", ident
        assert cut["page"]["footerReference:default"] == "Page {PAGE} of {NUMPAGES}", ident
        tables = [b for b in cut["blocks"] if b[0] == "tbl"]
        assert len(tables) == 1 and tables[0][1][0][0], ident      # one table, its header row repeated
        assert cut["blocks"][0][1:3] == ("Heading2", title), ident
