"""Quarto and the built-in publisher give the same supplement (issue 15), for both studies:
the same elements, numbering and captions; the same first page; the same provenance
(popups, source lines, notebook links, run stamp); a clean audit; nothing loaded from
the network; no console error in Chromium. Renders are shared through the session
fixture ``study_render`` (tests/conftest.py); the Quarto ones are skipped only when
``quarto`` is not on PATH (CI installs it)."""
from __future__ import annotations

import html as htmllib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trialsupp.pipeline.verify import displayed_values

pytestmark = pytest.mark.slow
STUDIES = ["valor", "cdiscpilot01"]
HTTP = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*["']?https?://""", re.I)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def front_block(page: str) -> str:
    return page[page.index('<header class="ts-front">'):page.index("</header>")]


def float_list(page: str) -> list[tuple[str, str]]:
    """(id, "eTable N. Caption") of the contents' eTable/eFigure lines (nested under the
    eTables/eFigures entries, or in a list of their own when the report has no such sections)."""
    nav = page[page.index('<nav class="ts-contents"'):page.index("</nav>")]
    items = re.findall(r'<li><a href="#((?:tbl|fig)-[^"]+)">(.*?)</a></li>', nav, re.S)
    return [(i, _text(t)) for i, t in items]


def toc(page: str) -> list[tuple[str, str]]:
    nav = page[page.index('<nav class="ts-contents"'):page.index("</nav>")]
    return [(h, _text(t)) for h, t in re.findall(r'<a href="#([^"]+)"[^>]*>(.*?)</a>', nav, re.S)]


def source_links(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<div class="ts-source">\s*<p>Source: <a href="([^"]+)">([^<]+)</a>', page)


def blob_ids(page: str) -> set[str]:
    m = re.search(r'<script type="application/json" id="ts-ard">(\{.*?)</script>', page, re.S)
    return {r["id"] for r in json.loads(m.group(1))["rows"]}


def pdf_text(path: Path, first: int | None = None, last: int | None = None) -> str:
    cmd = ["pdftotext", "-layout"] + (["-f", str(first), "-l", str(last)] if first else []) + [str(path), "-"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def pdf_sources(text: str) -> list[str]:
    """The source lines under elements (JAMA) or in the page footers (CSR), in order, each once."""
    lines = [re.sub(r"\s+", " ", m.group(0)).strip()
             for m in re.finditer(r"Source: notebooks/\S+ cell [\w.-]+", text)]
    return list(dict.fromkeys(lines))


@pytest.fixture(scope="module", params=STUDIES)
def pair(request, study_render):
    builtin = study_render(request.param, "builtin")
    quarto = study_render(request.param, "quarto")
    read = lambda r: (r.files["html"].read_text(encoding="utf-8"), pdf_text(r.files["pdf"]))
    return request.param, builtin, quarto, read(builtin), read(quarto)


def test_engine_recorded(pair):
    _, builtin, quarto, _, _ = pair
    b = json.loads((builtin.out / "run.json").read_text())["engine"]
    q = json.loads((quarto.out / "run.json").read_text())["engine"]
    assert b["name"] == "builtin" and b["pandoc"] and b["typst"]
    assert q["name"] == "quarto" and re.match(r"\d+\.\d+", q["quarto"])


def test_same_elements_numbering_and_captions(pair):
    study, _, _, (bh, bp), (qh, qp) = pair
    assert float_list(qh) == float_list(bh)
    assert toc(qh) == toc(bh)
    if study == "valor":
        assert len(float_list(bh)) >= 15
    for _, caption in float_list(bh):      # every caption is in both PDFs as "eTable N. Title"
        head = caption[:60]
        assert head in re.sub(r"\s+", " ", bp) and head in re.sub(r"\s+", " ", qp), head


def test_same_first_page(pair):
    study, builtin, quarto, (bh, _), (qh, _) = pair
    assert _text(front_block(qh)) == _text(front_block(bh))
    params = lambda page: _text(re.search(r"<p>Parameters of this render:.*?</p>", page, re.S).group(0))
    if "Parameters of this render" in bh:
        assert params(qh) == params(bh)
    b1 = re.sub(r"\s+", " ", pdf_text(builtin.files["pdf"], 1, 1))
    q1 = re.sub(r"\s+", " ", pdf_text(quarto.files["pdf"], 1, 1))
    for needle in ("Supplementary Online Content" if study == "valor" else "Appendix 14",
                   "Contents", "Parameters of this render" if study == "valor" else "Protocol"):
        assert needle in b1 and needle in q1
    if study == "valor":
        for page1 in (b1, q1, _text(front_block(qh))):
            assert "Simulated data." in page1 and "simulated" in page1.lower()
    strip_stamp = lambda t: re.sub(r"(Run: )?\d{4}-\d\d-\d\d \d\d:\d\d UTC|Page \d+ of \d+", "", t)
    assert strip_stamp(q1) == strip_stamp(b1)


def test_same_provenance(pair):
    study, builtin, quarto, (bh, bp), (qh, qp) = pair
    assert displayed_values(qh) == displayed_values(bh)         # every bound number, same text
    assert blob_ids(qh) == blob_ids(bh)                          # the popups' rows
    assert source_links(qh) == source_links(bh)
    for href, _ in source_links(qh):                             # relative, next to the output
        assert not href.startswith(("/", "http")) and (quarto.out / href.split("#")[0]).is_file()
    assert pdf_sources(qp) == pdf_sources(bp) and pdf_sources(qp)
    assert ("Provenance" in _text(bh)) == ("Provenance" in _text(qh))
    for page in (qh,):
        assert "data-notebook" not in page and ".build-" not in page


def test_run_stamp(pair):
    study, builtin, quarto, (_, bp), (_, qp) = pair
    started = json.loads((quarto.out / "run.json").read_text())["started"]
    if study == "cdiscpilot01":        # CSR footers: "Run: YYYY-MM-DD HH:MM UTC" on every page
        stamp = f"Run: {started[:10]} {started[11:16]} UTC"
        assert qp.count(stamp) == qp.count("\f") or qp.count(stamp) >= qp.count("Page ") - 1
        assert bp.count("Run: ") and qp.count("Run: ") >= bp.count("Run: ") - 2
    from pypdf import PdfReader
    for r in (builtin, quarto):
        assert PdfReader(r.files["pdf"]).metadata.get("/CreationDate", "")[2:10] == started[:10].replace("-", "")


def test_audit_clean_and_offline(pair):
    _, builtin, quarto, (bh, _), (qh, _) = pair
    audit = lambda r: json.loads((r.out / "run.json").read_text())["audit_unbound"]
    assert audit(quarto) == audit(builtin)          # the same audit with either engine ...
    assert audit(builtin) == [] and quarto.unbound == []      # ... and nothing unbound
    for page in (bh, qh):
        assert not HTTP.search(page)
        assert "Unable to display output" not in page


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (CI: .ci/run)")
def test_no_console_error_in_chromium(pair):
    playwright = pytest.importorskip("playwright.sync_api")
    _, builtin, quarto, _, _ = pair
    problems = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for r in (builtin, quarto):
                page = browser.new_page()
                page.on("console", lambda m, r=r: m.type in ("error", "warning") and problems.append(
                    f"{r.files['html']}: console {m.type}: {m.text}"))
                page.on("pageerror", lambda e, r=r: problems.append(f"{r.files['html']}: {e}"))
                page.on("request", lambda q, r=r: not q.url.startswith(("file:", "data:", "about:"))
                        and problems.append(f"{r.files['html']}: request {q.url}"))
                page.goto(r.files["html"].resolve().as_uri(), wait_until="load")
                stat = page.locator(".ts-stat").first
                stat.focus()
                page.locator("#ts-pop").wait_for(state="visible", timeout=5000)
                page.close()
        finally:
            browser.close()
    assert problems == []


def test_new_project_same_with_both_engines(tmp_path):
    """A project made by `trialsupp new` (the CDISC pilot ADaM as a CSR appendix) publishes
    the same supplement with Quarto and with the built-in publisher."""
    from trialsupp.publish import quarto_available
    from trialsupp.scaffold import new_project
    if not quarto_available():
        pytest.skip("quarto (>= 1.5) is not on PATH; CI installs it with ../shared/tools/quarto/install.sh")
    root = Path(__file__).resolve().parents[2]
    proj = tmp_path / "proj"
    study = new_project(proj, root / "data" / "cdiscpilot01", layout="csr", echo=lambda _: None)["study"]
    env = {k: v for k, v in os.environ.items() if k != "TRIALSUPP_PROJECT"}
    env["TRIALSUPP_CACHE"] = str(tmp_path / "cache")
    pages = {}
    for engine in ("builtin", "quarto"):
        out = tmp_path / engine
        res = subprocess.run([sys.executable, "-m", "trialsupp.cli", "render", "--engine", engine, "--to", "html,pdf",
                              "--out", str(out), "--quiet"], cwd=proj, env=env, capture_output=True, text=True,
                             timeout=3600)
        assert res.returncode == 0, res.stderr[-3000:]
        pages[engine] = ((out / "supplement.html").read_text(encoding="utf-8"), pdf_text(out / "supplement.pdf"),
                         json.loads((out / "run.json").read_text()))
    (bh, bp, brun), (qh, qp, qrun) = pages["builtin"], pages["quarto"]
    assert study and toc(qh) == toc(bh) and float_list(qh) == float_list(bh)
    assert _text(front_block(qh)) == _text(front_block(bh))
    assert displayed_values(qh) == displayed_values(bh) and displayed_values(bh)
    assert source_links(qh) == source_links(bh) and pdf_sources(qp) == pdf_sources(bp)
    # the HTML audit is the same with either engine; the PDF audit of a new CSR project also
    # lists numbers of other elements on a page (with either engine; page breaks differ)
    html_audit = lambda run: [u for u in run["audit_unbound"] if u.startswith("HTML")]
    assert html_audit(qrun) == html_audit(brun)
    assert not HTTP.search(qh) and qrun["engine"]["name"] == "quarto"
