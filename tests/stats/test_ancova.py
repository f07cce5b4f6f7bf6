
import numpy as np
import pytest

from trialsupp.ard.schema import check_ard, get_stat
from trialsupp.stats.ancova import ANCOVAFitter, dose_response
from trialsupp.stats.exceptions import NotEstimableError, StatisticalWarning
from trialsupp.stats.lsmeans import back_transform_log, linear_estimates

from ._stats_core_ref import RTOL, ref, xpt

PBO, LOW, HIGH = "Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"
ARMS = [PBO, LOW, HIGH]


def adas_week24():
    d = xpt("adadas")
    return d[(d.PARAMCD == "ACTOT") & (d.EFFFL == "Y") & (d.ITTFL == "Y") & (d.ANL01FL == "Y")
             & (d.AVISITN == 24)].copy()


def fit(weights="proportional", pairs="all"):
    return ANCOVAFitter(weights=weights, pairs=pairs).fit(
        adas_week24(), "CHG", factors=["TRTP", "SITEGR1"], covariates=["BASE"], levels=ARMS)


def test_dose_response_table_14_3_01():
    r = ref()["ancova_adas"]["dose"]
    ard = dose_response(adas_week24(), "CHG", "TRTPN", factors=["SITEGR1"], covariates=["BASE"])
    check_ard(ard)
    assert get_stat(ard, "p.value") == pytest.approx(r["p"], rel=RTOL)
    assert get_stat(ard, "statistic") == pytest.approx(r["statistic"], rel=RTOL)
    assert get_stat(ard, "estimate") == pytest.approx(r["estimate"], rel=RTOL)
    assert get_stat(ard, "std.error") == pytest.approx(r["std.error"], rel=RTOL)
    assert round(get_stat(ard, "p.value"), 3) == 0.245  # as published by R Submission Pilot 1


def test_type3_matches_r_drop1():
    f = fit()
    r = ref()["ancova_adas"]["type3"]
    for term, key in (("TRTP", "TRTF"), ("SITEGR1", "SITEGR1"), ("BASE", "BASE")):
        assert f.type3_.loc[term, "statistic"] == pytest.approx(r[key]["statistic"], rel=RTOL)
        assert f.type3_.loc[term, "p.value"] == pytest.approx(r[key]["p"], rel=RTOL)
        assert f.type3_.loc[term, "ss"] == pytest.approx(r[key]["ss"], rel=RTOL)
        assert f.type3_.loc[term, "df.num"] == r[key]["df"]
    assert np.sqrt(f.model_.mse_resid) == pytest.approx(ref()["ancova_adas"]["sigma"], rel=RTOL)


@pytest.mark.parametrize("weights,key", [("proportional", "lsmeans_proportional"),
                                         ("equal", "lsmeans_equal")])
def test_lsmeans_match_emmeans(weights, key):
    f = fit(weights)
    r = ref()["ancova_adas"][key]
    for arm in ARMS:
        for stat in ("estimate", "std.error", "df", "conf.low", "conf.high"):
            assert f.lsmeans_.loc[arm, stat] == pytest.approx(r[arm][stat], rel=RTOL), (arm, stat)


def test_pairwise_differences_match_emmeans_and_pilot():
    f = fit()
    r = ref()["ancova_adas"]["diffs"]
    # emmeans reports the reverse direction (earlier level minus later level)
    pairs = {(HIGH, PBO): f"{PBO} - {HIGH}", (LOW, PBO): f"{PBO} - {LOW}", (HIGH, LOW): f"{LOW} - {HIGH}"}
    ard = f.to_ard()
    check_ard(ard)
    for (a, b), key in pairs.items():
        row = f.diffs_.loc[[(a, b)]].iloc[0]
        assert row["estimate"] == pytest.approx(-r[key]["estimate"], rel=RTOL)
        assert row["std.error"] == pytest.approx(r[key]["std.error"], rel=RTOL)
        assert row["p.value"] == pytest.approx(r[key]["p"], rel=RTOL)
        assert row["conf.low"] == pytest.approx(-r[key]["conf.high"], rel=RTOL)
        assert get_stat(ard, "p.value", context="ancova.diff", group1_level=a, group2_level=b) == \
            pytest.approx(r[key]["p"], rel=RTOL)
    # published Table 14-3.01: High vs Pbo -1.0 (0.84) p 0.233; Low vs Pbo -0.5 (0.82) p 0.569; High vs Low p 0.520
    hp, lp, hl = (f.diffs_.loc[[k]].iloc[0] for k in pairs)
    assert (round(hp["estimate"], 1), round(hp["std.error"], 2), round(hp["p.value"], 3)) == (-1.0, 0.84, 0.233)
    assert (round(lp["estimate"], 1), round(lp["std.error"], 2), round(lp["p.value"], 3)) == (-0.5, 0.82, 0.569)
    assert round(hl["p.value"], 3) == 0.520
    assert (round(hp["conf.low"], 1), round(hp["conf.high"], 1)) == (-2.7, 0.7)


def test_equal_and_proportional_differences_coincide_in_additive_model():
    assert np.allclose(fit("equal").diffs_["estimate"], fit("proportional").diffs_["estimate"])


def test_ard_contents():
    ard = fit().to_ard()
    check_ard(ard)
    assert set(ard["context"]) == {"ancova.type3", "ancova.lsmeans", "ancova.diff"}
    assert ard["method"].str.startswith("ANCOVA, Type III sums of squares (sum-to-zero contrasts)").all()
    assert ard["code"].str.startswith("trialsupp.stats.ancova:ANCOVAFitter.fit@").all()
    assert get_stat(ard, "N", context="ancova.lsmeans", group1_level=PBO) == 79
    assert "<b>ANCOVAFitter</b>" in fit()._repr_html_()


def test_log_ancova_geometric_mean_ratios():
    r = ref()["ancova_alt_log"]
    adlb = xpt("adlbc")
    alt = adlb[(adlb.PARAMCD == "ALT") & (adlb.AVISITN == 24) & (adlb.SAFFL == "Y") & (adlb.AVAL > 0)
               & (adlb.BASE > 0)].drop_duplicates("USUBJID").copy()
    assert list(alt.USUBJID) == r["usubjid"]
    alt["LBASE"] = np.log(alt["BASE"])
    f = ANCOVAFitter(log=True).fit(alt, "AVAL", factors=["TRTP"], covariates=["LBASE"], levels=ARMS)
    for arm in ARMS:
        assert f.lsmeans_.loc[arm, "estimate"] == pytest.approx(r["lsmeans"][arm]["estimate"], rel=RTOL)
    ratios = back_transform_log(f.diffs_)
    for arm in (LOW, HIGH):
        want = r["ratios"][f"{arm} - {PBO}"]
        got = ratios.loc[[(arm, PBO)]].iloc[0]
        for stat in ("ratio", "conf.low", "conf.high"):
            assert got[stat] == pytest.approx(want[stat], rel=RTOL)
        assert got["pct.change"] == pytest.approx(want["ratio"] - 1, rel=RTOL)
        assert got["p.value"] == pytest.approx(want["p"], rel=RTOL)
    ard = f.to_ard()
    check_ard(ard)
    assert get_stat(ard, "estimate", context="ancova.ratio", group1_level=HIGH) == \
        pytest.approx(r["ratios"][f"{HIGH} - {PBO}"]["ratio"], rel=RTOL)


def test_linear_estimates_normal_when_df_none():
    out = linear_estimates(np.array([1.0, 2.0]), np.eye(2), np.array([[1.0, -1.0]]), df=None)
    assert out["conf.high"].iloc[0] == pytest.approx(-1 + 1.959963984540054 * np.sqrt(2))


def test_missing_covariate_rows_dropped_with_warning():
    df = adas_week24()
    df.loc[df.index[:3], "BASE"] = np.nan
    with pytest.warns(StatisticalWarning, match="3 row"):
        f = ANCOVAFitter().fit(df, "CHG", ["TRTP", "SITEGR1"], ["BASE"])
    ard = f.to_ard()
    check_ard(ard)
    assert ard["warning"].str.contains("BASE \\(3\\)").all()


def test_empty_arm_gives_error_rows():
    df = adas_week24()
    df = df[df.TRTP != LOW]
    f = ANCOVAFitter().fit(df, "CHG", ["TRTP", "SITEGR1"], ["BASE"], levels=ARMS)
    ard = f.to_ard()
    check_ard(ard)
    assert get_stat(ard, "N", context="ancova.lsmeans", group1_level=LOW) == 0
    est = ard[(ard.context == "ancova.diff") & (ard.group1_level == LOW) & (ard.stat_name == "estimate")]
    assert est["stat"].iloc[0] is None and "no observations" in est["error"].iloc[0]


def test_not_estimable_inputs():
    df = adas_week24()
    with pytest.raises(NotEstimableError, match="constant"):
        ANCOVAFitter().fit(df.assign(CHG=1.0), "CHG", ["TRTP"], ["BASE"])
    with pytest.raises(NotEstimableError, match="singular design"):
        ANCOVAFitter().fit(df.assign(B2=2 * df["BASE"]), "CHG", ["TRTP"], ["BASE", "B2"])
    with pytest.raises(NotEstimableError, match="fewer than 2 levels"):
        ANCOVAFitter().fit(df[df.TRTP == PBO], "CHG", ["TRTP"], ["BASE"])
    with pytest.raises(NotEstimableError, match="no residual"):
        ANCOVAFitter().fit(df.head(3), "CHG", ["TRTP"], ["BASE"])
    with pytest.raises(NotEstimableError, match="non-positive"):
        ANCOVAFitter(log=True).fit(df, "CHG", ["TRTP"], ["BASE"])
    with pytest.raises(KeyError, match="NOPE"):
        ANCOVAFitter().fit(df, "CHG", ["TRTP"], ["NOPE"])


def test_exception_hierarchy():
    from trialsupp.stats import exceptions as ex
    assert issubclass(ex.NotEstimableError, ValueError) and issubclass(ex.ConvergenceError, ValueError)
    assert issubclass(ex.ConvergenceWarning, Warning) and issubclass(ex.StatisticalWarning, Warning)


def test_linear_estimates_per_row_df():
    out = linear_estimates(np.array([1.0]), np.eye(1), np.array([[1.0], [2.0]]), df=[5, 50])
    assert list(out["df"]) == [5, 50]
    assert out["p.value"].iloc[0] > out["p.value"].iloc[1] * 0  # finite
