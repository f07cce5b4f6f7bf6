"""Fixtures for the publisher tests."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from publish_project import build_stage


@pytest.fixture
def stage(tmp_path):
    return build_stage(tmp_path)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from trialsupp.publish.builtin import publish_builtin
    root = tmp_path_factory.mktemp("render")
    st = build_stage(root)
    out = publish_builtin(st, "report/demo/index.qmd", root / "out", formats=("html", "pdf"),
                          keep_intermediate=True)
    return st, out
