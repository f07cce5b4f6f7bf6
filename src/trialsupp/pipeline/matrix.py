"""``trialsupp render --matrix FILE``: one supplement per parameter set.

The YAML file::

    study: mytrial
    renders:
      - name: 12-month
        params: {data_cut: 12-month}
      - name: final
        params: {data_cut: final}

Each render goes to a sibling folder ``<out>/<name>`` (default ``_output/<study>-matrix/<name>``);
every parameter set is validated before anything runs; sets run in parallel on Dask
(``trialsupp.pipeline.distributed``: a local cluster of ``jobs`` processes by default, any
scheduler with ``--scheduler``; cores shared between them) and share executed notebooks
through the cache.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from trialsupp.study import ConfigError, load_study, read_yaml, resolve_params

MATRIX_KEYS = {"study", "renders", "formats", "out"}
RENDER_KEYS = {"name", "params", "seed"}


def load_matrix(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    doc = read_yaml(path, "matrix file")
    if not isinstance(doc, dict) or not isinstance(doc.get("renders"), list) or not doc["renders"]:
        raise ConfigError(f"{path.name}: needs a 'renders' list of {{name, params}}")
    unknown = sorted(set(doc) - MATRIX_KEYS)
    if unknown:
        raise ConfigError(f"{path.name}: unknown key(s) {', '.join(unknown)}")
    study = load_study(doc.get("study"))
    names = set()
    for i, entry in enumerate(doc["renders"]):
        where = f"{path.name}: renders[{i}]"
        if not isinstance(entry, dict) or "name" not in entry:
            raise ConfigError(f"{where}: needs a name")
        bad = sorted(set(entry) - RENDER_KEYS)
        if bad:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(bad)}")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", str(entry["name"])) or entry["name"] in names:
            raise ConfigError(f"{where}.name: {entry['name']!r} must be a unique folder name")
        names.add(entry["name"])
        params = dict(entry.get("params") or {})
        if "seed" in entry:
            params["seed"] = entry["seed"]
        try:
            resolve_params(study, params)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return doc


def render_one(task: dict[str, Any]):
    """One parameter set (runs on a Dask worker; ``task`` is plain data)."""
    from trialsupp.pipeline.render import render
    return render(**task)


def render_matrix(path: str | Path, out: str | Path | None = None, jobs: int | None = None,
                  engine: str = "auto", formats=("html", "pdf"), reporter=None, force: bool = False,
                  scheduler: str | None = None):
    from trialsupp.pipeline.distributed import map_replicates
    doc = load_matrix(path)
    st = load_study(doc.get("study"))
    study = str(st.path)
    root = Path(out or doc.get("out") or st.project_dir / "_output" / f"{st.name}-matrix")
    cores = jobs or os.cpu_count() or 1
    entries = doc["renders"]
    parallel = max(1, min(len(entries), cores))
    per_render = max(1, cores // parallel)
    formats = doc.get("formats", formats)
    tasks = []
    for entry in entries:
        params = dict(entry.get("params") or {})
        seed = params.pop("seed", entry.get("seed"))
        tasks.append(dict(study=study, out=str(root / entry["name"]), formats=tuple(formats), seed=seed,
                          jobs=per_render, params=params, engine=engine, force=force,
                          project=str(st.project_dir)))
    names = [e["name"] for e in entries]

    def done(n, total):
        if reporter is not None:
            reporter.progress(n, total, "parameter set")
    with (reporter.stage(f"render matrix: {len(tasks)} sets on Dask") if reporter else _null()):
        results = map_replicates(render_one, tasks, scheduler=scheduler, jobs=parallel, on_done=done)
    assert [r.out.name for r in results] == names
    return results


def _null():
    from contextlib import nullcontext
    return nullcontext()
