"""CDISCPILOT01 vital signs: 14-7.01 (baseline, Week 24, End of Treatment), 14-7.02 (change from
baseline), 14-7.03 (weight and weight change). Concomitant medications (14-7.04) need SDTM CM,
which is not in data/cdiscpilot01: not produced.

Atorus ``programs/t-14-7.01.R`` / ``t-14-7.03.R``: safety, ANL01FL = Y (14-7.01); visits
Baseline (ABLFL = Y), Week 24, End of Treatment; per measure, position (ATPT) and arm:
n, mean (1 decimal), SD (2), median, min, max (1 decimal).
"""
from __future__ import annotations

import pandas as pd

from trialsupp.ard.schema import bind_ard
from trialsupp.stats.descriptive import ard_summary

from ._util import tag
from .common import arm_categorical, ordered

__all__ = ["t14_7_01", "t14_7_02", "t14_7_03", "VS_FMT", "VS_PARAMS", "TIMES"]

VS_FMT = {"N": "int", "mean": "d1", "sd": "d2", "median": "d1", "min": "d1", "max": "d1"}
VS_PARAMS = {"SYSBP": "Systolic Blood Pressure (mmHg)", "DIABP": "Diastolic Blood Pressure (mmHg)",
             "PULSE": "Pulse (bpm)"}
TIMES = ["Baseline", "Week 24", "End of Trt."]
STATS = ("N", "mean", "sd", "median", "min", "max")


def _select(advs: pd.DataFrame, anl01: bool = True) -> pd.DataFrame:
    d = advs[advs["SAFFL"] == "Y"]
    if anl01:
        d = d[d["ANL01FL"] == "Y"]
    time = pd.Series(None, index=d.index, dtype=object)
    time[d["ABLFL"] == "Y"] = "Baseline"
    time[d["AVISIT"] == "Week 24"] = "Week 24"
    time[d["AVISIT"] == "End of Treatment"] = "End of Trt."
    d = d.assign(TIME=time)[time.notna()]
    d = arm_categorical(d, "TRTP", "TRTPN")
    d["TIME"] = ordered(d["TIME"], TIMES)
    return d


def _by_param(d: pd.DataFrame, var: str, params: dict) -> pd.DataFrame:
    parts = []
    for pc in params:
        for pos, sub in d[d["PARAMCD"] == pc].groupby("ATPT", sort=True):
            parts.append(tag(ard_summary(sub, var, by="TRTP", strata="TIME", statistic=STATS, fmt=VS_FMT),
                             variable_level=f"{pc}/{pos}"))
    return bind_ard(*parts)


def t14_7_01(advs: pd.DataFrame) -> pd.DataFrame:
    """Vital signs at baseline, Week 24 and end of treatment (variable_level = PARAMCD/position)."""
    return _by_param(_select(advs), "AVAL", VS_PARAMS)


def t14_7_02(advs: pd.DataFrame) -> pd.DataFrame:
    """Change from baseline at Week 24 and end of treatment."""
    d = _select(advs)
    d = d[d["TIME"] != "Baseline"]
    d["TIME"] = ordered(d["TIME"].astype(str), TIMES[1:])
    return _by_param(d, "CHG", VS_PARAMS)


def t14_7_03(advs: pd.DataFrame) -> pd.DataFrame:
    """Weight (kg) at baseline, Week 24, end of treatment and its change from baseline.

    As Atorus ``t-14-7.03.R``: all WEIGHT records of those visits (no SAFFL/ANL01FL filter).
    """
    d = advs[advs["PARAMCD"] == "WEIGHT"].assign(SAFFL="Y")
    d = _select(d, anl01=False)
    value = ard_summary(d, "AVAL", by="TRTP", strata="TIME", statistic=STATS, fmt=VS_FMT)
    post = d[d["TIME"] != "Baseline"].copy()
    post["TIME"] = ordered(post["TIME"].astype(str), TIMES[1:])
    change = ard_summary(post, "CHG", by="TRTP", strata="TIME", statistic=STATS, fmt=VS_FMT)
    return bind_ard(value, change)
