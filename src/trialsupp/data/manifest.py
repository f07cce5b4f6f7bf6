"""The input manifest: the SHA-256, size and row count of every file of a study's data folder.

``<data dir>/checksums.yml`` (or the study's ``data.manifest``) is required for a study that
reads files: a render refuses to start without it, refuses any file of the folder that it
does not list (an ``adae.parquet`` put next to the recorded ``adae.xpt``), any file whose
SHA-256 differs, and, when a dataset is read, a row count that differs. It is written only
by ``trialsupp data accept``, which reads every dataset to its end first (a truncated file
is refused, never recorded) and appends who, when, why and what changed to its
``accepted`` log; the render copies that log into ``run.json``.
"""
from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Any

import yaml

from trialsupp.ard.provenance import sha256_file
from trialsupp.data.io import FORMATS, DataError, read_dataset

MANIFEST_NAME = "checksums.yml"
SCHEMA = "trialsupp-data-manifest/1"
ACCEPT_HINT = "`trialsupp data accept` records the folder's files deliberately"


def manifest_path(data_dir: Path, configured: Path | None = None) -> Path:
    return configured or Path(data_dir) / MANIFEST_NAME


def tracked_files(data_dir: Path, manifest: Path | None = None) -> list[Path]:
    """Every file of the folder the manifest covers: all but itself, notes (``*.md``) and hidden files."""
    skip = {(manifest or Path(data_dir) / MANIFEST_NAME).name}
    return sorted(p for p in Path(data_dir).iterdir()
                  if p.name not in skip and not p.name.startswith(".") and p.suffix.lower() != ".md")


def load_manifest(data_dir: Path, path: Path | None = None) -> dict[str, Any]:
    path = manifest_path(data_dir, path)
    if not path.is_file():
        raise DataError(f"{path}: no input manifest for the data folder {data_dir} (a study that reads "
                        f"files needs the SHA-256 and rows of each); {ACCEPT_HINT}")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DataError(f"{path.name}: not a readable manifest ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("files"), dict):
        raise DataError(f"{path.name}: not a trialsupp data manifest (schema {SCHEMA}); {ACCEPT_HINT}")
    doc["_path"] = str(path)
    return doc


def _where(manifest: dict) -> str:
    return Path(manifest.get("_path", MANIFEST_NAME)).name


def check_file(data_dir: Path, path: Path, manifest: dict, digest: str | None = None) -> str:
    """The file's SHA-256, when the manifest lists it with that SHA-256."""
    entry = manifest["files"].get(path.name)
    if entry is None:
        raise DataError(f"{path.name}: in the data folder but not in its manifest {_where(manifest)}, so it "
                        f"cannot be read; {ACCEPT_HINT}")
    digest = digest or sha256_file(path)
    if entry.get("sha256") != digest:
        raise DataError(f"{path.name}: SHA-256 {digest[:12]}... differs from {str(entry.get('sha256'))[:12]}... "
                        f"recorded in {_where(manifest)} (file changed or damaged); {ACCEPT_HINT}")
    return digest


def check_rows(path: Path, df, manifest: dict) -> None:
    entry = manifest["files"].get(Path(path).name) or {}
    want = entry.get("rows")
    if want is not None and len(df) != want:
        raise DataError(f"{Path(path).name}: {len(df)} rows read, {want} recorded in {_where(manifest)}")


def check_folder(data_dir: Path, manifest: dict) -> dict[str, str]:
    """Every file of the folder listed and unchanged, every listed file present.
    Returns dataset file name -> SHA-256 (the render's ``inputs``)."""
    data_dir = Path(data_dir)
    present = tracked_files(data_dir, Path(manifest["_path"]))
    for p in present:
        if not p.is_file():
            kind = FORMATS.get(p.suffix.lower(), "data")
            raise DataError(f"{p}: is {'a directory' if p.is_dir() else 'not a regular file'}, "
                            f"expected a {kind} file")
    names = {p.name for p in present}
    missing = sorted(set(manifest["files"]) - names)
    if missing:
        raise DataError(f"{missing[0]}: recorded in {_where(manifest)} but missing from {data_dir}")
    inputs = {}
    for p in present:
        digest = check_file(data_dir, p, manifest)
        if p.suffix.lower() in FORMATS:
            inputs[p.name] = digest
    return inputs


def describe(path: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    if path.suffix.lower() in FORMATS:
        df = read_dataset(path)            # to the end: a truncated file is refused here
        entry.update(rows=int(len(df)), columns=int(df.shape[1]))
    return entry


def accept(data_dir: Path, reason: str, path: Path | None = None, who: str | None = None) -> tuple[dict, list[str]]:
    """(Re-)record every file of ``data_dir``; returns the manifest and one line per change."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"data directory {data_dir} does not exist")
    if not reason or not reason.strip():
        raise DataError("data accept: give the reason for recording these files (--reason TEXT)")
    path = manifest_path(data_dir, path)
    old = load_manifest(data_dir, path) if path.exists() else {"files": {}, "accepted": []}
    files = {}
    for p in tracked_files(data_dir, path):
        if not p.is_file():
            kind = FORMATS.get(p.suffix.lower(), "data")
            raise DataError(f"{p}: is {'a directory' if p.is_dir() else 'not a regular file'}, expected a {kind} file")
        files[p.name] = describe(p)
    changes = [f"added {n}" for n in sorted(set(files) - set(old["files"]))]
    changes += [f"removed {n}" for n in sorted(set(old["files"]) - set(files))]
    changes += [f"changed {n}: SHA-256 {old['files'][n].get('sha256', '')[:12]}... -> {files[n]['sha256'][:12]}..."
                + (f", rows {old['files'][n].get('rows')} -> {files[n].get('rows')}"
                   if old["files"][n].get("rows") != files[n].get("rows") else "")
                for n in sorted(set(files) & set(old["files"])) if old["files"][n] != files[n]]
    log = list(old.get("accepted") or [])
    log.append({"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "who": who or _user(), "reason": reason.strip(), "changes": changes or ["none"]})
    doc = {"schema": SCHEMA, "files": files, "accepted": log}
    from trialsupp.ard.store import atomic_write_text
    atomic_write_text(path, "# Written by `trialsupp data accept`; do not edit by hand.\n"
                      + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    doc["_path"] = str(path)
    return doc, changes


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def run_record(manifest: dict) -> dict[str, Any]:
    """What ``run.json`` keeps of the manifest: its SHA-256 and the acceptance log."""
    return {"file": Path(manifest["_path"]).name, "sha256": sha256_file(Path(manifest["_path"])),
            "accepted": manifest.get("accepted") or []}
