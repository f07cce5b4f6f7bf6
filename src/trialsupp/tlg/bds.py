"""BDS standard outputs (ADLB*, ADVS, ADQS*, ...): summary by visit with change from baseline
(NEST LBT01 / VST01) and baseline x post-baseline normal-range shift tables (LBT14 style).

Per parameter (``PARAMCD``, plus ``ATPT`` when the dataset has time points), visit
(``AVISIT``, ordered by ``AVISITN``) and arm: n, mean, SD, median, quartiles, min, max of
the value (``AVAL``) and of the change from baseline (``CHG``, post-baseline visits). The
displayed decimals follow the parameter's recorded precision (``measurement_decimals`` of
its AVAL; CHG and BASE use the same). Statistics: ``ard_summary`` / ``ard_tabulate``.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import pandas as pd

from trialsupp.ard.schema import bind_ard
from trialsupp.display import Table, cell as _cell
from trialsupp.stats.descriptive import ard_summary, ard_tabulate

from ._display import arm_table, continuous_rows, count_template, header_ard, is_csr
from ._spine import (TLG, TOTAL, InputError, arm_levels, need, pct_fmt, population, population_label,
                     stack_total, summary_fmt, with_arm)

__all__ = ["bds_by_visit", "shift_table", "parameters", "BASELINE_VISITS"]

BASELINE_VISITS = ("BASELINE",)
NRIND_ORDER = ["LOW", "L", "NORMAL", "N", "HIGH", "H", "ABNORMAL"]


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype(str).str.strip() == "")


def parameters(data: pd.DataFrame, param: str = "PARAMCD") -> dict[str, str]:
    """``{PARAMCD: PARAM label}`` in ``PARAMN`` order when present (else order of appearance)."""
    need(data, "BDS", [param])
    d = data.drop_duplicates(param)
    if "PARAMN" in d.columns:
        d = d.sort_values("PARAMN", kind="stable")
    label = "PARAM" if "PARAM" in d.columns else param
    return {str(k): str(v) for k, v in zip(d[param], d[label])}


def _records(data: pd.DataFrame, adsl: pd.DataFrame, dataset: str, paramcd: Optional[Sequence[str]],
             visit: str, arm: str, pop_flag, id: str, where, arms):
    pop = population(adsl, pop_flag, arm, id)
    if not len(pop):
        raise InputError(f"ADSL: no subjects with {pop_flag} = Y and a treatment arm in {arm}")
    levels = arm_levels(pop, arm, arms)
    need(data, dataset, ["PARAMCD", visit, id])
    d = data if where is None else data[where(data) if callable(where) else data.eval(where)]
    d = d[~_blank(d[visit])]
    if paramcd is not None:
        unknown = [p for p in paramcd if p not in set(data["PARAMCD"])]
        if unknown:
            raise InputError(f"{dataset}: PARAMCD {', '.join(unknown)} not found")
        d = d[d["PARAMCD"].isin(list(paramcd))]
    return pop, levels, with_arm(d, pop, arm, id, dataset)


def _visit_order(d: pd.DataFrame, visit: str) -> list:
    num = visit + "N" if visit + "N" in d.columns else None
    if num:
        first = d.groupby(visit)[num].min()
        return sorted(first.index, key=lambda v: (float(first[v]) if pd.notna(first[v]) else 1e18, str(v)))
    return sorted(d[visit].unique(), key=str)


def _param_keys(d: pd.DataFrame, timepoint: Optional[str]) -> list[tuple[str, Any]]:
    if timepoint and timepoint in d.columns and (~_blank(d[timepoint])).any():
        d = d[~_blank(d[timepoint])]
        order = (d.sort_values(timepoint + "N", kind="stable") if timepoint + "N" in d.columns else d)
        return list(dict.fromkeys(zip(order["PARAMCD"], order[timepoint])))
    return [(p, None) for p in dict.fromkeys(d["PARAMCD"])]


def _check_unique(d: pd.DataFrame, dataset: str, keys: list[str], id: str) -> None:
    dup = d.duplicated([id, *keys], keep=False)
    if dup.any():
        ex = d.loc[dup, [id, *keys]].head(3).to_dict("records")
        raise InputError(f"{dataset}: {int(dup.sum())} rows share {id}/{'/'.join(keys)} (e.g. {ex}); "
                         "select one record per subject and visit with where= (e.g. an analysis flag)")


def bds_by_visit(data: pd.DataFrame, adsl: pd.DataFrame, *, dataset: str = "BDS",
                 paramcd: Optional[Sequence[str]] = None, visit: str = "AVISIT", value: str = "AVAL",
                 change: Optional[str] = "CHG", timepoint: Optional[str] = "ATPT",
                 baseline_flag: str = "ABLFL", where: Optional[Callable | str] = None,
                 arm: str = "TRT01A", pop_flag: Optional[str] = "SAFFL", id: str = "USUBJID",
                 total: bool = False, arms: Optional[Sequence[Any]] = None, layout: str = "jama",
                 title: Optional[str] = None) -> TLG:
    """Summary of a BDS dataset by parameter, visit and arm, with change from baseline.

    Records: non-blank ``visit`` (and ``where``: a callable on the frame or a ``DataFrame.eval``
    string, e.g. ``"ANL01FL == 'Y'"``). One record per subject, parameter (and time point)
    and visit is required; otherwise an error names the rows. When the dataset has an
    analysis flag ``ANL01FL`` and the plain selection is not unique, records with
    ``ANL01FL == "Y"`` or the baseline flag are used (said in the TLG notes).
    Change rows are shown for visits after baseline (records without the baseline flag
    and with a non-missing ``change``).
    """
    pop, levels, d = _records(data, adsl, dataset, paramcd, visit, arm, pop_flag, id, where, arms)
    keys = [visit] + ([timepoint] if timepoint and timepoint in d.columns else [])
    d = d[(~_blank(d[keys[-1]])) | (len(keys) == 1)] if len(keys) > 1 else d
    notes = []
    if d.duplicated([id, "PARAMCD", *keys]).any() and "ANL01FL" in d.columns and where is None:
        flag = (d["ANL01FL"].astype(str).str.strip() == "Y")
        if baseline_flag in d.columns:
            flag |= d[baseline_flag].astype(str).str.strip() == "Y"
        d = d[flag]
        notes.append("Records with ANL01FL = Y (or the baseline record) were analysed.")
    need(d, dataset, [value])
    _check_unique(d, dataset, ["PARAMCD", *keys], id)
    labels = parameters(data)
    visits = _visit_order(d, visit)
    pkeys = _param_keys(d, timepoint)
    parts = [header_ard(stack_total(pop, arm, levels, total), arm)]
    shown: list[tuple[str, Any, str]] = []
    for pc, tp in pkeys:
        sub = d[d["PARAMCD"] == pc]
        if tp is not None:
            sub = sub[sub[timepoint] == tp]
        fmt = summary_fmt(sub[value], layout)
        s = stack_total(sub, arm, levels, total)
        s[visit] = pd.Categorical(s[visit], categories=[v for v in visits if v in set(sub[visit])])
        pid = pc if tp is None else f"{pc}/{tp}"
        val = ard_summary(s, value, by=arm, strata=visit, fmt=fmt)
        val["variable_level"] = [pid] * len(val)
        parts.append(val)
        if change and change in s.columns:
            post = s[s[change].notna()]
            if baseline_flag in post.columns:
                post = post[post[baseline_flag].astype(str).str.strip() != "Y"]
            if len(post):
                post = post.assign(**{visit: pd.Categorical(post[visit].astype(str),
                                                            categories=[v for v in visits if v in set(post[visit])])})
                chg = ard_summary(post, change, by=arm, strata=visit, fmt=fmt)
                chg["variable_level"] = [pid] * len(chg)
                parts.append(chg)
        name = labels.get(pc, pc) + (f" ({tp})" if tp is not None else "")
        shown.append((pid, name, pc))
    ard = bind_ard(*parts)
    cols = levels + ([TOTAL] if total else [])
    title = title or f"{dataset}: Summary by Visit with Change from Baseline"

    def build(placed, rules):
        t = arm_table(placed, title, arm, cols, rules, "Parameter\n  Visit")
        csr = is_csr(rules)
        tv = "{N}; {mean} ({sd})" if not csr else "{N}; {mean} ({sd})"
        for pid, name, _ in shown:
            t = t.add_group(name)
            for var, head in ((value, "Value, n; mean (SD)" if not csr else "Value: n; mean (SD)"),
                              (change, "Change from baseline, n; mean (SD)" if not csr
                               else "Change from baseline: n; mean (SD)")):
                rows = placed[(placed["variable"] == var) & (placed["variable_level"] == pid)]
                if not len(rows):
                    continue
                t = t.add_heading(head)
                for v in dict.fromkeys(rows["group2_level"]):
                    t = t.add_stat_row(str(v), rows, tv, indent=1, group2_level=v)
        for n in notes:
            t = t.footnote(n)
        return t

    return TLG("bds-by-visit", title, ard, population_label(pop_flag), (dataset.lower(), "adsl"), "table",
               build, tuple(notes))


def shift_table(data: pd.DataFrame, adsl: pd.DataFrame, *, dataset: str = "BDS", paramcd: Optional[Sequence[str]] = None,
                base: str = "BNRIND", post: str = "ANRIND", visit: str = "AVISIT",
                baseline_flag: str = "ABLFL", where: Optional[Callable | str] = None,
                arm: str = "TRT01A", pop_flag: Optional[str] = "SAFFL", id: str = "USUBJID",
                arms: Optional[Sequence[Any]] = None, layout: str = "jama",
                title: Optional[str] = None) -> TLG:
    """Baseline (``BNRIND``) x post-baseline (``ANRIND``) normal-range shifts per parameter and arm.

    ARD: ``group2 = "PARAMCD/<base>"``, ``group2_level = "<PARAMCD>/<baseline category>"``,
    ``variable = <post>``, ``variable_level`` = post-baseline category. Counts post-baseline records (baseline flag not Y, non-blank ranges) as CDISC pilot
    Table 14-6.05 does; % of the records of that baseline category in the arm. Select visits
    with ``where`` (e.g. ``"ANL01FL == 'Y'"``).
    """
    pop, levels, d = _records(data, adsl, dataset, paramcd, visit, arm, pop_flag, id, where, arms)
    need(d, dataset, [base, post])
    if baseline_flag in d.columns:
        d = d[d[baseline_flag].astype(str).str.strip() != "Y"]
    d = d[~_blank(d[base]) & ~_blank(d[post])]
    if not len(d):
        raise InputError(f"{dataset}: no post-baseline records with both {base} and {post}")
    cats = [c for c in NRIND_ORDER if c in set(d[base]) | set(d[post])]
    cats += sorted((set(d[base]) | set(d[post])) - set(cats), key=str)
    labels = parameters(data)
    parts = [header_ard(stack_total(pop, arm, levels, False), arm)]
    shown = []
    for pc in dict.fromkeys(d["PARAMCD"]):
        sub = stack_total(d[d["PARAMCD"] == pc], arm, levels, False)
        sub[post] = pd.Categorical(sub[post], categories=cats)
        for b in cats:
            cell = sub.assign(**{post: sub[post].where(sub[base] == b)})
            if not cell[post].notna().any():
                continue
            a = ard_tabulate(cell, post, by=arm, fmt=pct_fmt(layout, "pct1"))
            a["group2"], a["group2_level"] = f"PARAMCD/{base}", f"{pc}/{b}"
            parts.append(a)
            shown.append((pc, b))
    ard = bind_ard(*parts)
    title = title or f"{dataset}: Shifts from Baseline Normal Range ({base} x {post})"

    def build(placed, rules):
        t = _shift_columns(title, levels, cats, rules)
        for pc in dict.fromkeys(p for p, _ in shown):
            t = t.add_group(labels.get(pc, pc))
            for p2, b in shown:
                if p2 != pc:
                    continue
                rows = placed[placed["group2_level"] == f"{pc}/{b}"]
                cells = {}
                for a in levels:
                    for c in cats:
                        r = rows[(rows["group1_level"] == a) & (rows["variable_level"] == c)]
                        cells[f"{a}|{c}"] = _cell(r, count_template(rules), rules=rules)
                t = t.add_row(f"Baseline {b}", cells, indent=1, ard=rows)
        return t.footnote(f"Rows: baseline category ({base}); columns: post-baseline category ({post}) "
                          "per arm; post-baseline records are counted.")

    return TLG("shift", title, ard, population_label(pop_flag), (dataset.lower(), "adsl"), "table", build)


def _shift_columns(title, levels, cats, rules):
    """Columns arm x post-baseline category under one spanner per arm (header N from the ARD)."""
    t = Table(title, stub_header="Parameter\n  Baseline", landscape=True, rules=rules)
    for a in levels:
        keys = []
        for c in cats:
            t = t.add_column(f"{a}|{c}", str(c))
            keys.append(f"{a}|{c}")
        t = t.spanner(str(a), keys)
    return t
