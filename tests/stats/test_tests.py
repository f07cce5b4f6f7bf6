import numpy as np
import pandas as pd
import pytest

from trialsupp.ard.schema import check_ard, get_stat
from trialsupp.stats._fisher import fisher_exact_rxc
from trialsupp.stats.exceptions import NotEstimableError
from trialsupp.stats.tests import (anova_oneway, chisq_test, crosstab, fisher_test, kruskal_wallis,
                                   wilcoxon_ranksum)

from ._stats_core_ref import RTOL, ref, xpt

ARMS = ["Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"]


def adsl():
    df = xpt("adsl").copy()
    df["TRT01P"] = pd.Categorical(df["TRT01P"], categories=ARMS)
    return df


def test_anova_age_table_14_2_01():
    r = ref()["anova_age"]
    ard = anova_oneway(adsl(), "AGE", "TRT01P")
    check_ard(ard)
    assert get_stat(ard, "statistic") == pytest.approx(r["statistic"], rel=RTOL)
    assert get_stat(ard, "df.num") == r["df_num"] and get_stat(ard, "df.den") == r["df_den"]
    assert get_stat(ard, "p.value") == pytest.approx(r["p"], rel=RTOL)
    assert get_stat(ard, "method") == "One-way ANOVA F test"
    assert ard["code"].str.startswith("trialsupp.stats.tests:anova_oneway@").all()


def test_anova_bmi_with_missing_values():
    r = ref()["anova_bmi"]
    ard = anova_oneway(adsl(), "BMIBL", "TRT01P")
    assert get_stat(ard, "p.value") == pytest.approx(r["p"], rel=RTOL)
    assert get_stat(ard, "df.den") == r["df_den"]


@pytest.mark.parametrize("var", ["AGEGR1", "SEX", "RACE", "ETHNIC"])
def test_chisq_table_14_2_01(var):
    r = ref()["chisq"][var]
    ard = chisq_test(adsl(), var, "TRT01P")
    check_ard(ard)
    assert get_stat(ard, "statistic") == pytest.approx(r["statistic"], rel=RTOL)
    assert get_stat(ard, "df") == r["df"]
    assert get_stat(ard, "p.value") == pytest.approx(r["p"], rel=RTOL)
    warn = ard["warning"].iloc[0]
    if r["min_expected"] < 5:
        assert "expected count < 5" in warn and f"{r['min_expected']:.2f}" in warn
    else:
        assert warn is None


def test_pilot_published_demography_pvalues():
    # CDISC pilot Table 14-2.01 prints: age 0.593 (ANOVA), age group 0.144, sex 0.141, race 0.604
    df = adsl()
    assert round(get_stat(chisq_test(df, "AGEGR1", "TRT01P"), "p.value"), 3) == 0.144
    assert round(get_stat(chisq_test(df, "SEX", "TRT01P"), "p.value"), 3) == 0.141
    assert round(get_stat(chisq_test(df, "RACE", "TRT01P"), "p.value"), 3) == 0.604
    assert round(get_stat(anova_oneway(df, "AGE", "TRT01P"), "p.value"), 3) == 0.593


@pytest.mark.parametrize("key", ["t2x2", "t3x3", "t3x3b", "t2x5", "t4x3", "race"])
def test_fisher_exact_matches_r(key):
    case = ref()["fisher"][key]
    table = np.array(case["table"])
    _, p = fisher_exact_rxc(table)
    assert p == pytest.approx(case["p"], rel=RTOL)
    _, pt = fisher_exact_rxc(table.T)  # orientation does not matter
    assert pt == pytest.approx(case["p"], rel=RTOL)


def test_fisher_matches_scipy_2x2_and_brute_force():
    from itertools import product

    from scipy.stats import fisher_exact
    rng = np.random.default_rng(1)
    for _ in range(20):
        t = rng.integers(0, 12, size=(2, 2))
        assert fisher_exact_rxc(t)[1] == pytest.approx(fisher_exact(t).pvalue, rel=1e-9)
    # brute force 2 x 3 enumeration
    t = np.array([[3, 0, 4], [1, 5, 2]])
    r, c = t.sum(1), t.sum(0)
    from math import factorial, prod
    def prob(x):
        return prod(factorial(v) for v in (*r, *c)) / factorial(t.sum()) / prod(factorial(v) for v in x.ravel())
    p_obs, total = prob(t), 0.0
    for a, b in product(range(c[0] + 1), range(c[1] + 1)):
        row0 = np.array([a, b, r[0] - a - b])
        if row0[2] < 0 or row0[2] > c[2]:
            continue
        x = np.vstack([row0, c - row0])
        if (x < 0).any():
            continue
        if prob(x) <= p_obs * (1 + 1e-7):
            total += prob(x)
    assert fisher_exact_rxc(t)[1] == pytest.approx(total, rel=1e-9)


def test_fisher_scalar_helpers_give_numpy_and_scipy_bits():
    """The network algorithm's own logsumexp / logaddexp must give the very bits of
    scipy.special.logsumexp / numpy.logaddexp (P values in the ARD stay byte-identical)."""
    from scipy.special import logsumexp
    from trialsupp.stats._fisher import _logaddexp, _logsumexp
    rng = np.random.default_rng(20)
    for i in range(3000):
        a = rng.normal(-30, 20, rng.integers(1, 60))
        if i % 3 == 0:
            a[rng.integers(0, len(a), 2)] = a.max()   # tied maxima: scipy separates them
        assert _logsumexp(a) == float(logsumexp(a))
        assert _logsumexp(list(a)) == float(logsumexp(list(a)))
        x, y = float(a[0]), float(a[-1]) + (0.0 if i % 5 == 0 else rng.normal())
        assert _logaddexp(x, y) == float(np.logaddexp(x, y))


def test_fisher_test_ard_and_guard():
    ard = fisher_test(adsl(), "RACE", "TRT01P")
    check_ard(ard)
    assert get_stat(ard, "p.value") == pytest.approx(ref()["fisher"]["race"]["p"], rel=RTOL)
    assert get_stat(ard, "method") == "Fisher-Freeman-Halton exact test"
    big = fisher_test(adsl(), "AGEGR1", "TRT01P", max_nodes=10)
    check_ard(big)
    assert big.loc[big.stat_name == "p.value", "error"].iloc[0].startswith("exact r x c")
    with pytest.raises(NotEstimableError):
        fisher_exact_rxc(crosstab(adsl(), "AGEGR1", "TRT01P").to_numpy(), max_nodes=10)


def test_wilcoxon_matches_r():
    df = adsl()
    two = df[df.TRT01P.isin(["Placebo", "Xanomeline High Dose"])].copy()
    two["TRT01P"] = two["TRT01P"].cat.remove_unused_categories()
    ard = wilcoxon_ranksum(two, "AGE", "TRT01P")
    check_ard(ard)
    r = ref()["wilcox_age"]
    assert get_stat(ard, "statistic") == pytest.approx(r["statistic"], rel=RTOL)
    assert get_stat(ard, "p.value") == pytest.approx(r["p"], rel=RTOL)
    s = ref()["wilcox_small"]
    ard = wilcoxon_ranksum(pd.DataFrame({"y": s["y"], "g": s["g"]}), "y", "g")
    assert get_stat(ard, "p.value") == pytest.approx(s["p"], rel=RTOL)
    assert "exact" in get_stat(ard, "method")
    bad = wilcoxon_ranksum(df, "AGE", "TRT01P")
    check_ard(bad)
    assert "exactly 2 groups" in bad["error"].iloc[0]


def test_kruskal_matches_r():
    r = ref()["kruskal_age"]
    ard = kruskal_wallis(adsl(), "AGE", "TRT01P")
    check_ard(ard)
    assert get_stat(ard, "statistic") == pytest.approx(r["statistic"], rel=RTOL)
    assert get_stat(ard, "p.value") == pytest.approx(r["p"], rel=RTOL)


def test_bad_input_gives_error_rows_not_nan():
    const = pd.DataFrame({"y": [1.0] * 6, "g": list("aabbcc")})
    for func in (anova_oneway, kruskal_wallis):
        ard = func(const, "y", "g")
        check_ard(ard)
        assert ard.loc[ard.stat_name == "p.value", "stat"].iloc[0] is None
        assert ard.loc[ard.stat_name == "p.value", "error"].iloc[0]
    one_group = pd.DataFrame({"y": [1.0, 2.0], "g": ["a", "a"]})
    ard = chisq_test(one_group.assign(y=["x", "z"]), "y", "g")
    check_ard(ard)
    assert "fewer than 2" in ard["error"].iloc[0]
    ard = anova_oneway(one_group, "y", "g")
    check_ard(ard)
    assert "fewer than 2" in ard["error"].iloc[0]
