"""Synthetic placed ARD rows for display tests (ids and stat_fmt filled here, as the store would)."""
from __future__ import annotations

import re

import pandas as pd

from trialsupp.ard.fmt import JAMA, format_stat
from trialsupp.ard.schema import ARD_COLUMNS, ard_rows, bind_ard


def place(ard: pd.DataFrame, output: str = "tbl-test", rules=JAMA) -> pd.DataFrame:
    """Minimal stand-in for trialsupp.ard.store.place: id + stat_fmt (+ output_id)."""
    out = ard.reindex(columns=ARD_COLUMNS).copy()
    ids, fmts = [], []
    for _, r in out.iterrows():
        bits = [output]
        for c in ("group1_level", "group2_level", "variable", "variable_level", "stat_name"):
            v = r[c]
            if v is not None and not (isinstance(v, float) and pd.isna(v)):
                bits.append(re.sub(r"[^a-z0-9]+", "-", str(v).lower()).strip("-") or "x")
        ids.append(".".join(bits))
        fmts.append(format_stat(r["stat"], r["fmt"], rules))
    out["id"] = ids
    out["stat_fmt"] = fmts
    out["output_id"] = output
    # make ids unique (position suffix) if the synthetic keys collide
    dup = out["id"].duplicated(keep=False)
    out.loc[dup, "id"] = [f"{i}.{k}" for k, i in enumerate(out.loc[dup, "id"])]
    return out


ARMS = {"Placebo": 36, "Tofersen": 72}


def baseline_ard() -> pd.DataFrame:
    parts = []
    for arm, n in ARMS.items():
        g = dict(group1="TRT01P", group1_level=arm)
        parts.append(ard_rows({"n": n}, variable="TRT01P", variable_level=arm, context="tabulate"))
        parts.append(ard_rows({"N": n, "mean": 51.2 if arm == "Placebo" else 48.1,
                               "sd": 11.6 if arm == "Placebo" else 12.6, "median": 50.0,
                               "q1": 42.0, "q3": 59.5, "min": 23.0, "max": 78.0},
                              variable="AGE", context="summary", fmt={"mean": "d1", "sd": "d1",
                                                                      "median": "d1", "q1": "d1", "q3": "d1",
                                                                      "min": "d0", "max": "d0"}, **g))
        males = 19 if arm == "Placebo" else 43
        parts.append(ard_rows({"n": males, "N": n, "p": males / n}, variable="SEX", variable_level="M",
                              context="tabulate", **g))
        parts.append(ard_rows({"n": n - males, "N": n, "p": (n - males) / n}, variable="SEX",
                              variable_level="F", context="tabulate", **g))
        ne = arm == "Placebo"
        parts.append(ard_rows({"median": None if ne else 3.4}, variable="TTDEATH", context="km",
                              error="median not reached" if ne else None, **g))
    return place(bind_ard(*parts), "tbl-baseline")



# ---- figure ARDs -------------------------------------------------------------------
def km_ard() -> pd.DataFrame:
    """KM steps (context km_surv), at-risk rows (context km_at_risk) and a Cox HR, as a survival helper would give."""
    import numpy as np
    rng = np.random.default_rng(1)
    parts = []
    for arm, n, scale in (("Placebo / delayed start", 36, 110.0), ("Early start", 72, 260.0)):
        g = dict(group1="TRT01P", group1_level=arm)
        t = np.sort(np.round(rng.exponential(scale, n), 1))
        cens = rng.random(n) < 0.35
        t = np.minimum(t, 200.0)
        cens |= t >= 200.0
        at_risk, s, var = n, 1.0, 0.0
        for k, (ti, ci) in enumerate(zip(t, cens)):
            d = 0 if ci else 1
            if d:
                s *= 1 - d / at_risk
                var += d / (at_risk * (at_risk - d)) if at_risk > d else 0.0
            se = s * np.sqrt(var)
            parts.append(ard_rows({"time": float(ti), "estimate": s,
                                   "conf.low": max(s - 1.96 * se, 0.0), "conf.high": min(s + 1.96 * se, 1.0),
                                   "n_risk": at_risk, "n_event": d, "n_censor": 1 - d},
                                  variable="AVAL", variable_level=k, context="km_surv", **g))
            at_risk -= 1
        for tt in (0, 50, 100, 150, 200):
            parts.append(ard_rows({"n_risk": int((t >= tt).sum())}, variable="AVAL", variable_level=tt,
                                  context="km_at_risk", **g))
    parts.append(ard_rows({"estimate": 0.36, "conf.low": 0.14, "conf.high": 0.94, "p.value": 0.03},
                          variable="TRT01P", context="cox", fmt={"estimate": "ratio", "conf.low": "ratio",
                                                                 "conf.high": "ratio"}))
    return place(bind_ard(*parts), "fig-km")


def change_ard(stat="mean", values=None) -> pd.DataFrame:
    parts = []
    weeks = (0, 12, 28, 52, 104, 148)
    for j, arm in enumerate(("Placebo / delayed start", "Early start")):
        for wk in weeks:
            m = -(0.09 if j == 0 else 0.065) * wk if stat == "mean" else (1.15 if j == 0 else 0.75) ** (wk / 52)
            if stat == "mean":
                lo, hi = m - 1.5 - 0.02 * wk, m + 1.5 + 0.02 * wk
            else:
                lo, hi = m * 0.85, m / 0.85
            parts.append(ard_rows({stat: m, "conf.low": lo, "conf.high": hi}, variable="CHG",
                                  variable_level=wk, context="mmrm", group1="TRT01P", group1_level=arm))
    return place(bind_ard(*parts), "fig-change")


def forest_ard() -> pd.DataFrame:
    parts = [ard_rows({"estimate": 0.36, "conf.low": 0.14, "conf.high": 0.94, "p.value": 0.03},
                      variable="Overall", context="cox")]
    for var, lvl, e, lo, hi in (("Sex", "Male", 0.40, 0.13, 1.2), ("Sex", "Female", 0.31, 0.08, 1.25),
                                ("Progression", "Faster", 0.29, 0.10, 0.86),
                                ("Progression", "Slower", 0.55, 0.12, 2.5)):
        parts.append(ard_rows({"estimate": e, "conf.low": lo, "conf.high": hi, "p.value": 0.2},
                              variable=var, variable_level=lvl, context="cox"))
    a = bind_ard(*parts)
    a["fmt"] = a["stat_name"].map(lambda s: "ratio" if s in ("estimate", "conf.low", "conf.high") else "pvalue")
    return place(a, "fig-forest")


def consort_ard() -> pd.DataFrame:
    parts = [ard_rows({"n": 160}, variable="assessed", context="consort"),
             ard_rows({"n": 52}, variable="excluded", context="consort"),
             ard_rows({"n": 38}, variable="excluded", variable_level="Did not meet eligibility criteria", context="consort"),
             ard_rows({"n": 14}, variable="excluded", variable_level="Declined to participate", context="consort"),
             ard_rows({"n": 108}, variable="randomized", context="consort")]
    for arm, n, comp, ole, cole in (("Placebo", 36, 35, 32, 12), ("Tofersen 100 mg", 72, 69, 63, 34)):
        g = dict(group1="TRT01P", group1_level=arm, context="consort")
        parts += [ard_rows({"n": n}, variable="allocated", **g),
                  ard_rows({"n": comp}, variable="completed", **g),
                  ard_rows({"n": n - comp}, variable="discontinued", **g),
                  ard_rows({"n": n - comp}, variable="discontinued", variable_level="Adverse event", **g),
                  ard_rows({"n": ole}, variable="entered_ole", **g),
                  ard_rows({"n": comp - ole}, variable="not_entered", **g),
                  ard_rows({"n": cole}, variable="completed_ole", **g),
                  ard_rows({"n": 7}, variable="died", **g),
                  ard_rows({"n": ole - cole - 7}, variable="withdrawn", **g),
                  ard_rows({"n": ole - cole - 9}, variable="withdrawn", variable_level="Withdrawal by participant", **g),
                  ard_rows({"n": 2}, variable="withdrawn", variable_level="Physician decision", **g)]
    return place(bind_ard(*parts), "fig-consort")
