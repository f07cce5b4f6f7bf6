"""Declared data requirements, checked before any notebook runs.

A study config (``requirements:``) or a notebook's metadata (``trialsupp: requires:``)
states what it needs, per dataset::

    adsl:
      variables: {USUBJID: char, TRT01P: char, AGE: num+, SAFFL: flag}
      arms: {variable: TRT01P, levels: [Placebo, Active], population: SAFFL}
    adqs PARAMCD=ACTOT:                # the records of one parameter
      variables: {AVAL: num+}
    adtte:
      variables: {STARTDT: date, ADT: date, CNSR: num}
      order: [[STARTDT, ADT]]          # each row: STARTDT on or before ADT
      min_rows: 1                      # the default; 0 allows an empty dataset

Types: ``char``, ``num`` (finite, magnitude below ``max_abs``, 1e15 by default), ``date``,
``flag`` (Y, N or blank); a ``+`` suffix means "not all missing". A variable may also be a
mapping ``{type: num, min: 0, max: 120, required: true}``. The first failure is one
``DataError`` line naming dataset, variable, the first bad rows and who requires it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from trialsupp.data.io import DataError

TYPES = ("char", "num", "date", "flag")
MAX_ABS = 1e15          # no measurement is this large; 1e70 is a data error, not a value
DATASET_KEYS = {"variables", "arms", "order", "min_rows"}


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    not_all_missing: bool = False
    min: float | None = None
    max: float | None = None


@dataclass
class Requirement:
    dataset: str
    where: dict[str, str]
    by: str                                  # who requires it: the study config or a notebook
    variables: list[Variable] = field(default_factory=list)
    arms: dict[str, Any] | None = None
    order: list[tuple[str, str]] = field(default_factory=list)
    min_rows: int = 1

    @property
    def label(self) -> str:
        sub = " ".join(f"{k}={v}" for k, v in self.where.items())
        return f"dataset {self.dataset}" + (f" ({sub})" if sub else "")


def parse(spec: Any, by: str) -> list[Requirement]:
    """Requirements from a config mapping; a malformed one is a DataError naming the key."""
    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        raise DataError(f"{by}: requirements: must be a mapping of dataset -> needs")
    out = []
    for key, body in spec.items():
        name, *conds = str(key).split()
        where = {}
        for c in conds:
            var, sep, val = c.partition("=")
            if not sep:
                raise DataError(f"{by}: requirements.{key}: expected 'dataset VAR=value', got {c!r}")
            where[var] = val
        body = body or {}
        if not isinstance(body, Mapping) or set(body) - DATASET_KEYS:
            raise DataError(f"{by}: requirements.{key}: keys must be among {', '.join(sorted(DATASET_KEYS))}")
        req = Requirement(name.lower(), where, by, min_rows=int(body.get("min_rows", 1)))
        for var, vspec in (body.get("variables") or {}).items():
            req.variables.append(_variable(var, vspec, f"{by}: requirements.{key}.variables.{var}"))
        arms = body.get("arms")
        if arms is not None:
            if not isinstance(arms, Mapping) or "variable" not in arms:
                raise DataError(f"{by}: requirements.{key}.arms: needs variable (and levels, population)")
            req.arms = dict(arms)
        for pair in body.get("order") or []:
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                raise DataError(f"{by}: requirements.{key}.order: pairs [EARLIER, LATER], got {pair!r}")
            req.order.append((str(pair[0]), str(pair[1])))
        out.append(req)
    return out


def _variable(name: str, spec: Any, where: str) -> Variable:
    if isinstance(spec, str):
        kind, plus = spec.rstrip("+"), spec.endswith("+")
        if kind in TYPES:
            return Variable(name, kind, plus)
    elif isinstance(spec, Mapping) and spec.get("type") in TYPES:
        return Variable(name, spec["type"], bool(spec.get("required", False)), spec.get("min"), spec.get("max"))
    raise DataError(f"{where}: type must be one of {', '.join(TYPES)} (optionally with +), got {spec!r}")


def _rows(mask: pd.Series, df: pd.DataFrame, limit: int = 3) -> str:
    """``rows 4, 17 (USUBJID 01-701-1015, ...)``: positions in the dataset as read (0-based)."""
    pos = np.flatnonzero(mask.to_numpy())
    shown = ", ".join(str(int(p)) for p in pos[:limit]) + (f" (+{len(pos) - limit} more)" if len(pos) > limit else "")
    ids = ""
    if "USUBJID" in df.columns:
        ids = " (USUBJID " + ", ".join(str(df["USUBJID"].iloc[int(p)]) for p in pos[:limit]) + ")"
    return f"row{'s' if len(pos) > 1 else ''} {shown}{ids}"


def _missing(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("string").str.strip() == "")


def check(datasets: Mapping[str, pd.DataFrame], requirements: Iterable[Requirement]) -> None:
    for req in requirements:
        _check_one(datasets, req)


def _check_one(datasets: Mapping[str, pd.DataFrame], req: Requirement) -> None:
    why = f"required by {req.by}"
    if req.dataset not in datasets:
        raise DataError(f"dataset {req.dataset}: not provided ({why})")
    full = datasets[req.dataset]
    for var in req.where:
        if var not in full.columns:
            raise DataError(f"dataset {req.dataset}: variable {var} missing ({why})")
    df = full
    for var, val in req.where.items():
        df = df[df[var].astype("string").str.strip() == val]
    df = df.reset_index(drop=True)
    if len(df) < req.min_rows:
        raise DataError(f"{req.label}: {len(df)} rows; at least {req.min_rows} needed ({why})")
    absent = [v.name for v in req.variables if v.name not in df.columns]
    if absent:
        raise DataError(f"{req.label}: variable{'s' if len(absent) > 1 else ''} {', '.join(absent)} "
                        f"missing ({why})")
    for var in req.variables:
        _check_variable(req, df, var, why)
    for early, late in req.order:
        _check_order(req, df, early, late, why)
    if req.arms:
        _check_arms(req, df, why)


def _check_variable(req: Requirement, df: pd.DataFrame, var: Variable, why: str) -> None:
    s = df[var.name]
    where = f"{req.label}, variable {var.name}"
    blank = _missing(s)
    if var.not_all_missing and len(s) and blank.all():
        raise DataError(f"{where}: all {len(s)} values missing ({why})")
    if var.type == "flag":
        bad = ~s.fillna("").astype(str).str.strip().isin(["Y", "N", ""])
        if bad.any():
            raise DataError(f"{where}: flag values must be Y, N or blank; {_rows(bad, df)} hold "
                            f"{s[bad].astype(str).iloc[0]!r}")
    elif var.type == "num":
        values = pd.to_numeric(s.where(~blank), errors="coerce")
        bad = values.isna() & ~blank
        if bad.any():
            raise DataError(f"{where}: must be numeric; {_rows(bad, df)} hold text such as {s[bad].iloc[0]!r}")
        wild = ~blank & ~values.abs().le(MAX_ABS)
        if wild.any():
            first = values[wild].iloc[0]
            raise DataError(f"{where}: {_rows(wild, df)} hold {'non-finite' if not math.isfinite(first) else 'implausible'}"
                            f" values such as {first:g} (|value| must be below {MAX_ABS:g})")
        for bound, test, word in ((var.min, lambda v, b: v < b, "below"), (var.max, lambda v, b: v > b, "above")):
            if bound is not None:
                out = ~blank & test(values, bound)
                if out.any():
                    raise DataError(f"{where}: {_rows(out, df)} {word} {bound} (e.g. {values[out].iloc[0]:g})")
    elif var.type == "date":
        if not (pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_numeric_dtype(s)):
            parsed = pd.to_datetime(s.where(~blank), errors="coerce")
            bad = parsed.isna() & ~blank
            if bad.any():
                raise DataError(f"{where}: must be a date; {_rows(bad, df)} hold {s[bad].iloc[0]!r}")


def _as_dates(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s):          # SAS day counts
        return pd.Timestamp("1960-01-01") + pd.to_timedelta(s, unit="D")
    return pd.to_datetime(s, errors="coerce")


def _check_order(req: Requirement, df: pd.DataFrame, early: str, late: str, why: str) -> None:
    for v in (early, late):
        if v not in df.columns:
            raise DataError(f"{req.label}: variable {v} missing ({why})")
    a, b = _as_dates(df[early]), _as_dates(df[late])
    bad = a.notna() & b.notna() & (b < a)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{req.label}: {late} before {early} in {_rows(bad, df)}, e.g. {late} "
                        f"{b.iloc[i].date()} < {early} {a.iloc[i].date()}")


def _check_arms(req: Requirement, df: pd.DataFrame, why: str) -> None:
    var = req.arms["variable"]
    if var not in df.columns:
        raise DataError(f"{req.label}: variable {var} missing ({why})")
    pop = req.arms.get("population")
    sub = df
    if pop:
        if pop not in df.columns:
            raise DataError(f"{req.label}: variable {pop} missing ({why})")
        sub = df[df[pop].astype("string").str.strip() == "Y"]
    counts = sub[var].astype("string").str.strip().value_counts()
    for level in req.arms.get("levels") or sorted(df[var].dropna().astype(str).str.strip().unique()):
        if counts.get(str(level), 0) == 0:
            raise DataError(f"{req.label}, variable {var}: arm {level!r} has no subjects"
                            + (f" with {pop}=Y" if pop else "") + f" ({why})")


def notebook_requirements(path) -> list[Requirement]:
    """``metadata.trialsupp.requires`` of a notebook (its own statement of what it reads)."""
    import json
    from pathlib import Path
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    spec = ((nb.get("metadata") or {}).get("trialsupp") or {}).get("requires")
    return parse(spec, f"notebook {Path(path).parent.name}/{Path(path).name}")
