"""Per-element DOCX cut from the whole document (``publish.docx_split``), on a small page with
what the CDISC pilot's tables do not have: lists (also outside the elements), external and
internal links, an image, a short and a long (hashed bookmark) element id, a figure-only
element. Each cut document must read exactly as Pandoc's document of the element alone."""
from __future__ import annotations

import base64
import hashlib
import zipfile

from trialsupp.publish.docx import fragment_docx, html_to_docx, output_docx, output_elements
from trialsupp.publish.docx_split import bookmark_name
from .docx_text import docx_layout

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
TABLE = ('<table class="ts-table"><thead><tr><th></th><th colspan="2">Drug (N=<span class="ts-stat" '
         'data-ard="a.n" tabindex="0">12</span>)</th></tr><tr><th></th><th>Week 4</th><th>Week 8</th></tr></thead>'
         '<tbody><tr><td rowspan="2">Age</td><td><span class="ts-dec" style="width:2em;padding-left:0.1em">'
         '<span class="ts-stat" data-ard="a.m" tabindex="0">41.5</span></span></td><td>3</td></tr>'
         '<tr><td>4</td><td>5</td></tr></tbody><tfoot><tr><td colspan="3"><p>a Note.</p></td></tr></tfoot></table>')
PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="generator" content="x">
<title>Split</title></head><body><main>
<p>Intro with a list:</p><ul><li>one</li><li>two</li></ul>
<section id="t-short" class="level2"><h2>Table 14-1.01 Short</h2><p><strong>Population: All</strong></p>{TABLE}
<ol><li>first</li><li>second</li></ol><p>See <a href="https://example.org/x">the source</a> and <a href="#t-short">here</a>.</p>
</section>
<section id="table-14-2.01-a-title-long-enough-for-a-hashed-bookmark" class="level2"><h2>Table 14-2.01 Long</h2>
{TABLE}<p><img src="data:image/png;base64,{PNG}" alt="dot"></p><ul><li>three</li></ul></section>
<section id="figure-14-1-a-figure" class="level2"><h2>Figure 14-1 A figure</h2><p>No table.</p></section>
<p>After, <a href="https://example.org/y">another link</a>.</p>
</main></body></html>"""


def test_long_ids_are_bookmarked_as_pandoc_does():
    assert bookmark_name("t-short") == "t-short" and bookmark_name("b" * 40) == "b" * 40
    assert bookmark_name("c" * 41) == "X63818639f1b97ad1adcd79efba8943cc073d9ce"      # as Pandoc 3.9 wrote them
    assert bookmark_name("1abc") == "X1ad43d75ba33f5f8a8956ad2118d0b62f840fa2"
    # 'X' + SHA-1 hex without its first digit, for ids longer than 40 characters
    assert bookmark_name("table-14-3.01-primary-endpoint-analysis-adas-cog-11---change-from-baseline-to-week-24"
                         "---locf") == "X1dc6b1d329ab3e6800a7f97a9a68dab4c64dd8c"


def test_cut_documents_read_as_pandoc_on_the_element_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1725062400")
    whole = html_to_docx(PAGE, tmp_path / "whole.docx", landscape=True)
    made = output_docx(PAGE, tmp_path / "cut", whole=whole)
    jobs = output_elements(PAGE, tmp_path / "direct")
    assert [p.name for p in made] == [j[2].name for j in jobs] == ["t-short.docx", "t-14-2-01.docx"]
    fragment_docx(jobs, landscape=True)
    for path, (_ident, _page, direct, title) in zip(made, jobs):
        cut = docx_layout(path)
        assert cut == docx_layout(direct)
        assert cut["title"] == title
        z = zipfile.ZipFile(path)
        names = z.namelist()
        assert names == [n for n in zipfile.ZipFile(whole).namelist() if n in names]   # the whole's order
        assert {i.date_time for i in z.infolist()} <= {i.date_time for i in zipfile.ZipFile(whole).infolist()}
        text = b"".join(z.read(n) for n in names if n.endswith((".xml", ".rels")))
        assert b"example.org/y" not in text and b"Intro" not in text          # nothing of the rest
    short, long_ = (docx_layout(p)["blocks"] for p in made)
    assert [b[3] for b in short if b[0] == "p" and b[3]] == ["decimal", "decimal"]
    assert ["https://example.org/x", "#t-short"] in [b[4] for b in short if b[0] == "p"]
    assert [b[5] for b in long_ if b[0] == "p" and b[5]] == [[hashlib.sha1(base64.b64decode(PNG)).hexdigest()]]
    assert not [n for n in zipfile.ZipFile(made[0]).namelist() if n.startswith("word/media/")]


def test_cut_is_byte_reproducible(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1725062400")
    whole = html_to_docx(PAGE, tmp_path / "whole.docx", landscape=True)
    one = [p.read_bytes() for p in output_docx(PAGE, tmp_path / "a", whole=whole)]
    two = [p.read_bytes() for p in output_docx(PAGE, tmp_path / "b", whole=whole)]
    assert one == two


def test_a_whole_document_of_another_layout_is_not_cut(tmp_path):
    portrait = html_to_docx(PAGE, tmp_path / "portrait.docx", landscape=False)
    made = output_docx(PAGE, tmp_path / "cut", whole=portrait)
    assert all(b'w:orient="landscape"' in zipfile.ZipFile(p).read("word/document.xml") for p in made)


def test_an_element_missing_from_the_whole_is_made_by_pandoc_alone(tmp_path):
    start = PAGE.index('<section id="table-14-2.01')
    partial = PAGE[:start] + PAGE[PAGE.index("</section>", start) + len("</section>"):]
    whole = html_to_docx(partial, tmp_path / "partial.docx", landscape=True)
    made = output_docx(PAGE, tmp_path / "cut", whole=whole)
    jobs = output_elements(PAGE, tmp_path / "direct")
    fragment_docx(jobs, landscape=True)
    assert [docx_layout(p) for p in made] == [docx_layout(j[2]) for j in jobs]
    assert "Table 14-2.01 Long" in [b[2] for b in docx_layout(made[1])["blocks"] if b[0] == "p"]
