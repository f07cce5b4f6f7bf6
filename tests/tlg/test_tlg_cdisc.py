"""trialsupp.tlg on the CDISC pilot ADaM: values vs an independent R computation
(tests/reference/tlg/tlg.R -> tlg_reference.json) and vs the published CSR tables
(tests/reference/cdiscpilot01/published_*.json: Atorus 14-2.01 and 14-5.01)."""
import json
from pathlib import Path

import pandas as pd
import pytest

from trialsupp import tlg
from trialsupp.ard.fmt import CSR, JAMA
from trialsupp.ard.schema import check_ard
from trialsupp.ard.store import place
from trialsupp.data.io import read_dataset
from trialsupp.display import select

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "cdiscpilot01"
REF = json.loads((ROOT / "tests/reference/tlg/tlg_reference.json").read_text())
PUB = json.loads((ROOT / "tests/reference/cdiscpilot01/published_safety.json").read_text())
PUB_AE = json.loads((ROOT / "tests/reference/cdiscpilot01/published_ae.json").read_text())
ARMS = ["Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"]
TOL = 1e-9


@pytest.fixture(scope="module")
def d():
    return {n: read_dataset(DATA / f"{n}.xpt") for n in ("adsl", "adae", "adlbc", "adtte")}


def _placed(out, rules=CSR):
    check_ard(out.ard)
    return place(out.ard, output="t", analysis_id=out.name, population=out.population, rules=rules)


def _one(ard, stat, **where):
    hit = select(ard, stat_name=stat, **where)
    assert len(hit) == 1, (stat, where, len(hit))
    return hit["stat"].iloc[0], hit["stat_fmt"].iloc[0] if "stat_fmt" in hit else None


# ---- demographics: Table 14-2.01 (ITT, planned arm) -------------------------------------
@pytest.fixture(scope="module")
def demog(d):
    return _placed(tlg.demographics(d["adsl"], ["AGE", "SEX", "WEIGHTBL"], arm="TRT01P", pop_flag="ITTFL",
                                    layout="csr"))


def test_demographics_age_equals_published_14_2_01(demog):
    pub = PUB["14-2.01"]["continuous"]["AGE"]
    for arm in ARMS + ["Total"]:
        where = dict(variable="AGE", group1_level=arm)
        assert _one(demog, "N", **where)[1] == pub["N"][arm]
        for st in ("mean", "median"):
            assert _one(demog, st, **where)[1] == pub[st][arm]          # CSR: k + 1 = 1 decimal
        assert _one(demog, "sd", **where)[1] == pub["sd"][arm]           # k + 2 = 2 decimals
        for st in ("min", "max"):                                       # CSR prints "52.0"; raw equal
            assert _one(demog, st, **where)[0] == float(pub[st][arm])
            assert _one(demog, st, **where)[1] == pub[st][arm].split(".")[0]   # recorded: whole years


def test_demographics_against_r(demog):
    for arm in ARMS + ["Total"]:
        r = REF["demographics"][arm]
        for st, v in r["AGE"].items():
            assert _one(demog, st, variable="AGE", group1_level=arm)[0] == pytest.approx(v, rel=TOL), (arm, st)
        assert _one(demog, "n", variable="SEX", variable_level="Female", group1_level=arm)[0] == r["SEX_F"]
        assert _one(demog, "N", variable="SEX", variable_level="Female", group1_level=arm)[0] == r["N"]


def test_demographics_weight_decimals_follow_the_recorded_precision(demog):
    # WEIGHTBL is recorded to 0.1 kg: min/max 1 decimal, mean 2, SD 3 (CSR)
    w = dict(variable="WEIGHTBL", group1_level="Placebo")
    assert _one(demog, "min", **w)[1] == "34.0"
    assert _one(demog, "mean", **w)[1] == "62.76"
    assert _one(demog, "sd", **w)[1] == "12.772"


def test_demographics_jama_percent_follows_the_denominator(d):
    p = _placed(tlg.demographics(d["adsl"], ["SEX"], arm="TRT01P", pop_flag="ITTFL"), JAMA)
    assert _one(p, "p", variable="SEX", variable_level="Female", group1_level="Placebo")[1] == "62"   # N = 86
    assert _one(p, "p", variable="SEX", variable_level="Female", group1_level="Total")[1] == "56.3"   # N = 254


# ---- AEs: Table 14-5.01 ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def ae(d):
    return _placed(tlg.ae_by_soc_pt(d["adae"], d["adsl"], layout="csr"))


def test_ae_by_soc_pt_equals_published_14_5_01(ae):
    pub = PUB_AE["14-5.01"]
    rows = {"ANY BODY SYSTEM": dict(variable="ANYAE"), "CARDIAC DISORDERS": dict(variable="AEBODSYS",
            variable_level="CARDIAC DISORDERS")}
    for term in ("SINUS BRADYCARDIA", "MYOCARDIAL INFARCTION", "ATRIAL FIBRILLATION"):
        rows[term] = dict(variable="AEDECOD", group2_level="CARDIAC DISORDERS", variable_level=term)
    table = pub["rows"]                              # [label, cells...] in printed order
    soc_at = next(i for i, r in enumerate(table) if r[0] == "CARDIAC DISORDERS")
    published = {"ANY BODY SYSTEM": table[0][1:]}
    for r in table[soc_at:]:                         # the SOC row, then its preferred terms
        published.setdefault(r[0], r[1:])
    for label, where in rows.items():
        printed = published[label][0:6:2]            # subjects "n (x.x%)" per arm
        for arm, text in zip(ARMS, printed):
            n = _one(ae, "n", group1_level=arm, **where)[1]
            p = _one(ae, "p", group1_level=arm, **where)[1]
            assert f"{n} ({p}%)" == text, (label, arm)
    for arm in ARMS:
        assert str(_one(ae, "n", variable="TRT01A", variable_level=arm)[0]) == pub["header_N"][arm]


def test_ae_by_soc_pt_against_r(ae):
    for soc, counts in REF["ae"]["soc"].items():
        for arm in ARMS:
            assert _one(ae, "n", variable="AEBODSYS", variable_level=soc, group1_level=arm)[0] == counts[arm]
    for key, counts in REF["ae"]["pt"].items():
        soc, pt = key.split("|")
        for arm in ARMS:
            assert _one(ae, "n", variable="AEDECOD", group2_level=soc, variable_level=pt,
                        group1_level=arm)[0] == counts[arm], key
    assert len(select(ae, variable="AEDECOD", stat_name="n", group1_level="Placebo")) == len(REF["ae"]["pt"])


def test_ae_threshold_keeps_the_terms_r_keeps_and_binds_the_footnote(d):
    out = tlg.ae_by_soc_pt(d["adae"], d["adsl"], threshold=5)
    p = _placed(out, JAMA)
    terms = select(p, variable="AEDECOD", stat_name="n", group1_level="Placebo")
    kept = sorted(f"{s}|{t}" for s, t in zip(terms["group2_level"], terms["variable_level"]))
    assert kept == REF["ae"]["pt_5pct"]
    socs = set(select(p, variable="AEBODSYS", stat_name="n", group1_level="Placebo")["variable_level"])
    assert socs == {k.split("|")[0] for k in kept}
    t = out.display(p, JAMA)
    thr = _one(p, "value", variable="threshold")
    assert thr[0] == 5.0 and thr[1] == "5"
    thr_id = select(p, variable="threshold")["id"].iloc[0]
    bound = [f.text for f in t.data.footnotes if not isinstance(f.text, str)]
    assert any(thr_id in c.ids for c in bound)
    import re
    assert "at least 5% of subjects" in re.sub(r"<[^>]+>", "", t.to_html())    # the 5 is a bound span


def test_ae_sort_descending_by_total(d):
    out = tlg.ae_by_soc_pt(d["adae"], d["adsl"], threshold=5)
    p = _placed(out, JAMA)
    rows = out.display(p, JAMA).data.rows
    socs = [r.label for r in rows if r.indent == 0 and r.kind == "data"][1:]   # after "Any adverse event"
    totals = [_one(p, "n", variable="AEBODSYS", variable_level=s, group1_level="Total")[0] for s in socs]
    assert totals == sorted(totals, reverse=True)
    assert socs[0] == "GENERAL DISORDERS AND ADMINISTRATION SITE CONDITIONS"


def test_ae_overview_against_r(d):
    p = _placed(tlg.ae_overview(d["adae"], d["adsl"]), JAMA)
    labels = {"any": "Any adverse event", "serious": "Serious adverse event", "severe": "Severe adverse event",
              "fatal": "Adverse event with fatal outcome"}
    for key, lab in labels.items():
        for arm in ARMS:
            assert _one(p, "n", variable="AECAT", variable_level=lab, group1_level=arm)[0] == REF["ae"][key][arm]
    # AEACN is blank throughout the pilot ADAE: no "leading to withdrawal" row is invented
    assert not len(select(p, variable_level="Adverse event leading to withdrawal of study drug"))


# ---- lab summary by visit --------------------------------------------------------------------
@pytest.fixture(scope="module")
def creat(d):
    return _placed(tlg.bds_by_visit(d["adlbc"], d["adsl"], dataset="ADLBC", paramcd=["CREAT"], layout="csr"))


def test_lab_by_visit_against_r(creat):
    for arm in ARMS:
        for var in ("AVAL", "CHG"):
            for visit, stats in REF["lab"][arm][var].items():
                for st, v in stats.items():
                    got = _one(creat, st, variable=var, group1_level=arm, group2_level=visit)[0]
                    assert got == pytest.approx(v, rel=TOL, abs=1e-9), (arm, var, visit, st)
    assert not len(select(creat, variable="CHG", group2_level="Baseline"))


def test_lab_decimals_follow_the_measurement_not_the_stored_float(creat):
    # creatinine is stored converted (0.9 mg/dL = 79.56 umol/L): resolution 8.84 umol/L -> whole numbers
    w = dict(variable="AVAL", group1_level="Placebo", group2_level="Baseline")
    assert _one(creat, "min", **w)[1] == "62"
    assert _one(creat, "mean", **w)[1] == "97.7"
    assert _one(creat, "sd", **w)[1] == "17.78"
    assert _one(creat, "mean", variable="CHG", group1_level="Placebo", group2_level="Week 2")[1] == "1.4"


def test_lab_summary_equals_shipped_14_6_01(d):
    """Same records as the CSR table 14-6.01 (scheduled visits + flagged End of Treatment), same numbers."""
    try:
        from studies.cdiscpilot01 import labs as L
    except ImportError:
        from trialsupp.analyses.cdiscpilot01 import labs as L
    lb = d["adlbc"]
    sel = lb[(lb["AVISITN"] != 99) | (lb["AENTMTFL"] == "Y")]
    sel = sel[sel["AVISITN"].notna()]
    mine = _placed(tlg.bds_by_visit(sel, d["adsl"], dataset="ADLBC", paramcd=["GLUC"], arm="TRT01P", layout="csr"))
    ref = place(L.t14_6_01(lb, "GLUC"), output="t", analysis_id="x", population="Safety", rules=CSR)
    visits = {"Baseline": "Bsln", "Week 2": "Wk 2", "Week 24": "Wk 24", "End of Treatment": "End[1]"}
    for arm in ARMS:
        for visit, short in visits.items():
            for var in ("AVAL", "CHG"):
                if var == "CHG" and visit == "Baseline":
                    continue
                for st in ("N", "mean", "sd"):
                    a = _one(mine, st, variable=var, group1_level=arm, group2_level=visit)
                    b = _one(ref, st, variable=var, group1_level=arm, group2_level=short)
                    assert a[0] == pytest.approx(b[0], rel=TOL), (arm, visit, var, st)


def test_shift_table_against_r(d):
    p = _placed(tlg.shift_table(d["adlbc"], d["adsl"], dataset="ADLBC", paramcd=["ALT"],
                                where="ANL01FL == 'Y' and AVISITN != 99"), JAMA)
    for arm in ARMS:
        r = REF["shift"][arm]
        for b in ("N", "H"):
            for a in ("N", "H"):
                got = select(p, stat_name="n", group1_level=arm, group2_level=f"ALT/{b}", variable_level=a)
                assert int(got["stat"].iloc[0]) == r[b + a], (arm, b, a)


# ---- time to event ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tte(d):
    return _placed(tlg.time_to_event(d["adtte"], d["adsl"]), JAMA)


def test_tte_against_r(tte):
    r = REF["tte"]
    for arm in ARMS:
        assert _one(tte, "n", context="km", group1_level=arm)[0] == r["n"][arm]
        assert _one(tte, "n_event", context="km", group1_level=arm)[0] == r["events"][arm]
        for q in ("q1", "median", "q3"):
            for name, key in ((q, "quantile"), ("conf.low", "lower"), ("conf.high", "upper")):
                want = r[key][arm][q]
                got = _one(tte, name, context="km", group1_level=arm, variable_level=q)[0]
                assert (got is None) if want is None else got == pytest.approx(want, rel=1e-9), (arm, q, name)
    for arm in ARMS[1:]:
        hr = dict(context="cox", group1_level=arm)
        assert _one(tte, "estimate", **hr)[0] == pytest.approx(r["hr"][arm], rel=1e-6)
        assert _one(tte, "conf.low", **hr)[0] == pytest.approx(r["hr_low"][arm], rel=1e-6)
        assert _one(tte, "conf.high", **hr)[0] == pytest.approx(r["hr_high"][arm], rel=1e-6)
        assert _one(tte, "p.value", **hr)[0] == pytest.approx(r["hr_p"][arm], rel=1e-4, abs=1e-15)


def test_km_figure_numbers_at_risk_against_r_and_drawn_from_placed_rows(d):
    import matplotlib
    matplotlib.use("Agg")
    from trialsupp.display.figures import figure_ard_ids
    out = tlg.km_figure(d["adtte"], d["adsl"], times=[0, 50, 100, 150])
    p = _placed(out, JAMA)
    r = REF["tte"]["at_risk"]
    for arm, t, n in zip(r["strata"], r["time"], r["n_risk"]):
        assert _one(p, "n_risk", group1_level=arm, variable_level=float(t))[0] == n
    fig = out.display(p, JAMA)
    ids = figure_ard_ids(fig)
    assert set(select(p, stat_name="n_risk")["id"]) <= set(ids) <= set(p["id"])


# ---- every output: schema, both layouts build -------------------------------------------------
def test_every_output_builds_in_both_layouts(d):
    import matplotlib
    matplotlib.use("Agg")
    outs = [tlg.demographics(d["adsl"]), tlg.disposition(d["adsl"]), tlg.exposure(d["adsl"]),
            tlg.ae_overview(d["adae"], d["adsl"]), tlg.ae_by_soc_pt(d["adae"], d["adsl"], threshold=10),
            tlg.bds_by_visit(d["adlbc"], d["adsl"], paramcd=["K"]), tlg.time_to_event(d["adtte"], d["adsl"])]
    for out in outs:
        for rules in (JAMA, CSR):
            shown = out.display(_placed(out, rules), rules)
            html = shown.to_html()
            assert "Placebo" in html, out.name
            assert shown.ids, out.name
