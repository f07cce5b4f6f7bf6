"""CDISCPILOT01 Table 14-2.01 (demographic and baseline characteristics) and the R Submission
Pilot 1 ``tlf-demographic`` display.

14-2.01 (CSR / Atorus replication ``programs/t-14-2-01.R``): ITT population; continuous
variables n, mean (1 decimal), SD (2), median (1), min and max (1 decimal) and a one-way
ANOVA P value across the three arms; categorical variables n (%) of the arm N and a
Pearson chi-square P value (no continuity correction: all tables are 2 x 3 or larger).
Race is shown as the CSR shows it, "Race (Origin)": Hispanic (ETHNIC = HISPANIC OR LATINO)
first overrides RACE; otherwise Caucasian (WHITE), African Descent (BLACK OR AFRICAN
AMERICAN), Other (AMERICAN INDIAN OR ALASKA NATIVE). There is no separate ethnicity row in
the CSR; ethnicity enters through "Hispanic".
"""
from __future__ import annotations

import pandas as pd

from trialsupp import tlg
from trialsupp.ard.schema import bind_ard
from trialsupp.stats.tests import anova_oneway, chisq_test

from .common import ARMS, arm_categorical, ordered

__all__ = ["prepare_adsl", "t14_2_01", "pilot1_demographic", "CONTINUOUS", "CATEGORICAL",
           "RACE_LEVELS", "CSR_FMT", "LEVEL_LABELS"]

# (variable, CSR label) in CSR row order; categorical groups follow their continuous variable
CONTINUOUS = [("AGE", "Age (y)"), ("MMSETOT", "MMSE"), ("DURDIS", "Duration of disease (months)"),
              ("EDUCLVL", "Years of education"), ("WEIGHTBL", "Baseline weight (kg)"),
              ("HEIGHTBL", "Baseline height (cm)"), ("BMIBL", "Baseline BMI (kg/m2)")]
RACE_LEVELS = ["Caucasian", "African Descent", "Hispanic", "Other"]
CATEGORICAL = {
    "AGEGR1": ["<65 yrs", "65-80 yrs", ">80 yrs"],
    "SEX": ["Male", "Female"],
    "RACEORIG": RACE_LEVELS,
    "DURDSGR1": ["less than 12 months", "12 months or more"],
    "BMIBLGR1": ["<25", "25-<30", ">=30"],
}
# CSR row labels where the ARD level differs (ARD ids are slugs: "<12" and ">=12" would collide)
LEVEL_LABELS = {"less than 12 months": "<12 months", "12 months or more": ">=12 months"}
# CSR display precision of every continuous summary (Atorus num_fmt digits)
CSR_FMT = {"N": "int", "mean": "d1", "sd": "d2", "median": "d1", "min": "d1", "max": "d1"}
STATS = ("N", "mean", "sd", "median", "min", "max")


def prepare_adsl(adsl: pd.DataFrame) -> pd.DataFrame:
    """ITT subjects with the CSR display categories (data selection and relabelling only)."""
    d = arm_categorical(adsl[adsl["ITTFL"] == "Y"], "TRT01P", "TRT01PN")
    d["AGEGR1"] = ordered(d["AGEGR1"] + " yrs", CATEGORICAL["AGEGR1"])
    d["SEX"] = ordered(d["SEX"].map({"M": "Male", "F": "Female"}), CATEGORICAL["SEX"])
    race = d["RACE"].map({"WHITE": "Caucasian", "BLACK OR AFRICAN AMERICAN": "African Descent",
                          "AMERICAN INDIAN OR ALASKA NATIVE": "Other"})
    race = race.where(d["ETHNIC"] != "HISPANIC OR LATINO", "Hispanic")
    d["RACEORIG"] = ordered(race, RACE_LEVELS)
    d["DURDSGR1"] = ordered(d["DURDSGR1"].map({"<12": "less than 12 months", ">=12": "12 months or more"}),
                            CATEGORICAL["DURDSGR1"])
    d["BMIBLGR1"] = ordered(d["BMIBLGR1"], CATEGORICAL["BMIBLGR1"])
    return d


def _standard(tlg_out, stats: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The rows of a ``trialsupp.tlg`` output this display prints, with its formats:
    ``stats`` maps context -> {stat_name: fmt}."""
    ard = tlg_out.ard.copy()
    keep = pd.Series(False, index=ard.index)
    for context, fmts in stats.items():
        hit = (ard["context"] == context) & ard["stat_name"].isin(list(fmts))
        ard.loc[hit, "fmt"] = ard.loc[hit, "stat_name"].map(fmts)
        keep |= hit
    return ard[keep & (ard["variable"] != "TRT01P")].reset_index(drop=True)


def t14_2_01(adsl: pd.DataFrame) -> pd.DataFrame:
    """Demographic and baseline characteristics (ITT), with Total column and P values.

    The summaries and counts are the standard output ``trialsupp.tlg.demographics`` (on the
    CSR categories of :func:`prepare_adsl`); the P values are this CSR's own."""
    d = prepare_adsl(adsl)
    cont = [v for v, _ in CONTINUOUS]
    std = tlg.demographics(d, cont + list(CATEGORICAL), arm="TRT01P", pop_flag=None, total=True,
                           arms=ARMS, layout="csr")
    parts = [_standard(std, {"summary": CSR_FMT, "tabulate": {"n": "int", "N": "int", "p": "pct0"}})]
    parts += [anova_oneway(d, v, "TRT01P") for v in cont]
    parts += [chisq_test(d, v, "TRT01P") for v in CATEGORICAL]
    return bind_ard(*parts)


PILOT1_VARS = ["AGE", "AGEGR1", "RACE", "HEIGHTBL", "WEIGHTBL", "BMIBL", "MMSETOT"]
PILOT1_FMT = {"N": "int", "mean": "x2", "sd": "x2", "median": "x2", "min": "x2", "max": "x2"}   # rtables "xx.xx"


def pilot1_demographic(adsl: pd.DataFrame) -> pd.DataFrame:
    """R Submission Pilot 1 ``tlf-demographic``: ITT, mean (sd), median, min - max, counts.

    The standard output ``trialsupp.tlg.demographics`` (ITT, planned arm, no Total column).
    Pilot 1 prints with rtables format "xx.xx" (2 decimals, trailing zeros dropped);
    the ARD carries that format (``x2``), so the table prints "76", "77.5", "60.55" as published.
    """
    d = arm_categorical(adsl, "TRT01P", "TRT01PN")
    cont = ["AGE", "HEIGHTBL", "WEIGHTBL", "BMIBL", "MMSETOT"]
    std = tlg.demographics(d, cont + ["AGEGR1", "RACE"], arm="TRT01P", pop_flag="ITTFL", total=False,
                           arms=ARMS, layout="csr")
    return _standard(std, {"summary": PILOT1_FMT, "tabulate": {"n": "int", "N": "int"}})
