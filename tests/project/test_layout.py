"""The project layout: package templates, the repository's installed copy, study lookup."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trialsupp.project import (EXTENSION, TEMPLATES, install_templates, read_project, study_config,
                               template_files)
from trialsupp.study import ConfigError, load_study

REPO = Path(__file__).resolve().parents[2]


def test_repository_copy_equals_the_package_templates():
    """_quarto.yml and _extensions/trialsupp/ of this project are the installed package copy."""
    files = template_files()
    assert Path("_quarto.yml") in files and EXTENSION / "ard.lua" in files
    repo_ext = sorted(p.relative_to(REPO) for p in (REPO / EXTENSION).rglob("*") if p.is_file())
    assert repo_ext == [f for f in files if f.parts[:2] == EXTENSION.parts]
    for rel in files:
        assert (REPO / rel).read_bytes() == (TEMPLATES / rel).read_bytes(), f"{rel} differs from the package copy"


def test_install_templates_writes_missing_and_refreshes_outdated(tmp_path):
    written = install_templates(tmp_path)
    assert {p.relative_to(tmp_path) for p in written} == set(template_files())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_extensions", "_quarto.yml"]   # no package-only files
    assert install_templates(tmp_path) == []
    # the user's _quarto.yml is theirs: never overwritten
    (tmp_path / "_quarto.yml").write_text("project: {type: default}\n")
    assert install_templates(tmp_path) == []
    # an extension of another version is replaced as a whole
    meta = tmp_path / EXTENSION / "_extension.yml"
    meta.write_text(meta.read_text().replace("version: ", "version: 0.0.0-"))
    (tmp_path / EXTENSION / "jama.css").write_text("/* old */")
    written = {p.name for p in install_templates(tmp_path)}
    assert written == {"_extension.yml", "jama.css"}
    assert (tmp_path / "_quarto.yml").read_text() == "project: {type: default}\n"


def test_no_study_code_in_the_package():
    pkg = REPO / "src" / "trialsupp"
    assert not (pkg / "analyses").exists() and not (pkg / "simulate").exists() and not (pkg / "studies").exists()
    spec = read_project(REPO)
    assert spec["default"] == "valor"
    assert spec["studies"] == {"valor": REPO / "src/studies/valor/study.yml",
                               "cdiscpilot01": REPO / "src/studies/cdiscpilot01/study.yml"}


@pytest.mark.parametrize("ref", ["cdiscpilot01", "src/studies/cdiscpilot01/study.yml", "src/studies/cdiscpilot01"])
def test_a_study_by_name_file_or_folder(ref, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("TRIALSUPP_PROJECT", raising=False)
    st = load_study(ref)
    assert st.name == "cdiscpilot01" and st.project_dir == REPO
    assert st.path == REPO / "src/studies/cdiscpilot01/study.yml"


def test_the_project_is_found_from_a_subfolder_and_a_project_path(tmp_path, monkeypatch):
    monkeypatch.delenv("TRIALSUPP_PROJECT", raising=False)
    monkeypatch.chdir(REPO / "notebooks" / "valor")
    assert load_study(None).name == "valor"
    monkeypatch.chdir(tmp_path)
    assert load_study(str(REPO)).name == "valor"            # a project folder: its default study
    assert study_config(str(REPO / "src/studies/valor/study.yml"))[1] == REPO
    with pytest.raises(ConfigError, match="no trialsupp project here"):
        load_study(None)
    with pytest.raises(ConfigError, match="no trialsupp project here"):
        load_study("valor")


def test_unknown_study_names_the_project_studies(monkeypatch):
    monkeypatch.delenv("TRIALSUPP_PROJECT", raising=False)
    monkeypatch.chdir(REPO)
    with pytest.raises(ConfigError, match=r"unknown study 'nope' \(studies of .*: cdiscpilot01, valor\)"):
        load_study("nope")


@pytest.mark.slow
def test_the_wheel_holds_the_templates_and_no_study_code(tmp_path):
    """setuptools' package selection: trialsupp* and its templates, never src/studies/."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    import zipfile
    (wheel,) = tmp_path.glob("trialsupp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith("studies/")]
    assert "trialsupp/templates/_quarto.yml" in names
    assert "trialsupp/templates/_extensions/trialsupp/ard.lua" in names
    assert "trialsupp/project.py" in names


def _cli(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "TRIALSUPP_PROJECT"}
    return subprocess.run([sys.executable, "-m", "trialsupp.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_simulate_and_calibrate_refuse_a_study_without_them(tmp_path):
    proc = _cli("simulate", "--study", str(REPO / "src/studies/cdiscpilot01"), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == "trialsupp: error: study cdiscpilot01 is not simulated (data.source: files)\n"
    proc = _cli("calibrate", "--study", "cdiscpilot01", cwd=REPO)
    assert proc.returncode == 1 and "has no calibration (calibration.command in src/studies/cdiscpilot01/study.yml)" \
        in proc.stderr


@pytest.mark.slow
def test_simulate_command_runs_the_study_generator(tmp_path):
    """`trialsupp simulate` (generic CLI) calls the project's data.generator: same bytes as the function."""
    from studies.valor.simulate.valor import simulate
    proc = _cli("simulate", "--seed", "5", "--out", str(tmp_path / "cli"), cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    simulate(seed=5, out=tmp_path / "api")
    names = sorted(p.name for p in (tmp_path / "api").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "cli").iterdir()) and "adsl.parquet" in names
    for name in names:
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "api" / name).read_bytes(), name
