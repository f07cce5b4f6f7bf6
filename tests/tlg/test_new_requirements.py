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


def test_csr_layout_numbers_outputs_as_appendix_14(tmp_path):
    """--layout csr: 14-1 disposition, 14-2 demographics, 14-3 efficacy / time to event, 14-4 exposure,
    14-5 adverse events, 14-6 laboratory, 14-7 vital signs; tables and figures counted apart."""
    adam = tmp_path / "adam"
    adam.mkdir()
    for ds in ("adsl", "adae", "adtte", "advs"):
        read_dataset(PILOT / f"{ds}.xpt").to_parquet(adam / f"{ds}.parquet")
    lb = read_dataset(PILOT / "adlbc.xpt")
    lb[lb["PARAMCD"].isin(["K", "SODIUM"])].to_parquet(adam / "adlbc.parquet")
    proj = tmp_path / "proj"
    name = new_project(proj, adam, layout="csr", echo=lambda _: None)["study"]
    qmd = (proj / "report" / name / "index.qmd").read_text()
    order = ["# 14-1 Subject Disposition", "## Table 14-1.01 Subject Disposition", "# 14-2 Demographic",
             "## Table 14-2.01 Demographic", "# 14-3 Efficacy", "## Table 14-3.01 Time to Event",
             "## Figure 14-3.01 Kaplan-Meier", "# 14-4 Exposure", "## Table 14-4.01 Exposure",
             "# 14-5 Adverse Events", "## Table 14-5.01 Overview of Adverse Events",
             "## Table 14-5.02 Adverse Events by System Organ Class", "# 14-6 Laboratory",
             "## Table 14-6.01 ADLBC: Summary by Visit", "## Table 14-6.02 ADLBC: Shifts",
             "# 14-7 Vital Signs", "## Table 14-7.01 ADVS"]
    pos = [qmd.index(h) for h in order]
    assert pos == sorted(pos)
    assert "ae-soc-pt.ipynb#t-14-5-02" in qmd and "time-to-event.ipynb#f-14-3-01" in qmd
    cell = json.loads((proj / "notebooks" / name / "ae-soc-pt.ipynb").read_text())["cells"][-1]["source"]
    cell = "".join(cell)
    assert "#| label: t-14-5-02" in cell and "number='14-5.02'" in cell and "tbl-cap" not in cell
    import yaml
    exempt = yaml.safe_load((proj / "src" / "studies" / name / "study.yml").read_text())["audit_exempt"]
    import re
    assert any(re.search(p, "Table 14-5.02") for p in exempt)
    assert not any(re.search(p, "14.5") for p in exempt)
    # the JAMA layout keeps Quarto's labels and numbering (Table 1, eTable 1 ...)
    jama = new_project(tmp_path / "j", adam, echo=lambda _: None)["study"]
    jq = (tmp_path / "j" / "report" / jama / "index.qmd").read_text()
    assert "#tbl-ae-soc-pt" in jq and "@tbl-demographics" in jq and "14-5" not in jq
