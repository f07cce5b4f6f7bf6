"""CoxPH against R coxph (survival 3.5; tests/reference/survival/make_survival_reference.R)."""
import numpy as np
import pandas as pd
import pytest

from trialsupp.ard.schema import check_ard, get_stat
from trialsupp.stats.cox import CoxPH
from trialsupp.stats.exceptions import ConvergenceWarning, NotEstimableError
from trialsupp.stats.survival import LogRankTest

from ._survival_ref import adtte, csv, load_json, relerr

REF = load_json("survival_reference.json")["cox"]
TOL = 1e-4  # iterative


def fit(key):
    lcc, vet = csv("lung_cc.csv"), csv("veteran.csv")
    ties = "breslow" if key.endswith("breslow") else "efron"
    if key.startswith("lung_sex"):
        return CoxPH(ties=ties).fit(lcc, "time", "event", covariates="sex")
    if key.startswith("lung"):
        return CoxPH(ties=ties).fit(lcc, "time", "event", covariates=["sex", "age", "ph.ecog"])
    if key.startswith("vet"):
        return CoxPH(ties=ties).fit(vet, "time", "status", covariates=["trt", "karno"], strata="celltype")
    return CoxPH(ties=ties).fit(adtte(), "AVAL", "EVENT", treatment="TRTA", reference="Placebo")


@pytest.mark.parametrize("key", ["lung_efron", "lung_breslow", "lung_sex_efron", "lung_sex_breslow",
                                 "vet_strata_efron", "vet_strata_breslow", "adtte_efron"])
def test_matches_coxph(key):
    m, r = fit(key), REF[key]
    if key == "adtte_efron":  # R orders levels Low, High; ours sorted: High, Low
        order = [1, 0]
        r = {k: (list(np.array(v)[order]) if k in ("coef", "se", "z", "p", "hr", "lower", "upper") else v)
             for k, v in r.items()}
    s = m.summary
    assert relerr(s["coef"], r["coef"]) <= TOL
    assert relerr(s["std.error"], r["se"]) <= TOL
    assert relerr(s["statistic"], r["z"]) <= TOL
    assert relerr(s["p.value"], r["p"]) <= TOL
    assert relerr(s["estimate"], r["hr"]) <= TOL
    assert relerr(s["conf.low"], r["lower"]) <= TOL
    assert relerr(s["conf.high"], r["upper"]) <= TOL
    assert relerr([m.loglik_null_, m.loglik_], r["loglik"]) <= 1e-8
    assert relerr(m.score_test_["statistic"], r["score"]) <= TOL
    assert relerr(m.lr_test_["statistic"], r["lrt"]) <= TOL
    assert relerr(m.wald_test_["statistic"], r["wald"]) <= TOL
    assert m.n_ == r["n"] and m.n_event_ == r["nevent"]
    ard = m.to_ard()
    check_ard(ard)


def test_score_test_is_logrank():
    """Without tied times the score test of one binary covariate is the log-rank chi-square."""
    lcc = csv("lung_cc.csv")
    lcc["time"] = lcc["time"] + np.arange(len(lcc)) * 1e-4  # break ties
    m = CoxPH(ties="breslow").fit(lcc, "time", "event", treatment="sex")
    lr = LogRankTest().fit(lcc, "time", "event", "sex")
    assert relerr(m.score_test_["statistic"], lr.statistic_) <= 1e-10


def test_ard_treatment_rows():
    m = fit("adtte_efron")
    ard = m.to_ard()
    hr = get_stat(ard, "estimate", group1_level="Xanomeline High Dose")
    assert hr == pytest.approx(np.exp(m.params_["TRTA[Xanomeline High Dose]"]))
    assert get_stat(ard, "p.value", variable_level="lr") == pytest.approx(m.lr_test_["p.value"])
    assert "Efron" in ard["method"].iloc[0]


def test_bad_input():
    df = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6], "e": [0] * 6, "g": list("ababab")})
    with pytest.raises(NotEstimableError, match="no events"):
        CoxPH().fit(df, "t", "e", treatment="g")
    with pytest.raises(NotEstimableError, match="only one level"):
        CoxPH().fit(df.assign(e=1, g="a"), "t", "e", treatment="g")
    with pytest.raises(ValueError, match=r"'x'.*missing.*\[2\]"):
        CoxPH().fit(df.assign(e=1, x=[1, 2, None, 4, 5, 6]), "t", "e", covariates="x")
    # no events in one arm: monotone likelihood -> warning and a not-estimable ARD row
    mono = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6, 7, 8], "e": [1, 1, 1, 1, 0, 0, 0, 0], "g": list("aaaabbbb")})
    with pytest.warns(ConvergenceWarning, match="infinite"):
        m = CoxPH().fit(mono, "t", "e", treatment="g")
    ard = m.to_ard()
    check_ard(ard)
    row = ard[(ard["stat_name"] == "estimate") & (ard["group1_level"] == "b")]
    assert row["stat"].isna().all() and row["error"].str.contains("infinite").all()
