"""Adverse event standard outputs from ADAE with the ADSL denominator: overview (NEST AET01)
and subjects with AEs by system organ class and preferred term (AET02).

Counts are distinct subjects (``id``); N is the arm's population size from ADSL, so arms
without events keep their N (gtreg ``id_df``). Treatment-emergent records by default
(``TRTEMFL == "Y"``). The arm is the ADSL ``arm`` merged by ``id`` (ADAE ``TRTA`` is not
needed). Statistics: ``trialsupp.stats.descriptive.ard_tabulate``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence

import pandas as pd

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.stats.descriptive import ard_tabulate

from ._display import arm_table, count_template, header_ard, is_csr
from ._spine import (TLG, TOTAL, InputError, arm_levels, need, pct_fmt, population, population_label,
                     stack_total, with_arm)

__all__ = ["ae_overview", "ae_by_soc_pt", "filter_terms", "AE_CATEGORIES", "ANY_AE"]

ANY_AE = "Any adverse event"
_RELATED = {"RELATED", "PROBABLE", "POSSIBLE", "PROBABLY RELATED", "POSSIBLY RELATED", "DEFINITE",
            "DEFINITELY RELATED", "Y", "YES"}


def _upper(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.upper()


# category: (label, variables it reads, record selector)
AE_CATEGORIES = {
    "any": ("Any adverse event", (), lambda ae: pd.Series(True, index=ae.index)),
    "related": ("Related adverse event", ("AEREL",), lambda ae: _upper(ae["AEREL"]).isin(_RELATED)),
    "serious": ("Serious adverse event", ("AESER",), lambda ae: _upper(ae["AESER"]) == "Y"),
    "severe": ("Severe adverse event", ("AESEV",), lambda ae: _upper(ae["AESEV"]) == "SEVERE"),
    "grade3": ("Grade 3 or higher adverse event", ("AETOXGR",),
               lambda ae: pd.to_numeric(ae["AETOXGR"], errors="coerce") >= 3),
    "withdrawn": ("Adverse event leading to withdrawal of study drug", ("AEACN",),
                  lambda ae: _upper(ae["AEACN"]) == "DRUG WITHDRAWN"),
    "fatal": ("Adverse event with fatal outcome", ("AEOUT",), lambda ae: _upper(ae["AEOUT"]) == "FATAL"),
}


def _ae_records(adae: pd.DataFrame, adsl: pd.DataFrame, arm: str, pop_flag: Optional[str], id: str,
                emergent: Optional[str], arms, total):
    pop = population(adsl, pop_flag, arm, id)
    if not len(pop):
        raise InputError(f"ADSL: no subjects with {pop_flag} = Y and a treatment arm in {arm}")
    levels = arm_levels(pop, arm, arms)
    need(adae, "ADAE", [id] + ([emergent] if emergent else []))
    ae = adae
    if emergent:
        ae = ae[_upper(ae[emergent]) == "Y"]
    ae = with_arm(ae, pop, arm, id, "ADAE")
    return pop, levels, stack_total(pop, arm, levels, total), stack_total(ae, arm, levels, total)


def ae_overview(adae: pd.DataFrame, adsl: pd.DataFrame, *, categories: Optional[Sequence[str]] = None,
                define: Optional[Mapping[str, tuple[str, Sequence[str], Callable]]] = None,
                emergent: Optional[str] = "TRTEMFL", arm: str = "TRT01A", pop_flag: Optional[str] = "SAFFL",
                id: str = "USUBJID", total: bool = True, arms: Optional[Sequence[Any]] = None,
                layout: str = "jama", title: str = "Overview of Adverse Events") -> TLG:
    """Subjects with at least one AE of each category (NEST AET01).

    ``categories``: keys of :data:`AE_CATEGORIES`; default every category whose ADAE variable
    is present (related: AEREL in RELATED/PROBABLE/POSSIBLE...; serious: AESER = Y; severe:
    AESEV = SEVERE; grade 3+: AETOXGR >= 3; withdrawal: AEACN = DRUG WITHDRAWN; fatal:
    AEOUT = FATAL). Counts are subjects, % of the arm's N.

    ``define``: ``{key: (label, variables, selector)}`` adds categories or replaces the
    definition of one (``selector(adae) -> bool Series``; ``variables`` are checked to exist),
    e.g. ``{"fatal": ("Adverse event with fatal outcome", ("AESDTH",), lambda ae: ae["AESDTH"] == "Y")}``.
    ARD rows: ``variable = "AECAT"``, ``variable_level`` = the category's label.
    """
    pop, levels, denom, ae = _ae_records(adae, adsl, arm, pop_flag, id, emergent, arms, total)
    known = {**AE_CATEGORIES, **dict(define or {})}
    if categories is None:
        categories = [k for k, (_, vars_, _) in known.items()
                      if all(v in adae.columns for v in vars_)
                      and (not vars_ or adae[list(vars_)].astype(str).apply(lambda c: c.str.strip()).ne("").any().all())]
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise ValueError(f"unknown AE categories {unknown}; choose from {', '.join(known)} or define them")
    parts = [header_ard(denom, arm)]
    for key in categories:
        label, vars_, select = known[key]
        need(adae, "ADAE", vars_)
        rows = ae[select(ae).fillna(False).to_numpy(bool)].assign(AECAT=label)
        rows["AECAT"] = pd.Categorical(rows["AECAT"], categories=[label])
        parts.append(ard_tabulate(rows, "AECAT", by=arm, denominator=denom, id=id,
                                  fmt=pct_fmt(layout, "pct1")))
    ard = bind_ard(*parts)
    cols = levels + ([TOTAL] if total else [])
    labels = [known[k][0] for k in categories]

    def build(placed, rules):
        t = arm_table(placed, title, arm, cols, rules)
        t = t.add_heading("Subjects with" + ("" if is_csr(rules) else ", No. (%)"))
        for lab in labels:
            t = t.add_stat_row(lab, placed, count_template(rules), indent=1, variable="AECAT",
                               variable_level=lab)
        if emergent:
            t = t.footnote("Treatment-emergent adverse events; subjects are counted once per category.")
        return t

    return TLG("ae-overview", title, ard, population_label(pop_flag), ("adae", "adsl"), "table", build)


def ae_by_soc_pt(adae: pd.DataFrame, adsl: pd.DataFrame, *, soc: str = "AEBODSYS", pt: str = "AEDECOD",
                 threshold: float = 0.0, sort: str = "descending", emergent: Optional[str] = "TRTEMFL",
                 arm: str = "TRT01A", pop_flag: Optional[str] = "SAFFL", id: str = "USUBJID",
                 total: bool = True, arms: Optional[Sequence[Any]] = None, layout: str = "jama",
                 terms: Optional[Sequence[tuple[str, str]]] = None,
                 title: str = "Adverse Events by System Organ Class and Preferred Term") -> TLG:
    """Subjects with AEs by system organ class and preferred term (NEST AET02; gtsummary
    ``tbl_hierarchical``).

    threshold : percent (0-100); a preferred term is kept when its incidence reaches the
        threshold in at least one arm (Total excluded); a SOC is kept when one of its terms is.
        The SOC rows always count every term. Stored as an ARD row (``variable = "threshold"``)
        so the footnote's number is bound.
    sort : ``"descending"`` (by the Total column, else the first arm; ties alphabetical) or
        ``"alpha"``.
    terms : ``(SOC, PT)`` pairs to tabulate with zero counts where no subject of the population
        reports them (a table pooling several populations shows the same rows in each); default
        the pairs present in the population's records.
    """
    if sort not in ("descending", "alpha"):
        raise ValueError("sort must be 'descending' or 'alpha'")
    if not 0 <= threshold <= 100:
        raise ValueError(f"threshold is a percent in [0, 100], not {threshold}")
    pop, levels, denom, ae = _ae_records(adae, adsl, arm, pop_flag, id, emergent, arms, total)
    need(adae, "ADAE", [soc, pt])
    for v in (soc, pt):
        blank = ae[v].isna() | (ae[v].astype(str).str.strip() == "")
        if blank.any():
            ae = ae.assign(**{v: ae[v].where(~blank, "Not coded")})
    fmt = pct_fmt(layout, "pct1")
    anyae = ae.assign(ANYAE=pd.Categorical([ANY_AE] * len(ae), categories=[ANY_AE]))
    pairs = sorted(set(terms) if terms is not None else set(zip(ae[soc], ae[pt])), key=lambda x: (str(x[0]), str(x[1])))
    socs = list(dict.fromkeys(s for s, _ in pairs))
    parts = [header_ard(denom, arm), ard_tabulate(anyae, "ANYAE", by=arm, denominator=denom, id=id, fmt=fmt),
             ard_tabulate(ae.assign(**{soc: pd.Categorical(ae[soc], categories=socs)}), soc, by=arm,
                          denominator=denom, id=id, fmt=fmt)]
    for s in socs:
        sub = ae[ae[soc] == s]
        sub = sub.assign(**{pt: pd.Categorical(sub[pt], categories=[t for c, t in pairs if c == s])})
        rows = ard_tabulate(sub, pt, by=arm, denominator=denom, id=id, fmt=fmt)
        rows["group2"], rows["group2_level"] = soc, s
        parts.append(rows)
    ard = bind_ard(*parts)
    if threshold > 0:
        ard = filter_terms(ard, threshold, soc=soc, pt=pt)
        parts = [ard, ard_rows({"value": float(threshold)}, variable="threshold", context="filter",
                               method="Preferred terms with incidence >= threshold in at least one arm",
                               code=code_ref(ae_by_soc_pt), fmt={"value": "d0" if float(threshold).is_integer() else "d1"},
                               labels={"value": "Threshold (%)"})]
        ard = bind_ard(*parts)
    cols = levels + ([TOTAL] if total else [])

    def build(placed, rules):
        t = arm_table(placed, title, arm, cols, rules, "System organ class\n  Preferred term")
        tpl = count_template(rules)
        counts = placed[placed["context"] == "tabulate"]
        t = t.add_hierarchical(counts, soc, pt, template=tpl, sort=sort,
                               sort_column=TOTAL if total else str(levels[0]),
                               overall=(ANY_AE if is_csr(rules) else f"{ANY_AE}, No. (%)", {"variable": "ANYAE"}))
        if threshold > 0:
            t = t.footnote("Preferred terms reported by at least {value}% of subjects in any arm.",
                           ard=placed, variable="threshold")
        note = "Treatment-emergent adverse events; " if emergent else ""
        return t.footnote(note + "a subject is counted once per system organ class and preferred term.")

    return TLG("ae-soc-pt", title, ard, population_label(pop_flag), ("adae", "adsl"), "table", build)


def filter_terms(ard: pd.DataFrame, threshold: float, *, soc: str = "AEBODSYS", pt: str = "AEDECOD",
                 exclude: Sequence[Any] = (TOTAL,)) -> pd.DataFrame:
    """Rows of an :func:`ae_by_soc_pt` ARD (or several bound together) without the preferred
    terms whose incidence is below ``threshold`` percent in every column (``group1_level`` not
    in ``exclude``), and without SOCs left with no term (gtsummary ``filter_hierarchical``: a
    filter over the ARD, nothing recomputed). SOC rows keep counting every term."""
    cut = threshold / 100.0
    terms = ard[(ard["variable"] == pt) & (ard["stat_name"] == "p") & ~ard["group1_level"].isin(list(exclude))]
    keep = terms.groupby(["group2_level", "variable_level"])["stat"].apply(
        lambda s: any(v is not None and v >= cut - 1e-12 for v in s))
    kept = set(keep[keep].index)
    socs = {s for s, _ in kept}
    is_term = ard["variable"] == pt
    is_soc = ard["variable"] == soc
    in_kept = pd.Series([(g, v) in kept for g, v in zip(ard["group2_level"], ard["variable_level"])], index=ard.index)
    mask = ~is_term | in_kept
    mask &= ~is_soc | ard["variable_level"].isin(socs)
    return ard[mask].reset_index(drop=True)
