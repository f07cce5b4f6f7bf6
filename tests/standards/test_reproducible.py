"""Byte-reproducible documents: with SOURCE_DATE_EPOCH, or `render --reproducible` (the date
of the data cut), the HTML and PDF are byte-identical across runs, time zones and working
folders, and `verify` compares the documents by SHA-256."""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from .conftest import EPOCH

pytestmark = pytest.mark.slow
TESTS = Path(__file__).resolve().parents[1]


def _cli(args, *, cwd, env_extra, timeout=900):
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "trialsupp.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_valor_documents_identical_across_folders_and_time_zones(valor_render, tmp_path):
    """A: SOURCE_DATE_EPOCH (the final cut), default time zone, the test's folder.
    B: `--reproducible` (date from the data cut), TZ Pacific/Auckland, another working folder
    and another notebook cache (every notebook executed again)."""
    elsewhere = tmp_path / "some" / "other" / "cwd"
    elsewhere.mkdir(parents=True)
    out_b = tmp_path / "b" / "valor"
    proc = _cli(["render", "--out", str(out_b), "--engine", "builtin", "--reproducible", "--to", "html,pdf,docx",
                 "-q"], cwd=elsewhere,
                env_extra={"TZ": "Pacific/Auckland", "TRIALSUPP_CACHE": str(tmp_path / "cache-b")})
    assert proc.returncode == 0, proc.stderr
    a = valor_render.out
    for name in ("supplement.html", "supplement.pdf", "supplement.docx", "ard.json"):
        assert (a / name).read_bytes() == (out_b / name).read_bytes(), name
    figures = sorted(p.name for p in (a / "figures").iterdir())
    assert figures and figures == sorted(p.name for p in (out_b / "figures").iterdir())
    for name in figures:
        assert (a / "figures" / name).read_bytes() == (out_b / "figures" / name).read_bytes(), name
    created = PdfReader(str(a / "supplement.pdf")).metadata.creation_date
    assert created.astimezone(dt.timezone.utc).date() == dt.date(2024, 8, 31)
    fixed = json.loads((out_b / "run.json").read_text())["reproducible"]
    assert fixed["source"] == "data cut 2024-08-31" and fixed["document_time"].startswith("2024-08-31T00:00:00")


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("_ts_mini_std", TESTS / "pipeline" / "mini_project.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    root = tmp_path_factory.mktemp("mini-repro")
    study = mod.make_project(root)
    env = {"TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(root / ".cache")}
    out = root / "_output" / "mini"
    proc = _cli(["render", "--study", str(study), "--out", str(out), "--engine", "builtin", "-q"], cwd=root,
                env_extra={**env, "SOURCE_DATE_EPOCH": EPOCH})
    assert proc.returncode == 0, proc.stderr
    return root, study, out, env


def test_verify_compares_documents_by_hash(mini):
    root, study, out, env = mini
    proc = _cli(["verify", "--study", str(study), "--out", str(out)], cwd=root, env_extra=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    docs = json.loads((out / "verify.json").read_text())["documents"]
    assert docs["compared"] and set(docs["files"]) == {"supplement.html", "supplement.pdf"}
    assert all(f["match"] for f in docs["files"].values())
    assert "identical bytes" in (out / "verify.html").read_text()

    pdf = out / "supplement.pdf"
    data = bytearray(pdf.read_bytes())
    i = data.index(b"/Producer") if b"/Producer" in data else len(data) // 2
    data[i + 2] ^= 0x01                                  # one byte of the recorded PDF
    pdf.write_bytes(bytes(data))
    proc = _cli(["verify", "--study", str(study), "--out", str(out)], cwd=root, env_extra=env)
    assert proc.returncode == 1
    assert "document supplement.pdf: SHA-256" in proc.stdout


def test_reproducible_needs_a_data_cut(mini):
    root, study, _out, env = mini
    proc = _cli(["render", "--study", str(study), "--out", str(root / "x"), "--reproducible", "-q"],
                cwd=root, env_extra=env)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trialsupp: error: --reproducible: study mini has no data cut")
    proc = _cli(["render", "--study", str(study), "--out", str(root / "x"), "-q"], cwd=root,
                env_extra={**env, "SOURCE_DATE_EPOCH": "yesterday"})
    assert proc.returncode == 1 and "SOURCE_DATE_EPOCH='yesterday'" in proc.stderr
