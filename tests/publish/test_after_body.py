"""The built-in publisher puts the HTML's provenance blob in after Pandoc (issue 20: given to
Pandoc, --embed-resources parses its megabytes). The page must be what Pandoc's own
--include-after-body gives."""
from pathlib import Path

from trialsupp.publish.builtin import AFTER_MARK, MD_FORMAT, _late_include, _pandoc
from trialsupp.publish.provenance import provenance_html

EXT = Path(__file__).resolve().parents[2] / "src" / "trialsupp" / "templates" / "_extensions" / "trialsupp"


def _page(tmp_path, include: str) -> str:
    md = tmp_path / "a.md"
    md.write_text("---\ntitle: T\n---\n\n# Results\n\nMean 1.5 (\u00e9t\u00e9) & <b>bold</b>.\n", encoding="utf-8")
    inc, out = tmp_path / "after.html", tmp_path / "out.html"
    inc.write_text(include, encoding="utf-8")
    _pandoc().convert_file(str(md), "html5", format=MD_FORMAT, outputfile=str(out), verify_format=False,
                           extra_args=["--standalone", "--embed-resources", f"--include-after-body={inc}"])
    return out.read_text(encoding="utf-8")


def test_provenance_blob_put_in_after_pandoc_is_what_pandoc_includes(tmp_path):
    store = {"run": {"study": "x"}, "rows": [
        {"id": "a.b", "stat_fmt": "1.5", "stat": 1.5, "stat_label": "Mean <\u00e9>", "method": "x & y \"q\""},
        {"id": "c.d", "stat_fmt": "\u22120.3", "stat": -0.3, "stat_label": "</script> in a label"}]}
    blob = provenance_html(store, (EXT / "provenance.js").read_text(encoding="utf-8"), ids={"a.b", "c.d"})
    late = _late_include(blob)
    assert late is not None
    assert _page(tmp_path, AFTER_MARK).replace(AFTER_MARK, late, 1) == _page(tmp_path, blob)


def test_text_with_a_resource_or_odd_ends_is_left_to_pandoc():
    assert _late_include('<script src="x.js"></script>\n') is None
    assert _late_include("<p>a</p>\n\n") is None and _late_include(" <p>a</p>\n") is None
    assert _late_include("<p>a</p>") is None and _late_include("<p>a</p>\n") == "<p>a</p>"


def test_a_report_holding_the_mark_gets_the_blob_from_pandoc(stage, tmp_path):
    from trialsupp.publish.builtin import publish_builtin
    index = stage / "report" / "demo" / "index.qmd"
    index.write_text(index.read_text(encoding="utf-8") + f"\n```{{=html}}\n{AFTER_MARK}\n```\n", encoding="utf-8")
    page = publish_builtin(stage, "report/demo/index.qmd", tmp_path / "out", formats=("html",))["html"]
    text = page.read_text(encoding="utf-8")
    assert text.count('id="ts-ard">{"rows"') == 1 and text.count(AFTER_MARK) == 1
    assert text.index(AFTER_MARK) < text.index('id="ts-ard"')     # the report's mark stays in the body
