"""Content-addressed cache of executed notebooks.

Key = SHA-256 over: the notebook's bytes, the source of every trialsupp module and
study config, the SHA-256 of each input dataset, the parameter values, and the
versions of the Python packages used. A hit restores the executed notebook (and
so its ARD outputs) and the files it wrote; any change re-executes that notebook.

Location: ``$TRIALSUPP_CACHE`` or ``<project>/.trialsupp-cache/``;
``trialsupp cache clear`` empties it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import trialsupp
from trialsupp.ard.provenance import package_versions

# parameters that name places, not content: left out of the key
PLACE_PARAMS = ("data_dir", "out_dir")


def cache_dir(project: Path) -> Path:
    return Path(os.environ.get("TRIALSUPP_CACHE") or project / ".trialsupp-cache")


@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """One hash over trialsupp's own source files and study configs."""
    root = Path(trialsupp.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml", ".typ", ".css", ".js", ".lua") and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def notebook_key(notebook: Path, params: dict[str, Any], inputs: dict[str, str]) -> str:
    doc = {
        "notebook": hashlib.sha256(notebook.read_bytes()).hexdigest(),
        "source": source_digest(),
        "inputs": dict(sorted(inputs.items())),
        "params": {k: v for k, v in sorted(params.items()) if k not in PLACE_PARAMS},
        "packages": package_versions(),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


class NotebookCache:
    def __init__(self, root: Path, enabled: bool = True):
        self.root, self.enabled = root, enabled
        self.hits: list[str] = []
        self.misses: list[str] = []

    def lookup(self, key: str) -> Path | None:
        entry = self.root / key[:2] / key
        if self.enabled and (entry / "notebook.ipynb").exists():
            return entry
        return None

    def restore(self, key: str, dest_nb: Path, files_dest: Path) -> bool:
        entry = self.lookup(key)
        if entry is None:
            return False
        dest_nb.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(entry / "notebook.ipynb", dest_nb)
        if (entry / "files").is_dir():
            shutil.copytree(entry / "files", files_dest, dirs_exist_ok=True)
        return True

    def store(self, key: str, executed_nb: Path, files: Path | None) -> None:
        """Write the entry in a temporary folder, then rename: readers never see half an entry."""
        if not self.enabled:
            return
        final = self.root / key[:2] / key
        tmp = self.root / key[:2] / f".{key}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            shutil.copy2(executed_nb, tmp / "notebook.ipynb")
            if files is not None and files.is_dir():
                shutil.copytree(files, tmp / "files")
            try:
                os.rename(tmp, final)
            except OSError:          # a parallel render stored the same key first
                pass
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def clear(self) -> int:
        n = sum(1 for _ in self.root.glob("*/*")) if self.root.exists() else 0
        shutil.rmtree(self.root, ignore_errors=True)
        return n
