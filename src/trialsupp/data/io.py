"""Read ADaM datasets (SAS XPT, Parquet or CDISC Dataset-JSON 1.1), recording the SHA-256 of every file read."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trialsupp.ard.provenance import sha256_file

FORMATS = {".xpt": "xpt", ".parquet": "parquet", ".json": "dataset-json"}
NOT_DATASETS = {"define"}      # define.json is metadata, not a dataset


class Labels(dict):
    """Variable labels of a dataset (``df.attrs["labels"]``), treated as read-only.

    pandas deep-copies ``attrs`` into every frame derived from a dataset (each filter, each
    column access); a label dict of an ADaM dataset copied ~100,000 times cost seconds per
    notebook. Deep copies of this dict are the dict itself (hand-optimised).
    """

    def __deepcopy__(self, memo):
        return self


class DataError(ValueError):
    """A dataset that cannot be read or does not pass checks; the message names dataset, variable, rows."""


@dataclass
class StudyData:
    """Datasets of one study plus the SHA-256 of each file read."""
    root: Path
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        name = name.lower()
        if name not in self.datasets:
            raise DataError(f"dataset {name!r} is not available in {self.root} "
                            f"(have: {', '.join(sorted(self.datasets)) or 'none'})")
        return self.datasets[name]

    def inputs(self, *names: str) -> dict[str, str]:
        """Dataset name -> SHA-256 for the named datasets (all when none named)."""
        names = [n.lower() for n in names] or sorted(self.hashes)
        return {n: self.hashes[n] for n in names if n in self.hashes}


def find_dataset(root: Path, name: str) -> Path:
    for ext in FORMATS:
        path = root / f"{name}{ext}"
        if path.exists():
            return path
    raise DataError(f"dataset {name!r}: no {name}.xpt, {name}.parquet or {name}.json in {root}")


def read_dataset(path: str | Path) -> pd.DataFrame:
    """Read one XPT or Parquet file; any failure becomes one clear DataError line."""
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path.name}: not a dataset file (expected .xpt, .parquet or .json)")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a {kind} file")
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        if kind == "dataset-json":
            from trialsupp.data.datasetjson import read_datasetjson
            return read_datasetjson(path)
        return _read_xpt(path)
    except DataError:
        raise
    except Exception as exc:  # corrupt, truncated, wrong format
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path.name}: cannot be read as {kind} ({first})") from None


XPT_LIBRARY = (b"HEADER RECORD*******LIBRARY HEADER RECORD",      # SAS V5 transport
               b"HEADER RECORD*******LIBV8   HEADER RECORD")      # SAS V8/V9 transport (long names)
XPT_OBS = (b"HEADER RECORD*******OBS     HEADER RECORD", b"HEADER RECORD*******OBSV8   HEADER RECORD")


def _read_xpt(path: Path) -> pd.DataFrame:
    import pyreadstat
    with open(path, "rb") as fh:
        head = fh.read(80)
    if not head.startswith(XPT_LIBRARY):
        raise DataError(f"{path.name}: not a SAS transport (XPT) file")
    size = path.stat().st_size
    if size % 80:
        raise DataError(f"{path.name}: SAS transport file does not end on an 80-byte record "
                        f"({size} bytes): truncated or damaged")
    df, meta = pyreadstat.read_xport(str(path))
    check_xpt_complete(path, len(df), sum(meta.variable_storage_width.values()))
    df.attrs["labels"] = Labels(zip(meta.column_names, meta.column_labels))
    df.attrs["dataset_label"] = meta.file_label
    # character blanks are "" in XPT; ADaM analyses treat them as missing only where asked
    return df


def check_xpt_complete(path: Path, rows: int, row_length: int) -> None:
    """A transport file is 80-byte records (checked before reading); after the last
    observation only blank padding may follow. A file cut short (or with bytes missing
    inside) fails one of the two, where the reader would silently return the
    observations it found."""
    with open(path, "rb") as fh:
        data = fh.read()
    starts = [data.find(tag) for tag in XPT_OBS]
    start = max(starts)
    if start < 0:
        raise DataError(f"{path.name}: SAS transport file has no observation header record: truncated or damaged")
    if data.find(XPT_OBS[0], start + 80) >= 0 or data.find(XPT_OBS[1], start + 80) >= 0:
        return                      # several members in one file: left to the reader
    tail = data[start + 80 + rows * row_length:]
    if row_length and tail.strip(b" "):
        raise DataError(f"{path.name}: SAS transport file has {len(tail)} bytes after its {rows} complete "
                        f"observations that are not padding: truncated or damaged")


def read_study(root: str | Path, names: list[str] | None = None,
               expected_sha256: dict[str, str] | None = None,
               manifest: dict | None = None, parsed: Path | None = None, store: bool = True) -> StudyData:
    """Read the named datasets (or every dataset file) under ``root``.

    ``expected_sha256`` maps file name -> checksum (as listed in SOURCE.md); a mismatch
    is an error naming the file. ``manifest`` (``data.manifest.load_manifest``) adds the
    rule that every file read is listed with its SHA-256 and row count. ``parsed``: folder of
    the parsed-dataset cache (``trialsupp.data.parsed``): an XPT or Dataset-JSON file whose
    SHA-256 is there is not parsed again; one that is not is stored there once read (unless
    ``store`` is false: ``parsed.store_study`` after the caller's checks).
    """
    from trialsupp.data import parsed as parsed_cache
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"data directory {root} does not exist")
    if names is None:
        names = sorted({p.stem.lower() for p in root.iterdir()
                        if p.suffix.lower() in FORMATS and p.stem.lower() not in NOT_DATASETS})
    data = StudyData(root=root)
    for name in names:
        path = find_dataset(root, name)
        if not path.is_file():
            raise DataError(f"{path}: is {'a directory' if path.is_dir() else 'not a regular file'}, "
                            f"expected a {FORMATS[path.suffix.lower()]} file")
        digest = sha256_file(path)
        want = (expected_sha256 or {}).get(path.name)
        if want and want != digest:
            raise DataError(f"{path.name}: SHA-256 {digest[:12]}... does not match the recorded "
                            f"{want[:12]}... (file changed or corrupted)")
        if manifest is not None:
            from trialsupp.data.manifest import check_file
            check_file(root, path, manifest, digest)
        df = parsed_cache.load(parsed, digest) if path.suffix.lower() != ".parquet" else None
        if df is None:
            df = read_dataset(path)
            if store and path.suffix.lower() != ".parquet":
                parsed_cache.save(parsed, digest, df)
        data.datasets[name.lower()] = df
        if manifest is not None:
            from trialsupp.data.manifest import check_rows
            check_rows(path, data.datasets[name.lower()], manifest)
        data.hashes[name.lower()] = digest
    return data


_SHA_LINE = re.compile(r"^([0-9a-f]{64})\s+(\S+)", re.M)


def checksums_from_source_md(path: str | Path) -> dict[str, str]:
    """File name -> SHA-256 from a SOURCE.md checksum block (``sha  file`` lines)."""
    path = Path(path)
    if not path.exists():
        return {}
    return {name: sha for sha, name in _SHA_LINE.findall(path.read_text(encoding="utf-8"))}
