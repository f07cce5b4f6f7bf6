"""Notebooks written by `trialsupp new` declare the variables their calls read (notebook metadata
``trialsupp: requires:``, as the shipped studies declare theirs in study.yml); `render` checks them on
the data before any notebook runs, so a missing variable is one `trialsupp: error:` line."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from trialsupp.data.io import read_dataset
from trialsupp.data.requirements import notebook_requirements
from trialsupp.scaffold import new_project

ROOT = Path(__file__).resolve().parents[2]
PILOT = ROOT / "data" / "cdiscpilot01"


def _cli(args, cwd, tmp):
    env = {k: v for k, v in os.environ.items() if k != "TRIALSUPP_PROJECT"}
    env["TRIALSUPP_CACHE"] = str(tmp / "cache")
    res = subprocess.run([sys.executable, "-m", "trialsupp.cli", *args], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=600)
    return res.returncode, res.stdout, res.stderr


def test_new_notebooks_declare_requirements_and_a_missing_variable_is_one_error_line(tmp_path):
    adam = tmp_path / "adam"
    adam.mkdir()
    adsl = read_dataset(PILOT / "adsl.xpt")
    adsl.to_parquet(adam / "adsl.parquet")
    read_dataset(PILOT / "adae.xpt").to_parquet(adam / "adae.parquet")
    proj = tmp_path / "proj"
    res = new_project(proj, adam, echo=lambda _: None)
    name = res["study"]
    nbs = {p.stem: p for p in (proj / "notebooks" / name).glob("*.ipynb")}
    meta = json.loads(nbs["demographics"].read_text())["metadata"]["trialsupp"]["requires"]
    # what the call reads, typed from the data as delivered (key variables "not all missing")
    assert meta["adsl"]["variables"]["USUBJID"] == "char+"
    assert meta["adsl"]["variables"]["AGE"] == "num"
    assert meta["adsl"]["variables"]["ITTFL"] == "flag"
    assert set(meta["adsl"]["variables"]) >= {"TRT01P", "SEX", "RACE"}
    ae = json.loads(nbs["ae-soc-pt"].read_text())["metadata"]["trialsupp"]["requires"]
    assert ae["adae"]["variables"]["AEDECOD"] == "char+" and ae["adae"]["variables"]["TRTEMFL"] == "flag"
    assert ae["adsl"]["variables"]["SAFFL"] == "flag"
    # the declarations hold on the data new copied (the parser of the shipped studies reads them)
    for p in nbs.values():
        assert notebook_requirements(p)
    # a new data cut without AGE: accepted into the manifest, then render stops before any notebook
    data = proj / "data" / name
    adsl.drop(columns=["AGE"]).to_parquet(data / "adsl.parquet")
    rc, out, err = _cli(["data", "accept", "--reason", "new cut"], proj, tmp_path)
    assert rc == 0, out + err
    rc, out, err = _cli(["render", "--engine", "builtin", "--quiet"], proj, tmp_path)
    assert rc != 0
    errors = [l for l in err.splitlines() if l.startswith("trialsupp: error:")]
    assert len(errors) == 1, err
    assert "adsl" in errors[0] and "AGE" in errors[0] and "demographics.ipynb" in errors[0], errors[0]
    assert "Traceback" not in err
    assert not (proj / "_output" / name / "ard.json").exists()
