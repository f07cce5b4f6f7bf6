"""CDISCPILOT01 laboratory tables: 14-6.01 (chemistry by visit), 14-6.05 (normal range shifts,
chemistry) and 14-6.06 (Hy's law shifts). Hematology (ADLBH) is not in data/cdiscpilot01.

14-6.01 follows Atorus ``programs/t-14-6-01.R``: safety population, scheduled visits
(AVISITN 0-26) plus End of Treatment (AVISITN 99) records flagged AENTMTFL = Y; per test and
visit n, mean (SD) of AVAL and of the change from baseline (CHG, post-baseline visits).
14-6.05: ANL01FL = Y, visits other than End of Treatment, baseline range (BNRIND) x
on-treatment range (ANRIND) counts per arm; the P value is the CMH row-mean-scores
statistic of arm x ANRIND stratified by BNRIND.
14-6.06 follows ``programs/t-14-6.06.R``: ADLBHY, PARAMCD TRANSHY and HYLAW, post-baseline,
each subject's maximum value (latest visit among ties); baseline x maximum shift per arm
(ARD: variable = PARAMCD, group2 = BASELINE, variable_level = shift to);
CMH general association P value for TRANSHY.
"""
from __future__ import annotations

import pandas as pd

from trialsupp.ard.schema import bind_ard
from trialsupp.stats.cmh import cmh_test
from trialsupp.stats.descriptive import ard_summary, ard_tabulate

from ._util import tag
from .common import arm_categorical, ordered

__all__ = ["lab_visits", "t14_6_01", "t14_6_05", "t14_6_06", "LAB_FMT", "VISIT_LABELS"]

LAB_FMT = {"N": "int", "mean": "d1", "sd": "d2"}
VISIT_LABELS = {0: "Bsln", 2: "Wk 2", 4: "Wk 4", 6: "Wk 6", 8: "Wk 8", 12: "Wk 12", 16: "Wk 16",
                20: "Wk 20", 24: "Wk 24", 26: "Wk 26", 99: "End[1]"}


def lab_visits(adlbc: pd.DataFrame) -> pd.DataFrame:
    """Safety records at scheduled visits plus the flagged End of Treatment record."""
    d = adlbc[(adlbc["SAFFL"] == "Y") & adlbc["AVISITN"].notna()]
    d = d[(d["AVISITN"] != 99) | (d["AENTMTFL"] == "Y")]
    d = arm_categorical(d, "TRTP", "TRTPN")
    d["VISIT"] = ordered(d["AVISITN"].astype(int).map(VISIT_LABELS), list(VISIT_LABELS.values()))
    return d


def t14_6_01(adlbc: pd.DataFrame, paramcd: str) -> pd.DataFrame:
    """Summary of one chemistry test by visit and arm: n, mean (SD) of value and change."""
    d = lab_visits(adlbc)
    d = d[d["PARAMCD"] == paramcd]
    value = ard_summary(d, "AVAL", by="TRTP", strata="VISIT", statistic=("N", "mean", "sd"), fmt=LAB_FMT)
    post = d[d["AVISITN"] > 0].copy()
    post["VISIT"] = post["VISIT"].cat.remove_categories(["Bsln"])
    change = ard_summary(post, "CHG", by="TRTP", strata="VISIT", statistic=("N", "mean", "sd"),
                         fmt=LAB_FMT)
    return bind_ard(value, change)


def t14_6_05(adlbc: pd.DataFrame, paramcd: str) -> pd.DataFrame:
    """Shift of one chemistry test: baseline N/H x on-treatment N/H per arm, CMH P value."""
    d = adlbc[(adlbc["SAFFL"] == "Y") & (adlbc["ANL01FL"] == "Y") & (adlbc["PARAMCD"] == paramcd)]
    d = d[(d["AVISITN"] != 99) & d["BNRIND"].isin(["N", "H"]) & d["ANRIND"].isin(["N", "H"])]
    d = arm_categorical(d, "TRTP", "TRTPN")
    d["ANRIND"] = ordered(d["ANRIND"], ["N", "H"])
    parts = []
    for b in ("N", "H"):
        # rows outside the baseline stratum are missing: every arm x level gets a row (zero counts too)
        sub = d.assign(ANRIND=d["ANRIND"].where(d["BNRIND"] == b))
        if len(sub):
            parts.append(tag(ard_tabulate(sub, "ANRIND", by="TRTP"), group2="BNRIND", group2_level=b))
    if (d["ANRIND"] == "H").any():
        t = cmh_test(d, "TRTP", "ANRIND", strata="BNRIND")
        parts.append(t[t["variable_level"] == "row mean scores differ"])
    return bind_ard(*parts)


def t14_6_06(adlbhy: pd.DataFrame) -> pd.DataFrame:
    """Hy's law shifts (TRANSHY, HYLAW): baseline x post-baseline maximum per arm; CMH P (TRANSHY)."""
    d = adlbhy[(adlbhy["SAFFL"] == "Y") & adlbhy["PARAMCD"].isin(["TRANSHY", "HYLAW"])
               & adlbhy["BASE"].notna() & (adlbhy["AVISITN"] > 0)]
    d = d[d["AVAL"] == d.groupby(["USUBJID", "PARAMCD"])["AVAL"].transform("max")]
    d = d[d["AVISITN"] == d.groupby(["USUBJID", "PARAMCD"])["AVISITN"].transform("max")]
    d = arm_categorical(d, "TRTP", "TRTPN")
    d["SHIFTTO"] = ordered(d["AVAL"].map({0.0: "Normal", 1.0: "High"}), ["Normal", "High"])
    parts = []
    for pc in ("TRANSHY", "HYLAW"):
        p = d[d["PARAMCD"] == pc]
        for b, lab in ((0.0, "Normal"), (1.0, "High")):
            # rows outside the baseline stratum are missing: zero-count cells get ARD rows too
            sub = p.assign(SHIFTTO=p["SHIFTTO"].where(p["BASE"] == b))
            if len(sub):
                parts.append(tag(ard_tabulate(sub, "SHIFTTO", by="TRTP", fmt={"p": "pct0"}),
                                 variable=pc, group2="BASELINE", group2_level=lab))
    p = d[d["PARAMCD"] == "TRANSHY"].assign(BASEC=lambda x: x["BASE"].map({0.0: "Normal", 1.0: "High"}))
    t = cmh_test(p, "TRTP", "SHIFTTO", strata="BASEC")
    parts.append(t[t["variable_level"] == "general association"])
    return bind_ard(*parts)
