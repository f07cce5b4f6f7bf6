"""CDISCPILOT01 Table 14-7.04: concomitant medications (number of subjects), from SDTM CM.

As Atorus ``programs/t-14-7.04.R``: denominators are the ADSL subjects of each arm (ARM);
a subject counts once per therapeutic class (CMCLAS) and once per medication (CMDECOD) within
it; every CM record counts (prior and concomitant, as the published table). Counting of a
medication is within its class (Atorus counts CMDECOD across classes; the same here as no
CMDECOD appears in two classes, checked in ``t14_7_04``).
"""
from __future__ import annotations

import pandas as pd

from trialsupp.ard.schema import bind_ard
from trialsupp.stats.descriptive import ard_tabulate

from ._util import tag
from .common import arm_categorical

__all__ = ["t14_7_04", "ANY_CM"]

ANY_CM = "Patients receiving at least one concomitant medication"


def t14_7_04(cm: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """Subjects with any medication, per CMCLAS and per CMDECOD within CMCLAS, by ARM.

    ARD: variable ANYCM / CMCLAS / CMDECOD (group2 = CMCLAS for CMDECOD); n, N, p (pct0).
    """
    denom = arm_categorical(adsl.assign(ARM=adsl["ARM"]), "ARM")
    classes = cm.groupby("CMDECOD")["CMCLAS"].nunique()
    if (classes > 1).any():
        raise ValueError(f"CM: CMDECOD in more than one CMCLAS: {list(classes[classes > 1].index)[:3]}")
    d = cm.merge(denom[["USUBJID", "ARM"]], on="USUBJID", how="inner")
    d = arm_categorical(d, "ARM")
    fmt = {"p": "pct0"}
    parts = [ard_tabulate(d.assign(ANYCM=ANY_CM), "ANYCM", by="ARM", denominator=denom, id="USUBJID", fmt=fmt)]
    parts.append(ard_tabulate(d, "CMCLAS", by="ARM", denominator=denom, id="USUBJID", fmt=fmt))
    for cls, sub in d.groupby("CMCLAS", sort=True):
        parts.append(tag(ard_tabulate(sub, "CMDECOD", by="ARM", denominator=denom, id="USUBJID", fmt=fmt),
                         group2="CMCLAS", group2_level=cls))
    return bind_ard(*parts)
