"""One way to name a study (--study NAME|PATH, default: the project here), and verify, trace
and audit from any directory (run.json records the resolved study config and project)."""
import json
import os
import subprocess
import sys

import pytest

from .mini_project import make_project

pytestmark = pytest.mark.slow


def _cli(*args, cwd, env):
    return subprocess.run([sys.executable, "-m", "trialsupp.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    base = tmp_path_factory.mktemp("anydir")
    root = base / "project"
    root.mkdir()
    study = make_project(root)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "TRIALSUPP_PROJECT"}
    env["TRIALSUPP_CACHE"] = str(base / "cache")
    # from a subfolder of the project, no --study: the project's default study
    proc = _cli("render", "--engine", "builtin", "-q", cwd=root / "notebooks" / "mini", env=env)
    assert proc.returncode == 0, proc.stderr
    return root, study, elsewhere, env


def test_run_json_records_resolved_paths(project):
    root, study, _, _ = project
    run = json.loads((root / "_output" / "mini" / "run.json").read_text())
    assert run["study_config"] == str(study.resolve()) and run["project"] == str(root.resolve())
    assert run["out_dir"] == str(root / "_output" / "mini")
    ard = json.loads((root / "_output" / "mini" / "ard.json").read_text())
    assert "project" not in ard["run"] and "study_config" not in ard["run"]   # location stays out of the ARD


def test_trace_audit_verify_from_another_directory(project):
    root, _, elsewhere, env = project
    out = str(root / "_output" / "mini")
    proc = _cli("trace", "eTable 1", "--out", out, cwd=elsewhere, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "notebooks/mini/baseline.ipynb  cell cell-1" in proc.stdout
    proc = _cli("audit", "--out", out, cwd=elsewhere, env=env)
    assert proc.returncode == 0 and "0 unbound number(s)" in proc.stdout, proc.stdout + proc.stderr
    proc = _cli("verify", "--out", out, "--engine", "builtin", cwd=elsewhere, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("reproduced")


@pytest.mark.parametrize("ref", ["PROJECT", "PROJECT/src/studies/mini", "PROJECT/src/studies/mini/study.yml"])
def test_study_by_path_from_another_directory(project, ref):
    root, _, elsewhere, env = project
    ref = ref.replace("PROJECT", str(root))
    proc = _cli("audit", "--study", ref, cwd=elsewhere, env=env)
    assert proc.returncode == 0 and "0 unbound number(s)" in proc.stdout, proc.stdout + proc.stderr
    proc = _cli("params", "--study", ref, cwd=elsewhere, env=env)
    assert proc.returncode == 0 and "parameters of study mini:" in proc.stdout


def test_study_by_name_in_the_project_and_errors_outside(project):
    root, _, elsewhere, env = project
    proc = _cli("trace", "eTable 1", "--study", "mini", cwd=root, env=env)
    assert proc.returncode == 0 and "cell-1" in proc.stdout, proc.stderr
    proc = _cli("diff", "mini", "mini", cwd=root, env=env)
    assert proc.returncode == 0 and "0 difference(s)" in proc.stdout, proc.stderr
    proc = _cli("audit", cwd=elsewhere, env=env)
    assert proc.returncode == 1
    assert proc.stderr.startswith("trialsupp: error: no trialsupp project here")
    proc = _cli("audit", "--study", "nope", cwd=root, env=env)
    assert proc.returncode == 1 and "unknown study 'nope' (studies of" in proc.stderr
