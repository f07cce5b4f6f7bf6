"""RMST against R survival:::survmean (print(survfit, rmean = tau)), identical to survRM2."""
import numpy as np
import pandas as pd
import pytest

from trialsupp.ard.schema import check_ard, get_stat
from trialsupp.stats.exceptions import NotEstimableError, StatisticalWarning
from trialsupp.stats.rmst import RMST, rmst_km

from ._survival_ref import adtte, csv, load_json, relerr

REF = load_json("survival_reference.json")["rmst"]


@pytest.mark.parametrize("key", ["lung_365", "vet_200", "adtte_180"])
def test_matches_survmean(key):
    if key == "lung_365":
        df, args = csv("lung.csv"), ("time", "event", "sex")
    elif key == "vet_200":
        df, args = csv("veteran.csv"), ("time", "status", "trt")
    else:
        df = adtte()
        df, args = df[df["TRTA"] != "Xanomeline Low Dose"], ("AVAL", "EVENT", "TRTA")
    r = REF[key]
    m = RMST(r["tau"]).fit(df, *args)
    assert relerr(m.groups_["rmst"], r["rmean"]) <= 1e-10
    assert relerr(m.groups_["std.error"], r["se"]) <= 1e-10
    c = m.contrasts_.set_index("measure").loc["difference"]
    assert relerr(c["estimate"], r["diff"]) <= 1e-10
    assert relerr(c["std.error"], r["diff_se"]) <= 1e-10
    assert relerr([c["conf.low"], c["conf.high"]], [r["diff_low"], r["diff_high"]]) <= 1e-10
    assert relerr(c["p.value"], r["diff_p"]) <= 1e-8
    ard = m.to_ard()
    check_ard(ard)
    assert get_stat(ard, "estimate", variable_level="difference") == pytest.approx(r["diff"])


def test_hand_example_and_ratio():
    # no censoring: RMST = mean of min(T, tau); times 1,2,3,4, tau = 3 -> (1+2+3+3)/4
    t, e = np.array([1.0, 2, 3, 4]), np.ones(4)
    m, se = rmst_km(t, e, 3.0)
    assert m == pytest.approx(2.25)
    df = pd.DataFrame({"t": [1.0, 2, 3, 4, 2, 3, 4, 5], "e": 1, "g": list("aaaabbbb")})
    r = RMST(3.0).fit(df, "t", "e", "g")
    ratio = r.contrasts_.set_index("measure").loc["ratio", "estimate"]
    assert ratio == pytest.approx(r.groups_["rmst"].iloc[1] / r.groups_["rmst"].iloc[0])


def test_bad_input():
    df = pd.DataFrame({"t": [1.0, 2, 3], "e": [1, 0, 1], "g": ["a", "a", "b"]})
    with pytest.warns(StatisticalWarning, match="exceeds"):
        RMST(10).fit(df, "t", "e", "g")
    with pytest.raises(NotEstimableError, match="no rows"):
        RMST(2).fit(df, "t", "e", "g", levels=["a", "c"])
    with pytest.raises(ValueError, match="tau"):
        RMST(-1)
