"""`render --to docx`: the supplement as Word, with the same numbers and footnotes as the
HTML and the PDF (all three rendered from the same ARD rows)."""
from __future__ import annotations

import json
import re
import zipfile

import pytest

from trialsupp.ard.audit import pdf_pages_text
from .docx_text import docx_tables, docx_text, html_tables, numbers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def docs(valor_render):
    out = valor_render.out
    html = (out / "supplement.html").read_text(encoding="utf-8")
    pdf = " ".join(" ".join(p.split()) for p in pdf_pages_text(out / "supplement.pdf")).replace("\u2212", "-")
    rows = json.loads((out / "ard.json").read_text(encoding="utf-8"))["rows"]
    return out, html, pdf, rows


def test_docx_is_word_with_the_shipped_styles(docs):
    out, *_ = docs
    z = zipfile.ZipFile(out / "supplement.docx")
    styles = z.read("word/styles.xml").decode()
    assert 'w:ascii="Arial"' in styles                              # the reference document's body font
    assert b"2024-08-31T00:00:00Z" in z.read("docProps/core.xml")   # dated by SOURCE_DATE_EPOCH
    text = docx_text(out / "supplement.docx")
    assert "The data in this supplement are simulated" in text      # page-1 statement kept


def test_every_table_has_the_cells_of_the_html_table(docs):
    out, html, _pdf, _rows = docs
    web = [rows for ident, rows in html_tables(html) if ident and ident.startswith("tbl-")]
    word = docx_tables(out / "supplement.docx")
    word = [t for t in word if len(t) > 2]                          # the element tables, in order
    assert len(web) >= 8 and len(word) == len(web)          # every eTable of the supplement
    for w, h in zip(word, web):
        assert [c for r in w for c in r if c] == [c for r in h for c in r if c]


def test_numbers_per_table_equal_the_pdf_and_the_ard(docs):
    out, html, pdf, rows = docs
    shown = {r["id"]: r["stat_fmt"].replace("\u2212", "-") for r in rows if r["stat_fmt"]}
    word = [t for t in docx_tables(out / "supplement.docx") if len(t) > 2]
    for (ident, web), table in zip([x for x in html_tables(html) if x[0] and x[0].startswith("tbl-")], word):
        cells = [c for r in table for c in r]
        nums = numbers(cells)
        assert nums == numbers(c for r in web for c in r), ident
        missing = sorted({n for n in nums if n not in pdf})
        assert not missing, (ident, missing[:10])
        text = " ".join(cells).replace("\u2212", "-")
        block = re.search(rf'<table[^>]*id="{ident}".*?</table>', html, re.S).group(0)
        ids = {i for m in re.finditer(r'data-ard="([^"]+)"', block) for i in m.group(1).split()}
        bound = [shown[i] for i in ids if i in shown]
        assert bound and all(v in text for v in bound), (ident, [v for v in bound if v not in text][:5])


def test_footnotes_identical_to_the_pdf(docs):
    out, html, pdf, _rows = docs
    word = docx_text(out / "supplement.docx").replace("\u2212", "-")
    feet = re.findall(r"<tfoot>(.*?)</tfoot>", html, re.S)
    notes = [" ".join(re.sub(r"<[^>]+>", "", p).split()) for f in feet for p in re.findall(r"<p>(.*?)</p>", f, re.S)]
    assert len(notes) > 10
    from html import unescape
    for note in notes:
        note = unescape(note).replace("\u2212", "-")
        body = note[1:].strip() if note[:1].isalpha() and note[1:2].isupper() else note   # drop a footnote letter
        assert body[:60] in word, note[:80]
        assert " ".join(body[:60].split()) in pdf, note[:80]
