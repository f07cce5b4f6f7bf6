"""Finkelstein-Schoenfeld joint rank test against an independent R double loop and
coin::independence_test (tests/reference/survival/make_jointrank_reference.R)."""
import time

import numpy as np
import pytest

from trialsupp.ard.schema import check_ard, get_stat
from trialsupp.stats.exceptions import NotEstimableError, StatisticalWarning
from trialsupp.stats.jointrank import JointRankTest, fs_scores

from ._survival_ref import csv, load_json, relerr

REF = load_json("jointrank_reference.json")


def data():
    return csv("jointrank_data.csv")


def test_tiny_by_hand():
    # 1 dies at 100 (A), 2 dies at 50 (B), 3 and 4 complete (y -3, 2), 5 censored at 80 (y -1)
    # u1 = +1 (vs 2) -1 (3) -1 (4) + 0 (vs 5: undecided, y1 missing) = -1, etc.
    tiny = csv("jointrank_tiny.csv")
    u, nmiss = fs_scores(tiny["time"], tiny["fatal"], tiny["y"])
    assert u.tolist() == [-1, -4, 0, 4, 1] == REF["tiny_scores"]
    assert nmiss == 1


def test_matches_r_double_loop_and_coin():
    m = JointRankTest().fit(data(), "time", "fatal", "chg_full", "arm", treatment="Active")
    r = REF["fs"]
    np.testing.assert_array_equal(m.scores_["score"].to_numpy(), np.array(r["scores"], float))
    assert m.T_[0] == r["T"]
    assert relerr(m.statistic_, r["z"]) <= 1e-10
    assert relerr(m.statistic_, r["coin_z"]) <= 1e-10  # permutation variance = coin asymptotic
    assert relerr(m.p_value_, r["coin_p"]) <= 1e-8
    ard = m.to_ard()
    check_ard(ard)
    assert get_stat(ard, "statistic", group1_level="Active", group2_level="Placebo") == pytest.approx(r["z"])


@pytest.mark.parametrize("rank_cov,key", [(True, "koch"), (False, "ancova_raw")])
def test_koch_rank_ancova_matches_r(rank_cov, key):
    m = JointRankTest(adjust="koch", rank_covariates=rank_cov).fit(
        data(), "time", "fatal", "chg_full", "arm", treatment="Active", covariates=["base", "age"])
    assert relerr(m.statistic_, REF[key]["z"]) <= 1e-10
    assert relerr(m.T_[0], REF[key]["T"]) <= 1e-10
    if key == "koch":
        assert relerr(m.statistic_, REF[key]["coin_z"]) <= 1e-10


def test_multiple_imputation_reproducible_and_fast():
    d = data()
    t0 = time.perf_counter()
    with pytest.warns(StatisticalWarning, match="counted as ties"):
        a = JointRankTest(n_imputations=20, seed=11).fit(d, "time", "fatal", "chg", "arm", "Active",
                                                         covariates=["base"])
    elapsed = time.perf_counter() - t0
    with pytest.warns(StatisticalWarning):
        b = JointRankTest(n_imputations=20, seed=11).fit(d, "time", "fatal", "chg", "arm", "Active",
                                                         covariates=["base"])
    assert a.statistic_ == b.statistic_ and len(a.z_) == 20 and np.unique(a.z_).size > 1
    # pooled Z = mean(Z) / sqrt(1 + (1 + 1/m) B)
    zb, B = a.z_.mean(), a.z_.var(ddof=1)
    assert a.statistic_ == pytest.approx(zb / np.sqrt(1 + 1.05 * B))
    assert elapsed < 2.0
    ard = a.to_ard()
    check_ard(ard)
    assert ard["warning"].str.contains("ties").all()
    assert "20 imputations" in ard["method"].iloc[0]
    # every fatal-free missing value imputed: with impute_fatal=True no pairs are left
    c = JointRankTest(n_imputations=5, seed=1, impute_fatal=True).fit(d, "time", "fatal", "chg", "arm",
                                                                      "Active", covariates=["base"])
    assert c.n_missing_pairs_ == 0 and c.warning_ is None
    dd = JointRankTest(n_imputations=5, seed=1, combine="d2", impute_fatal=True).fit(
        d, "time", "fatal", "chg", "arm", "Active", covariates=["base"])
    assert 0 < dd.p_value_ < 1


def test_no_missing_mi_equals_single():
    d = data()
    a = JointRankTest(n_imputations=5, seed=1).fit(d, "time", "fatal", "chg_full", "arm", "Active")
    assert a.statistic_ == pytest.approx(REF["fs"]["z"])


def test_bad_input():
    d = data()
    with pytest.raises(NotEstimableError, match="two arms"):
        JointRankTest().fit(d[d["arm"] == "Active"], "time", "fatal", "chg_full", "arm", "Active")
    bad = d.copy()
    bad.loc[3, "time"] = np.nan
    with pytest.raises(ValueError, match=r"'time'.*missing.*\[3\]"):
        JointRankTest().fit(bad, "time", "fatal", "chg_full", "arm", "Active")
    bad = d.copy()
    bad.loc[5, "time"] = -1
    with pytest.raises(ValueError, match=r"'time'.*>= 0.*\[5\]"):
        JointRankTest().fit(bad, "time", "fatal", "chg_full", "arm", "Active")
    with pytest.raises(ValueError, match="n_imputations"):
        JointRankTest(n_imputations=1)
