"""The render fingerprint: one SHA-256 over everything a render depends on.

Study config and project config, resolved parameters, formats, the fixed document time,
notebooks, ``report/``, ``_quarto.yml``, ``_extensions/``, the project's own code
(``src/``: generators, analyses), the data folder of a study that reads files, the
trialsupp package source, the publishing engine, Python and every installed distribution.
``render`` records it in ``run.json``; when the recorded one equals today's and every file
of the output manifest is still there, the output is left as it is. The compute fingerprint
leaves out what only the publisher reads: when it equals the previous render's, the render
re-publishes only (``trialsupp.pipeline.reuse``).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Iterable

import trialsupp

SKIP_DIRS = {"_results", "__pycache__", ".ipynb_checkpoints", ".git", "_output", ".pytest_cache"}
KEY = "fingerprint"


def _files(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        return
    for p in sorted(root.rglob("*")):
        if p.is_file() and not SKIP_DIRS.intersection(p.relative_to(root).parts):
            yield p


def _hash_tree(h, label: str, root: Path) -> None:
    for p in _files(root):
        rel = p.relative_to(root).as_posix() if root.is_dir() else p.name
        h.update(f"\0{label}/{rel}\0".encode())
        h.update(p.read_bytes())


def _installed() -> list[str]:
    """Every installed distribution as its ``name-version.dist-info`` folder: one directory
    listing per path entry (``importlib.metadata.version`` per package costs 10 ms each)."""
    found = set()
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as it:
                found.update(e.name for e in it if e.name.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return sorted(found)


def _versions() -> dict[str, Any]:
    return {"python": sys.version, "installed": _installed()}


def _engine(engine: str) -> dict[str, Any]:
    out: dict[str, Any] = {"engine": engine}
    if engine == "quarto":          # the binary itself (cheaper than asking it for its version)
        exe = shutil.which("quarto")
        out["quarto"] = [exe, Path(exe).resolve().stat().st_mtime_ns] if exe else None
    return out


def compute_fingerprint(study, values: dict[str, Any], fixed) -> str:
    """SHA-256 (hex) of what the data, the executed notebooks and the files they write depend
    on: everything but what only the publisher reads (``report/``, ``_quarto.yml``,
    ``_extensions/``, formats, engine). Equal to the previous render's: only re-publish."""
    project = study.project_dir
    h = hashlib.sha256()
    h.update(json.dumps({"params": values, "fixed": str(fixed[0]) if fixed else None,
                         "versions": _versions()}, sort_keys=True, default=str).encode())
    _hash_tree(h, "config", study.path)
    _hash_tree(h, "project", project / "trialsupp.yml")
    for nb in study.notebooks:
        _hash_tree(h, "notebook", nb)
    _hash_tree(h, "src", project / "src")
    if study.reads_files:
        _hash_tree(h, "data", study.data_dir)
    _hash_tree(h, "trialsupp", Path(trialsupp.__file__).parent)
    return h.hexdigest()


def render_fingerprints(study, values: dict[str, Any], formats, engine: str, fixed) -> tuple[str, str]:
    """(render fingerprint, compute fingerprint): the first over everything a render depends
    on (see the module docstring), the second over what its notebooks depend on."""
    compute = compute_fingerprint(study, values, fixed)
    project = study.project_dir
    h = hashlib.sha256(compute.encode())
    h.update(json.dumps({"formats": list(formats), **_engine(engine)}, sort_keys=True, default=str).encode())
    for name in ("_quarto.yml", "_extensions", "report"):
        _hash_tree(h, name, project / name)
    return h.hexdigest(), compute


def render_fingerprint(study, values: dict[str, Any], formats, engine: str, fixed) -> str:
    """SHA-256 (hex) of a render's inputs (see the module docstring)."""
    return render_fingerprints(study, values, formats, engine, fixed)[0]


def unchanged(out: Path, fingerprint: str) -> bool:
    """``out`` was rendered from inputs with this fingerprint and still holds every file it wrote."""
    from trialsupp.pipeline.integrity import OUTPUT_MANIFEST
    try:
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
        files = json.loads((out / OUTPUT_MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return run.get(KEY) == fingerprint and all((out / rel).is_file() for rel in files)
