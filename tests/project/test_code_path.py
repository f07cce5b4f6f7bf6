"""One process serving two projects: each sees its own ``studies`` package."""
from __future__ import annotations

import importlib
import os
import sys

from trialsupp.project import add_code_path


def _project(root, value):
    pkg = root / "src" / "studies"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "which.py").write_text(f"VALUE = {value!r}\n")
    return root


def test_second_project_replaces_the_first(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("PYTHONPATH", "")
    from trialsupp import project
    monkeypatch.setattr(project, "_CODE_PATH", [])
    saved = {k: v for k, v in sys.modules.items() if k.partition(".")[0] == "studies"}
    for k in saved:
        del sys.modules[k]
    try:
        a, b = _project(tmp_path / "a", "a"), _project(tmp_path / "b", "b")
        add_code_path(a)
        assert importlib.import_module("studies.which").VALUE == "a"
        add_code_path(b)
        assert importlib.import_module("studies.which").VALUE == "b"
        assert str(a / "src") not in sys.path
        assert os.environ["PYTHONPATH"].split(os.pathsep) == [str(b / "src")]
    finally:
        for k in [k for k in sys.modules if k.partition(".")[0] == "studies"]:
            del sys.modules[k]
        sys.modules.update(saved)
