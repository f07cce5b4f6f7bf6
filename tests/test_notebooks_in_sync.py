"""Committed notebooks equal what their generator scripts (notebooks/<study>/_build_*.py) write."""
import shutil
import subprocess
import sys

import pytest

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

BUILDERS = sorted(PROJECT.glob("notebooks/*/_build_*.py"))


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_match_their_generator(builder, tmp_path):
    copy = tmp_path / builder.parent.name
    shutil.copytree(builder.parent, copy)
    before = {p.name: p.read_bytes() for p in copy.glob("*.ipynb")}
    proc = subprocess.run([sys.executable, str(copy / builder.name)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    after = {p.name: p.read_bytes() for p in copy.glob("*.ipynb")}
    changed = sorted(n for n in after if before.get(n) != after[n])
    assert not changed, f"{builder.name} writes different notebooks: {changed}; run it and commit the result"
