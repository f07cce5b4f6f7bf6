"""Baseline characteristics (eTable): ITT participants overall and by progression subgroup,
by randomized group (placebo / delayed start vs early start) plus a total column.

The statistics are the standard output ``trialsupp.tlg.demographics`` (ITT, arm ``STARTGR``),
called once for all participants (with the Total column) and once per progression subgroup
(without); subgroup rows carry ``group2 = PROGGR1``. Column header sizes are the tabulation
of ``STARTGR`` (levels = groups, and "Total"). No P values (randomized trial).
"""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from trialsupp import tlg
from trialsupp.ard.schema import bind_ard

from ._common import start_groups, tag

__all__ = ["baseline_ard", "MEAN_SD", "MEDIAN_IQR", "GEOMEAN", "CATEGORICAL", "LEVELS", "SUBGROUPS"]

#: variable -> format of mean and SD (JAMA: one more digit than recorded at most)
MEAN_SD = {"AGE": {"mean": "d1", "sd": "d1"}, "BLALSFRS": {"mean": "d1", "sd": "d1"},
           "BLSVC": {"mean": "d1", "sd": "d1"}, "BLHHD": {"mean": "d2", "sd": "d2"}}
MEDIAN_IQR = {"ONSETMO": {"median": "d1", "q1": "d1", "q3": "d1"}}
GEOMEAN = {"NFLBL": {"geomean": "d1", "conf.low": "d1", "conf.high": "d1"},
           "BLSOD1": {"geomean": "d1", "conf.low": "d1", "conf.high": "d1"}}
CATEGORICAL = ("SEX", "RACE", "ETHNIC", "REGION", "A5VFL", "RILUFL", "EDARAFL")
LEVELS = {
    "SEX": ["Female", "Male"],          # tlg decodes SEX M/F
    "RACE": ["WHITE", "ASIAN", "BLACK OR AFRICAN AMERICAN", "OTHER", "NOT REPORTED"],
    "ETHNIC": ["HISPANIC OR LATINO", "NOT HISPANIC OR LATINO"],
    "REGION": ["North America", "Europe", "Asia"],
    "A5VFL": ["Y", "N"], "RILUFL": ["Y", "N"], "EDARAFL": ["Y", "N"],
}
SUBGROUPS = ("Faster progression", "Slower progression")
VARIABLES = [*MEAN_SD, *MEDIAN_IQR, *GEOMEAN, *CATEGORICAL]
STATISTICS = {**{v: ("N", "mean", "sd") for v in MEAN_SD}, **{v: ("N", "median", "q1", "q3") for v in MEDIAN_IQR},
              **{v: "geomean" for v in GEOMEAN}}


def _standard(adsl: pd.DataFrame, groups: tuple[str, str], total: bool) -> pd.DataFrame:
    """``tlg.demographics`` of the ITT participants of ``adsl`` by start group."""
    return tlg.demographics(adsl, VARIABLES, arm="STARTGR", pop_flag="ITTFL", arms=list(groups), total=total,
                            statistics=STATISTICS, fmt={**MEAN_SD, **MEDIAN_IQR, **GEOMEAN}, levels=LEVELS).ard


def baseline_ard(adsl: pd.DataFrame, sim: Mapping[str, Any] | None = None,
                 subgroups: tuple[str, ...] = SUBGROUPS) -> pd.DataFrame:
    """Baseline ARD of the ITT population: overall by start group with total, and per subgroup."""
    groups = start_groups(sim)
    parts = [_standard(adsl, groups, total=True)]
    for sg in subgroups:
        parts.append(tag(_standard(adsl[adsl["PROGGR1"] == sg], groups, total=False),
                         group2="PROGGR1", group2_level=sg))
    return bind_ard(*parts)
