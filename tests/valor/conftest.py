"""Seed-48 simulated VALOR data, generated once per test session."""
from __future__ import annotations

import json

import pytest

from trialsupp.ard.store import place
from trialsupp.study import find_project_dir, load_study


@pytest.fixture(scope="session")
def valor_dir(tmp_path_factory):
    from studies.valor.simulate.valor import simulate
    out = tmp_path_factory.mktemp("valor48")
    simulate(seed=48, out=str(out))
    return out


@pytest.fixture(scope="session")
def valor(valor_dir):
    from trialsupp.data.io import read_study
    return read_study(valor_dir).datasets


@pytest.fixture(scope="session")
def define(valor_dir):
    return json.loads((valor_dir / "define.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def study():
    return load_study("valor", find_project_dir())


@pytest.fixture(scope="session")
def sim(study):
    return study.raw["simulation"]


@pytest.fixture(scope="session")
def placer(study):
    def _place(ard, output, analysis_id="a"):
        return place(ard, output=output, analysis_id=analysis_id, population="test", rules=study.format_rules)
    return _place
