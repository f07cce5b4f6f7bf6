"""Load and validate the ``simulation:`` section of a study config.

Every data-generating parameter of the simulated study lives in the study YAML
under ``simulation:``. :func:`load_config` reads it, checks it against
:data:`SCHEMA` (unknown keys, missing keys, wrong types, negative sizes,
non-positive ratios, probabilities outside [0, 1]) and a few cross-field rules
(subgroup sizes add up to arm sizes, the ratio matches the arms, ...). Every
problem raises :class:`SimulationConfigError` whose message starts with the
parameter path, e.g. ``simulation.dropout.monthly_prob: must be within [0, 1], got 1.3``.
"""
from __future__ import annotations

import abc
import copy
import datetime as _dt
from pathlib import Path
from typing import Any, Mapping

import yaml

DEFAULT_STUDY = Path(__file__).resolve().parent.parent / "study.yml"


class SimulationConfigError(ValueError):
    """A simulation parameter is missing, unknown or invalid; ``path`` names it."""

    def __init__(self, path: str, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


# ---------------------------------------------------------------- spec types
class Spec(abc.ABC):
    @abc.abstractmethod
    def check(self, value: Any, path: str) -> Any:
        """Return the normalised ``value`` or raise :class:`SimulationConfigError` at ``path``."""


def _kind(value: Any) -> str:
    return type(value).__name__


class Num(Spec):
    """A real number (ints accepted) with optional bounds."""

    def __init__(self, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
                 integer: bool = False):
        self.lo, self.hi, self.lo_open, self.integer = lo, hi, lo_open, integer

    def check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            want = "an integer" if self.integer else "a number"
            raise SimulationConfigError(path, f"must be {want}, got {value!r} ({_kind(value)})")
        if self.integer and not isinstance(value, int):
            raise SimulationConfigError(path, f"must be an integer, got {value!r}")
        if value != value:
            raise SimulationConfigError(path, "must be a number, got NaN")
        lo, hi = self.lo, self.hi
        if lo == 0 and hi == 1 and not self.lo_open and not (0 <= value <= 1):
            raise SimulationConfigError(path, f"must be within [0, 1], got {value!r}")
        if lo is not None and (value <= lo if self.lo_open else value < lo):
            raise SimulationConfigError(path, f"must be {'>' if self.lo_open else '>='} {lo}, got {value!r}")
        if hi is not None and value > hi:
            raise SimulationConfigError(path, f"must be <= {hi}, got {value!r}")
        return int(value) if self.integer else float(value)


def Int(lo: int | None = 0, hi: int | None = None) -> Num:
    return Num(lo, hi, integer=True)


def Pos() -> Num:
    return Num(0, lo_open=True)


def NonNeg() -> Num:
    return Num(0)


def Prob() -> Num:
    return Num(0, 1)


def Real() -> Num:
    return Num()


class Str(Spec):
    def __init__(self, choices: tuple[str, ...] | None = None):
        self.choices = choices

    def check(self, value, path):
        if not isinstance(value, str):
            raise SimulationConfigError(path, f"must be a string, got {value!r} ({_kind(value)})")
        if self.choices and value not in self.choices:
            raise SimulationConfigError(path, f"must be one of {', '.join(self.choices)}, got {value!r}")
        return value


class Date(Spec):
    def __init__(self, with_time: bool = False):
        self.with_time = with_time

    def check(self, value, path):
        if isinstance(value, _dt.datetime):
            return value if self.with_time else value.date()
        if isinstance(value, _dt.date):
            return _dt.datetime(value.year, value.month, value.day) if self.with_time else value
        if isinstance(value, str):
            try:
                parsed = _dt.datetime.fromisoformat(value)
            except ValueError:
                raise SimulationConfigError(path, f"must be an ISO date, got {value!r}") from None
            return parsed if self.with_time else parsed.date()
        raise SimulationConfigError(path, f"must be an ISO date, got {value!r} ({_kind(value)})")


class Seq(Spec):
    def __init__(self, item: Spec, length: int | None = None, min_len: int = 0, increasing: bool = False):
        self.item, self.length, self.min_len, self.increasing = item, length, min_len, increasing

    def check(self, value, path):
        if not isinstance(value, (list, tuple)):
            raise SimulationConfigError(path, f"must be a list, got {value!r} ({_kind(value)})")
        if self.length is not None and len(value) != self.length:
            raise SimulationConfigError(path, f"must have {self.length} elements, got {len(value)}")
        if len(value) < self.min_len:
            raise SimulationConfigError(path, f"must have at least {self.min_len} elements, got {len(value)}")
        out = [self.item.check(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if self.increasing and any(b <= a for a, b in zip(out, out[1:])):
            raise SimulationConfigError(path, f"must be strictly increasing, got {value!r}")
        return out


class Struct(Spec):
    """A mapping with a fixed set of keys (all required unless listed in ``optional``)."""

    def __init__(self, fields: dict[str, Spec], optional: dict[str, Any] | None = None):
        self.fields, self.optional = fields, optional or {}

    def check(self, value, path):
        if not isinstance(value, Mapping):
            raise SimulationConfigError(path, f"must be a mapping, got {value!r} ({_kind(value)})")
        for key in value:
            if key not in self.fields:
                raise SimulationConfigError(f"{path}.{key}", f"unknown key (expected one of: {', '.join(self.fields)})")
        out = {}
        for key, spec in self.fields.items():
            if key not in value:
                if key in self.optional:
                    out[key] = copy.deepcopy(self.optional[key])
                    continue
                raise SimulationConfigError(f"{path}.{key}", "missing")
            out[key] = spec.check(value[key], f"{path}.{key}")
        return out


class Map(Spec):
    """A mapping with free string keys, each value checked by ``value`` (order kept)."""

    def __init__(self, value: Spec, min_len: int = 1):
        self.value, self.min_len = value, min_len

    def check(self, value, path):
        if not isinstance(value, Mapping):
            raise SimulationConfigError(path, f"must be a mapping, got {value!r} ({_kind(value)})")
        if len(value) < self.min_len:
            raise SimulationConfigError(path, f"must have at least {self.min_len} entries")
        out = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise SimulationConfigError(f"{path}.{key}", f"key must be a string, got {_kind(key)}")
            out[key] = self.value.check(v, f"{path}.{key}")
        return out


def _arms(spec: Spec) -> Struct:
    return Struct({"tofersen": spec, "placebo": spec})


def _sub(spec: Spec) -> Struct:
    return Struct({"faster": spec, "slower": spec})


_MEAN_SD = Struct({"mean": Real(), "sd": NonNeg()})

SCHEMA = Struct({
    "seed": Int(0),
    "studyid": Str(),
    "arms": _arms(Struct({"label": Str(), "code": Int(0), "n": Int(0)})),
    "ratio": Seq(Pos(), length=2),
    "subgroups": _sub(Struct({"label": Str(), "code": Int(0), "n": _arms(Int(0))})),
    "start_groups": Struct({"early": Str(), "delayed": Str()}),
    "sites": Struct({"countries": Seq(Struct({"country": Str(), "region": Str(), "sites": Int(1)}), min_len=1)}),
    "calendar": Struct({"first_randomization": Date(), "last_randomization": Date(), "ole_close": Date()}),
    "data_cuts": Map(Struct({"date": Date(), "label": Str()})),
    "visits": Struct({
        "valor_days": Seq(Int(1), min_len=2, increasing=True),
        "valor_window_days": Int(0),
        "ole_first_week": Int(1),
        "ole_every_weeks": Int(1),
        "ole_last_week": Int(1),
        "ole_window_days": Int(0),
        "alsaq_valor_days": Seq(Int(1), min_len=1, increasing=True),
        "csf_valor_days": Seq(Int(1), min_len=1, increasing=True),
        "csf_ole_every": Int(1),
    }),
    "dosing": Struct({
        "dose_mg": Pos(),
        "loading_days": Seq(Int(1), min_len=1, increasing=True),
        "maintenance_every_days": Int(1),
        "valor_last_dose_day": Int(1),
        "dose_window_days": Int(0),
    }),
    "ole": Struct({"entrants": _arms(Int(0)), "completers": _arms(Int(0)), "entry_noise_sd": NonNeg()}),
    "baseline": Struct({
        "age": Struct({"tofersen": _MEAN_SD, "placebo": _MEAN_SD, "min": Int(0), "max": Int(1), "group_cut": Int(0)}),
        "male": _arms(Int(0)),
        "race": Map(Prob()),
        "hispanic_prob": Prob(),
        "riluzole_prob": Prob(),
        "edaravone_prob": Prob(),
        "onset_months": _sub(Struct({"median": Pos(), "log_sd": NonNeg()})),
        "alsfrs": Struct({"faster": _MEAN_SD, "slower": _MEAN_SD, "min": Num(0, 48), "max": Num(0, 48)}),
        "svc": Struct({"mean": Real(), "sd": NonNeg(), "min": NonNeg(), "max": NonNeg()}),
        "hhd": _MEAN_SD,
        "alsaq": Struct({"intercept": Real(), "per_point": Real(), "sd": NonNeg()}),
        "nfl": Struct({"faster": Struct({"geomean": Pos()}), "slower": Struct({"geomean": Pos()}),
                       "slope_coef": Real(), "log_sd": NonNeg()}),
        "csf_sod1": Struct({"geomean": Pos(), "log_sd": NonNeg()}),
    }),
    "variants": Struct({"a5v_n": Int(0), "a5v_name": Str(), "others": Seq(Str(), min_len=1)}),
    "progression": Struct({"faster": Struct({"median": Pos(), "log_sd": NonNeg()}),
                           "slower": Struct({"median": Pos(), "log_sd": NonNeg()}),
                           "a5v_multiplier": Pos()}),
    "treatment_effect": Struct({
        "emax_mean": Real(), "emax_sd": NonNeg(), "emax_min": Real(), "emax_max": Real(),
        "lag_weeks": Pos(), "shape": Pos(), "max_gain": NonNeg(),
        "nfl": Struct({"drift_per_week": _sub(Real()), "fall_mean": Real(), "fall_sd": NonNeg(),
                       "fall_weeks": Pos(), "late_fall": Real(), "late_weeks": Pos(),
                       "drift_reversal": Prob()}),
        "csf_sod1": Struct({"drift_per_week": Real(), "fall_mean": Real(), "fall_sd": NonNeg(),
                            "fall_weeks": Pos()}),
    }),
    "measurement": Struct({k: NonNeg() for k in ("item_sd", "visit_sd", "svc_sd", "hhd_sd", "alsaq_sd",
                                                  "nfl_log_sd", "sod1_log_sd", "max_observed_gain")}),
    "correlation": Struct({
        "svc_per_point": _MEAN_SD, "svc_per_week": Real(),
        "svc_untreated": Struct({"per_week": NonNeg(), "recovery_weeks": Pos()}),
        "hhd_per_point": _MEAN_SD, "hhd_per_week": Real(),
        "alsaq_per_point": _MEAN_SD,
        "alsaq_untreated": Struct({"per_week": NonNeg(), "recovery_weeks": Pos()}),
    }, optional={"alsaq_untreated": {"per_week": 0.0, "recovery_weeks": 30.0}}),
    "items": Struct({"dirichlet_alpha": Pos(), "onset_bulbar_prob": Prob()}),
    "events": Struct({
        "ref_alsfrs": Num(0, 48), "nfl_ref": Pos(),
        "death": Struct({"base": NonNeg(), "function_coef": Real(), "nfl_coef": Real(), "nfl_change_coef": Real()}),
        "ventilation": Struct({"base": NonNeg(), "function_coef": Real(), "nfl_coef": Real(),
                               "nfl_change_coef": Real()}),
        "tofersen_treated_deaths": Int(0),
    }),
    "dropout": Struct({"monthly_prob": Prob(), "ole_monthly_prob": Prob(), "state_coef": Real(),
                       "ref_alsfrs": Num(0, 48)}),
    "adverse_events": Struct({
        "per_dose": Map(Seq(Prob(), length=2)),
        "per_year": Map(Seq(NonNeg(), length=2)),
        "severity_probs": Seq(Prob(), length=3),
        "related_prob": Map(Prob()),
        "serious_prob": Prob(),
        "discontinuation_prob": Prob(),
        "placebo_serious_per_year": NonNeg(),
        "serious_neuro": Map(Int(0)),
    }),
    "stabilise_or_improve": Struct({"visit_week": Int(0), "min_change": Real(), "target_share": Prob()}),
    "xpt_timestamp": Date(with_time=True),
})


def _cross_checks(s: dict) -> None:
    P = "simulation"
    arms, subs = s["arms"], s["subgroups"]
    for arm in ("tofersen", "placebo"):
        tot = subs["faster"]["n"][arm] + subs["slower"]["n"][arm]
        if tot != arms[arm]["n"]:
            raise SimulationConfigError(f"{P}.subgroups", f"{arm} subgroup sizes add up to {tot}, "
                                                          f"not simulation.arms.{arm}.n = {arms[arm]['n']}")
    if arms["tofersen"]["n"] < 1 or arms["placebo"]["n"] < 1:
        raise SimulationConfigError(f"{P}.arms", "each arm needs at least 1 participant")
    r = s["ratio"]
    if abs(arms["tofersen"]["n"] * r[1] - arms["placebo"]["n"] * r[0]) > 1e-9 * max(r):
        raise SimulationConfigError(f"{P}.ratio", f"{r[0]:g}:{r[1]:g} does not match the arm sizes "
                                                  f"{arms['tofersen']['n']}:{arms['placebo']['n']}")
    if arms["tofersen"]["code"] == arms["placebo"]["code"]:
        raise SimulationConfigError(f"{P}.arms.placebo.code", "must differ from the tofersen code")
    cal = s["calendar"]
    if not cal["first_randomization"] <= cal["last_randomization"] < cal["ole_close"]:
        raise SimulationConfigError(f"{P}.calendar", "dates must satisfy first_randomization <= "
                                                     "last_randomization < ole_close")
    for name, cut in s["data_cuts"].items():
        if cut["date"] <= cal["first_randomization"]:
            raise SimulationConfigError(f"{P}.data_cuts.{name}.date", "must be after the first randomisation")
    if "final" not in s["data_cuts"]:
        raise SimulationConfigError(f"{P}.data_cuts.final", "missing")
    v = s["visits"]
    if v["valor_days"][0] != 1:
        raise SimulationConfigError(f"{P}.visits.valor_days", "must start with day 1 (baseline)")
    if v["ole_first_week"] * 7 + 1 <= v["valor_days"][-1]:
        raise SimulationConfigError(f"{P}.visits.ole_first_week", "must come after the last VALOR visit")
    if v["ole_last_week"] < v["ole_first_week"]:
        raise SimulationConfigError(f"{P}.visits.ole_last_week", "must be >= ole_first_week")
    for key in ("alsaq_valor_days", "csf_valor_days"):
        bad = [d for d in v[key] if d not in v["valor_days"]]
        if bad:
            raise SimulationConfigError(f"{P}.visits.{key}", f"days {bad} are not VALOR visit days")
    ole = s["ole"]
    for arm in ("tofersen", "placebo"):
        if ole["entrants"][arm] > arms[arm]["n"]:
            raise SimulationConfigError(f"{P}.ole.entrants.{arm}", f"exceeds the arm size {arms[arm]['n']}")
        if ole["completers"][arm] > ole["entrants"][arm]:
            raise SimulationConfigError(f"{P}.ole.completers.{arm}", "exceeds the OLE entrants")
    b = s["baseline"]
    for arm in ("tofersen", "placebo"):
        if b["male"][arm] > arms[arm]["n"]:
            raise SimulationConfigError(f"{P}.baseline.male.{arm}", f"exceeds the arm size {arms[arm]['n']}")
    if abs(sum(b["race"].values()) - 1) > 1e-6:
        raise SimulationConfigError(f"{P}.baseline.race", f"probabilities must sum to 1, got {sum(b['race'].values()):g}")
    if b["age"]["min"] >= b["age"]["max"]:
        raise SimulationConfigError(f"{P}.baseline.age.max", "must exceed baseline.age.min")
    if b["alsfrs"]["min"] > b["alsfrs"]["max"]:
        raise SimulationConfigError(f"{P}.baseline.alsfrs.max", "must be >= baseline.alsfrs.min")
    var = s["variants"]
    if var["a5v_n"] > subs["faster"]["n"]["tofersen"] + subs["faster"]["n"]["placebo"]:
        raise SimulationConfigError(f"{P}.variants.a5v_n", "exceeds the faster-progression subgroup")
    if len(set(var["others"])) != len(var["others"]) or var["a5v_name"] in var["others"]:
        raise SimulationConfigError(f"{P}.variants.others", "variant names must be distinct")
    n_total = arms["tofersen"]["n"] + arms["placebo"]["n"]
    if len(var["others"]) > n_total - var["a5v_n"]:
        raise SimulationConfigError(f"{P}.variants.others", "more variants than participants to carry them")
    n_sites = sum(c["sites"] for c in s["sites"]["countries"])
    if n_sites > n_total:
        raise SimulationConfigError(f"{P}.sites.countries", f"{n_sites} sites but only {n_total} participants")
    te = s["treatment_effect"]
    if te["emax_min"] > te["emax_max"]:
        raise SimulationConfigError(f"{P}.treatment_effect.emax_max", "must be >= emax_min")
    if abs(sum(s["adverse_events"]["severity_probs"]) - 1) > 1e-6:
        raise SimulationConfigError(f"{P}.adverse_events.severity_probs", "must sum to 1")
    if "default" not in s["adverse_events"]["related_prob"]:
        raise SimulationConfigError(f"{P}.adverse_events.related_prob.default", "missing")


def validate_simulation(section: Any) -> dict:
    """Validate a ``simulation:`` mapping; return a normalised deep copy."""
    out = SCHEMA.check(section, "simulation")
    _cross_checks(out)
    return out


def load_study(config: str | Path | Mapping | None = None) -> dict:
    """Read a study config (path, mapping or ``None`` for the default VALOR study).

    Returns the full study mapping with its ``simulation`` section validated
    and normalised. A mapping without a ``simulation`` key is taken to be the
    simulation section itself.
    """
    if config is None:
        config = DEFAULT_STUDY
    if isinstance(config, (str, Path)):
        with open(config, encoding="utf-8") as fh:
            study = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    elif isinstance(config, Mapping):
        study = copy.deepcopy(dict(config))
    else:
        raise TypeError(f"config must be a path, a mapping or None, not {type(config).__name__}")
    if not isinstance(study, Mapping):
        raise SimulationConfigError("simulation", "the study config is not a mapping")
    if "simulation" not in study:
        study = {"name": "valor", "simulated": True, "simulation": study}
    study = dict(study)
    study["simulation"] = validate_simulation(study["simulation"])
    return study


def load_config(config: str | Path | Mapping | None = None) -> dict:
    """The validated ``simulation`` section of a study config (see :func:`load_study`)."""
    return load_study(config)["simulation"]
