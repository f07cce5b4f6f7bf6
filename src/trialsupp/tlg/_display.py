"""Display helpers shared by the standard outputs: arm columns, stub labels per layout.

They read placed ARD rows only (``trialsupp.display.Table``); no statistic is computed.
"""
from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from trialsupp.ard.fmt import FormatRules
from trialsupp.ard.schema import bind_ard
from trialsupp.display import Table
from trialsupp.stats.descriptive import ard_tabulate

from ._spine import TOTAL

__all__ = ["header_ard", "arm_table", "count_template", "continuous_rows", "is_csr"]


def is_csr(rules: FormatRules) -> bool:
    return rules.pvalue_style == "csr"


def header_ard(pop: pd.DataFrame, arm: str) -> pd.DataFrame:
    """Column header sizes: subjects per arm (and Total) as a tabulation of ``arm`` (stat ``n``)."""
    return ard_tabulate(pop, arm, statistic=("n",))


def arm_table(placed: pd.DataFrame, title: str, arm: str, levels: Sequence[Any], rules: FormatRules,
              stub_header: str = "") -> Table:
    """A table with one column per arm (header "Arm (n = N)", CSR "Arm\\n(N=N)")."""
    csr = is_csr(rules)
    t = Table(title, stub_header=stub_header, landscape=csr, rules=rules)
    header = "{level}\n(N={n})" if csr else "{level}\n(n = {n})"
    hdr = placed[(placed["variable"] == arm) & (placed["context"] == "tabulate")]
    return t.columns_from(hdr, arm, levels=list(levels), header=header, n_stat="n")


def count_template(rules: FormatRules) -> str:
    return "{n} ({p}%)" if is_csr(rules) else "{n} ({p})"


def continuous_rows(t: Table, placed: pd.DataFrame, variable: str, label: str, rules: FormatRules,
                    unit: str = "", stats: Sequence[str] | None = None, **where) -> Table:
    """CSR: n, Mean, SD, Median, Q1, Q3, Min, Max rows; JAMA: mean (SD) and median (IQR) rows.
    ``stats``: the statistics computed; rows needing any other are left out."""
    if is_csr(rules):
        rows = {"n": "{N}", "Mean": "{mean}", "SD": "{sd}", "Median": "{median}", "Q1": "{q1}",
                "Q3": "{q3}", "Min": "{min}", "Max": "{max}"}
        return t.add_continuous(placed, variable, label + (f" ({unit})" if unit else ""),
                                _computed(rows, stats), **where)
    suffix = f", {unit}" if unit else ""
    rows = {"No.": "{N}", "Mean (SD)": "{mean} ({sd})", "Median (IQR)": "{median} ({iqr})",
            "Range": "{range}"}
    return t.add_continuous(placed, variable, label + suffix, _computed(rows, stats), **where)


_NEEDS = {"iqr": ("q1", "q3"), "range": ("min", "max")}


def _computed(rows: dict[str, str], stats: Sequence[str] | None) -> dict[str, str]:
    if stats is None:
        return rows
    have = set(stats)
    out = {}
    for lab, tpl in rows.items():
        names = [n for part in tpl.split("{")[1:] for n in _NEEDS.get(part.split("}")[0], (part.split("}")[0],))]
        if set(names) <= have:
            out[lab] = tpl
    return out


def levels_with_total(levels: Sequence[Any], total: bool) -> list:
    return list(levels) + ([TOTAL] if total else [])


def stacked(*parts: pd.DataFrame) -> pd.DataFrame:
    return bind_ard(*parts)
