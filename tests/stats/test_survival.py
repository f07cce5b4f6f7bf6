"""KaplanMeier and LogRankTest against R survival 3.5 (tests/reference/survival/make_survival_reference.R)."""
import numpy as np
import pandas as pd
import pytest

from trialsupp.ard.schema import check_ard, get_stat
from trialsupp.stats.exceptions import NotEstimableError
from trialsupp.stats.survival import KaplanMeier, LogRankTest, event_from_cnsr

from ._survival_ref import adtte, csv, load_json, relerr

REF = load_json("survival_reference.json")
TAGS = {"log-log": "loglog", "log": "log", "plain": "plain"}


def datasets():
    return {"lung": (csv("lung.csv"), "time", "event", "sex"),
            "veteran": (csv("veteran.csv"), "time", "status", "trt"),
            "adtte": (adtte(), "AVAL", "EVENT", "TRTA"),
            **{f"tiny_{k}": (csv(f"tiny_{k}.csv"), "time", "event", None)
               for k in ("half_mid", "half_end", "ties", "to_zero")}}


@pytest.mark.parametrize("conf_type", list(TAGS))
@pytest.mark.parametrize("name", ["lung", "veteran", "adtte", "tiny_half_mid", "tiny_half_end", "tiny_ties",
                                  "tiny_to_zero"])
def test_km_table_matches_survfit(name, conf_type):
    df, t, e, by = datasets()[name]
    km = KaplanMeier(conf_type=conf_type).fit(df, t, e, by=by)
    r = csv(f"km_{name}_{TAGS[conf_type]}.csv")
    want = r["strata"].astype(str).replace("all", "Overall").tolist()
    assert km.table_["group"].astype(str).tolist() == want
    for ours, theirs in [("time", "time"), ("n_risk", "n.risk"), ("n_event", "n.event"), ("n_censor", "n.censor")]:
        np.testing.assert_array_equal(km.table_[ours].to_numpy(float), r[theirs].to_numpy(float))
    for ours, theirs in [("surv", "surv"), ("std_err", "std.err"), ("conf_low", "lower"), ("conf_high", "upper")]:
        x, y = km.table_[ours].to_numpy(float), r[theirs].to_numpy(float)
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y))
        np.testing.assert_array_equal(np.isinf(x), np.isinf(y))
        ok = np.isfinite(y)
        assert relerr(x[ok], y[ok]) <= 1e-10


@pytest.mark.parametrize("conf_type", list(TAGS))
@pytest.mark.parametrize("name", ["lung", "veteran", "adtte", "tiny_half_mid", "tiny_half_end", "tiny_ties",
                                  "tiny_to_zero"])
def test_quantiles_match_quantile_survfit(name, conf_type):
    """Median/quartiles and their Brookmeyer-Crowley CIs exactly as R (incl. flat-segment midpoints)."""
    df, t, e, by = datasets()[name]
    q = KaplanMeier(conf_type=conf_type).fit(df, t, e, by=by).quantiles_
    r = REF["km"][conf_type][name]
    for ours, theirs in [("estimate", "quantile"), ("conf_low", "lower"), ("conf_high", "upper")]:
        want = np.array(r[theirs], dtype=float).ravel()
        np.testing.assert_array_equal(q[ours].to_numpy(float), want)  # NaN == not reached in both


def test_flat_segment_rules_by_hand():
    km = KaplanMeier().fit(csv("tiny_half_mid.csv"), "time", "event")
    assert km.quantiles_.set_index("stat_name").loc["median", "estimate"] == 4.0  # S = 0.5 on [3, 5)
    km = KaplanMeier().fit(csv("tiny_half_end.csv"), "time", "event")
    assert km.quantiles_.set_index("stat_name").loc["median", "estimate"] == 3.0  # ends at 0.5: (2 + 4) / 2


def test_median_equals_print_survfit():
    km = KaplanMeier().fit(csv("lung.csv"), "time", "event", by="sex")
    med = km.quantiles_[km.quantiles_["stat_name"] == "median"]
    p = REF["km"]["print_lung"]
    assert med["estimate"].tolist() == p["median"]
    assert med["conf_low"].tolist() == p["lcl"]
    assert med["conf_high"].tolist() == p["ucl"]


def test_adtte_at_risk_pilot1_figure():
    """Numbers at risk of R Submission Pilot 1 KM figure (TTDE, safety population) at 0, 20, ..., 200 days."""
    km = KaplanMeier().fit(adtte(), "AVAL", "EVENT", by="TRTA")
    times = list(range(0, 201, 20))
    ar = km.at_risk(times)
    ref = pd.DataFrame(REF["adtte_cum"])
    m = ar.merge(ref, left_on=["group", "time"], right_on=["strata", "time"])
    assert len(m) == len(ar) == 33
    np.testing.assert_array_equal(m["n_risk"], m["n.risk"])
    np.testing.assert_array_equal(m["n_event"], m["cum.event"])
    np.testing.assert_array_equal(m["n_censor"], m["cum.censor"])
    s = pd.DataFrame(REF["adtte_at_risk"])  # summary(survfit, times=, extend=TRUE)
    m2 = ar.merge(s, left_on=["group", "time"], right_on=["strata", "time"])
    np.testing.assert_array_equal(m2["n_risk"], m2["n.risk"])
    assert ar.query("time == 0")["n_risk"].tolist() == [86, 84, 84]
    ard = km.at_risk_ard(times)
    check_ard(ard)
    assert set(ard["stat_name"]) == {"n_risk", "n_event", "n_censor"}
    assert get_stat(ard, "n_risk", group1_level="Placebo", variable_level=0.0) == 86


def test_survival_at_times():
    km = KaplanMeier(conf_type="log-log").fit(csv("lung.csv"), "time", "event", by="sex")
    got = km.survival_at([100, 365, 500])
    ref = pd.DataFrame(REF["lung_at_times"])  # default conf.type "log" in the R summary
    km_log = KaplanMeier(conf_type="log").fit(csv("lung.csv"), "time", "event", by="sex").survival_at([100, 365, 500])
    r = ref[ref["time"].isin([100, 365, 500])]
    assert relerr(km_log["surv"], r["surv"]) <= 1e-10
    assert relerr(km_log["conf_low"], r["lower"]) <= 1e-10
    assert relerr(km_log["conf_high"], r["upper"]) <= 1e-10
    assert (got["conf_low"] < got["surv"]).all()
    ard = km.survival_at_ard([0, 100, 5000])
    check_ard(ard)
    late = ard[(ard["variable_level"] == 5000.0)]
    assert late["stat"].isna().all() and late["error"].str.contains("after last follow-up").all()


def test_to_ard_not_reached_is_explicit():
    km = KaplanMeier().fit(adtte(), "AVAL", "EVENT", by="TRTA")
    ard = km.to_ard()
    check_ard(ard)
    row = ard[(ard["group1_level"] == "Placebo") & (ard["stat_name"] == "median")]
    assert row["stat"].isna().all() and row["error"].str.contains("not reached").all()
    assert get_stat(ard, "n_event", group1_level="Placebo") == 29
    assert "log-log" in ard["method"].iloc[0] and ard["code"].str.contains("survival:KaplanMeier.fit@").all()


@pytest.mark.parametrize("key,kw", [
    ("lung_sex", dict(df="lung", time="time", event="event", group="sex")),
    ("lung_sex_rho1", dict(df="lung", time="time", event="event", group="sex", rho=1)),
    ("lung_sex_rho05", dict(df="lung", time="time", event="event", group="sex", rho=0.5)),
    ("vet_trt_strata", dict(df="veteran", time="time", event="status", group="trt", strata="celltype")),
    ("vet_trt_strata_rho1", dict(df="veteran", time="time", event="status", group="trt", strata="celltype", rho=1)),
    ("vet_celltype", dict(df="veteran", time="time", event="status", group="celltype",
                          levels=["squamous", "smallcell", "adeno", "large"])),
    ("adtte_trta", dict(df="adtte", time="AVAL", event="EVENT", group="TRTA")),
])
def test_logrank_matches_survdiff(key, kw):
    kw = dict(kw)
    name = kw.pop("df")
    df = adtte() if name == "adtte" else csv(f"{name}.csv")
    lr = LogRankTest(rho=kw.pop("rho", 0)).fit(df, **kw)
    r = REF["survdiff"][key]
    assert lr.df_ == r["df"]
    assert relerr(lr.statistic_, r["chisq"]) <= 1e-10
    assert relerr(lr.p_value_, r["p"]) <= 1e-8
    assert relerr(lr.observed_, r["obs"]) <= 1e-10
    assert relerr(lr.expected_, r["exp"]) <= 1e-10
    assert relerr(lr.variance_.to_numpy().ravel(), np.array(r["var"]).ravel()) <= 1e-10
    check_ard(lr.to_ard())


def test_event_from_cnsr():
    s = pd.Series([0, 1, 2, 0], index=[5, 6, 7, 8])
    assert event_from_cnsr(s).tolist() == [1, 0, 0, 1]
    assert list(event_from_cnsr(s).index) == [5, 6, 7, 8]
    with pytest.raises(ValueError, match=r"\[1\]"):
        event_from_cnsr(pd.Series([0, np.nan]))


def test_bad_input_messages():
    df = pd.DataFrame({"t": [1.0, -2, 3, np.nan], "e": [1, 0, 1, 1], "g": ["a", "b", "a", "b"]})
    with pytest.raises(ValueError, match=r"'t'.*missing.*\[3\]"):
        KaplanMeier().fit(df, "t", "e")
    with pytest.raises(ValueError, match=r"'t'.*>= 0.*\[1\]"):
        KaplanMeier().fit(df.iloc[:3], "t", "e")
    with pytest.raises(ValueError, match=r"'e'.*0/1.*\[0\]"):
        KaplanMeier().fit(df.assign(e=[2, 0, 1, 1]).iloc[[0, 2]], "t", "e")
    with pytest.raises(NotEstimableError, match="no rows"):
        KaplanMeier().fit(df.iloc[[0, 2]], "t", "e", by="g", levels=["a", "b"])
    with pytest.raises(NotEstimableError, match="no rows"):
        KaplanMeier().fit(df.iloc[:0], "t", "e")
    cens = pd.DataFrame({"t": [1.0, 2, 3, 4], "e": [0, 0, 0, 0], "g": ["a", "b", "a", "b"]})
    with pytest.raises(NotEstimableError, match="no events"):
        LogRankTest().fit(cens, "t", "e", "g")
    with pytest.warns(UserWarning, match="no events"):
        ard = KaplanMeier().fit(cens, "t", "e", by="g").to_ard()
    check_ard(ard)
    assert ard.loc[ard["stat_name"] == "median", "error"].str.contains("not reached").all()
