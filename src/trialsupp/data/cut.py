"""Data cuts: every dataset as it would have been known at a calendar date.

Rules (ADaM conventions):
- ADSL: participants randomized (RANDDT, else TRTSDT) after the cut are removed;
  every date after the cut is blanked and what depended on it is reset
  (death flag DTHFL, end-of-study status "ONGOING", and the study's own flags that a
  date sets, e.g. an extension-entry flag: ``data: {cut_flags: {FLAG: DATEVAR}}`` of the
  study config, passed as ``flags``).
- BDS datasets (ADT): records after the cut are dropped.
- ADAE / ADEX (ASTDT): records starting after the cut are dropped; end dates after the cut blanked.
- ADTTE: an event or censoring after the cut becomes censoring at the cut
  (AVAL recomputed from STARTDT with the dataset's own day-count convention).
- Every dataset keeps only participants still in ADSL.
"""
from __future__ import annotations

import pandas as pd

from trialsupp.data.io import DataError

# flag -> the date that sets it (reset to "N" when that date falls after the cut); ADaM's
# own; a study adds its flags with ``flags=`` (study config ``data.cut_flags``)
DEPENDENT_FLAGS = {"DTHFL": "DTHDT"}


def _as_dates(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    return pd.to_datetime(series, errors="coerce")


def _date_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.endswith("DT") and
            (pd.api.types.is_datetime64_any_dtype(df[c]) or df[c].dtype == object)]


def cut_adsl(adsl: pd.DataFrame, cut: pd.Timestamp, flags: dict[str, str] | None = None) -> pd.DataFrame:
    flags = {**DEPENDENT_FLAGS, **(flags or {})}
    start = "RANDDT" if "RANDDT" in adsl else "TRTSDT"
    if start not in adsl:
        raise DataError("adsl: a data cut needs RANDDT or TRTSDT")
    out = adsl[_as_dates(adsl[start]) <= cut].copy()
    for col in _date_columns(out):
        dates = _as_dates(out[col])
        late = dates > cut
        if late.any():
            out.loc[late, col] = pd.NaT
        for flag, source in flags.items():
            if source == col and flag in out:
                out.loc[late, flag] = "N" if (out[flag] == "N").any() or flag != "DTHFL" else ""
        if col == "EOSDT" and "EOSSTT" in out:
            out.loc[late, "EOSSTT"] = "ONGOING"
            for reason in ("DCSREAS", "DCREASCD"):
                if reason in out:
                    out.loc[late, reason] = ""
    return out


def cut_tte(adtte: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    out = adtte.copy()
    adt, start = _as_dates(out["ADT"]), _as_dates(out["STARTDT"])
    offset = (out["AVAL"] - (adt - start).dt.days).round()
    late = adt > cut
    out.loc[late, "ADT"] = cut
    out.loc[late, "AVAL"] = (cut - start[late]).dt.days + offset[late]
    out.loc[late, "CNSR"] = 1
    if "EVNTDESC" in out:
        out.loc[late, "EVNTDESC"] = "Censored at data cut"
    return out


def apply_cut(datasets: dict[str, pd.DataFrame], cut: str, flags: dict[str, str] | None = None
              ) -> dict[str, pd.DataFrame]:
    """All datasets cut at ISO date ``cut`` (see module rules); ``flags``: the study's ADSL
    flags {FLAG: DATEVAR} reset to "N" when their date falls after the cut."""
    when = pd.Timestamp(cut)
    if "adsl" not in datasets:
        raise DataError("a data cut needs adsl")
    adsl = cut_adsl(datasets["adsl"], when, flags)
    keep = set(adsl["USUBJID"])
    out = {"adsl": adsl}
    for name, df in datasets.items():
        if name == "adsl":
            continue
        df = df[df["USUBJID"].isin(keep)] if "USUBJID" in df else df
        if "STARTDT" in df and "CNSR" in df and "ADT" in df:
            df = cut_tte(df, when)
        elif "ASTDT" in df:
            df = df[~(_as_dates(df["ASTDT"]) > when)].copy()
            if "AENDT" in df:
                df.loc[_as_dates(df["AENDT"]) > when, "AENDT"] = pd.NaT
        elif "ADT" in df:
            df = df[~(_as_dates(df["ADT"]) > when)]
        out[name] = df.reset_index(drop=True)
    return out
