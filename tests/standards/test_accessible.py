"""Accessible output: the PDF is PDF/UA-1 (ISO 14289-1) from Typst, tagged, with title,
language and alternative text for every figure (from its caption and ARD), read back from
the structure tree with pypdf (no veraPDF package exists on PyPI or Debian); the HTML has
no WCAG 2.1 A/AA violation found by axe-core in headless Chromium."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from trialsupp.publish.accessible import add_typst_alt, figure_alt

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


def _structure(pdf: Path) -> tuple[dict, list]:
    """(catalog, [(tag, node)] of the whole structure tree)."""
    root = PdfReader(str(pdf)).trailer["/Root"]
    nodes = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, list):
            for x in node:
                walk(x)
        elif isinstance(node, dict):
            if "/S" in node:
                nodes.append((str(node["/S"]), node))
            if "/K" in node:
                walk(node["/K"])
    walk(root["/StructTreeRoot"])
    return root, nodes


def _captions(html: str) -> list[str]:
    return re.findall(r'<img role="img" aria-label="([^"]*)"', html)


@pytest.mark.slow
def test_supplement_pdf_is_tagged_pdf_ua_1(valor_render):
    out = valor_render.out
    pdf = out / "supplement.pdf"
    root, nodes = _structure(pdf)
    assert str(root["/Lang"]) == "en"
    assert root["/MarkInfo"]["/Marked"] is True or root["/MarkInfo"]["/Marked"] == True   # noqa: E712
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"pdfuaid:part>\s*1\s*<", xmp) or 'pdfuaid:part="1"' in xmp
    title = str(PdfReader(str(pdf)).metadata.title)
    assert title.startswith("Simulated VALOR")
    tags = [t for t, _n in nodes]
    for needed in ("/Document", "/H1", "/P", "/Table", "/TH", "/TD", "/Caption", "/Link"):
        assert needed in tags, needed
    figures = [n for t, n in nodes if t == "/Figure"]
    captions = _captions((out / "supplement.html").read_text(encoding="utf-8"))
    assert len(figures) == len(captions) == 7
    for i, (fig, caption) in enumerate(zip(figures, captions), start=1):
        alt = str(fig["/Alt"])
        assert alt.startswith(f"eFigure {i}. {caption}"), alt[:120]
        assert "Groups:" in alt or "Shows" in alt                      # from the figure's ARD rows
    tables = [n for t, n in nodes if t == "/Table"]
    assert len(tables) >= 8


@pytest.mark.slow
def test_csr_pdf_figure_has_alt_text(cdisc_render):
    root, nodes = _structure(cdisc_render / "supplement.pdf")
    assert str(root["/Lang"]) == "en"
    figures = [n for t, n in nodes if t == "/Figure"]
    assert figures and all(str(f.get("/Alt", "")).strip() for f in figures)
    assert any("Kaplan-Meier" in str(f["/Alt"]) for f in figures)


def test_typst_enforces_alt_text_for_pdf_ua(tmp_path):
    """The check is Typst's own: an image without alt text fails PDF/UA-1, with it compiles."""
    import typst
    (tmp_path / "dot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                                      '<circle cx="5" cy="5" r="4"/></svg>')
    src = ('#set document(title: "t")\n#set text(lang: "en")\n= Heading\n'
           '#figure(image("dot.svg"), caption: [A dot])\n')
    (tmp_path / "a.typ").write_text(src)
    with pytest.raises(Exception, match="alt"):
        typst.compile(str(tmp_path / "a.typ"), pdf_standards=["ua-1"])
    (tmp_path / "a.typ").write_text(add_typst_alt(src.replace('image("dot.svg")', 'image("media/fig-dot-1.svg")'),
                                                  {"fig-dot": "A black dot"}))
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "fig-dot-1.svg").write_text((tmp_path / "dot.svg").read_text())
    assert typst.compile(str(tmp_path / "a.typ"), pdf_standards=["ua-1"]).startswith(b"%PDF")


def test_alt_text_from_caption_and_ard():
    rows = [{"method": "Kaplan-Meier, log-log CI", "group1_level": "Early start"},
            {"method": "Kaplan-Meier, log-log CI", "group1_level": "Delayed start"}]
    alt = figure_alt("eFigure 5. Kaplan-Meier Estimates", rows)
    assert alt == ("eFigure 5. Kaplan-Meier Estimates. Shows Kaplan-Meier, log-log CI. "
                   "Groups: Early start, Delayed start. Every plotted value is in the results store (ard.json).")
    typ = 'x #box(image("media/fig-km-1.svg", width: 6in)) y #box(image("media/fig-x-1.svg"))'
    out = add_typst_alt(typ, {"fig-km": 'say "hi"'})
    assert 'image("media/fig-km-1.svg", alt: "say \\"hi\\"", width: 6in)' in out
    assert 'image("media/fig-x-1.svg", alt: "fig-x")' in out           # never without alt


def _axe_js() -> Path | None:
    for p in (os.environ.get("AXE_CORE_JS"), REPO / ".ci" / "node_modules" / "axe-core" / "axe.min.js"):
        if p and Path(p).is_file():
            return Path(p)
    return None


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (see .ci/run)")
@pytest.mark.skipif(_axe_js() is None, reason="axe-core not installed: npm install --prefix .ci axe-core (see .ci/run)")
@pytest.mark.parametrize("which", ["valor", "cdisc"])
def test_html_has_no_wcag_2_1_aa_violation(which, request):
    from playwright.sync_api import sync_playwright
    out = request.getfixturevalue("valor_render").out if which == "valor" else request.getfixturevalue("cdisc_render")
    axe = _axe_js().read_text(encoding="utf-8")
    run = ("async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
           "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
           ".map(v => `${v.id} (${v.impact}): ${v.nodes.length} x ${v.help}`)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:"))
                       else r.abort())
            page.goto((out / "supplement.html").resolve().as_uri())
            page.add_script_tag(content=axe)
            assert page.evaluate("() => axe.version").startswith("4.")
            assert page.evaluate(run) == []
            page.focus(".ts-stat")                                      # with a provenance popup open
            page.wait_for_timeout(200)
            assert page.evaluate(run) == []
        finally:
            browser.close()
