"""audit, verify and trace on a rendered project (built-in publisher)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from trialsupp.ard.audit import audit_output
from trialsupp.pipeline.render import AuditError, render
from trialsupp.pipeline.verify import verify

from .mini_project import make_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("trace") / "project"
    root.mkdir()
    study = make_project(root)
    old = {k: os.environ.get(k) for k in ("TRIALSUPP_PROJECT", "TRIALSUPP_CACHE")}
    os.environ["TRIALSUPP_PROJECT"] = str(root)
    os.environ["TRIALSUPP_CACHE"] = str(root / ".cache")
    out = root / "_output" / "mini"
    render(str(study), out=out, engine="builtin")
    yield root, study, out
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _copy_output(out, dest):
    shutil.copytree(out.resolve(), dest)
    return dest


def test_every_number_is_bound(rendered):
    _, _, out = rendered
    assert audit_output(out) == []


def test_a_hand_typed_number_is_reported_and_strict_fails(rendered, tmp_path):
    root, study, _ = rendered
    qmd = root / "report" / "mini" / "index.qmd"
    original = qmd.read_text()
    qmd.write_text(original.replace("years.", "years; 98765 were screened."))
    try:
        result = render(str(study), out=tmp_path / "o", engine="builtin")
        found = [u for u in result.unbound if u.number == "98765"]
        wheres = {u.where for u in found}
        assert "HTML" in wheres and any(w.startswith("PDF page") for w in wheres)
        with pytest.raises(AuditError, match="98765"):
            render(str(study), out=tmp_path / "o", engine="builtin", strict=True)
    finally:
        qmd.write_text(original)


def test_verify_passes_on_untouched_output(rendered, tmp_path):
    _, _, out = rendered
    copy = _copy_output(out, tmp_path / "copy")
    report = verify(copy, engine="builtin")
    assert report["verdict"] == "reproduced", report["problems"]
    assert report["ard"]["matched"] == report["ard"]["recorded_rows"] > 20
    cert = json.loads((copy / "verify.json").read_text())
    assert cert["verdict"] == "reproduced" and (copy / "verify.html").exists()


def test_verify_detects_a_changed_displayed_number(rendered, tmp_path):
    _, _, out = rendered
    copy = _copy_output(out, tmp_path / "copy")
    html = (copy / "supplement.html").read_text()
    rows = {r["id"]: r for r in json.loads((copy / "ard.json").read_text())["rows"]}
    shown = rows["baseline.baseline.placebo.age.mean"]["stat_fmt"]
    target = f'data-ard="baseline.baseline.placebo.age.mean" tabindex="0">{shown}<'
    assert target in html
    (copy / "supplement.html").write_text(html.replace(target, target.replace(shown, "99.9"), 1))
    report = verify(copy, engine="builtin")
    assert report["verdict"] == "NOT reproduced"
    assert any("99.9" in p and "baseline.baseline.placebo.age.mean" in p for p in report["problems"])


def test_verify_detects_one_changed_input_byte(rendered, tmp_path):
    root, _, out = rendered
    data = root / "data" / "mini" / "adsl.xpt"
    original = data.read_bytes()
    changed = bytearray(original)
    changed[-100] ^= 0x01
    data.write_bytes(bytes(changed))
    try:
        copy = _copy_output(out, tmp_path / "copy")
        proc = subprocess.run([sys.executable, "-m", "trialsupp.cli", "verify", "--out", str(copy), "--engine", "builtin"],
                              capture_output=True, text=True, env={**os.environ, "TRIALSUPP_PROJECT": str(root)})
        assert proc.returncode == 1
        assert "input adsl.xpt: SHA-256 differs from the recorded" in proc.stdout
        assert "NOT reproduced" in proc.stdout
    finally:
        data.write_bytes(original)


def test_trace_cli_prints_the_chain(rendered):
    root, _, out = rendered
    proc = subprocess.run([sys.executable, "-m", "trialsupp.cli", "trace", "eTable 1", "--out", str(out)],
                          capture_output=True, text=True, env={**os.environ, "TRIALSUPP_PROJECT": str(root)})
    assert proc.returncode == 0
    assert "notebooks/mini/baseline.ipynb  cell cell-1" in proc.stdout
    assert "trialsupp.stats.descriptive:ard_summary@" in proc.stdout and "adsl sha256:" in proc.stdout
