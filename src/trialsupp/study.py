"""Study configs (``study.yml`` of a project's study, named in ``trialsupp.yml``) and
typed, validated parameters. Paths inside a study config are relative to the project."""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trialsupp import _yaml
from trialsupp.ard.fmt import FormatRules

TOP_KEYS = {"name", "title", "short_title", "simulated", "simulated_statement", "citation",
            "supplement_sentence", "footer", "format_rules", "data", "parameters",
            "notebooks", "report", "simulation", "calibration", "protocol", "layout",
            "cuts", "populations", "audit_exempt", "study_period", "requirements"}
DATA_KEYS = {"source", "dir", "checksums", "datasets", "attribution", "generator", "cut_flags", "manifest"}
PARAM_KEYS = {"type", "default", "description", "choices", "min", "max"}
PARAM_TYPES = {"int", "float", "str", "bool", "date", "cut", "choice"}
_SAFE_STR = re.compile(r"^[\w .,:;=+\-/()%<>]*$")


class ConfigError(ValueError):
    """An invalid study config or parameter; the message names the key."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    description: str
    choices: tuple = ()
    min: Any = None            # inclusive bounds (int, float, date and cut parameters)
    max: Any = None


@dataclass
class Study:
    name: str
    path: Path
    raw: dict
    project_dir: Path
    params: dict[str, Param] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.raw.get("title", self.name)

    @property
    def simulated(self) -> bool:
        return bool(self.raw.get("simulated", False))

    @property
    def format_rules(self) -> FormatRules:
        return self.format_rules_for(None)

    def format_rules_for(self, output: str | None) -> FormatRules:
        """The study's format rules, with the overrides of ``format_rules.outputs[output]`` (e.g. a
        CSR shell printing 4-decimal P values: ``outputs: {"14-2.01": {pvalue_digits: 4}}``)."""
        given = self.raw.get("format_rules", {}) or {}
        if not isinstance(given, dict):
            raise ConfigError(f"{self.label}: format_rules: must be a mapping of rule: value, got {given!r}")
        raw = dict(given)
        per = raw.pop("outputs", None) or {}
        where = "format_rules"
        if output is not None and output in per:
            raw.update(per[output] or {})
            where = f"format_rules.outputs[{output!r}]"
        try:
            return FormatRules(**raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{self.label}: {where}: {exc}") from None

    @property
    def data_dir(self) -> Path:
        return _inside(self.project_dir, self.raw["data"]["dir"], f"{self.label}: data.dir")

    @property
    def reads_files(self) -> bool:
        """The study analyses files of its data folder (not data it simulates itself)."""
        return self.raw["data"].get("source") != "simulate"

    @property
    def manifest(self) -> Path | None:
        """``data.manifest``, or None for the default ``<data dir>/checksums.yml``."""
        rel = self.raw["data"].get("manifest")
        return _inside(self.project_dir, rel, f"{self.label}: data.manifest") if rel else None

    @property
    def notebooks(self) -> list[Path]:
        return [_inside(self.project_dir, nb, f"{self.label}: notebooks") for nb in self.raw["notebooks"]]

    @property
    def report(self) -> Path:
        return _inside(self.project_dir, self.raw["report"], f"{self.label}: report")

    @property
    def cuts(self) -> dict[str, str]:
        """Named data cuts: top-level ``cuts`` (name: date) or the simulator's
        ``simulation.data_cuts`` (name: {date, label})."""
        cuts = dict(self.raw.get("cuts") or {})
        for name, spec in ((self.raw.get("simulation") or {}).get("data_cuts") or {}).items():
            cuts.setdefault(name, spec["date"] if isinstance(spec, dict) else spec)
        return {k: str(v) for k, v in cuts.items()}

    @property
    def label(self) -> str:
        """The config's path as shown in messages (relative to the project)."""
        return _label(self.path, self.project_dir)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params.values()}


def _label(path: Path, project: Path) -> str:
    try:
        return path.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return str(path)


def _inside(root: Path, rel: str, key: str) -> Path:
    path = (root / rel).resolve()
    if not str(path).startswith(str(root.resolve()) + os.sep):
        raise ConfigError(f"{key}: path {rel!r} is outside the project directory {root}")
    return path


def find_project_dir(start: Path | None = None) -> Path:
    """The project folder (see :func:`trialsupp.project.find_project_dir`)."""
    from trialsupp.project import find_project_dir as find
    return find(start)


def available_studies(project: Path | None = None) -> list[str]:
    from trialsupp.project import read_project
    return sorted(read_project(project or find_project_dir())["studies"])


def read_yaml(path: Path, what: str) -> Any:
    """A YAML file's content; a missing file or invalid YAML is a ConfigError naming the file."""
    if not path.is_file():
        raise ConfigError(f"{what} {path} not found")
    try:
        return _yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML ({str(exc).splitlines()[0]})") from None


def load_study(name_or_path: str | Path | None = None, project_dir: Path | None = None) -> Study:
    """A study by NAME (of the project's ``trialsupp.yml``) or PATH (a study config, a
    folder holding ``study.yml``, or a project folder); None: the project's default."""
    from trialsupp.project import study_config
    path, project = study_config(name_or_path, Path(project_dir).resolve() if project_dir else None)
    label = _label(path, project)
    raw = read_yaml(path, "study config")
    if not isinstance(raw, dict):
        raise ConfigError(f"{label}: must be a mapping of keys")
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise ConfigError(f"{label}: unknown key(s) {', '.join(unknown)}")
    for key in ("name", "data", "notebooks", "report"):
        if key not in raw:
            raise ConfigError(f"{label}: missing required key {key!r}")
    if not isinstance(raw["data"], dict):
        raise ConfigError(f"{label}: data: must be a mapping")
    bad = sorted(set(raw["data"]) - DATA_KEYS)
    if bad:
        raise ConfigError(f"{label}: data: unknown key(s) {', '.join(bad)}")
    if not isinstance(raw["notebooks"], list) or not all(isinstance(n, str) for n in raw["notebooks"]):
        raise ConfigError(f"{label}: notebooks: must be a list of paths")
    check_config_types(label, raw)
    study = Study(name=raw["name"], path=path, raw=raw, project_dir=project.resolve())
    study.params = _parse_params(label, raw.get("parameters") or {})
    _apply_study_period(label, raw, study.params)
    sim_seed = (raw.get("simulation") or {}).get("seed")
    if "seed" in study.params and study.params["seed"].default is None and sim_seed is not None:
        p = study.params["seed"]
        study.params["seed"] = Param(p.name, p.type, coerce(p, sim_seed), p.description, p.choices, p.min, p.max)
    study.format_rules  # validate now
    for out in (study.raw.get("format_rules") or {}).get("outputs") or {}:
        study.format_rules_for(out)
    return study


def _apply_study_period(fname: str, raw: dict, params: dict[str, "Param"]) -> None:
    """``study_period: {start, end}`` (first randomisation, last data): every date parameter
    must fall inside it, and a data cut on or after its start (a cut before anyone was
    randomised leaves nothing to analyse)."""
    period = raw.get("study_period")
    if period is None:
        return
    if not isinstance(period, dict) or set(period) - {"start", "end"} or "start" not in period:
        raise ConfigError(f"{fname}: study_period: must be a mapping with start (and end) dates")
    day = Param("study_period", "date", None, "")
    start = coerce(day, period["start"], f"{fname}: study_period.start")
    end = coerce(day, period["end"], f"{fname}: study_period.end") if period.get("end") is not None else None
    for name, p in params.items():
        if p.type in ("date", "cut"):
            low = p.min if p.min is not None else start
            high = p.max if p.max is not None else (end if p.type == "date" else None)
            params[name] = Param(p.name, p.type, p.default, p.description, p.choices, low, high)
            if p.default is not None:
                coerce(params[name], p.default, f"{fname}: parameters.{name}.default")


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_config_types(where: str, raw: dict) -> None:
    """Types of the keys used in paths and on the title page. The study name becomes a
    folder name (``notebooks/<name>``, ``_output/<name>``), so it must be a plain name."""
    name = raw.get("name")
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        raise ConfigError(f"{where}: name: must be a folder name (letters, digits, . _ -), got {name!r}")
    for key in ("title", "short_title", "footer", "supplement_sentence", "simulated_statement", "report"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{where}: {key}: must be text, got {raw[key]!r}")
    if "simulated" in raw and not isinstance(raw["simulated"], bool):
        raise ConfigError(f"{where}: simulated: must be true or false, got {raw['simulated']!r}")
    if raw.get("citation") is not None and not isinstance(raw["citation"], dict):
        raise ConfigError(f"{where}: citation: must be a mapping (authors, title, journal, year, doi)")
    if not isinstance(raw["data"].get("dir", ""), str):
        raise ConfigError(f"{where}: data.dir: must be a path, got {raw['data']['dir']!r}")
    flags = raw["data"].get("cut_flags")
    if flags is not None and not (isinstance(flags, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in flags.items())):
        raise ConfigError(f"{where}: data.cut_flags: must map ADSL flags to the date variables that set them")
    if raw.get("audit_exempt") is not None and not (
            isinstance(raw["audit_exempt"], list) and all(isinstance(p, str) for p in raw["audit_exempt"])):
        raise ConfigError(f"{where}: audit_exempt: must be a list of regular expressions")


def _parse_params(fname: str, spec: dict) -> dict[str, Param]:
    if not isinstance(spec, dict):
        raise ConfigError(f"{fname}: parameters: must be a mapping")
    out = {}
    for name, body in spec.items():
        key = f"{fname}: parameters.{name}"
        if not isinstance(body, dict):
            raise ConfigError(f"{key}: must be a mapping with type, default, description")
        unknown = sorted(set(body) - PARAM_KEYS)
        if unknown:
            raise ConfigError(f"{key}: unknown key(s) {', '.join(unknown)}")
        ptype = body.get("type")
        if ptype not in PARAM_TYPES:
            raise ConfigError(f"{key}.type: must be one of {', '.join(sorted(PARAM_TYPES))}, got {ptype!r}")
        if not body.get("description"):
            raise ConfigError(f"{key}.description: every parameter needs a description")
        param = Param(name, ptype, None, body["description"], tuple(body.get("choices") or ()))
        if ptype == "choice" and not param.choices:
            raise ConfigError(f"{key}.choices: a choice parameter needs choices")
        bounds = {}
        for side in ("min", "max"):
            if body.get(side) is not None:
                if ptype not in ("int", "float", "date", "cut"):
                    raise ConfigError(f"{key}.{side}: only int, float, date and cut parameters take bounds")
                kind = Param(name, "date" if ptype == "cut" else ptype, None, "")
                bounds[side] = coerce(kind, body[side], f"{key}.{side}")
        param = Param(name, ptype, None, param.description, param.choices, **bounds)
        default = body.get("default")
        out[name] = Param(name, ptype, None if default is None else coerce(param, default, key + ".default"),
                          param.description, param.choices, param.min, param.max)
    return out


def coerce(param: Param, value: Any, where: str | None = None) -> Any:
    """Check and convert one parameter value, then its declared bounds; error names the parameter."""
    where = where or f"parameter {param.name!r}"
    value = _coerce(param, value, where)
    if value is None or (param.type == "cut" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value))):
        return value              # a named cut is checked against the study's cuts
    low, high = param.min, param.max
    if low is not None and value < low:
        raise ConfigError(f"{where}: must be {_bound_words(param, 'min')} {low}, got {value}")
    if high is not None and value > high:
        raise ConfigError(f"{where}: must be {_bound_words(param, 'max')} {high}, got {value}")
    return value


def _bound_words(param: Param, side: str) -> str:
    if param.type in ("date", "cut"):
        return "on or after" if side == "min" else "on or before"
    return "at least" if side == "min" else "at most"


def _coerce(param: Param, value: Any, where: str) -> Any:
    if value is None or (param.type == "cut" and value == ""):
        return None                       # "no value": e.g. no data cut
    text = value if isinstance(value, str) else None
    try:
        if param.type == "int":
            if isinstance(value, bool) or (text is not None and not re.fullmatch(r"[+-]?\d+", text.strip())):
                raise ValueError
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if param.type == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if param.type == "bool":
            if isinstance(value, bool):
                return value
            if text is not None and text.lower() in ("true", "yes", "1", "false", "no", "0"):
                return text.lower() in ("true", "yes", "1")
            raise ValueError
        if param.type in ("date", "cut"):
            if isinstance(value, dt.date):
                return value.isoformat()
            if text is None:
                raise ValueError
            if param.type == "cut" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", text):
                    raise ValueError
                return text           # a named cut, checked against the study's cuts
            return dt.date.fromisoformat(text).isoformat()
        if param.type == "choice":
            if value not in param.choices:
                raise ConfigError(f"{where}: must be one of {', '.join(map(str, param.choices))}, got {value!r}")
            return value
        if param.type == "str":
            if not isinstance(value, str) or not _SAFE_STR.fullmatch(value):
                raise ConfigError(f"{where}: must be plain text (letters, digits, spaces, .,:;=+-/()%<>), got {value!r}")
            return value
    except (ValueError, TypeError) as exc:
        if isinstance(exc, ConfigError):
            raise
        kind = {"int": "an integer", "float": "a number", "bool": "true or false",
                "date": "a date YYYY-MM-DD", "cut": "a data cut name or a date YYYY-MM-DD"}[param.type]
        raise ConfigError(f"{where}: expected {kind}, got {value!r}") from None
    raise ConfigError(f"{where}: unsupported type {param.type!r}")


def resolve_params(study: Study, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults overlaid with ``overrides``; unknown or ill-typed values are refused."""
    values = study.defaults()
    for name, value in (overrides or {}).items():
        if name not in study.params:
            raise ConfigError(f"unknown parameter {name!r} for study {study.name} "
                              f"(known: {', '.join(sorted(study.params))})")
        values[name] = coerce(study.params[name], value)
    cut = values.get("data_cut")
    if cut and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(cut)) and cut not in study.cuts:
        raise ConfigError(f"parameter 'data_cut': unknown cut {cut!r} "
                          f"(named cuts: {', '.join(study.cuts) or 'none'}; or give a date YYYY-MM-DD)")
    return values


def cut_date(study: Study, cut: str | None) -> str | None:
    """The calendar date of a named cut or an ISO date; None means no cut."""
    if not cut:
        return None
    return study.cuts.get(cut, cut) or None
