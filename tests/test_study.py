import textwrap

import pytest

from trialsupp.study import ConfigError, load_study, resolve_params


def _write(tmp_path, body):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(body))
    return path


BASE = """
name: s
data: {source: files, dir: data/x}
notebooks: [notebooks/x.ipynb]
report: report/x/index.qmd
parameters:
  seed: {type: int, default: 7, description: seed}
  data_cut: {type: cut, default: final, description: cut}
cuts: {final: "2024-08-31", 12-month: "2022-01-15"}
"""


def test_parameters_are_typed_and_defaulted(tmp_path):
    st = load_study(str(_write(tmp_path, BASE)), tmp_path)
    assert resolve_params(st) == {"seed": 7, "data_cut": "final"}
    assert resolve_params(st, {"seed": "12", "data_cut": "2022-01-15"})["seed"] == 12


@pytest.mark.parametrize("override, message", [
    ({"seed": "1.5"}, "parameter 'seed': expected an integer, got '1.5'"),
    ({"seed": "1; import os"}, "parameter 'seed': expected an integer"),
    ({"data_cut": "next-year"}, "unknown cut 'next-year'"),
    ({"data_cut": "__import__('os')"}, "expected a data cut name or a date"),
    ({"colour": "red"}, "unknown parameter 'colour'"),
])
def test_bad_parameters_are_refused_with_the_name(tmp_path, override, message):
    st = load_study(str(_write(tmp_path, BASE)), tmp_path)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_params(st, override)


@pytest.mark.parametrize("extra, message", [
    ("colour: red\n", "unknown key\\(s\\) colour"),
    ("parameters:\n  seed: {type: integer, default: 1, description: x}\n", "parameters.seed.type"),
    ("parameters:\n  seed: {type: int, default: x, description: s}\n", "parameters.seed.default: expected an integer"),
])
def test_invalid_config_names_the_key(tmp_path, extra, message):
    body = BASE.split("parameters:")[0] + extra if "parameters" in extra else BASE + extra
    with pytest.raises(ConfigError, match=message):
        load_study(str(_write(tmp_path, body)), tmp_path)


def test_paths_outside_the_project_are_refused(tmp_path):
    st = load_study(str(_write(tmp_path, BASE.replace("data/x", "../../etc"))), tmp_path)
    with pytest.raises(ConfigError, match="outside the project"):
        st.data_dir


def test_unknown_study_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown study 'nope'.*cdiscpilot01"):
        load_study("nope")
