"""Declared data requirements (issue 19): each degenerate or bad input of the issue gives one
line naming dataset, variable and first bad rows, before any notebook runs. The requirements
are the shipped CDISC pilot study's own (``requirements:`` in its config) applied to its real
data with one defect each."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from trialsupp.data.io import DataError, read_study
from trialsupp.data.requirements import check, notebook_requirements, parse
from trialsupp.study import load_study

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "pipeline"))
from mini_project import make_project  # noqa: E402

BY = "(required by study config src/studies/cdiscpilot01/study.yml)"


@pytest.fixture(scope="module")
def cdisc():
    st = load_study("cdiscpilot01")
    reqs = parse(st.raw["requirements"], f"study config {st.label}")
    data = read_study(st.data_dir, sorted({r.dataset for r in reqs})).datasets
    return reqs, data


def _refused(cdisc, edit, message):
    reqs, data = cdisc
    data = {k: v.copy() for k, v in data.items()}
    edit(data)
    with pytest.raises(DataError) as err:
        check(data, reqs)
    assert str(err.value) == message
    return str(err.value)


def test_shipped_data_meet_the_declared_requirements(cdisc):
    reqs, data = cdisc
    check(data, reqs)


def test_adsl_without_trt01p(cdisc):
    _refused(cdisc, lambda d: d.__setitem__("adsl", d["adsl"].drop(columns="TRT01P")),
             f"dataset adsl: variable TRT01P missing {BY}")


def test_age_as_text(cdisc):
    def edit(d):
        adsl = d["adsl"].astype({"AGE": object})
        adsl.loc[3, "AGE"] = "sixty-five"
        d["adsl"] = adsl
    usubjid = cdisc[1]["adsl"]["USUBJID"].iloc[3]
    _refused(cdisc, edit, f"dataset adsl, variable AGE: must be numeric; row 3 (USUBJID {usubjid}) hold text "
                          f"such as 'sixty-five'")


def test_empty_adae(cdisc):
    _refused(cdisc, lambda d: d.__setitem__("adae", d["adae"].iloc[0:0]),
             f"dataset adae: 0 rows; at least 1 needed {BY}")


def test_all_actot_missing(cdisc):
    def edit(d):
        adas = d["adadas"].copy()
        adas.loc[adas["PARAMCD"] == "ACTOT", "AVAL"] = np.nan
        d["adadas"] = adas
    n = int((cdisc[1]["adadas"]["PARAMCD"] == "ACTOT").sum())
    _refused(cdisc, edit, f"dataset adadas (PARAMCD=ACTOT), variable AVAL: all {n} values missing {BY}")


@pytest.mark.parametrize("value, word, shown", [(np.inf, "non-finite", "inf"), (-np.inf, "non-finite", "-inf"),
                                                (1e70, "implausible", "1e+70")])
def test_non_finite_or_absurd_aval(cdisc, value, word, shown):
    def edit(d):
        adas = d["adadas"].copy()
        rows = adas.index[adas["PARAMCD"] == "ACTOT"]
        adas.loc[rows[5], "AVAL"] = value
        d["adadas"] = adas
    actot = cdisc[1]["adadas"][cdisc[1]["adadas"]["PARAMCD"] == "ACTOT"].reset_index(drop=True)
    _refused(cdisc, edit, f"dataset adadas (PARAMCD=ACTOT), variable AVAL: row 5 (USUBJID {actot['USUBJID'][5]}) "
                          f"hold {word} values such as {shown} (|value| must be below 1e+15)")


def test_adt_before_startdt_names_adtte(cdisc):
    tte = cdisc[1]["adtte"]
    start = tte.loc[7, "STARTDT"]
    early = start - dt.timedelta(days=3)

    def edit(d):
        d["adtte"] = d["adtte"].astype({"ADT": object})
        d["adtte"].loc[7, "ADT"] = early
    _refused(cdisc, edit, f"dataset adtte: ADT before STARTDT in row 7 (USUBJID {tte['USUBJID'][7]}), "
                          f"e.g. ADT {early} < STARTDT {start}")


def test_arm_with_no_subjects(cdisc):
    def edit(d):
        adsl = d["adsl"].copy()
        adsl.loc[adsl["TRT01P"] == "Xanomeline Low Dose", "SAFFL"] = "N"
        d["adsl"] = adsl
    _refused(cdisc, edit, f"dataset adsl, variable TRT01P: arm 'Xanomeline Low Dose' has no subjects with SAFFL=Y {BY}")


def test_flag_with_other_values(cdisc):
    def edit(d):
        adsl = d["adsl"].copy()
        adsl.loc[10, "ITTFL"] = "yes"
        d["adsl"] = adsl
    usubjid = cdisc[1]["adsl"]["USUBJID"].iloc[10]
    _refused(cdisc, edit, f"dataset adsl, variable ITTFL: flag values must be Y, N or blank; row 10 "
                          f"(USUBJID {usubjid}) hold 'yes'")


def test_dataset_not_provided(cdisc):
    _refused(cdisc, lambda d: d.pop("adcibc"), f"dataset adcibc: not provided {BY}")


@pytest.mark.parametrize("spec, message", [
    ({"adsl": {"variables": {"AGE": "number"}}}, "x: requirements.adsl.variables.AGE: type must be one of char, num"),
    ({"adsl": {"colour": 1}}, "x: requirements.adsl: keys must be among arms, min_rows, order, variables"),
    ({"adqs PARAMCD": {}}, "x: requirements.adqs PARAMCD: expected 'dataset VAR=value'"),
    ({"adtte": {"order": [["ADT"]]}}, "x: requirements.adtte.order: pairs [EARLIER, LATER]"),
])
def test_malformed_requirements_name_the_key(spec, message):
    with pytest.raises(DataError) as err:
        parse(spec, "x")
    assert str(err.value).startswith(message)


def test_notebook_metadata_requirement_stops_the_render_before_any_notebook(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    study = make_project(root)
    path = root / "notebooks" / "mini" / "baseline.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.metadata["trialsupp"] = {"requires": {"adsl": {"variables": {"USUBJID": "char", "TRT01P": "char",
                                                                     "AGE": "num+", "NOSUCHVAR": "num"}}}}
    nbformat.write(nb, path)
    assert [r.dataset for r in notebook_requirements(path)] == ["adsl"]
    env = {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(root / ".cache"),
           "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run([sys.executable, "-m", "trialsupp.cli", "render", "--study", str(study), "--to", "html",
                           "--engine", "builtin", "-q"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "trialsupp: error: dataset adsl: variable NOSUCHVAR missing (required by notebook mini/baseline.ipynb)"]
    assert not (root / ".cache").exists()           # no notebook was executed (nothing cached)
