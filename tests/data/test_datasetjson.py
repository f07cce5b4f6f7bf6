"""CDISC Dataset-JSON 1.1: `trialsupp simulate --format dataset-json` writes files that
validate against the standard's JSON schema (tests/reference/datasetjson/), read back equal
(values, dtypes, labels, keys) and serve as study input alongside XPT and Parquet."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from trialsupp.cli import main
from trialsupp.data.datasetjson import read_datasetjson, write_datasetjson
from trialsupp.data.io import DataError, read_dataset, read_study

REF = Path(__file__).parents[1] / "reference" / "datasetjson"
SCHEMA = json.loads((REF / "dataset.schema.json").read_text())
REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    from studies.valor.simulate.valor import simulate
    out = tmp_path_factory.mktemp("dsj")
    assert main(["simulate", "--seed", "48", "--out", str(out), "--format", "parquet,dataset-json"]) == 0
    return out, simulate(seed=48)


def test_schema_is_dataset_json_1_1():
    jsonschema.Draft201909Validator.check_schema(SCHEMA)
    assert "datasetJSONCreationDateTime" in SCHEMA["required"]
    assert SCHEMA["properties"]["datasetJSONVersion"]["pattern"].startswith("^1.1")


def test_written_files_validate_against_the_schema(simulated):
    out, data = simulated
    validator = jsonschema.Draft201909Validator(SCHEMA)
    for name in data:
        doc = json.loads((out / f"{name.lower()}.json").read_text(encoding="utf-8"))
        errors = list(validator.iter_errors(doc))
        assert not errors, (name, [e.message[:200] for e in errors[:3]])
        assert doc["records"] == len(doc["rows"]) == len(data[name])
        assert doc["datasetJSONVersion"] == "1.1.0" and doc["itemGroupOID"] == f"IG.{name}"


def test_values_follow_each_columns_data_type(simulated):
    out, _data = simulated
    doc = json.loads((out / "adae.json").read_text(encoding="utf-8"))
    check = {"string": lambda v: isinstance(v, str), "integer": lambda v: type(v) is int,
             "double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
             "date": lambda v: isinstance(v, str) and dt.date.fromisoformat(v) is not None}
    for j, col in enumerate(doc["columns"]):
        assert all(r[j] is None or check[col["dataType"]](r[j]) for r in doc["rows"]), col["name"]
        if col["dataType"] == "date":
            assert col["targetDataType"] == "integer" and col["displayFormat"] == "DATE9."
        if col["dataType"] == "string":
            assert col["length"] == max([len(r[j].encode()) for r in doc["rows"] if r[j]] + [1])


def test_round_trip_keeps_values_types_labels_and_keys(simulated):
    out, data = simulated
    for name, df in data.items():
        back = read_datasetjson(out / f"{name.lower()}.json")
        pd.testing.assert_frame_equal(back, pd.DataFrame(df), check_dtype=True, check_exact=True, obj=name)
        assert back.attrs["labels"] == df.attrs["labels"]
        assert back.attrs["label"] == df.attrs["label"]
        assert back.attrs["keys"] == list(df.attrs["keys"])
        assert back.attrs["types"] == df.attrs["types"]


def test_same_seed_same_bytes(simulated, tmp_path):
    out, data = simulated
    write_datasetjson(data["ADSL"], tmp_path / "adsl.json", name="ADSL", types=data["ADSL"].attrs["types"],
                      created=dt.datetime(2024, 8, 31), study="valor")
    assert (tmp_path / "adsl.json").read_bytes() == (out / "adsl.json").read_bytes()


def test_study_input_from_dataset_json_equals_parquet(simulated, tmp_path):
    out, _data = simulated
    for p in out.glob("*.json"):
        (tmp_path / p.name).write_bytes(p.read_bytes())          # define.json too: it is skipped
    from_json = read_study(tmp_path)
    from_parquet = read_study(out, names=sorted(from_json.datasets))
    assert sorted(from_json.datasets) == ["adae", "adeff", "adex", "adlb", "adqs", "adsl", "adtte"]
    assert set(from_json.hashes) == set(from_json.datasets)
    for name, df in from_json.datasets.items():
        pq = from_parquet.datasets[name]
        for col in df.columns:
            a, b = df[col], pq[col]
            if pd.api.types.is_datetime64_any_dtype(a):
                assert (pd.to_datetime(a) == pd.to_datetime(b)).sum() == (a.notna() & b.notna()).sum()
            else:
                assert a.tolist() == b.tolist() or np.allclose(a.astype(float), b.astype(float), equal_nan=True), (name, col)


def test_cdisc_pilot_xpt_to_dataset_json_and_back(tmp_path):
    xpt = read_dataset(REPO / "data" / "cdiscpilot01" / "adsl.xpt")
    write_datasetjson(xpt, tmp_path / "adsl.json", name="ADSL", study="cdiscpilot01")
    doc = json.loads((tmp_path / "adsl.json").read_text(encoding="utf-8"))
    assert not list(jsonschema.Draft201909Validator(SCHEMA).iter_errors(doc))
    back = read_datasetjson(tmp_path / "adsl.json")
    assert back.attrs["labels"] == xpt.attrs["labels"]
    assert back["USUBJID"].tolist() == xpt["USUBJID"].tolist()
    assert np.allclose(back["AGE"].astype(float), xpt["AGE"].astype(float), equal_nan=True)


def test_reads_numeric_sas_dates_written_by_other_tools(tmp_path):
    doc = {"datasetJSONCreationDateTime": "2025-01-01T00:00:00", "datasetJSONVersion": "1.1",
           "itemGroupOID": "IG.ADSL", "records": 2, "name": "ADSL", "label": "Subject-Level",
           "columns": [{"itemOID": "IT.USUBJID", "name": "USUBJID", "label": "Subject", "dataType": "string"},
                       {"itemOID": "IT.TRTSDT", "name": "TRTSDT", "label": "Start", "dataType": "date",
                        "targetDataType": "integer"},
                       {"itemOID": "IT.AGE", "name": "AGE", "label": "Age", "dataType": "integer"}],
           "rows": [["01-001", 22646, 71], ["01-002", None, None]]}
    assert not list(jsonschema.Draft201909Validator(SCHEMA).iter_errors(doc))
    (tmp_path / "adsl.json").write_text(json.dumps(doc))
    df = read_dataset(tmp_path / "adsl.json")
    assert df["TRTSDT"].iloc[0] == pd.Timestamp("2022-01-01")      # 62 y x 365 + 16 leap days and pd.isna(df["TRTSDT"].iloc[1])
    assert str(df["AGE"].dtype) == "Int64" and df["AGE"].iloc[0] == 71


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["rows"][1].pop(), "rows [1] do not have 3 values"),
    (lambda d: d.update(records=5), "'records' is 5 but the file holds 2 rows"),
    (lambda d: d["rows"][0].__setitem__(2, "old"), "variable AGE (integer): value 'old' in row 0"),
    (lambda d: d.update(datasetJSONVersion="1.0.0"), "version 1.0.0; expected 1.1"),
])
def test_bad_files_give_one_clear_error(tmp_path, mutate, expected):
    doc = {"datasetJSONCreationDateTime": "2025-01-01T00:00:00", "datasetJSONVersion": "1.1.0",
           "itemGroupOID": "IG.ADSL", "records": 2, "name": "ADSL", "label": "x",
           "columns": [{"itemOID": "a", "name": "USUBJID", "label": "a", "dataType": "string"},
                       {"itemOID": "b", "name": "SEX", "label": "b", "dataType": "string"},
                       {"itemOID": "c", "name": "AGE", "label": "c", "dataType": "integer"}],
           "rows": [["1", "F", 70], ["2", "M", 71]]}
    mutate(doc)
    (tmp_path / "adsl.json").write_text(json.dumps(doc))
    with pytest.raises(DataError) as err:
        read_dataset(tmp_path / "adsl.json")
    assert expected in str(err.value) and str(err.value).startswith("adsl.json:")
    (tmp_path / "adsl.json").write_text("{not json")
    with pytest.raises(DataError, match="adsl.json: not a Dataset-JSON file"):
        read_dataset(tmp_path / "adsl.json")
