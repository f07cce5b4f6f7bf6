"""`trialsupp new` end to end, no hand-written line: the CDISC pilot ADaM as a CSR appendix
(HTML + PDF + RTF) and the simulated VALOR ADaM as a JAMA supplement (HTML + PDF); each
renders, `trialsupp audit` finds 0 unbound numbers and `trialsupp verify` reproduces it.
Numbers are checked against independent pandas computations and the R reference."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from trialsupp.data.io import read_dataset
from trialsupp.scaffold import new_project

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests/reference/tlg/tlg_reference.json").read_text())
ARMS = ["Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"]


def _cli(args, cwd, tmp):
    env = {k: v for k, v in os.environ.items() if k != "TRIALSUPP_PROJECT"}   # the project is cwd's
    env["TRIALSUPP_CACHE"] = str(tmp / "cache")
    res = subprocess.run([sys.executable, "-m", "trialsupp.cli", *args], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=3600)
    return res.returncode, res.stdout + res.stderr


def _project(tmp, adam, layout, study=None):
    proj = tmp / "proj"
    res = new_project(proj, adam, layout=layout, study=study, echo=lambda _: None)
    rc, log = _cli(["render", "--engine", "builtin", "--quiet"], proj, tmp)
    assert rc == 0, log[-4000:]
    out = proj / "_output" / res["study"]
    rows = json.loads((out / "ard.json").read_text())["rows"]
    return {"proj": proj, "out": out, "rows": rows, "study": res["study"], "tmp": tmp}


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    return _project(tmp_path_factory.mktemp("pilot"), ROOT / "data" / "cdiscpilot01", "csr")


@pytest.fixture(scope="module")
def valor(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("valor")
    env = {k: v for k, v in os.environ.items() if k != "TRIALSUPP_PROJECT"}
    subprocess.run([sys.executable, "-m", "trialsupp.cli", "simulate", "--study", "valor", "--out", str(tmp / "adam")],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    return _project(tmp, tmp / "adam", "jama")


def _rows(rows, output=None, **where):
    """Rows of the output labelled ``output`` (ids start with the label stem; the store's
    output_id is the element number, "eTable 1") matching ``where``."""
    stem = output.split("-", 1)[1] + "." if output else ""
    return [r for r in rows if r["id"].startswith(stem) and all(r.get(k) == v for k, v in where.items())]


@pytest.mark.parametrize("which", ["pilot", "valor"])
def test_renders_with_the_standard_outputs(which, request):
    p = request.getfixturevalue(which)
    html = (p["out"] / "supplement.html").read_text(encoding="utf-8")
    assert (p["out"] / "supplement.pdf").stat().st_size > 20_000
    # the CSR layout numbers its outputs as appendix 14 (14-1 disposition, 14-2 demographics, 14-3
    # efficacy/time to event, 14-4 exposure, 14-5 AEs, 14-6 laboratory, 14-7 vital signs)
    need = (["t-14-2-01", "t-14-5-01", "t-14-5-02", "t-14-6-01", "f-14-3-01"] if which == "pilot" else
            ["tbl-demographics", "tbl-ae-overview", "tbl-ae-soc-pt", "tbl-adlb-by-visit", "fig-km-dthpv"])
    for label in need:
        if which == "pilot":    # CSR outputs are sections "Table 14-2.01 ..." (not Quarto cross-references)
            kind = "figure" if label.startswith("f-") else "table"
            assert f'id="{kind}-{label[2:6]}.{label[7:]}-' in html, label
        else:
            assert f'id="{label}"' in html, label
        assert _rows(p["rows"], label), label
    km = "f-14-3-01" if which == "pilot" else "fig-km-dthpv"
    assert len(_rows(p["rows"], km, stat_name="n_risk")) >= 8        # numbers at risk drawn
    if which == "pilot":
        for heading in ("14-2 Demographic and Baseline Characteristics", "Table 14-5.02 Adverse Events by System",
                        "Table 14-6.01 ADLBC: Summary by Visit", "Table 14-7.01 ADVS", "Figure 14-3.01 Kaplan-Meier"):
            assert heading in html, heading
        assert "Table 1:" not in html
        rtf = sorted(f.stem for f in (p["out"] / "rtf").glob("*.rtf"))
        assert {"t-14-2-01", "t-14-5-01", "t-14-5-02", "t-14-6-01"} <= set(rtf)
        text = (p["out"] / "rtf" / "t-14-2-01.rtf").read_text(encoding="ascii")
        assert "Protocol: CDISCPILOT01" in text and "Table 14-2.01" in text
    else:
        assert "Simulated data." in html


@pytest.mark.parametrize("which", ["pilot", "valor"])
def test_audit_finds_no_unbound_number_and_verify_reproduces(which, request):
    p = request.getfixturevalue(which)
    rc, log = _cli(["audit"], p["proj"], p["tmp"])
    assert rc == 0 and "0 unbound number(s)" in log, log[-3000:]
    rc, log = _cli(["verify"], p["proj"], p["tmp"])
    assert rc == 0 and "reproduced" in log, log[-3000:]


def test_pilot_numbers_equal_independent_computations(pilot):
    adsl = read_dataset(ROOT / "data" / "cdiscpilot01" / "adsl.xpt")
    itt = adsl[adsl["ITTFL"] == "Y"]
    rows = pilot["rows"]
    for arm, g in itt.groupby("TRT01P"):
        mean = _rows(rows, output="t-14-2-01", variable="AGE", group1_level=arm, stat_name="mean")
        assert len(mean) == 1 and mean[0]["stat"] == pytest.approx(g["AGE"].mean(), rel=1e-12)
        assert mean[0]["stat_fmt"] == f"{round(g['AGE'].mean() + 1e-12, 1):.1f}"
    for arm in ARMS:
        anyae = _rows(rows, output="t-14-5-02", variable="ANYAE", group1_level=arm, stat_name="n")
        assert anyae[0]["stat"] == REF["ae"]["any"][arm]
    html = (pilot["out"] / "supplement.html").read_text(encoding="utf-8")
    assert f'data-ard="{mean[0]["id"]}"' in html


def test_valor_numbers_equal_independent_computations(valor):
    adam = valor["tmp"] / "adam"
    adsl = pd.read_parquet(adam / "adsl.parquet")
    adae = pd.read_parquet(adam / "adae.parquet")
    saf = adsl[adsl["SAFFL"] == "Y"]
    te = adae[(adae["TRTEMFL"] == "Y") & adae["USUBJID"].isin(saf["USUBJID"])]
    arm = te.merge(saf[["USUBJID", "TRT01A"]], on="USUBJID")
    for a, g in saf.groupby("TRT01A"):
        n = arm[arm["TRT01A"] == a]["USUBJID"].nunique()
        got = _rows(valor["rows"], output="tbl-ae-overview", variable="AECAT",
                    variable_level="Any adverse event", group1_level=a, stat_name="n")
        assert got[0]["stat"] == n
        N = _rows(valor["rows"], output="tbl-ae-overview", variable="TRT01A", variable_level=a, stat_name="n")
        assert N[0]["stat"] == len(g)


def _layout_module(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(f"_ts_layout_{name}", ROOT / "tests" / "layout" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod            # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("which", ["pilot", "valor"])
def test_layout_check_of_a_new_project(which, request):
    """The layout check of tests/layout on a project made by `trialsupp new` (issue 16): no
    statistic broken across lines, no heading or caption last on a page, no text outside the text
    column; CSR: running headers that follow the outputs; every RTF page has its column headings,
    "Page x of y" and the run date/time in LibreOffice."""
    import re
    import shutil
    L = _layout_module("pdf_layout")
    if not L.have_poppler():
        pytest.skip("poppler-utils (pdftotext) not installed")
    p = request.getfixturevalue(which)
    pdf = p["out"] / "supplement.pdf"
    pages = L.read_pages(pdf)
    heads = L.outline_titles(pdf)
    faults = [f for pg in pages for f in L.broken_numbers(pg) + L.stranded(pg, heads) + L.overflow(pg)]
    assert faults == [], faults[:10]
    if which != "pilot":
        return
    # CSR: every table and figure starts a page; the running header names it and counts its pages
    assert L.csr_header_faults(pages, appendices=()) == []
    rtfs = sorted((p["out"] / "rtf").glob("*.rtf"))
    starts = [h[0] for h in map(L.csr_output_header, pages) if h and h[2] == 1]
    # each output's first page names it by its CSR number, in the report's order
    report = (p["proj"] / "report" / p["study"] / "index.qmd").read_text(encoding="utf-8")
    labels = re.findall(r"\.ipynb#([tf])-14-(\d+)-(\d+) >\}\}", report)
    expected = [f"{'Table' if k == 't' else 'Figure'} 14-{a}.{b}" for k, a, b in labels]
    assert starts == expected and len(expected) >= len(rtfs) > 5, (starts, expected)
    R = _layout_module("rtf_pdf")
    if not R.soffice():
        pytest.skip("LibreOffice (soffice) not installed")
    started = json.loads((p["out"] / "run.json").read_text())["started"]
    stamp = f"Run: {started[:10]} {started[11:16]} UTC"
    converted = R.convert_all(rtfs, p["tmp"] / "rtf-pdf")
    for rtf, out in converted.items():
        sections = R.header_cells(rtf.read_text(encoding="ascii"))
        assert sections and all(sections), rtf.name
        rpages = L.read_pages(out)
        for pg in rpages:
            words = set(pg.text.split())
            missing = min(([h for h in hs if any(w not in words for w in h.split())] for hs in sections), key=len)
            assert missing == [], f"{rtf.name} page {pg.number}: column heading(s) {missing} missing"
            assert re.search(rf"Page {pg.number} of {len(rpages)}", pg.text), f"{rtf.name} page {pg.number}"
            assert pg.number == 1 or "(continued)" in pg.text, f"{rtf.name} page {pg.number}: no (continued)"
            assert stamp in pg.text, f"{rtf.name} page {pg.number}: no {stamp!r}"
            faults += [f"{rtf.name} {x}" for x in L.broken_numbers(pg) + L.overflow(pg)]
    assert faults == [], faults[:10]
    shutil.rmtree(p["tmp"] / "rtf-pdf", ignore_errors=True)
