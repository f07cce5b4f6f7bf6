"""The argument spine every standard output shares: population, arm, Total column, layout.

Nothing here computes a statistic: it selects subjects, orders arms, stacks a "Total"
copy and chooses number formats (the displayed decimals) from the measurement's
recorded precision and the layout's rules.

Spine (each ``trialsupp.tlg`` function takes these keyword arguments)
    arm       ADSL treatment variable (default ``"TRT01A"``; ``"TRT01P"`` for planned arm)
    pop_flag  ADSL population flag (``"SAFFL"``; ``"ITTFL"`` ...); ``None``: every subject
    id        subject identifier (``"USUBJID"``)
    total     add a "Total" column (all arms together)
    arms      arm order (default: by the numeric code ``<arm>N`` when present, else sorted)
    layout    ``"jama"`` or ``"csr"``: percent and mean/SD decimals (see :func:`summary_fmt`)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np
import pandas as pd

from trialsupp.ard.fmt import CSR, JAMA, FormatRules

__all__ = ["TOTAL", "TLG", "population", "arm_levels", "with_arm", "stack_total", "summary_fmt",
           "recorded_decimals", "measurement_decimals", "pct_fmt", "rules_for", "need", "InputError", "SCREEN_FAILURE"]

TOTAL = "Total"
LAYOUTS = ("jama", "csr")
# ARM / ACTARM values of subjects who were never randomised or treated (CDISC controlled terms)
SCREEN_FAILURE = ("Screen Failure", "SCREEN FAILURE", "Not Assigned", "NOT ASSIGNED", "Not Treated",
                  "NOT TREATED", "")


class InputError(ValueError):
    """A dataset lacks a variable (or rows) a standard output needs; the message names them."""


@dataclass(frozen=True)
class TLG:
    """One standard output: result ARD rows plus how to display them.

    Attributes
    ----------
    name : short id, also the default ``analysis_id`` ("demographics", "ae-soc-pt", ...)
    title : display title
    ard : result rows (``trialsupp.ard.schema`` RESULT_COLUMNS), ready for ``Session.record``
    population : population label for the placement ("Safety", "All subjects")
    inputs : dataset names read (for provenance)
    kind : "table" or "figure"
    build : ``build(placed, rules) -> Table | matplotlib Figure`` (reads placed rows only)
    """
    name: str
    title: str
    ard: pd.DataFrame
    population: str
    inputs: tuple[str, ...]
    kind: str
    build: Callable[[pd.DataFrame, FormatRules], Any] = field(repr=False)
    notes: tuple[str, ...] = ()

    def display(self, placed: pd.DataFrame, rules: FormatRules = JAMA):
        return self.build(placed, rules)

    def _repr_markdown_(self) -> str:
        return f"**{self.name}**: {self.title} ({len(self.ard)} ARD rows; population {self.population})"


def need(df: pd.DataFrame, dataset: str, variables: Sequence[str]) -> None:
    """Raise :class:`InputError` naming every variable of ``variables`` missing from ``df``."""
    missing = [v for v in variables if v and v not in df.columns]
    if missing:
        raise InputError(f"{dataset}: variable(s) {', '.join(missing)} not found "
                         f"(present: {', '.join(map(str, df.columns[:30]))}{' ...' if df.shape[1] > 30 else ''})")


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype(str).str.strip() == "")


def population(adsl: pd.DataFrame, pop_flag: Optional[str], arm: str, id: str = "USUBJID") -> pd.DataFrame:
    """Subjects of the population: ``pop_flag == "Y"``; screen failures and subjects without an arm
    are left out (ARM/``arm`` "Screen Failure", "Not Assigned", "Not Treated" or blank)."""
    need(adsl, "ADSL", [id, arm, pop_flag])
    d = adsl
    if pop_flag:
        d = d[d[pop_flag].astype(str).str.strip() == "Y"]
    d = d[~_blank(d[arm]) & ~d[arm].astype(str).str.strip().isin(SCREEN_FAILURE)]
    if d[id].duplicated().any():
        dup = d.loc[d[id].duplicated(), id].iloc[:3].tolist()
        raise InputError(f"ADSL: {id} is not unique (e.g. {dup})")
    return d.copy()


def population_label(pop_flag: Optional[str]) -> str:
    return {"SAFFL": "Safety", "ITTFL": "Intent-to-treat", "FASFL": "Full analysis set",
            "EFFFL": "Efficacy", "RANDFL": "Randomized", "PPROTFL": "Per protocol",
            None: "All subjects"}.get(pop_flag, pop_flag or "All subjects")


def arm_levels(df: pd.DataFrame, arm: str, arms: Optional[Sequence[Any]] = None) -> list:
    """Arm order: ``arms`` if given; else by the numeric code ``<arm>N`` (TRT01AN, TRTAN...); else sorted."""
    if arms is not None:
        return list(arms)
    present = [a for a in df[arm].dropna().unique().tolist() if str(a).strip()]
    code = arm + "N"
    if code in df.columns:
        first = df.dropna(subset=[arm]).groupby(arm, observed=True)[code].min()
        return sorted(present, key=lambda a: (float(first.get(a, np.inf)), str(a)))
    return sorted(present, key=str)


def with_arm(df: pd.DataFrame, adsl_pop: pd.DataFrame, arm: str, id: str = "USUBJID",
             dataset: str = "data") -> pd.DataFrame:
    """Rows of ``df`` for subjects of the population, with the ADSL arm ``arm`` (merged by ``id``;
    an ADSL arm replaces any same-named column of ``df``)."""
    need(df, dataset, [id])
    keep = adsl_pop[[id, arm]]
    base = df.drop(columns=[arm], errors="ignore")
    return base.merge(keep, on=id, how="inner", validate="many_to_one")


def stack_total(df: pd.DataFrame, arm: str, levels: Sequence[Any], total: bool) -> pd.DataFrame:
    """``df`` with ``arm`` a categorical in ``levels`` order, plus a "Total" copy of every row."""
    cats = list(levels) + ([TOTAL] if total else [])
    out = df.copy()
    out[arm] = pd.Categorical(out[arm], categories=cats)
    if not total:
        return out
    tot = out.copy()
    tot[arm] = pd.Categorical([TOTAL] * len(tot), categories=cats)
    return pd.concat([out, tot], ignore_index=True)


def recorded_decimals(values: Any, cap: int = 4) -> int:
    """Decimals the raw values are recorded with (0..cap), read from the values, not from float noise."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(float)
    if not len(x):
        return 0
    for d in range(cap + 1):
        scaled = x * 10 ** d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1, np.abs(scaled))):
            return d
    return cap


def measurement_decimals(values: Any, min_distinct: int = 20) -> int:
    """Display decimals ``k`` of a measurement, from its resolution, not from the stored floats.

    Values converted between units keep long float tails (creatinine 0.9 mg/dL is stored as
    79.56 umol/L, calcium 8.8 mg/dL as 2.1956 mmol/L) although the measurement resolves only
    steps of 8.84 umol/L or 0.025 mmol/L. With at least ``min_distinct`` distinct values, or
    at least 8 lying on a lattice (every gap a multiple of the smallest), the resolution ``q``
    is the smallest gap between them and ``k`` the decimals that show a step
    of ``q`` (q = 8.84 -> 0, 0.1 -> 1, 0.025 -> 2), never more than the recorded decimals.
    Otherwise the recorded decimals, unless more than 2 without a lattice (a conversion tail or
    unrounded derived values): then 3 significant digits at the median absolute value.
    """
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(float)
    k = recorded_decimals(x)
    u = np.unique(np.round(x, 8))
    gaps = np.diff(u)
    lattice = len(u) >= 8 and np.allclose(gaps / gaps.min(), np.round(gaps / gaps.min()), atol=1e-3)
    if lattice or (k <= 2 and len(u) >= min_distinct):
        q = float(np.min(gaps))
        return int(min(k, max(0, math.ceil(-math.log10(q) - 1e-6))))
    if k <= 2:
        return k
    ax = np.abs(x[x != 0])
    med = float(np.median(ax)) if len(ax) else 1.0
    return int(min(k, max(0, 2 - math.floor(math.log10(med)))))


def summary_fmt(values: Any, layout: str = "jama") -> dict[str, str]:
    """Formats of a continuous summary from the measurement's recorded decimals ``k``.

    CSR: min/max ``k``, mean/median/quartiles ``k + 1``, SD ``k + 2`` (the SAS CSR convention).
    JAMA: min/max ``k``; mean, SD, median and quartiles at most one more (``k + 1``).
    """
    check_layout(layout)
    k = measurement_decimals(values)
    sd = k + 2 if layout == "csr" else k + 1
    return {"N": "int", "min": f"d{k}", "max": f"d{k}", "mean": f"d{k + 1}", "median": f"d{k + 1}",
            "q1": f"d{k + 1}", "q3": f"d{k + 1}", "sd": f"d{sd}"}


def pct_fmt(layout: str = "jama", csr: str = "pct1") -> dict[str, str]:
    """``fmt`` for ``ard_tabulate``: JAMA leaves the percent to the arm's denominator
    (``pct_spec_for``: N < 100 whole percent, else one decimal); CSR uses fixed decimals."""
    check_layout(layout)
    return {"p": csr} if layout == "csr" else {}


def rules_for(layout: str) -> FormatRules:
    check_layout(layout)
    return CSR if layout == "csr" else JAMA


def check_layout(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
