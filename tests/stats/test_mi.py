"""Rubin's rules and D2 against the independent R implementation in
tests/reference/survival/make_jointrank_reference.R (formulas of Rubin 1987,
Barnard & Rubin 1999, Li, Raghunathan & Rubin 1991)."""
import numpy as np
import pytest

from trialsupp.ard.schema import check_ard
from trialsupp.stats.exceptions import NotEstimableError
from trialsupp.stats.mi import pool, pool_chisq

from ._survival_ref import load_json, relerr

REF = load_json("jointrank_reference.json")


@pytest.mark.parametrize("which,dfcom", [("large", None), ("small", 40)])
def test_rubin_matches_r(which, dfcom):
    r = REF["rubin"][which]
    p = pool(REF["rubin"]["q"], REF["rubin"]["se"], dfcom=dfcom)
    for ours, theirs in [("estimate", "qbar"), ("ubar", "ubar"), ("b", "b"), ("t", "t"), ("std_error", "se"),
                         ("riv", "riv"), ("lambda_", "lambda"), ("df", "df"), ("fmi", "fmi"),
                         ("conf_low", "low"), ("conf_high", "high"), ("p_value", "p")]:
        assert relerr(getattr(p, ours), r[theirs]) <= 1e-10, ours
    check_ard(p.to_ard(variable="x"))


def test_rubin_hand_calculation():
    # m = 2: qbar = 1.5, B = 0.5, Ubar = 1, T = 1 + 1.5 * 0.5 = 1.75
    p = pool([1.0, 2.0], variances=[1.0, 1.0])
    assert p.estimate == 1.5 and p.b == pytest.approx(0.5) and p.t == pytest.approx(1.75)
    lam = 0.75 / 1.75
    assert p.df == pytest.approx(1 / lam**2)


def test_d2_matches_r():
    r = REF["d2"]["res"]
    d = pool_chisq(REF["d2"]["chisq"], 1)
    assert relerr([d.statistic, d.df2, d.p_value, d.riv], [r["D2"], r["df2"], r["p"], r["r2"]]) <= 1e-10


def test_bad_input():
    with pytest.raises(NotEstimableError):
        pool([1.0], [1.0])
    with pytest.raises(NotEstimableError, match=r"\[1\]"):
        pool([1.0, np.nan], [1.0, 1.0])
