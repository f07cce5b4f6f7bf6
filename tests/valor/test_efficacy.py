"""Simulated VALOR efficacy analyses against independent calculations (seed 48).

MMRM and log-ratio ANCOVA: R (nlme::gls unstructured + emmeans; lm on log ratio), values in
tests/reference/valor/efficacy.json written by tests/reference/valor/efficacy.R from the CSVs of
export_data.py (the simulated data are deterministic for seed 48). Descriptive rows: numpy.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from studies.valor import biomarkers as bm
from studies.valor import efficacy as ef
from studies.valor.common import DELAYED, EARLY, SHORT_VISITS, population
from studies.valor.simulate.calibrate import cut_datasets
from studies.valor.simulate.valor import simulate

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "valor" / "efficacy.json").read_text())


@pytest.fixture(scope="module")
def raw():
    return simulate(seed=48)


@pytest.fixture(scope="module")
def m12(raw):
    return cut_datasets(raw, "12-month")


@pytest.fixture(scope="module")
def final(raw):
    return cut_datasets(raw, "final")


def _stat(ard, **where):
    m = np.ones(len(ard), bool)
    for k, v in where.items():
        m &= (ard[k] == v).to_numpy()
    assert m.sum() == 1, where
    return float(ard.loc[m, "stat"].iloc[0])


def test_week52_mmrm_matches_r(m12):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ef.fit_long(m12, "ALSFRST", weeks=SHORT_VISITS)
    ard = ef.mmrm_ard(fit, "ALSFRST", "STARTGR", [DELAYED, EARLY], [52])
    for g, est, se in zip(REF["w52_lsmeans"]["group"], REF["w52_lsmeans"]["estimate"], REF["w52_lsmeans"]["std.error"]):
        assert _stat(ard, context="mmrm_lsmeans", group1_level=g, stat_name="estimate") == pytest.approx(est, abs=2e-4)
        # KR vs R's approximate Satterthwaite SE: same model, SEs agree closely
        assert _stat(ard, context="mmrm_lsmeans", group1_level=g, stat_name="std.error") == pytest.approx(se, rel=0.03)
    assert _stat(ard, context="mmrm_diff", stat_name="estimate") == pytest.approx(REF["w52_diff"]["estimate"], abs=2e-4)


def test_nfl_gmr_week28_matches_r(m12):
    ard = bm.ard_gmr_week28(m12, codes=("NFL",))
    for arm, gm in zip(REF["nfl_w28_geomean"]["arm"], REF["nfl_w28_geomean"]["geomean"]):
        assert _stat(ard, context="ancova.geomean", group1_level=arm, stat_name="geomean") == pytest.approx(gm, rel=1e-6)
    assert _stat(ard, context="ancova.ratio", stat_name="estimate") == pytest.approx(REF["nfl_w28_ratio"], rel=1e-6)


def test_stabilised_share_by_hand(final):
    ard = ef.ard_stabilised(final, 148, 0)
    q = final["adqs"]
    q = q[(q.PARAMCD == "ALSFRST") & (q.AVISITN == 148) & q.CHG.notna()]
    for g in (EARLY, DELAYED):
        chg = q.loc[q.STARTGR == g, "CHG"].to_numpy()
        assert _stat(ard, group1_level=g, variable_level="Y", stat_name="n") == np.sum(chg >= 0)
        assert _stat(ard, group1_level=g, variable_level="Y", stat_name="N") == chg.size
        assert _stat(ard, group1_level=g, variable_level="Y", stat_name="p") == pytest.approx(np.mean(chg >= 0))


def test_jointrank_frame_and_window(m12):
    df = ef.jointrank_frame(m12, population(m12["adsl"], "Faster progression"))
    assert len(df) == 60 and df["TIME"].max() <= ef.WEEK28_WINDOW_DAYS
    q = m12["adqs"]
    w28 = q[(q.PARAMCD == "ALSFRST") & (q.AVISITN == 28) & (q.FASFL == "Y")]
    assert df["ALSFRST"].notna().sum() == len(w28)
    assert np.allclose(np.sort(df["ALSFRST"].dropna()), np.sort(w28["CHG"]))


def test_change_over_time_rows_relabelled(m12):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ef.fit_long(m12, "ALSFRST", weeks=SHORT_VISITS)
    ard = ef.ard_change_over_time(fit)
    assert set(ard["variable_level"]) == set(SHORT_VISITS)
    assert set(ard["group1_level"]) == {DELAYED, EARLY}
    est = ard[(ard.variable_level == 52) & (ard.group1_level == EARLY) & (ard.stat_name == "estimate")]["stat"]
    assert float(est.iloc[0]) == pytest.approx(REF["w52_lsmeans"]["estimate"][1], abs=2e-4)


def test_missing_visit_gives_not_estimable_rows(m12):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ef.fit_long(m12, "ALSFRST", weeks=SHORT_VISITS)
    ard = ef.mmrm_ard(fit, "ALSFRST", "STARTGR", [DELAYED, EARLY], [148])
    assert ard["stat"].isna().all() and ard["error"].notna().all()


def test_forest_counts_per_subgroup(final):
    """No. and Events of the forest plot: participants per subgroup level and participants with
    death or permanent ventilation, counted here directly from ADSL and ADTTE."""
    sg = ef.ard_subgroups(final)
    adsl = final["adsl"]
    itt = adsl[adsl["ITTFL"] == "Y"] if "ITTFL" in adsl else adsl
    tte = final["adtte"]
    events = set(tte.loc[(tte["PARAMCD"] == "DTHPV") & (tte["CNSR"] == 0), "USUBJID"])

    def got(kind, stat, level):
        rows = sg[kind]
        rows = rows[(rows["stat_name"] == stat) & (rows["variable_level"].map(lambda v: v == level or
                                                                               (v is None and level is None)))]
        return int(rows["stat"].iloc[0])

    assert got("hr", "N", None) == got("diff", "N", None) == len(itt) == 108
    assert got("hr", "n_event", None) == len(events & set(itt["USUBJID"]))
    for sex in ("F", "M"):
        ids = set(itt.loc[itt["SEX"] == sex, "USUBJID"])
        assert got("hr", "N", sex) == len(ids)
        assert got("hr", "n_event", sex) == len(events & ids)
