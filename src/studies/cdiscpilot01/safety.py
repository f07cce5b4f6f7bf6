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

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import (RESULT_COLUMNS, STAT_LABELS, _object_stat, ard_records, bind_ard,
                                  cells_frame)
from trialsupp.stats.descriptive import ard_summary, ard_tabulate, group_levels
from trialsupp.stats.tests import fisher_test

from ._util import rename_stat, tag
from .common import ARMS, arm_categorical, ordered

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


def _counts_slow(ae: pd.DataFrame, var: str, denom: pd.DataFrame) -> pd.DataFrame:
    """Reference path (``ard_tabulate``); the tests check that :func:`_counts` equals it."""
    subj = ard_tabulate(ae, var, by="TRTA", denominator=denom, id="USUBJID", fmt={"p": "pct1"})
    events = rename_stat(ard_tabulate(ae, var, by="TRTA", statistic=("n",)), "n", "n_event", "Events")
    return bind_ard(subj, events)


def _counts(ae: pd.DataFrame, var: str, denom: pd.DataFrame) -> pd.DataFrame:
    """Subjects n / N / p and events per arm and level of ``var``: the rows ``ard_tabulate``
    gives (same order, values, labels, formats, method and code reference), built from one
    vectorised count instead of one small DataFrame per cell (the AE tables have ~2,000 cells)."""
    if len(ae) == 0:
        return bind_ard()
    levels = group_levels(ae[var])
    arms = group_levels(ae["TRTA"])
    header = denom.groupby("TRTA", observed=False)["USUBJID"].nunique()
    arms += [a for a in header.index if a not in arms]
    key = [ae["TRTA"].astype(object), ae[var].astype(object)]
    subj = ae.groupby(key, observed=True)["USUBJID"].nunique().to_dict()
    events = ae.groupby(key, observed=True).size().to_dict()
    nonmiss = ae[ae[var].notna()].groupby(ae["TRTA"].astype(object), observed=True).size().to_dict()
    code = code_ref(ard_tabulate)
    m_subj = "Counts and percentages; denominator: population header N per group"
    m_event = "Counts and percentages; denominator: non-missing n per group"
    rows = []

    def add(arm, level, name, value, fmt, label, method, error=None):
        rows.append({"group1": "TRTA", "group1_level": arm, "group2": None, "group2_level": None,
                     "variable": var, "variable_level": level, "context": "tabulate",
                     "stat_name": name, "stat_label": label, "stat": value, "fmt": fmt,
                     "method": method, "code": code, "warning": None, "error": error})

    for arm in arms:
        big_n = int(header.get(arm, 0))
        for level in levels:
            n = int(subj.get((arm, level), 0))
            add(arm, level, "n", n, "int", STAT_LABELS.get("n", "n"), m_subj)
            add(arm, level, "N", big_n, "int", STAT_LABELS.get("N", "N"), m_subj)
            add(arm, level, "p", n / big_n if big_n else None, "pct1", STAT_LABELS.get("p", "p"), m_subj,
                None if big_n else "denominator is zero")
    ev = []
    for arm in group_levels(ae["TRTA"]):
        for level in levels:
            ev.append((arm, level, int(events.get((arm, level), 0))))
    for arm, level, n in ev:
        add(arm, level, "n_event", n, "int", "Events", m_event)
    del nonmiss
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    frame["stat"] = pd.Series([r["stat"] for r in rows], dtype=object)   # ints stay ints
    return _object_stat(frame)


def _fisher_2x2(a: int, b: int, c: int, d: int) -> tuple[float, float]:
    """Two-sided Fisher exact test of [[a, b], [c, d]]: (probability of the observed table, P).

    Closed form over the hypergeometric distribution (R ``fisher.test``: tables no more
    probable than the observed one, relative tolerance 1e-7), instead of the general r x c
    network algorithm."""
    from scipy.stats import hypergeom
    import numpy as np
    row1, col1, total = a + b, a + c, a + b + c + d
    lo, hi = max(0, row1 + col1 - total), min(row1, col1)
    support = np.arange(lo, hi + 1)
    probs = hypergeom.pmf(support, total, col1, row1)
    p_obs = float(hypergeom.pmf(a, total, col1, row1))
    p = float(probs[probs <= p_obs * (1 + 1e-7)].sum())
    return p_obs, min(1.0, p)


PAIRWISE = f"pairwise test vs {ARMS[0]}"   # context of the comparison rows: names the comparator


def _fisher(denom: pd.DataFrame, subjects: set, **labels) -> pd.DataFrame:
    """Low vs placebo and high vs placebo, subjects with / without the event (2 x 2).

    Each row names both groups: group1_level = the active arm, context = "pairwise test vs
    Placebo" (group2 stays free for the body system of a term row), method = "... <arm> vs Placebo".
    """
    cells = []
    event = denom["USUBJID"].isin(subjects).to_numpy()
    arm_of = denom["TRTA"].to_numpy(dtype=object)
    code = code_ref(fisher_test)
    for arm in ARMS[1:]:
        in_pbo, in_arm = arm_of == ARMS[0], arm_of == arm
        if not (event & (in_pbo | in_arm)).any():
            continue  # CSR: no P value when neither arm has the event
        a, c = int((event & in_pbo).sum()), int((event & in_arm).sum())
        b, d = int((~event & in_pbo).sum()), int((~event & in_arm).sum())
        p_obs, p = _fisher_2x2(a, c, b, d)   # rows EVENT (Y, N), columns TRTA (placebo, arm)
        method = f"Fisher exact test (two-sided), {arm} vs {ARMS[0]}"
        keys = {"variable": "EVENT", "group1": "TRTA", "context": PAIRWISE, "method": method, "code": code,
                "group1_level": arm, **labels}
        # records, one frame at the end (a frame per arm and term was most of this table's time)
        cells += [ard_records({"statistic": p_obs, "p.value": p}, **keys), ard_records({"method": method}, **keys)]
    return cells_frame(cells)


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
