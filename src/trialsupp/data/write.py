"""Deterministic writers for ADaM datasets: Parquet, SAS XPT (v5) and define-style JSON.

Same data -> byte-identical files, whatever the run, process or
``PYTHONHASHSEED``:

* **Parquet** (pyarrow): an explicit schema built from the variable types
  (text -> string, integer -> int64, float -> float64, date -> date32); no
  pandas metadata (no index, no ``pandas`` key); table metadata is the dataset
  label and name, field metadata the variable label, all in a fixed order;
  no statistics-dependent options change between runs.
* **XPT** (pyreadstat, transport version 5): dates as SAS dates with format
  ``DATE9.``. ReadStat stamps the current time into the library and member
  headers (``ddMMMyy:hh:mm:ss``); :func:`write_xpt` rewrites every such stamp in
  the header records (before the ``OBS`` header) to a fixed ``timestamp``
  (the study config's ``simulation.xpt_timestamp``), so the bytes do not depend
  on the clock.
* **define.json**: datasets, variables (label, type, length), codelists, with
  keys in a fixed order.

Every file is written to a temporary file in the target folder and moved into
place with ``os.replace``.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SAS_EPOCH = np.datetime64("1960-01-01", "D")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
_ARROW = {"text": pa.string(), "integer": pa.int64(), "float": pa.float64(), "date": pa.date32()}


def _atomic_write(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _kind(series: pd.Series, declared: str | None = None) -> str:
    if declared:
        return declared
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "float"
    return "text"


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy without ``attrs`` (pandas deep-copies attrs on every column access)."""
    plain = df.copy(deep=False)
    plain.attrs = {}
    return plain


def _labels(df: pd.DataFrame) -> dict:
    return dict(df.attrs.get("labels", {}))


def _types(df: pd.DataFrame, types: Mapping[str, str] | None) -> dict:
    types = dict(types or df.attrs.get("types", {}))
    return {c: types[c] if c in types else _kind(_plain(df)[c]) for c in df.columns}


def to_arrow(df: pd.DataFrame, name: str, types: Mapping[str, str] | None = None) -> pa.Table:
    """A pyarrow Table with a fixed schema and only deterministic metadata."""
    kinds = _types(df, types)
    labels = _labels(df)
    plain = _plain(df)
    fields, arrays = [], []
    for c in df.columns:
        kind = kinds[c]
        col = plain[c]
        if kind == "date":
            vals = col.to_numpy(dtype="datetime64[D]")
            arr = pa.array(vals, type=pa.date32(), from_pandas=True)
        elif kind == "text":
            arr = pa.array(col.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        else:
            arr = pa.array(col.to_numpy(), type=_ARROW[kind], from_pandas=True)
        meta = {b"label": labels.get(c, "").encode("utf-8")}
        fields.append(pa.field(c, _ARROW[kind], nullable=True, metadata=meta))
        arrays.append(arr)
    schema = pa.schema(fields, metadata={b"dataset": name.encode(), b"label": df.attrs.get("label", "").encode("utf-8")})
    return pa.Table.from_arrays(arrays, schema=schema)


def write_parquet(df: pd.DataFrame, path: str | Path, name: str | None = None,
                  types: Mapping[str, str] | None = None) -> Path:
    """Write ``df`` to Parquet deterministically (see module doc)."""
    path = Path(path)
    table = to_arrow(df, name or path.stem.upper(), types)
    _atomic_write(path, lambda tmp: pq.write_table(
        table, tmp, compression="zstd", compression_level=3, use_dictionary=True,
        write_statistics=True, version="2.6", data_page_version="1.0", store_schema=True))
    return path


def _xpt_stamp(ts: _dt.datetime) -> bytes:
    return f"{ts.day:02d}{_MONTHS[ts.month - 1]}{ts.year % 100:02d}:{ts.hour:02d}:{ts.minute:02d}:{ts.second:02d}".encode()


def fix_xpt_timestamps(data: bytes, ts: _dt.datetime) -> bytes:
    """Replace the creation/modification stamps of an XPT v5 file's header records by ``ts``."""
    end = data.find(b"HEADER RECORD*******OBS     HEADER RECORD")
    end = len(data) if end < 0 else end
    return _STAMP.sub(_xpt_stamp(ts), data[:end]) + data[end:]


def write_xpt(df: pd.DataFrame, path: str | Path, name: str | None = None,
              types: Mapping[str, str] | None = None,
              timestamp: _dt.datetime = _dt.datetime(2000, 1, 1)) -> Path:
    """Write ``df`` as SAS transport v5 with labels, SAS dates and a fixed header timestamp."""
    path = Path(path)
    name = (name or path.stem).upper()[:8]
    kinds = _types(df, types)
    labels = _labels(df)
    out = {}
    fmt = {}
    plain = _plain(df)
    for c in df.columns:
        if kinds[c] == "date":
            d = plain[c].to_numpy(dtype="datetime64[D]")
            out[c] = np.where(np.isnat(d), np.nan, (d - SAS_EPOCH).astype("timedelta64[D]").astype(float))
            fmt[c] = "DATE9."
        elif kinds[c] == "text":
            out[c] = plain[c].astype(object).where(plain[c].notna(), "").astype(str)
        else:
            out[c] = plain[c].astype(float)
    xdf = pd.DataFrame(out, columns=list(df.columns))
    import pyreadstat

    def write(tmp):
        pyreadstat.write_xport(xdf, tmp, file_label=df.attrs.get("label", "")[:40],
                               column_labels=[labels.get(c, "")[:40] for c in df.columns],
                               table_name=name, file_format_version=5, variable_format=fmt)
        raw = Path(tmp).read_bytes()
        Path(tmp).write_bytes(fix_xpt_timestamps(raw, timestamp))

    _atomic_write(path, write)
    return path


def define_metadata(datasets: Mapping[str, pd.DataFrame], study: Mapping | None = None,
                    types: Mapping[str, Mapping[str, str]] | None = None,
                    codelist_vars: Iterable[str] = (), files: Mapping[str, Iterable[str]] | None = None) -> dict:
    """Define-style metadata: datasets, variables (label, type, length), codelists.

    ``codelist_vars`` names text variables whose distinct values (sorted) form a
    codelist; flags (``*FL``) always get the ``NY`` codelist.
    """
    codelist_vars = list(codelist_vars)
    codelists: dict[str, list] = {"NY": ["N", "Y"]}
    out_ds = []
    for name, df in datasets.items():
        kinds = _types(df, (types or {}).get(name))
        labels = _labels(df)
        attrs, df = df.attrs, _plain(df)
        variables = []
        for c in df.columns:
            var = {"name": c, "label": labels.get(c, ""), "type": kinds[c]}
            if kinds[c] == "text":
                uniq = pd.unique(df[c].to_numpy(dtype=object))
                var["length"] = max([len(str(x).encode("utf-8")) for x in uniq] + [1])
                if c.endswith("FL"):
                    var["codelist"] = "NY"
                elif c in codelist_vars:
                    vals = sorted(str(x) for x in uniq if str(x) != "")
                    key = c
                    if key in codelists and codelists[key] != vals:
                        key = f"{c}.{name}"
                    codelists[key] = sorted(set(codelists.get(key, [])) | set(vals)) if key == c else vals
                    var["codelist"] = key
            elif kinds[c] == "date":
                var["format"] = "DATE9."
            variables.append(var)
        entry = {"name": name, "label": attrs.get("label", ""), "records": int(len(df)),
                 "structure": attrs.get("structure", ""), "keys": list(attrs.get("keys", [])),
                 "variables": variables}
        if files and name in files:
            entry["files"] = list(files[name])
        out_ds.append(entry)
    meta = {}
    if study:
        meta["study"] = {k: study[k] for k in ("name", "title", "simulated") if k in study}
        if "seed" in study:
            meta["study"]["seed"] = study["seed"]
    meta["datasets"] = out_ds
    meta["codelists"] = {k: codelists[k] for k in sorted(codelists)}
    return meta


def write_json(obj, path: str | Path) -> Path:
    path = Path(path)
    text = json.dumps(obj, indent=1, ensure_ascii=False, default=str) + "\n"
    _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path
