"""Subject-level standard outputs from ADSL (and ADEX): demographics (DMT01), disposition
(DST01), exposure (EXT01). Statistics come from ``trialsupp.stats.descriptive``."""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import pandas as pd

from trialsupp.ard.fmt import FormatRules
from trialsupp.ard.schema import bind_ard
from trialsupp.stats.descriptive import ard_geomean, ard_summary, ard_tabulate

from ._display import arm_table, continuous_rows, count_template, header_ard, is_csr
from ._spine import (TLG, InputError, arm_levels, need, pct_fmt, population, population_label,
                     stack_total, summary_fmt, with_arm)

__all__ = ["demographics", "disposition", "exposure", "DEMOGRAPHIC_LABELS", "SUMMARY_STATS"]

SUMMARY_STATS = ("N", "mean", "sd", "median", "q1", "q3", "min", "max")
# ADaM ADSL variables shown by default (those present), with display labels and units
DEMOGRAPHIC_LABELS = {
    "AGE": ("Age", "y"), "AGEGR1": ("Age group", ""), "SEX": ("Sex", ""), "RACE": ("Race", ""),
    "ETHNIC": ("Ethnicity", ""), "COUNTRY": ("Country", ""), "HEIGHTBL": ("Height", "cm"),
    "WEIGHTBL": ("Weight", "kg"), "BMIBL": ("Body mass index", "kg/m2"),
}
SEX_LABELS = {"M": "Male", "F": "Female", "U": "Unknown"}


def _is_continuous(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _categorical(d: pd.DataFrame, var: str, order: Optional[Sequence[Any]] = None) -> pd.Categorical:
    """Levels in ``order`` (zero counts kept; values not listed follow, sorted); else ordered by
    the ADaM numeric code ``<var>N`` when present, else sorted. Blanks are missing."""
    s = d[var].where(d[var].astype(str).str.strip() != "", None)
    present = [v for v in s.dropna().unique().tolist()]
    if order is not None:
        extra = sorted((v for v in present if v not in set(order)), key=str)
        return pd.Categorical(s, categories=list(order) + extra)
    if var + "N" in d.columns:
        code = d.groupby(var, observed=True)[var + "N"].min()
        present.sort(key=lambda v: (float(code.get(v, float("inf"))), str(v)))
    else:
        present.sort(key=str)
    return pd.Categorical(s, categories=present)


def _spine(adsl, arm, pop_flag, id, arms, total):
    pop = population(adsl, pop_flag, arm, id)
    if not len(pop):
        raise InputError(f"ADSL: no subjects with {pop_flag} = Y and a treatment arm in {arm}")
    levels = arm_levels(pop, arm, arms)
    return pop, levels, stack_total(pop, arm, levels, total)


GEOMEAN = "geomean"


def _summaries(d: pd.DataFrame, variables: Sequence[str], arm: str, layout: str,
               stats: Sequence[str] | Mapping[str, Sequence[str]] = SUMMARY_STATS,
               fmt: Optional[Mapping[str, Mapping[str, str]]] = None) -> pd.DataFrame:
    """``ard_summary`` per variable with formats from that variable's recorded decimals
    (``fmt[variable]`` overrides some); ``stats`` one tuple, or one per variable, where
    ``"geomean"`` asks for the geometric mean and its 95% CI (``ard_geomean``)."""
    parts = []
    for v in variables:
        st = stats.get(v, SUMMARY_STATS) if isinstance(stats, Mapping) else stats
        own = dict((fmt or {}).get(v, {}))
        if st == GEOMEAN or (not isinstance(st, str) and GEOMEAN in st):
            k = summary_fmt(d[v], layout)["mean"]
            parts.append(ard_geomean(d, v, by=arm, fmt={"geomean": k, "conf.low": k, "conf.high": k, **own}))
        else:
            parts.append(ard_summary(d, v, by=arm, statistic=tuple(st), fmt={**summary_fmt(d[v], layout), **own}))
    return bind_ard(*parts)


def _tabulations(d: pd.DataFrame, variables: Sequence[str], arm: str, layout: str, n_pop: int,
                 csr_pct: str) -> pd.DataFrame:
    return bind_ard(*[ard_tabulate(d, v, by=arm, denominator=d, fmt=pct_fmt(layout, csr_pct))
                      for v in variables])


def demographics(adsl: pd.DataFrame, variables: Optional[Sequence[str]] = None, *,
                 labels: Optional[Mapping[str, tuple[str, str] | str]] = None,
                 arm: str = "TRT01A", pop_flag: Optional[str] = "SAFFL", id: str = "USUBJID",
                 total: bool = True, arms: Optional[Sequence[Any]] = None, layout: str = "jama",
                 statistics: Optional[Mapping[str, Sequence[str] | str]] = None,
                 fmt: Optional[Mapping[str, Mapping[str, str]]] = None,
                 levels: Optional[Mapping[str, Sequence[Any]]] = None,
                 title: str = "Demographic and Baseline Characteristics") -> TLG:
    """Demographic and baseline characteristics by arm with a Total column (NEST DMT01).

    Parameters
    ----------
    adsl : ADSL (one row per subject).
    variables : ADSL variables; default those of :data:`DEMOGRAPHIC_LABELS` present. Numeric
        variables are summarised (N, mean, SD, median, quartiles, min, max); others are counted
        (n and % of the arm's N; levels ordered by ``<var>N`` when present).
    labels : ``{variable: label}`` or ``{variable: (label, unit)}``.
    arm, pop_flag, id, total, arms, layout : the spine (see ``trialsupp.tlg``).
    statistics : ``{variable: statistics}`` for continuous variables, a subset of
        :data:`SUMMARY_STATS` (``("N", "mean", "sd")``), or ``"geomean"`` for the geometric mean
        with its 95% CI (log-normal measurements such as biomarker concentrations).
    fmt : ``{variable: {statistic: format}}`` replacing the formats chosen from the measurement's
        precision (``{"AGE": {"mean": "d1"}}``).
    levels : ``{variable: [levels]}`` order of a categorical variable's levels; listed levels
        absent from the population are shown with 0 (values not listed follow, sorted).
        SEX codes M/F/U are decoded to Male/Female/Unknown first: name the decoded levels.

    Returns
    -------
    TLG with ARD rows (header counts, summaries, tabulations) and a table builder.
    """
    pop, arm_order, d = _spine(adsl, arm, pop_flag, id, arms, total)
    if variables is None:
        variables = [v for v in DEMOGRAPHIC_LABELS if v in adsl.columns]
    need(adsl, "ADSL", variables)
    d = d.copy()
    cont = [v for v in variables if _is_continuous(d[v])]
    cat = [v for v in variables if v not in cont]
    for v in cat:
        if v == "SEX" and set(d[v].dropna().astype(str)) <= set(SEX_LABELS) | {""}:
            d[v] = d[v].map(SEX_LABELS)
        d[v] = _categorical(d, v, (levels or {}).get(v))
    stats = dict(statistics or {})
    ard = bind_ard(header_ard(d, arm), _summaries(d, cont, arm, layout, stats, fmt),
                   _tabulations(d, cat, arm, layout, len(pop), "pct1"))
    lab = {**{k: v for k, v in DEMOGRAPHIC_LABELS.items()}, **dict(labels or {})}
    lab = {k: (v, "") if isinstance(v, str) else tuple(v) for k, v in lab.items()}
    cols = arm_order + (["Total"] if total else [])

    def build(placed: pd.DataFrame, rules: FormatRules):
        t = arm_table(placed, title, arm, cols, rules, "Characteristic")
        for v in variables:
            name, unit = lab.get(v, (v, ""))
            if v in cont and stats.get(v) == GEOMEAN:
                t = t.add_stat_row(f"{name}, geometric mean (95% CI)" + (f", {unit}" if unit else ""),
                                   placed, "{geomean} ({ci})", variable=v, context="geomean")
            elif v in cont:
                t = continuous_rows(t, placed, v, name, rules, unit, context="summary",
                                    stats=stats.get(v, SUMMARY_STATS))
            else:
                t = t.add_categorical(placed, v, name if is_csr(rules) else f"{name}, No. (%)",
                                      template=count_template(rules), context="tabulate")
        if not is_csr(rules):
            t = t.abbreviations({"IQR": "interquartile range"})
        return t

    return TLG("demographics", title, ard, population_label(pop_flag), ("adsl",), "table", build)


def disposition(adsl: pd.DataFrame, *, status: str = "EOSSTT", reason: Optional[str] = "DCSREAS",
                arm: str = "TRT01A", pop_flag: Optional[str] = None, id: str = "USUBJID",
                total: bool = True, arms: Optional[Sequence[Any]] = None, layout: str = "jama",
                title: str = "Subject Disposition") -> TLG:
    """End-of-study status (``EOSSTT``) and the reasons for discontinuation (``DCSREAS``, or
    ``DCDECOD`` when DCSREAS is absent) among subjects who did not complete (NEST DST01).

    Default population: every randomised subject (no flag; screen failures excluded).
    Percentages are of the arm's N.
    """
    pop, levels, d = _spine(adsl, arm, pop_flag, id, arms, total)
    need(adsl, "ADSL", [status])
    if reason and reason not in adsl.columns:
        reason = "DCDECOD" if "DCDECOD" in adsl.columns else None
    d = d.copy()
    d[status] = _categorical(d, status)
    parts = [header_ard(d, arm), ard_tabulate(d, status, by=arm, denominator=d,
                                              fmt=pct_fmt(layout, "pct0"))]
    if reason:
        done = d[status].astype(str).str.upper().isin(["COMPLETED", "ONGOING"])
        d[reason] = _categorical(d.assign(**{reason: d[reason].where(~done)}), reason)
        if len(d[reason].cat.categories):
            parts.append(ard_tabulate(d, reason, by=arm, denominator=d,
                                      fmt=pct_fmt(layout, "pct0")))
    ard = bind_ard(*parts)
    cols = levels + (["Total"] if total else [])

    def build(placed, rules):
        t = arm_table(placed, title, arm, cols, rules)
        tpl = count_template(rules)
        t = t.add_categorical(placed, status, "End of study status" + ("" if is_csr(rules) else ", No. (%)"),
                              template=tpl, group1=arm)
        if reason and len(placed[placed["variable"] == reason]):
            t = t.add_categorical(placed, reason, "Reason for discontinuation" +
                                  ("" if is_csr(rules) else ", No. (%)"), template=tpl, group1=arm)
        return t

    return TLG("disposition", title, ard, population_label(pop_flag), ("adsl",), "table", build)


def exposure(adsl: pd.DataFrame, adex: Optional[pd.DataFrame] = None, *,
             duration: str = "TRTDURD", params: Optional[Sequence[str]] = None,
             arm: str = "TRT01A", pop_flag: Optional[str] = "SAFFL", id: str = "USUBJID",
             total: bool = True, arms: Optional[Sequence[Any]] = None, layout: str = "jama",
             title: str = "Exposure to Study Treatment") -> TLG:
    """Exposure (NEST EXT01): ADSL treatment duration in days (``TRTDURD``) and, with ``adex``,
    the ADEX parameters (``PARAMCD`` / ``AVAL``; ``params`` to choose). Subject-level ADEX
    records (one per subject and parameter) are summarised as they are; record-level ADEX
    (one record per administration) gives each subject's total (sum of AVAL) and number of
    records. Records with a visit (``AVISIT``) are left out."""
    pop, levels, d = _spine(adsl, arm, pop_flag, id, arms, total)
    parts = [header_ard(d, arm)]
    rows: list[tuple[str, str, dict]] = []
    if duration and duration in adsl.columns:
        parts.append(_summaries(d, [duration], arm, layout))
        rows.append((duration, "Duration of treatment, days" if duration == "TRTDURD" else duration, {}))
    if adex is not None:
        need(adex, "ADEX", ["PARAMCD", "AVAL", id])
        ex = adex
        if "AVISIT" in ex.columns:
            ex = ex[ex["AVISIT"].isna() | (ex["AVISIT"].astype(str).str.strip() == "")]
        codes = list(params) if params else list(dict.fromkeys(ex["PARAMCD"]))
        label = dict(zip(ex["PARAMCD"], ex["PARAM"])) if "PARAM" in ex.columns else {}
        ex = with_arm(ex, pop, arm, id, "ADEX")
        for pc in codes:
            sub = ex[ex["PARAMCD"] == pc]
            name = str(label.get(pc, pc))
            per_record = sub.duplicated(id).any()
            if per_record:      # record-level ADEX (one row per administration): subject totals
                fmt = summary_fmt(sub["AVAL"], layout)
                sub = sub.groupby(id, as_index=False).agg(AVAL=("AVAL", "sum"), NREC=("AVAL", "size"),
                                                          **{arm: (arm, "first")})
            else:
                fmt = summary_fmt(sub["AVAL"], layout)
            sub = stack_total(sub, arm, levels, total)
            a = ard_summary(sub, "AVAL", by=arm, statistic=SUMMARY_STATS, fmt=fmt)
            a["variable_level"] = [pc] * len(a)
            parts.append(a)
            rows.append(("AVAL", f"{name}, total per subject" if per_record else name, {"variable_level": pc}))
            if per_record:
                a = ard_summary(sub, "NREC", by=arm, statistic=SUMMARY_STATS, fmt=summary_fmt(sub["NREC"], layout))
                a["variable_level"] = [pc] * len(a)
                parts.append(a)
                rows.append(("NREC", f"{name}, number of records per subject", {"variable_level": pc}))
    if len(parts) == 1:
        raise InputError(f"ADSL has no {duration} and no ADEX was given: nothing to summarise")
    ard = bind_ard(*parts)
    cols = levels + (["Total"] if total else [])

    def build(placed, rules):
        t = arm_table(placed, title, arm, cols, rules)
        for var, lab, where in rows:
            t = continuous_rows(t, placed, var, lab, rules, **where)
        return t

    return TLG("exposure", title, ard, population_label(pop_flag),
               ("adsl",) + (("adex",) if adex is not None else ()), "table", build)
