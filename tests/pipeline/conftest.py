import pytest

from .mini_project import make_project


@pytest.fixture()
def mini(tmp_path, monkeypatch):
    """The mini project (CDISC ADSL, one notebook, one report) with a private cache."""
    root = tmp_path / "project"
    root.mkdir()
    study = make_project(root)
    monkeypatch.setenv("TRIALSUPP_PROJECT", str(root))
    monkeypatch.setenv("TRIALSUPP_CACHE", str(tmp_path / "cache"))
    return root, study
