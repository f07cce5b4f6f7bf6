"""Design constants for the eMethods (context "config") and the data dictionary (context
"define"), as ARD rows. These are not statistics: each row carries a value read from the
study config (``simulation:`` section of ``studies/valor.yaml``) or from ``define.json``,
so that the methods text and the dictionary table have no hand-typed numbers.

Ids (output "design", analysis "config"): ``design.config.<variable>[.<level>].value``,
e.g. ``design.config.arm-n.tofersen.value``.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping

import pandas as pd

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows, bind_ard

__all__ = ["config_ard", "dictionary_ard", "fmt_date", "join_list", "DAYS_PER_WEEK"]

DAYS_PER_WEEK = 7


def fmt_date(value: Any) -> str:
    """ISO date -> "March 18, 2019" (AMA style)."""
    d = value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value))
    return f"{d:%B} {d.day}, {d.year}"


def join_list(items) -> str:
    """[1, 15, 29] -> "1, 15, and 29" (AMA serial comma)."""
    items = [str(x) for x in items]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _week(day: int) -> int:
    """Study day (day 1 = randomization) -> study week."""
    return (int(day) - 1) // DAYS_PER_WEEK


def config_ard(sim: Mapping[str, Any], study: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Design constants read from the config ``simulation:`` section (and study parameters)."""
    code = code_ref(config_ard)
    rows: list[pd.DataFrame] = []

    def add(variable: str, value: Any, level: Any = None, label: str = "", fmt: str | None = None,
            source: str = "") -> None:
        spec = fmt or ("int" if isinstance(value, int) and not isinstance(value, bool) else "str")
        rows.append(ard_rows({"value": value}, variable=variable, variable_level=level, context="config",
                             method=f"Study config: {source or variable}", code=code, fmt={"value": spec},
                             labels={"value": label or variable}))

    arms, subs = sim["arms"], sim["subgroups"]
    for key, arm in arms.items():
        add("arm_n", int(arm["n"]), key, f"Planned size, {arm['label']}", source=f"arms.{key}.n")
        add("arm_label", str(arm["label"]), key, "Arm label", source=f"arms.{key}.label")
    add("n_randomized", int(sum(a["n"] for a in arms.values())), label="Planned randomized",
        source="sum of arms.*.n")
    add("ratio", ":".join(str(r) for r in sim["ratio"]), label="Allocation ratio (tofersen:placebo)",
        source="ratio")
    for key, sg in subs.items():
        add("subgroup_n", int(sum(sg["n"].values())), key, f"Planned size, {sg['label']}",
            source=f"subgroups.{key}.n")
        for arm, n in sg["n"].items():
            add("subgroup_arm_n", int(n), f"{key}-{arm}", f"Planned size, {sg['label']}, {arm}",
                source=f"subgroups.{key}.n.{arm}")
    countries = sim["sites"]["countries"]
    add("sites", int(sum(c["sites"] for c in countries)), label="Sites", source="sites.countries[*].sites")
    add("countries", len(countries), label="Countries", source="sites.countries")
    cal = sim["calendar"]
    for key in ("first_randomization", "last_randomization", "ole_close"):
        add("date", fmt_date(cal[key]), key, key.replace("_", " "), source=f"calendar.{key}")
    for key, cut in sim["data_cuts"].items():
        add("cut_date", fmt_date(cut["date"]), key, f"Data cut {key}", source=f"data_cuts.{key}.date")
        add("cut_label", str(cut["label"]), key, f"Data cut {key}", source=f"data_cuts.{key}.label")
    vis = sim["visits"]
    add("valor_visit_days", join_list(vis["valor_days"]), label="VALOR visit days",
        source="visits.valor_days")
    add("valor_visits", len(vis["valor_days"]), label="VALOR visits", source="visits.valor_days")
    add("readout_day", int(vis["valor_days"][-1]), label="Primary read-out (day)", source="visits.valor_days[-1]")
    add("readout_week", _week(vis["valor_days"][-1]), label="Primary read-out (week)",
        source="visits.valor_days[-1]")
    add("valor_window_days", int(vis["valor_window_days"]), label="VALOR visit window (days)")
    for key in ("ole_first_week", "ole_every_weeks", "ole_last_week", "ole_window_days"):
        add(key, int(vis[key]), label=key.replace("_", " "), source=f"visits.{key}")
    add("alsaq_valor_days", join_list(vis["alsaq_valor_days"]), label="ALSAQ-40 days in VALOR")
    add("csf_valor_days", join_list(vis["csf_valor_days"]), label="CSF sampling days in VALOR")
    add("csf_ole_every", int(vis["csf_ole_every"]), label="CSF SOD1 at every k-th OLE visit")
    dose = sim["dosing"]
    load = list(dose["loading_days"])
    every = int(dose["maintenance_every_days"])
    first_maint = load[-1] + every
    n_maint = (int(dose["valor_last_dose_day"]) - first_maint) // every + 1
    add("dose_mg", int(dose["dose_mg"]), label="Dose per administration (mg)", source="dosing.dose_mg")
    add("loading_doses", len(load), label="Loading doses", source="dosing.loading_days")
    add("loading_days", join_list(load), label="Loading dose days", source="dosing.loading_days")
    add("loading_interval_weeks", (load[1] - load[0]) // DAYS_PER_WEEK, label="Weeks between loading doses",
        source="dosing.loading_days")
    add("maintenance_every_weeks", every // DAYS_PER_WEEK, label="Maintenance interval (weeks)",
        source="dosing.maintenance_every_days")
    add("maintenance_doses", n_maint, label="Maintenance doses in VALOR",
        source="dosing.loading_days, maintenance_every_days, valor_last_dose_day")
    add("maintenance_days", join_list(range(first_maint, int(dose["valor_last_dose_day"]) + 1, every)),
        label="Maintenance dose days in VALOR")
    add("valor_doses", len(load) + n_maint, label="Doses in VALOR")
    add("treatment_weeks", _week(dose["valor_last_dose_day"]), label="Weeks of treatment in VALOR",
        source="dosing.valor_last_dose_day")
    add("last_dose_day", int(dose["valor_last_dose_day"]), label="Last VALOR dose (day)")
    st = sim["stabilise_or_improve"]
    add("stabilise_week", int(st["visit_week"]), label="Week of the stabilise-or-improve assessment",
        source="stabilise_or_improve.visit_week")
    add("stabilise_min_change", int(st["min_change"]), label="Minimum ALSFRS-R change for stabilise/improve",
        source="stabilise_or_improve.min_change")
    add("variants", 1 + len(sim["variants"]["others"]), label="Distinct SOD1 variants", source="variants")
    if study:
        params = study.get("parameters") or {}
        if "n_imputations" in params:
            add("n_imputations_default", int(params["n_imputations"].get("default")),
                label="Default number of imputations", source="parameters.n_imputations.default")
    return bind_ard(*rows)


def dictionary_ard(define: Mapping[str, Any]) -> pd.DataFrame:
    """Per data set of ``define.json``: label, structure, keys, records, variable count and
    the variable names (context "define"; ``variable`` = the data set name)."""
    code = code_ref(dictionary_ard)
    parts = []
    for ds in define["datasets"]:
        names = [v["name"] for v in ds["variables"]]
        parts.append(ard_rows({"label": ds.get("label", ""), "structure": ds.get("structure", ""),
                               "keys": ", ".join(ds.get("keys", [])), "records": int(ds["records"]),
                               "n_variables": len(names), "variables": ", ".join(names)},
                              variable=ds["name"], context="define", code=code,
                              method="define.json written with the data",
                              fmt={"records": "int", "n_variables": "int"},
                              labels={"records": "Records", "n_variables": "Variables"}))
    return bind_ard(*parts)
