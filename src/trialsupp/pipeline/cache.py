"""Content-addressed cache of executed notebooks.

The key has two parts:

* static, known before execution (``notebook_key``): SHA-256 over the notebook's
  bytes, trialsupp's own source, the SHA-256 of each input dataset, the parameter
  values and the versions of the Python packages used;
* dynamic, recorded during execution (``deps``): every project file the kernel
  read -- the project's own modules a notebook imports (``src/studies/<study>/``),
  the study config, ``SOURCE.md``, any file opened under the project or data
  folder -- with its SHA-256. A hit requires each of them unchanged.

Each entry carries ``MANIFEST.json``: the SHA-256 of every file in it. A restore
re-checks them; a damaged entry is discarded (one warning line) and the notebook
re-executed. ``--force`` re-executes and refreshes the entry. ``explain`` says why a
notebook ran: the first component of the key that differs from its last entry.

Location: ``$TRIALSUPP_CACHE`` or ``<project>/.trialsupp-cache/``;
``trialsupp cache clear`` empties it.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trialsupp
from trialsupp.ard.provenance import package_versions, sha256_file

# parameters that name places, not content: left out of the key
PLACE_PARAMS = ("data_dir", "out_dir")
MANIFEST = "MANIFEST.json"


def cache_dir(project: Path) -> Path:
    return Path(os.environ.get("TRIALSUPP_CACHE") or project / ".trialsupp-cache")


@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """One hash over trialsupp's own source files and templates."""
    root = Path(trialsupp.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml", ".typ", ".css", ".js", ".lua") and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def key_parts(notebook: Path, params: dict[str, Any], inputs: dict[str, str]) -> dict[str, Any]:
    return {"notebook": hashlib.sha256(notebook.read_bytes()).hexdigest(),
            "source": source_digest(),
            "inputs": dict(sorted(inputs.items())),
            "params": {k: v for k, v in sorted(params.items()) if k not in PLACE_PARAMS},
            "packages": package_versions()}


def digest(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def notebook_key(notebook: Path, params: dict[str, Any], inputs: dict[str, str]) -> str:
    return digest(key_parts(notebook, params, inputs))


def hash_deps(paths: list[str], project: Path) -> dict[str, str]:
    """Project-relative path (absolute when outside) -> SHA-256 of each file that still exists."""
    out = {}
    for p in paths:
        path = Path(p)
        if path.is_file():
            try:
                rel = path.relative_to(project).as_posix()
            except ValueError:
                rel = path.as_posix()
            out[rel] = sha256_file(path)
    return dict(sorted(out.items()))


def _files_of(entry: Path) -> dict[str, str]:
    return {p.relative_to(entry).as_posix(): sha256_file(p)
            for p in sorted(entry.rglob("*")) if p.is_file() and p.name != MANIFEST}


def _changed(old: dict, new: dict, what: str) -> list[str]:
    names = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return [f"{what} {', '.join(names[:3])}{' ...' if len(names) > 3 else ''} changed"] if names else []


@dataclass
class Lookup:
    entry: Path | None
    reason: str        # why it is restored, or why it must run


class NotebookCache:
    def __init__(self, root: Path, enabled: bool = True, project: Path | None = None):
        self.root, self.enabled, self.project = root, enabled, (project or Path.cwd())
        self.hits: list[str] = []
        self.misses: list[str] = []
        self.reasons: dict[str, str] = {}
        self.deps: dict[str, dict[str, str]] = {}     # notebook -> project files it read (SHA-256)
        self.warnings: list[str] = []

    # ---- lookup ------------------------------------------------------------------
    def _index(self, name: str) -> Path:
        return self.root / "index" / (hashlib.sha256(name.encode()).hexdigest()[:32] + ".json")

    def unseen(self, notebooks) -> bool:
        """True when some notebook (project path) never had an entry here: a cold render."""
        return any(not self._index(Path(nb).relative_to(self.project).as_posix()).is_file()
                   for nb in notebooks)

    def find(self, key: str, parts: dict[str, Any], name: str) -> Lookup:
        """The valid entry for ``key`` whose recorded dependencies are unchanged, or why none."""
        if not self.enabled:
            return Lookup(None, "ran: --force")
        entry = self.root / key[:2] / key
        if not entry.is_dir():
            return Lookup(None, "ran: " + self.explain(name, parts))
        damage = self.validate(entry)
        if damage:
            self.discard(entry)
            msg = f"cache entry {key[:12]} of {name} is damaged ({damage}); discarded, re-executing"
            self.warnings.append(msg)
            sys.stderr.write(f"trialsupp: warning: {msg}\n")
            return Lookup(None, f"ran: cache entry damaged ({damage})")
        deps = json.loads((entry / "deps.json").read_text(encoding="utf-8"))
        now = hash_deps([str(self.project / p) if not Path(p).is_absolute() else p for p in deps], self.project)
        changed = _changed(deps, now, "project file")
        if changed:
            return Lookup(None, "ran: " + changed[0])
        made = json.loads((entry / MANIFEST).read_text(encoding="utf-8")).get("created", "?")
        self.deps[name] = deps
        return Lookup(entry, f"restored from cache (entry {key[:12]}, executed {made})")

    def explain(self, name: str, parts: dict[str, Any]) -> str:
        """The first component of the key that differs from the last entry stored for ``name``."""
        try:
            last = json.loads(self._index(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "not in the cache"
        if not isinstance(last, dict):
            return "not in the cache"
        reasons = []
        if last.get("notebook") != parts["notebook"]:
            reasons.append("notebook changed")
        reasons += _changed(last.get("params") or {}, parts["params"], "parameter")
        reasons += _changed(last.get("inputs") or {}, parts["inputs"], "input")
        if last.get("source") != parts["source"]:
            reasons.append("trialsupp source changed")
        reasons += _changed(last.get("packages") or {}, parts["packages"], "package")
        return "; ".join(reasons) or "not in the cache"

    @staticmethod
    def validate(entry: Path) -> str | None:
        """None when every file of the entry has the SHA-256 its manifest records."""
        try:
            manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
            recorded = manifest["files"]
            json.loads((entry / "deps.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return f"{MANIFEST} unreadable: {type(exc).__name__}"
        actual = _files_of(entry)
        if not isinstance(recorded, dict) or "notebook.ipynb" not in recorded:
            return f"{MANIFEST} lists no notebook"
        for name in sorted(set(recorded) | set(actual)):
            if name not in actual:
                return f"{name} missing"
            if name not in recorded:
                return f"{name} not in {MANIFEST}"
            if recorded[name] != actual[name]:
                return f"{name} SHA-256 differs"
        return None

    def discard(self, entry: Path) -> None:
        trash = entry.parent / f".trash-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(entry, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def restore(self, entry: Path, dest_nb: Path, files_dest: Path) -> None:
        dest_nb.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(entry / "notebook.ipynb", dest_nb)
        if (entry / "files").is_dir():
            shutil.copytree(entry / "files", files_dest, dirs_exist_ok=True)

    # ---- store -------------------------------------------------------------------
    def store(self, key: str, parts: dict[str, Any], name: str, executed_nb: Path, files: Path | None,
              deps: dict[str, str]) -> None:
        """Write the entry in a temporary folder with its manifest, then rename it in place
        (replacing an older entry of the same key): readers never see half an entry."""
        final = self.root / key[:2] / key
        tmp = self.root / key[:2] / f".{key}.{uuid.uuid4().hex[:8]}"
        try:
            tmp.mkdir(parents=True)
            shutil.copy2(executed_nb, tmp / "notebook.ipynb")
            if files is not None and files.is_dir():
                shutil.copytree(files, tmp / "files")
            (tmp / "deps.json").write_text(json.dumps(deps, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            manifest = {"key": key, "notebook": name,
                        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                        "files": _files_of(tmp)}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            if final.exists():
                self.discard(final)
            try:
                os.rename(tmp, final)
            except OSError:          # a parallel render stored the same key first
                pass
            index = self._index(name)
            index.parent.mkdir(parents=True, exist_ok=True)
            part = index.with_name(index.name + f".{uuid.uuid4().hex[:8]}")
            part.write_text(json.dumps(parts, sort_keys=True, default=str), encoding="utf-8")
            os.replace(part, index)
        except OSError as exc:       # a full disk or read-only cache loses the entry, never the render
            msg = f"notebook cache {self.root} not written ({exc.strerror or exc}); the render goes on"
            if msg not in self.warnings:
                self.warnings.append(msg)
                sys.stderr.write(f"trialsupp: warning: {msg}\n")
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def clear(self) -> int:
        n = sum(1 for p in self.root.glob("*/*") if p.parent.name != "index") if self.root.exists() else 0
        shutil.rmtree(self.root, ignore_errors=True)
        return n
