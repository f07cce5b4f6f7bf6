import math

import numpy as np
import pandas as pd
import pytest

from trialsupp.ard.schema import check_ard, get_stat
from trialsupp.stats.descriptive import ard_geomean, ard_summary, ard_tabulate, sas_quantile

from ._stats_core_ref import RTOL, ref, xpt

ARMS = ["Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"]


def adsl():
    df = xpt("adsl").copy()
    df["TRT01P"] = pd.Categorical(df["TRT01P"], categories=ARMS)
    return df


@pytest.mark.parametrize("key", ["a", "b", "c", "d"])
def test_sas_quantile_matches_r_type2(key):
    case = ref()["quantile"][key]
    x = np.atleast_1d(case["x"])
    for name, p in (("q1", .25), ("median", .5), ("q3", .75)):
        assert sas_quantile(x, p) == pytest.approx(case[name], rel=RTOL)
    # numpy's default (type 7) is different and documented as such
    assert np.quantile(x, .25) == pytest.approx(case["q1_type7"], rel=RTOL)
    assert np.quantile(x, .25, method="averaged_inverted_cdf") == pytest.approx(case["q1"], rel=RTOL)


def test_sas_quantile_differs_from_numpy_default():
    assert sas_quantile(range(1, 11), .25) == 3.0
    assert np.quantile(np.arange(1, 11), .25) == 3.25


@pytest.mark.parametrize("var,key", [("AGE", "summary_age"), ("BMIBL", "summary_bmi")])
def test_summary_matches_r_on_pilot_adsl(var, key):
    ard = ard_summary(adsl(), var, by="TRT01P")
    check_ard(ard)
    for arm in ARMS:
        want = ref()[key][arm]
        for stat, value in want.items():
            got = get_stat(ard, stat, group1_level=arm, variable=var)
            assert got == pytest.approx(value, rel=RTOL), (arm, stat)


def test_summary_rows_and_formats():
    ard = ard_summary(adsl(), ["AGE"], by="TRT01P")
    assert set(ard["group1"]) == {"TRT01P"}
    assert list(ard["stat_name"][:8]) == ["N", "mean", "sd", "median", "q1", "q3", "min", "max"]
    fmts = dict(zip(ard["stat_name"], ard["fmt"]))
    assert fmts == {"N": "int", "mean": "d1", "sd": "d2", "median": "d1", "q1": "d1", "q3": "d1",
                    "min": "d0", "max": "d0"}
    assert ard["code"].str.startswith("trialsupp.stats.descriptive:ard_summary@").all()


def test_summary_empty_arm_and_empty_selection():
    df = adsl()
    df = df[df["TRT01P"] != "Placebo"]  # categorical keeps the empty level
    ard = ard_summary(df, "AGE", by="TRT01P")
    check_ard(ard)
    assert get_stat(ard, "N", group1_level="Placebo") == 0
    row = ard[(ard.group1_level == "Placebo") & (ard.stat_name == "mean")].iloc[0]
    assert row["stat"] is None and row["error"] == "no non-missing values"
    empty = ard_summary(df.iloc[0:0], "AGE", by="TRT01P")     # an empty population shows NE, not nothing
    check_ard(empty)
    assert set(empty.loc[empty.stat_name == "N", "stat"]) == {0}
    assert (empty.loc[empty.stat_name == "mean", "error"] == "no non-missing values").all()
    one = ard_summary(pd.DataFrame({"x": [1.0]}), "x")
    check_ard(one)
    assert one.loc[one.stat_name == "sd", "error"].iloc[0].startswith("SD needs")


def test_summary_strata_goes_to_group2():
    ard = ard_summary(adsl(), "AGE", by="TRT01P", strata="SEX", statistic=("N",))
    check_ard(ard)
    assert set(ard["group2"]) == {"SEX"}
    assert ard["stat"].sum() == 254


def test_tabulate_with_population_denominator():
    df = adsl()
    ard = ard_tabulate(df, "RACE", by="TRT01P", denominator=df)
    check_ard(ard)
    counts = ref()["tab_race"]
    for arm in ARMS:
        for race, n in counts[arm].items():
            assert get_stat(ard, "n", group1_level=arm, variable_level=race) == n
            big_n = get_stat(ard, "N", group1_level=arm, variable_level=race)
            assert big_n == (df["TRT01P"] == arm).sum()
            assert get_stat(ard, "p", group1_level=arm, variable_level=race) == pytest.approx(n / big_n)
    assert set(ard.loc[ard.stat_name == "p", "fmt"]) == {"pct0"}  # N < 100


def test_tabulate_distinct_ids_and_nonmissing_denominator():
    adae = pd.DataFrame({"USUBJID": ["1", "1", "2", "3", "4"], "TRT": ["A", "A", "A", "B", "B"],
                         "SOC": ["Skin", "Skin", "Skin", "Skin", None]})
    adsl_ = pd.DataFrame({"USUBJID": [str(i) for i in range(1, 206)],
                          "TRT": ["A"] * 105 + ["B"] * 100})
    ard = ard_tabulate(adae, "SOC", by="TRT", denominator=adsl_, id="USUBJID")
    check_ard(ard)
    assert get_stat(ard, "n", group1_level="A") == 2
    assert get_stat(ard, "N", group1_level="A") == 105
    assert get_stat(ard, "fmt" if False else "p", group1_level="B") == pytest.approx(1 / 100)
    assert set(ard.loc[ard.stat_name == "p", "fmt"]) == {"pct1"}
    ard2 = ard_tabulate(adae, "SOC", by="TRT")
    assert get_stat(ard2, "N", group1_level="B") == 1  # non-missing n
    assert len(ard_tabulate(adae.iloc[0:0], "SOC", by="TRT")) == 0


def test_tabulate_zero_denominator_is_error_row():
    adae = pd.DataFrame({"TRT": ["A"], "SOC": ["Skin"]})
    pop = pd.DataFrame({"TRT": ["A", "B"]}).iloc[[0]]
    pop = pd.concat([pop, pd.DataFrame({"TRT": []})])
    df = adae.assign(TRT=pd.Categorical(adae.TRT, categories=["A", "B"]))
    ard = ard_tabulate(df, "SOC", by="TRT", denominator=pop)
    check_ard(ard)
    row = ard[(ard.group1_level == "B") & (ard.stat_name == "p")].iloc[0]
    assert row["stat"] is None and "zero" in row["error"]


def test_geomean_matches_r():
    r = ref()["geomean_alt_base"]
    adlb = xpt("adlbc")
    ids = set(ref()["ancova_alt_log"]["usubjid"])
    alt = adlb[(adlb.PARAMCD == "ALT") & (adlb.AVISITN == 24) & adlb.USUBJID.isin(ids)]
    alt = alt.drop_duplicates("USUBJID")
    ard = ard_geomean(alt, "BASE", by="TRTP")
    check_ard(ard)
    for arm in ARMS:
        for stat in ("N", "geomean", "conf.low", "conf.high"):
            assert get_stat(ard, stat, group1_level=arm) == pytest.approx(r[arm][stat], rel=RTOL)


def test_geomean_nonpositive_is_error_not_nan():
    ard = ard_geomean(pd.DataFrame({"x": [1.0, 0.0, 2.0]}), "x")
    check_ard(ard)
    assert ard.loc[ard.stat_name == "geomean", "error"].iloc[0].startswith("1 non-positive")
    assert not any(isinstance(v, float) and math.isnan(v) for v in ard["stat"])
