"""HTML contents list in reading order: eTables/eFigures lines nested under their sections."""
from trialsupp.publish.builtin import nest_float_list

HTML = """<nav id="TOC"><ul>
<li><a href="#emethods" id="toc-emethods">eMethods</a></li>
<li><a href="#etables" id="toc-etables">eTables</a></li>
<li><a href="#efigures" id="toc-efigures">eFigures</a></li>
<li><a href="#ereferences" id="toc-ereferences">eReferences</a></li>
</ul>
<ul class="ts-float-list">
<li><a href="#tbl-a">eTable 1. A</a></li>
<li><a href="#tbl-b">eTable 2. B</a></li>
<li><a href="#fig-c">eFigure 1. C</a></li>
</ul>
</nav>"""


def test_float_lines_follow_their_section_before_ereferences():
    out = nest_float_list(HTML)
    order = [out.index(s) for s in ("eMethods", "eTables<", "eTable 1.", "eTable 2.", "eFigures<", "eFigure 1.",
                                    "eReferences")]
    assert order == sorted(order)
    assert "ts-float-list" not in out


def test_unchanged_without_sections():
    html = HTML.replace("eTables</a>", "Tables</a>")
    assert nest_float_list(html) == html
