"""The shipped studies' standard outputs are built on the public API (trialsupp.tlg): CDISC
Table 14-2.01 (summaries and counts) and the R Submission Pilot 1 demographic table; VALOR's
baseline characteristics, AE overview and AEs by SOC/PT (their numbers against pandas in
tests/valor/test_frame.py; printed tables unchanged by the rebuild)."""
from pathlib import Path

import pandas as pd
import pytest

from trialsupp import tlg
from trialsupp.ard.fmt import CSR
from trialsupp.ard.store import place
from trialsupp.data.io import read_dataset

from studies.cdiscpilot01 import demographics as D
from studies.cdiscpilot01.common import ARMS

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def adsl():
    return read_dataset(REPO / "data" / "cdiscpilot01" / "adsl.xpt")


def _rows(ard):
    return place(ard, output="o", analysis_id="a", population="ITT", rules=CSR).set_index("id")


def test_14_2_01_summaries_and_counts_are_the_standard_output(adsl):
    shipped = _rows(D.t14_2_01(adsl))
    cont = [v for v, _ in D.CONTINUOUS]
    std = _rows(tlg.demographics(D.prepare_adsl(adsl), cont + list(D.CATEGORICAL), arm="TRT01P", pop_flag=None,
                                 arms=ARMS, layout="csr").ard)
    mine = shipped[shipped["context"].isin(["summary", "tabulate"])]
    assert len(mine) == 336
    assert mine["stat"].tolist() == std.loc[mine.index, "stat"].tolist()
    assert set(shipped.loc[shipped["context"] == "test", "variable"]) == set(cont) | set(D.CATEGORICAL)


def test_14_2_01_against_pandas(adsl):
    """Independent of trialsupp: pandas on the ITT subjects."""
    ard = _rows(D.t14_2_01(adsl))
    itt = adsl[adsl["ITTFL"] == "Y"]
    for arm, grp in [*itt.groupby("TRT01P"), ("Total", itt)]:
        hit = ard[(ard["variable"] == "AGE") & (ard["group1_level"] == arm) & (ard["stat_name"] == "mean")]
        assert hit["stat"].iloc[0] == pytest.approx(grp["AGE"].mean(), rel=1e-12)
        hit = ard[(ard["variable"] == "SEX") & (ard["variable_level"] == "Female") & (ard["group1_level"] == arm)
                  & (ard["stat_name"] == "n")]
        assert hit["stat"].iloc[0] == int((grp["SEX"] == "F").sum())
    assert ard.loc[(ard["variable"] == "AGE") & (ard["stat_name"] == "sd"), "fmt"].eq("d2").all()   # CSR decimals


def test_pilot1_demographic_against_pandas(adsl):
    ard = _rows(D.pilot1_demographic(adsl))
    itt = adsl[adsl["ITTFL"] == "Y"]
    assert sorted(set(ard["group1_level"])) == sorted(ARMS)            # no Total column in Pilot 1
    for arm, grp in itt.groupby("TRT01P"):
        for var in ("HEIGHTBL", "BMIBL", "MMSETOT"):
            hit = ard[(ard["variable"] == var) & (ard["group1_level"] == arm)]
            got = dict(zip(hit["stat_name"], hit["stat"]))
            assert got["mean"] == pytest.approx(grp[var].mean(), rel=1e-12)
            assert got["median"] == pytest.approx(grp[var].median(), rel=1e-12)
            assert (got["min"], got["max"]) == (grp[var].min(), grp[var].max())
        counts = grp["RACE"].value_counts()
        for level, n in counts.items():
            hit = ard[(ard["variable"] == "RACE") & (ard["variable_level"] == level) & (ard["group1_level"] == arm)
                      & (ard["stat_name"] == "n")]
            assert hit["stat"].iloc[0] == n
    assert ard.loc[ard["variable"] == "AGE", "fmt"].isin(["int", "x2"]).all()     # rtables "xx.xx"


@pytest.mark.parametrize("module, calls", [
    ("baseline", ["tlg.demographics("]),
    ("safety", ["tlg.ae_overview(", "tlg.ae_by_soc_pt(", "tlg.filter_terms("]),
])
def test_valor_standard_outputs_call_tlg_and_compute_nothing_themselves(module, calls):
    src = (REPO / "src" / "studies" / "valor" / f"{module}.py").read_text(encoding="utf-8")
    head = src.split("# ---------------------------------------------------------------- exposure")[0]
    for call in calls:
        assert call in head
    for own in ("ard_tabulate(", "ard_summary(", "ard_geomean(", "flag_ard("):
        assert own not in head, f"studies/valor/{module}.py computes {own} itself"
