"""The Quarto path (issue 15): one test per defect found with Quarto 1.10.18, each on a
small staged project. The Quarto renders are skipped only when ``quarto`` is not on
PATH (CI installs it with ../shared/tools/quarto/install.sh); the first tests need no
Quarto (the staged notebook copies, engine records, path handling)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from publish_project import ARD_MIME, INDEX, RESULTS, ROWS, build_stage
from trialsupp.ard.audit import audit_html
from trialsupp.pipeline.stage import stage_notebooks, write_shown_store
from trialsupp.publish import PublishError, engine_versions, resolve_engine
from trialsupp.publish.embed import NO_TABLE_PROCESSING, display_copy, embed_cell
from trialsupp.publish.quarto import publish_quarto, quarto_available

needs_quarto = pytest.mark.skipif(not quarto_available(), reason="quarto (>= 1.5) is not on PATH; "
                                  "CI installs it with ../shared/tools/quarto/install.sh")
HTTP = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?https?://""", re.I)


# ---- staged notebook copies (no Quarto needed) -----------------------------

def _notebook_with_everything(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    md = "```{=html}\n<table class=\"ts-table\"><tr><td>1</td></tr></table>\n```\n\n```{=typst}\n#table()\n```\n"
    nb.cells = [
        nbformat.v4.new_code_cell("#| label: tbl-x\n#| tbl-cap: X\nshow()", execution_count=1, outputs=[
            nbformat.v4.new_output("display_data", data={ARD_MIME: {"rows": [{"id": "x.a"}]}}),
            nbformat.v4.new_output("display_data", data={"text/markdown": md, "text/html": "<table/>",
                                                         "text/plain": "<Table>"}),
        ]),
        nbformat.v4.new_code_cell("#| label: fig-y\n#| fig-cap: Y\nshow()", execution_count=2, outputs=[
            nbformat.v4.new_output("display_data", data={ARD_MIME: {"rows": [{"id": "y.b"}, {"id": "y.c"}]}}),
            nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg/>"},
                                   metadata={"trialsupp": {"ard_ids": ["y.a"]}}),
            nbformat.v4.new_output("display_data", data={"text/markdown": "Legend of Y."}),
        ]),
        nbformat.v4.new_code_cell("widget()", execution_count=3, outputs=[
            nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {},
                                                         "application/javascript": "define()"}),
        ]),
    ]
    nbformat.write(nb, str(path))


def test_display_copy_keeps_only_what_the_report_shows(tmp_path):
    """Defects 1 and 9: the ARD payload printed "Unable to display output for mime type(s)"
    (and made figures sub-figures); text/html and widget outputs made Quarto load
    RequireJS and jQuery from a CDN."""
    src, dest = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    _notebook_with_everything(src)
    shown = display_copy(src, dest)
    nb = json.loads(dest.read_text())
    mimes = [sorted(o.get("data", {})) for c in nb["cells"] for o in c["outputs"]]
    assert mimes == [["text/markdown"], ["image/svg+xml"]]
    assert "widgets" not in nb["metadata"]
    assert NO_TABLE_PROCESSING in nb["cells"][0]["outputs"][0]["data"]["text/markdown"]
    # the legend after the image joins the image output: one output per figure cell
    assert shown == {"fig-y": {"ard_ids": ["y.b", "y.c", "y.a"], "after": "Legend of Y."}}
    assert nb["cells"][1]["outputs"][0]["metadata"]["trialsupp"]["after"] == "Legend of Y."
    # the built-in publisher reads the same ids from the copy as from the original
    for label in ("tbl-x", "fig-y"):
        copy, orig = (embed_cell(p, label, media_dir=tmp_path / "m") for p in (dest, src))
        assert copy.ard_ids == orig.ard_ids
        assert copy.markdown.replace(NO_TABLE_PROCESSING + "\n", "") == orig.markdown


def test_engine_records(monkeypatch):
    """Defect 11: run.json says which engine, and which version, made the output."""
    info = engine_versions("builtin")
    assert info["name"] == "builtin" and re.match(r"\d+\.\d+", info["pandoc"]) and re.match(r"\d", info["typst"])
    assert resolve_engine("builtin") == "builtin"
    monkeypatch.setattr("trialsupp.publish.quarto.quarto_available", lambda *a, **k: False)
    assert resolve_engine("auto") == "builtin"
    with pytest.raises(PublishError, match="not on PATH"):
        resolve_engine("quarto")


def test_verify_uses_the_recorded_engine(monkeypatch):
    from trialsupp.pipeline.verify import recorded_engine
    monkeypatch.setattr("trialsupp.publish.quarto.quarto_available", lambda *a, **k: False)
    assert recorded_engine({"engine": {"name": "builtin"}}, None) == "builtin"
    with pytest.raises(PublishError, match=r"published with Quarto 1\.10\.18, which is not on PATH"):
        recorded_engine({"engine": {"name": "quarto", "quarto": "1.10.18"}}, None)
    assert recorded_engine({"engine": {"name": "quarto"}}, "builtin") == "builtin"


# ---- Quarto renders of a small staged project -------------------------------

QUARTO_INDEX = INDEX.replace('''  footer: "© 2025 Doe J et al. JAMA Network Open."''', '''  footer: "© 2025 Doe J et al. JAMA Network Open."
  csr: true
  protocol: "DEMO-01"''') + """
# eReferences

1. Rubin DB. *Multiple Imputation for Nonresponse in Surveys*. John Wiley & Sons; 1987.
"""
# elements in order of first citation (Quarto numbers by appearance)
QUARTO_RESULTS = RESULTS.replace("#tbl-ae >}}\n\n{{< embed ../../notebooks/demo/tables.ipynb#tbl-baseline",
                                 "#tbl-baseline >}}\n\n{{< embed ../../notebooks/demo/tables.ipynb#tbl-ae")


LEGEND = ("```{=html}\n<p class=\"ts-figure-legend\">Tick marks show censoring.</p>\n```\n\n"
          "```{=typst}\n#block(text(size: 8pt)[Tick marks show censoring.])\n```\n")


def quarto_stage(root: Path) -> Path:
    """The demo project staged as ``trialsupp render`` stages it: display copies of the
    notebooks, floats.json, run.json, the study's map merged into _quarto.yml."""
    stage = build_stage(root, index=QUARTO_INDEX, results=QUARTO_RESULTS)
    nb_dir = stage / "notebooks" / "demo"
    nb = nbformat.read(str(nb_dir / "tables.ipynb"), as_version=4)
    km = next(c for c in nb.cells if "label: fig-km" in c.source)
    km.outputs.append(nbformat.v4.new_output("display_data", data={"text/markdown": LEGEND}))
    nbformat.write(nb, str(nb_dir / "tables.ipynb"))
    original = root / "executed"
    shutil.copytree(nb_dir, original)
    shutil.rmtree(nb_dir)
    stage_notebooks(sorted(original.glob("*.ipynb")), nb_dir, stage / "report" / "demo" / "_results")
    (stage / "report" / "demo" / "_results" / "run.json").write_text(json.dumps({"started": "2025-01-15T10:20:30+00:00"}))
    write_shown_store(stage, stage / "report" / "demo" / "index.qmd")
    cfg = yaml.safe_load((stage / "_quarto.yml").read_text())
    cfg["trialsupp"].update({"heading": "Supplementary Online Content",
                             "statement": "Project statement from the study config."})
    (stage / "_quarto.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return stage


@pytest.fixture(scope="module")
def quarto_out(tmp_path_factory):
    if not quarto_available():
        pytest.skip("quarto (>= 1.5) is not on PATH; CI installs it with ../shared/tools/quarto/install.sh")
    root = tmp_path_factory.mktemp("quarto")
    stage = quarto_stage(root)
    files = publish_quarto(stage, "report/demo/index.qmd", out_dir=root / "out")
    html = files["html"].read_text(encoding="utf-8")
    pdf = subprocess.run(["pdftotext", "-layout", str(files["pdf"]), "-"], capture_output=True,
                         text=True, check=True).stdout
    return stage, files, html, pdf


@needs_quarto
def test_no_undisplayable_output_and_no_subfigures(quarto_out):
    _, _, html, pdf = quarto_out
    assert "Unable to display output" not in html and "Unable to display output" not in pdf
    assert "eFigure 1a" not in html and "(a)" not in pdf
    # a figure cell with an image and a legend is one figure, legend under the image
    assert 'id="fig-km-1"' not in html and 'id="fig-km-2"' not in html
    assert html.count("Tick marks show censoring.") == 1 and pdf.count("Tick marks show censoring.") == 1
    assert html.count('class="ts-source"') == 3


@needs_quarto
def test_caption_delimiter_is_a_full_stop(quarto_out):
    """Defect 2: Quarto rewrote title-delim "." as a path ("eTable 1../..")."""
    _, _, html, pdf = quarto_out
    assert "../.." not in html
    assert re.search(r"eTable 1\.\s+Baseline Characteristics", html)
    assert re.search(r"eTable 1\.\s+Baseline Characteristics", pdf)


@needs_quarto
def test_front_matter_map_merges_with_project_map(quarto_out):
    """Defect 3: the report's `trialsupp:` map replaced the staged project map."""
    _, _, html, pdf = quarto_out
    assert "Doe J, Roe R. Demo of a supplement." in html          # front matter
    assert "Project statement from the study config." in html     # project map
    assert "Project statement from the study config." in pdf


@needs_quarto
def test_pdf_footer_has_run_date_and_time(quarto_out):
    """Defect 4."""
    _, _, _, pdf = quarto_out
    assert "Run: 2025-01-15 10:20 UTC" in pdf


@needs_quarto
def test_html_has_the_jama_front_block(quarto_out):
    """Defect 5: heading, citation, simulated-data box, contents with the elements, statement."""
    _, _, html, _ = quarto_out
    front = html[html.index('<header class="ts-front">'):html.index("</header>")]
    assert "Supplementary Online Content" in front and "Doe J, Roe R." in front
    assert 'class="ts-simulated"' in front and "Simulated data." in front
    assert re.search(r'<a href="#tbl-baseline">eTable 1\. Baseline Characteristics', front)
    assert re.search(r'<a href="#fig-km">eFigure 1\. Kaplan-Meier', front)
    assert 'class="ts-statement"' in front
    assert 'id="title-block-header"' not in html


@needs_quarto
def test_audit_is_clean(quarto_out):
    """Defect 6: eReferences outside a <section> and the subtitle were unbound numbers."""
    stage, _, html, _ = quarto_out
    store = json.loads((stage / "report" / "demo" / "_results" / "ard.json").read_text())
    assert '<section id="ereferences"' in html
    unbound = [u.line() for u in audit_html(html, pd.DataFrame(store["rows"]))]
    # the demo tables print unbound numbers on purpose; the references are exempt
    assert unbound and not [u for u in unbound if "1987" in u or "Surveys" in u]


@needs_quarto
def test_source_lines_and_notebook_links(quarto_out):
    """Defect 7: no source line in the PDF, no notebook link in the HTML, and
    data-notebook attributes pointing into the (deleted) build folder."""
    stage, _, html, pdf = quarto_out
    assert "data-notebook" not in html and str(stage) not in html
    assert ('Source: <a href="notebooks/tables.html#tbl-baseline">notebooks/demo/tables.ipynb</a>, '
            "cell tbl-baseline; ARD ids <code>baseline.*</code>") in html
    assert "Source: notebooks/demo/tables.ipynb, cell fig-km; ARD ids km.*" in pdf


@needs_quarto
def test_nothing_loaded_from_the_network(quarto_out):
    """Defect 9: jQuery and RequireJS came from cdn.jsdelivr.net."""
    _, _, html, _ = quarto_out
    assert not HTTP.search(html)
    assert "require.min.js" not in html and "jquery" not in html.lower()


@needs_quarto
def test_provenance_blob_holds_the_displayed_rows(quarto_out):
    """Defect 10 (size): only the rows the page shows are embedded, once."""
    _, _, html, _ = quarto_out
    assert html.count('<script type="application/json" id="ts-ard">{') == 1
    blob = re.search(r'<script type="application/json" id="ts-ard">(.*?)</script>', html, re.S).group(1)
    ids = {r["id"] for r in json.loads(blob)["rows"]}
    page = html[:html.index('id="ts-ard"')]
    shown = {i for attr in re.findall(r'data-ard="([^"]+)"', page) for i in attr.split()}
    known = {r["id"] for r in ROWS}
    assert ids == shown & known and "fig-km.hr.estimate" in ids and "tbl-baseline.age.active.mean" in ids
    assert "</script><b>" not in blob


def test_shown_store_holds_the_rows_the_report_can_show(tmp_path):
    """Defect 10 (time): the Lua filters parse ard-shown.json, not the whole store, and the
    ard shortcode only the formatted values (ard-values.json)."""
    stage = quarto_stage(tmp_path)
    results = stage / "report" / "demo" / "_results"
    shown = json.loads((results / "ard-shown.json").read_text())
    assert {r["id"] for r in shown["rows"]} == {"fig-km.hr.estimate", "tbl-baseline.age.placebo.mean",
                                                "tbl-baseline.age.placebo.sd", "tbl-baseline.age.active.mean"}
    values = json.loads((results / "ard-values.json").read_text())
    assert values == {r["id"]: r["stat_fmt"] for r in ROWS if r["id"] in values} and len(values) == 4


@needs_quarto
def test_html_is_finished_after_quarto_as_the_builtin_publisher_finishes_it(quarto_out, tmp_path):
    """Defect 10 (time): Quarto renders the HTML without embedding and without the 1 MB
    provenance blob (both cost it a second parse of the page and a Pandoc run); the page
    is made self-contained afterwards, with the built-in publisher's blob."""
    from trialsupp.publish.provenance import load_store, provenance_html
    stage, files, html, _ = quarto_out
    assert "trialsupp:provenance" not in html and not (files["html"].parent / "index_files").exists()
    assert '<link rel="stylesheet"' not in html and "_files/" not in html
    assert "--ts-ink" in html                                              # jama.css, inlined
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert imgs and all('src="data:image/' in i and 'role="img"' in i for i in imgs)
    assert "&nbsp;" not in html and "eTable\u00a01" in html                # characters, as Pandoc writes them
    store = load_store(stage / "report" / "demo" / "_results" / "ard-shown.json")
    js = (stage / "_extensions" / "trialsupp" / "provenance.js").read_text(encoding="utf-8")
    shown = {i for attr in re.findall(r'data-ard="([^"]+)"', html[:html.index('id="ts-ard"')]) for i in attr.split()}
    assert provenance_html(store, js, ids=shown).rstrip("\n") in html


def test_html_render_asks_quarto_for_no_embedding_and_no_blob(tmp_path, monkeypatch):
    """The HTML process gets `-M embed-resources:false -M trialsupp-provenance:after-render`
    (the Typst one nothing more); the native `quarto render` keeps both in Quarto."""
    from trialsupp.publish import quarto as Q
    seen = []

    class Done:
        returncode = 0
        def __init__(self, cmd, **kw):
            seen.append(cmd)
        def communicate(self, timeout=None):
            return "", ""
    monkeypatch.setattr(Q.subprocess, "Popen", Done)
    Q._run_quarto("quarto", [(tmp_path, ["html"]), (tmp_path, ["typst"])], Path("r/index.qmd"), None, {}, 10)
    assert seen[0][-4:] == list(Q.HTML_ARGS) and "-M" not in seen[1]


def test_inline_resources_writes_what_pandoc_embeds(tmp_path):
    """The Quarto page is made self-contained as Pandoc's --embed-resources does it (Pandoc
    itself is the reference); a local reference that is missing is an error."""
    import base64
    import pypandoc
    from trialsupp.publish.inline import inline_resources
    (tmp_path / "s.css").write_text("p { color: red; }\n")
    (tmp_path / "j.js").write_text("var x = 1;\n")
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "a.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    (tmp_path / "b.png").write_bytes(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="))
    page = ('<html><head><link rel="stylesheet" href="s.css"><script src="j.js"></script></head><body>'
            '<p>eTable&nbsp;1 &amp; it&#39;s the trial\'s</p><img src="f/a.svg" alt="x">'
            '<img src="b.png" alt="y" class="c"><img src="data:image/png;base64,AA=="></body></html>')
    (tmp_path / "t.html").write_text("$body$\n")
    expected = pypandoc.convert_text("````````{=html}\n" + page + "\n````````\n", "html", format="markdown",
                                     extra_args=["--embed-resources", f"--template={tmp_path / 't.html'}",
                                                 f"--resource-path={tmp_path}"])
    got, used = inline_resources(page, [tmp_path / "nowhere", tmp_path])
    assert got.strip() == expected.strip()
    assert sorted(p.name for p in used) == ["a.svg", "b.png", "j.js", "s.css"]
    with pytest.raises(PublishError, match="missing.svg"):
        inline_resources('<img src="missing.svg">', [tmp_path])
    remote = '<img src="https://example.org/x.png">'           # not fetched; left for the tests to find
    assert inline_resources(remote, [tmp_path])[0] == '<img role="img" src="https://example.org/x.png">'


@needs_quarto
def test_entry_path_with_dotdot(tmp_path):
    """Defect 8: `--out ../x` crashed ("is not in the subpath of"): paths are normalised."""
    stage = quarto_stage(tmp_path / "a")
    odd = tmp_path / "a" / ".." / "a" / "stage"
    files = publish_quarto(odd, odd / "report" / "demo" / "index.qmd", formats=("html",),
                           out_dir=tmp_path / "b" / ".." / "out")
    assert files["html"].is_file() and set(files) == {"html"}


# ---- trialsupp's shortcodes written out before Quarto runs (defect 10, time) ----

EXTRA = "Run: {{< ard fig-km.hr.estimate >}}.\n"


def _prefill_stage(root: Path) -> Path:
    stage = quarto_stage(root)
    report = stage / "report" / "demo"
    (report / "_results" / "extra.qmd").write_text(EXTRA, encoding="utf-8")
    index = report / "index.qmd"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "{{< include _results.qmd >}}", "{{< results extra >}}\n\n{{< include _results.qmd >}}"), encoding="utf-8")
    return stage


def test_prefill_writes_the_values_into_a_copy_of_the_report(tmp_path):
    """The Quarto build's report has its ard values, results files and page breaks written out
    per format (as the built-in publisher writes a value, as Quarto's pagebreak prints), in
    files of its own: the hard-linked originals are left as they were."""
    from trialsupp.publish.prefill import prefill_report
    from trialsupp.publish.quarto import _ard_values, _link_copy
    stage = _prefill_stage(tmp_path)
    report = stage / "report" / "demo"
    before = {p.name: p.read_text() for p in report.glob("*.qmd")}
    value = _ard_values(report / "_results")
    span = '`<span class="ts-stat" data-ard="fig-km.hr.estimate" tabindex="0">0.65 (95% CI, 0.51-0.80)</span>`{=html}'
    for fmt, shown, brk in (("html", span, '```{=html}\n<div style="page-break-after: always;"></div>\n```'),
                            ("typst", r"0\.65 \(95\% CI, 0\.51\-0\.80\)", "```{=typst}\n#pagebreak()\n```")):
        copy = _link_copy(stage, f".quarto-{fmt}")
        done = prefill_report(copy / "report" / "demo" / "index.qmd", copy, fmt, value)
        assert sorted(p.name for p in done) == ["_results.qmd", "index.qmd"]
        index = (copy / "report" / "demo" / "index.qmd").read_text()
        results = (copy / "report" / "demo" / "_results.qmd").read_text()
        assert f"The hazard ratio was\n{shown}." in index
        assert f"Run: {shown}." in index
        assert "{{< include _results.qmd >}}" in index and "{{< results" not in index
        assert brk in results and "{{< pagebreak" not in results
        assert "{{{< ard ID >}}}" in results and "{{< embed ../../notebooks/demo/tables.ipynb#fig-km >}}" in results
        assert "title:" in index.split("---")[1]                                        # front matter kept
    assert {p.name: p.read_text() for p in report.glob("*.qmd")} == before
    code = stage / "code.qmd"                          # code spans and fenced blocks: Quarto's
    code.write_text("In code `{{< ard fig-km.hr.estimate >}}`.\n\n```\n{{< ard fig-km.hr.estimate >}}\n```\n")
    assert prefill_report(code, stage, "typst", value) == []
    bad = stage / "bad.qmd"
    bad.write_text("x\n\nSee {{< ard no.such.id >}}.\n")
    with pytest.raises(PublishError, match=r"bad\.qmd:3: unknown ARD id 'no\.such\.id'"):
        prefill_report(bad, stage, "typst", value)


@needs_quarto
def test_prefilled_report_renders_as_the_shortcodes_do(tmp_path, monkeypatch):
    """The same supplement with the shortcodes written out as with Quarto running them
    (ard.lua, its results shortcode, Quarto's pagebreak): HTML text and ARD bindings, PDF text."""
    from trialsupp.publish import quarto as Q

    def render(name):
        stage = _prefill_stage(tmp_path / name)
        files = publish_quarto(stage, "report/demo/index.qmd", out_dir=tmp_path / name / "out")
        page = files["html"].read_text(encoding="utf-8")
        body = re.sub(r"<script\b.*?</script>", "", page, flags=re.S)
        pdf = subprocess.run(["pdftotext", "-layout", str(files["pdf"]), "-"], capture_output=True,
                             text=True, check=True).stdout
        return re.sub(r"<[^>]+>", " ", body).split(), re.findall(r'data-ard="([^"]+)"', body), pdf

    prefilled = render("prefilled")
    monkeypatch.setattr(Q, "prefill_report", lambda *a, **k: [])
    assert render("shortcodes") == prefilled
    assert prefilled[2].count("0.65 (95% CI, 0.51-0.80)") == 2      # the text and the results file
