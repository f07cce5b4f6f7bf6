"""Fault injection: renders killed at each stage (SIGINT, SIGTERM, SIGKILL) and two
renders into the same output at once, as subprocesses of the real CLI.

The stage a render reached is observed from the outside: its version folder
appears (lock taken), then its notebook work folder (notebooks running), its
build folder (results store), its ard.json (publishing).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trialsupp.pipeline.outdir import new_version_dir, output_lock, swap_in

from .hostile_project import make_project

pytestmark = pytest.mark.slow


def _env(root: Path) -> dict:
    return {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(root / ".cache"),
            "PYTHONUNBUFFERED": "1"}


def _start(root: Path, study: Path, out: Path, *extra: str) -> subprocess.Popen:
    # own session: the render and its kernel form one process group we can reap
    return subprocess.Popen([sys.executable, "-m", "trialsupp.cli", "render", "--study", str(study),
                             "--out", str(out), "--engine", "builtin", "--to", "html", "-q", *extra],
                            env=_env(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _reap(proc: subprocess.Popen) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    try:                                   # nothing of ours may outlive the render (kernel included)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            os.killpg(proc.pid, 0)
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("a process of the killed render (its kernel?) outlived it by 5 s")
    except ProcessLookupError:
        pass
    return out, err


def _siblings(out: Path) -> set[str]:
    return {p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")}


def _wait_for_stage(out: Path, before: set[str], stage: str, proc: subprocess.Popen, timeout=60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        new = [out.parent / n for n in _siblings(out) - before if not n.endswith(".lock")]
        vdirs = [p for p in new if ".build-" not in p.name]
        if stage == "version" and vdirs:
            return True
        if stage == "notebooks" and any((v / ".work").exists() for v in vdirs):
            return True
        if stage == "build" and any(".build-" in p.name for p in new):
            return True
        if stage == "publish" and any((v / "ard.json").exists() for v in vdirs):
            return True
        time.sleep(0.01)
    return False


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupt")
    study = make_project(root)
    out = root / "_output" / "hostile"
    proc = _start(root, study, out)
    _, err = _reap(proc)
    assert proc.returncode == 0, err
    return root, study, out


def _snapshot(out: Path) -> dict:
    return {"target": os.readlink(out), "html": (out / "supplement.html").read_bytes(),
            "ard": json.loads((out / "ard.json").read_text(encoding="utf-8"))}


def _assert_intact(out: Path, snap: dict) -> None:
    assert out.is_symlink() and os.readlink(out) == snap["target"]
    assert (out / "supplement.html").read_bytes() == snap["html"]
    assert json.loads((out / "ard.json").read_text(encoding="utf-8")) == snap["ard"]
    assert (out / "notebooks" / "events.ipynb").is_file()


def _assert_clean(out: Path) -> None:
    live = os.readlink(out)
    assert _siblings(out) == {live, f".{out.name}.lock"}, _siblings(out)


@pytest.mark.parametrize("sig, stage", [
    (signal.SIGINT, "notebooks"),
    (signal.SIGKILL, "version"),
    (signal.SIGKILL, "build"),
    (signal.SIGTERM, "publish"),
    (signal.SIGINT, "publish"),
], ids=lambda v: getattr(v, "name", v))
def test_killed_render_keeps_previous_output(project, sig, stage):
    root, study, out = project
    snap = _snapshot(out)
    before = _siblings(out)
    proc = _start(root, study, out, "--force")          # --force: the notebook really runs
    reached = _wait_for_stage(out, before, stage, proc)
    if not reached:
        _reap(proc)
        pytest.fail(f"render ended (exit {proc.returncode}) before stage {stage!r} was seen")
    os.kill(proc.pid, sig)
    _, err = _reap(proc)
    if sig == signal.SIGINT:
        # a clean interrupt: one line, exit 130, its own staging folders removed
        assert proc.returncode == 130, err
        assert err.strip().splitlines()[-1] == "trialsupp: interrupted; the previous output is unchanged"
        assert "Traceback" not in err
        _assert_clean(out)
        _assert_intact(out, snap)
        return
    assert proc.returncode == -sig
    _assert_intact(out, snap)

    # the next render succeeds and removes whatever the killed one left behind, even when
    # nothing changed and it leaves the output as it is
    proc = _start(root, study, out)
    _, err = _reap(proc)
    assert proc.returncode == 0, err
    _assert_clean(out)
    assert json.loads((out / "ard.json").read_text(encoding="utf-8"))["rows"] == snap["ard"]["rows"]
    assert (out / "supplement.html").stat().st_size > 1000


def test_second_render_refuses_then_waits(project):
    root, study, out = project
    before = _siblings(out)
    first = _start(root, study, out, "--force")
    assert _wait_for_stage(out, before, "version", first)          # the first holds the lock
    second = _start(root, study, out)
    _, err = _reap(second)
    assert second.returncode == 1
    assert err.strip() == (f"trialsupp: error: another trialsupp render is writing {out} "
                           f"(lock .{out.name}.lock); try again when it ends, or pass --wait")
    _, err = _reap(first)
    assert first.returncode == 0, err
    _assert_clean(out)

    # with --wait the second waits for the first and both succeed, one after the other
    before = _siblings(out)
    first = _start(root, study, out, "--force")
    assert _wait_for_stage(out, before, "version", first)
    second = _start(root, study, out, "--wait", "--force")     # --force: it renders, not the no-op
    out1, err1 = _reap(first)
    out2, err2 = _reap(second)
    assert first.returncode == 0 and second.returncode == 0, (err1, err2)
    assert "rendered" in out1 and "rendered" in out2
    _assert_clean(out)
    html = (out / "supplement.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>")
    json.loads((out / "ard.json").read_text(encoding="utf-8"))


def _write(out: Path, text: str) -> None:
    with output_lock(out):
        v = new_version_dir(out)
        (v / "supplement.html").write_text(text)
        swap_in(out, v)


def test_sweep_keeps_outputs_whose_name_extends_another(tmp_path):
    """``final`` and ``final.v2`` side by side (e.g. a render matrix): a render of
    ``final`` must not remove the versions of ``final.v2`` (was: glob ``.final.*``)."""
    a, b = tmp_path / "final", tmp_path / "final.v2"
    _write(b, "v2")
    _write(a, "one")
    _write(a, "two")
    assert (b / "supplement.html").read_text() == "v2"
    assert (a / "supplement.html").read_text() == "two"
