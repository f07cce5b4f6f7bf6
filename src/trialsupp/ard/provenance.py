"""Provenance of code and inputs: git blob hashes, file SHA-256, environment."""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import platform
import subprocess
import sys
from pathlib import Path
from typing import Callable

PACKAGES = ("trialsupp", "numpy", "pandas", "scipy", "statsmodels", "lifelines",
            "matplotlib", "seaborn", "pyarrow", "pyreadstat", "papermill",
            "pypandoc-binary", "typst", "rtflite")


@functools.lru_cache(maxsize=None)
def git_blob_sha1(path: str) -> str:
    """The hash git gives the file's content (``git hash-object``), computed without git."""
    data = Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def code_ref(func: Callable) -> str:
    """``module:qualname@<git blob sha1>`` for the function's source file."""
    func = inspect.unwrap(func)
    src = inspect.getsourcefile(func)
    blob = git_blob_sha1(src) if src else "unknown"
    return f"{func.__module__}:{func.__qualname__}@{blob}"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def package_versions(names=PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_state(root: str | Path) -> dict[str, object]:
    """Commit and dirty flag of the checkout at ``root`` (None when not a git checkout)."""
    def run(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=20)
    try:
        head = run("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        dirty = run("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def environment() -> dict[str, object]:
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "packages": package_versions()}
