"""Which project files a notebook's kernel reads: the dynamic part of the cache key.

The kernel is started with ``start(record, prefixes, excludes)`` (an IPython
``exec_lines`` entry, so it runs before the first cell). A Python audit hook
(PEP 578) sees every ``open`` -- including the source or byte-code files of
imported modules -- and appends each file under ``prefixes`` (the project, the
data folder) and not under ``excludes`` (the run's own output, the cache) to the
``record`` file, once. Byte-code paths are mapped back to their source file.
C extensions that open files themselves (pyreadstat, pyarrow) are not seen; the
datasets they read are hashed by the pipeline anyway.
"""
from __future__ import annotations

import os
import sys

_started = False


def _source_of(path: str) -> str:
    """``pkg/__pycache__/mod.cpython-311.pyc`` -> ``pkg/mod.py``."""
    head, name = os.path.split(path)
    if os.path.basename(head) == "__pycache__" and name.endswith(".pyc"):
        return os.path.join(os.path.dirname(head), name.split(".", 1)[0] + ".py")
    return path


def start(record: str, prefixes: list[str], excludes: list[str]) -> None:
    global _started
    if _started:
        return
    _started = True
    out = open(record, "a", encoding="utf-8", buffering=1)     # opened before the hook exists
    prefixes = tuple(os.path.join(os.path.abspath(p), "") for p in prefixes)
    excludes = tuple(os.path.join(os.path.abspath(p), "") for p in excludes)
    seen: set[str] = set()
    busy = [False]

    def hook(event: str, args: tuple) -> None:
        if event != "open" or busy[0]:
            return
        path, mode, flags = (tuple(args) + (None, None))[:3]
        if not isinstance(path, str):
            return
        if mode is not None and any(c in str(mode) for c in "wax+"):
            return
        if mode is None and isinstance(flags, int) and flags & os.O_ACCMODE != os.O_RDONLY:
            return
        busy[0] = True
        try:
            full = _source_of(os.path.abspath(path))
            if full not in seen and full.startswith(prefixes) and not full.startswith(excludes):
                seen.add(full)
                out.write(full + "\n")
        except Exception:       # never break the notebook for the sake of the record
            pass
        finally:
            busy[0] = False

    sys.addaudithook(hook)


def exec_line(record: str, prefixes: list[str], excludes: list[str]) -> str:
    """The statement the kernel runs at start-up."""
    return (f"import trialsupp.pipeline.deps as _ts_deps; "
            f"_ts_deps.start({record!r}, {list(map(str, prefixes))!r}, {list(map(str, excludes))!r}); del _ts_deps")


def read_record(record: str | os.PathLike) -> list[str]:
    try:
        with open(record, encoding="utf-8") as fh:
            return sorted({line.rstrip("\n") for line in fh if line.strip()})
    except FileNotFoundError:
        return []
