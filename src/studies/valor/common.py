"""Populations, data selection and model constants of the simulated VALOR/OLE analyses.

Data selection only (filters, merges, renames); no statistic is computed here.
``data`` arguments are mappings of lower-case dataset names to ADaM frames
(``trialsupp.notebook.Session.data`` or ``apply_cut`` output).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

ARM = "TRT01P"
TOF, PBO = "Tofersen 100 mg", "Placebo"
GROUP = "STARTGR"
EARLY, DELAYED = "Early start", "Delayed start"
GROUP_LABELS = {EARLY: "Early start", DELAYED: "Placebo / delayed start"}
ARM_LABELS = {PBO: "Placebo", TOF: "Tofersen"}
FASTER, SLOWER = "Faster progression", "Slower progression"
PROGGR = "PROGGR1"

# endpoint -> (dataset, PARAMCD, display label, unit text for stub labels)
ENDPOINTS = {
    "ALSFRST": ("adqs", "ALSFRST", "ALSFRS-R total score", "points"),
    "SVCPP": ("adeff", "SVCPP", "Slow vital capacity", "% predicted"),
    "HHDMS": ("adeff", "HHDMS", "HHD megascore", "z score"),
    "ALSAQ40": ("adqs", "ALSAQ40", "ALSAQ-40 total score", "points"),
}
BIOMARKERS = {
    "SOD1": ("adlb", "SOD1", "CSF total SOD1 protein", "ng/mL"),
    "NFL": ("adlb", "NFL", "Plasma neurofilament light chain", "pg/mL"),
}

# MMRM visit sets (weeks from randomisation); unstructured covariance over these visits
VALOR_VISITS = (4, 8, 12, 16, 20, 24, 28)            # double-blind period (week-28 read-out)
SHORT_VISITS = (16, 28, 40, 52)                      # up to week 52 (12-month integrated analysis)
LONG_VISITS = (16, 28, 40, 52, 76, 100, 124, 148)    # up to week 148 (final analysis)
WEEK28_WINDOW_DAYS = 199        # last day of the double-blind period (day 197 + 2-day visit window)
MIN_PER_GROUP = 5               # a visit enters an MMRM only if each group has this many observed values


def visit_name(week: int) -> str:
    return "Baseline" if week == 0 else f"Week {week}"


def population(adsl: pd.DataFrame, name: str = "ITT") -> pd.DataFrame:
    """ADSL rows of a population: ITT, Faster progression or Slower progression."""
    pop = adsl[adsl["ITTFL"] == "Y"]
    if name == "ITT":
        return pop.copy()
    if name in (FASTER, SLOWER):
        return pop[pop[PROGGR] == name].copy()
    raise ValueError(f"unknown population {name!r} (ITT, {FASTER}, {SLOWER})")


def endpoint_records(data: Mapping[str, pd.DataFrame], code: str, pop: pd.DataFrame,
                     weeks: Sequence[int] | None = None, extra: Sequence[str] = ()) -> pd.DataFrame:
    """Post-baseline analysis records of one endpoint for the participants of ``pop``.

    Adds a column named ``code`` holding the change from baseline (CHG) so model
    output rows carry the endpoint code as their ``variable``; ADSL columns in
    ``extra`` are merged in.
    """
    ds, paramcd = (ENDPOINTS.get(code) or BIOMARKERS[code])[:2]
    df = data[ds]
    df = df[(df["PARAMCD"] == paramcd) & (df["ANL01FL"] == "Y") & (df["AVISITN"] > 0)]
    df = df[df["USUBJID"].isin(pop["USUBJID"])]
    if weeks is not None:
        df = df[df["AVISITN"].isin(list(weeks))]
    df = df.copy()
    df[code] = df["CHG"]
    cols = [c for c in extra if c not in df.columns]
    if cols:
        df = df.merge(pop[["USUBJID", *cols]], on="USUBJID", how="left")
    return df.reset_index(drop=True)


def usable_visits(df: pd.DataFrame, weeks: Sequence[int], group: str, levels: Sequence[str],
                  outcome: str, min_n: int = MIN_PER_GROUP) -> list[int]:
    """Weeks at which every group level has at least ``min_n`` observed ``outcome`` values."""
    out = []
    for w in weeks:
        at = df[(df["AVISITN"] == w) & df[outcome].notna()]
        if all((at[group] == lv).sum() >= min_n for lv in levels):
            out.append(w)
    return out
