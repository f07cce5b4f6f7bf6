"""Baseline characteristics (eTable): ITT participants overall and by progression subgroup,
by randomized group (placebo / delayed start vs early start) plus a total column.

Rows carry ``group1 = STARTGR`` (missing for the total column) and ``group2 = PROGGR1``
(missing for the overall columns). Group sizes for the column headers are the
``n`` of a tabulation of ``STARTGR`` (``variable == "STARTGR"``) and, for the total,
of ``ITTFL``. No P values (randomized trial).
"""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from trialsupp.ard.schema import bind_ard
from trialsupp.stats.descriptive import ard_geomean, ard_summary, ard_tabulate

from ._common import itt, start_groups, tag

__all__ = ["baseline_ard", "MEAN_SD", "MEDIAN_IQR", "GEOMEAN", "CATEGORICAL", "LEVELS", "SUBGROUPS"]

#: variable -> format of mean and SD (JAMA: one more digit than recorded at most)
MEAN_SD = {"AGE": {"mean": "d1", "sd": "d1"}, "BLALSFRS": {"mean": "d1", "sd": "d1"},
           "BLSVC": {"mean": "d1", "sd": "d1"}, "BLHHD": {"mean": "d2", "sd": "d2"}}
MEDIAN_IQR = {"ONSETMO": {"median": "d1", "q1": "d1", "q3": "d1"}}
GEOMEAN = {"NFLBL": {"geomean": "d1", "conf.low": "d1", "conf.high": "d1"},
           "BLSOD1": {"geomean": "d1", "conf.low": "d1", "conf.high": "d1"}}
CATEGORICAL = ("SEX", "RACE", "ETHNIC", "REGION", "A5VFL", "RILUFL", "EDARAFL")
LEVELS = {
    "SEX": ["F", "M"],
    "RACE": ["WHITE", "ASIAN", "BLACK OR AFRICAN AMERICAN", "OTHER", "NOT REPORTED"],
    "ETHNIC": ["HISPANIC OR LATINO", "NOT HISPANIC OR LATINO"],
    "REGION": ["North America", "Europe", "Asia"],
    "A5VFL": ["Y", "N"], "RILUFL": ["Y", "N"], "EDARAFL": ["Y", "N"],
}
SUBGROUPS = ("Faster progression", "Slower progression")


def _categorical(d: pd.DataFrame, groups: tuple[str, str]) -> pd.DataFrame:
    d = d.copy()
    d["STARTGR"] = pd.Categorical(d["STARTGR"], categories=list(groups))
    for v in CATEGORICAL:
        extra = [x for x in pd.unique(d[v]) if x not in LEVELS[v] and x != ""]
        d[v] = pd.Categorical(d[v].replace("", pd.NA), categories=LEVELS[v] + extra)
    return d


def _block(d: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """All baseline statistics of ``d`` by ``by`` (None: one total column)."""
    parts = []
    for var, f in MEAN_SD.items():
        parts.append(ard_summary(d, var, by=by, statistic=("N", "mean", "sd"), fmt=f))
    for var, f in MEDIAN_IQR.items():
        parts.append(ard_summary(d, var, by=by, statistic=("N", "median", "q1", "q3"), fmt=f))
    for var, f in GEOMEAN.items():
        parts.append(ard_geomean(d, var, by=by, fmt=f))
    parts.append(ard_tabulate(d, list(CATEGORICAL), by=by, denominator=d))
    if by is not None:
        parts.append(ard_tabulate(d, by, statistic=("n",)))       # column header sizes
    else:
        parts.append(ard_tabulate(d, "ITTFL", statistic=("n",)))
    return bind_ard(*parts)


def baseline_ard(adsl: pd.DataFrame, sim: Mapping[str, Any] | None = None,
                 subgroups: tuple[str, ...] = SUBGROUPS) -> pd.DataFrame:
    """Baseline ARD of the ITT population: overall by start group, total, and per subgroup."""
    groups = start_groups(sim)
    d = _categorical(itt(adsl), groups)
    parts = [_block(d, "STARTGR"), _block(d, None)]
    for sg in subgroups:
        sub = d[d["PROGGR1"] == sg]
        parts.append(tag(_block(sub, "STARTGR"), group2="PROGGR1", group2_level=sg))
    return bind_ard(*parts)
