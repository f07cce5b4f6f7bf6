"""End to end: notebook -> results store -> HTML + PDF, on a small project with real CDISC ADSL."""
import json
import os
import subprocess
import sys
from decimal import ROUND_HALF_EVEN, Decimal

import pyreadstat
import pytest
from pypdf import PdfReader

from trialsupp.pipeline.execute import NotebookError
from trialsupp.pipeline.render import render

from .mini_project import write_notebook

pytestmark = pytest.mark.slow


def _expected_placebo_age(root):
    adsl, _ = pyreadstat.read_xport(str(root / "data" / "mini" / "adsl.xpt"))
    ages = adsl.loc[(adsl.SAFFL == "Y") & (adsl.TRT01P == "Placebo"), "AGE"]
    return str(Decimal(repr(float(ages.mean()))).quantize(Decimal("0.1"), ROUND_HALF_EVEN)), len(ages)


def test_render_writes_html_pdf_and_store(mini):
    root, study = mini
    result = render(str(study), out=root / "_output" / "mini", engine="builtin")
    out = result.out
    assert {p.name for p in out.iterdir()} >= {"supplement.html", "supplement.pdf", "ard.json", "ard.csv",
                                               "run.json", "notebooks"}
    mean, n = _expected_placebo_age(root)
    html = (out / "supplement.html").read_text()
    assert f'data-ard="baseline.baseline.placebo.age.mean" tabindex="0">{mean}</span>' in html
    assert "eTable 1" in html and "Placebo" in html
    ard = json.loads((out / "ard.json").read_text())
    rows = {r["id"]: r for r in ard["rows"]}
    assert rows["baseline.baseline.placebo.age.N"]["stat"] == n
    assert rows["baseline.baseline.placebo.age.mean"]["output_id"] == "eTable 1"
    assert rows["baseline.baseline.placebo.age.mean"]["notebook"] == "notebooks/mini/baseline.ipynb"
    assert rows["baseline.baseline.placebo.age.mean"]["cell_id"] == "cell-1"
    assert rows["baseline.baseline.placebo.age.mean"]["inputs"]["adsl"] == ard["run"]["inputs"]["adsl.xpt"]
    first = PdfReader(str(out / "supplement.pdf")).pages[0].extract_text()
    assert "Supplementary Online Content" in first and "simulated" in first.lower()
    assert "eTable 1." in first and "Baseline Characteristics by Randomized Group" in first
    assert "population Safety" in first.replace("\n", " ")


def test_failing_notebook_keeps_previous_output(mini):
    root, study = mini
    out = root / "_output" / "mini"
    render(str(study), out=out, engine="builtin", formats=["html"])
    before = (out / "supplement.html").read_bytes()
    write_notebook(root, fail=True)
    with pytest.raises(NotebookError) as err:
        render(str(study), out=out, engine="builtin", formats=["html"])
    assert "notebooks/mini/baseline.ipynb" in str(err.value) and "cell 1 (id cell-1" in str(err.value)
    assert "RuntimeError: deliberate failure" in str(err.value)
    assert (out / "supplement.html").read_bytes() == before
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".mini.") and not p.name.endswith("lock")] \
        == [out.resolve().name]


def test_cache_reuses_unchanged_notebooks_and_reruns_changed_ones(mini):
    root, study = mini
    out = root / "_output" / "mini"
    first = render(str(study), out=out, engine="builtin", formats=["html"])
    assert first.cache_misses == ["notebooks/mini/baseline.ipynb"]
    # another output folder (the same one would be an unchanged no-op, see test_unchanged_render)
    again = render(str(study), out=root / "_output" / "again", engine="builtin", formats=["html"])
    assert again.cache_hits == ["notebooks/mini/baseline.ipynb"]
    assert (out / "ard.json").read_bytes() == (again.out / "ard.json").read_bytes()
    param = render(str(study), out=out, engine="builtin", formats=["html"], params={"population": "ITT"})
    assert param.cache_misses == ["notebooks/mini/baseline.ipynb"]
    forced = render(str(study), out=out, engine="builtin", formats=["html"], force=True)
    assert forced.cache_misses == ["notebooks/mini/baseline.ipynb"]


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "trialsupp.cli", *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("args, message", [
    (["render", "--study", "nope"], "trialsupp: error: unknown study 'nope'"),
    (["render", "--seed", "abc"], "trialsupp: error: argument --seed: invalid int value: 'abc'"),
    (["render", "--study", "cdiscpilot01", "-P", "population=Everyone"],
     "trialsupp: error: parameter 'population': must be one of ITT, Safety, Efficacy"),
    (["render", "--study", "cdiscpilot01", "-P", "data_cut=tomorrow"],
     "trialsupp: error: parameter 'data_cut': unknown cut 'tomorrow'"),
])
def test_bad_parameters_give_one_line_no_traceback(args, message):
    proc = _cli(*args)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(message) and "Traceback" not in proc.stderr


def test_missing_data_dir_is_one_line(mini, tmp_path):
    root, study = mini
    study.write_text(study.read_text().replace("data/mini", "data/absent"))
    import os
    proc = _cli("render", "--study", str(study), "--out", str(tmp_path / "o"), "--engine", "builtin",
                env={**os.environ, "TRIALSUPP_PROJECT": str(root)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"trialsupp: error: data directory {root / 'data' / 'absent'} does not exist"


def _state(out):
    return {p.relative_to(out).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_unchanged_render_is_a_no_op_and_a_report_edit_republishes(mini):
    root, study = mini
    out = root / "_output" / "mini"
    first = render(str(study), out=out, engine="builtin", formats=["html"])
    assert not first.unchanged and len(json.loads((out / "run.json").read_text())["fingerprint"]) == 64
    before, target = _state(out), out.resolve()
    again = render(str(study), out=out, engine="builtin", formats=["html"])
    assert again.unchanged and again.n_rows == first.n_rows and again.files == first.files
    assert out.resolve() == target and _state(out) == before       # every file: same bytes, same mtime
    proc = _cli("render", "--study", str(study), "--out", str(out), "--engine", "builtin", "--to", "html",
                env={**os.environ, "TRIALSUPP_PROJECT": str(root)})
    assert proc.returncode == 0 and proc.stdout.startswith(f"unchanged: {out}"), proc.stdout + proc.stderr
    assert _state(out) == before
    report = root / "report" / "mini" / "index.qmd"
    report.write_text(report.read_text() + "\nOne more sentence.\n")
    edited = render(str(study), out=out, engine="builtin", formats=["html"])
    assert not edited.unchanged and edited.cache_hits == ["notebooks/mini/baseline.ipynb"]
    assert "One more sentence." in (out / "supplement.html").read_text()


def test_verify_shows_each_step_and_the_rerun_notebooks(mini, capfd):
    from trialsupp.pipeline.progress import Reporter
    from trialsupp.pipeline.verify import VERIFY_STEPS, verify
    root, study = mini
    out = root / "_output" / "mini"
    render(str(study), out=out, engine="builtin", formats=["html"])
    capfd.readouterr()
    report = verify(out, engine="builtin", reporter=Reporter())
    err = capfd.readouterr().err
    assert report["verdict"] == "reproduced", report["problems"]
    for i, what in enumerate(VERIFY_STEPS):
        start, done = err.index(f"> verify {i + 1}/5: {what}"), err.index(f"ok verify {i + 1}/5: {what}")
        assert start < done
    rerun = err.index("notebooks/mini/baseline.ipynb")
    assert err.index("> verify 2/5") < rerun < err.index("ok verify 2/5")
