"""Parameter constraints declared in the study config (ranges, choices, dates inside the
study period), checked before anything runs: one case per test."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trialsupp.study import ConfigError, load_study, resolve_params

REPO = Path(__file__).resolve().parents[2]

BODY = """
name: s
data: {source: files, dir: data/x}
notebooks: [notebooks/x.ipynb]
report: report/x/index.qmd
study_period: {start: 2019-03-18, end: 2024-08-31}
cuts: {final: "2024-08-31"}
parameters:
  n_imputations: {type: int, default: 20, min: 1, max: 1000, description: imputations}
  alpha: {type: float, default: 0.05, min: 0.0001, max: 0.5, description: level}
  data_cut: {type: cut, default: final, description: cut}
  listing_from: {type: date, default: 2020-01-01, description: first date listed}
  population: {type: choice, choices: [ITT, Safety], default: ITT, description: population}
"""


def study(tmp_path, body=BODY):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(body))
    return load_study(str(path), tmp_path)


@pytest.mark.parametrize("override, message", [
    ({"n_imputations": "-5"}, "parameter 'n_imputations': must be at least 1, got -5"),
    ({"n_imputations": "0"}, "parameter 'n_imputations': must be at least 1, got 0"),
    ({"n_imputations": "1001"}, "parameter 'n_imputations': must be at most 1000, got 1001"),
    ({"alpha": "0.9"}, "parameter 'alpha': must be at most 0.5, got 0.9"),
    ({"data_cut": "2018-01-01"}, "parameter 'data_cut': must be on or after 2019-03-18, got 2018-01-01"),
    ({"listing_from": "2025-01-01"}, "parameter 'listing_from': must be on or before 2024-08-31, got 2025-01-01"),
    ({"population": "PP"}, "parameter 'population': must be one of ITT, Safety, got 'PP'"),
])
def test_value_outside_its_declared_range_is_refused(tmp_path, override, message):
    with pytest.raises(ConfigError) as err:
        resolve_params(study(tmp_path), override)
    assert str(err.value) == message


def test_values_on_the_bounds_are_accepted(tmp_path):
    values = resolve_params(study(tmp_path), {"n_imputations": "1", "data_cut": "2019-03-18",
                                              "listing_from": "2024-08-31"})
    assert values["n_imputations"] == 1 and values["data_cut"] == "2019-03-18"
    # a cut after the end of the study is allowed: nothing is cut
    assert resolve_params(study(tmp_path), {"data_cut": "2030-01-01"})["data_cut"] == "2030-01-01"


@pytest.mark.parametrize("change, message", [
    (("default: 20, min: 1", "default: 0, min: 1"), "parameters.n_imputations.default: must be at least 1, got 0"),
    (("type: choice, choices", "type: choice, min: 1, choices"), "parameters.population.min: only int, float, date and cut"),
    (("min: 1, max: 1000", "min: one, max: 1000"), "parameters.n_imputations.min: expected an integer"),
    (("{start: 2019-03-18, end: 2024-08-31}", "{begin: 2019-03-18}"), "study_period: must be a mapping with start"),
    (("{start: 2019-03-18,", "{start: 2021-01-01,"), "parameters.listing_from.default: must be on or after 2021-01-01"),
])
def test_invalid_constraint_in_the_config_names_the_key(tmp_path, change, message):
    assert change[0] in BODY
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        study(tmp_path, BODY.replace(*change))


@pytest.mark.parametrize("param, message", [
    ("n_imputations=-5", "trialsupp: error: parameter 'n_imputations': must be at least 1, got -5"),
    ("data_cut=2018-01-01", "trialsupp: error: parameter 'data_cut': must be on or after 2019-03-18, got 2018-01-01"),
])
def test_shipped_study_refuses_before_anything_runs(tmp_path, param, message):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "trialsupp.cli", "render", "--study", "valor", "-P", param,
                           "--out", str(out), "-q"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")}, cwd=REPO)
    assert proc.returncode == 1 and proc.stderr.strip() == message
    assert not out.exists() and not list(tmp_path.iterdir())      # refused before any folder was made
