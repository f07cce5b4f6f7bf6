"""Labelling helpers for ARD rows (no statistics): tag rows with a second grouping."""
from __future__ import annotations

from typing import Any

import pandas as pd

from trialsupp.ard.schema import bind_ard


def tag(ard: pd.DataFrame, **cols: Any) -> pd.DataFrame:
    """Set ARD key columns (e.g. group2/group2_level, variable_level) on every row."""
    out = ard.copy()
    for k, v in cols.items():
        out[k] = [v] * len(out)
    return out


def rename_stat(ard: pd.DataFrame, old: str, new: str, label: str) -> pd.DataFrame:
    """Rename a statistic (e.g. a row count ``n`` of an event-level tabulation -> ``n_event``)."""
    out = ard.copy()
    hit = out["stat_name"] == old
    out.loc[hit, "stat_name"] = new
    out.loc[hit, "stat_label"] = label
    return out


__all__ = ["tag", "rename_stat", "bind_ard"]
