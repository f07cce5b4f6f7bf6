"""Number formatting for displays: JAMA/AMA rules and CSR (SAS) conventions.

Format specs (the ARD ``fmt`` column):
    ``int``          integer count
    ``dN``           N decimals (``d0``, ``d1``, ``d2`` ...)
    ``xN``           at most N decimals, trailing zeros dropped (rtables "xx.xx": 76, 77.5, 60.55)
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
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from typing import Any

MINUS = "\u2212"
NE = "NE"


@dataclass(frozen=True)
class FormatRules:
    rounding: str = "half_even"      # "half_even" (JAMA) | "half_away" (SAS/CSR)
    minus: str = MINUS               # typeset minus sign; "-" for CSR/RTF listings
    pvalue_style: str = "jama"       # "jama" | "csr"
    ci_sep: str = "-"                # JAMA: hyphen between positive limits
    thousands: str = ","             # JAMA: "38,083" (numbers of 1000 or more); CSR tables: ""
    pvalue_digits: int = 3           # CSR style: decimals of a P value; below 10^-digits "<.001"/"<.0001"
    pvalue_high: str = ""            # CSR style: text above the top cut, e.g. ">.99"; "" = ">.999" (digits 9s)
    pct_below_step: bool = False     # a percentage above 0 that rounds to 0 prints "<1" ("<0.1" with 1 decimal)

    def __post_init__(self):
        if self.rounding not in ("half_even", "half_away"):
            raise ValueError(f"format rule 'rounding' must be half_even or half_away, not {self.rounding!r}")
        if self.pvalue_style not in ("jama", "csr"):
            raise ValueError(f"format rule 'pvalue_style' must be jama or csr, not {self.pvalue_style!r}")
        if not (isinstance(self.pvalue_digits, int) and 2 <= self.pvalue_digits <= 6):
            raise ValueError(f"format rule 'pvalue_digits' must be an integer 2-6, not {self.pvalue_digits!r}")
        if self.pvalue_high and not re.fullmatch(r">\.9{1,6}", self.pvalue_high):
            raise ValueError(f"format rule 'pvalue_high' must look like '>.99', not {self.pvalue_high!r}")


JAMA = FormatRules()
CSR = FormatRules(rounding="half_away", minus="-", pvalue_style="csr", thousands="")


def _quantize(d: Decimal, places: int, rules: FormatRules) -> Decimal:
    mode = ROUND_HALF_EVEN if rules.rounding == "half_even" else ROUND_HALF_UP  # HALF_UP is away from zero
    # enough precision for any finite double (the default context's 28 digits raise
    # InvalidOperation for e.g. 1e30 with 2 decimals)
    ctx = Context(prec=max(28, d.adjusted() + places + 2))
    return d.quantize(Decimal(1).scaleb(-places), rounding=mode, context=ctx)


def round_decimal(x: float | Decimal, places: int, rules: FormatRules = JAMA) -> Decimal:
    """Round ``x`` to ``places`` decimals under the study's rounding rule."""
    d = x if isinstance(x, Decimal) else Decimal(repr(float(x)))
    return _quantize(d, places, rules)


def _grouped(text: str, sep: str) -> str:
    """Insert the thousands separator in the integer part of a plain decimal string."""
    if not sep:
        return text
    whole, dot, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    if len(digits) < 4:
        return text
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return sign + sep.join(groups) + dot + frac


def _signed(d: Decimal, rules: FormatRules) -> str:
    text = _grouped(f"{d:f}", rules.thousands)
    if text.startswith("-"):
        body = text[1:]
        if set(body) <= set("0."):       # -0.0 -> 0.0
            return body
        return rules.minus + body
    return text


def fmt_decimals(x: float | Decimal, places: int, rules: FormatRules = JAMA) -> str:
    return _signed(round_decimal(x, places, rules), rules)


def fmt_sig(x: float, digits: int, rules: FormatRules = JAMA) -> str:
    if x == 0:
        return fmt_decimals(0.0, max(digits - 1, 0), rules)
    d = Decimal(repr(float(x)))
    places = max(digits - 1 - d.adjusted(), 0)     # exponent from the decimal digits, not log10
    rounded = round_decimal(d, places, rules)
    if places and rounded.adjusted() > d.adjusted():   # 9.96 -> 10.0: one digit too many
        rounded = round_decimal(d, places - 1, rules)
    return _signed(rounded, rules)


def fmt_pvalue(p: float, rules: FormatRules = JAMA) -> str:
    """JAMA: 2 decimals, 3 when the first two are zeros or 2 would cross .05 (more when 3 would
    still cross: .0496); <.001; >.99; no leading zero.

    CSR: ``rules.pvalue_digits`` decimals with leading zero (default 3: "0.245"), "<.001" below
    .001 ("<.0001" with 4 digits, as SAS PVALUE6.4), ">.999" above .999 or the study's
    ``pvalue_high`` (e.g. ">.99" above .99). Set per output in the study's ``format_rules.outputs``.
    """
    if p is None or not (0.0 <= p <= 1.0):
        raise ValueError(f"P value must be within [0, 1], got {p!r}")
    if rules.pvalue_style == "csr":
        digits = rules.pvalue_digits
        if p < 10.0 ** -digits:
            return "<." + "0" * (digits - 1) + "1"
        high = rules.pvalue_high or ">." + "9" * digits
        if p > 1 - 10.0 ** -(len(high) - 2):
            return high
        return fmt_decimals(p, digits, rules)
    if p < 0.001:
        return "<.001"
    two = round_decimal(p, 2, rules)
    if two > Decimal("0.99"):
        return ">.99"
    # AMA: 3 decimals when P < .01, or when 2 decimals would cross .05 (P = .046, not .05);
    # more when 3 still cross (P = .0496 is not ".050")
    below = p < 0.05
    crosses = below != (two < Decimal("0.05"))
    if p < 0.01 or crosses:
        places = 3
        shown = round_decimal(p, places, rules)
        while below and shown >= Decimal("0.05"):
            places += 1
            shown = round_decimal(p, places, rules)
        text = f"{shown:f}"
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
        # scale the decimal, not the float: 100 * 0.285 is 28.499999999999996 in binary
        pct, places = Decimal(repr(float(value))).scaleb(2), int(spec[3:] or 0)
        step = Decimal(1).scaleb(-places)
        if rules.pct_below_step and 0 < pct < step:
            return "<" + f"{step:f}"
        return fmt_decimals(pct, places, rules)
    if spec.startswith("sig"):
        return fmt_sig(float(value), int(spec[3:]), rules)
    if spec.startswith("d") and spec[1:].isdigit():
        return fmt_decimals(float(value), int(spec[1:]), rules)
    if spec.startswith("x") and spec[1:].isdigit():
        text = fmt_decimals(float(value), int(spec[1:]), rules)
        return text.rstrip("0").rstrip(".") if "." in text else text
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
