"""CDISCPILOT01 Tables 14-4.01 (exposure), 14-5.01 (TEAEs) and 14-5.02 (serious TEAEs).

14-5.0x follow the CSR / Atorus replication (``programs/t-14-5-01.R``): safety population,
treatment-emergent records (TRTEMFL = Y); per body system (AEBODSYS) and reported term
(AETERM, identical to AEDECOD in this ADAE): subjects n (% of the arm N, 1 decimal) and
events [AEs]; Fisher exact test (2 x 2: subjects with / without the event) of Xanomeline
Low Dose vs Placebo and Xanomeline High Dose vs Placebo, not computed when neither arm
has the event.
"""
from __future__ import annotations

import pandas as pd

from trialsupp.ard.schema import bind_ard
from trialsupp.stats.descriptive import ard_summary, ard_tabulate
from trialsupp.stats.tests import fisher_test

from ._util import rename_stat, tag
from .common import ARMS, arm_categorical, flag_yn, ordered

__all__ = ["t14_4_01", "t14_5_01", "t14_5_02", "EXPOSURE_FMT", "ANY"]

EXPOSURE_FMT = {"N": "int", "mean": "d1", "sd": "d2", "median": "d1", "min": "d1", "max": "d1"}
ANY = "ANY BODY SYSTEM"


def t14_4_01(adsl: pd.DataFrame) -> pd.DataFrame:
    """Planned exposure: average daily dose and cumulative dose; completers at Week 24 and safety.

    ``group2`` (POPULATION) is "Completers at Week 24" or "Safety Population".
    """
    d = arm_categorical(adsl, "TRT01P", "TRT01PN")
    comp = d[d["COMP24FL"] == "Y"].assign(POPULATION="Completers at Week 24")
    saf = d[d["SAFFL"] == "Y"].assign(POPULATION="Safety Population")
    both = pd.concat([comp, saf], ignore_index=True)
    both["POPULATION"] = ordered(both["POPULATION"], ["Completers at Week 24", "Safety Population"])
    both["TRT01P"] = pd.Categorical(both["TRT01P"], categories=ARMS, ordered=True)
    return ard_summary(both, ["AVGDD", "CUMDOSE"], by="TRT01P", strata="POPULATION",
                       statistic=("N", "mean", "sd", "median", "min", "max"), fmt=EXPOSURE_FMT)


def _counts(ae: pd.DataFrame, var: str, denom: pd.DataFrame) -> pd.DataFrame:
    subj = ard_tabulate(ae, var, by="TRTA", denominator=denom, id="USUBJID", fmt={"p": "pct1"})
    events = rename_stat(ard_tabulate(ae, var, by="TRTA", statistic=("n",)), "n", "n_event", "Events")
    return bind_ard(subj, events)


def _fisher(denom: pd.DataFrame, subjects: set, **labels) -> pd.DataFrame:
    """Low vs placebo and high vs placebo, subjects with / without the event (2 x 2)."""
    parts = []
    for arm in ARMS[1:]:
        pair = denom[denom["TRTA"].isin([ARMS[0], arm])].copy()
        pair["TRTA"] = pd.Categorical(pair["TRTA"], categories=[ARMS[0], arm])
        pair["EVENT"] = flag_yn(pair["USUBJID"].isin(subjects))
        if not (pair["EVENT"] == "Y").any():
            continue  # CSR: no P value when neither arm has the event
        parts.append(tag(fisher_test(pair, "EVENT", "TRTA"), group1_level=arm, **labels))
    return bind_ard(*parts)


def _ae_table(adae: pd.DataFrame, adsl: pd.DataFrame, serious: bool) -> pd.DataFrame:
    denom = adsl[adsl["SAFFL"] == "Y"].assign(TRTA=lambda x: x["TRT01A"])
    denom = arm_categorical(denom, "TRTA", "TRT01AN")
    ae = adae[(adae["SAFFL"] == "Y") & (adae["TRTEMFL"] == "Y")]
    if serious:
        ae = ae[ae["AESER"] == "Y"]
    ae = arm_categorical(ae, "TRTA", "TRTAN").assign(ANYAE=ANY)
    parts = [_counts(ae, "ANYAE", denom),
             _fisher(denom, set(ae["USUBJID"]), variable="ANYAE", variable_level=ANY)]
    parts.append(_counts(ae, "AEBODSYS", denom))
    for soc, sub in ae.groupby("AEBODSYS", sort=True):
        parts.append(_fisher(denom, set(sub["USUBJID"]), variable="AEBODSYS", variable_level=soc))
        parts.append(tag(_counts(sub, "AETERM", denom), group2="AEBODSYS", group2_level=soc))
        for term, tsub in sub.groupby("AETERM", sort=True):
            parts.append(_fisher(denom, set(tsub["USUBJID"]), variable="AETERM", variable_level=term,
                                 group2="AEBODSYS", group2_level=soc))
    return bind_ard(*parts)


def t14_5_01(adae: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """Incidence of treatment-emergent adverse events by body system and term."""
    return _ae_table(adae, adsl, serious=False)


def t14_5_02(adae: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """Incidence of treatment-emergent serious adverse events (AESER = Y)."""
    return _ae_table(adae, adsl, serious=True)
