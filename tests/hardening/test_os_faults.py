"""Operating-system faults, one test each: a read-only output folder, a full disk for
the output, for the notebook cache and for TMPDIR. Each gives at most one
``trialsupp:`` line and no traceback, and the previous output stays as it was.

The faults are real file systems: small tmpfs mounts (needs root, as in our
sandbox and CI containers; skipped elsewhere).
"""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.pipeline.mini_project import make_project

REPO = Path(__file__).resolve().parents[2]


def _mount(path: Path, *opts: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(opts), "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@contextmanager
def tmpfs(path: Path, size: str = "8m"):
    if os.geteuid() != 0 or not _mount(path, f"size={size}"):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(fs: Path) -> None:
    """Use every free byte of the file system at ``fs``."""
    fd = os.open(fs / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for chunk in (1 << 16, 1 << 10, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError:
                pass
    finally:
        os.close(fd)


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    study = make_project(root)
    env = {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": str(REPO / "src")}
    return root, study, env


def cli(env, *args, cwd=None):
    return subprocess.run([sys.executable, "-m", "trialsupp.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)


def render_args(study: Path, out: Path, *extra: str) -> list[str]:
    return ["render", "--study", str(study), "--out", str(out), "--to", "html", "--engine", "builtin", "-q", *extra]


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def one_error_line(proc, *words: str) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("trialsupp: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for w in words:
        assert w in lines[0]
    return lines[0]


def test_read_only_output_folder(project, tmp_path):
    root, study, env = project
    with tmpfs(tmp_path / "outfs") as fs:
        out = fs / "mini"
        assert cli(env, *render_args(study, out)).returncode == 0
        before = snapshot(out)
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        proc = cli(env, *render_args(study, out, "--force"))     # a render that writes (not the no-op)
        one_error_line(proc, "Read-only file system", str(fs))
        assert snapshot(out) == before


def test_full_disk_for_the_output(project, tmp_path):
    root, study, env = project
    with tmpfs(tmp_path / "outfs") as fs:
        out = fs / "mini"
        assert cli(env, *render_args(study, out)).returncode == 0
        before = snapshot(out)
        fill(fs)
        proc = cli(env, *render_args(study, out, "--force"))     # a render that writes (not the no-op)
        one_error_line(proc, "No space left on device")
        assert snapshot(out) == before
        assert sorted(p.name for p in fs.iterdir() if p.name.startswith(".mini.")
                      and not p.name.endswith(".lock")) == [out.resolve().name]     # no half-written version


def test_full_disk_for_the_cache(project, tmp_path):
    """A cache that cannot be written costs the cache entry, not the render: one warning line."""
    root, study, env = project
    with tmpfs(tmp_path / "cachefs") as fs:
        fill(fs)
        env = {**env, "TRIALSUPP_CACHE": str(fs / "cache")}
        proc = cli(env, *render_args(study, root / "_output" / "mini"))
        assert proc.returncode == 0, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("trialsupp: warning: notebook cache ")
        assert "No space left on device" in lines[0] and "Traceback" not in proc.stderr
        assert (root / "_output" / "mini" / "supplement.html").is_file()


def test_read_only_cache(project, tmp_path):
    root, study, env = project
    with tmpfs(tmp_path / "cachefs") as fs:
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        env = {**env, "TRIALSUPP_CACHE": str(fs / "cache")}
        proc = cli(env, *render_args(study, root / "_output" / "mini"))
        assert proc.returncode == 0, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Read-only file system" in lines[0], proc.stderr


def test_full_tmpdir(project, tmp_path):
    """Nothing of a render needs TMPDIR (every temporary file is made next to its target),
    and verify's re-run falls back to another temporary folder as Python's tempfile does."""
    root, study, env = project
    with tmpfs(tmp_path / "tmpfs") as fs:
        fill(fs)
        env = {**env, "TMPDIR": str(fs)}
        out = root / "_output" / "mini"
        proc = cli(env, *render_args(study, out))
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        proc = cli(env, "verify", "--study", str(study), "--out", str(out), "--engine", "builtin")
        assert proc.returncode == 0, proc.stdout + proc.stderr
