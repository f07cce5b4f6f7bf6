"""The ARD (analysis results data) schema: one row per statistic.

Column names follow cards (R) and the CDISC Analysis Results Standard where they
fit. Statistics functions fill the *result* columns; the results store
(``trialsupp.ard.store``) fills the *placement* and *provenance* columns when a
notebook records rows for a display element.

Result columns (filled by ``trialsupp.stats``):
    group1, group1_level, group2, group2_level   grouping (e.g. TRT01P / "Placebo")
    variable, variable_level                     analysed variable and category
    context                                      kind of analysis ("summary", "tabulate", "km", "cox", ...)
    stat_name                                    broom/cards vocabulary: n, N, p, mean, sd, median, q1, q3,
                                                 min, max, estimate, std.error, statistic, df, conf.low,
                                                 conf.high, p.value, method, ...
    stat_label                                   human label ("Mean", "95% CI lower limit")
    stat                                         raw value, full precision (int, float, str, bool or None)
    fmt                                          format spec for ``trialsupp.ard.fmt.format_stat``
    method                                       method description ("Kaplan-Meier, log-log CI")
    code                                         "module:function@<git blob sha1 of the source file>"
    warning, error                               captured conditions; a row with ``error`` is not estimable

Placement/provenance columns (filled by the store):
    id, output_id, analysis_id, population, stat_fmt, notebook, cell_id, inputs, params
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

RESULT_COLUMNS = [
    "group1", "group1_level", "group2", "group2_level",
    "variable", "variable_level", "context",
    "stat_name", "stat_label", "stat", "fmt", "method", "code",
    "warning", "error",
]
PLACEMENT_COLUMNS = [
    "id", "output_id", "analysis_id", "population", "stat_fmt",
    "notebook", "cell_id", "inputs", "params",
]
ARD_COLUMNS = ["id", "output_id", "analysis_id", "population",
               "group1", "group1_level", "group2", "group2_level",
               "variable", "variable_level", "context",
               "stat_name", "stat_label", "stat", "stat_fmt", "fmt", "method", "code",
               "notebook", "cell_id", "inputs", "params", "warning", "error"]

STAT_LABELS = {
    "n": "n", "N": "N", "N_obs": "N observed", "p": "%", "mean": "Mean", "sd": "SD",
    "median": "Median", "q1": "Q1", "q3": "Q3", "min": "Min", "max": "Max",
    "estimate": "Estimate", "std.error": "SE", "statistic": "Statistic",
    "df": "df", "df.num": "Numerator df", "df.den": "Denominator df",
    "conf.low": "95% CI lower limit", "conf.high": "95% CI upper limit",
    "p.value": "P value", "method": "Method", "n_event": "Events",
    "n_censor": "Censored", "n_risk": "At risk", "geomean": "Geometric mean",
    "sigma": "Residual SD",
}


class ARDError(ValueError):
    """An ARD that does not follow the schema."""


def _clean(value: Any) -> Any:
    """Make a stat JSON-serialisable; NaN/inf become None (never a silent NaN)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> python
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise ARDError(f"stat value of type {type(value).__name__} is not JSON-serialisable: {value!r}")


def ard_records(stats: Mapping[str, Any] | Iterable[tuple[str, Any]], *,
                variable: str | None = None, variable_level: Any = None,
                group1: str | None = None, group1_level: Any = None,
                group2: str | None = None, group2_level: Any = None,
                context: str = "", method: str = "", code: str = "",
                fmt: Mapping[str, str] | None = None,
                labels: Mapping[str, str] | None = None,
                warning: str | None = None, error: str | None = None,
                errors: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The rows of :func:`ard_rows` as plain dicts (build many cells, then one frame with
    :func:`ard_frame`). ``errors`` gives a reason per stat_name (overrides ``error``)."""
    items = list(stats.items()) if isinstance(stats, Mapping) else list(stats)
    fmt = fmt or {}
    labels = labels or {}
    errors = errors or {}
    g1, g2, vl = _clean(group1_level), _clean(group2_level), _clean(variable_level)
    rows = []
    for name, value in items:
        raw = value
        value = _clean(value)
        row_error = errors.get(name, error)
        if value is None and row_error is None and raw is not None:
            row_error = "not estimable (non-finite result)"
        rows.append({
            "group1": group1, "group1_level": g1,
            "group2": group2, "group2_level": g2,
            "variable": variable, "variable_level": vl,
            "context": context, "stat_name": name,
            "stat_label": labels.get(name, STAT_LABELS.get(name, name)),
            "stat": value, "fmt": fmt.get(name, default_fmt(name, value)),
            "method": method, "code": code, "warning": warning, "error": row_error,
        })
    return rows


_PLAIN_STAT = (str, int, float, np.integer, np.floating)   # missing only as None or NaN


def _objects(values: list) -> np.ndarray:
    """A 1-D object array holding ``values`` as they are (a list or tuple value stays one element)."""
    return np.fromiter(values, dtype=object, count=len(values))


_NUMBERS = frozenset({int, float, type(None)})
_INT64 = 2 ** 63


def _float_column(vals: list, types: set) -> bool:
    """Numbers and None only, ints within int64: what pandas infers as a float64 column."""
    return types <= _NUMBERS and all(-_INT64 <= v < _INT64 for v in vals if type(v) is int)


def ard_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One ARD frame from :func:`ard_records` dicts (``stat`` kept as objects: ints stay ints)."""
    cols = {c: [r[c] for r in records] for c in RESULT_COLUMNS}
    if (records and all(v is None or type(v) is str for c, vals in cols.items() if c != "stat" for v in vals)
            and all(v is None or isinstance(v, _PLAIN_STAT) for v in cols["stat"])):
        # key and text columns only (the usual case): one object array, filled as pandas would
        # leave it (a frame from records, inferred then cast, cost ~1 ms per tabulation)
        values = np.empty((len(records), len(RESULT_COLUMNS)), dtype=object)
        for j, c in enumerate(RESULT_COLUMNS):
            values[:, j] = _objects([None if v != v else v for v in cols[c]] if c == "stat" else cols[c])
        return pd.DataFrame(values, columns=RESULT_COLUMNS)
    frame = pd.DataFrame(records, columns=RESULT_COLUMNS).astype(object)
    frame["stat"] = pd.Series(cols["stat"], dtype=object, index=frame.index)
    return _object_stat(frame)


def ard_rows(stats: Mapping[str, Any] | Iterable[tuple[str, Any]], **kw: Any) -> pd.DataFrame:
    """Build ARD rows for one cell of an analysis: one row per (stat_name, stat).

    Keywords: ``variable``, ``variable_level``, ``group1``/``group1_level``,
    ``group2``/``group2_level``, ``context``, ``method``, ``code``, ``fmt`` and ``labels``
    (per stat_name), ``warning``, ``error``. A non-finite stat becomes ``None``; if no
    ``error`` was given, the row gets ``error = "not estimable"`` so that the display
    shows NE with a reason.
    """
    records = ard_records(stats, **kw)
    if records and _plain(records):      # the frame pandas would infer, built as one object array
        return cells_frame([records])
    return _object_stat(pd.DataFrame(records, columns=RESULT_COLUMNS))


def _plain(records: list[dict[str, Any]]) -> bool:
    """Key and text values str or None, stats all numbers (int64 range) or None, or all str: the
    records whose frame ``cells_frame`` builds as pandas infers it."""
    if not all(v is None or type(v) is str for r in records for c, v in r.items() if c != "stat"):
        return False
    stats = [r["stat"] for r in records]
    types = set(map(type, stats))
    return _float_column(stats, types) or types == {str}


def cells_frame(cells: Iterable[list[dict[str, Any]]]) -> pd.DataFrame:
    """``bind_ard(*(ard_rows(...) for each cell))`` built as one frame: the ``ard_records`` of
    many cells. Hand-optimised (a frame per cell cost ~1 ms, thousands per lab table) and
    byte-compatible: each cell's ``stat`` gets the dtype pandas infers for that cell alone
    (ints of a cell that also holds floats or None become floats, as in ``ard_rows``)."""
    records, stats = [], []
    for cell in cells:
        if not cell:
            continue
        records += cell
        vals = [r["stat"] for r in cell]
        types = set(map(type, vals))
        if len(types) < 2:
            inferred = vals
        elif _float_column(vals, types):
            inferred = [v if v is None else float(v) for v in vals]   # what pandas infers: float64
        else:
            inferred = pd.Series(vals).astype(object).tolist()
        stats += [None if isinstance(v, float) and v != v else v for v in inferred]
    if not records:
        return empty_ard()
    values = np.empty((len(records), len(RESULT_COLUMNS)), dtype=object)   # one block, objects as given
    for j, c in enumerate(RESULT_COLUMNS):
        values[:, j] = _objects(stats if c == "stat" else [r[c] for r in records])
    return pd.DataFrame(values, columns=RESULT_COLUMNS)


def _object_stat(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep ``stat`` an object column so None never turns into NaN (mixed types allowed)."""
    col = frame["stat"]
    if col.dtype == object:
        values = col.to_numpy()
        if all(v is None for v in values[pd.isna(values)]):
            return frame       # no NaN to turn into None (most frames: skips rebuilding the column)
    stat = col.astype(object)
    frame["stat"] = stat.where(stat.notna(), None)
    return frame


def default_fmt(stat_name: str, value: Any) -> str:
    """Type-based default format spec (see trialsupp.ard.fmt for the grammar)."""
    if stat_name in ("n", "N", "N_obs", "n_event", "n_censor", "n_risk"):
        return "int"
    if stat_name == "p":
        return "pct"
    if stat_name == "p.value":
        return "pvalue"
    if isinstance(value, str) or isinstance(value, bool):
        return "str"
    if stat_name in ("df", "df.num", "df.den"):
        return "d1"
    return "d2"


def empty_ard() -> pd.DataFrame:
    return pd.DataFrame(columns=RESULT_COLUMNS)


def bind_ard(*frames: pd.DataFrame) -> pd.DataFrame:
    """Stack ARD frames (empty ones allowed), keeping the schema's column order."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty_ard()
    cols = ARD_COLUMNS if all(c in frames[0].columns for c in PLACEMENT_COLUMNS) else RESULT_COLUMNS
    # object columns throughout: ARD values are mixed-type, and pandas must not guess dtypes
    frames = [f if list(f.columns) == cols and (f.dtypes == object).all()    # already so: concat copies
              else f.reindex(columns=cols).astype(object) for f in frames]
    return _object_stat(pd.concat(frames, ignore_index=True))


def check_ard(ard: pd.DataFrame, *, placed: bool = False) -> None:
    """Raise ARDError listing every schema problem at once (cards' check_ard_structure)."""
    problems = []
    want = ARD_COLUMNS if placed else RESULT_COLUMNS
    missing = [c for c in want if c not in ard.columns]
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    else:
        present = [c for c in ard.columns if c in want]
        if present != want:
            problems.append("columns are not in schema order")
        if ard["stat_name"].isna().any():
            problems.append(f"rows {list(ard.index[ard['stat_name'].isna()][:5])} have no stat_name")
        bad = [i for i, v in ard["stat"].items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            problems.append(f"rows {bad[:5]} hold a non-finite stat (use None plus an error reason)")
        no_reason = ard.index[ard["stat"].isna() & ard["error"].isna()]
        if len(no_reason):
            problems.append(f"rows {list(no_reason[:5])} have a missing stat but no error reason")
        if placed:
            dup = ard["id"][ard["id"].duplicated()]
            if len(dup):
                problems.append(f"duplicate ids: {', '.join(map(str, dup.unique()[:5]))}")
    if problems:
        raise ARDError("ARD does not follow the schema: " + "; ".join(problems))


def get_stat(ard: pd.DataFrame, stat_name: str, **keys: Any) -> Any:
    """The single stat matching ``stat_name`` and column=value keys (error if not exactly one)."""
    mask = ard["stat_name"] == stat_name
    for col, val in keys.items():
        mask &= ard[col] == val
    hit = ard[mask]
    if len(hit) != 1:
        raise ARDError(f"expected one ARD row for stat_name={stat_name!r} {keys}, found {len(hit)}")
    return hit["stat"].iloc[0]
