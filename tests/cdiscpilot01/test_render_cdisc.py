"""`trialsupp render --study cdiscpilot01` end to end (built-in publisher): numbers checked
against values computed here from the XPT files, RTF per output, zero unbound numbers."""
import json
import re
from decimal import ROUND_HALF_UP, Decimal

import pyreadstat
import pytest
from pypdf import PdfReader


from .test_csr_appendix import _rtf_ok

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cdisc(cdisc_render):
    result = cdisc_render
    rows = json.loads((result.out / "ard.json").read_text())["rows"]
    return result, rows


def _half_away(x, places):      # SAS ROUND, the CSR's rule
    return str(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def test_demographics_age_matches_independent_values(cdisc, project_dir):
    result, rows = cdisc
    adsl, _ = pyreadstat.read_xport(str(project_dir / "data" / "cdiscpilot01" / "adsl.xpt"))
    html = (result.out / "supplement.html").read_text()
    t = [r for r in rows if r["output_id"] == "14-2.01" and r["variable"] == "AGE"]
    for arm, sub in adsl[adsl["ITTFL"] == "Y"].groupby("TRT01P"):
        mean = [r for r in t if r["stat_name"] == "mean" and r["group1_level"] == arm]
        assert len(mean) == 1
        assert mean[0]["stat_fmt"] == _half_away(sub["AGE"].mean(), 1)
        assert f'data-ard="{mean[0]["id"]}"' in html


def test_primary_endpoint_dose_response_p(cdisc):
    _, rows = cdisc
    p = [r for r in rows if r["output_id"] == "14-3.01" and r["stat_name"] == "p.value"
         and "dose" in (r["analysis_id"] + str(r["variable"]) + str(r["context"])).lower()]
    assert p and {r["stat_fmt"] for r in p} == {"0.245"}


def test_rtf_per_output_with_csr_header(cdisc):
    result, _ = cdisc
    files = sorted((result.out / "rtf").glob("*.rtf"))
    assert len(files) >= 20
    for f in files:
        text = f.read_text(encoding="ascii")
        _rtf_ok(text)
        assert "Protocol: CDISCPILOT01" in text and "NUMPAGES" in text, f.name


def test_pdf_pages_carry_output_id_and_page_x_of_y(cdisc):
    result, _ = cdisc
    reader = PdfReader(str(result.out / "supplement.pdf"))
    text = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    n = len(reader.pages)
    assert f"Page 1 of {n}" in text[0] and f"page {n} of {n}" in text[-1].lower()
    # and the page within the output: "Table 14-5.01 (continued) ... Page 2 of 3 (document page 30 of 47)"
    assert any(re.search(r"\(continued\).*Page 2 of \d+ \(document page \d+ of %d\)" % n, t) for t in text)
    assert any("Table 14-3.01" in t and "CDISCPILOT01" in t for t in text)


def test_every_number_is_bound(cdisc):
    result, _ = cdisc
    assert result.unbound == [], [u.line() for u in result.unbound][:20]
