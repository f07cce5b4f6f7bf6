"""CDISCPILOT01 Tables 14-1.01 (populations), 14-1.02 (end of study), 14-1.03 (subjects by site)."""
from __future__ import annotations

import pandas as pd

from trialsupp.ard.schema import bind_ard
from trialsupp.stats.descriptive import ard_tabulate
from trialsupp.stats.tests import fisher_test

from ._util import tag
from .common import arm_categorical, flag_yn, ordered, with_total

__all__ = ["t14_1_01", "t14_1_02", "t14_1_03", "POP_ROWS", "TERM_REASONS"]

# 14-1.01 rows: (display label, derived flag variable)
POP_ROWS = [("Intent-To-Treat (ITT)", "ITTFL"), ("Safety", "SAFFL"), ("Efficacy", "EFFFL"),
            ("Complete Week 24", "COMP24FL"), ("Complete Study", "COMPLFL")]

# 14-1.02 reasons (ADSL DCSREAS) in CSR order, with the CSR row labels
TERM_REASONS = {
    "Adverse Event": "Adverse Event",
    "Death": "Death",
    "Lack of Efficacy": "Lack of Efficacy",
    "Lost to Follow-up": "Lost to Follow-up",
    "Withdrew Consent": "Subject decided to withdraw",
    "Physician Decision": "Physician decided to withdraw subject",
    "I/E Not Met": "Protocol criteria not met",
    "Protocol Violation": "Protocol violation",
    "Sponsor Decision": "Sponsor decision",
}


def t14_1_01(adsl: pd.DataFrame) -> pd.DataFrame:
    """Summary of populations: n (%) of randomized subjects in each population, by arm and total."""
    d = adsl.copy()
    for _, flag in POP_ROWS:
        src = (d["EOSSTT"] == "COMPLETED") if flag == "COMPLFL" else (d[flag] == "Y")
        d[flag] = flag_yn(src)
    d = with_total(d, "TRT01P")
    return ard_tabulate(d, [f for _, f in POP_ROWS], by="TRT01P", denominator=d, fmt={"p": "pct0"})


def t14_1_02(adsl: pd.DataFrame) -> pd.DataFrame:
    """End of study status (completed Week 24 / early termination) and reasons, Fisher exact tests.

    P values (Fisher-Freeman-Halton, 2 x 3, arms only): completion status; early
    termination due to adverse event (yes/no); due to lack of efficacy (yes/no).
    """
    d = arm_categorical(adsl, "TRT01P", "TRT01PN")
    # "Missing" rows as the shell: subjects without COMP24FL; early terminators without a reason
    d["COMPSTAT"] = ordered(d["COMP24FL"].map({"Y": "Completed Week 24",
                                               "N": "Early Termination (prior to Week 24)"}).fillna("Missing"),
                            ["Completed Week 24", "Early Termination (prior to Week 24)", "Missing"])
    early = d[d["COMP24FL"] == "N"].copy()
    reason = early["DCSREAS"].where(early["DCSREAS"].isin(list(TERM_REASONS)), "Missing")
    early["DCSREAS"] = ordered(reason, list(TERM_REASONS) + ["Missing"])
    dt = with_total(d, "TRT01P")
    et = with_total(early, "TRT01P")
    tests = d.copy()
    tests["AEFL"] = flag_yn(tests["DCSREAS"] == "Adverse Event")
    tests["LOEFL"] = flag_yn(tests["DCSREAS"] == "Lack of Efficacy")
    return bind_ard(
        ard_tabulate(dt, "COMPSTAT", by="TRT01P", denominator=dt, fmt={"p": "pct0"}),
        ard_tabulate(et, "DCSREAS", by="TRT01P", denominator=dt, fmt={"p": "pct0"}),
        fisher_test(tests[tests["COMPSTAT"] != "Missing"].assign(
            COMPSTAT=lambda x: x["COMPSTAT"].cat.remove_categories(["Missing"])), "COMPSTAT", "TRT01P"),
        fisher_test(tests, "AEFL", "TRT01P"),
        fisher_test(tests, "LOEFL", "TRT01P"),
    )


def t14_1_03(adsl: pd.DataFrame) -> pd.DataFrame:
    """Number of subjects by pooled site (SITEGR1) and site: ITT, Efficacy, Completers Week 24.

    Counts only (``n``); the population is in ``group2`` (ITT / Efficacy / Complete); the
    TOTAL row is variable ``ALLSITES`` (level "TOTAL"): all subjects of the population.
    """
    d = adsl.copy()
    d["SITE"] = d["SITEGR1"] + "/" + d["SITEID"]
    order = sorted(d["SITE"].unique(), key=lambda s: (s.split("/")[0], s.split("/")[1]))
    d["SITE"] = ordered(d["SITE"], order)
    d["SITEGR1"] = ordered(d["SITEGR1"], sorted(d["SITEGR1"].unique()))
    parts = []
    for pop, flag in (("ITT", "ITTFL"), ("Eff", "EFFFL"), ("Com", "COMP24FL")):
        sub = with_total(d[d[flag] == "Y"], "TRT01P").assign(ALLSITES="TOTAL")
        parts.append(tag(ard_tabulate(sub, ["SITEGR1", "SITE", "ALLSITES"], by="TRT01P", statistic=("n",)),
                         group2="POPULATION", group2_level=pop))
    return bind_ard(*parts)
