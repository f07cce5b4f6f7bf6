"""render --matrix and diff on the mini project (two populations)."""
import os
import subprocess
import sys

import pytest

from trialsupp.ard.compare import compare_ard
from trialsupp.ard.store import read_store
from trialsupp.pipeline.matrix import load_matrix, render_matrix
from trialsupp.study import ConfigError


pytestmark = pytest.mark.slow


def _matrix(tmp_path, study, body):
    path = tmp_path / "matrix.yaml"
    path.write_text(f"study: {study}\n" + body)
    return path


def test_matrix_renders_each_set_and_diff_shows_what_changed(mini, tmp_path):
    root, study = mini
    path = _matrix(tmp_path, study, "formats: [html]\nrenders:\n  - {name: safety, params: {population: Safety}}\n"
                                    "  - {name: itt, params: {population: ITT}}\n")
    results = render_matrix(path, out=tmp_path / "m", engine="builtin")
    assert [r.out.name for r in results] == ["safety", "itt"]
    a, b = read_store(tmp_path / "m" / "safety"), read_store(tmp_path / "m" / "itt")
    assert a.set_index("id").loc["parameters.run.population.value", "stat"] == "Safety"
    assert b.set_index("id").loc["parameters.run.population.value", "stat"] == "ITT"
    comparison = compare_ard(a, b, rtol=0)
    assert [d.id for d in comparison.differences if d.field == "stat"] == ["parameters.run.population.value"]
    proc = subprocess.run([sys.executable, "-m", "trialsupp.cli", "diff", str(tmp_path / "m" / "safety"),
                           str(tmp_path / "m" / "itt")], capture_output=True, text=True,
                          env={**os.environ, "TRIALSUPP_PROJECT": str(root)})
    assert proc.returncode == 0 and "'Safety' -> 'ITT'" in proc.stdout
    assert (tmp_path / "m" / "itt" / "diff.html").exists()
    # the sets ran on a local Dask cluster: the same as a plain in-process render of the set
    from trialsupp.pipeline.render import render
    plain = render(study=study, out=tmp_path / "plain", formats=("html",), params={"population": "ITT"},
                   engine="builtin")
    assert (plain.out / "ard.json").read_bytes() == (tmp_path / "m" / "itt" / "ard.json").read_bytes()


@pytest.mark.parametrize("body, message", [
    ("renders:\n  - {name: a, params: {population: Everyone}}\n", r"renders\[0\]: parameter 'population': must be one of"),
    ("renders:\n  - {name: a}\n  - {name: a}\n", r"renders\[1\].name: 'a' must be a unique folder name"),
    ("renders:\n  - {name: a, colour: red}\n", r"renders\[0\]: unknown key\(s\) colour"),
    ("renders: []\n", "needs a 'renders' list"),
])
def test_matrix_is_validated_before_anything_runs(mini, tmp_path, body, message):
    _, study = mini
    with pytest.raises(ConfigError, match=message):
        load_matrix(_matrix(tmp_path, study, body))
