"""The default study end to end: `trialsupp render` of the simulated VALOR/OLE study with the
built-in publisher, checked against values computed here from the rendered data files."""
import json
import re
from decimal import ROUND_HALF_EVEN, Decimal

import pyarrow.parquet as pq
import pytest
from pypdf import PdfReader


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def valor(valor_render):
    result = valor_render
    rows = json.loads((result.out / "ard.json").read_text())["rows"]
    return result, rows


def _half_even(x, places):
    return str(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN))


def _row(rows, **where):
    hits = [r for r in rows if all(r.get(k) == v for k, v in where.items())]
    assert len(hits) == 1, (where, len(hits))
    return hits[0]


def test_outputs_exist(valor):
    result, rows = valor
    names = {p.name for p in result.out.iterdir()}
    assert {"supplement.html", "supplement.pdf", "ard.json", "ard.csv", "run.json", "notebooks", "figures",
            "data"} <= names
    assert len(rows) > 1000


def test_etable1_baseline_numbers_equal_independent_values(valor):
    result, rows = valor
    adsl = pq.read_table(result.out / "data" / "adsl.parquet").to_pandas()
    itt = adsl[adsl["ITTFL"] == "Y"]
    html = (result.out / "supplement.html").read_text()
    baseline = [r for r in rows if r["output_id"] == "eTable 1"]
    assert baseline, "the baseline table is eTable 1"
    for group, sub in itt.groupby("STARTGR"):
        mean = _row(baseline, variable="AGE", stat_name="mean", group1_level=group, group2_level=None)
        assert mean["stat_fmt"] == _half_even(sub["AGE"].mean(), 1)
        assert f'data-ard="{mean["id"]}' in html
        male = _row(baseline, variable="SEX", variable_level="Male", stat_name="n", group1_level=group,
                    group2_level=None)
        assert male["stat"] == int((sub["SEX"] == "M").sum())
        span = re.search(r'data-ard="[^"]*\b' + re.escape(mean["id"]) + r'\b[^"]*" tabindex="0">([^<]*)<', html)
        assert span and mean["stat_fmt"] in span.group(1)


def test_first_page_has_simulated_statement_and_contents(valor):
    result, rows = valor
    reader = PdfReader(str(result.out / "supplement.pdf"))
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Supplementary Online Content" in first
    assert "simulated" in first.lower() and "not the trial" in first.lower()
    outputs = sorted({r["output_id"] for r in rows if re.match(r"e(Table|Figure) \d+$", str(r["output_id"]))})
    assert len(outputs) >= 10
    for element in outputs:
        assert f"{element}." in first, f"{element} missing from the list of contents"
    from trialsupp.study import load_study
    seed = load_study("valor").defaults()["seed"]
    assert f"seed {seed}" in first and "data cut final" in first


def test_every_number_is_bound(valor):
    result, _ = valor
    assert result.unbound == [], [u.line() for u in result.unbound][:20]


def test_no_placeholder_text_in_rendered_outputs(valor):
    """No placeholder left in the rendered HTML and PDF text (issue 18)."""
    import re as _re
    result, _ = valor
    html = _re.sub(r"<[^>]+>", " ", (result.out / "supplement.html").read_text()).lower()
    pdf = " ".join(p.extract_text() for p in PdfReader(str(result.out / "supplement.pdf")).pages).lower()
    for text in (html, pdf):
        for word in ("placeholder", "to be completed", "todo", "[authors"):
            assert word not in text, word
    assert "Provenance" in (result.out / "supplement.html").read_text()
    assert "provenance" in pdf and "ereferences" in pdf
