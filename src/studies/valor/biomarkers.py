"""Biomarker analyses of the simulated VALOR/OLE study (THE DATA ARE SIMULATED).

Plasma NfL and CSF total SOD1: log-scale ANCOVA of the ratio to baseline
(``log R2BASE = CHGL``) at one visit with the group as factor and the log
baseline value as covariate (plus the progression subgroup in a population that
contains both); ``ANCOVAFitter(log=True)`` back-transforms the LS means to
geometric mean ratios to baseline per group and the group difference to a
ratio of GMRs with its % difference.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.stats.ancova import ANCOVAFitter
from trialsupp.stats.exceptions import NotEstimableError

from .common import ARM, BIOMARKERS, DELAYED, EARLY, FASTER, GROUP, PBO, PROGGR, TOF, endpoint_records, population

__all__ = ["ard_gmr", "ard_gmr_week28", "ard_gmr_over_time", "biomarker_weeks"]


def ard_gmr(data: Mapping[str, pd.DataFrame], code: str, week: int, pop: pd.DataFrame, group: str,
            levels: Sequence[str]) -> pd.DataFrame:
    """Log-scale ANCOVA of the ratio to baseline of biomarker ``code`` at ``week``.

    Returns the ``ANCOVAFitter(log=True).to_ard()`` rows (variable = ``code``) or
    not-estimable geometric mean rows when the model cannot be fitted.
    """
    df = endpoint_records(data, code, pop, [week], extra=[])
    df = df[df["R2BASE"].notna()].copy()
    df[code] = df["R2BASE"]
    factors = [group] + ([PROGGR] if df[PROGGR].nunique() > 1 else [])
    try:
        fit = ANCOVAFitter(log=True).fit(df, outcome=code, factors=factors, covariates=["BASEL"],
                                         treatment=group, reference=levels[0], levels=list(levels))
        return ratio_format(fit.to_ard())
    except (NotEstimableError, ValueError) as exc:
        return bind_ard(*[ard_rows({"geomean": None, "conf.low": None, "conf.high": None}, variable=code,
                                   group1=group, group1_level=lv, context="ancova.geomean", error=str(exc))
                          for lv in levels])


def ratio_format(ard: pd.DataFrame) -> pd.DataFrame:
    """Geometric mean ratios and their ratio share one format (JAMA ratios: 2 decimals), so a
    column never mixes "0.692 (0.665-0.721)" with "1.14 (1.08-1.20)"."""
    out = ard.copy()
    ratio = out["context"].isin(["ancova.geomean", "ancova.ratio"]) & \
        out["stat_name"].isin(["geomean", "estimate", "conf.low", "conf.high"])
    out.loc[ratio, "fmt"] = "ratio"
    return out


def ard_gmr_week28(data: Mapping[str, pd.DataFrame], codes: Sequence[str] = ("SOD1", "NFL"),
                   pop_name: str = FASTER) -> pd.DataFrame:
    """Week-28 GMR to baseline per arm and ratio tofersen / placebo (faster progression)."""
    pop = population(data["adsl"], pop_name)
    ard = bind_ard(*[ard_gmr(data, c, 28, pop, ARM, [PBO, TOF]) for c in codes])
    return ard[ard["context"].isin(["ancova.geomean", "ancova.ratio"])].reset_index(drop=True)


def biomarker_weeks(data: Mapping[str, pd.DataFrame], code: str, max_week: int = 148) -> list[int]:
    """Post-baseline weeks at which biomarker ``code`` is scheduled (present in the data)."""
    ds, paramcd = BIOMARKERS[code][:2]
    df = data[ds]
    w = sorted(int(x) for x in df.loc[(df["PARAMCD"] == paramcd) & (df["AVISITN"] > 0), "AVISITN"].unique())
    return [x for x in w if x <= max_week]


def ard_gmr_over_time(data: Mapping[str, pd.DataFrame], code: str, weeks: Sequence[int],
                      pop_name: str = "ITT") -> pd.DataFrame:
    """GMR to baseline (95% CI) per start group at each week (early vs delayed start), with
    ``variable_level`` = the week, and the ratio early / delayed at each week."""
    pop = population(data["adsl"], pop_name)
    parts = []
    for w in weeks:
        ard = ard_gmr(data, code, w, pop, GROUP, [DELAYED, EARLY])
        ard = ard[ard["context"].isin(["ancova.geomean", "ancova.ratio"])
                  & ~((ard["context"] == "ancova.geomean") & (ard["stat_name"] == "n"))].copy()
        ard["variable_level"] = w
        ard["group2"] = ard["group2"].where(ard["context"] == "ancova.ratio", None)
        # participants with a ratio to baseline at the week: the numbers under the figure's time axis
        rec = endpoint_records(data, code, pop, [w], extra=[])
        rec = rec[rec["R2BASE"].notna()]
        n = [ard_rows({"n": int((rec[GROUP] == lv).sum())}, variable=code, variable_level=w, group1=GROUP,
                      group1_level=lv, context="ancova.geomean", method="Participants with a value at the visit",
                      fmt={"n": "int"}) for lv in (DELAYED, EARLY)]
        parts.append(bind_ard(ard, *n))
    return bind_ard(*parts)
