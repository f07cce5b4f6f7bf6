"""VALOR long-term supplement frame: key numbers of each element against independent
calculations (pandas/numpy by hand; R survival via tests/reference/valor/frame_reference.json)."""
from __future__ import annotations

import re

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialsupp.ard.schema import ard_rows

from studies.valor import displays as D
from studies.valor import safety as A
from studies.valor import survival as S
from studies.valor.baseline import baseline_ard
from studies.valor.consort import consort_ard
from studies.valor.design import config_ard, dictionary_ard
from trialsupp.display import select

REF = Path(__file__).resolve().parents[1] / "reference" / "valor" / "frame_reference.json"


def stat(ard, stat_name, **where):
    hit = select(ard, stat_name=stat_name, **where)
    assert len(hit) == 1, (stat_name, where, len(hit))
    return hit["stat"].iloc[0]


# ------------------------------------------------------------------ baseline
@pytest.fixture(scope="module")
def base(valor, sim, placer):
    return placer(baseline_ard(valor["adsl"], sim), "tbl-baseline", "baseline")


def test_baseline_against_pandas(valor, base):
    adsl = valor["adsl"]
    for grp, d in adsl.groupby("STARTGR"):
        assert stat(base, "mean", variable="AGE", group1_level=grp, group2_level=None) == pytest.approx(d["AGE"].mean())
        assert stat(base, "sd", variable="AGE", group1_level=grp, group2_level=None) == pytest.approx(d["AGE"].std(ddof=1))
        assert stat(base, "n", variable="SEX", variable_level="Male", group1_level=grp, group2_level=None) == (d["SEX"] == "M").sum()
        assert stat(base, "p", variable="SEX", variable_level="Male", group1_level=grp, group2_level=None) == pytest.approx((d["SEX"] == "M").mean())
        assert stat(base, "geomean", variable="NFLBL", group1_level=grp, group2_level=None) == \
            pytest.approx(math.exp(np.log(d["NFLBL"]).mean()))
        assert stat(base, "median", variable="ONSETMO", group1_level=grp, group2_level=None) == pytest.approx(d["ONSETMO"].median())
        for sg, ds in d.groupby("PROGGR1"):
            assert stat(base, "n", variable="STARTGR", variable_level=grp, group2_level=sg) == len(ds)
            assert stat(base, "mean", variable="BLALSFRS", group1_level=grp, group2_level=sg) == \
                pytest.approx(ds["BLALSFRS"].mean())
            assert stat(base, "n", variable="RILUFL", variable_level="Y", group1_level=grp, group2_level=sg) == \
                (ds["RILUFL"] == "Y").sum()
    assert stat(base, "n", variable="STARTGR", variable_level="Total", group2=None) == len(adsl)
    assert stat(base, "mean", variable="BLSVC", group1_level="Total", group2=None) == pytest.approx(adsl["BLSVC"].mean())
    # subgroups: no Total column; every figure comes from the standard output trialsupp.tlg.demographics
    assert not len(select(base, group1_level="Total", group2="PROGGR1"))
    assert all("ard_geomean" in str(c) for c in select(base, variable="NFLBL")["code"])


def test_baseline_table_text(base):
    t = D.baseline_table(base)
    txt = t.to_text()
    assert "Placebo / delayed start (n = 36)" in txt and "Early start (n = 72)" in txt and "Total (n = 108)" in txt
    assert "Placebo / delayed start (n = 21)" in txt        # faster progression subgroup
    row = next(r for r in t.data.rows if r.label == "Age, mean (SD), y")
    assert [row.cell(c.key).text for c in t.data.columns][4:6] == ["51.2 (11.5)", "48.1 (12.6)"]
    assert "P value" not in txt
    assert all(len(r.cell(c.key).ids) for r in t.data.rows if r.kind == "data" for c in t.data.columns)


# ------------------------------------------------------------------ CONSORT
def test_consort_against_pandas(valor, placer):
    adsl, adex = valor["adsl"], valor["adex"]
    c = placer(consort_ard(adsl, adex), "fig-consort", "consort")
    assert stat(c, "n", variable="randomized") == len(adsl)
    for arm, d in adsl.groupby("TRT01P"):
        assert stat(c, "n", variable="allocated", group1_level=arm) == len(d)
        assert stat(c, "n", variable="completed", group1_level=arm, variable_level=None) == (d["VALCMPFL"] == "Y").sum()
        assert stat(c, "n", variable="entered_ole", group1_level=arm) == (d["OLEFL"] == "Y").sum()
        assert stat(c, "n", variable="completed_ole", group1_level=arm) == (d["OLECMPFL"] == "Y").sum()
        ole_out = d[(d["OLEFL"] == "Y") & (d["OLECMPFL"] != "Y")]
        assert stat(c, "n", variable="died", group1_level=arm) == (ole_out["DCSREAS"] == "DEATH").sum()
        assert stat(c, "n", variable="withdrawn", group1_level=arm, variable_level=None) == \
            (ole_out["DCSREAS"] != "DEATH").sum()
        reasons = select(c, variable="discontinued", group1_level=arm)
        assert sum(s for s, l in zip(reasons["stat"], reasons["variable_level"]) if l is not None) == \
            (d["VALCMPFL"] != "Y").sum()
    # published shape: 95 of 108 entered the OLE; 46 completed (34 early, 12 delayed)
    assert sum(select(c, variable="entered_ole")["stat"]) == 95
    assert stat(c, "n", variable="completed_ole", group1_level="Tofersen 100 mg") == 34


# ------------------------------------------------------------------ safety
def test_safety_overview_against_pandas(valor, placer):
    adsl, adae = valor["adsl"], valor["adae"]
    o = placer(A.overview_ard(adsl, adae), "tbl-safety-overview", "overview")
    tof = adae[adae["TRTA"] == "Tofersen 100 mg"]
    n_tof = (adsl["TOFFL"] == "Y").sum()
    assert stat(o, "n", variable="POPULATION", group1_level=A.EVER_TOF) == n_tof == 104
    checks = {"any": tof, "serious": tof[tof["AESER"] == "Y"], "discontinued": tof[tof["AEACN"] == "DRUG WITHDRAWN"],
              "fatal": tof[tof["AESDTH"] == "Y"], "neuro": tof[tof["CQ01NAM"] != ""]}
    for key, sub in checks.items():
        assert stat(o, "n", variable="OVERVIEW", variable_level=key, group1_level=A.EVER_TOF) == sub["USUBJID"].nunique()
    # published: serious 36.5%, discontinued 17.3%, 9 serious neurological events, 14 deaths
    assert stat(o, "stat_fmt" if False else "p", variable="OVERVIEW", variable_level="serious",
                group1_level=A.EVER_TOF) == pytest.approx(38 / 104)
    fmt = select(o, variable="OVERVIEW", variable_level="discontinued", group1_level=A.EVER_TOF, stat_name="p")
    assert fmt["stat_fmt"].iloc[0] == "17.3"
    valor_ae = adae[adae["APERIOD"] == 1]
    for arm in ("Placebo", "Tofersen 100 mg"):
        sub = valor_ae[(valor_ae["TRT01P"] == arm) & (valor_ae["AESER"] == "Y")]
        assert stat(o, "n", variable="OVERVIEW", variable_level="serious", group1_level=arm) == sub["USUBJID"].nunique()


def test_ae_table_threshold_and_counts(valor, placer):
    adsl, adae = valor["adsl"], valor["adae"]
    full = A.soc_pt_ard(adsl, adae)
    shown = A.ae_table_ard(adsl, adae, threshold=0.10)
    pts = shown[shown["variable"] == "AEDECOD"]
    kept = set(zip(pts["group2_level"], pts["variable_level"]))
    tof = adae[adae["TRTA"] == "Tofersen 100 mg"]
    n_tof = (adsl["TOFFL"] == "Y").sum()
    valor_ae = adae[adae["APERIOD"] == 1]
    n_arm = adsl["TRT01P"].value_counts()
    by_hand = set()
    for (soc, pt), _ in adae.groupby(["AEBODSYS", "AEDECOD"]):
        props = [tof.loc[tof["AEDECOD"] == pt, "USUBJID"].nunique() / n_tof]
        for arm in n_arm.index:
            props.append(valor_ae.loc[(valor_ae["AEDECOD"] == pt) & (valor_ae["TRT01P"] == arm), "USUBJID"].nunique()
                         / n_arm[arm])
        if max(props) >= 0.10:
            by_hand.add((soc, pt))
    assert set(kept) == by_hand
    # SOC rows of the filtered table still count every term of the class
    assert len(shown[shown["variable"] == "AEBODSYS"]) == 3 * 3 * len({s for s, _ in kept})
    assert len(full[full["variable"] == "AEDECOD"]) == 3 * 3 * len(set(zip(adae["AEBODSYS"], adae["AEDECOD"])))
    placed = placer(shown, "tbl-ae", "soc-pt")
    assert stat(placed, "n", variable="AEDECOD", variable_level="Headache", group1_level=A.EVER_TOF) == \
        tof.loc[tof["AEDECOD"] == "Headache", "USUBJID"].nunique()
    soc = "Injury, poisoning and procedural complications"
    assert stat(placed, "n", variable="AEBODSYS", variable_level=soc, group1_level="Placebo") == \
        valor_ae.loc[(valor_ae["AEBODSYS"] == soc) & (valor_ae["TRT01P"] == "Placebo"), "USUBJID"].nunique()
    rule = placer(ard_rows({"threshold": 0.10}, variable="AEDECOD", context="selection", fmt={"threshold": "pct0"}),
                  "tbl-ae", "rule")
    t = D.ae_table(placed, rule)
    assert t.data.rows[0].label == "Any adverse event"
    # the threshold is a bound number of its own inside the footnote: compare the text
    assert "Preferred terms reported by 10% or more" in re.sub(r"<[^>]+>", "", t.to_html())


# ------------------------------------------------------------------ time to event vs R
@pytest.fixture(scope="module")
def tte(valor, sim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return S.tte_analysis(valor["adtte"], valor["adsl"], ["ITT", "Faster progression"], sim,
                              step=sim["visits"]["ole_every_weeks"])


def _close(a, b, rel=1e-6):
    if b is None:
        return a is None
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def test_tte_against_r(tte):
    ref = json.loads(REF.read_text())
    assert tte["tau"] == ref["tau"]
    for (pop, cd), ard in tte["parts"].items():
        r = ref["results"][S.analysis_id(pop, cd)]
        for g, label in (("Delayed start", "Delayed start"), ("Early start", "Early start")):
            km = select(ard, context="km", group1_level=g)
            assert stat(km, "n", variable_level=None) == r["n"][label]
            assert stat(km, "n_event", variable_level=None) == r["n_event"][label]
            med = select(km, variable_level="median")
            for name, want in zip(("median", "conf.low", "conf.high"), r["median"][label]):
                assert _close(stat(med, name), want), (pop, cd, g, name)
            rm = select(ard, context="rmst", group1_level=g, variable_level="rmst")
            assert _close(stat(rm, "estimate"), r["rmst"][label][0])
            assert _close(stat(rm, "std.error"), r["rmst"][label][1])
        hr = select(ard, context="cox", group1="STARTGR")
        for name, want in zip(("estimate", "conf.low", "conf.high"), r["hr"]):
            assert _close(stat(hr, name), want, 1e-5), (pop, cd, name)
        diff = select(ard, context="rmst", variable_level="difference")
        for name, want in zip(("estimate", "conf.low", "conf.high"), r["rmst_diff"]):
            assert _close(stat(diff, name), want), (pop, cd, name)


def test_at_risk_against_r(tte, sim):
    ref = json.loads(REF.read_text())
    for (pop, cd) in (("ITT", "DTHPV"), ("Faster progression", "DTH")):     # 2 of 4 keeps the test fast
        d = tte["data"][(pop, cd)]
        r = ref["results"][S.analysis_id(pop, cd)]["at_risk"]
        rows = S.curve_ard(d, r["times"], sim)
        risk = select(rows, context="km_at_risk", stat_name="n_risk")
        for g, key in (("Delayed start", "delayed"), ("Early start", "early")):
            got = [stat(risk, "n_risk", group1_level=g, variable_level=float(t)) for t in r["times"]]
            assert got == r[key], (pop, cd, g)


def test_tte_table_and_figure(tte, placer):
    parts = [placer(tte["parts"][k], "tbl-tte", S.analysis_id(*k)) for k in tte["parts"]]
    placed = pd.concat(parts, ignore_index=True)
    tau = placer(tte["tau_ard"], "tbl-tte", "tau")
    analyses = [(S.analysis_id(p, cd), p, lab, cd) for p, cd in tte["parts"] for lab in [S.ENDPOINTS[cd]]]
    txt = D.tte_table(placed, analyses, tau).to_text()
    tau = json.loads(REF.read_text())["tau"]                  # R's restriction time (weeks)
    assert f"RMST difference to week {tau:g}" in txt
    # the displayed HR and RMST difference are R's values formatted by the JAMA rules (half even, U+2212)
    from trialsupp.ard.fmt import fmt_ci, format_stat
    r = json.loads(REF.read_text())["results"]["dthpv-itt"]
    hr = [format_stat(x, "d2") for x in r["hr"]]
    rmst = [format_stat(x, "d1") for x in r["rmst_diff"]]
    assert f"{hr[0]} ({fmt_ci(hr[1], hr[2])})" in txt
    assert f"{rmst[0]} ({fmt_ci(rmst[1], rmst[2])})" in txt


# ------------------------------------------------------------------ design and dictionary
def test_design_constants(sim, study, placer):
    c = placer(config_ard(sim, study.raw), "design", "config")
    ids = dict(zip(c["id"], c["stat_fmt"]))
    assert ids["design.config.n-randomized.value"] == "108"
    assert ids["design.config.maintenance-doses.value"] == "5"
    assert ids["design.config.treatment-weeks.value"] == "24"
    assert ids["design.config.readout-week.value"] == "28"
    assert ids["design.config.loading-days.value"] == "1, 15, and 29"
    assert ids["design.config.sites.value"] == "32" and ids["design.config.countries.value"] == "10"
    assert ids["design.config.variants.value"] == "42"


def test_dictionary(define, valor, placer):
    d = placer(dictionary_ard(define), "tbl-dictionary", "define")
    for ds in define["datasets"]:
        frame = valor[ds["name"].lower()]
        assert stat(d, "records", variable=ds["name"]) == len(frame)
        assert stat(d, "n_variables", variable=ds["name"]) == frame.shape[1]
    assert "ADSL: Subject-Level Analysis Dataset" in D.dictionary_table(d).to_text()
