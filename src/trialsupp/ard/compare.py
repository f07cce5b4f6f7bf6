"""Compare two ARDs row by row (cards' compare_ard): by id, counts exactly, other
numbers to a relative tolerance, displayed strings exactly."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

COUNT_STATS = {"n", "N", "N_obs", "n_event", "n_censor", "n_risk"}


@dataclass
class Difference:
    id: str
    output_id: str
    field: str
    a: Any
    b: Any
    rel_error: float | None = None

    def line(self) -> str:
        rel = f" (relative difference {self.rel_error:.3g})" if self.rel_error is not None else ""
        return f"{self.output_id} {self.id}: {self.field} {self.a!r} -> {self.b!r}{rel}"


@dataclass
class Comparison:
    n_a: int
    n_b: int
    matched: int = 0
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (self.only_a or self.only_b or self.differences)


def _rel(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def values_equal(stat_name: str, a: Any, b: Any, rtol: float) -> tuple[bool, float | None]:
    if _missing(a) or _missing(b):      # not estimable (None; NaN once read back from a float column)
        return _missing(a) and _missing(b), None
    if a is None or b is None or isinstance(a, str) or isinstance(b, str) or isinstance(a, bool):
        return a == b, None
    if stat_name in COUNT_STATS:
        return a == b, None
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b, None
    rel = _rel(a, b)
    return rel <= rtol, rel


def compare_ard(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-9) -> Comparison:
    ia, ib = a.set_index("id"), b.set_index("id")
    result = Comparison(n_a=len(a), n_b=len(b))
    result.only_a = sorted(set(ia.index) - set(ib.index))
    result.only_b = sorted(set(ib.index) - set(ia.index))
    for rid in sorted(set(ia.index) & set(ib.index)):
        ra, rb = ia.loc[rid], ib.loc[rid]
        ok, rel = values_equal(ra["stat_name"], ra["stat"], rb["stat"], rtol)
        same = ok
        if not ok:
            result.differences.append(Difference(rid, ra["output_id"], "stat", ra["stat"], rb["stat"], rel))
        if ra["stat_fmt"] != rb["stat_fmt"]:
            same = False
            result.differences.append(Difference(rid, ra["output_id"], "stat_fmt", ra["stat_fmt"], rb["stat_fmt"]))
        result.matched += same
    return result


def diff_html(result: Comparison, name_a: str, name_b: str) -> str:
    """The reviewer's view of what changed between two renders."""
    import html
    e = html.escape
    rows = "".join(f"<tr><td>{e(str(d.output_id))}</td><td><code>{e(d.id)}</code></td><td>{e(d.field)}</td>"
                   f"<td>{e(str(d.a))}</td><td>{e(str(d.b))}</td></tr>" for d in result.differences)
    only = "".join(f"<li>only in A: <code>{e(i)}</code></li>" for i in result.only_a)
    only += "".join(f"<li>only in B: <code>{e(i)}</code></li>" for i in result.only_b)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>trialsupp diff</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{padding:.2em .8em;
border-bottom:1px solid #ccc;text-align:left}}</style></head><body>
<h1>What changed</h1><p>A: {e(name_a)}<br>B: {e(name_b)}</p>
<p>{len(result.differences)} differing values, {len(result.only_a)} rows only in A, {len(result.only_b)} only in B,
{result.matched} identical.</p>
<table><tr><th>Element</th><th>ARD id</th><th>Field</th><th>A</th><th>B</th></tr>{rows}</table>
<ul>{only}</ul></body></html>
"""
