"""Determinism: two renders of the same inputs give byte-identical ARD, data and
notebook files, and HTML/PDF identical apart from recorded dates; independent of
PYTHONHASHSEED, of the current directory and of the order files are listed.

Render B runs with a ``sitecustomize`` that reverses every directory listing
(``os.listdir``, ``os.scandir``, ``Path.iterdir``, ``glob``) in the CLI process
and in the notebook kernels it starts.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .hostile_project import make_project

pytestmark = pytest.mark.slow

REVERSE_LISTINGS = '''
import os, pathlib
_listdir, _scandir, _iterdir = os.listdir, os.scandir, pathlib.Path.iterdir
def listdir(path="."):
    return list(reversed(_listdir(path)))
class _Scan:
    def __init__(self, it):
        self._entries = list(reversed(list(it))); it.close()
    def __iter__(self): return iter(self._entries)
    def __enter__(self): return self
    def __exit__(self, *a): return False
    def close(self): pass
def scandir(path="."):
    return _Scan(_scandir(path))
def iterdir(self):
    return iter(list(reversed(list(_iterdir(self)))))
os.listdir, os.scandir, pathlib.Path.iterdir = listdir, scandir, iterdir
os.environ["TRIALSUPP_REVERSED_LISTINGS"] = "1"
'''

VOLATILE = {"started", "finished", "elapsed_s", "run_time", "out_dir"}
DATE = re.compile(rb"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"
                  rb"|D:\d{14}(?:[+-]\d{2}'\d{2}'?|Z)?"
                  rb"|(?:January|February|March|April|May|June|July|August|September|October|November|December)"
                  rb" \d{1,2}, \d{4}")


@pytest.fixture(scope="module")
def two_renders(tmp_path_factory):
    base = tmp_path_factory.mktemp("determinism")
    root = base / "project"
    root.mkdir()
    study = make_project(root)
    site = base / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(REVERSE_LISTINGS)
    runs = {"a": {"PYTHONHASHSEED": "1"},
            "b": {"PYTHONHASHSEED": "4242", "PYTHONPATH": os.pathsep.join(
                [str(site), *filter(None, [os.environ.get("PYTHONPATH")])])}}
    probe = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('TRIALSUPP_REVERSED_LISTINGS'))"],
                           env={**os.environ, **runs["b"]}, capture_output=True, text=True)
    assert probe.stdout.strip() == "1", "the listing-reversing sitecustomize is not picked up"
    procs = {}
    for name, extra in runs.items():
        cwd = base / f"cwd-{name}"
        cwd.mkdir()
        env = {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(base / f"cache-{name}"),
               **extra}
        # a relative --out, resolved against a different cwd per render
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "trialsupp.cli", "render", "--study", str(study), "--out", f"out-{name}",
             "--engine", "builtin", "-q"], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (name, err)
    return base / "cwd-a" / "out-a", base / "cwd-b" / "out-b"


def _files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def test_same_files(two_renders):
    a, b = two_renders
    assert _files(a) == _files(b)
    assert {"ard.json", "ard.csv", "run.json", "supplement.html", "supplement.pdf", "t-events.rtf",
            "notebooks/events.ipynb", "notebooks/events.html"} <= _files(a)


@pytest.mark.parametrize("name", ["ard.json", "ard.csv", "t-events.rtf", "notebooks/events.ipynb",
                                  "notebooks/events.html"])
def test_byte_identical(two_renders, name):
    a, b = two_renders
    assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_executed_notebook_has_no_run_specific_paths(two_renders):
    a, _ = two_renders
    text = (a / "notebooks" / "events.ipynb").read_text(encoding="utf-8")
    assert ".work" not in text and "out-a" not in text and f".{a.name}." not in text
    nb = json.loads(text)
    assert nb["cells"][1]["id"] == "injected-parameters"


@pytest.mark.parametrize("name", ["supplement.html", "supplement.pdf"])
def test_identical_apart_from_dates(two_renders, name):
    a, b = two_renders
    da, db = (a / name).read_bytes(), (b / name).read_bytes()
    if da != db:
        assert DATE.sub(b"DATE", da) == DATE.sub(b"DATE", db), f"{name} differs beyond dates"


def test_run_json_differs_only_in_volatile_keys(two_renders):
    a, b = two_renders
    ra, rb = (json.loads((o / "run.json").read_text()) for o in (a, b))
    assert set(ra) == set(rb)
    assert {k for k in ra if ra[k] != rb[k]} <= VOLATILE
    assert ra["inputs"] == rb["inputs"] and list(ra["inputs"]) == sorted(ra["inputs"])
    assert set(ra["inputs"]) == {"adae.parquet", "adsl.parquet"}
