"""A trialsupp project: the folder holding ``trialsupp.yml``.

A project is what the user owns (``trialsupp.yml``, ``notebooks/``, ``report/``,
``data/``, ``_quarto.yml``, ``_extensions/trialsupp/`` and optionally its own code
in ``src/``, e.g. ``src/studies/<study>/``). ``trialsupp.yml`` names the project's
studies and the default one::

    default: mytrial
    studies:
      mytrial: src/studies/mytrial/study.yml

The package ships what every project needs (the Quarto extension, Typst partials,
CSS and a base ``_quarto.yml``) in ``trialsupp/templates/``; :func:`install_templates`
writes them into a project when missing or when the installed extension is older.
"""
from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

from trialsupp import _yaml

PROJECT_FILE = "trialsupp.yml"
TEMPLATES = Path(__file__).resolve().parent / "templates"
EXTENSION = Path("_extensions") / "trialsupp"
PROJECT_KEYS = {"default", "studies"}


def _config_error(message: str) -> Exception:
    from trialsupp.study import ConfigError
    return ConfigError(message)


def project_above(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` holding ``trialsupp.yml``."""
    path = path.resolve()
    for cand in (path, *path.parents):
        if (cand / PROJECT_FILE).is_file():
            return cand
    return None


def find_project_dir(start: Path | None = None) -> Path:
    """The project folder: ``$TRIALSUPP_PROJECT``, else the nearest folder up from
    ``start`` (default: the current folder) holding ``trialsupp.yml``."""
    env = os.environ.get("TRIALSUPP_PROJECT")
    if env:
        return Path(env).resolve()
    found = project_above(start or Path.cwd())
    if found is None:
        raise _config_error(f"no trialsupp project here: no {PROJECT_FILE} in {Path(start or Path.cwd()).resolve()} "
                            "or a folder above (give --study PATH, or create one with `trialsupp new`)")
    return found


def read_project(project: Path) -> dict[str, Any]:
    """``trialsupp.yml`` checked: ``{"default": name|None, "studies": {name: Path}}``.
    A folder without the file is a project without registered studies."""
    path = project / PROJECT_FILE
    if not path.is_file():
        return {"default": None, "studies": {}}
    try:
        raw = _yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise _config_error(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise _config_error(f"{path}: must be a mapping with keys studies and default")
    unknown = sorted(set(raw) - PROJECT_KEYS)
    if unknown:
        raise _config_error(f"{path}: unknown key(s) {', '.join(unknown)}")
    studies = raw.get("studies") or {}
    if not isinstance(studies, dict) or not all(isinstance(v, str) for v in studies.values()):
        raise _config_error(f"{path}: studies: must map study names to config paths")
    default = raw.get("default")
    if default is not None and default not in studies:
        raise _config_error(f"{path}: default: {default!r} is not one of the studies ({', '.join(studies) or 'none'})")
    return {"default": default or (next(iter(studies)) if len(studies) == 1 else None),
            "studies": {str(k): project / v for k, v in studies.items()}}


def looks_like_path(ref: str) -> bool:
    return ref.endswith((".yml", ".yaml")) or "/" in ref or os.sep in ref or ref in (".", "..")


def study_config(ref: str | os.PathLike | None, project: Path | None = None) -> tuple[Path, Path]:
    """``(study config path, project folder)`` for ``--study NAME|PATH``.

    NAME is a study of the project (``trialsupp.yml``); PATH is a study config, a
    folder holding ``study.yml``, or a project folder (its default study). None is the
    default study of the project in the current folder."""
    if ref is None or str(ref) == "":
        project = project or find_project_dir()
        spec = read_project(project)
        if not spec["default"]:
            raise _config_error(f"{project / PROJECT_FILE}: no default study; give --study NAME "
                                f"(studies: {', '.join(spec['studies']) or 'none'})")
        return spec["studies"][spec["default"]], project
    ref = str(ref)
    if not looks_like_path(ref) and not Path(ref).exists():
        project = project or find_project_dir()
        studies = read_project(project)["studies"]
        if ref not in studies:
            raise _config_error(f"unknown study {ref!r} (studies of {project}: {', '.join(sorted(studies)) or 'none'})")
        return studies[ref], project
    path = Path(ref)
    if not path.is_absolute() and not path.exists() and project is not None and (project / path).exists():
        path = project / path
    path = path.resolve()
    if path.is_dir():
        if (path / "study.yml").is_file():
            path = path / "study.yml"
        elif (path / PROJECT_FILE).is_file():
            return study_config(None, path)
        else:
            raise _config_error(f"{path}: neither a study folder (study.yml) nor a project ({PROJECT_FILE})")
    return path, project or project_above(path.parent) or find_project_dir()


def study_ref(config: Path, project: Path, name: str) -> str:
    """How notebooks are told their study: the name when the project registers this
    config under it, else the config path relative to the project (absolute outside)."""
    if read_project(project)["studies"].get(name) == config:
        return name
    try:
        return config.relative_to(project).as_posix()
    except ValueError:
        return str(config)


def code_dir(project: Path) -> Path:
    return project / "src"


_CODE_PATH: list[str] = []      # the project src/ this process put on its paths


def add_code_path(project: Path) -> None:
    """Put ``<project>/src`` on this process's import path and on the PYTHONPATH of
    subprocesses (notebook kernels), so that ``import studies.<study>`` works. A process
    that serves another project first drops the previous project's folder and the modules
    imported from it (every project names its code ``studies``)."""
    src = code_dir(project)
    for old in [p for p in _CODE_PATH if p != str(src)]:
        _drop_code_path(old)
    if not src.is_dir():
        return
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
        importlib.invalidate_caches()
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(src) not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(src), *parts])
    if str(src) not in _CODE_PATH:
        _CODE_PATH.append(str(src))


def _drop_code_path(src: str) -> None:
    """Forget a project's code folder; trialsupp itself may live there (a source checkout
    that is also a project) and then stays importable."""
    _CODE_PATH.remove(src)
    ours = Path(__file__).resolve().parent.parent == Path(src).resolve()
    if not ours:
        while src in sys.path:
            sys.path.remove(src)
        parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != src]
        if parts:
            os.environ["PYTHONPATH"] = os.pathsep.join(parts)
        else:
            os.environ.pop("PYTHONPATH", None)
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None) or ""
        if where.startswith(src + os.sep) and name.partition(".")[0] != "trialsupp":
            del sys.modules[name]
    importlib.invalidate_caches()


def entry_point(spec: str, project: Path, where: str) -> Callable:
    """The function named by ``"package.module:function"`` in the project's code."""
    module, sep, func = str(spec).partition(":")
    if not sep or not module or not func:
        raise _config_error(f"{where}: expected 'module:function', got {spec!r}")
    add_code_path(project)
    try:
        obj = importlib.import_module(module)
    except ImportError as exc:
        raise _config_error(f"{where}: cannot import {module!r} ({exc}); is it in {code_dir(project)}?") from None
    for part in func.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise _config_error(f"{where}: {module!r} has no {func!r}")
    return obj


def _extension_version(folder: Path) -> str | None:
    meta = folder / "_extension.yml"
    if not meta.is_file():
        return None
    try:
        return str((yaml.safe_load(meta.read_text(encoding="utf-8")) or {}).get("version"))
    except yaml.YAMLError:
        return None


def template_files() -> list[Path]:
    """The templates a project holds (``_quarto.yml`` and ``_extensions/trialsupp/``), relative
    to the templates folder; others there (e.g. ``docx/``) are used from the package."""
    files = [Path("_quarto.yml")] + [p.relative_to(TEMPLATES) for p in (TEMPLATES / EXTENSION).rglob("*")]
    return sorted(f for f in files if (TEMPLATES / f).is_file() and "__pycache__" not in f.parts)


def install_templates(project: Path, force: bool = False) -> list[Path]:
    """Write the package's ``_quarto.yml`` (when missing: it is the user's to edit) and
    ``_extensions/trialsupp/`` (when missing, or when its ``_extension.yml`` version
    differs from the package's, or ``force``) into ``project``; returns what was written."""
    written = []
    target_ext = project / EXTENSION
    refresh = force or _extension_version(target_ext) != _extension_version(TEMPLATES / EXTENSION)
    for rel in template_files():
        dest = project / rel
        in_extension = rel.parts[:2] == EXTENSION.parts
        if dest.exists() and not (in_extension and refresh):
            continue
        if dest.exists() and dest.read_bytes() == (TEMPLATES / rel).read_bytes():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(TEMPLATES / rel, tmp)
        os.replace(tmp, dest)
        written.append(dest)
    return written
