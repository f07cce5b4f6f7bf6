import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from trialsupp.ard.schema import check_ard, get_stat
from trialsupp.stats.cmh import cmh_statistics, cmh_test

from ._stats_core_ref import RTOL, ref, xpt

KEYS = {"general": "general association", "rmeans": "row mean scores differ",
        "corr": "nonzero correlation"}


def _check(res, want):
    for short, name in KEYS.items():
        assert res.loc[name, "statistic"] == pytest.approx(want[short]["statistic"], rel=RTOL)
        assert res.loc[name, "df"] == want[short]["df"]
        assert res.loc[name, "p.value"] == pytest.approx(want[short]["p"], rel=RTOL)


@pytest.mark.parametrize("scores", ["table", "modridit", "rank"])
def test_cmh_adsl_agegroup_by_sex(scores):
    r = ref()["cmh_agegr"]
    tables = np.array(r["tables"])
    res = cmh_statistics(tables, row_scores=[0, 54, 81], col_scores=[1, 2, 3], scores=scores)
    _check(res, r[scores])
    # general association equals R mantelhaen.test; coin agrees for table scores
    assert res.loc["general association", "statistic"] == pytest.approx(r["mantelhaen"]["statistic"], rel=RTOL)
    if scores == "table":
        assert res.loc["row mean scores differ", "statistic"] == pytest.approx(r["coin_rmeans"], rel=RTOL)
        assert res.loc["nonzero correlation", "statistic"] == pytest.approx(r["coin_corr"], rel=RTOL)


def test_cmh_test_from_data_frame():
    adsl = xpt("adsl")
    ard = cmh_test(adsl, "TRT01PN", "AGEGR1N", strata="SEX", scores="modridit")
    check_ard(ard)
    r = ref()["cmh_agegr"]["modridit"]
    for short, name in KEYS.items():
        assert get_stat(ard, "p.value", variable_level=name) == pytest.approx(r[short]["p"], rel=RTOL)
    assert ard["code"].str.startswith("trialsupp.stats.cmh:cmh_test@").all()
    assert ard["method"].str.contains("stratified by SEX").all()


@pytest.mark.parametrize("scores", ["table", "modridit", "ridit"])
def test_cmh_cibic_by_site_group(scores):
    """CIBIC+ week 24 (R x C x K = 3 x 5 x 11) stratified by pooled site."""
    r = ref()["cmh_cibic"]
    adcibc = xpt("adcibc")
    cib = adcibc[(adcibc.EFFFL == "Y") & (adcibc.ITTFL == "Y") & (adcibc.AVISITN == 24)
                 & (adcibc.ANL01FL == "Y")]
    assert len(cib) == r["n"]
    ard = cmh_test(cib, "TRTPN", "AVAL", strata="SITEGR1", scores=scores)
    check_ard(ard)
    for short, name in KEYS.items():
        assert get_stat(ard, "statistic", variable_level=name) == pytest.approx(r[scores][short]["statistic"], rel=RTOL)
        assert get_stat(ard, "p.value", variable_level=name) == pytest.approx(r[scores][short]["p"], rel=RTOL)


def test_cmh_2x2xk_hand_checked():
    r = ref()["cmh_2x2xk"]
    tables = np.array(r["tables"], float)
    # classic Mantel-Haenszel by hand: (sum a - E a)^2 / sum var(a)
    num, var = 0.0, 0.0
    for t in tables:
        n = t.sum()
        n1, m1 = t[0].sum(), t[:, 0].sum()
        num += t[0, 0] - n1 * m1 / n
        var += n1 * (n - n1) * m1 * (n - m1) / (n**2 * (n - 1))
    hand = num**2 / var
    assert hand == pytest.approx(r["statistic"], rel=1e-12)
    res = cmh_statistics(tables)
    for name in KEYS.values():  # all three coincide for 2 x 2 tables
        assert res.loc[name, "statistic"] == pytest.approx(hand, rel=1e-12)
        assert res.loc[name, "p.value"] == pytest.approx(sps.chi2.sf(hand, 1), rel=1e-12)
    assert res.loc["nonzero correlation", "p.value"] == pytest.approx(r["p"], rel=RTOL)


def test_cmh_degenerate_strata_and_errors():
    tables = np.array([[[1, 0], [0, 0]], [[3, 1], [1, 3]]], float)  # first stratum n = 1: no contribution
    res = cmh_statistics(tables)
    res2 = cmh_statistics(tables[1:])
    assert res.equals(res2)
    df = pd.DataFrame({"trt": ["a", "b"] * 3, "y": [1] * 6, "s": [1, 1, 2, 2, 3, 3]})
    ard = cmh_test(df, "trt", "y", strata="s")
    check_ard(ard)
    assert ard["error"].notna().all()
    df2 = pd.DataFrame({"trt": ["a", "a"], "y": [1, 2], "s": [1, 2]})
    ard = cmh_test(pd.concat([df, df2]).assign(y=lambda d: d.y.astype(int)), "trt", "y", strata="s")
    check_ard(ard)
    with pytest.raises(ValueError):
        cmh_statistics(tables, scores="bogus")
