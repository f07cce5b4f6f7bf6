"""What ``trialsupp new`` finds in an ADaM folder: the datasets, the standard outputs each
allows, the variables missing for the others, and the defaults chosen for real-world variation.

Defaults (each one is reported and written into the study config as a comment)
    arm, safety outputs    TRT01A, else TRT01P, else ACTARM/ARM
    arm, ITT outputs       TRT01P, else the safety arm
    population, safety     SAFFL = Y; without SAFFL every randomised subject
    population, baseline   ITTFL, else FASFL, else RANDFL, else SAFFL, else every randomised subject
    screen failures        ADSL subjects whose arm is "Screen Failure", "Not Assigned",
                           "Not Treated" or blank are left out (``trialsupp.tlg`` spine)
    AE arm                 always the ADSL arm merged by USUBJID (ADAE TRTA is not needed)
    treatment-emergent     TRTEMFL = Y when ADAE has TRTEMFL, else every AE (reported)
    BDS datasets           one summary by visit per dataset with PARAMCD/AVISIT/AVAL
                           (ADLB*, ADVS, ADQS*, ADEG, ...): all parameters when at most
                           ``MAX_PARAMS``, else the first ``MAX_PARAMS`` in PARAMN order
    shift tables           ADLB* datasets with BNRIND and ANRIND
    time to event          ADTTE: a table and a Kaplan-Meier figure per PARAMCD, at most
                           ``MAX_TTE`` parameters (the first ones, in order of appearance)
    exposure               ADSL TRTDURD; else ADEX subject totals
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from trialsupp.data.io import FORMATS, read_dataset

__all__ = ["Inventory", "Output", "inspect_adam", "MAX_PARAMS", "MAX_TTE"]

MAX_PARAMS = 8
MAX_TTE = 3
_VISIT = re.compile(r"(?i)^(?:week|day|month|year|visit|cycle)s?\s+\d+$")   # exempt by the audit already
_NOT_BDS = {"adsl", "adae", "adtte", "adex", "adcm", "admh"}


@dataclass
class Output:
    """One standard output ``new`` will write a notebook for."""
    key: str                      # notebook stem and label stem ("demographics", "labs-adlbc")
    kind: str                     # "table" or "figure" (a notebook may show both: see cells)
    title: str
    datasets: list[str]
    cells: list[tuple[str, str, str]]   # (label, caption, python code of the output cell)
    # what the calls read, {dataset: {VARIABLE: type}} (``trialsupp.data.requirements`` types),
    # written into the notebook's metadata and checked by ``render`` before any notebook runs
    requires: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class Inventory:
    root: Path
    datasets: dict[str, pd.DataFrame]
    studyid: Optional[str] = None
    simulated: bool = False
    outputs: list[Output] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)       # "what cannot be made, and why"
    choices: list[str] = field(default_factory=list)       # "which default was chosen"
    labels: set[str] = field(default_factory=set)          # label texts shown (for audit exemptions)

    def report(self) -> str:
        lines = [f"ADaM datasets in {self.root}: {', '.join(n.upper() for n in self.datasets)}"]
        lines += [f"  output: {o.key} ({o.title})" for o in self.outputs]
        lines += [f"  default: {c}" for c in self.choices]
        lines += [f"  not made: {m}" for m in self.missing]
        return "\n".join(lines)


def _has(df: Optional[pd.DataFrame], *cols: str) -> bool:
    return df is not None and all(c in df.columns and _nonblank(df[c]).any() for c in cols)


def _nonblank(s: pd.Series) -> pd.Series:
    return s.notna() & (s.astype(str).str.strip() != "")


def _lack(df: Optional[pd.DataFrame], name: str, cols: list[str]) -> list[str]:
    if df is None:
        return [name.upper()]
    return [f"{name.upper()}.{c}" for c in cols if not _has(df, c)]


# variables an output cannot do without: declared "not all missing" (type suffix +)
_KEY = {"USUBJID", "PARAMCD", "AVAL", "AVISIT", "CNSR", "AEBODSYS", "AEDECOD", "EOSSTT", "TRTDURD"}


def _type(s: pd.Series) -> str:
    """Requirement type of a variable as delivered: num, flag (Y/N/blank only) or char."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return "num"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    values = set(s.dropna().astype(str).str.strip())
    return "flag" if values and values <= {"Y", "N", ""} else "char"


def _needs(data: dict[str, pd.DataFrame], **reads: list) -> dict[str, dict[str, str]]:
    """{dataset: {variable: type}} for the variables a call reads (those present; None skipped)."""
    out: dict[str, dict[str, str]] = {}
    for ds, cols in reads.items():
        df = data[ds]
        got = out.setdefault(ds, {})
        for c in cols:
            if c and c in df.columns:
                got[c] = _type(df[c]) + ("+" if c in _KEY else "")
    return out


def _first(df: pd.DataFrame, *cols: str) -> Optional[str]:
    return next((c for c in cols if _has(df, c)), None)


def _simulated(root: Path) -> bool:
    meta = root / "define.json"
    if meta.is_file():
        try:
            return bool((json.loads(meta.read_text(encoding="utf-8")).get("study") or {}).get("simulated"))
        except (ValueError, AttributeError):
            return False
    return False


def _q(v: Any) -> str:
    return repr(v)


def _labels_of(series: pd.Series) -> set[str]:
    return {str(v).strip() for v in series.dropna().unique()
            if re.search(r"\d", str(v)) and not _VISIT.match(str(v).strip())}


def inspect_adam(root: Path) -> Inventory:
    """Read every ADaM dataset (``.xpt``/``.parquet``) under ``root`` and decide the outputs."""
    root = Path(root)
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in FORMATS and p.is_file()
                   and p.stem.lower() != "define")          # define.json is metadata, not a dataset
    if not files:
        raise FileNotFoundError(f"{root}: no ADaM datasets (.xpt or .parquet files)")
    data = {p.stem.lower(): read_dataset(p) for p in files}
    inv = Inventory(root=root, datasets=data, simulated=_simulated(root))
    adsl = data.get("adsl")
    if adsl is None:
        raise FileNotFoundError(f"{root}: no ADSL (adsl.xpt or adsl.parquet): every standard output needs "
                                "the subject-level dataset for its denominators")
    for c in ("USUBJID",):
        if c not in adsl.columns:
            raise ValueError(f"ADSL: variable {c} not found")
    if "STUDYID" in adsl.columns and _has(adsl, "STUDYID"):
        inv.studyid = str(adsl["STUDYID"].dropna().iloc[0]).strip()
    arm = _first(adsl, "TRT01A", "TRT01P", "ACTARM", "ARM")
    if arm is None:
        raise ValueError("ADSL: no treatment variable (TRT01A, TRT01P, ACTARM or ARM)")
    itt_arm = "TRT01P" if _has(adsl, "TRT01P") else arm
    saf_flag = "SAFFL" if _has(adsl, "SAFFL") else None
    itt_flag = _first(adsl, "ITTFL", "FASFL", "RANDFL", "SAFFL")
    inv.choices.append(f"arm of safety outputs: {arm}" + ("" if arm == "TRT01A" else " (ADSL has no TRT01A)"))
    inv.choices.append(f"arm of baseline and time-to-event outputs: {itt_arm}")
    inv.choices.append("safety population: " + ("SAFFL = Y" if saf_flag else "every randomised subject (ADSL has no SAFFL)"))
    inv.choices.append("baseline population: " + (f"{itt_flag} = Y" if itt_flag else "every randomised subject")
                       + ("" if itt_flag == "ITTFL" else " (ADSL has no ITTFL)"))
    sf = adsl[arm].astype(str).str.strip().str.upper().isin(["SCREEN FAILURE", "NOT ASSIGNED", "NOT TREATED", ""])
    if sf.any():
        inv.choices.append(f"{int(sf.sum())} ADSL subject(s) with {arm} 'Screen Failure'/'Not Assigned'/"
                           "'Not Treated'/blank are left out")
    inv.labels |= _labels_of(adsl[arm])
    spine_itt = f"arm={_q(itt_arm)}, pop_flag={_q(itt_flag)}, layout=layout"
    spine_saf = f"arm={_q(arm)}, pop_flag={_q(saf_flag)}, layout=layout"

    # demographics (DMT01)
    from trialsupp.tlg.subjects import DEMOGRAPHIC_LABELS
    dm_vars = [v for v in DEMOGRAPHIC_LABELS if _has(adsl, v)]
    for v in dm_vars:
        if not pd.api.types.is_numeric_dtype(adsl[v]):
            inv.labels |= _labels_of(adsl[v])
    inv.outputs.append(Output("demographics", "table", "Demographic and Baseline Characteristics", ["adsl"],
                              [("tbl-demographics", "Demographic and Baseline Characteristics",
                                f"out = tlg.demographics(s.data['adsl'], {dm_vars!r}, {spine_itt})")],
                              _needs(data, adsl=["USUBJID", itt_arm, itt_flag, *dm_vars])))
    # disposition (DST01)
    if _has(adsl, "EOSSTT"):
        reason = _first(adsl, "DCSREAS", "DCDECOD")
        for c in ("EOSSTT", reason):
            if c:
                inv.labels |= _labels_of(adsl[c])
        inv.outputs.append(Output("disposition", "table", "Subject Disposition", ["adsl"],
                                  [("tbl-disposition", "Subject Disposition",
                                    f"out = tlg.disposition(s.data['adsl'], reason={_q(reason)}, "
                                    f"arm={_q(arm)}, layout=layout)")],
                                  _needs(data, adsl=["USUBJID", arm, "EOSSTT", reason])))
    else:
        inv.missing.append("disposition: ADSL has no EOSSTT")
    # exposure (EXT01)
    adex = data.get("adex")
    if _has(adsl, "TRTDURD"):
        code = f"out = tlg.exposure(s.data['adsl'], {spine_saf})"
        ds = ["adsl"]
    elif _has(adex, "PARAMCD", "AVAL"):
        code = f"out = tlg.exposure(s.data['adsl'], s.data['adex'], {spine_saf})"
        ds = ["adsl", "adex"]
        inv.choices.append("exposure: ADSL has no TRTDURD; ADEX per-subject totals (sum of AVAL and number "
                           "of records per PARAMCD)")
        inv.labels |= _labels_of(adex["PARAM"]) if "PARAM" in adex.columns else set()
    else:
        code = None
        inv.missing.append("exposure: neither ADSL.TRTDURD nor ADEX (PARAMCD, AVAL)")
    if code:
        reads = {"adsl": ["USUBJID", arm, saf_flag, "TRTDURD" if ds == ["adsl"] else None]}
        if ds != ["adsl"]:
            reads["adex"] = ["USUBJID", "PARAMCD", "AVAL"]
        inv.outputs.append(Output("exposure", "table", "Exposure to Study Treatment", ds,
                                  [("tbl-exposure", "Exposure to Study Treatment", code)], _needs(data, **reads)))
    # adverse events (AET01, AET02)
    adae = data.get("adae")
    lack = _lack(adae, "adae", ["AEBODSYS", "AEDECOD"])
    if lack:
        inv.missing.append("adverse events: missing " + ", ".join(lack))
    else:
        emergent = "'TRTEMFL'" if _has(adae, "TRTEMFL") else "None"
        if emergent == "None":
            inv.choices.append("adverse events: ADAE has no TRTEMFL; every AE record is counted")
        if not _has(adae, "TRTA"):
            inv.choices.append(f"adverse events: ADAE has no TRTA; arm {arm} from ADSL")
        inv.labels |= _labels_of(adae["AEBODSYS"]) | _labels_of(adae["AEDECOD"])
        from trialsupp.tlg.adverse import AE_CATEGORIES
        category_vars = [v for _, vars_, _ in AE_CATEGORIES.values() for v in vars_ if _has(adae, v)]
        ae_needs = _needs(data, adae=["USUBJID", "TRTEMFL" if emergent != "None" else None, "AEBODSYS",
                                      "AEDECOD", *category_vars], adsl=["USUBJID", arm, saf_flag])
        inv.outputs.append(Output("ae-overview", "table", "Overview of Adverse Events", ["adae", "adsl"],
                                  [("tbl-ae-overview", "Overview of Adverse Events",
                                    f"out = tlg.ae_overview(s.data['adae'], s.data['adsl'], emergent={emergent}, "
                                    f"{spine_saf})")], ae_needs))
        inv.outputs.append(Output("ae-soc-pt", "table", "Adverse Events by System Organ Class and Preferred Term",
                                  ["adae", "adsl"],
                                  [("tbl-ae-soc-pt", "Adverse Events by System Organ Class and Preferred Term",
                                    f"out = tlg.ae_by_soc_pt(s.data['adae'], s.data['adsl'], threshold=0, "
                                    f"sort='descending', emergent={emergent}, {spine_saf})")], ae_needs))
    # BDS by visit (LBT01/VST01/QS), shifts (LBT14)
    for name, df in data.items():
        if name in _NOT_BDS or not _has(df, "PARAMCD", "AVAL"):
            continue
        lack = _lack(df, name, ["AVISIT"])
        if lack:
            inv.missing.append(f"{name.upper()} summary by visit: missing {', '.join(lack)}")
            continue
        params = _param_order(df)
        chosen = params[:MAX_PARAMS]
        if len(params) > MAX_PARAMS:
            inv.choices.append(f"{name.upper()}: {len(params)} parameters; the first {MAX_PARAMS} (PARAMN order) "
                               f"are summarised: {', '.join(chosen)} (edit paramcd= in the notebook)")
        if not _has(df, "CHG"):
            inv.choices.append(f"{name.upper()}: no CHG; values only")
        for c in ("PARAM", "AVISIT", "ATPT"):
            if c in df.columns:
                inv.labels |= _labels_of(df[df["PARAMCD"].isin(chosen)][c])
        cells = [(f"tbl-{name}-by-visit", f"{name.upper()}: Summary by Visit with Change from Baseline",
                  f"out = tlg.bds_by_visit(s.data[{name!r}], s.data['adsl'], dataset={name.upper()!r}, "
                  f"paramcd={chosen!r}, {spine_saf})")]
        if name.startswith("adlb") and _has(df, "BNRIND", "ANRIND"):
            cells.append((f"tbl-{name}-shift", f"{name.upper()}: Shifts from Baseline Normal Range",
                          f"out = tlg.shift_table(s.data[{name!r}], s.data['adsl'], dataset={name.upper()!r}, "
                          f"paramcd={chosen!r}, {spine_saf})"))
        shift = ["BNRIND", "ANRIND"] if len(cells) > 1 else []
        inv.outputs.append(Output(f"bds-{name}", "table", f"{name.upper()} by visit", [name, "adsl"], cells,
                                  _needs(data, **{name: ["USUBJID", "PARAMCD", "AVISIT", "AVAL", "BASE", "CHG",
                                                         *shift], "adsl": ["USUBJID", arm, saf_flag]})))
    # time to event (TTET01, KMG01)
    adtte = data.get("adtte")
    lack = _lack(adtte, "adtte", ["PARAMCD", "AVAL", "CNSR"])
    if lack:
        inv.missing.append("time to event and Kaplan-Meier figure: missing " + ", ".join(lack))
    else:
        params = list(dict.fromkeys(adtte["PARAMCD"].dropna().astype(str)))
        chosen = params[:MAX_TTE]
        if len(params) > MAX_TTE:
            inv.choices.append(f"ADTTE: {len(params)} parameters; the first {MAX_TTE} get a table and a "
                               f"Kaplan-Meier figure: {', '.join(chosen)}")
        elif len(params) > 1:
            inv.choices.append(f"ADTTE: one table and one Kaplan-Meier figure per parameter ({', '.join(chosen)})")
        if "PARAM" in adtte.columns:
            inv.labels |= _labels_of(adtte["PARAM"])
        cells = []
        for pc in chosen:
            label = str(adtte.loc[adtte["PARAMCD"] == pc, "PARAM"].iloc[0]) if "PARAM" in adtte.columns else pc
            slug = re.sub(r"[^a-z0-9]+", "-", pc.lower()).strip("-")
            cells.append((f"tbl-tte-{slug}", f"Time to Event: {label}",
                          f"out = tlg.time_to_event(s.data['adtte'], s.data['adsl'], paramcd={pc!r}, {spine_itt})"))
            cells.append((f"fig-km-{slug}", f"Kaplan-Meier Estimates: {label}",
                          f"out = tlg.km_figure(s.data['adtte'], s.data['adsl'], paramcd={pc!r}, {spine_itt})"))
        inv.outputs.append(Output("time-to-event", "table", "Time to Event", ["adtte", "adsl"], cells,
                                  _needs(data, adtte=["USUBJID", "PARAMCD", "AVAL", "CNSR"],
                                         adsl=["USUBJID", itt_arm, itt_flag])))
    return inv


def _param_order(df: pd.DataFrame) -> list[str]:
    d = df.drop_duplicates("PARAMCD")
    if "PARAMN" in d.columns:
        d = d.sort_values("PARAMN", kind="stable")
    return [str(p) for p in d["PARAMCD"] if str(p).strip()]
