"""What a notebook calls: open the study's data, place and emit ARD rows, show displays.

A notebook's parameters cell defines ``study``, ``data_dir``, ``out_dir`` and the
study parameters; then::

    from trialsupp.notebook import open_session
    s = open_session(study=study, data_dir=data_dir, out_dir=out_dir, params=dict(seed=seed, ...))
    adsl = s.data["adsl"]
    placed = s.place(ard, output="tbl-baseline", analysis_id="baseline", population="ITT", inputs=["adsl"])
    s.emit(placed)      # the rows become part of the results store
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from trialsupp.ard import store
from trialsupp.ard.fmt import FormatRules
from trialsupp.data.checks import check_study
from trialsupp.data.io import StudyData, checksums_from_source_md, read_study
from trialsupp.data.parsed import parsed_dir
from trialsupp.study import Study, cut_date, find_project_dir, load_study, resolve_params


@dataclass
class Session:
    study: Study
    data: StudyData
    params: dict[str, Any]
    out_dir: Path
    cut: str | None = None
    uncut: dict[str, pd.DataFrame] = field(default_factory=dict)   # as delivered (e.g. calibration applies its own cuts)
    placed: list[pd.DataFrame] = field(default_factory=list)

    @property
    def rules(self) -> FormatRules:
        return self.study.format_rules

    def rules_for(self, output: str) -> FormatRules:
        """Format rules of one output (the study's rules with that output's overrides)."""
        return self.study.format_rules_for(output)

    def place(self, ard: pd.DataFrame, *, output: str, analysis_id: str, population: str,
              inputs: Iterable[str] = ()) -> pd.DataFrame:
        placed = store.place(ard, output=output, analysis_id=analysis_id, population=population,
                             rules=self.rules_for(output), params=self.params,
                             inputs=self.data.inputs(*inputs) if inputs else self.data.inputs())
        self.placed.append(placed)
        return placed

    def emit(self, placed: pd.DataFrame) -> None:
        store.emit(placed)

    def record(self, ard: pd.DataFrame, **placement) -> pd.DataFrame:
        """place() then emit() in one call; returns the placed rows."""
        placed = self.place(ard, **placement)
        self.emit(placed)
        return placed


def open_session(study: str, data_dir: str, out_dir: str, params: dict[str, Any] | None = None,
                 datasets: list[str] | None = None) -> Session:
    """Load the study config, validate parameters, read (and cut) the datasets."""
    project = find_project_dir()
    st = load_study(study, project)
    values = resolve_params(st, params or {})
    root = Path(data_dir)
    if not root.is_absolute():
        root = project / root
    checks = st.raw["data"].get("checksums")
    expected = checksums_from_source_md(project / checks) if checks else None
    manifest = None
    if st.reads_files:
        from trialsupp.data.manifest import load_manifest
        manifest = load_manifest(root, st.manifest)
    data = read_study(root, datasets, expected, manifest=manifest, parsed=parsed_dir(project))
    check_study(data.datasets)            # ADaM checks: flags, unique USUBJID, subjects in ADSL, numeric
    uncut = dict(data.datasets)
    cut = cut_date(st, values.get("data_cut"))
    if cut:
        from trialsupp.data.cut import apply_cut
        data.datasets = apply_cut(data.datasets, cut, st.raw["data"].get("cut_flags"))
    return Session(study=st, data=data, params=values, out_dir=Path(out_dir), cut=cut, uncut=uncut)
