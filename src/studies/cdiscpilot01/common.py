"""CDISCPILOT01 shared data selection: arm order, populations, "Total" columns.

Arms are ordered Placebo / Xanomeline Low Dose / Xanomeline High Dose by their
numeric codes (TRT01PN, TRTPN, TRTAN = 0, 54, 81), as in every CSR table.
Nothing here computes a statistic: it only selects and labels rows.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["ARMS", "ARM_CODES", "TOTAL", "ARM_SHORT", "POPULATION_FLAGS", "POPULATION_LABELS",
           "arm_categorical", "select_population", "with_total", "blank_to_na", "flag_yn"]

ARM_CODES = {0: "Placebo", 54: "Xanomeline Low Dose", 81: "Xanomeline High Dose"}
ARMS = [ARM_CODES[k] for k in sorted(ARM_CODES)]
TOTAL = "Total"
ARM_SHORT = {"Placebo": "Placebo", "Xanomeline Low Dose": "Xan. Low", "Xanomeline High Dose": "Xan. High",
             TOTAL: "Total"}

# ADSL flags of the CSR populations (14-1.01)
POPULATION_FLAGS = {
    "ITT": "ITTFL",
    "Safety": "SAFFL",
    "Efficacy": "EFFFL",
    "Completers Week 24": "COMP24FL",
}
POPULATION_LABELS = {
    "ITT": "Intent-to-Treat",
    "Safety": "Safety",
    "Efficacy": "Efficacy",
    "Completers Week 24": "Completers at Week 24",
}


def blank_to_na(series: pd.Series) -> pd.Series:
    """XPT character blanks ("") become missing."""
    if series.dtype == object:
        return series.where(series.astype(str).str.strip() != "", None)
    return series


def arm_categorical(df: pd.DataFrame, arm: str = "TRT01P", code: str | None = None,
                    total: bool = False) -> pd.DataFrame:
    """Copy of ``df`` with ``arm`` as a categorical in CSR order (checked against the numeric code).

    ``code`` (e.g. ``"TRT01PN"``) is the numeric variable; when given, every row's
    arm name must match ARM_CODES[code] (a data error otherwise).
    """
    out = df.copy()
    if code is not None and code in out.columns:
        # the arm each code names (None: code missing or not an arm), one lookup per distinct code
        codes = out[code].to_numpy()
        known = pd.notna(codes)
        names = {v: ARM_CODES.get(int(v)) for v in set(codes[known].tolist())}
        expect = np.array([names[v] if k else None for v, k in zip(codes.tolist(), known)], dtype=object)
        mismatch = (expect != out[arm].to_numpy(dtype=object)) & (expect != None)  # noqa: E711 (elementwise)
        bad = out[mismatch]
        if len(bad):
            raise ValueError(f"{arm} does not match {code} in {len(bad)} row(s), e.g. "
                             f"{bad[[arm, code]].iloc[0].to_dict()}")
    levels = ARMS + ([TOTAL] if total else [])
    out[arm] = pd.Categorical(out[arm], categories=levels, ordered=True)
    return out


def with_total(df: pd.DataFrame, arm: str = "TRT01P") -> pd.DataFrame:
    """Stack ``df`` with a copy whose arm is "Total" (for the CSR Total column)."""
    base = arm_categorical(df, arm, total=True)
    tot = base.copy()
    tot[arm] = pd.Categorical([TOTAL] * len(tot), categories=base[arm].cat.categories, ordered=True)
    return pd.concat([base, tot], ignore_index=True)


def select_population(adsl: pd.DataFrame, population: str) -> pd.DataFrame:
    """ADSL subjects of a CSR population (ITT, Safety, Efficacy, Completers Week 24)."""
    if population not in POPULATION_FLAGS:
        raise ValueError(f"population must be one of {', '.join(POPULATION_FLAGS)}, not {population!r}")
    flag = POPULATION_FLAGS[population]
    return adsl[adsl[flag] == "Y"].copy()


def flag_yn(mask: Iterable[bool], name: str = "FLAG") -> pd.Categorical:
    """A Y/N categorical (both levels kept, so 2 x k tables keep empty rows)."""
    return pd.Categorical(["Y" if m else "N" for m in mask], categories=["Y", "N"])


def ordered(series: pd.Series, levels: Sequence) -> pd.Categorical:
    """A categorical with the given level order (levels absent from data still shown)."""
    return pd.Categorical(series, categories=list(levels), ordered=True)
