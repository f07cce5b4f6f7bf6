"""CDISC Dataset-JSON 1.1: read and write ADaM datasets.

Written by hand (a few dozen lines over the standard library's ``json``) because the
Python packages for Dataset-JSON are Arrow-/pydantic-based wrappers whose output is not
byte-deterministic; ours is: same data and ``created`` time -> same bytes.

Types (``dataType`` / ``targetDataType``):
  text     -> "string" (``length`` = longest value in UTF-8 bytes)
  integer  -> "integer"
  float    -> "double" (JSON numbers, shortest repr that round-trips)
  date     -> "date" with ISO 8601 values and ``targetDataType: "integer"`` (a numeric
              SAS date in XPT), ``displayFormat: "DATE9."``
Missing values are ``null``. Variable labels, the dataset label and key variables
(``keySequence``) are kept; reading gives back the same frame, dtypes and ``attrs``.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

DATASET_JSON_VERSION = "1.1.0"
_KIND_TO_TYPE = {"text": "string", "integer": "integer", "float": "double", "date": "date"}


def _iso(ts: _dt.datetime) -> str:
    return ts.replace(microsecond=0).isoformat()


def _value(v: Any, kind: str) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if kind == "date":
        if isinstance(v, (np.datetime64,)):
            v = pd.Timestamp(v)
        return v.date().isoformat() if isinstance(v, (pd.Timestamp, _dt.datetime)) else str(v)
    if kind == "integer":
        return int(v)
    if kind == "float":
        return float(v)
    if hasattr(v, "item"):
        v = v.item()
    return v if isinstance(v, str) else str(v)


def dataset_json(df: pd.DataFrame, name: str, *, types: Mapping[str, str] | None = None,
                 created: _dt.datetime, study: str | None = None,
                 source_version: str | None = None) -> dict:
    """The Dataset-JSON 1.1 document of ``df`` (``created``: the file's creation time,
    fixed by the caller so that the bytes are reproducible)."""
    from trialsupp.data.write import _labels, _plain, _types
    kinds = _types(df, types)
    labels = _labels(df)
    keys = list(df.attrs.get("keys", []))
    plain = _plain(df)
    name = name.upper()
    columns = []
    for c in df.columns:
        col = {"itemOID": f"IT.{name}.{c}", "name": c, "label": labels.get(c, "") or c,
               "dataType": _KIND_TO_TYPE[kinds[c]]}
        if kinds[c] == "text":
            vals = [v for v in plain[c].tolist() if isinstance(v, str)]
            col["length"] = max([len(v.encode("utf-8")) for v in vals] + [1])
        elif kinds[c] == "date":
            col["targetDataType"] = "integer"
            col["displayFormat"] = "DATE9."
        if c in keys:
            col["keySequence"] = keys.index(c) + 1
        columns.append(col)
    cols = [(c, kinds[c]) for c in df.columns]
    series = {c: plain[c].tolist() for c in df.columns}
    rows = [[_value(series[c][i], k) for c, k in cols] for i in range(len(df))]
    doc = {"datasetJSONCreationDateTime": _iso(created), "datasetJSONVersion": DATASET_JSON_VERSION,
           "fileOID": f"{(study or 'study').upper()}.{name}", "originator": "trialsupp",
           "sourceSystem": {"name": "trialsupp", "version": source_version or _version()}}
    if study:
        doc["studyOID"] = study.upper()
    doc.update({"itemGroupOID": f"IG.{name}", "isReferenceData": False, "records": len(rows),
                "name": name, "label": df.attrs.get("label", "") or name, "columns": columns, "rows": rows})
    return doc


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("trialsupp")
    except PackageNotFoundError:
        return "0"


def dumps(doc: dict) -> str:
    """Compact rows, one per line: diffable and byte-deterministic."""
    head = {k: v for k, v in doc.items() if k != "rows"}
    text = json.dumps(head, ensure_ascii=False, indent=1, allow_nan=False)
    rows = ",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                      for r in doc.get("rows", []))
    return text[:-2] + ',\n "rows": [\n' + rows + "\n ]\n}\n"


def write_datasetjson(df: pd.DataFrame, path: str | Path, name: str | None = None, *,
                      types: Mapping[str, str] | None = None,
                      created: _dt.datetime = _dt.datetime(2000, 1, 1), study: str | None = None) -> Path:
    from trialsupp.data.write import _atomic_write
    path = Path(path)
    text = dumps(dataset_json(df, name or path.stem, types=types, created=created, study=study))
    _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path


def read_datasetjson(path: str | Path) -> pd.DataFrame:
    """Read a Dataset-JSON 1.1 file (any conforming writer) into a frame with labels in
    ``attrs["labels"]``, the dataset label in ``attrs["dataset_label"]``/``attrs["label"]``
    and the variable kinds in ``attrs["types"]``."""
    from trialsupp.data.io import DataError
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path.name}: not a Dataset-JSON file ({exc})") from None
    if not isinstance(doc, dict) or "columns" not in doc:
        raise DataError(f"{path.name}: not a Dataset-JSON file (no 'columns')")
    version = str(doc.get("datasetJSONVersion", ""))
    if not version.startswith("1.1"):
        raise DataError(f"{path.name}: Dataset-JSON version {version or 'missing'}; expected 1.1")
    columns = doc["columns"]
    names = [c["name"] for c in columns]
    rows = doc.get("rows") or []
    bad = [i for i, r in enumerate(rows) if not isinstance(r, list) or len(r) != len(names)]
    if bad:
        raise DataError(f"{path.name}: rows {bad[:5]} do not have {len(names)} values (one per column)")
    if "records" in doc and doc["records"] != len(rows):
        raise DataError(f"{path.name}: 'records' is {doc['records']} but the file holds {len(rows)} rows")
    data, kinds = {}, {}
    for j, col in enumerate(columns):
        values = [r[j] for r in rows]
        data[col["name"]], kinds[col["name"]] = _column(values, col, path.name)
    df = pd.DataFrame(data, columns=names)
    from trialsupp.data.io import Labels     # read-only label dict, not deep-copied by pandas
    df.attrs["labels"] = Labels((c["name"], c.get("label", "")) for c in columns)
    df.attrs["dataset_label"] = df.attrs["label"] = doc.get("label", "")
    df.attrs["types"] = Labels(kinds)
    keys = sorted((c["keySequence"], c["name"]) for c in columns if c.get("keySequence"))
    if keys:
        df.attrs["keys"] = [n for _k, n in keys]
    return df


def _column(values: list, col: Mapping, fname: str) -> tuple[pd.Series | np.ndarray, str]:
    from trialsupp.data.io import DataError
    dtype, name = col.get("dataType"), col.get("name")
    try:
        if dtype in ("date", "datetime"):
            unit = "D" if dtype == "date" else "s"
            if all(v is None or isinstance(v, str) for v in values):
                out = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601").astype("datetime64[s]")
            else:   # numeric SAS dates/datetimes (days or seconds since 1960-01-01)
                base = np.datetime64("1960-01-01", unit)
                out = pd.Series([base + np.timedelta64(int(v), unit) if v is not None else np.datetime64("NaT")
                                 for v in values]).astype("datetime64[s]")
            return out, "date"
        if dtype == "integer":
            if any(v is None for v in values):
                return pd.array(values, dtype="Int64"), "integer"
            return np.array(values, dtype=np.int64), "integer"
        if dtype in ("float", "double", "decimal"):
            return np.array([np.nan if v is None else float(v) for v in values], dtype=float), "float"
        if dtype == "boolean":
            return pd.array(values, dtype="boolean"), "text"
        return np.array(values, dtype=object), "text"
    except (TypeError, ValueError) as exc:
        bad = next((i for i, v in enumerate(values) if v is not None and not _fits(v, dtype)), None)
        raise DataError(f"{fname}: variable {name} ({dtype}): value {values[bad]!r} in row {bad} "
                        f"is not a {dtype}" if bad is not None else f"{fname}: variable {name}: {exc}") from None


def _fits(v: Any, dtype: str) -> bool:
    if dtype == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if dtype in ("float", "double", "decimal"):
        return isinstance(v, (int, float, str)) and not isinstance(v, bool)
    return True
