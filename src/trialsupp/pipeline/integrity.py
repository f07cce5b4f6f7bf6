"""File-by-file integrity of a rendered output folder (used by ``verify``).

Two checks, so that an edit is caught even when the editor also rewrites the manifest:

1. ``manifest.json`` (written by the render) holds the SHA-256 of every file: any byte
   changed, a file removed or added since the render is reported.
2. The re-run, made with the recorded parameters, inputs and start time, must write the
   same bytes. Where a file differs, ``explain`` says where, by kind of file: ARD rows,
   CSV cells, run.json keys, text lines of HTML/PDF/RTF pages, figure pixels, notebook cells.
"""
from __future__ import annotations

import difflib
import html
import json
import re
from pathlib import Path
from typing import Any

from trialsupp.ard.provenance import sha256_file

OUTPUT_MANIFEST = "manifest.json"
# written later into the folder by other commands; not part of the render
NOT_RENDERED = {"verify.json", "verify.html", "diff.html", OUTPUT_MANIFEST}
# run.json keys that describe this run, not its results (the re-run has its own)
RUN_VOLATILE = {"elapsed_s", "out_dir", "notebooks", "reproducible", "fingerprint", "reuse"}
MAX_PLACES = 5


def output_files(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                  if p.is_file() and p.relative_to(out).as_posix() not in NOT_RENDERED)


def hash_output(out: Path) -> dict[str, str]:
    return {rel: sha256_file(out / rel) for rel in output_files(out)}


def check_manifest(out: Path) -> tuple[dict[str, str], list[str]]:
    """Status per file against the render's manifest, and one problem line per difference."""
    path = out / OUTPUT_MANIFEST
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))["files"]
        assert isinstance(recorded, dict)
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        return {}, [f"{OUTPUT_MANIFEST}: missing or unreadable: the files cannot be checked against the render"]
    now = hash_output(out)
    status, problems = {}, []
    for rel in sorted(set(recorded) | set(now)):
        if rel not in now:
            status[rel] = "missing"
            problems.append(f"{rel}: written by the render, now missing")
        elif rel not in recorded:
            status[rel] = "not rendered"
            problems.append(f"{rel}: not written by the render (added later)")
        elif recorded[rel] != now[rel]:
            status[rel] = "changed since the render"
            problems.append(f"{rel}: changed since the render (SHA-256 {recorded[rel][:12]}... recorded, "
                            f"{now[rel][:12]}... now)")
        else:
            status[rel] = "as rendered"
    return status, problems


# ---- where two versions of a file differ ------------------------------------------------------
def explain(rel: str, recorded: Path, rerun: Path) -> list[str]:
    """Places where ``recorded`` differs from the re-run's ``rerun`` (both exist, bytes differ)."""
    kind = Path(rel).suffix.lower()
    try:
        if rel == "run.json":
            places = _json_keys(recorded, rerun, ignore=RUN_VOLATILE)
        elif rel == OUTPUT_MANIFEST:
            places = []
        elif kind == ".csv":
            places = _csv_cells(recorded, rerun)
        elif kind == ".json":
            places = _json_keys(recorded, rerun)
        elif kind == ".ipynb":
            places = _notebook_cells(recorded, rerun)
        elif kind in (".html", ".htm"):
            places = _lines(_html_text(recorded), _html_text(rerun), "line")
        elif kind == ".rtf":
            places = _lines(_rtf_text(recorded), _rtf_text(rerun), "line")
            if not _lines(*(_undated(_rtf_text(p)) for p in (recorded, rerun)), "line"):
                return []     # only the footer's run time: the table was restored from the notebook cache
        elif kind == ".pdf":
            places = _pdf_pages(recorded, rerun)
        elif kind == ".png":
            places = _pixels(recorded, rerun)
        elif kind == ".svg":
            places = _lines(_svg_lines(recorded), _svg_lines(rerun), "element")
        else:
            places = []
    except Exception as exc:      # a damaged file: say so, do not stop verify
        places = [f"cannot be compared ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"]
    if not places and rel == "run.json":
        return []                 # only this run's own keys (time taken, folder) differ
    if not places:
        a, b = recorded.read_bytes(), rerun.read_bytes()
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        places = [f"bytes differ from byte {first} ({len(a)} bytes recorded, {len(b)} re-run)"]
    more = len(places) - MAX_PLACES
    return [f"{rel}: {p}" for p in places[:MAX_PLACES]] + ([f"{rel}: ... {more} more"] if more > 0 else [])


def _short(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _json_keys(a: Path, b: Path, ignore: set[str] = frozenset()) -> list[str]:
    x, y = json.loads(a.read_text(encoding="utf-8")), json.loads(b.read_text(encoding="utf-8"))
    out: list[str] = []
    _walk(x, y, "", out, ignore)
    return out


def _walk(x: Any, y: Any, where: str, out: list[str], ignore: set[str]) -> None:
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y), key=str):
            if not where and k in ignore:
                continue
            _walk(x.get(k), y.get(k), f"{where}.{k}" if where else str(k), out, ignore)
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (p, q) in enumerate(zip(x, y)):
            key = p.get("id") if isinstance(p, dict) and "id" in p else i
            _walk(p, q, f"{where}[{key}]", out, ignore)
    elif x != y:
        a, b = (v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str) for v in (x, y))
        a, b = _differing(a, b)
        out.append(f"{where or 'document'}: {_short(a)} (recorded) vs {_short(b)} (re-run)")


def _csv_cells(a: Path, b: Path) -> list[str]:
    import pandas as pd
    x = pd.read_csv(a, dtype=str, keep_default_na=False)
    y = pd.read_csv(b, dtype=str, keep_default_na=False)
    if list(x.columns) != list(y.columns):
        return [f"columns {list(x.columns)} (recorded) vs {list(y.columns)} (re-run)"]
    out = []
    for i in range(max(len(x), len(y))):
        if i >= len(x) or i >= len(y):
            out.append(f"row {i + 2}: only in the {'re-run' if i >= len(x) else 'recorded file'}")
            continue
        for col in x.columns:
            if x.at[i, col] != y.at[i, col]:
                rid = x.at[i, "id"] if "id" in x.columns else i + 2
                out.append(f"row {i + 2} (id {rid}) column {col}: {_short(x.at[i, col])} (recorded) vs "
                           f"{_short(y.at[i, col])} (re-run)")
    return out


def _lines(a: list[str], b: list[str], unit: str) -> list[str]:
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        old, new = _differing(" / ".join(a[i1:i2]), " / ".join(b[j1:j2]))
        out.append(f"{unit} {i1 + 1}: {_short(old)} (recorded) vs {_short(new)} (re-run)")
    return out


def _differing(old: str, new: str, context: int = 25) -> tuple[str, str]:
    """The part of two long texts that differs, with a little context on each side."""
    if len(old) <= 80 and len(new) <= 80:
        return old, new
    start = next((i for i, (x, y) in enumerate(zip(old, new)) if x != y), min(len(old), len(new)))
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    lo = max(0, start - context)
    cut = lambda t: ("..." if lo else "") + t[lo:len(t) - max(0, end - context)] + ("..." if end > context else "")
    return cut(old), cut(new)


_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)


def _html_text(path: Path) -> list[str]:
    text = _SCRIPT.sub(" ", path.read_text(encoding="utf-8", errors="replace"))
    text = re.sub(r"<br\s*/?>|</(p|div|tr|li|h\d|caption|figcaption|td|th)>", "\n", text, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


_RUN_TIME = re.compile(r"Run: \d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})? UTC")


def _undated(lines: list[str]) -> list[str]:
    return [_RUN_TIME.sub("Run: <time>", line) for line in lines]


def _rtf_text(path: Path) -> list[str]:
    raw = path.read_text(encoding="latin-1")
    raw = re.sub(r"\\u(-?\d+)\??", lambda m: chr(int(m.group(1)) % 65536), raw)
    raw = re.sub(r"\\'([0-9a-f]{2})", lambda m: bytes.fromhex(m.group(1)).decode("cp1252", "replace"), raw)
    raw = re.sub(r"\\(par|line|row|cell)\b ?", "\n", raw)
    raw = re.sub(r"\\[a-z]+-?\d* ?|[{}]", "", raw)
    return [" ".join(line.split()) for line in raw.splitlines() if line.strip()]


def _pdf_text(path: Path) -> list[list[str]]:
    from trialsupp.ard.audit import pdf_pages_text
    return [[" ".join(l.split()) for l in page.splitlines() if l.strip()] for page in pdf_pages_text(path)]


def _pdf_pages(a: Path, b: Path) -> list[str]:
    x, y = _pdf_text(a), _pdf_text(b)
    if len(x) != len(y):
        return [f"{len(x)} pages recorded, {len(y)} re-run"]
    out = []
    for n, (p, q) in enumerate(zip(x, y), start=1):
        out += [f"page {n} {place}" for place in _lines(p, q, "line")]
    return out


def _pixels(a: Path, b: Path) -> list[str]:
    import numpy as np
    from PIL import Image
    x, y = np.asarray(Image.open(a).convert("RGBA")), np.asarray(Image.open(b).convert("RGBA"))
    if x.shape != y.shape:
        return [f"image size {x.shape[1]}x{x.shape[0]} (recorded) vs {y.shape[1]}x{y.shape[0]} (re-run)"]
    diff = np.any(x != y, axis=2)
    if not diff.any():
        return []
    rows, cols = np.nonzero(diff)
    return [f"{int(diff.sum())} pixel(s) differ, within x {cols.min()}-{cols.max()}, y {rows.min()}-{rows.max()}"]


def _svg_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [t.strip() for t in re.split(r"(?=<)", text) if t.strip()]


def _notebook_cells(a: Path, b: Path) -> list[str]:
    x, y = (json.loads(p.read_text(encoding="utf-8")) for p in (a, b))
    cx, cy = x.get("cells", []), y.get("cells", [])
    out = []
    for i in range(max(len(cx), len(cy))):
        p = cx[i] if i < len(cx) else None
        q = cy[i] if i < len(cy) else None
        if p == q:
            continue
        cid = (p or q).get("id", i)
        part = "source" if (p or {}).get("source") != (q or {}).get("source") else "outputs"
        out.append(f"cell {i} (id {cid}): {part} differ")
    if not out and x.get("metadata") != y.get("metadata"):
        out.append("notebook metadata differ")
    return out

