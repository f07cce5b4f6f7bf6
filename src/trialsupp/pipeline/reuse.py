"""Re-publish only: reuse the data and executed notebooks of the previous render.

When the compute fingerprint (``fingerprint.compute_fingerprint``: everything but what only
the publisher reads) equals the one the previous render in ``<out>`` recorded, and no
project file its notebooks read has changed since, the data, the executed notebooks, their
previews and the files they wrote are the bytes a re-execution (or a restore from the
notebook cache) would give: they are linked from the previous version folder into the new
one instead of being made again. Only the results store and what follows are rebuilt.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialsupp._files import link_or_copy

KEY = "reuse"          # run.json: {"compute": <hex>, "notebook_files": [...], "notebook_deps": {...}}
REASON = "unchanged since the previous render"


@dataclass
class Previous:
    folder: Path                      # the previous version folder (``<out>`` resolved)
    run: dict[str, Any]               # its run.json
    files: list[str] = field(default_factory=list)   # files its notebooks wrote (relative)


def previous(out: Path, compute: str, project: Path, notebooks: list[Path]) -> Previous | None:
    """The previous render in ``out`` when its data and notebooks can be reused, else None."""
    from trialsupp.pipeline.cache import hash_deps
    from trialsupp.pipeline.integrity import OUTPUT_MANIFEST
    try:
        folder = out.resolve(strict=True)
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        listed = json.loads((folder / OUTPUT_MANIFEST).read_text(encoding="utf-8"))["files"]
        info = run[KEY]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(info, dict) or info.get("compute") != compute:
        return None
    files = list(info.get("notebook_files") or [])
    needed = files + [f"notebooks/{nb.name}" for nb in notebooks] + [f"notebooks/{nb.stem}.html" for nb in notebooks]
    if any(rel not in listed or not (folder / rel).is_file() for rel in needed):
        return None
    deps = info.get("notebook_deps") or {}
    now = hash_deps([str(project / p) if not Path(p).is_absolute() else p for p in deps], project)
    if now != deps:                     # a file a notebook read (outside what the fingerprint covers) changed
        return None
    return Previous(folder, run, files)


def reuse_data(prev: Previous, vdir: Path) -> None:
    """The generated data folder of a simulated study."""
    src = prev.folder / "data"
    for path in sorted(src.rglob("*")):
        if path.is_file():
            link_or_copy(path, vdir / "data" / path.relative_to(src))


def reuse_notebooks(prev: Previous, notebooks: list[Path], vdir: Path) -> list[Path]:
    """Executed notebooks, their previews and the files they wrote, into ``vdir``. RTF files
    are copied (they are re-dated in place for this render, as a cache restore does)."""
    from trialsupp.pipeline.render import date_rtf_files
    executed = []
    for nb in notebooks:
        for rel in (f"notebooks/{nb.name}", f"notebooks/{nb.stem}.html"):
            link_or_copy(prev.folder / rel, vdir / rel)
        executed.append(vdir / "notebooks" / nb.name)
    rtf = vdir / ".rtf"
    for rel in prev.files:
        if rel.lower().endswith(".rtf"):
            (rtf / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(prev.folder / rel, rtf / rel)
        else:
            link_or_copy(prev.folder / rel, vdir / rel)
    if rtf.is_dir():
        date_rtf_files(rtf)
        for path in sorted(rtf.rglob("*")):
            if path.is_file():
                dest = vdir / path.relative_to(rtf)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, dest)
        shutil.rmtree(rtf)
    return executed


STORE_FILES = ("ard.json", "ard.csv")


def same_store(prev: Previous, key: dict[str, Any]) -> bool:
    """The results store would be the previous one: same notebooks (the compute fingerprint),
    same element numbers and the same run metadata in ard.json (``key``)."""
    return prev.run[KEY].get("store") == key and all((prev.folder / f).is_file() for f in STORE_FILES)


def reuse_store(prev: Previous, vdir: Path) -> None:
    for name in STORE_FILES:
        link_or_copy(prev.folder / name, vdir / name)


def record(compute: str, files: list[str], deps: dict[str, dict[str, str]],
           store_key: dict[str, Any]) -> dict[str, Any]:
    """What run.json keeps for the next render's reuse."""
    union: dict[str, str] = {}
    for per in deps.values():
        union.update(per)
    return {"compute": compute, "notebook_files": sorted(files), "notebook_deps": dict(sorted(union.items())),
            "store": store_key}
