"""CDISCPILOT01 laboratory tables: 14-6.01 (by visit), 14-6.02 (beyond normal range), 14-6.03
(clinically significant change from previous visit, ADLBCPV/ADLBHPV), 14-6.04 (shifts by visit),
14-6.05 (shifts), chemistry (ADLBC) and hematology (ADLBH); 14-6.06 (Hy's law shifts).

Counting rule (every lab table): records with a value, not records. A record whose category
(LBNRIND, ANRIND, BNRIND) is missing is not counted, in the n or anywhere else.
14-6.02 / 14-6.03 follow Atorus ``programs/t-14-6.02.R`` / ``t-14-6.03.R``: safety, ANL01FL = Y,
AVISITN != 99; records per range category (L, N, H) and arm, percentages of the arm's records
with a category; Fisher-Freeman-Halton exact test of arm x category (3 x k).
14-6.04 follows ``t-14-6.04.R``: safety, scheduled visits Week 2-26 (no ANL01FL filter),
BNRIND and ANRIND N or H; per visit, baseline category and arm: n and shift-to counts.

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

import numpy as np
import pandas as pd

from trialsupp.ard.schema import bind_ard
from trialsupp.stats.cmh import cmh_test
from trialsupp.stats.descriptive import ard_summary, ard_tabulate
from trialsupp.stats.tests import fisher_test

from ._util import tag
from .common import arm_categorical, ordered

__all__ = ["by_test", "lab_visits", "t14_6_01", "t14_6_02", "t14_6_04", "shifts_by_visit", "t14_6_05", "t14_6_06", "LAB_FMT",
           "VISIT_LABELS", "LAB_NAMES", "CHEM_ORDER", "HEME_ORDER", "SHIFT_VISITS"]

# CSR test names (upper case, as the shells print them) and the shells' orders
LAB_NAMES = {
    "ALB": "ALBUMIN", "ALP": "ALKALINE PHOSPHATASE", "ALT": "ALANINE AMINOTRANSFERASE",
    "AST": "ASPARTATE AMINOTRANSFERASE", "BILI": "BILIRUBIN", "BUN": "UREA NITROGEN", "CA": "CALCIUM",
    "CHOL": "CHOLESTEROL", "CK": "CREATINE KINASE", "CL": "CHLORIDE", "CREAT": "CREATININE",
    "GGT": "GAMMA GLUTAMYL TRANSFERASE", "GLUC": "GLUCOSE", "K": "POTASSIUM", "SODIUM": "SODIUM",
    "PHOS": "PHOSPHATE", "PROT": "PROTEIN", "URATE": "URATE",
    "BASO": "BASOPHILS", "EOS": "EOSINOPHILS", "HCT": "HEMATOCRIT", "HGB": "HEMOGLOBIN",
    "LYM": "LYMPHOCYTES", "MCH": "ERY. MEAN CORPUSCULAR HEMOGLOBIN",
    "MCHC": "ERY. MEAN CORPUSCULAR HB CONCENTRATION", "MCV": "ERY. MEAN CORPUSCULAR VOLUME",
    "MONO": "MONOCYTES", "PLAT": "PLATELET", "RBC": "ERYTHROCYTES", "WBC": "LEUKOCYTES",
}
CHEM_ORDER = ["ALB", "ALP", "ALT", "AST", "BILI", "BUN", "CA", "CHOL", "CK", "CL", "CREAT", "GGT", "GLUC",
              "K", "SODIUM", "PHOS", "PROT", "URATE"]
HEME_ORDER = ["BASO", "EOS", "HCT", "HGB", "LYM", "MCH", "MCHC", "MCV", "MONO", "PLAT", "RBC", "WBC"]
SHIFT_VISITS = ["WEEK 2", "WEEK 4", "WEEK 6", "WEEK 8", "WEEK 12", "WEEK 16", "WEEK 20", "WEEK 24", "WEEK 26"]
RANGE = {"LOW": "L", "NORMAL": "N", "HIGH": "H", "L": "L", "N": "N", "H": "H"}

LAB_FMT = {"N": "int", "mean": "d1", "sd": "d2"}
VISIT_LABELS = {0: "Bsln", 2: "Wk 2", 4: "Wk 4", 6: "Wk 6", 8: "Wk 8", 12: "Wk 12", 16: "Wk 16",
                20: "Wk 20", 24: "Wk 24", 26: "Wk 26", 99: "End[1]"}


class by_test(dict):
    """A lab dataset split by test: PARAMCD -> its records, in the data's order (a test absent
    from the data: no records). Each table function below selects one test first, so it gives
    the same rows from these as from the whole dataset, without filtering all 37,000 records
    again for each of the 30 tests (x 9 visits in 14-6.04)."""

    def __init__(self, adlb: pd.DataFrame):
        super().__init__((str(pc), rows) for pc, rows in adlb.groupby("PARAMCD", sort=False))
        self.none = adlb.iloc[0:0]

    def __missing__(self, paramcd: str) -> pd.DataFrame:
        return self.none


def _narrow(adlb: pd.DataFrame, *cols: str) -> pd.DataFrame:
    """The columns a table reads (those present): its row selections then copy 8 columns, not
    the ~50 of ADLB (hand-optimised: 14-6.04 selects 270 times)."""
    return adlb[[c for c in dict.fromkeys(cols) if c in adlb.columns]]


def lab_visits(adlbc: pd.DataFrame) -> pd.DataFrame:
    """Safety records at scheduled visits plus the flagged End of Treatment record."""
    d = _narrow(adlbc, "SAFFL", "AVISITN", "AENTMTFL", "TRTP", "TRTPN", "PARAMCD", "AVAL", "CHG")
    d = d[(d["SAFFL"] == "Y") & d["AVISITN"].notna()]
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


def t14_6_02(adlb: pd.DataFrame, paramcd: str, indicator: str = "LBNRIND") -> pd.DataFrame:
    """Records low / normal / high during treatment per arm (14-6.02; 14-6.03 with the ``pv``
    datasets and ``indicator="ANRIND"``), and the exact test of arm x category.

    ARD: variable = RANGE (L, N, H), group1 = TRTP; n, N (records with a category), p.
    """
    adlb = _narrow(adlb, "SAFFL", "ANL01FL", "AVISITN", "PARAMCD", "TRTP", "TRTPN", indicator)
    d = adlb[(adlb["SAFFL"] == "Y") & (adlb["ANL01FL"] == "Y") & (adlb["AVISITN"] != 99)
             & (adlb["PARAMCD"] == paramcd)]
    d = arm_categorical(d, "TRTP", "TRTPN")
    d = d.assign(RANGE=ordered(d[indicator].map(RANGE), ["L", "N", "H"]))
    d = d[d["RANGE"].notna()]
    parts = [ard_tabulate(d, "RANGE", by="TRTP", fmt={"p": "pct0"})]
    if d["RANGE"].nunique() > 1:   # one category only: no association to test (CSR: blank)
        parts.append(fisher_test(d, "RANGE", "TRTP"))
    return bind_ard(*parts)


def _shift_records(adlb: pd.DataFrame) -> pd.DataFrame:
    """14-6.04's records of any test and visit: safety, scheduled visits, BNRIND and ANRIND N/H."""
    adlb = _narrow(adlb, "SAFFL", "AVISITN", "PARAMCD", "VISIT", "BNRIND", "ANRIND", "TRTP", "TRTPN")
    d = adlb[(adlb["SAFFL"] == "Y") & (adlb["AVISITN"] != 99) & adlb["BNRIND"].isin(["N", "H"])
             & adlb["ANRIND"].isin(["N", "H"])]
    d = arm_categorical(d, "TRTP", "TRTPN")
    d["ANRIND"] = ordered(d["ANRIND"], ["N", "H"])
    return d


def _shift_ard(d: pd.DataFrame) -> pd.DataFrame:
    """Shift-to counts per arm of each baseline category (records of one test and visit)."""
    parts = []
    for b in ("N", "H"):
        sub = d.assign(ANRIND=d["ANRIND"].where(d["BNRIND"] == b))
        parts.append(tag(ard_tabulate(sub, "ANRIND", by="TRTP", fmt={"p": "pct0"}),
                         group2="BNRIND", group2_level=b))
    return bind_ard(*parts)


def t14_6_04(adlb: pd.DataFrame, paramcd: str, visit: str) -> pd.DataFrame:
    """Shift from baseline range (BNRIND N/H) to the visit's range (ANRIND N/H) per arm at one
    scheduled visit (14-6.04). ARD: variable = ANRIND, group1 = TRTP, group2 = BNRIND;
    N = records of the arm with that baseline category, n/p per shift-to category.
    (Every test and visit at once: :class:`shifts_by_visit`.)"""
    return _shift_ard(_shift_records(adlb[(adlb["PARAMCD"] == paramcd) & (adlb["VISIT"] == visit)]))


class shifts_by_visit(dict):
    """``t14_6_04(adlb, paramcd, visit)`` for every test and visit (``shifts[paramcd, visit]``).

    The records are selected and labelled once and split by test; a test's ARDs for all
    ``visits`` come from one tabulation whose variables are ANRIND of each visit and baseline
    category (records of other visits and categories missing, so each variable's N and n are
    those of ``t14_6_04``), relabelled ANRIND with group2 BNRIND as ``t14_6_04`` gives them
    (same rows, same order). The lab notebook asks for 270 ARDs: a selection of the 37,000
    records and two tabulations for each was most of its time.
    """

    def __init__(self, adlb: pd.DataFrame, visits=SHIFT_VISITS):
        super().__init__()
        d = _shift_records(adlb)
        self.visits = list(visits)
        self.tests = {str(pc): rows for pc, rows in d.groupby("PARAMCD", sort=False)}
        self.none = d.iloc[0:0]

    def __missing__(self, key: tuple[str, str]) -> pd.DataFrame:
        paramcd, visit = key
        rows = self.tests.get(paramcd, self.none)
        if visit not in self.visits:
            return _shift_ard(rows[rows["VISIT"] == visit])
        strata = {f"{vis}|{b}": (vis, b) for vis in self.visits for b in ("N", "H")}
        anrind = rows["ANRIND"].array
        visits, baseline = rows["VISIT"].to_numpy(dtype=object), rows["BNRIND"].to_numpy(dtype=object)
        wide = pd.DataFrame({"TRTP": rows["TRTP"], **{      # ANRIND where VISIT and BNRIND are the stratum's
            name: pd.Categorical.from_codes(np.where((visits == vis) & (baseline == b), anrind.codes, -1),
                                            dtype=anrind.dtype)
            for name, (vis, b) in strata.items()}}, index=rows.index)
        ard = ard_tabulate(wide, list(strata), by="TRTP", fmt={"p": "pct0"})
        name = ard["variable"].to_numpy(dtype=object)
        ard = tag(ard, variable="ANRIND", group2="BNRIND")
        ard["group2_level"] = [strata[v][1] for v in name]
        for vis in self.visits:   # a visit's rows: its N then its H stratum, adjacent
            at = np.flatnonzero((name == f"{vis}|N") | (name == f"{vis}|H"))
            self[paramcd, vis] = bind_ard(ard.iloc[at])
        return self[key]


def t14_6_05(adlbc: pd.DataFrame, paramcd: str) -> pd.DataFrame:
    """Shift of one lab test (ADLBC or ADLBH): baseline N/H x on-treatment N/H per arm, CMH P value."""
    adlbc = _narrow(adlbc, "SAFFL", "ANL01FL", "PARAMCD", "AVISITN", "BNRIND", "ANRIND", "TRTP", "TRTPN")
    d = adlbc[(adlbc["SAFFL"] == "Y") & (adlbc["ANL01FL"] == "Y") & (adlbc["PARAMCD"] == paramcd)]
    d = d[(d["AVISITN"] != 99) & d["BNRIND"].isin(["N", "H"]) & d["ANRIND"].isin(["N", "H"])]
    d = arm_categorical(d, "TRTP", "TRTPN")
    d["ANRIND"] = ordered(d["ANRIND"], ["N", "H"])
    parts = []
    for b in ("N", "H"):
        # rows outside the baseline stratum are missing: every arm x level gets a row (zero counts too)
        sub = d.assign(ANRIND=d["ANRIND"].where(d["BNRIND"] == b))
        if len(sub):
            parts.append(tag(ard_tabulate(sub, "ANRIND", by="TRTP", fmt={"p": "pct0"}),
                             group2="BNRIND", group2_level=b))
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


def header_n(adsl: pd.DataFrame, population: str = "SAFFL") -> pd.DataFrame:
    """Subjects of the population per planned arm (the (N=...) of the CSR column headers).
    ARD: variable = ``population`` flag, group1 = TRT01P, stat N."""
    d = arm_categorical(adsl[adsl[population] == "Y"], "TRT01P", "TRT01PN")
    return ard_tabulate(d, population, by="TRT01P", statistic=("N",))
