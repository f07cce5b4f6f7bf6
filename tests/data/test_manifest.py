"""Input integrity (issue 19): the data manifest, row counts, files that do not parse to the
end, SAS V8 transport files. One case per test."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from trialsupp.data.io import DataError, read_dataset, read_study
from trialsupp.data.manifest import MANIFEST_NAME, accept, check_folder, load_manifest

REPO = Path(__file__).resolve().parents[2]
CDISC = REPO / "data" / "cdiscpilot01"
V8 = REPO / "tests" / "data" / "xpt_v8"
sys.path.insert(0, str(REPO / "tests" / "pipeline"))
from mini_project import make_project  # noqa: E402


@pytest.fixture()
def folder(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    for name in ("adsl.xpt", "adae.xpt"):
        (d / name).write_bytes((CDISC / name).read_bytes())
    accept(d, "fixture", who="tests")
    return d


def _refused(fn, message):
    with pytest.raises(DataError) as err:
        fn()
    assert str(err.value).startswith(message), str(err.value)
    return str(err.value)


# ---- the manifest ------------------------------------------------------------------------
def test_accept_records_hash_size_rows_and_who_why(folder):
    doc = load_manifest(folder)
    adae = doc["files"]["adae.xpt"]
    assert adae["rows"] == 1191 and adae["columns"] == 55 and adae["bytes"] == (CDISC / "adae.xpt").stat().st_size
    assert adae["sha256"] == "4b5fb54448f83a056b3f33f6a322f0a2145799a038667b0b7c7e28d2972adb2d"   # SOURCE.md
    assert doc["accepted"][-1]["who"] == "tests" and doc["accepted"][-1]["reason"] == "fixture"
    assert check_folder(folder, doc) == {"adae.xpt": adae["sha256"], "adsl.xpt": doc["files"]["adsl.xpt"]["sha256"]}


def test_absent_manifest_is_refused(folder):
    (folder / MANIFEST_NAME).unlink()
    _refused(lambda: load_manifest(folder), f"{folder / MANIFEST_NAME}: no input manifest for the data folder")


def test_parquet_next_to_the_recorded_xpt_is_refused(folder):
    read_dataset(folder / "adae.xpt").assign(AETERM="EDITED").to_parquet(folder / "adae.parquet")
    _refused(lambda: check_folder(folder, load_manifest(folder)),
             "adae.parquet: in the data folder but not in its manifest checksums.yml, so it cannot be read")


def test_xpt_replaced_by_parquet_is_refused(folder):
    read_dataset(folder / "adae.xpt").to_parquet(folder / "adae.parquet")
    (folder / "adae.xpt").unlink()
    _refused(lambda: check_folder(folder, load_manifest(folder)),
             f"adae.xpt: recorded in checksums.yml but missing from {folder}")


def test_one_changed_byte_is_refused(folder):
    data = bytearray((folder / "adsl.xpt").read_bytes())
    data[-200] ^= 0x01
    (folder / "adsl.xpt").write_bytes(bytes(data))
    _refused(lambda: check_folder(folder, load_manifest(folder)), "adsl.xpt: SHA-256 ")


def test_row_count_differing_from_the_manifest_is_refused(folder):
    path = folder / MANIFEST_NAME
    doc = yaml.safe_load(path.read_text())
    doc["files"]["adae.xpt"]["rows"] = 1192              # a manifest edited by hand
    path.write_text(yaml.safe_dump(doc))
    _refused(lambda: read_study(folder, ["adae"], manifest=load_manifest(folder)),
             "adae.xpt: 1191 rows read, 1192 recorded in checksums.yml")


def test_manifest_that_is_not_one_is_refused(folder):
    (folder / MANIFEST_NAME).write_text("adsl.xpt: 83f7\n")
    _refused(lambda: load_manifest(folder), "checksums.yml: not a trialsupp data manifest")


def test_accept_needs_a_reason(folder):
    _refused(lambda: accept(folder, "  "), "data accept: give the reason")


def test_accept_logs_what_changed(folder):
    data = bytearray((folder / "adsl.xpt").read_bytes())
    data[-200] ^= 0x01
    (folder / "adsl.xpt").write_bytes(bytes(data))
    doc, changes = accept(folder, "sponsor re-delivery", who="tests")
    assert len(changes) == 1 and changes[0].startswith("changed adsl.xpt: SHA-256 83f7a82f8b37... -> ")
    assert [e["reason"] for e in doc["accepted"]] == ["fixture", "sponsor re-delivery"]
    assert doc["accepted"][-1]["changes"] == changes


# ---- files that do not parse to the end -----------------------------------------------------
@pytest.mark.parametrize("fraction", [0.99, 0.37])
def test_truncated_xpt_is_refused_by_reader_and_by_accept(folder, fraction):
    original = (CDISC / "adae.xpt").read_bytes()
    cut = original[:int(len(original) * fraction)]
    (folder / "adae.xpt").write_bytes(cut)
    _refused(lambda: read_dataset(folder / "adae.xpt"),
             f"adae.xpt: SAS transport file does not end on an 80-byte record ({len(cut)} bytes): truncated")
    _refused(lambda: accept(folder, "try to record a cut file"), "adae.xpt: SAS transport file does not end")
    assert load_manifest(folder)["accepted"][-1]["reason"] == "fixture"      # the manifest was not rewritten


def test_xpt_cut_on_a_record_boundary_is_refused(folder):
    original = (CDISC / "adae.xpt").read_bytes()
    (folder / "adae.xpt").write_bytes(original[:len(original) * 99 // 100 // 80 * 80])
    _refused(lambda: read_dataset(folder / "adae.xpt"), "adae.xpt: SAS transport file has ")


def test_xpt_without_its_observations_is_refused(folder):
    original = (CDISC / "adsl.xpt").read_bytes()
    header_end = original.find(b"HEADER RECORD*******OBS     HEADER RECORD")
    (folder / "adsl.xpt").write_bytes(original[:header_end])
    _refused(lambda: read_dataset(folder / "adsl.xpt"), "adsl.xpt: cannot be read as xpt (")


def test_complete_xpt_files_all_pass_the_completeness_check():
    for path in sorted(CDISC.glob("*.xpt")):
        assert len(read_dataset(path)) == load_manifest(CDISC)["files"][path.name]["rows"]


# ---- SAS V8 transport ----------------------------------------------------------------------------
def test_sas_v8_transport_file_is_read():
    """Made by R haven::write_xpt(version = 8) (tests/reference/xpt_v8/make_v8.R); the CSV is
    what R read back from the same data frame."""
    df = read_dataset(V8 / "adsl_v8.xpt")
    ref = pd.read_csv(V8 / "adsl_v8.csv")
    assert list(df.columns) == list(ref.columns)
    assert "PLANNEDTREATMENTARM" in df.columns                 # longer than a V5 name may be
    assert df.attrs["labels"]["PLANNEDTREATMENTARM"] == \
        "Planned Treatment for Period 01, written as a SAS V8 long label"
    assert df["USUBJID"].tolist() == ref["USUBJID"].tolist()
    assert df["AGE"].tolist() == ref["AGE"].astype(float).tolist()
    assert [str(d) for d in df["TRTSDT"]] == ref["TRTSDT"].tolist()
    v5 = read_dataset(CDISC / "adsl.xpt").head(20)
    assert df["TRT01P"].tolist() == v5["TRT01P"].tolist()


def test_truncated_v8_file_is_refused(tmp_path):
    data = (V8 / "adsl_v8.xpt").read_bytes()
    (tmp_path / "adsl.xpt").write_bytes(data[:-100])
    _refused(lambda: read_dataset(tmp_path / "adsl.xpt"), "adsl.xpt: SAS transport file does not end")


# ---- through a render -------------------------------------------------------------------------
def _cli(root: Path, *args: str):
    env = {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(root / ".cache"),
           "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "trialsupp.cli", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_render_without_manifest_refuses_before_any_notebook(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    study = make_project(root)
    (root / "data" / "mini" / MANIFEST_NAME).unlink()
    proc = _cli(root, "render", "--study", str(study), "--to", "html", "--engine", "builtin", "-q")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"trialsupp: error: {root}/data/mini/{MANIFEST_NAME}: no input manifest for the data folder "
        f"{root}/data/mini (a study that reads files needs the SHA-256 and rows of each); "
        "`trialsupp data accept` records the folder's files deliberately"]
    assert not (root / "_output" / "mini").exists()


def test_acceptance_is_logged_in_run_json(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    study = make_project(root)
    proc = _cli(root, "data", "accept", "--study", str(study), "--reason", "second delivery")
    assert proc.returncode == 0 and "recorded 1 file(s)" in proc.stdout and "0 change(s)" in proc.stdout
    assert _cli(root, "render", "--study", str(study), "--to", "html", "--engine", "builtin", "-q").returncode == 0
    run = json.loads((root / "_output" / "mini" / "run.json").read_text())
    log = run["data_manifest"]["accepted"]
    assert [e["reason"] for e in log] == ["test fixture", "second delivery"]
    assert log[-1]["changes"] == ["none"]
