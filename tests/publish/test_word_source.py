"""Word's early start (``publish_builtin(word_source=...)``): called with the published HTML page,
complete and self-contained (resources written in by ``inline.inline_resources``), while the PDF
may still be compiling."""
from __future__ import annotations

import base64
import re

from trialsupp.publish.builtin import publish_builtin
from trialsupp.publish.docx import html_to_docx


def test_word_source_is_the_published_page(stage, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1725062400")
    seen = []
    out = publish_builtin(stage, "report/demo/index.qmd", tmp_path / "out", formats=("html", "pdf"),
                          word_source=lambda p: seen.append((p, p.read_text(encoding="utf-8"))))
    assert [p for p, _ in seen] == [out["html"]]
    page = seen[0][1]
    assert page == out["html"].read_text(encoding="utf-8")        # complete when Word starts
    figures = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert figures and b"<svg" in base64.b64decode(figures[0])
    assert not re.search(r'\s(?:src|href)="(?!data:|#|notebooks/)[^"]*"', page)
    assert html_to_docx(page, tmp_path / "early.docx").stat().st_size > 0


def test_other_local_resources_are_written_into_the_page(stage, tmp_path):
    logo = stage / "report" / "demo" / "logo.png"
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    logo.write_bytes(png)
    index = stage / "report" / "demo" / "index.qmd"
    index.write_text(index.read_text(encoding="utf-8") + "\n![A logo](logo.png)\n", encoding="utf-8")
    seen = []
    out = publish_builtin(stage, "report/demo/index.qmd", tmp_path / "out", formats=("html",),
                          word_source=seen.append)
    page = out["html"].read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' + base64.b64encode(png).decode() + '"' in page
    assert 'aria-label="A logo"' in page and seen == [out["html"]]
