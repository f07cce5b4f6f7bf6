"""CSR layout: `render --to docx` also writes one landscape DOCX per output table
(`docx/t-14-3-01.docx`, named like the RTF files), with the title, population line,
table and footnotes of the HTML/PDF output."""
from __future__ import annotations

import re
import zipfile

import pytest

from trialsupp.ard.audit import pdf_pages_text
from .docx_text import docx_tables, docx_text, html_tables, numbers

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
