"""``trialsupp trace``: the chain behind a number (statistic, method, population, code,
notebook cell, parameters, input data)."""
from __future__ import annotations

import json
from typing import Any

import pandas as pd


def find_rows(ard: pd.DataFrame, query: str) -> tuple[str, pd.DataFrame]:
    """Rows for an ARD id, an element ("eTable 2", "14-3.01") or a displayed value."""
    by_id = ard[ard["id"] == query]
    if len(by_id):
        return "id", by_id
    by_output = ard[ard["output_id"].astype(str).str.lower() == query.lower()]
    if len(by_output):
        return "output", by_output
    wanted = {query, query.replace("-", "\u2212")}      # typed "-1.2" finds typeset "−1.2"
    by_value = ard[ard["stat_fmt"].astype(str).isin(wanted)]
    return "value", by_value


def describe(row: dict[str, Any], run: dict[str, Any] | None = None) -> str:
    groups = ", ".join(f"{row[g]} = {row[g + '_level']}" for g in ("group1", "group2") if row.get(g))
    variable = row.get("variable") or ""
    if row.get("variable_level") not in (None, ""):
        variable += f" = {row['variable_level']}"
    lines = [
        f"{row['stat_fmt']}  [{row['id']}]",
        f"  element     {row['output_id']}  (analysis {row['analysis_id']}, population {row['population']})",
        f"  statistic   {row['stat_name']} ({row['stat_label']}) = {row['stat']!r}  format {row['fmt']}",
        f"  variable    {variable or '-'}" + (f"; groups {groups}" if groups else ""),
        f"  method      {row.get('method') or '-'}",
        f"  code        {row.get('code') or '-'}",
        f"  notebook    {row.get('notebook')}  cell {row.get('cell_id')}",
        f"  parameters  {json.dumps(row.get('params') or {}, sort_keys=True)}",
        "  inputs      " + ("; ".join(f"{k} sha256:{v}" for k, v in sorted((row.get('inputs') or {}).items())) or "-"),
    ]
    if row.get("warning"):
        lines.append(f"  warning     {row['warning']}")
    if row.get("error"):
        lines.append(f"  not estimable: {row['error']}")
    if run:
        git = run.get("git") or {}
        lines.append(f"  run         git {git.get('commit') or 'n/a'}{' (dirty)' if git.get('dirty') else ''}, "
                     f"Python {run.get('python')}")
    return "\n".join(lines)


def trace(ard: pd.DataFrame, query: str) -> str:
    kind, rows = find_rows(ard, query)
    if not len(rows):
        raise LookupError(f"nothing in the results store matches {query!r} (an ARD id, an element such as "
                          f"'eTable 1', or a displayed value)")
    run = ard.attrs.get("run")
    head = {"id": "ARD row", "output": f"all {len(rows)} numbers of {query}",
            "value": f"{len(rows)} row(s) displayed as {query!r}"}[kind]
    return head + "\n\n" + "\n\n".join(describe(r, run) for r in rows.to_dict("records"))
