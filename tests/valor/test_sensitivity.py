"""Tipping-point multiple imputation and subgroup interaction tests against R (stored output of
tests/reference/valor/tipping.R and interaction.R on exported data)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from studies.valor import efficacy as ef
from studies.valor import sensitivity as sv
from trialsupp.stats.mi import pool

REF = Path(__file__).resolve().parents[1] / "reference" / "valor"


def test_rubin_pooling_of_completed_data_equals_r():
    d = pd.read_csv(REF / "tipping_completed.csv")
    ref = json.loads((REF / "tipping.json").read_text())
    for key, k in d.groupby("KEY"):
        est, se, dfc = zip(*[sv.ancova(g.reset_index(drop=True), g["Y"].to_numpy()) for _, g in k.groupby("IMP")])
        pr = pool(est, se, dfcom=dfc[0])
        r = ref[key]
        assert pr.estimate == pytest.approx(r["estimate"], rel=1e-9)
        assert pr.std_error == pytest.approx(r["std.error"], rel=1e-9)
        assert pr.df == pytest.approx(r["df"], rel=1e-9)
        assert (pr.conf_low, pr.conf_high) == pytest.approx((r["conf.low"], r["conf.high"]), rel=1e-9)
        assert pr.p_value == pytest.approx(r["p.value"], rel=1e-7)


def test_tipping_point_reproduces_the_exported_imputations():
    """The analysis path (tipping_point) pools exactly the completed data sets R analysed."""
    from studies.valor.simulate.calibrate import cut_datasets
    from studies.valor.simulate.valor import simulate

    d = cut_datasets(simulate(seed=48), "final")
    ref = json.loads((REF / "tipping.json").read_text())
    ard = sv.tipping_point(d, 52, deltas=(0.0, -3.0), n_imputations=10, seed=48)
    for delta, key in (("0", "w52_d0"), ("-3", "w52_d-3")):
        est = ard[(ard.context == "tipping") & (ard.variable_level == delta) & (ard.stat_name == "estimate")]
        assert float(est["stat"].iloc[0]) == pytest.approx(ref[key]["estimate"], rel=1e-9)
    summ = ard[ard.context == "tipping.summary"].set_index("stat_name")["stat"]
    frame = sv.analysis_frame(d, 52)
    assert summ["n.missing.early"] + summ["n.missing.delayed"] == int(frame["CHG"].isna().sum())
    # shifting the early-start imputations down can only lower the difference
    est = ard[(ard.context == "tipping") & (ard.stat_name == "estimate")]["stat"].astype(float).to_numpy()
    assert est[1] < est[0]


def test_interaction_pvalues_equal_r():
    df = pd.read_csv(REF / "interaction_seed5.csv")
    ref = json.loads((REF / "interaction.json").read_text())
    ard = ef.interaction_ard(df.assign(**{v: df[v].astype(str) for v in ef.SUBGROUPS}))
    for var in ef.SUBGROUPS:
        got = ard[ard.variable == var].set_index("stat_name")["stat"]
        assert got["p.alsfrs"] == pytest.approx(ref[var]["p.alsfrs"], rel=1e-6), var
        assert got["p.hr"] == pytest.approx(ref[var]["p.hr"], rel=1e-4, abs=1e-6), var


def test_tipping_point_not_estimable_before_the_week_is_reached():
    """At the 12-month cut (January 2022) nobody randomized after March 2019 can have reached week
    148: the analysis reports 'not estimable' instead of raising (LinAlgError: Singular matrix)."""
    from studies.valor.simulate.calibrate import cut_datasets
    from studies.valor.simulate.valor import simulate

    d = cut_datasets(simulate(seed=124), "12-month")
    frame = sv.analysis_frame(d, 148)
    n_obs = int(frame["CHG"].notna().sum())
    assert n_obs < 5                                  # the reason the model cannot be fitted
    ard = sv.tipping_point(d, 148, deltas=(0.0, -2.0), n_imputations=5, seed=124)
    est = ard[(ard.context == "tipping") & (ard.stat_name == "estimate")]
    assert len(est) == 2 and est["stat"].isna().all()
    summ = ard[ard.context == "tipping.summary"].set_index("stat_name")["stat"]
    assert summ["tipping.point"] == "not estimable"
    assert summ["n.missing.early"] + summ["n.missing.delayed"] == len(frame) - n_obs
    # the rows follow the ARD schema (a missing stat carries its reason) and the table prints NE
    from trialsupp.ard.store import place
    from studies.valor.efficacy_displays import table_sensitivity
    placed = place(ard, output="tbl-sensitivity", analysis_id="week148", population="ITT")
    assert placed.loc[placed["stat"].isna(), "error"].str.contains("week 148, ").all()
    text = table_sensitivity(placed, weeks=(148,)).to_text()
    assert "NE" in text
    # week 52 at the same cut is estimable
    ok = sv.tipping_point(d, 52, deltas=(0.0,), n_imputations=5, seed=124)
    assert ok[(ok.context == "tipping") & (ok.stat_name == "estimate")]["stat"].notna().all()


def test_imputation_model_drops_a_subgroup_absent_among_observed():
    """Hand-built frame: every observed value is in one progression subgroup, so that column
    would equal the intercept among observed rows (singular X'X); it is left out of the
    imputation model, which then equals OLS of CHG on start group and baseline."""
    df = pd.DataFrame({"USUBJID": [f"S{i}" for i in range(8)],
                       "STARTGR": [ef.EARLY if i % 2 else ef.DELAYED for i in range(8)],
                       "PROGGR1": ["Faster progression"] * 6 + ["Slower progression"] * 2,
                       "BLALSFRS": [40.0, 38, 35, 41, 37, 36, 39, 33],
                       "CHG": [-5.0, -2, -8, -1, -6, -3, np.nan, np.nan]})
    assert sv.not_estimable(df) is None
    obs = df["CHG"].notna().to_numpy()
    X = sv._design(df, obs)
    assert X.shape[1] == 3
    # OLS by hand (normal equations) on the 6 observed rows: CHG ~ 1 + EARLY + BASE
    Xo = np.column_stack([np.ones(6), [0, 1, 0, 1, 0, 1], [40.0, 38, 35, 41, 37, 36]])
    b = np.linalg.solve(Xo.T @ Xo, Xo.T @ np.array([-5.0, -2, -8, -1, -6, -3]))
    draws = sv.impute(df, 400, seed=3)
    imputed = np.array([d[6] for d in draws])          # row 6: delayed start, baseline 39
    assert imputed.mean() == pytest.approx(b[0] + 39 * b[2], abs=0.6)
    # one start group entirely missing: not estimable, with the counts
    df2 = df.assign(CHG=np.where(df["STARTGR"] == ef.EARLY, np.nan, df["CHG"]))
    assert sv.not_estimable(df2) == "0 early-start and 3 delayed-start values observed"
