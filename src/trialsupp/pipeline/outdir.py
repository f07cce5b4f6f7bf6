"""Safe output: one writer per output folder, work in a staging folder, swap on success.

``<out>`` is a symbolic link to a versioned sibling folder ``.<name>.<run>``; a new
render is written into a fresh sibling and the link is replaced atomically with
``os.replace``. Readers always see a complete render: a render killed at any point
(SIGINT, SIGTERM, SIGKILL) leaves the previous output as it was, and the next
render removes the leftovers.
"""
from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path


class OutputBusyError(RuntimeError):
    """Another render holds the output folder."""


@contextmanager
def output_lock(out: Path, wait: bool = False, timeout: float = 600.0):
    """Exclusive lock on ``<out>``; a second render refuses (or waits, with ``wait``)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.parent / f".{out.name}.lock"
    fh = open(lock_path, "a+")
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if not wait or time.monotonic() > deadline:
                    raise OutputBusyError(f"another trialsupp render is writing {out} "
                                          f"(lock {lock_path.name}); try again when it ends, or pass --wait") from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def new_version_dir(out: Path) -> Path:
    """A fresh sibling folder for this render (hidden; becomes ``<out>`` on success)."""
    sweep_leftovers(out)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = out.parent / f".{out.name}.{stamp}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    return path


def current_target(out: Path) -> Path | None:
    if out.is_symlink():
        return (out.parent / os.readlink(out)).resolve()
    return out if out.exists() else None


def swap_in(out: Path, new_dir: Path) -> None:
    """Make ``<out>`` point at ``new_dir`` atomically; remove the previous version after."""
    previous = current_target(out)
    if out.exists() and not out.is_symlink():
        # a plain folder from elsewhere: keep it as a versioned sibling, then link
        legacy = out.parent / f".{out.name}.legacy-{uuid.uuid4().hex[:8]}"
        os.replace(out, legacy)
        os.symlink(legacy.name, out)
        previous = legacy
    tmp_link = out.parent / f".{out.name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(new_dir.name, tmp_link)
    os.replace(tmp_link, out)
    if previous and previous.resolve() != new_dir.resolve():
        shutil.rmtree(previous, ignore_errors=True)


def _leftover_pattern(out: Path) -> "re.Pattern[str]":
    """Names this module (and render's build folder) give to ``<out>``'s siblings: version
    folders ``.<name>.<stamp>-<hex>``, ``.<name>.legacy-<hex>``, temporary links
    ``.<name>.link-<hex>`` and build folders ``.<name>.build-<hex>``. Matching exactly
    keeps the folders of another output whose name starts with ``<name>.`` (e.g.
    ``final`` and ``final.v2`` rendered side by side by a matrix)."""
    return re.compile(rf"\.{re.escape(out.name)}\.(?:\d{{8}}T\d{{6}}-|legacy-|link-|build-)[0-9a-f]{{8}}")


def sweep_leftovers(out: Path) -> None:
    """Remove staging folders of renders that died (not the live target)."""
    live = current_target(out)
    pattern = _leftover_pattern(out)
    for cand in out.parent.glob(f".{out.name}.*"):
        if not pattern.fullmatch(cand.name) or (live and cand.resolve() == live.resolve()):
            continue
        if cand.is_symlink() or cand.is_file():
            cand.unlink(missing_ok=True)
        elif cand.is_dir():
            shutil.rmtree(cand, ignore_errors=True)
