"""`trialsupp export ars`: the results store as a CDISC ARS 1.0 ReportingEvent, validated
against the official ARS 1.0 JSON schema (tests/reference/ars/, see SOURCE.md there)."""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from trialsupp.cli import main
from trialsupp.export.ars import EXTENSION_KEY, raw_value

pytestmark = pytest.mark.slow
SCHEMA = json.loads((Path(__file__).parents[1] / "reference" / "ars" / "ars_ldm.json").read_text())


@pytest.fixture(scope="module")
def ars(valor_render, tmp_path_factory):
    target = tmp_path_factory.mktemp("ars") / "valor-ars.json"
    assert main(["export", "ars", "--out", str(valor_render.out), "--to", str(target)]) == 0
    doc = json.loads(target.read_text(encoding="utf-8"))
    rows = json.loads((valor_render.out / "ard.json").read_text(encoding="utf-8"))["rows"]
    return doc, [r for r in rows if r["context"] != "parameter"]


def test_schema_is_the_ars_1_0_model():
    assert SCHEMA["$id"] == "https://www.cdisc.org/ars/1-0"
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_reporting_event_validates_against_ars_1_0(ars):
    doc, _rows = ars
    errors = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]]


def test_validation_catches_a_broken_result(ars):
    doc, _rows = ars
    bad = copy.deepcopy(doc)
    del bad["analyses"][0]["results"][0]["operationId"]
    bad["analyses"][1]["results"][0]["rawValue"] = 1.5          # ARS rawValue is a string
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(bad))
    assert len(errors) == 2


def test_every_ard_row_is_one_operation_result_with_raw_and_formatted_value(ars):
    doc, rows = ars
    results = {(a["id"], i): r for a in doc["analyses"] for i, r in enumerate(a["results"])}
    ext = doc[EXTENSION_KEY]["results"]
    assert len(results) == len(rows) == len(ext)
    by_id = {r["id"]: r for r in rows}
    ops = {o["id"] for m in doc["methods"] for o in m["operations"]}
    for entry in ext:
        row, res = by_id[entry["ardId"]], results[(entry["analysisId"], entry["resultIndex"])]
        assert res["formattedValue"] == (row["stat_fmt"] or "")
        assert res.get("rawValue") == raw_value(row["stat"])
        if isinstance(row["stat"], float):
            assert float(res["rawValue"]) == row["stat"]            # full precision, not the display
        assert res["operationId"] in ops


def test_analyses_reference_defined_sets_groupings_and_methods(ars):
    doc, _rows = ars
    sets = {s["id"] for s in doc["analysisSets"]}
    groupings = {g["id"]: {x["id"] for x in g.get("groups", [])}
                 for g in doc["analysisGroupings"] + doc["dataGroupings"]}
    methods = {m["id"] for m in doc["methods"]}
    planned = {i["analysisId"] for i in doc["listOfPlannedAnalyses"]["listItems"]}
    for a in doc["analyses"]:
        assert a["methodId"] in methods and a["id"] in planned
        assert a.get("analysisSetId", next(iter(sets))) in sets
        for res in a["results"]:
            for g in res.get("resultGroups", []):
                assert g["groupingId"] in groupings
                assert "groupValue" in g or g["groupId"] in groupings[g["groupingId"]]
    assert "AS_itt" in sets
    trt = [g for g in doc["analysisGroupings"] if g["groupingVariable"] == "STARTGR"]
    assert len(trt) == 1 and {x["label"] for x in trt[0]["groups"]} == {"Early start", "Delayed start"}


def test_where_values_appear_page_and_anchor(ars, valor_render):
    """eTable 1's age mean is printed in the HTML element tbl-baseline and on the PDF page
    whose text carries eTable 1's caption."""
    from trialsupp.ard.audit import pdf_pages_text
    doc, rows = ars
    pages = pdf_pages_text(valor_render.out / "supplement.pdf")
    ext = {e["ardId"]: e for e in doc[EXTENSION_KEY]["results"]}
    age = [r for r in rows if r["output_id"] == "eTable 1" and r["variable"] == "AGE" and r["stat_name"] == "mean"]
    assert age
    for r in age:
        places = ext[r["id"]]["places"]
        assert {"file": "supplement.html", "anchor": "#tbl-baseline"} in places
        pdf = [p["page"] for p in places if p["file"] == "supplement.pdf"]
        assert pdf, r["id"]
        text = " ".join(pages[pdf[0] - 1].split())
        assert "eTable 1. Baseline Characteristics" in text and r["stat_fmt"].replace("\u2212", "-") in text.replace("\u2212", "-")
    out = {o["name"]: o for o in doc["outputs"]}["eTable 1"]
    assert out["displays"][0]["display"]["displayTitle"].startswith("eTable 1. Baseline Characteristics")


def test_file_and_input_hashes(ars, valor_render):
    doc, _rows = ars
    ext = doc[EXTENSION_KEY]
    files = {f["name"]: f["sha256"] for f in ext["files"]}
    for name in ("supplement.html", "supplement.pdf", "ard.json"):
        assert files[name] == hashlib.sha256((valor_render.out / name).read_bytes()).hexdigest()
    assert ext["inputs"]["adsl.parquet"] == files["data/adsl.parquet"]


def test_export_without_a_render_is_one_error_line(tmp_path, capsys):
    assert main(["export", "ars", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("trialsupp: error:") and "ard.json" in err[0]


def test_csr_reporting_event(cdisc_render, tmp_path):
    """The CDISC pilot appendix: valid ARS 1.0; each CSR table output lists its PDF pages,
    its HTML section and its RTF and DOCX files."""
    target = tmp_path / "ars.json"
    assert main(["export", "ars", "--out", str(cdisc_render), "--to", str(target)]) == 0
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert not list(jsonschema.Draft7Validator(SCHEMA).iter_errors(doc))
    out = {o["name"]: o for o in doc["outputs"]}["14-3.01"]
    files = {f["name"]: f["fileType"] for f in out["fileSpecifications"]}
    assert files["t-14-3-01.rtf"] == {"controlledTerm": "rtf"} and "t-14-3-01.docx" in files
    refs = {r["referenceDocumentId"]: r["pageRefs"][0] for r in out["documentRefs"]}
    assert refs["DOC_supplement-pdf"]["pageNumbers"]
    from trialsupp.ard.audit import pdf_pages_text
    pages = pdf_pages_text(cdisc_render / "supplement.pdf")
    # page headers keep "Table 14-3.01" together with a no-break space
    assert all("Table 14-3.01" in " ".join(pages[p - 1].replace("\xa0", " ").split())
               for p in refs["DOC_supplement-pdf"]["pageNumbers"])
