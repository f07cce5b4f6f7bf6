"""File helpers shared by the pipeline and the publishers."""
from __future__ import annotations

import os
import shutil
from pathlib import Path


def link_or_copy(src: str | os.PathLike, dest: str | os.PathLike) -> None:
    """A hard link (the source is never written again), else a copy (another file system)."""
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)
