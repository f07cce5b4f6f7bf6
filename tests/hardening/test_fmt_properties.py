"""Property-based tests of the number formatters (trialsupp.ard.fmt).

The reference implementation below is independent of ``decimal``: it rounds the
exact rational value of the float's shortest decimal representation (``repr``)
with ``fractions.Fraction`` and integer arithmetic.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from trialsupp.ard.fmt import CSR, JAMA, MINUS, FormatRules, fmt_ci, fmt_pvalue, format_stat

RULES = {"jama": JAMA, "csr": CSR}
SETTINGS = settings(max_examples=300, deadline=None)


# ---- independent reference -----------------------------------------------------------
def ref_round(value: Fraction, places: int, rounding: str) -> Fraction:
    """Round an exact rational to ``places`` decimals: half to even or half away from zero."""
    scale = 10 ** places
    scaled = abs(value) * scale
    whole = scaled.numerator // scaled.denominator
    rest = scaled - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and (rounding == "half_away" or whole % 2 == 1)):
        whole += 1
    return Fraction(whole if value >= 0 else -whole, scale)


def ref_text(value: Fraction, places: int, rules: FormatRules) -> str:
    r = ref_round(value, places, rules.rounding)
    scale = 10 ** places
    units = abs(r.numerator * (scale // r.denominator))
    whole = f"{units // scale:,}".replace(",", rules.thousands)     # JAMA "38,083"; CSR none
    body = whole + ("." + str(units % scale).zfill(places) if places else "")
    return (rules.minus + body) if r < 0 else body


def exact(x: float) -> Fraction:
    return Fraction(repr(float(x)))


def parse(text: str, rules: FormatRules) -> Fraction:
    if rules.thousands:
        assert re.fullmatch(rf"[{MINUS}\-]?\d{{1,3}}({re.escape(rules.thousands)}\d{{3}})*(\.\d+)?", text), text
        text = text.replace(rules.thousands, "")
    return Fraction(text.replace(rules.minus, "-").replace(MINUS, "-"))


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)
moderate = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
# values on a rounding tie: k + 5/10^(places+1) (decimal strings, so ties are exact in repr)
ties = st.builds(lambda i, places, neg: (float(f"{'-' if neg else ''}{i}.{'0' * places}5"), places),
                 st.integers(0, 10_000), st.integers(0, 3), st.booleans())
probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
rules_st = st.sampled_from(["jama", "csr"])


# ---- decimals and rounding ---------------------------------------------------------------
@SETTINGS
@given(x=finite, places=st.integers(0, 4), style=rules_st)
@example(x=47.65, places=1, style="jama")
@example(x=47.65, places=1, style="csr")
@example(x=1e30, places=2, style="jama")          # was decimal.InvalidOperation (28-digit context)
@example(x=-2.5, places=0, style="csr")
@example(x=-0.04, places=1, style="jama")
def test_decimals_match_reference(x, places, style):
    rules = RULES[style]
    text = format_stat(x, f"d{places}", rules)
    assert text == ref_text(exact(x), places, rules)
    assert "e" not in text.lower() and "nan" not in text.lower()
    assert not re.fullmatch(rf"[{MINUS}\-]0(\.0*)?", text), "negative zero shown"
    if style == "jama":
        assert "-" not in text                       # JAMA uses the typeset minus U+2212


@SETTINGS
@given(tie=ties, style=rules_st)
def test_ties_follow_the_study_rule(tie, style):
    x, places = tie
    rules = RULES[style]
    got = parse(format_stat(x, f"d{places}", rules), rules)
    want = ref_round(exact(x), places, rules.rounding)
    assert got == want
    lower = Fraction(math.floor(abs(exact(x)) * 10 ** places), 10 ** places)
    if style == "csr":        # half away from zero: magnitude always goes up
        assert abs(Fraction(got)) > lower
    else:                      # half even: the last digit is even
        assert (abs(Fraction(got)) * 10 ** places).numerator % 2 == 0


@SETTINGS
@given(x=moderate.filter(lambda v: v != 0), digits=st.integers(1, 4), style=rules_st)
@example(x=9.96, digits=2, style="jama")            # was "10.0" (3 significant digits)
@example(x=99.95, digits=3, style="csr")
@example(x=0.000999999, digits=2, style="jama")
def test_significant_digits(x, digits, style):
    rules = RULES[style]
    text = format_stat(x, f"sig{digits}", rules)
    value = parse(text, rules)
    mantissa = text.lstrip(MINUS + "-").replace(".", "").replace(",", "").lstrip("0")
    # never more significant digits than asked, unless the integer part itself needs them
    int_digits = len(str(abs(int(value)))) if abs(value) >= 1 else 0
    assert len(mantissa) <= max(digits, int_digits), (x, text)
    # within half a unit of the last shown place
    places = len(text.split(".")[1]) if "." in text else 0
    assert abs(value - exact(x)) <= Fraction(1, 2 * 10 ** places)


# ---- percentages ------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(0, 5000), extra=st.integers(0, 5000), places=st.integers(0, 2), style=rules_st)
@example(n=57, extra=143, places=0, style="csr")    # 28.5%: was "28" (float 100*0.285 = 28.4999...)
@example(n=1, extra=15, places=1, style="jama")     # 6.25% -> 6.2
@example(n=1, extra=15, places=1, style="csr")      # 6.25% -> 6.3
def test_percent_of_counts_matches_exact_fraction(n, extra, places, style):
    big_n = n + extra
    assume(big_n > 0)
    rules = RULES[style]
    text = format_stat(n / big_n, f"pct{places}", rules)
    assert text == ref_text(Fraction(100 * n, big_n), places, rules)
    assert 0 <= parse(text, rules) <= 100


# ---- P values ---------------------------------------------------------------------------
@SETTINGS
@given(p=probabilities)
@example(p=0.0496)        # was ".050": 3 decimals still crossed .05
@example(p=0.04996)
@example(p=0.0499999999)
@example(p=0.05)
@example(p=0.045)
@example(p=0.0451)
@example(p=0.00099999)
@example(p=0.001)
@example(p=0.995)
@example(p=0.9949999)
@example(p=0.0095)
def test_jama_pvalue(p):
    text = fmt_pvalue(p, JAMA)
    assert re.fullmatch(r"<\.001|>\.99|\.\d{2,}", text), text
    assert not text.startswith("0") and text != ".000" and "nan" not in text
    if p < 0.001:
        assert text == "<.001"
        return
    two = ref_round(exact(p), 2, "half_even")
    if two > Fraction(99, 100):
        assert text == ">.99"
        return
    shown = Fraction("0" + text)
    decimals = len(text) - 1
    assert shown > 0
    # never on the other side of .05 than the exact value
    assert (shown < Fraction(5, 100)) == (p < 0.05), (p, text)
    crosses = (p < 0.05) != (two < Fraction(5, 100))
    if p < 0.01 or crosses:
        assert decimals >= 3
        assert shown == ref_round(exact(p), decimals, "half_even")
        if decimals > 3:          # extra digits only when 3 would still cross .05
            assert ref_round(exact(p), decimals - 1, "half_even") >= Fraction(5, 100)
    else:
        assert decimals == 2 and shown == two


@SETTINGS
@given(p=probabilities)
@example(p=0.9995)
@example(p=0.999)
@example(p=0.0135)
def test_csr_pvalue(p):
    text = fmt_pvalue(p, CSR)
    assert re.fullmatch(r"<\.001|>\.999|0\.\d{3}", text), text
    assert text != "0.000"
    if p < 0.001:
        assert text == "<.001"
    elif p > 0.999:
        assert text == ">.999"
    else:
        assert Fraction(text) == ref_round(exact(p), 3, "half_away")


@pytest.mark.parametrize("bad", [-0.01, 1.0000001, float("nan"), float("inf"), None])
def test_pvalue_outside_0_1_is_refused(bad):
    with pytest.raises(ValueError, match="within"):
        fmt_pvalue(bad)


# ---- confidence intervals -----------------------------------------------------------
@SETTINGS
@given(a=moderate, b=moderate, places=st.integers(0, 3), style=rules_st)
@example(a=-7.25, b=-1.0, places=1, style="jama")
@example(a=0.51, b=0.8, places=2, style="jama")
@example(a=-0.04, b=0.3, places=1, style="jama")     # low rounds to 0.0: not negative
def test_ci_separator(a, b, places, style):
    rules = RULES[style]
    lo, hi = sorted((a, b))
    low, high = format_stat(lo, f"d{places}", rules), format_stat(hi, f"d{places}", rules)
    text = fmt_ci(low, high, rules)
    negative = low.startswith((MINUS, "-")) or high.startswith((MINUS, "-"))
    if negative:
        assert text == f"{low} to {high}"
        assert "--" not in text and f"-{MINUS}" not in text
    else:
        assert text == f"{low}-{high}" and text.count("-") == 1
    if style == "jama":
        # the only ASCII hyphen is the range separator between positive limits
        assert text.replace(f"{low}-{high}", "") == "" or "-" not in text


@SETTINGS
@given(value=st.one_of(st.none(), st.just(float("nan")), st.just(float("inf")), st.just(float("-inf"))),
       spec=st.sampled_from(["d1", "pct0", "pvalue", "ratio", "sig2", "int"]))
def test_non_finite_is_ne(value, spec):
    assert format_stat(value, spec) == "NE"
