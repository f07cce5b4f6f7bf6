"""The early source of the Word document (``publish_builtin(word_source=...)``, the page before
Pandoc embeds its resources) gives the same DOCX, byte for byte, as the published HTML does."""
from __future__ import annotations

import base64
import re

from trialsupp.display._escape import strip_controls
from trialsupp.publish.builtin import publish_builtin
from trialsupp.publish.docx import html_to_docx


def test_word_source_gives_the_docx_of_the_published_html(stage, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1725062400")
    sources = []
    out = publish_builtin(stage, "report/demo/index.qmd", tmp_path / "out", formats=("html",),
                          word_source=lambda p: sources.append(p.read_text(encoding="utf-8")))
    assert len(sources) == 1
    source, published = strip_controls(sources[0]), out["html"].read_text(encoding="utf-8")
    assert source != published                        # not embedded by Pandoc: another page ...
    figures = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', source)
    assert figures and figures == re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', published)
    assert b"<svg" in base64.b64decode(figures[0])   # ... with the same figures as data: URIs
    assert 'id="ts-ard"' in source                   # and the same after-body blob
    word = html_to_docx(source, tmp_path / "early.docx").read_bytes()
    assert word == html_to_docx(published, tmp_path / "late.docx").read_bytes()


def test_no_word_source_when_the_page_holds_other_resources(stage, tmp_path):
    logo = stage / "report" / "demo" / "logo.png"
    logo.write_bytes(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="))
    index = stage / "report" / "demo" / "index.qmd"
    index.write_text(index.read_text(encoding="utf-8") + f"\n![A logo]({logo})\n", encoding="utf-8")
    sources = []
    out = publish_builtin(stage, "report/demo/index.qmd", tmp_path / "out", formats=("html",),
                          word_source=sources.append)
    assert 'src="data:image/png;base64,' in out["html"].read_text(encoding="utf-8")
    assert sources == []                             # Word is made from the published page
