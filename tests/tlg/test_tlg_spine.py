"""The argument spine of trialsupp.tlg on small hand-made ADaM frames: population selection,
screen failures, arm from ADSL, clear errors, decimals from the measurement, independent pandas."""
import numpy as np
import pandas as pd
import pytest

from trialsupp import tlg
from trialsupp.ard.fmt import JAMA
from trialsupp.ard.schema import check_ard
from trialsupp.ard.store import place
from trialsupp.display import select
from trialsupp.tlg._spine import measurement_decimals, summary_fmt


def _adsl(n=30, seed=1):
    rng = np.random.default_rng(seed)
    arm = np.array(["Drug", "Placebo"] * (n // 2))
    d = pd.DataFrame({"USUBJID": [f"S{i:03d}" for i in range(n)], "TRT01A": arm,
                      "TRT01AN": np.where(arm == "Placebo", 0, 1), "SAFFL": "Y",
                      "AGE": rng.integers(40, 80, n).astype(float), "SEX": rng.choice(["M", "F"], n),
                      "EOSSTT": rng.choice(["COMPLETED", "DISCONTINUED"], n), "TRTDURD": rng.integers(1, 200, n)})
    d["DCSREAS"] = np.where(d["EOSSTT"] == "DISCONTINUED", rng.choice(["Adverse Event", "Withdrew Consent"], n), "")
    sf = pd.DataFrame({"USUBJID": ["SF1", "SF2"], "TRT01A": ["Screen Failure", ""], "TRT01AN": [np.nan, np.nan],
                       "SAFFL": ["N", "N"], "AGE": [50.0, 51.0], "SEX": ["M", "F"], "EOSSTT": ["DISCONTINUED"] * 2,
                       "TRTDURD": [np.nan, np.nan], "DCSREAS": ["Screen Failure"] * 2})
    return pd.concat([d, sf], ignore_index=True)


def _placed(out):
    check_ard(out.ard)
    return place(out.ard, output="t", analysis_id=out.name, population=out.population, rules=JAMA)


def test_demographics_arm_order_by_numeric_code_and_total_against_pandas():
    adsl = _adsl()
    p = _placed(tlg.demographics(adsl, ["AGE", "SEX"]))
    saf = adsl[adsl["SAFFL"] == "Y"]
    hdr = select(p, variable="TRT01A", stat_name="n")
    assert list(hdr["variable_level"]) == ["Placebo", "Drug", "Total"]        # TRT01AN 0 before 1
    for arm, g in list(saf.groupby("TRT01A")) + [("Total", saf)]:
        assert select(p, variable="AGE", group1_level=arm, stat_name="mean")["stat"].iloc[0] == \
            pytest.approx(g["AGE"].mean())
        assert select(p, variable="AGE", group1_level=arm, stat_name="sd")["stat"].iloc[0] == \
            pytest.approx(g["AGE"].std(ddof=1))
        assert select(p, variable="SEX", variable_level="Male", group1_level=arm, stat_name="n")["stat"].iloc[0] \
            == (g["SEX"] == "M").sum()


def test_screen_failures_and_blank_arms_are_left_out_without_a_flag():
    adsl = _adsl()
    p = _placed(tlg.disposition(adsl))                 # default: no population flag, all randomised
    assert select(p, variable="TRT01A", variable_level="Total", stat_name="n")["stat"].iloc[0] == 30
    assert "Screen Failure" not in set(p["group1_level"].dropna())
    reasons = set(select(p, variable="DCSREAS")["variable_level"])
    assert reasons == {"Adverse Event", "Withdrew Consent"}


def test_ae_arm_comes_from_adsl_when_adae_has_no_trta():
    adsl = _adsl()
    adae = pd.DataFrame({"USUBJID": ["S000", "S000", "S001", "S002"], "TRTEMFL": "Y",
                         "AEBODSYS": ["SOC A", "SOC A", "SOC A", "SOC B"], "AEDECOD": ["PT1", "PT2", "PT1", "PT3"]})
    p = _placed(tlg.ae_by_soc_pt(adae, adsl))
    # S000 and S002 are Drug, S001 Placebo; S000 counted once in SOC A
    assert select(p, variable="AEBODSYS", variable_level="SOC A", group1_level="Drug", stat_name="n")["stat"].iloc[0] == 1
    assert select(p, variable="ANYAE", group1_level="Drug", stat_name="n")["stat"].iloc[0] == 2
    assert select(p, variable="ANYAE", group1_level="Drug", stat_name="N")["stat"].iloc[0] == 15


def test_missing_variable_names_the_dataset_and_variable():
    adsl = _adsl().drop(columns=["SAFFL"])
    with pytest.raises(tlg.InputError, match=r"ADSL: variable\(s\) SAFFL not found"):
        tlg.demographics(adsl)
    adae = pd.DataFrame({"USUBJID": ["S000"], "TRTEMFL": "Y", "AEBODSYS": ["X"]})
    with pytest.raises(tlg.InputError, match=r"ADAE: variable\(s\) AEDECOD not found"):
        tlg.ae_by_soc_pt(adae, _adsl())


def test_bds_duplicate_records_are_an_error_naming_the_rows():
    adsl = _adsl()
    bds = pd.DataFrame({"USUBJID": ["S000", "S000"], "PARAMCD": "X", "PARAM": "X (u)", "AVISIT": "Week 1",
                        "AVAL": [1.0, 2.0]})
    with pytest.raises(tlg.InputError, match=r"2 rows share USUBJID/PARAMCD/AVISIT"):
        tlg.bds_by_visit(bds, adsl)


@pytest.mark.parametrize("values, k", [
    ([79.56, 88.4, 97.24, 70.72, 106.08, 61.88, 114.92, 123.76, 132.6], 0),   # creatinine umol/L from mg/dL
    (list(np.round(np.arange(2.0, 2.6, 0.02495), 5)), 2),                     # calcium mmol/L from mg/dL
    ([4.1, 4.4, 3.9, 5.0, 4.6], 1),                                           # potassium as recorded
    ([52.0, 89.0, 76.0], 0),                                                  # age
    ([162.6, 170.2, 155.0, 180.3, 166.1], 1),                                 # few heights: recorded decimals
])
def test_measurement_decimals(values, k):
    assert measurement_decimals(values) == k


def test_summary_formats_by_layout():
    assert summary_fmt([4.1, 4.4], "csr") == {"N": "int", "min": "d1", "max": "d1", "mean": "d2", "median": "d2",
                                              "q1": "d2", "q3": "d2", "sd": "d3"}
    assert summary_fmt([4.1, 4.4], "jama")["sd"] == "d2"          # JAMA: at most one more than the data
    with pytest.raises(ValueError, match="layout"):
        summary_fmt([1.0], "nejm")


def _adae(adsl, seed=2):
    rng = np.random.default_rng(seed)
    ids = adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"].to_numpy()
    n = 60
    pt = rng.choice(["Headache", "Nausea", "Rash", "Back pain"], n)
    soc = pd.Series(pt).map({"Headache": "Nervous system disorders", "Nausea": "Gastrointestinal disorders",
                             "Rash": "Skin disorders", "Back pain": "Musculoskeletal disorders"}).to_numpy()
    return pd.DataFrame({"USUBJID": rng.choice(ids, n), "AEDECOD": pt, "AEBODSYS": soc, "TRTEMFL": "Y",
                         "AESDTH": rng.choice(["Y", "N"], n, p=[0.1, 0.9])})


def test_demographics_statistics_geomean_fmt_and_levels_against_pandas():
    adsl = _adsl()
    adsl["CRP"] = np.random.default_rng(5).lognormal(1.0, 0.6, len(adsl)).round(1)
    out = tlg.demographics(adsl, ["AGE", "CRP", "SEX"], statistics={"AGE": ("N", "mean", "sd"), "CRP": "geomean"},
                           fmt={"AGE": {"mean": "d2"}}, levels={"SEX": ["Male", "Female", "Unknown"]})
    p = _placed(out)
    saf = adsl[adsl["SAFFL"] == "Y"]
    assert set(select(p, variable="AGE")["stat_name"]) == {"N", "mean", "sd"}
    assert select(p, variable="AGE", stat_name="mean")["fmt"].eq("d2").all()
    for arm, g in list(saf.groupby("TRT01A")) + [("Total", saf)]:
        got = select(p, variable="CRP", group1_level=arm, stat_name="geomean")["stat"].iloc[0]
        assert got == pytest.approx(float(np.exp(np.log(g["CRP"]).mean())), rel=1e-12)
        unknown = select(p, variable="SEX", variable_level="Unknown", group1_level=arm, stat_name="n")
        assert unknown["stat"].iloc[0] == 0                                # listed level kept with 0
    assert list(dict.fromkeys(select(p, variable="SEX")["variable_level"])) == ["Male", "Female", "Unknown"]
    txt = out.display(p).to_text()
    assert "geometric mean (95% CI)" in txt and "Median (IQR)" not in txt.split("Sex")[0].split("Age")[1]


def test_ae_overview_define_and_soc_pt_terms_and_filter_against_pandas():
    adsl = _adsl()
    adae = _adae(adsl)
    fatal = ("Fatal AE", ("AESDTH",), lambda ae: ae["AESDTH"] == "Y")
    p = _placed(tlg.ae_overview(adae, adsl, categories=["any", "fatal"], define={"fatal": fatal}))
    saf = adsl[adsl["SAFFL"] == "Y"]
    ae = adae.merge(saf[["USUBJID", "TRT01A"]], on="USUBJID")
    for arm, g in ae.groupby("TRT01A"):
        assert select(p, variable="AECAT", variable_level="Fatal AE", group1_level=arm, stat_name="n")["stat"].iloc[0] \
            == g.loc[g["AESDTH"] == "Y", "USUBJID"].nunique()
    extra = [("Cardiac disorders", "Palpitations")]
    pairs = sorted(set(zip(adae["AEBODSYS"], adae["AEDECOD"]))) + extra
    soc = tlg.ae_by_soc_pt(adae, adsl, terms=pairs)
    zero = select(soc.ard, variable="AEDECOD", variable_level="Palpitations", stat_name="n")
    assert len(zero) == 3 and zero["stat"].eq(0).all()                    # 2 arms + Total, zero counts
    for arm, g in ae.groupby("TRT01A"):
        n_arm = (saf["TRT01A"] == arm).sum()
        got = select(soc.ard, variable="AEDECOD", variable_level="Rash", group1_level=arm, stat_name="p")
        assert got["stat"].iloc[0] == pytest.approx(g.loc[g["AEDECOD"] == "Rash", "USUBJID"].nunique() / n_arm)
    # filter_terms: a PT stays when its incidence reaches the threshold in any arm; SOCs without terms go
    kept = tlg.filter_terms(soc.ard, 20.0)
    by_hand = set()
    for pt, g in ae.groupby("AEDECOD"):
        if max(g.loc[g["TRT01A"] == a, "USUBJID"].nunique() / (saf["TRT01A"] == a).sum() for a in ("Drug", "Placebo")) >= 0.2:
            by_hand.add(pt)
    assert set(kept.loc[kept["variable"] == "AEDECOD", "variable_level"]) == by_hand
    assert "Cardiac disorders" not in set(kept.loc[kept["variable"] == "AEBODSYS", "variable_level"])
