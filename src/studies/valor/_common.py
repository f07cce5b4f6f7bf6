"""Shared selection helpers for the VALOR analyses (no statistics).

Group labels come from the study config (``simulation.start_groups`` /
``simulation.arms``) so that the displays and the data agree.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from trialsupp.ard.schema import bind_ard
from trialsupp.stats.descriptive import ard_tabulate

__all__ = ["START_GROUPS", "GROUP_LABELS", "start_groups", "group_labels", "itt", "population",
           "tag", "flag_ard", "POPULATIONS"]

#: default order of the start groups (placebo / delayed start first)
START_GROUPS = ("Delayed start", "Early start")
GROUP_LABELS = {"Delayed start": "Placebo / delayed start", "Early start": "Early start"}
#: values of the ``population`` parameter -> ADSL selection
POPULATIONS = {"ITT": None, "Faster progression": "Faster progression",
               "Slower progression": "Slower progression"}


def start_groups(sim: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """(delayed, early) STARTGR values from the config (defaults if no config)."""
    if not sim:
        return START_GROUPS
    sg = sim["start_groups"]
    return (sg["delayed"], sg["early"])


def group_labels(sim: Mapping[str, Any] | None = None) -> dict[str, str]:
    delayed, early = start_groups(sim)
    return {delayed: "Placebo / delayed start", early: "Early start"}


def itt(adsl: pd.DataFrame) -> pd.DataFrame:
    return adsl[adsl["ITTFL"] == "Y"].copy()


def population(adsl: pd.DataFrame, name: str = "ITT") -> pd.DataFrame:
    """ITT participants, optionally one progression subgroup (``PROGGR1``)."""
    if name not in POPULATIONS:
        raise ValueError(f"population {name!r}: choose from {list(POPULATIONS)}")
    d = itt(adsl)
    sub = POPULATIONS[name]
    return d if sub is None else d[d["PROGGR1"] == sub].copy()


def tag(ard: pd.DataFrame, **cols: Any) -> pd.DataFrame:
    """Set ARD key columns (labelling only) on every row."""
    out = ard.copy()
    for k, v in cols.items():
        out[k] = [v] * len(out)
    return out


def flag_ard(frame: pd.DataFrame, mask: Sequence[bool] | pd.Series, *, by: str | None, variable: str,
             variable_level: Any = None, statistic: Sequence[str] = ("n", "N", "p"),
             levels: Sequence[Any] | None = None, **tags: Any) -> pd.DataFrame:
    """Participants of ``frame`` (one row each) meeting ``mask``: counts (and %) by ``by``.

    The counting is ``ard_tabulate`` on a Y/N flag (level "Y" kept); the rows are then
    relabelled ``variable`` / ``variable_level`` (and any ``tags``).
    """
    d = frame.copy()
    d["_FLAG"] = pd.Categorical(["Y" if m else "N" for m in mask], categories=["Y", "N"])
    if by is not None and levels is not None:
        d[by] = pd.Categorical(d[by], categories=list(levels))
    ard = ard_tabulate(d, "_FLAG", by=by, statistic=statistic)
    ard = ard[ard["variable_level"] == "Y"]
    return tag(ard, variable=variable, variable_level=variable_level, **tags).reset_index(drop=True)


def bind(*frames: pd.DataFrame) -> pd.DataFrame:
    return bind_ard(*frames)
