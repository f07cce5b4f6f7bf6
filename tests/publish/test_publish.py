"""Built-in publisher: fixture project -> HTML and PDF; errors; static config checks."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from trialsupp.publish import PublishError, number_elements, number_report, publish
from trialsupp.publish.builtin import publish_builtin
from trialsupp.publish.crossref import appearance_mismatch
from trialsupp.publish.crossref import number_elements as number_doc
from trialsupp.publish.embed import cell_options, embed_cell
from trialsupp.publish.provenance import provenance_html
from trialsupp.publish.qmd import parse_qmd

from publish_project import INDEX, REPO, RESULTS, build_stage


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


# ---- HTML -----------------------------------------------------------------

def test_html_captions_numbered_by_first_citation(rendered):
    _, out = rendered
    html = out["html"].read_text(encoding="utf-8")
    # tbl-ae appears first but is cited second: eTable 2
    assert "<strong>eTable 1.</strong> Baseline Characteristics of the Participants" in html
    assert "<strong>eTable 2.</strong> Adverse Events" in html
    assert "<strong>eFigure 1.</strong> Kaplan-Meier Estimates" in html
    assert '<a href="#tbl-baseline">eTable 1</a>' in html
    assert '<a href="#fig-km">eFigure 1</a>' in html


def test_html_inline_value_span_and_provenance_blob(rendered):
    _, out = rendered
    html = out["html"].read_text(encoding="utf-8")
    assert ('<span class="ts-stat" data-ard="fig-km.hr.estimate" tabindex="0">'
            "0.65 (95% CI, 0.51-0.80)</span>") in html
    m = re.search(r'<script type="application/json" id="ts-ard">(.*?)</script>', html, re.S)
    assert m, "provenance blob missing"
    blob = json.loads(m.group(1))
    ids = {r["id"] for r in blob["rows"]}
    assert {"fig-km.hr.estimate", "tbl-baseline.age.placebo.mean"} <= ids
    assert "tbl-ae.any.placebo.n" not in ids      # only rows shown in the page
    assert blob["run"]["study"] == "demo"
    assert "Cox proportional hazards \\u003c/script\\u003e" in m.group(1)   # no break-out
    assert "function readRows" in html            # provenance.js inlined


def test_html_is_self_contained(rendered):
    _, out = rendered
    html = out["html"].read_text(encoding="utf-8")
    assert not re.search(r'<(script|img|iframe|source|video|audio)[^>]+src="(https?:)?//', html)
    assert not re.search(r'<link[^>]+href="(https?:)?//', html)
    assert not re.search(r"@import\s+url\(\s*['\"]?https?:", html)
    assert "data:image/svg+xml" in html          # figure embedded
    assert "<style>" in html and ".ts-stat" in html
    assert "{=typst}" not in html and "#table(" not in html
    assert "ARD rows" not in html                 # ARD output ignored
    assert "Source: <a href=\"notebooks/demo/tables.ipynb\">" in html


# ---- PDF ------------------------------------------------------------------

def test_pdf_text(rendered):
    _, out = rendered
    text = pdf_text(out["pdf"])
    assert "Supplementary Online Content" in text
    assert "eTable 1. Baseline Characteristics of the Participants" in text
    assert "eTable 2. Adverse Events" in text
    assert "eFigure 1. Kaplan-Meier Estimates of Event-Free Survival" in text
    assert "0.65 (95% CI, 0.51-0.80)" in text
    from pypdf import PdfReader
    pages = len(PdfReader(str(out["pdf"])).pages)
    assert pages >= 2 and f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert "Simulated data." in text
    assert "eTable 1:" not in text and "ARD rows" not in text
    assert "{{< ard ID >}}" in text               # escaped shortcode kept literally


def test_pdf_is_deterministic(tmp_path, rendered):
    st, out = rendered
    again = publish_builtin(st, "report/demo/index.qmd", tmp_path, formats=("pdf",))
    assert again["pdf"].read_bytes() == out["pdf"].read_bytes()


def test_typst_source_uses_quarto_partials(rendered):
    _, out = rendered
    typ = out["typst"].read_text(encoding="utf-8")
    assert "#let jama-supplement(" in typ
    assert "#show: jama-supplement.with(" in typ
    assert 'kind: "quarto-float-tbl"' in typ and "<tbl-baseline>" in typ
    assert 'date: "2025-01-15"' in typ


# ---- errors ---------------------------------------------------------------

def test_unsupported_shortcode_names_file_and_line(tmp_path):
    st = build_stage(tmp_path, results=RESULTS.replace("# eResults", "# eResults\n\n{{< video x.mp4 >}}"))
    with pytest.raises(PublishError, match=r"_results\.qmd:3: unsupported shortcode \{\{< video >\}\}"):
        publish_builtin(st, "report/demo/index.qmd", tmp_path / "out")


def test_code_cell_in_report_is_refused(tmp_path):
    st = build_stage(tmp_path, results=RESULTS + "\n```{python}\n1 + 1\n```\n")
    with pytest.raises(PublishError, match=r"_results\.qmd:\d+: executable code cell"):
        parse_qmd(st / "report/demo/index.qmd", st)


def test_unknown_ard_id_fails(tmp_path):
    st = build_stage(tmp_path, index=INDEX.replace("fig-km.hr.estimate", "fig-km.nope"))
    with pytest.raises(PublishError, match=r"index\.qmd:\d+: unknown ARD id 'fig-km\.nope'"):
        publish_builtin(st, "report/demo/index.qmd", tmp_path / "out", formats=("html",))


def test_unknown_reference_fails(tmp_path):
    st = build_stage(tmp_path, index=INDEX.replace("@tbl-ae", "@tbl-missing"))
    with pytest.raises(PublishError, match=r"index\.qmd:\d+: reference to unknown element @tbl-missing"):
        number_report(st, "report/demo/index.qmd")


def test_missing_embed_label_fails(tmp_path):
    st = build_stage(tmp_path, index=INDEX.replace("@tbl-ae", "@tbl-nope"),
                     results=RESULTS.replace("#tbl-ae", "#tbl-nope"))
    with pytest.raises(PublishError, match=r"no cell with '#\| label: tbl-nope'"):
        publish_builtin(st, "report/demo/index.qmd", tmp_path / "out", formats=("html",))


# ---- units ----------------------------------------------------------------

def test_numbering_and_mismatch_with_quarto_order(stage):
    doc = parse_qmd(stage / "report/demo/index.qmd", stage)
    numbering = number_doc(doc)
    assert numbering.numbers == {"tbl-baseline": "eTable 1", "tbl-ae": "eTable 2",
                                 "fig-km": "eFigure 1"}
    assert numbering.appearance == ["tbl-ae", "tbl-baseline", "fig-km"]
    assert appearance_mismatch(numbering) == ["tbl-ae", "tbl-baseline"]
    assert numbering.caption("tbl-ae", "Adverse Events") == "eTable 2. Adverse Events"


def test_cell_options_and_embed(stage, tmp_path):
    assert cell_options("#| label: tbl-x\n#| tbl-cap: \"A: b\"\nx = 1") == {"label": "tbl-x",
                                                                         "tbl-cap": "A: b"}
    emb = embed_cell(stage / "notebooks/demo/tables.ipynb", "fig-km", media_dir=tmp_path)
    assert emb.kind == "fig" and emb.caption.startswith("Kaplan-Meier")
    assert (tmp_path / "fig-km-1.svg").is_file() and "saved" not in emb.markdown


def test_publish_engine_builtin(stage, tmp_path):
    out = publish(stage, stage / "report/demo/index.qmd", tmp_path / "o", formats=("html",),
                  engine="builtin", study=None, params={}, run={"started": "2025-02-01T00:00:00+00:00"})
    assert set(out) == {"html"} and out["html"].is_file()
    assert number_elements(stage / "report/demo/index.qmd") == {
        "tbl-baseline": "eTable 1", "tbl-ae": "eTable 2", "fig-km": "eFigure 1"}


def test_provenance_html_escapes():
    frag = provenance_html({"run": {}, "rows": [{"id": "a", "method": "</script><b>"}]}, "x();")
    assert "</script><b>" not in frag and frag.count("</script>") == 2


# ---- static checks of the Quarto config ------------------------------------

def test_quarto_yml_has_documented_keys():
    cfg = yaml.safe_load((REPO / "_quarto.yml").read_text())
    assert cfg["project"]["type"] == "default"
    cr = cfg["crossref"]
    assert (cr["tbl-title"], cr["fig-title"], cr["tbl-prefix"], cr["fig-prefix"], cr["title-delim"]) == \
        ("eTable", "eFigure", "eTable", "eFigure", ".")
    html, typ = cfg["format"]["html"], cfg["format"]["typst"]
    assert html["embed-resources"] is True and html["html-math-method"] == "plain"
    assert html["toc"] is True and html["css"] == "_extensions/trialsupp/jama.css"
    assert html["section-divs"] is True and "include-after-body" not in html
    assert html["template-partials"] == ["_extensions/trialsupp/title-block.html",
                                         "_extensions/trialsupp/toc.html"]
    assert cfg["filters"] == [{"path": "_extensions/trialsupp/project-meta.lua", "at": "pre-ast"},
                              {"path": "_extensions/trialsupp/trialsupp.lua", "at": "post-quarto"}]
    for p in html["template-partials"] + [f["path"] for f in cfg["filters"]]:
        assert (REPO / p).is_file()
    assert typ["template-partials"] == ["_extensions/trialsupp/typst-template.typ",
                                        "_extensions/trialsupp/typst-show.typ"]
    for p in typ["template-partials"] + [html["css"]]:
        assert (REPO / p).is_file()


def test_extension_yml_has_documented_keys():
    ext = REPO / "_extensions" / "trialsupp"
    cfg = yaml.safe_load((ext / "_extension.yml").read_text())
    assert {"title", "version", "quarto-required", "contributes"} <= set(cfg)
    assert cfg["contributes"]["shortcodes"] == ["ard.lua"]
    assert cfg["contributes"]["formats"]["typst"]["template-partials"] == ["typst-template.typ",
                                                                            "typst-show.typ"]
    for name in ("ard.lua", "typst-template.typ", "typst-show.typ", "jama.css", "provenance.js"):
        assert (ext / name).is_file()
    lua = (ext / "ard.lua").read_text()
    assert "quarto.doc.input_file" in lua and '["ard"]' in lua and '["results"]' in lua
    assert 'pandoc.RawInline("html"' in lua and "pandoc.Str(" in lua and "error(" in lua
    # typst-template.typ is pure Typst; only typst-show.typ holds Pandoc variables
    assert "$" not in (ext / "typst-template.typ").read_text()
    assert "$if(title)$" in (ext / "typst-show.typ").read_text()
    assert "http" not in (ext / "provenance.js").read_text()


# ---- browser: provenance popup (Debian chromium) ------------------------------

@pytest.mark.browser
def test_provenance_popup_keyboard_and_no_errors(rendered):
    import shutil
    pw = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium not installed")
    _, out = rendered
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        errors, network = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else network.append(r.url))
        page.goto(out["html"].as_uri())
        pop = page.locator("#ts-pop")
        page.focus("#tbl-baseline .ts-stat")
        assert pop.is_visible()
        text = pop.inner_text()
        assert "Arithmetic mean" in text and "notebooks/demo/tables.ipynb" in text and "sha256:" in text
        page.keyboard.press("Escape")
        assert not pop.is_visible()
        page.hover("main p .ts-stat")
        assert pop.is_visible() and "Hazard ratio" in pop.inner_text()
        browser.close()
    assert errors == [] and network == []


def test_shortcode_arguments_split_as_shlex_does():
    import random
    import shlex
    from trialsupp.publish.qmd import split_args
    for text in ("ard tbl-x.a.b", "  ard \t a\nb ", "ard 'a b' c", 'x="1 2" y', "a\\ b", "a\x0bb", "a\xa0b", ""):
        assert split_args(text) == shlex.split(text), text
    rng = random.Random(20)
    for _ in range(5000):
        text = "".join(rng.choice("ab #=.-\t\n\r\x0b\xa0{}<>") for _ in range(rng.randint(0, 12)))
        assert split_args(text) == shlex.split(text), repr(text)


def test_notebooks_are_read_as_nbformat_reads_them(tmp_path):
    """The publisher reads version-4 notebooks as JSON: the same cells, multi-line sources and
    outputs joined, JSON outputs left as they are, as ``nbformat.read``."""
    import json
    import nbformat
    from trialsupp.publish.embed import _read_notebook
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A\nsecond line"),
                nbformat.v4.new_code_cell("#| label: tbl-a\nx = 1\nx", execution_count=1, outputs=[
                    nbformat.v4.new_output("display_data", data={"text/markdown": "a\nb\n", "text/plain": "p\nq",
                                                                 "application/vnd.x+json": {"k": ["1\n", "2"]}}),
                    nbformat.v4.new_output("stream", name="stdout", text="one\ntwo\n")])]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, str(path))
    assert isinstance(json.loads(path.read_text())["cells"][1]["source"], list)   # written as lists of lines
    assert json.loads(json.dumps(_read_notebook(str(path), 0))) == json.loads(json.dumps(nbformat.read(str(path), 4)))
