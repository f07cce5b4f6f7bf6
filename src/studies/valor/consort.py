"""CONSORT flow counts of VALOR and its open-label extension, as ARD rows.

Conventions of ``trialsupp.display.figures.consort_diagram``: ``context == "consort"``,
``stat_name == "n"``; ``variable`` = the node; ``group1 = TRT01P`` and ``group1_level``
= the randomized arm for per-arm nodes (missing for ``randomized``);
``variable_level`` = a reason (missing for the node total). Counts are
``ard_tabulate`` counts of one-row-per-participant flags (ADSL, ADEX).

Nodes: randomized; per arm allocated, received (>= 1 dose in VALOR, ADEX APERIOD 1),
discontinued VALOR (VALCMPFL = N, with reasons), completed (VALCMPFL = Y),
not_entered (completed VALOR, OLEFL = N), entered_ole (OLEFL = Y), died (OLE entrants
who died before completing), withdrawn (other OLE discontinuations, with reasons),
ongoing (OLE entrants still in the study at a data cut), completed_ole (OLECMPFL = Y),
analysed (ITT).
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from trialsupp.ard.schema import bind_ard
from trialsupp.stats.descriptive import ard_tabulate

from ._common import flag_ard, itt, tag

__all__ = ["consort_ard", "REASON_LABELS", "ARMS", "NODE_LABELS", "EXITS", "STAGES"]

ARMS = ("Placebo", "Tofersen 100 mg")
REASON_LABELS = {"ADVERSE EVENT": "Adverse event", "DEATH": "Death",
                 "WITHDRAWAL BY SUBJECT": "Withdrawal by participant",
                 "DID NOT ENTER OLE": "Did not enter extension", "LOST TO FOLLOW-UP": "Lost to follow-up",
                 "OTHER": "Other"}
NODE_LABELS = {"allocated": "Randomized to {arm}",
               "received": "Received at least 1 dose",
               "completed": "Completed VALOR",
               "discontinued": "Discontinued VALOR",
               "not_entered": "Did not enter the extension",
               "entered_ole": "Entered open-label extension, all on tofersen",
               "died": "Died",
               "withdrawn": "Discontinued the extension",
               "ongoing": "Continuing at the data cut",
               "completed_ole": "Completed open-label extension",
               "analysed": "Included in the ITT analyses"}
STAGES = ("allocated", "received", "completed", "entered_ole", "completed_ole", "analysed")
EXITS = {"completed": ("discontinued",), "entered_ole": ("not_entered",),
         "completed_ole": ("died", "withdrawn", "ongoing")}


def _reasons(frame: pd.DataFrame, mask: pd.Series, node: str, arms: Sequence[str]) -> pd.DataFrame:
    """Reason counts (DCSREAS) among ``frame[mask]`` by arm; zero counts dropped."""
    sub = frame[mask].copy()
    sub = sub[sub["DCSREAS"].fillna("") != ""]
    if not len(sub):
        return bind_ard()
    sub["REASON"] = sub["DCSREAS"].map(lambda r: REASON_LABELS.get(r, str(r).capitalize()))
    sub["TRT01P"] = pd.Categorical(sub["TRT01P"], categories=list(arms))
    ard = ard_tabulate(sub, "REASON", by="TRT01P", statistic=("n",))
    ard = ard[[s is not None and s > 0 for s in ard["stat"]]]
    return tag(ard, variable=node, context="consort")


def consort_ard(adsl: pd.DataFrame, adex: pd.DataFrame | None = None,
                arms: Sequence[str] = ARMS) -> pd.DataFrame:
    """CONSORT node counts (context "consort") of the ITT population."""
    d = itt(adsl)
    arms = list(arms)
    yes = lambda col: d[col].fillna("") == "Y"                      # noqa: E731
    if adex is not None and len(adex):
        dosed = set(adex.loc[(adex["APERIOD"] == 1), "USUBJID"])
        received = d["USUBJID"].isin(dosed)
    else:
        received = pd.Series(True, index=d.index)
    valor_done, ole_in, ole_done = yes("VALCMPFL"), yes("OLEFL"), yes("OLECMPFL")
    reason = d["DCSREAS"].fillna("")
    ole_out = ole_in & ~ole_done
    died = ole_out & (reason == "DEATH")
    withdrawn = ole_out & (reason != "DEATH") & (reason != "")
    ongoing = ole_out & (reason == "")
    common = dict(by="TRT01P", levels=arms, statistic=("n",), context="consort")
    parts = [flag_ard(d, pd.Series(True, index=d.index), by=None, variable="randomized",
                      statistic=("n",), context="consort"),
             flag_ard(d, pd.Series(True, index=d.index), variable="allocated", **common),
             flag_ard(d, received, variable="received", **common),
             flag_ard(d, ~valor_done, variable="discontinued", **common),
             _reasons(d, ~valor_done, "discontinued", arms),
             flag_ard(d, valor_done, variable="completed", **common),
             flag_ard(d, valor_done & ~ole_in, variable="not_entered", **common),
             flag_ard(d, ole_in, variable="entered_ole", **common),
             flag_ard(d, died, variable="died", **common),
             flag_ard(d, withdrawn, variable="withdrawn", **common),
             _reasons(d, withdrawn, "withdrawn", arms),
             flag_ard(d, ole_done, variable="completed_ole", **common),
             flag_ard(d, pd.Series(True, index=d.index), variable="analysed", **common)]
    if ongoing.any():
        parts.append(flag_ard(d, ongoing, variable="ongoing", **common))
    return bind_ard(*parts)
