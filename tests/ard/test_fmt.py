"""Formatting rules: examples from the AMA Manual of Style as summarised in shared/style/jama.md."""
import pytest

from trialsupp.ard.fmt import CSR, JAMA, MINUS, fmt_ci, fmt_pvalue, format_stat, pct_spec_for


@pytest.mark.parametrize("p, text", [
    (0.04, ".04"), (0.002, ".002"), (0.046, ".046"), (0.0004, "<.001"), (0.999, ">.99"),
    (0.5, ".50"), (0.97, ".97"), (0.049, ".049"), (0.051, ".05"), (0.0099, ".010"), (0.001, ".001"),
    (0.245, ".24"), (0.03, ".03"), (1.0, ">.99"), (0.0, "<.001"),
])
def test_jama_pvalues(p, text):
    assert fmt_pvalue(p, JAMA) == text


@pytest.mark.parametrize("p, text", [(0.245, "0.245"), (0.0004, "<.001"), (0.0135, "0.014"), (0.9996, ">.999")])
def test_csr_pvalues(p, text):
    assert fmt_pvalue(p, CSR) == text


def test_pvalue_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="within"):
        fmt_pvalue(1.2)


def test_rounding_half_even_vs_half_away():
    assert format_stat(47.65, "d1", JAMA) == "47.6"
    assert format_stat(47.65, "d1", CSR) == "47.7"
    assert format_stat(0.125, "d2", JAMA) == "0.12"
    assert format_stat(0.125, "d2", CSR) == "0.13"
    assert format_stat(-2.5, "d0", JAMA) == MINUS + "2"
    assert format_stat(-2.5, "d0", CSR) == "-3"


def test_leading_zero_kept_and_minus_sign():
    assert format_stat(0.87, "ratio") == "0.87"
    assert format_stat(-7.25, "d1") == MINUS + "7.2"
    assert format_stat(-0.04, "d1") == "0.0"          # no negative zero


def test_percent_precision_follows_denominator():
    assert pct_spec_for(99) == "pct0" and pct_spec_for(100) == "pct1"
    assert format_stat(19 / 36, "pct0") == "53"
    assert format_stat(43 / 72, "pct0") == "60"


def test_confidence_intervals():
    assert fmt_ci("0.51", "0.80") == "0.51-0.80"
    assert fmt_ci(MINUS + "7.2", MINUS + "1.0") == f"{MINUS}7.2 to {MINUS}1.0"
    assert fmt_ci(MINUS + "3.2", "5.5") == f"{MINUS}3.2 to 5.5"


def test_not_estimable_and_bad_specs():
    assert format_stat(None, "d1") == "NE"
    assert format_stat(float("nan"), "d1") == "NE"
    with pytest.raises(ValueError, match="unknown format spec"):
        format_stat(1.0, "zz")
    with pytest.raises(ValueError, match="non-integer"):
        format_stat(1.5, "int")


def test_x_spec_drops_trailing_zeros_like_rtables():
    """``xN``: at most N decimals, trailing zeros dropped (rtables "xx.xx", R Submission Pilot 1)."""
    from trialsupp.ard.fmt import CSR, format_stat
    got = [format_stat(v, "x2", CSR) for v in (76.0, 77.5, 60.55, 70.0, 14.649, 108.0, 0.004, 12.345)]
    assert got == ["76", "77.5", "60.55", "70", "14.65", "108", "0", "12.35"]   # SAS half away: 12.345 -> 12.35
