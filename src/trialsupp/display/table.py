"""``Table``: an immutable table builder that reads placed ARD rows only.

Every method returns a new ``Table`` (re-running a notebook cell is safe). Cells
are filled from the ``stat_fmt`` of ARD rows through templates such as
``"{mean} ({sd})"``; the builder never computes a statistic. A requested
statistic that is not in the ARD is an error naming the statistic and the
groups (as gtsummary's ``tbl_ard_summary`` does).

Template fields
    ``{<stat_name>}``   the ``stat_fmt`` of the one ARD row with that stat_name
                        (``{n}``, ``{p}``, ``{mean}``, ``{conf.low}``, ``{p.value}`` ...)
    ``{ci}``            ``conf.low`` and ``conf.high`` joined by the JAMA rule
                        (``fmt_ci``: "0.51-0.80", "−7.2 to −1.0")
    ``{iqr}``           ``q1`` and ``q3`` joined the same way
    ``{range}``         ``min`` and ``max`` joined the same way
    ``{{`` ``}}``       literal braces

A row with ``error`` set and ``stat`` None shows "NE"; the table gets a lettered
footnote giving the reason (and "NE, not estimable" in the abbreviations).

Examples
--------
>>> t = (Table("Baseline Characteristics", label="tbl-baseline", stub_header="Characteristic")
...      .columns_from(ard, by="TRT01P")                              # "Placebo\\n(n = 36)"
...      .add_stat_row("Age, mean (SD), y", ard, "{mean} ({sd})", variable="AGE")
...      .add_stat_row("Male, No. (%)", ard, "{n} ({p})", variable="SEX", variable_level="M")
...      .abbreviations({"SD": "standard deviation"}))
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from trialsupp.ard.fmt import JAMA, NE, FormatRules, fmt_ci

from ._table_data import (Cell, Column, Footnote, Location, Row, Spanner, Stat,
                          TableData, resolve)

__all__ = ["Table", "cell", "fill", "MissingStatError", "AmbiguousStatError",
           "NotPlacedError", "at_title", "at_stub", "at_column", "at_spanner", "at_row",
           "at_cell", "select", "ArdIndex"]


class MissingStatError(KeyError):
    """A template asks for a statistic that is not in the ARD rows given."""

    def __str__(self) -> str:         # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class AmbiguousStatError(ValueError):
    """More than one ARD row matches a template field: filter the ARD further."""


class NotPlacedError(ValueError):
    """ARD rows without ``id``/``stat_fmt``: place them with ``trialsupp.ard.store.place``."""


_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")
PAIRS = {"ci": ("conf.low", "conf.high"), "iqr": ("q1", "q3"), "range": ("min", "max")}
_KEY_COLS = ("group1", "group1_level", "group2", "group2_level", "variable", "variable_level",
             "context")


def _isnull(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _same(v: Any, want: Any) -> bool:
    if type(v) is str:          # most key values: never missing, compared without pd.isna
        return want is not None and (v == want or v == str(want))
    if want is None:
        return _isnull(v)
    if _isnull(v):
        return False
    return v == want or str(v) == str(want)


def _column_hit(values: np.ndarray, want: Any) -> np.ndarray:
    """``_same(v, want)`` for every element of an object array.

    Hand-vectorised (tables call ``select`` thousands of times on ARDs of ~10,000 rows): a
    column whose non-missing values are all ``str`` (ARD key columns almost always) compares
    in one numpy pass against ``str(want)``, which is what ``_same`` does for a ``str`` value;
    any other column takes the per-element path.
    """
    if infer_dtype(values, skipna=True) in ("string", "empty"):
        if isinstance(want, (list, tuple, set)):
            wants = tuple(want)
            hit = np.zeros(len(values), dtype=bool)
            for x in wants:
                hit |= _column_hit(values, x)
            return hit
        if want is None:
            return pd.isna(values)
        return values == str(want)
    if isinstance(want, (list, tuple, set)):
        wants = tuple(want)
        hit = (any(_same(v, x) for x in wants) for v in values)
    else:
        hit = (_same(v, want) for v in values)
    return np.fromiter(hit, dtype=bool, count=len(values))


def select(ard: pd.DataFrame, **where: Any) -> pd.DataFrame:
    """Rows of ``ard`` whose columns equal the given values (``None`` matches missing).

    A list/tuple value matches any of its elements. Values compare as given or as
    strings (so ``variable_level=1`` matches ``"1"``).
    """
    # one boolean array, one row selection at the end (tables call this thousands of times)
    mask = np.ones(len(ard), dtype=bool)
    for col, want in where.items():
        if col not in ard.columns:
            raise KeyError(f"ARD has no column {col!r}")
        mask &= _column_hit(ard[col].to_numpy(dtype=object), want)
    return ard[mask]


class ArdIndex:
    """The rows of an ARD grouped once by key columns, for tables that look up thousands of cells.

    ``ArdIndex(ard, "analysis_id").select(analysis_id="lab-alt", stat_name="N")`` returns what
    ``select(ard, analysis_id="lab-alt", stat_name="N")`` returns (same rows, same order), but
    finds the key's rows in a dict instead of building a mask over the whole ARD; other
    conditions filter those rows only. Exact ``select`` semantics are kept by falling back to
    ``select`` whenever the fast path could differ: a key column holding values other than
    strings (``select`` also matches ``1`` with ``1.0`` there), a list of wanted values, or a
    condition that leaves a key column out.
    """

    def __init__(self, ard: pd.DataFrame, *cols: str):
        missing = [c for c in cols if c not in ard.columns]
        if missing:
            raise KeyError(f"ARD has no column {missing[0]!r}")
        self.ard, self.cols = ard, cols
        arrays = [ard[c].to_numpy(dtype=object) for c in cols]
        # select's fast path compares such columns as strings (missing values match None only)
        self._exact = all(infer_dtype(a, skipna=True) in ("string", "empty") for a in arrays)
        self._rows: dict[tuple, np.ndarray] = {}
        self._values: dict[str, np.ndarray] = {}
        if not cols:
            self._rows = {(): np.arange(len(ard), dtype=np.intp)}
        elif self._exact:
            keys = zip(*[[None if _isnull(v) else v for v in a] for a in arrays])
            groups: dict[tuple, list[int]] = {}
            for i, key in enumerate(keys):
                groups.setdefault(key, []).append(i)
            self._rows = {k: np.asarray(v, dtype=np.intp) for k, v in groups.items()}

    def _positions(self, where: Mapping[str, Any]) -> Optional[np.ndarray]:
        """Row positions ``select`` would keep, in order; None where only ``select`` is exact."""
        keyed = [where.get(c) for c in self.cols]
        if (not self._exact or any(c not in where for c in self.cols)
                or any(isinstance(w, (list, tuple, set)) for w in keyed)):
            return None
        pos = self._rows.get(tuple(None if w is None else str(w) for w in keyed))
        pos = pos if pos is not None else np.zeros(0, dtype=np.intp)
        for col, want in where.items():     # other conditions: on the key's rows only
            if col not in self.cols:
                pos = pos[_column_hit(self._column(col)[pos], want)]
        return pos

    def _column(self, col: str) -> np.ndarray:
        if col not in self._values:
            if col not in self.ard.columns:
                raise KeyError(f"ARD has no column {col!r}")
            self._values[col] = self.ard[col].to_numpy(dtype=object)
        return self._values[col]

    def select(self, **where: Any) -> pd.DataFrame:
        pos = self._positions(where)
        return select(self.ard, **where) if pos is None else self.ard.iloc[pos]

    def values(self, col: str, **where: Any) -> np.ndarray:
        """``select(ard, **where)[col]`` as an object array (no frame built)."""
        pos = self._positions(where)
        if pos is None:
            return select(self.ard, **where)[col].to_numpy(dtype=object)
        return self._column(col)[pos]

    def cell(self, template: str, *, rules: FormatRules = JAMA, **where: Any) -> Cell:
        """``cell(ard, template, rules=rules, **where)``, filled from the index's column arrays
        (the selected rows become a frame only for an error message)."""
        pos = self._positions(where)
        if pos is None:
            return cell(select(self.ard, **where), template, rules=rules)
        cols = {c: self._column(c)[pos] for c in _Rows._COLS if c in self.ard.columns}
        rows = _Rows(None, cols=cols, frame=lambda: self.ard.iloc[pos])
        return Cell((_fill(rows, template, rules, None),))


def _describe(ard: pd.DataFrame) -> str:
    """'TRT01P=Placebo, variable=AGE' for the key columns that are constant in ``ard``."""
    bits = []
    for col in _KEY_COLS:
        if col not in ard.columns or not len(ard):
            continue
        vals = {str(v) for v in ard[col] if not _isnull(v)}
        if len(vals) == 1:
            v = vals.pop()
            if col in ("group1", "group2"):
                lvl = {str(x) for x in ard[col + "_level"] if not _isnull(x)}
                bits.append(f"{v}={lvl.pop()}" if len(lvl) == 1 else f"{col}={v}")
            elif col.endswith("_level") and col.startswith("group"):
                continue
            else:
                bits.append(f"{col}={v}")
    return ", ".join(bits) or "(no grouping)"


class _Rows:
    """The rows of one cell's ARD, read column-wise once (``fill`` asks for each field's
    row; pandas boolean indexing per field cost most of a large table's build time)."""

    _COLS = ("stat_name", "stat", "stat_fmt", "error", "id")

    def __init__(self, ard: Optional[pd.DataFrame], cols: Optional[dict[str, np.ndarray]] = None,
                 frame: Optional[Any] = None):
        self._ard, self._frame = ard, frame       # frame: makes ``ard`` when an error message needs it
        if cols is None:
            # one conversion of the frame (a Series per column cost most of a small cell's fill)
            at = {c: i for i, c in enumerate(ard.columns)}
            values = ard.to_numpy(dtype=object)
            cols = {c: values[:, at[c]] for c in self._COLS if c in at}
        self.cols = cols
        self.names = cols["stat_name"] if "stat_name" in cols else self.ard["stat_name"].to_numpy(dtype=object)

    @property
    def ard(self) -> pd.DataFrame:
        if self._ard is None:
            self._ard = self._frame()
        return self._ard

    def has(self, name: str) -> bool:
        return bool((self.names == name).any())

    def row(self, name: str, where_txt) -> dict:
        hit = np.flatnonzero(self.names == name)
        if len(hit) == 1:
            i = hit[0]
            return {c: v[i] for c, v in self.cols.items()}
        _stat_row(self.ard, name, where_txt())        # raises the missing / ambiguous error
        raise AssertionError("unreachable")


def _stat_row(ard: pd.DataFrame, name: str, where_txt: str) -> pd.Series:
    hit = ard[ard["stat_name"] == name]
    if len(hit) == 0:
        have = ", ".join(dict.fromkeys(str(s) for s in ard["stat_name"])) or "none"
        raise MissingStatError(
            f"statistic {name!r} is not in the ARD rows for {where_txt} "
            f"(available: {have})")
    if len(hit) > 1:
        differ = [c for c in _KEY_COLS if c in hit.columns
                  and len({str(v) for v in hit[c]}) > 1]
        raise AmbiguousStatError(
            f"{len(hit)} ARD rows have stat_name {name!r} for {where_txt}; "
            f"they differ in {', '.join(differ) or 'id only'}: filter the ARD further")
    return hit.iloc[0]


def _value(row: Mapping[str, Any], ard: Any = None) -> tuple[str, Optional[str]]:
    """(display text, NE reason or None) of one placed ARD row (``ard``: its frame, or a function
    giving it, read for an error message only)."""
    err = row.get("error")
    stat = row.get("stat")
    if _isnull(stat) and not _isnull(err):
        return NE, str(err)
    sf = row.get("stat_fmt")
    if _isnull(sf):
        if _isnull(stat):
            return NE, "not estimable"
        ard = ard() if callable(ard) else ard
        where = _describe(ard[ard["stat_name"] == row.get("stat_name")]) if ard is not None else "(no grouping)"
        raise NotPlacedError(
            f"ARD row {row.get('stat_name')!r} ({where}) has no stat_fmt: "
            "place the rows with trialsupp.ard.store.place before building a table")
    if _isnull(row.get("id")):
        raise NotPlacedError(f"ARD row {row.get('stat_name')!r} has no id: place the rows first")
    return str(sf), None


def fill(ard: pd.DataFrame, template: str, *, rules: FormatRules = JAMA,
         where_txt: Optional[str] = None) -> Stat:
    """Fill ``template`` from the ``stat_fmt`` of ``ard`` rows; a :class:`Stat` with the ids."""
    return _fill(_Rows(ard), template, rules, where_txt)


def _fill(rows: _Rows, template: str, rules: FormatRules, where_txt: Optional[str]) -> Stat:
    ids: list[str] = []
    reasons: list[str] = []
    n_fields = n_ne = 0

    def where() -> str:               # only an error message needs it
        return where_txt or _describe(rows.ard)

    def one(name: str) -> str:
        r = rows.row(name, where)
        text, reason = _value(r, lambda: rows.ard)
        if not _isnull(r.get("id")):
            ids.append(str(r["id"]))
        if reason and reason not in reasons:
            reasons.append(reason)
        return text

    out = []
    pos = 0
    for m in _FIELD.finditer(template):
        out.append(template[pos:m.start()])
        pos = m.end()
        tok = m.group(0)
        if tok in ("{{", "}}"):
            out.append(tok[0])
            continue
        name = m.group(1).strip()
        n_fields += 1
        if name in PAIRS and not rows.has(name):
            lo, hi = (one(x) for x in PAIRS[name])
            if lo == NE and hi == NE:
                n_ne += 1
                out.append(NE)
            elif NE in (lo, hi):
                out.append(f"{lo} to {hi}")
            else:
                out.append(fmt_ci(lo, hi, rules))
        else:
            text = one(name)
            n_ne += text == NE
            out.append(text)
    out.append(template[pos:])
    text = "".join(out)
    if n_fields and n_ne == n_fields:
        text = NE            # "NE (NE)" -> "NE"
    return Stat(text=text, ids=tuple(dict.fromkeys(ids)), ne_reasons=tuple(reasons))


def cell(ard: pd.DataFrame, template: str, *, rules: FormatRules = JAMA, **where: Any) -> Cell:
    """A body cell: ``template`` filled from the (filtered) ARD rows.

    >>> cell(ard, "{mean} ({sd})", variable="AGE", group1_level="Placebo")
    """
    sub = select(ard, **where) if where else ard
    return Cell((fill(sub, template, rules=rules),))


def header_cell(ard: Optional[pd.DataFrame], template: str, *, rules: FormatRules = JAMA,
                plain: Mapping[str, str] | None = None) -> Cell:
    """A header: ``{name}`` from ``plain`` stays plain text, other fields are ARD stats."""
    plain = dict(plain or {})
    parts: list[Any] = []
    pos = 0
    for m in _FIELD.finditer(template):
        parts.append(template[pos:m.start()])
        pos = m.end()
        tok = m.group(0)
        if tok in ("{{", "}}"):
            parts.append(tok[0])
        elif m.group(1) in plain:
            parts.append(str(plain[m.group(1)]))
        else:
            if ard is None:
                raise MissingStatError(f"header field {tok} needs ARD rows")
            parts.append(fill(ard, tok, rules=rules))
    parts.append(template[pos:])
    merged: list[Any] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif p != "":
            merged.append(p)
    return Cell(tuple(merged))


# ---- footnote locations ---------------------------------------------------------
def at_title() -> Location:
    return Location("title")


def at_stub() -> Location:
    return Location("stub")


def at_column(key: str) -> Location:
    return Location("column", column=str(key))


def at_spanner(label: str) -> Location:
    return Location("spanner", spanner=label)


def at_row(label: str, group: Optional[str] = None) -> Location:
    return Location("row", row=label, group=group)


def at_cell(row: str, column: str, group: Optional[str] = None) -> Location:
    return Location("cell", row=row, column=str(column), group=group)


LocateArg = Union[None, str, Location, Mapping[str, Any], Sequence[Location]]


def _as_locations(locate: LocateArg) -> tuple[Location, ...]:
    if locate is None:
        return ()
    if isinstance(locate, Location):
        return (locate,)
    if isinstance(locate, str):
        if locate == "title":
            return (at_title(),)
        if locate == "stub":
            return (at_stub(),)
        raise ValueError(f"locate={locate!r}: use 'title', 'stub', at_row(...), at_column(...), "
                         "at_cell(...), at_spanner(...) or a dict with row/column/spanner")
    if isinstance(locate, Mapping):
        row, col, sp = locate.get("row"), locate.get("column"), locate.get("spanner")
        grp = locate.get("group")
        if sp is not None:
            return (at_spanner(sp),)
        if row is not None and col is not None:
            return (at_cell(row, col, grp),)
        if row is not None:
            return (at_row(row, grp),)
        if col is not None:
            return (at_column(col),)
        raise ValueError(f"locate={dict(locate)!r} names no row, column or spanner")
    return tuple(x for item in locate for x in _as_locations(item))


class Table:
    """Immutable builder of a display table from placed ARD rows.

    Parameters
    ----------
    title : table title (without the number: Quarto/the report numbers it).
    label : cross-reference label, e.g. ``"tbl-baseline"``.
    stub_header : heading of the row-label column ("Characteristic").
    landscape : typeset on a landscape page (CSR tables with many columns).
    rules : number formatting rules used to join CI limits (JAMA or CSR).

    Attributes
    ----------
    data : the frozen :class:`~trialsupp.display._table_data.TableData`.
    ard : every ARD row passed to the builder (deduplicated by id).
    ids : the ARD ids shown in the table, in reading order.
    """

    def __init__(self, title: str = "", label: Optional[str] = None, *, stub_header: str = "",
                 landscape: bool = False, font_size: Optional[float] = None,
                 stub_width: Optional[str] = None, rules: FormatRules = JAMA,
                 _data: Optional[TableData] = None):
        self._data = _data if _data is not None else TableData(
            title=title, label=label, stub_header=stub_header, landscape=landscape,
            font_size=font_size, stub_width=stub_width, rules=rules)

    # ---- basics -------------------------------------------------------------------
    @property
    def data(self) -> TableData:
        return self._data

    def _replace(self, **changes: Any) -> "Table":
        return Table(_data=dataclasses.replace(self._data, **changes))

    def _with_ard(self, ard: Optional[pd.DataFrame], **changes: Any) -> "Table":
        if ard is not None and len(ard):
            changes["ard_frames"] = self._data.ard_frames + (ard,)
        return self._replace(**changes)

    @property
    def ard(self) -> pd.DataFrame:
        frames = [f for f in self._data.ard_frames if len(f)]
        if not frames:
            return pd.DataFrame()
        out = pd.concat(frames, ignore_index=True)
        if "id" in out.columns:
            out = out[~out["id"].duplicated() | out["id"].isna()]
        return out.reset_index(drop=True)

    @property
    def ids(self) -> list[str]:
        d = self._data
        out = [i for s in d.spanners if isinstance(s.label, Cell) for i in s.label.ids]
        out += [i for c in d.columns for i in c.header.ids]
        for r in d.rows:
            for c in d.columns:
                out += list(r.cell(c.key).ids)
        return list(dict.fromkeys(out))

    def set(self, **options: Any) -> "Table":
        """Change options: title, label, stub_header, landscape, font_size, stub_width, rules."""
        allowed = {"title", "label", "stub_header", "landscape", "font_size", "stub_width", "rules"}
        bad = set(options) - allowed
        if bad:
            raise TypeError(f"unknown table option(s): {', '.join(sorted(bad))}")
        return self._replace(**options)

    # ---- columns ------------------------------------------------------------------
    def columns_from(self, ard: pd.DataFrame, by: str, *, levels: Optional[Sequence[Any]] = None,
                     labels: Optional[Mapping[Any, str]] = None, n_stat: Optional[str] = "auto",
                     header: str = "{level}\n(n = {n})", spanner: Optional[str] = None,
                     **n_where: Any) -> "Table":
        """One column per level of the grouping variable ``by`` (e.g. ``"TRT01P"``).

        The group size comes from ARD rows: first a tabulation of the arm variable
        (``variable == by``, ``variable_level`` = the level, stat ``n``), else rows
        grouped by it (``group1 == by``, ``group1_level`` = the level, stat ``N``;
        filter with ``n_where`` if several variables carry different values).
        ``n_stat="auto"`` uses n / N as just said; a stat name uses that stat for
        both; ``None`` gives headers without a size.
        ``header`` fields: ``{level}`` (label), ``{n}`` (the size).
        """
        labels = dict(labels or {})
        rules = self._data.rules
        gcols = [("group1", "group1_level"), ("group2", "group2_level")]
        if levels is None:
            seen: list[Any] = []
            for g, gl in gcols:
                for v in ard.loc[ard[g] == by, gl]:
                    if not _isnull(v) and v not in seen:
                        seen.append(v)
            if not seen and n_stat:
                seen = [v for v in dict.fromkeys(select(ard, variable=by)["variable_level"])
                        if not _isnull(v)]
            if not seen:
                raise MissingStatError(f"no ARD rows grouped by {by!r} (group1/group2) "
                                       f"or tabulating variable {by!r}")
            levels = seen
        n_rows = select(ard, **n_where) if n_where else ard
        cols = []
        for lv in levels:
            name = labels.get(lv, str(lv))
            if n_stat is None:
                hdr = header_cell(None, header.split("\n")[0].replace("{n}", ""), rules=rules,
                                  plain={"level": name})
            else:
                tab_stat, grp_stat = ("n", "N") if n_stat == "auto" else (n_stat, n_stat)
                sub = select(n_rows, variable=by, variable_level=lv, stat_name=tab_stat)
                if not len(sub):
                    sub = select(n_rows, group1=by, group1_level=lv, stat_name=grp_stat)
                    if len(sub) > 1:
                        fmts = set(sub["stat_fmt"].astype(str))
                        if len(fmts) > 1:
                            raise AmbiguousStatError(
                                f"{len(sub)} ARD rows give {grp_stat!r} for {by}={lv} with different "
                                f"values ({', '.join(sorted(fmts))}): pass a filter, e.g. "
                                "columns_from(ard, by, variable=...)")
                        sub = sub.iloc[:1]
                if not len(sub):
                    raise MissingStatError(
                        f"group size is not in the ARD for {by}={lv}: expected a row with "
                        f"variable={by!r}, variable_level={lv!r}, stat_name={tab_stat!r} or "
                        f"group1={by!r}, group1_level={lv!r}, stat_name={grp_stat!r}")
                hdr = header_cell(sub, header.replace("{n}", "{" + str(sub["stat_name"].iloc[0]) + "}"),
                                  rules=rules,
                                  plain={"level": name})
            cols.append(Column(key=str(lv), header=hdr, by=by, level=lv))
        t = self._with_ard(ard, columns=self._data.columns + tuple(cols), by=self._data.by or by)
        if spanner:
            t = t.spanner(spanner, [c.key for c in cols])
        return t

    def add_column(self, key: str, header: Union[str, Cell], *, where: Mapping[str, Any] | None = None,
                   by: Optional[str] = None, level: Any = None, spanner: Optional[str] = None,
                   align: str = "center") -> "Table":
        """Add a column. ``where`` filters ARD rows for :meth:`add_stat_row` cells of this column
        (e.g. a total column: ``where={"group1": None}``)."""
        if str(key) in self._data.column_keys():
            raise ValueError(f"duplicate column key {key!r}")
        hdr = header if isinstance(header, Cell) else Cell.plain(header)
        col = Column(key=str(key), header=hdr, by=by, level=level,
                     where=tuple((where or {}).items()), align=align)
        t = self._replace(columns=self._data.columns + (col,))
        return t.spanner(spanner, [str(key)]) if spanner else t

    def spanner(self, label: Union[str, Cell], columns: Sequence[str]) -> "Table":
        """A spanning heading over adjacent ``columns`` (keys); a :func:`header_cell` label binds
        its statistics (e.g. an arm's N)."""
        keys = [str(c) for c in columns]
        allk = list(self._data.column_keys())
        missing = [k for k in keys if k not in allk]
        if missing:
            raise KeyError(f"spanner {label!r}: unknown column(s) {missing}")
        pos = sorted(allk.index(k) for k in keys)
        if pos != list(range(pos[0], pos[0] + len(pos))):
            raise ValueError(f"spanner {label!r}: columns must be adjacent")
        return self._replace(spanners=self._data.spanners + (Spanner(label, tuple(keys)),))

    # ---- rows ---------------------------------------------------------------------
    def _current_group(self) -> Optional[str]:
        for r in reversed(self._data.rows):
            if r.kind == "group":
                return r.label
        return None

    def add_row(self, label: str, cells: Union[Mapping[str, Union[Cell, str]],
                                               Sequence[Union[Cell, str]], None] = None, *,
                indent: int = 0, ard: Optional[pd.DataFrame] = None) -> "Table":
        """Add a row from ready cells: a mapping column key -> Cell/str, or a list in column order."""
        keys = self._data.column_keys()
        if cells is None:
            pairs: list[tuple[str, Any]] = []
        elif isinstance(cells, Mapping):
            unknown = [k for k in cells if str(k) not in keys]
            if unknown:
                raise KeyError(f"row {label!r}: unknown column(s) {unknown}; columns are {list(keys)}")
            pairs = [(str(k), v) for k, v in cells.items()]
        else:
            cells = list(cells)
            if len(cells) > len(keys):
                raise ValueError(f"row {label!r} has {len(cells)} cells for {len(keys)} columns")
            pairs = list(zip(keys, cells))
        pairs = [(k, v if isinstance(v, Cell) else Cell.plain(str(v))) for k, v in pairs]
        row = Row(label=label, cells=tuple(pairs), indent=indent, kind="data",
                  group=self._current_group())
        return self._with_ard(ard, rows=self._data.rows + (row,))

    def add_heading(self, label: str, *, indent: int = 0) -> "Table":
        """A stub-only row (e.g. "Sex, No. (%)") above indented level rows."""
        row = Row(label=label, indent=indent, kind="heading", group=self._current_group())
        return self._replace(rows=self._data.rows + (row,))

    def add_group(self, label: str) -> "Table":
        """A full-width row-group heading (e.g. "Faster progression")."""
        row = Row(label=label, kind="group", group=label)
        return self._replace(rows=self._data.rows + (row,))

    def _column_rows(self, ard: pd.DataFrame, col: Column) -> pd.DataFrame:
        sub = ard
        if col.by is not None:
            g1 = (sub["group1"] == col.by) & sub["group1_level"].map(lambda v: _same(v, col.level))
            g2 = (sub["group2"] == col.by) & sub["group2_level"].map(lambda v: _same(v, col.level))
            sub = sub[g1 | g2]
        if col.where:
            sub = select(sub, **dict(col.where))
        return sub

    def add_stat_row(self, label: str, ard: pd.DataFrame, template: str, *, indent: int = 0,
                     columns: Optional[Sequence[str]] = None, **where: Any) -> "Table":
        """A row whose cell in each group column is ``template`` filled from that group's rows.

        ``where`` filters ``ard`` (``variable="AGE"``, ``variable_level="M"`` ...).
        Every missing statistic in every column is reported in one error.
        """
        sub = select(ard, **where) if where else ard
        cells: dict[str, Cell] = {}
        problems: list[str] = []
        for col in self._data.columns:
            if columns is not None and col.key not in columns:
                continue
            if col.by is None and not col.where:
                continue        # a column not tied to ARD groups (fill it with add_row)
            rows = self._column_rows(sub, col)
            try:
                cells[col.key] = Cell((fill(rows, template, rules=self._data.rules,
                                            where_txt=_where_txt(where, col)),))
            except (MissingStatError, AmbiguousStatError) as e:
                problems.append(str(e))
        if problems:
            raise MissingStatError(f"row {label!r}: " + "; ".join(problems))
        return self.add_row(label, cells, indent=indent, ard=sub)

    def add_continuous(self, ard: pd.DataFrame, variable: str, label: str,
                       stats: Union[str, Mapping[str, str]] = "{mean} ({sd})", *,
                       indent: int = 0, **where: Any) -> "Table":
        """A continuous variable: one row (``stats`` a template; put the statistic in
        ``label``: "Age, mean (SD), y") or a heading plus one indented row per
        ``{row label: template}``."""
        if isinstance(stats, str):
            return self.add_stat_row(label, ard, stats, indent=indent, variable=variable, **where)
        t = self.add_heading(label, indent=indent)
        for lab, tpl in stats.items():
            t = t.add_stat_row(lab, ard, tpl, indent=indent + 1, variable=variable, **where)
        return t

    def add_categorical(self, ard: pd.DataFrame, variable: str, label: str, *,
                        levels: Union[Sequence[Any], Mapping[Any, str], None] = None,
                        template: str = "{n} ({p})", indent: int = 0, **where: Any) -> "Table":
        """A heading ("Race, No. (%)") plus one indented row per ``variable_level``.

        ``levels``: order (list) or order and display labels (dict); default: ARD order.
        """
        sub = select(ard, variable=variable, **where)
        if levels is None:
            levels = [v for v in dict.fromkeys(sub["variable_level"]) if not _isnull(v)]
            if not levels:
                raise MissingStatError(f"no ARD rows with variable={variable!r}")
        lab = dict(levels) if isinstance(levels, Mapping) else {v: str(v) for v in levels}
        t = self.add_heading(label, indent=indent)
        for lv, text in lab.items():
            t = t.add_stat_row(text, sub, template, indent=indent + 1, variable_level=lv)
        return t

    def add_hierarchical(self, ard: pd.DataFrame, outer: str, inner: str, *,
                         template: str = "{n} ({p})", sort: str = "alpha",
                         sort_column: Optional[str] = None, overall: Optional[tuple[str, Mapping[str, Any]]] = None,
                         outer_labels: Optional[Mapping[Any, str]] = None) -> "Table":
        """Nested rows such as AEs by system organ class (``outer``) and preferred term (``inner``).

        ARD convention (cards ``ard_stack_hierarchical``): outer rows have
        ``variable == outer`` and ``variable_level`` = the SOC; inner rows have
        ``variable == inner``, ``variable_level`` = the PT and ``group2 == outer``,
        ``group2_level`` = its SOC; the arm is ``group1``/``group1_level``.
        ``overall=("Any adverse event", {"variable": "ANY_AE"})`` adds a first row.
        ``sort``: "alpha" or "descending" (by the raw ``n`` in ``sort_column``,
        default the first column; ties alphabetical). Ordering only: nothing is computed.
        """
        if sort not in ("alpha", "descending"):
            raise ValueError("sort must be 'alpha' or 'descending'")
        outer_labels = dict(outer_labels or {})
        t = self
        if overall is not None:
            t = t.add_stat_row(overall[0], ard, template, **dict(overall[1]))
        sort_col = next((c for c in self._data.columns if sort_column is None or c.key == str(sort_column)),
                        None)

        def order(sub: pd.DataFrame) -> list[Any]:
            lv = [v for v in dict.fromkeys(sub["variable_level"]) if not _isnull(v)]
            if sort == "alpha" or sort_col is None:
                return sorted(lv, key=lambda v: str(v).casefold())

            def key(v: Any) -> tuple:
                rows = self._column_rows(select(sub, variable_level=v, stat_name="n"), sort_col)
                n = rows["stat"].iloc[0] if len(rows) and not _isnull(rows["stat"].iloc[0]) else -1
                return (-float(n), str(v).casefold())
            return sorted(lv, key=key)

        outer_rows = select(ard, variable=outer)
        if not len(outer_rows):
            raise MissingStatError(f"no ARD rows with variable={outer!r} (outer level)")
        for soc in order(outer_rows):
            t = t.add_stat_row(outer_labels.get(soc, str(soc)), outer_rows, template, variable_level=soc)
            inner_rows = select(ard, variable=inner, group2=outer, group2_level=soc)
            for pt in order(inner_rows):
                t = t.add_stat_row(str(pt), inner_rows, template, indent=1, variable_level=pt)
        return t

    @classmethod
    def from_ard(cls, ard: pd.DataFrame, rows: Union[str, Mapping[str, Mapping[str, Any]]],
                 columns: Union[str, Mapping[str, str]], template: Optional[str] = None, *,
                 row_labels: Optional[Mapping[Any, str]] = None, column_labels: Optional[Mapping[Any, str]] = None,
                 title: str = "", label: Optional[str] = None, stub_header: str = "",
                 rules: FormatRules = JAMA, **table_options: Any) -> "Table":
        """Pivot ARD rows into a table.

        rows : an ARD column (one row per distinct value, e.g. ``"variable"`` for the
            terms of a model) or ``{row label: {column: value, ...}}`` filters.
        columns : an ARD column (one column per distinct value, e.g. ``"group1_level"``,
            filled with ``template``) or ``{header: template}`` (statistic columns:
            ``{"HR (95% CI)": "{estimate} ({ci})", "P value": "{p.value}"}``).
        """
        t = cls(title, label, stub_header=stub_header, rules=rules, **table_options)
        row_labels = dict(row_labels or {})
        column_labels = dict(column_labels or {})
        if isinstance(rows, str):
            vals = [v for v in dict.fromkeys(ard[rows]) if not _isnull(v)]
            row_specs = [(row_labels.get(v, str(v)), {rows: v}) for v in vals]
        else:
            row_specs = [(k, dict(v)) for k, v in rows.items()]
        if isinstance(columns, str):
            if template is None:
                raise TypeError("from_ard(columns=<ARD column>) needs a template")
            vals = [v for v in dict.fromkeys(ard[columns]) if not _isnull(v)]
            col_specs = [(str(v), column_labels.get(v, str(v)), {columns: v}, template) for v in vals]
        else:
            col_specs = [(h, h, {}, tpl) for h, tpl in columns.items()]
        for key, head, _, _ in col_specs:
            t = t.add_column(key, head)
        problems = []
        for rlab, rwhere in row_specs:
            sub = select(ard, **rwhere)
            cells = {}
            for key, _, cwhere, tpl in col_specs:
                csub = select(sub, **cwhere) if cwhere else sub
                try:
                    cells[key] = Cell((fill(csub, tpl, rules=rules,
                                            where_txt=", ".join(f"{k}={v}" for k, v in {**rwhere, **cwhere}.items())),))
                except (MissingStatError, AmbiguousStatError) as e:
                    problems.append(str(e))
            if not problems:
                t = t.add_row(rlab, cells, ard=sub)
        if problems:
            raise MissingStatError("; ".join(problems))
        return t

    # ---- annotations --------------------------------------------------------------
    def footnote(self, text: str, locate: LocateArg = None, *, ard: Optional[pd.DataFrame] = None,
                 **where: Any) -> "Table":
        """A footnote. ``locate=None``: general note (no letter); else a lettered note
        marked at: ``"title"``, ``"stub"``, ``at_row(label)``, ``at_column(key)``,
        ``at_cell(row, column)``, ``at_spanner(label)``, a dict with
        ``row``/``column``/``spanner`` keys, or a list of these.

        With ``ard``, ``text`` is a template filled from those ARD rows (filtered by
        ``where``) like a body cell, so numbers in the note are bound to the ARD:
        ``.footnote("Terms in at least {value}% of any group.", ard=placed, variable="threshold")``."""
        if ard is not None:         # each field its own bound span; the words around them plain
            text = header_cell(select(ard, **where) if where else ard, text, rules=self._data.rules)
        locs = _as_locations(locate)
        d = self._data
        for loc in locs:
            if loc.kind in ("row", "cell") and not d.row_indices(loc):
                raise KeyError(f"footnote location: no row labelled {loc.row!r}"
                               + (f" in group {loc.group!r}" if loc.group else ""))
            if loc.kind in ("column", "cell") and loc.column not in d.column_keys():
                raise KeyError(f"footnote location: no column {loc.column!r}; columns are {list(d.column_keys())}")
            if loc.kind == "spanner" and not any(s.label == loc.spanner for s in d.spanners):
                raise KeyError(f"footnote location: no spanner {loc.spanner!r}")
        return self._replace(footnotes=d.footnotes + (Footnote(text, locs),))

    def abbreviations(self, mapping: Mapping[str, str]) -> "Table":
        """Abbreviations used in the table: ``{"SD": "standard deviation"}`` (listed alphabetically)."""
        have = dict(self._data.abbreviations)
        have.update(mapping)
        return self._replace(abbreviations=tuple(have.items()))

    def source(self, text: Optional[str]) -> "Table":
        return self._replace(source=text)

    # ---- conditions ---------------------------------------------------------------
    def conditions(self) -> pd.DataFrame:
        """ARD rows shown in the table that carry a warning or an error (print_ard_conditions)."""
        a = self.ard
        if not len(a):
            return a
        shown = a[a["id"].isin(self.ids)] if "id" in a.columns else a
        mask = shown["warning"].notna() | shown["error"].notna()
        return shown.loc[mask, [c for c in ("id", "stat_name", "warning", "error") if c in shown.columns]]

    # ---- output -------------------------------------------------------------------
    def resolved(self):
        return resolve(self._data)

    def to_html(self, *, include_caption: bool = False, number: Optional[str] = None) -> str:
        from ._render_html import render_html
        return render_html(self._data, include_caption=include_caption, number=number)

    def to_typst(self, *, include_title: bool = False, number: Optional[str] = None,
                 page: bool = False) -> str:
        from ._render_typst import render_typst
        return render_typst(self._data, include_title=include_title, number=number, page=page)

    def to_rtf(self, path=None, **options: Any) -> str:
        from ._render_rtf import render_rtf
        text = render_rtf(self._data, **options)
        if path is not None:
            from pathlib import Path
            Path(path).write_bytes(text.encode("ascii"))
        return text

    def as_markdown(self) -> str:
        from .markdown import as_markdown_output
        return as_markdown_output(self)

    def _repr_markdown_(self) -> str:
        return self.as_markdown()

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        d = self._data
        return (f"<Table {d.label or ''} {d.title!r}: {len(d.rows)} rows x {len(d.columns)} columns, "
                f"{len(self.ids)} ARD ids>")

    def to_text(self) -> str:
        """A plain-text preview (for logs and tests)."""
        d = self._data
        r = resolve(d)
        lines = [d.title] if d.title else []
        lines.append(" | ".join([d.stub_header] + [c.header.text.replace("\n", " ") for c in d.columns]))
        for r_ in d.rows:
            lines.append(" | ".join(["  " * r_.indent + r_.label] + [r_.cell(c.key).text for c in d.columns]))
        for l, txt in r.notes:
            lines.append(f"{l} {txt}")
        return "\n".join(lines)


def _where_txt(where: Mapping[str, Any], col: Column) -> str:
    bits = [f"{col.by}={col.level}"] if col.by else []
    bits += [f"{k}={v}" for k, v in col.where]
    bits += [f"{k}={v}" for k, v in where.items()]
    return ", ".join(bits) or "(all rows)"
