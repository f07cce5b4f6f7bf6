"""Number formatting for displays: JAMA/AMA rules and CSR (SAS) conventions.

Format specs (the ARD ``fmt`` column):
    ``int``          integer count
    ``dN``           N decimals (``d0``, ``d1``, ``d2`` ...)
    ``sigN``         N significant digits
    ``pctN``         a proportion (0-1) shown as percent with N decimals, no % sign
    ``pvalue``       P value: JAMA (".04", ".002", "<.001", ">.99") or CSR ("0.245", "<.001")
    ``ratio``        hazard/odds/geometric-mean ratios, 2 decimals
    ``str``          as is

Rounding is done with ``decimal`` on the shortest decimal representation of the
float (``repr``), never with float ``round()``: ``half_even`` (JAMA: 47.65 -> 47.6)
or ``half_away`` (SAS ROUND(): 47.65 -> 47.7), a per-study setting.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

MINUS = "\u2212"
NE = "NE"


@dataclass(frozen=True)
class FormatRules:
    rounding: str = "half_even"      # "half_even" (JAMA) | "half_away" (SAS/CSR)
    minus: str = MINUS               # typeset minus sign; "-" for CSR/RTF listings
    pvalue_style: str = "jama"       # "jama" | "csr"
    ci_sep: str = "-"                # JAMA: hyphen between positive limits

    def __post_init__(self):
        if self.rounding not in ("half_even", "half_away"):
            raise ValueError(f"format rule 'rounding' must be half_even or half_away, not {self.rounding!r}")
        if self.pvalue_style not in ("jama", "csr"):
            raise ValueError(f"format rule 'pvalue_style' must be jama or csr, not {self.pvalue_style!r}")


JAMA = FormatRules()
CSR = FormatRules(rounding="half_away", minus="-", pvalue_style="csr")


def round_decimal(x: float, places: int, rules: FormatRules = JAMA) -> Decimal:
    """Round ``x`` to ``places`` decimals under the study's rounding rule."""
    mode = ROUND_HALF_EVEN if rules.rounding == "half_even" else ROUND_HALF_UP  # HALF_UP is away from zero
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), rounding=mode)


def _signed(d: Decimal, rules: FormatRules) -> str:
    text = f"{d:f}"
    if text.startswith("-"):
        body = text[1:]
        if set(body) <= set("0."):       # -0.0 -> 0.0
            return body
        return rules.minus + body
    return text


def fmt_decimals(x: float, places: int, rules: FormatRules = JAMA) -> str:
    return _signed(round_decimal(x, places, rules), rules)


def fmt_sig(x: float, digits: int, rules: FormatRules = JAMA) -> str:
    if x == 0:
        return fmt_decimals(0.0, max(digits - 1, 0), rules)
    exp = math.floor(math.log10(abs(x)))
    places = max(digits - 1 - exp, 0)
    return fmt_decimals(x, places, rules)


def fmt_pvalue(p: float, rules: FormatRules = JAMA) -> str:
    """JAMA: 2 decimals, 3 when the first two are zeros or 2 would cross .05; <.001; >.99; no leading zero.

    CSR: 3 decimals with leading zero, "<.001" below .001, ">.999" above .999 (SAS PVALUE6.3 style
    prints "<.0001"; the CDISC pilot tables print "<.001").
    """
    if p is None or not (0.0 <= p <= 1.0):
        raise ValueError(f"P value must be within [0, 1], got {p!r}")
    if rules.pvalue_style == "csr":
        if p < 0.001:
            return "<.001"
        if p > 0.999:
            return ">.999"
        return fmt_decimals(p, 3, rules)
    if p < 0.001:
        return "<.001"
    two = round_decimal(p, 2, rules)
    if two > Decimal("0.99"):
        return ">.99"
    three = round_decimal(p, 3, rules)
    # AMA: 3 decimals when P < .01, or when 2 decimals would cross .05 (P = .046, not .05)
    crosses = (p < 0.05) != (two < Decimal("0.05"))
    if p < 0.01 or crosses:
        text = f"{three:f}"
    else:
        text = f"{two:f}"
    return text[1:] if text.startswith("0") else text


def format_stat(value: Any, spec: str, rules: FormatRules = JAMA) -> str:
    """Format one raw ARD stat by its spec; ``None`` gives "NE" (not estimable)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NE
    if spec == "str" or isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if spec == "int":
        if float(value) != int(value):
            raise ValueError(f"format 'int' given a non-integer value {value!r}")
        return _signed(Decimal(int(value)), rules)
    if spec == "pvalue":
        return fmt_pvalue(float(value), rules)
    if spec == "ratio":
        return fmt_decimals(float(value), 2, rules)
    if spec.startswith("pct"):
        return fmt_decimals(100.0 * float(value), int(spec[3:] or 0), rules)
    if spec.startswith("sig"):
        return fmt_sig(float(value), int(spec[3:]), rules)
    if spec.startswith("d") and spec[1:].isdigit():
        return fmt_decimals(float(value), int(spec[1:]), rules)
    raise ValueError(f"unknown format spec {spec!r}")


def pct_spec_for(denominator: int) -> str:
    """JAMA: no more precision than the denominator supports (<100 whole percent; else 1 decimal)."""
    return "pct0" if denominator < 100 else "pct1"


def fmt_ci(low: str, high: str, rules: FormatRules = JAMA) -> str:
    """Join already formatted limits: "0.51-0.80"; "−7.2 to −1.0" when either limit is negative."""
    negative = low.startswith((rules.minus, "-")) or high.startswith((rules.minus, "-"))
    if negative or rules.ci_sep != "-":
        return f"{low} to {high}" if negative else f"{low}{rules.ci_sep}{high}"
    return f"{low}-{high}"
