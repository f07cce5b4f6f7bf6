"""ADaM checks run on load, per analysis: each failure names dataset, variable and rows."""
from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from trialsupp.data.io import DataError

FLAG_VALUES = {"Y", "N", ""}


def _rows(mask: pd.Series, limit: int = 5) -> str:
    idx = list(mask[mask].index[:limit])
    more = int(mask.sum()) - len(idx)
    return ", ".join(map(str, idx)) + (f" (+{more} more)" if more > 0 else "")


def require(datasets: Mapping[str, pd.DataFrame], needs: Mapping[str, Iterable[str]]) -> None:
    """Required datasets and variables present: ``{"adsl": ["USUBJID", "TRT01P"], ...}``."""
    for name, variables in needs.items():
        if name not in datasets:
            raise DataError(f"dataset {name}: required by this analysis but not provided")
        missing = [v for v in variables if v not in datasets[name].columns]
        if missing:
            raise DataError(f"dataset {name}: required variable(s) {', '.join(missing)} missing")


def check_flags(name: str, df: pd.DataFrame) -> None:
    """ADaM ``*FL`` variables are character flags holding Y, N or blank (a numeric one is refused)."""
    for col in (c for c in df.columns if c.endswith("FL")):
        values = df[col].fillna("").astype(str)
        bad = ~values.isin(FLAG_VALUES)
        if bad.any():
            raise DataError(f"dataset {name}, variable {col}: flag values must be Y, N or blank; "
                            f"rows {_rows(bad)} hold {sorted(values[bad].unique())[:3]}")


def check_numeric(name: str, df: pd.DataFrame, variables: Iterable[str]) -> None:
    """Numeric variables: numbers, numbers stored as text, or missing; anything else is named."""
    for col in variables:
        if col not in df or pd.api.types.is_numeric_dtype(df[col]):
            continue
        text = df[col].astype("string").str.strip()
        blank = df[col].isna() | (text == "")
        bad = pd.to_numeric(df[col].where(~blank), errors="coerce").isna() & ~blank
        if bad.any():
            raise DataError(f"dataset {name}, variable {col}: must be numeric; rows {_rows(bad)} hold text "
                            f"such as {df[col][bad].astype(str).head(1).tolist()}")


def check_adsl(adsl: pd.DataFrame) -> None:
    if "USUBJID" not in adsl:
        raise DataError("dataset adsl: variable USUBJID missing")
    dup = adsl["USUBJID"].duplicated(keep=False)
    if dup.any():
        raise DataError(f"dataset adsl, variable USUBJID: not unique; rows {_rows(dup)} "
                        f"repeat {sorted(adsl['USUBJID'][dup].unique())[:3]}")


def check_subjects_in_adsl(name: str, df: pd.DataFrame, adsl: pd.DataFrame) -> None:
    if "USUBJID" not in df:
        raise DataError(f"dataset {name}: variable USUBJID missing")
    orphan = ~df["USUBJID"].isin(set(adsl["USUBJID"]))
    if orphan.any():
        raise DataError(f"dataset {name}, variable USUBJID: rows {_rows(orphan)} have participants "
                        f"not in adsl, e.g. {df['USUBJID'][orphan].iloc[0]!r}")


def check_study(datasets: Mapping[str, pd.DataFrame], needs: Mapping[str, Iterable[str]] | None = None) -> None:
    """All ADaM checks over a study's datasets (and required variables when ``needs`` given)."""
    if needs:
        require(datasets, needs)
    if "adsl" in datasets:
        check_adsl(datasets["adsl"])
    for name, df in datasets.items():
        check_flags(name, df)
        check_numeric(name, df, ("AVISITN", "AVAL", "BASE", "CHG", "CNSR"))
        if name != "adsl" and "adsl" in datasets:
            check_subjects_in_adsl(name, df, datasets["adsl"])
