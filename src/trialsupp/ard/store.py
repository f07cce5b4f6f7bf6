"""The results store: placing ARD rows in display elements, and moving them from
executed notebooks to ``<out>/ard.json`` / ``ard.csv``.

Notebook side:  ``place()`` gives rows stable ids, formatted text and provenance;
                ``emit()`` displays them as an ``application/vnd.trialsupp.ard+json`` output.
Pipeline side:  ``collect_notebook()`` reads those outputs back with the notebook
                path and the id of the cell that emitted them; ``write_store()``
                writes the store deterministically (sorted, no run-dependent bytes
                in the rows themselves).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from trialsupp._json import dumps_indented
from trialsupp.ard.fmt import JAMA, FormatRules, format_stat
from trialsupp.ard.schema import ARD_COLUMNS, ARDError, check_ard

ARD_MIME = "application/vnd.trialsupp.ard+json"
_INF = float("inf")
# time, and where this copy of the project lives (run.json only: ard.json stays byte-identical
# for a project copied elsewhere)
VOLATILE_RUN_KEYS = ("started", "finished", "elapsed_s", "run_time", "out_dir", "study_config", "project",
                     "notebooks")
_SLUG = re.compile(r"[^a-z0-9]+")


_SIGNS = (("<=", " le "), (">=", " ge "), ("\u2264", " le "), ("\u2265", " ge "),
          ("<", " lt "), (">", " gt "), ("=", " eq "), ("%", " pct "), ("+", " plus "))


def slug(value: Any) -> str:
    """Lower-case id part; comparison signs are spelled out so "<12" and ">=12" stay distinct."""
    return _slug_text(str(value))


@functools.lru_cache(maxsize=65536)
def _slug_text(text: str) -> str:      # the same few hundred levels, ~100,000 times per lab notebook
    for sign, word in _SIGNS:
        text = text.replace(sign, word)
    text = _SLUG.sub("-", text.lower()).strip("-")
    return text or "x"


def _label_stem(label: str) -> str:
    return label.split("-", 1)[1] if label.startswith(("tbl-", "fig-")) else label


def _id_parts(output: str, analysis_id: str, row: Mapping[str, Any]) -> list[Any]:
    parts = [_label_stem(output), analysis_id]
    for col in ("group1_level", "group2_level", "variable", "variable_level"):
        val = row.get(col)
        if val is not None and not (isinstance(val, float) and pd.isna(val)) and val != "":
            parts.append(val)
    return parts


def _stat_part(row: Mapping[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", str(row["stat_name"])).strip("-")   # keeps case: n vs N


def row_id(output: str, analysis_id: str, row: Mapping[str, Any]) -> str:
    """Stable, readable id: label.analysis.group levels.variable.level.stat_name."""
    return ".".join([*(slug(p) for p in _id_parts(output, analysis_id, row)), _stat_part(row)])


def _exact_slug(value: Any) -> str:
    """The slug plus a short hash of the exact text: "PRURITUS" and "Pruritus" stay apart."""
    return f"{slug(value)}-{hashlib.sha256(str(value).encode('utf-8')).hexdigest()[:6]}"


def unique_ids(output: str, analysis_id: str, rows: list[Mapping[str, Any]]) -> list[str]:
    """Row ids, unique by construction: where different levels share a slug (they differ only
    in case or punctuation), that part of each such id carries a hash of its exact text."""
    parts = [_id_parts(output, analysis_id, r) for r in rows]
    ids = [row_id(output, analysis_id, r) for r in rows]
    groups: dict[str, list[int]] = {}
    for i, rid in enumerate(ids):
        groups.setdefault(rid, []).append(i)
    for members in groups.values():
        if len(members) < 2 or len({tuple(map(str, parts[i])) for i in members}) < 2:
            continue
        for i in members:
            differing = {k for k in range(len(parts[i]))
                         if len({str(parts[j][k]) if k < len(parts[j]) else None for j in members}) > 1}
            ids[i] = ".".join([*(_exact_slug(p) if k in differing else slug(p) for k, p in enumerate(parts[i])),
                               _stat_part(rows[i])])
    return ids


_ID_COLUMNS = ("group1_level", "group2_level", "variable", "variable_level", "stat_name")


def place(ard: pd.DataFrame, *, output: str, analysis_id: str, population: str,
          rules: FormatRules = JAMA, params: Mapping[str, Any] | None = None,
          inputs: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Give result rows their display placement, stable ids and formatted text."""
    check_ard(ard)
    if not len(ard):
        return pd.DataFrame(columns=ARD_COLUMNS)
    n = len(ard)
    # read once as objects (a pandas access per column and row cost most of place's time)
    values = ard.to_numpy(dtype=object)
    col = {c: values[:, i] for i, c in enumerate(ard.columns)}
    keys = [col[c] for c in _ID_COLUMNS]
    if all(v is None or type(v) is str for k in keys for v in k):
        records = [dict(zip(_ID_COLUMNS, r)) for r in zip(*keys)]
    else:   # to_dict boxes numpy scalars as Python numbers: the ids read those
        records = ard[list(_ID_COLUMNS)].to_dict("records")
    placement = {"id": unique_ids(output, analysis_id, records), "output_id": output,
                 "analysis_id": analysis_id, "population": population,
                 "stat_fmt": [format_stat(v, f, rules) for v, f in zip(ard["stat"], ard["fmt"])],
                 "notebook": None, "cell_id": None}
    if all(dt == object for dt in ard.dtypes):
        # one object array in schema order: the frame place used to build a column at a time
        out_values = np.empty((n, len(ARD_COLUMNS)), dtype=object)
        for j, c in enumerate(ARD_COLUMNS):
            if c in ("inputs", "params"):
                out_values[:, j] = [dict((inputs if c == "inputs" else params) or {})] * n
            else:
                out_values[:, j] = placement[c] if c in placement else col[c]
        out = pd.DataFrame(out_values, columns=ARD_COLUMNS, index=ard.index)
    else:      # typed columns (e.g. a float stat) keep their dtype
        out = ard.copy()
        for c, v in placement.items():
            out[c] = v
        out["inputs"] = [dict(inputs or {})] * n
        out["params"] = [dict(params or {})] * n
        out = out.reindex(columns=ARD_COLUMNS)
    dups = out["id"][out["id"].duplicated(keep=False)]
    if len(dups):
        raise ARDError(f"output {output!r}, analysis {analysis_id!r}: rows share ids "
                       f"{sorted(set(dups))[:5]}; give the rows distinct group/variable levels")
    return out


def _jsonable(value: Any) -> Any:
    """A JSON value: NaN -> None, numpy scalars -> Python (plain Python values pass first)."""
    t = type(value)
    if value is None or t is str or t is int or t is bool:
        return value
    if t is float:
        return None if value != value else value
    if isinstance(value, float) and pd.isna(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes, dict, list)):
        return value.item()
    return value


_PLAIN = frozenset({str, int, float, bool, dict, list, type(None)})


def to_records(placed: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [placed[c].tolist() for c in ARD_COLUMNS]
    if all(type(v) in _PLAIN for col in cols for v in col):
        # Python values already (the usual case): only NaN becomes None, read column-wise
        cols = [[None if type(v) is float and v != v else v for v in col] for col in cols]
        return [dict(zip(ARD_COLUMNS, row)) for row in zip(*cols)]
    return [{c: _jsonable(r[c]) for c in ARD_COLUMNS} for r in placed.to_dict("records")]


def emit(placed: pd.DataFrame) -> None:
    """Display placed rows as an ARD output of the current notebook cell: the JSON text of
    ``{"rows": [...]}`` (a string: the executed notebook carries it as one value, so nbclient,
    the notebook writer and the results store do not walk 28,000 row objects one by one;
    readers also take the object form of older notebooks)."""
    from IPython.display import display
    display({ARD_MIME: payload_text(to_records(placed))}, raw=True)


def payload_text(records: list[dict[str, Any]]) -> str:
    """The JSON text of an ARD output, as the kernel's message packer wrote the object form:
    dates by jupyter_client's ``json_default``, non-finite numbers as null, keys sorted (as the
    notebook writer sorted them)."""
    from jupyter_client.jsonutil import json_default
    options = dict(ensure_ascii=False, default=json_default, sort_keys=True)
    try:
        return json.dumps({"rows": records}, allow_nan=False, **options)
    except ValueError:             # an infinite or NaN value
        finite = [{k: (None if type(v) is float and (v != v or v in (_INF, -_INF)) else v) for k, v in r.items()}
                  for r in records]
        return json.dumps({"rows": finite}, **options)


def parse_payloads(nb: dict) -> dict:
    """Replace each ARD output's JSON text by its object, in place (readers of a parsed notebook
    then parse the 28,000 rows of a large notebook once, not once each); returns ``nb``."""
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and isinstance(data.get(ARD_MIME), str):
                data[ARD_MIME] = json.loads(data[ARD_MIME])
    return nb


def read_notebook(path: str | Path) -> dict:
    """An executed notebook, parsed, its ARD outputs parsed too (``parse_payloads``)."""
    return parse_payloads(json.loads(Path(path).read_text(encoding="utf-8")))


def collect_notebook(path: str | Path, notebook_name: str, nb: dict | None = None) -> list[dict[str, Any]]:
    """ARD rows emitted by an executed notebook, with notebook and cell id filled (``nb``: the
    notebook at ``path``, already parsed; left unchanged)."""
    if nb is None:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(ARD_MIME)
            if payload is None:
                continue
            if isinstance(payload, str):
                payload = json.loads(payload)
            for row in payload["rows"]:
                row = dict(row)
                row["notebook"] = notebook_name
                row["cell_id"] = cell.get("id")
                rows.append(row)
    return rows


def resolve_output_ids(rows: Iterable[dict[str, Any]], numbering: Mapping[str, str]) -> list[dict]:
    """Replace element labels (``tbl-baseline``) by their numbers (``eTable 1``)."""
    return [{**r, "output_id": numbering.get(r["output_id"], r["output_id"])} for r in rows]


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)      # mkstemp makes 0600; published files are as readable as any other
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def store_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(store_records(rows), columns=ARD_COLUMNS)


def store_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The store's rows: ARD columns only, JSON values, sorted by id (stable); ids must be unique.
    (Plain Python on the rows: a DataFrame round trip cost ~1 s for cdiscpilot01's 28,000 rows.)"""
    records = [{c: _jsonable(r.get(c)) for c in ARD_COLUMNS} for r in rows]
    seen: dict[Any, int] = {}
    for r in records:
        seen[r["id"]] = seen.get(r["id"], 0) + 1
    if any(n > 1 for n in seen.values()):
        where = dict.fromkeys((r["id"], r["notebook"], r["cell_id"]) for r in records if seen[r["id"]] > 1)
        raise ARDError("ARD ids are not unique across notebooks: " +
                       "; ".join(f"{i} ({nb} cell {cell})" for i, nb, cell in where))
    records.sort(key=lambda r: (r["id"] is None, "" if r["id"] is None else str(r["id"])))
    return records


def csv_text(records: list[dict[str, Any]]) -> str:
    """``ard.csv``: the rows as pandas' ``to_csv(index=False)`` writes them (missing -> empty,
    ``inputs``/``params`` as sorted JSON); the csv module, ~10x faster (a test compares them)."""
    import csv
    import io
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(ARD_COLUMNS)
    nested = {"inputs", "params"}
    dumped: dict[tuple, str] = {}     # rows share their inputs/params dicts' contents: dump each once

    def as_json(v: Any) -> str:
        try:
            key = tuple(sorted(v.items())) if isinstance(v, dict) else None
            if key is not None and key not in dumped:
                dumped[key] = json.dumps(v, sort_keys=True)
        except TypeError:             # unhashable values (lists): no cache
            key = None
        return json.dumps(v, sort_keys=True) if key is None else dumped[key]
    for r in records:
        writer.writerow([as_json(r[c]) if c in nested else ("" if r[c] is None else r[c]) for c in ARD_COLUMNS])
    return buf.getvalue()


def write_store(rows: list[dict[str, Any]], out_dir: str | Path, run: Mapping[str, Any],
                csv: bool = True) -> dict[str, Any]:
    """Write ``ard.json`` (rows + run metadata) and ``ard.csv`` (rows; ``csv=False``: left to the
    caller, ``write_csv(doc["rows"], out_dir)``); rows sorted by id. Returns the ``ard.json``
    document (equal to parsing the file back).

    ard.json is byte-identical for identical inputs and environment: the run's
    time and duration (``VOLATILE_RUN_KEYS``) are written to ``run.json`` only.
    """
    out_dir = Path(out_dir)
    records = store_records(rows)
    run_doc = json.loads(json.dumps(stable_run(run), ensure_ascii=False))   # as read back: lists, not tuples
    doc = {"schema": "trialsupp-ard/1", "run": run_doc, "columns": list(ARD_COLUMNS), "rows": records}
    atomic_write_text(out_dir / "ard.json", dump_indented(doc) + "\n")
    write_run(out_dir, run)
    if csv:
        write_csv(records, out_dir)
    return doc


def write_csv(records: list[dict[str, Any]], out_dir: str | Path) -> None:
    atomic_write_text(Path(out_dir) / "ard.csv", csv_text(records))


def dump_indented(doc: Mapping[str, Any]) -> str:
    """``json.dumps(doc, indent=1, ensure_ascii=False)``, byte for byte, fast (``trialsupp._json``)."""
    return dumps_indented(doc)


def stable_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """The run metadata ard.json keeps: without time, duration and places (``VOLATILE_RUN_KEYS``)."""
    return {k: v for k, v in sorted(run.items()) if k not in VOLATILE_RUN_KEYS}


def run_digest(run: Mapping[str, Any]) -> str:
    """SHA-256 of ``stable_run(run)``: equal digests, equal ``run`` in ard.json."""
    import hashlib
    return hashlib.sha256(json.dumps(stable_run(run), sort_keys=True, default=str).encode()).hexdigest()


def write_run(out_dir: str | Path, run: Mapping[str, Any]) -> None:
    atomic_write_text(Path(out_dir) / "run.json", json.dumps(dict(run), indent=1, sort_keys=True, default=str) + "\n")


def read_store(out_dir: str | Path) -> pd.DataFrame:
    path = Path(out_dir) / "ard.json"
    if not path.exists():
        raise FileNotFoundError(f"no results store at {path} (render first)")
    return store_doc_frame(json.loads(path.read_text(encoding="utf-8")))


def store_doc_frame(doc: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of a parsed ``ard.json`` as a frame (``attrs["run"]``: its run metadata)."""
    frame = pd.DataFrame(doc["rows"], columns=ARD_COLUMNS)
    frame.attrs["run"] = doc.get("run", {})
    return frame
