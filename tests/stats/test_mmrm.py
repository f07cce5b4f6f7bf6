"""MMRM validated against independent software (R nlme/emmeans/lme4/pbkrtest) and exact theory.

Reference values: tests/reference/mmrm/adas_mmrm_reference.json, written by
tests/reference/mmrm/adas_mmrm_reference.R (see the README there).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialsupp.ard.schema import check_ard
from trialsupp.stats.exceptions import ConvergenceWarning, NotEstimableError
from trialsupp.stats.mmrm import MMRMFitter

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests/reference/mmrm/adas_mmrm_reference.json").read_text())
KW = dict(outcome="CHG", visit="AVISIT", group="TRTP", covariates=["SITEGR1", "BASE"],
          interactions=[("BASE", "AVISIT")])
TOL = 1e-4


@pytest.fixture(scope="module")
def adas():
    d = pd.read_sas(ROOT / "data/cdiscpilot01/adadas.xpt", encoding="latin1")
    return d[(d.PARAMCD == "ACTOT") & (d.EFFFL == "Y") & (d.ITTFL == "Y") & d.AVISITN.isin([8, 16, 24])
             & (d.DTYPE == "") & (d.ANL01FL == "Y")]


def _norm(term):  # R orders interaction parts by formula position; compare as sets
    return ":".join(sorted(term.split(":")))


def _compare_coefs(fit, ref, se_key="std.error", se_scale=1.0):
    b = pd.Series(ref["estimate"], index=[_norm(t) for t in ref["term"]])
    s = pd.Series(ref[se_key], index=b.index)
    mb = fit.beta_.rename(index=_norm)[b.index]
    ms = pd.Series(np.sqrt(np.diag(fit.vcov_beta_)), index=fit.beta_.rename(index=_norm).index)[b.index]
    # estimates relative to their SE (some coefficients are ~0); SEs relative
    return float((abs(mb - b) / s).max()), float((abs(ms * se_scale - s) / s).max())


@pytest.mark.parametrize("cov", ["us", "toep", "ar1", "cs"])
def test_reml_fit_matches_nlme_gls(adas, cov):
    fit = MMRMFitter(covariance=cov, df_method="satterthwaite").fit(adas, **KW)
    ref = REF[cov]
    assert fit.structure_used_ == cov and fit.converged_
    eb, es = _compare_coefs(fit, ref)
    assert eb < TOL and es < TOL
    assert fit.m2loglik_ == pytest.approx(-2 * ref["logLik"], rel=1e-8)
    if "sigma" in ref:
        assert np.allclose(fit.covariance_matrix_.to_numpy(), np.array(ref["sigma"]), rtol=TOL)


def test_ml_fit_matches_nlme_gls(adas):
    fit = MMRMFitter(df_method="satterthwaite", reml=False).fit(adas, **KW)
    n, p = fit.n_obs_, len(fit.beta_)
    # nlme reports ML standard errors scaled by sqrt(N / (N - p))
    eb, es = _compare_coefs(fit, REF["us_ml"], se_scale=np.sqrt(n / (n - p)))
    assert eb < TOL and es < TOL
    assert fit.m2loglik_ == pytest.approx(-2 * REF["us_ml"]["logLik"], rel=1e-8)


def test_lsmeans_match_emmeans_on_gls(adas):
    fit = MMRMFitter(df_method="satterthwaite").fit(adas, **KW)
    ls, ref = fit.lsmeans(), REF["us"]["emm_satterthwaite"]["lsmeans"]
    assert list(ls.index.get_level_values(0)) == ref["visit"]
    assert list(ls.index.get_level_values(1)) == ref["arm"]
    se = np.array(ref["std.error"])
    assert np.max(abs(ls["estimate"] - ref["estimate"]) / se) < TOL
    assert np.max(abs(ls["std.error"] - se) / se) < TOL
    # emmeans uses "appx-satterthwaite" for gls (numerical derivatives in nlme's
    # unconstrained parameters), so its df agree only to ~1%
    assert np.max(abs(ls["df"] - ref["df"]) / np.array(ref["df"])) < 0.01
    d, rd = fit.lsmeans_diff(), REF["us"]["emm_satterthwaite"]["diffs"]
    sd = np.array(rd["std.error"])
    assert np.max(abs(d["estimate"] - rd["estimate"]) / sd) < TOL
    assert np.max(abs(d["std.error"] - sd) / sd) < TOL
    assert np.max(abs(d["p.value"] - rd["p.value"])) < 1e-3


def test_kenward_roger_cs_matches_pbkrtest(adas):
    # lmer random intercept == CS; pbkrtest uses the expected information
    fit = MMRMFitter(covariance="cs", information="expected").fit(adas, **KW)
    ref = REF["cs_lmer"]
    assert np.allclose(fit.theta_.to_numpy(), ref["vc"], rtol=TOL)
    eb, es = _compare_coefs(fit, ref, se_key="std.error.kr")
    assert eb < TOL and es < TOL
    for mine, theirs in ((fit.lsmeans(), ref["emm_kr"]["lsmeans"]),
                         (fit.lsmeans_diff(), ref["emm_kr"]["diffs"])):
        se = np.array(theirs["std.error"])
        assert np.max(abs(mine["estimate"] - theirs["estimate"]) / se) < TOL
        assert np.max(abs(mine["std.error"] - se) / se) < TOL
        assert np.max(abs(mine["df"] - theirs["df"]) / np.array(theirs["df"])) < TOL


def _balanced_cs(seed=1, n_per_arm=8, n_visits=4):
    rng = np.random.default_rng(seed)
    rows = []
    for arm in ("A", "B", "C"):
        for i in range(n_per_arm):
            b = rng.normal(0, 2)
            for v in range(n_visits):
                rows.append({"USUBJID": f"{arm}{i}", "TRT": arm, "VIS": f"V{v + 1}",
                             "Y": 10 + v + (arm == "B") + b + rng.normal(0, 1)})
    return pd.DataFrame(rows)


def test_kr_equals_classical_split_plot_df():
    d = _balanced_cs()
    fit = MMRMFitter(covariance="cs").fit(d, outcome="Y", visit="VIS", group="TRT")
    n_sub, g, t = 24, 3, 4
    L = fit.lsmeans_L()
    # arm difference averaged over visits: between-subject stratum, df = n_sub - g
    arm = (L.xs("B", level=1).mean() - L.xs("A", level=1).mean()).to_numpy()
    assert fit.contrast(arm)["df"].iloc[0] == pytest.approx(n_sub - g, rel=1e-6)
    # visit difference within an arm: within-subject stratum, df = (n_sub - g)(t - 1)
    vis = (L.loc[("V2", "A")] - L.loc[("V1", "A")]).to_numpy()
    assert fit.contrast(vis)["df"].iloc[0] == pytest.approx((n_sub - g) * (t - 1), rel=1e-6)
    # the between-subject F test equals the classical split-plot ANOVA F
    means = d.groupby("USUBJID").agg(Y=("Y", "mean"), TRT=("TRT", "first"))
    grand = means.Y.mean()
    ss_trt = t * sum(len(gm) * (gm.Y.mean() - grand) ** 2 for _, gm in means.groupby("TRT"))
    ss_sub = t * sum(((gm.Y - gm.Y.mean()) ** 2).sum() for _, gm in means.groupby("TRT"))
    f_classic = (ss_trt / (g - 1)) / (ss_sub / (n_sub - g))
    arm2 = (L.xs("C", level=1).mean() - L.xs("A", level=1).mean()).to_numpy()
    res = fit.f_test(np.vstack([arm, arm2]))
    assert res["statistic"] == pytest.approx(f_classic, rel=1e-6)
    assert res["df.den"] == pytest.approx(n_sub - g, rel=1e-6)


def test_missing_outcomes_use_observed_visits(adas):
    fit = MMRMFitter().fit(adas, **KW)
    assert fit.n_obs_ == REF["n_obs"] and fit.n_subjects_ == REF["n_subjects"]
    assert len(fit.data_.patterns) > 1


def test_to_ard_schema_and_method(adas):
    fit = MMRMFitter().fit(adas, **KW)
    ard = fit.to_ard()
    check_ard(ard)
    method = ard.loc[ard.stat_name == "method", "stat"].iloc[0]
    assert method == "MMRM, REML, unstructured covariance, Kenward-Roger df"
    assert ard.loc[ard.stat_name == "covariance", "stat"].iloc[0] == "us"
    assert {"estimate", "std.error", "df", "conf.low", "conf.high", "statistic", "p.value"} \
        <= set(ard.stat_name)
    assert ard["code"].str.contains("MMRMFitter.to_ard@").all()


def test_fallback_records_structure():
    # 6 subjects x 5 visits: the unstructured covariance (15 parameters) is not estimable
    d = _balanced_cs(seed=3, n_per_arm=2, n_visits=5)
    with pytest.warns(ConvergenceWarning):
        fit = MMRMFitter().fit(d, outcome="Y", visit="VIS", group="TRT", group_by_visit=False)
    assert fit.structure_used_ != "us"
    ard = fit.to_ard()
    assert ard["warning"].str.contains("fell back").all()
    assert ard.loc[ard.stat_name == "covariance", "stat"].iloc[0] == fit.structure_used_


def test_bad_input_errors():
    d = _balanced_cs()
    with pytest.raises(NotEstimableError, match="constant"):
        MMRMFitter().fit(d.assign(Y=1.0), outcome="Y", visit="VIS", group="TRT")
    one = d[(d.VIS != "V4") | (d.USUBJID == "A0")]
    with pytest.raises(NotEstimableError, match="V4.*1 subject"):
        MMRMFitter().fit(one, outcome="Y", visit="VIS", group="TRT")
    with pytest.raises(ValueError, match="missing covariate values.*X"):
        MMRMFitter().fit(d.assign(X=np.where(np.arange(len(d)) == 0, np.nan, 1.0)),
                         outcome="Y", visit="VIS", group="TRT", covariates=["X"])
    empty = d.assign(TRT=pd.Categorical(d.TRT, categories=["A", "B", "C", "D"]))
    with pytest.raises(NotEstimableError, match="arm TRT='D'"):
        MMRMFitter().fit(empty, outcome="Y", visit="VIS", group="TRT")
    hole = d[~((d.TRT == "B") & (d.VIS == "V3"))]
    with pytest.raises(NotEstimableError, match="singular design"):
        MMRMFitter().fit(hole, outcome="Y", visit="VIS", group="TRT")
