"""Calibration of the simulated VALOR study: tolerance rules by hand, default seed, fast path."""
from __future__ import annotations

import numpy as np
import pytest

from studies.valor.simulate import calibrate as cal



def fig(**kw):
    base = dict(name="x", label="x", published=1.0, ci=None, source="", cut="final", rule="relative")
    base.update(kw)
    return cal.Figure(**base)


def test_relative_rule():
    f = fig(published=-10.0)
    assert cal.within_tolerance(f, -11.5) and cal.within_tolerance(f, -8.5)
    assert not cal.within_tolerance(f, -11.51) and not cal.within_tolerance(f, -8.49)
    assert not cal.within_tolerance(f, None) and not cal.within_tolerance(f, float("nan"))


def test_ci_rule():
    f = fig(rule="ci", published=0.36, ci=(0.14, 0.94))
    assert cal.within_tolerance(f, 0.14) and cal.within_tolerance(f, 0.94) and cal.within_tolerance(f, 0.5)
    assert not cal.within_tolerance(f, 0.95) and not cal.within_tolerance(f, 0.1)


def test_pvalue_and_exact_rules():
    sig, ns = fig(rule="pvalue", published=0.03), fig(rule="pvalue", published=0.97)
    assert cal.within_tolerance(sig, 0.001) and not cal.within_tolerance(sig, 0.2)
    assert cal.within_tolerance(ns, 0.13) and not cal.within_tolerance(ns, 0.04)
    ex = fig(rule="exact", published=14)
    assert cal.within_tolerance(ex, 14.0) and not cal.within_tolerance(ex, 13.0)


def test_registry_matches_published_document():
    f = cal.FIGURE_BY_NAME
    assert f["hr_dthpv"].ci == (0.14, 0.94) and f["hr_dthpv"].cut == "12-month"
    assert f["hr_dth"].ci == (0.08, 0.89) and f["w52_alsfrs_diff"].cut == "12-month"
    assert f["w148_alsfrs_early"].cut == "final" and f["deaths_tof"].cut == "final"
    assert len({x.name for x in cal.FIGURES}) == len(cal.FIGURES)


@pytest.fixture(scope="module")
def table():
    return cal.calibrate()          # the default seed of the study config


def test_default_seed(table):
    missed = set(table.loc[~table["within"], "name"])
    assert missed == set(), f"default seed outside tolerance: {sorted(missed)}"
    row = table.set_index("name").loc["w52_alsfrs_diff"]
    assert row["simulated_low"] < row["simulated"] < row["simulated_high"]
    text = cal.format_table(table)
    assert f"seed {table.attrs['seed']}" in text and "HR, death or permanent ventilation" in text


def test_calibration_ard(table):
    ard = cal.calibration_ard(table)
    w = ard[(ard.variable == "hr_dthpv") & (ard.stat_name == "within")]
    assert bool(w["stat"].iloc[0]) is True and w["fmt"].iloc[0] != "str"


def test_fast_path_equals_adam_path():
    """The benchmark path (model arrays) gives the same estimates as the ADaM path."""
    from studies.valor import efficacy as ef
    from studies.valor.common import population
    from studies.valor.simulate.valor import simulate
    from trialsupp.stats.ancova import ANCOVAFitter

    cal._init_sim()
    fast = cal._headline_one(48)
    d = cal.cut_datasets(simulate(seed=48), "12-month")
    pop = population(d["adsl"])
    for key, pcd in (("hr_dthpv", "DTHPV"), ("hr_dth", "DTH")):
        hr = ef._hr(d, pop, pcd)
        assert fast[key] == pytest.approx(float(hr.loc[hr.stat_name == "estimate", "stat"].iloc[0]), rel=1e-6)
    q = d["adqs"]
    q = q[(q.PARAMCD == "ALSFRST") & (q.AVISITN == 52)]
    fit = ANCOVAFitter().fit(q, outcome="CHG", factors=["STARTGR", "PROGGR1"], covariates=["BASE"],
                             treatment="STARTGR", reference="Delayed start", levels=["Delayed start", "Early start"])
    assert fast["w52_alsfrs_diff"] == pytest.approx(float(fit.diffs_["estimate"].iloc[0]), rel=1e-9)


def test_replicate_headlines_small():
    df = cal.replicate_headlines(4, jobs=1, first_seed=1)
    assert list(df["seed"]) == [1, 2, 3, 4] and np.isfinite(df["w52_alsfrs_diff"]).all()
