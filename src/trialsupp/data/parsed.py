"""A cache of parsed datasets: the frame read from an XPT (or Dataset-JSON) file, stored as
Parquet under the SHA-256 of the file's bytes.

Every notebook of a render reads the study's datasets; parsing SAS transport files was about
a second per notebook for cdiscpilot01 (Parquet: a tenth of that). The render's data step,
which reads the datasets anyway, writes the cache; a notebook's ``read_study`` still hashes
each file and uses the cached frame only for that exact content. A frame is stored only if it
reads back identical (values, dtypes, Python types of object cells, attrs); otherwise the file
is parsed as before.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

SUFFIX = ".parquet"
NAN_KEY = "trialsupp_nan_columns"   # object columns whose missing values are NaN (not None)


def parsed_dir(project: Path) -> Path:
    """The project's parsed-dataset cache: ``<notebook cache>/parsed``."""
    from trialsupp.pipeline.cache import cache_dir
    return cache_dir(Path(project)) / "parsed"


def _path(folder: Path, digest: str) -> Path:
    return Path(folder) / f"{digest}{SUFFIX}"


def _identical(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or not a.dtypes.equals(b.dtypes) or not a.index.equals(b.index):
        return False
    if not a.equals(b) or dict(a.attrs) != dict(b.attrs):
        return False
    for col in a.columns:        # None vs NaN, date vs Timestamp: equals() does not tell them apart
        if a[col].dtype == object and list(map(type, a[col])) != list(map(type, b[col])):
            return False
    return True


def load(folder: Path | None, digest: str) -> pd.DataFrame | None:
    """The cached frame of the file with this SHA-256, or None."""
    if folder is None:
        return None
    path = _path(folder, digest)
    return load_file(path) if path.is_file() else None     # a damaged entry: None, parse the file


def save(folder: Path | None, digest: str, df: pd.DataFrame) -> bool:
    """Store ``df`` as the parsed frame of the file with this SHA-256 (if it round-trips)."""
    if folder is None or _path(folder, digest).is_file():
        return False
    folder = Path(folder)
    try:                          # a cache only: a read-only or full disk means parsing next time
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".parsed.", suffix=".tmp")
        os.close(fd)
    except OSError:
        return False
    try:
        out = df.copy(deep=False)
        out.attrs = {**df.attrs, NAN_KEY: [c for c in df.columns if df[c].dtype == object and any(
            isinstance(v, float) and v != v for v in df[c])]}
        out.to_parquet(tmp)
        back = load_file(tmp)
        if back is None or not _identical(df, back):
            return False
        os.replace(tmp, _path(folder, digest))
        return True
    except Exception:
        return False
    finally:
        if os.path.exists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass


def store_study(folder: Path, data) -> None:
    """Store the parsed frames of a ``StudyData`` (XPT / Dataset-JSON files only)."""
    for name, df in data.datasets.items():
        if name in data.hashes and not _is_parquet(data.root, name):
            save(folder, data.hashes[name], df)


def _is_parquet(root: Path, name: str) -> bool:
    from trialsupp.data.io import find_dataset
    return find_dataset(Path(root), name).suffix.lower() == ".parquet"


def load_file(path: str | Path) -> pd.DataFrame | None:
    try:
        df = pd.read_parquet(path)
    except Exception:
        return None
    from trialsupp.data.io import Labels
    for col in df.attrs.pop(NAN_KEY, []):      # Parquet reads a NaN of a text/date column as None
        df[col] = df[col].where(df[col].notna(), np.nan)
    if isinstance(df.attrs.get("labels"), dict):
        df.attrs["labels"] = Labels(df.attrs["labels"])
    return df
