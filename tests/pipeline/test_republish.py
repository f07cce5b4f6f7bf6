"""A change to report/ only re-publishes (issue 20): the data, executed notebooks and results
store of the previous render are reused, and the output is the same bytes as a forced render."""
import json

import pytest

from trialsupp.ard.audit import audit_output
from trialsupp.pipeline import reuse
from trialsupp.pipeline.render import render

pytestmark = pytest.mark.slow

NB = "notebooks/mini/baseline.ipynb"
# differ between any two renders: run.json (elapsed time, why each notebook ran, the output
# folder) and the manifest's line for run.json
VARYING = {"run.json"}


def _files(out):
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    manifest = json.loads(files.pop("manifest.json"))["files"]
    return {k: v for k, v in files.items() if k not in VARYING}, {k: v for k, v in manifest.items()
                                                                   if k not in VARYING}


@pytest.fixture()
def fixed_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")     # documents dated alike in every render


def _edit(root, text):
    report = root / "report" / "mini" / "index.qmd"
    report.write_text(report.read_text() + f"\n{text}\n")


def test_report_edit_republishes_the_bytes_of_a_forced_render(mini, fixed_time):
    root, study = mini
    out = root / "_output" / "mini"
    first = render(str(study), out=out, engine="builtin", formats=["html", "pdf"])
    assert first.cache_misses == [NB]
    _edit(root, "One more sentence, in the second render only.")
    edited = render(str(study), out=out, engine="builtin", formats=["html", "pdf"])
    assert not edited.unchanged and edited.reasons == {NB: reuse.REASON} and edited.cache_hits == [NB]
    assert json.loads((out / "run.json").read_text())["notebooks"] == {NB: reuse.REASON}
    assert "One more sentence" in (out / "supplement.html").read_text()
    forced = render(str(study), out=root / "_output" / "forced", engine="builtin", formats=["html", "pdf"],
                    force=True)
    assert forced.cache_misses == [NB]
    files, manifest = _files(out)
    forced_files, forced_manifest = _files(forced.out)
    assert sorted(files) == sorted(forced_files)
    assert {k for k in files if files[k] != forced_files[k]} == set()       # HTML, PDF, ARD, notebooks, data
    assert manifest == forced_manifest
    # the audit ran on the new documents (as each was written) and says what a full audit says
    assert [u.line() for u in edited.unbound] == [u.line() for u in audit_output(out)]


def test_format_change_reuses_notebooks_and_rewrites_the_store(mini, fixed_time):
    """ard.json records the formats: a new --to re-publishes with a new store, equal to a forced render's."""
    root, study = mini
    out = root / "_output" / "mini"
    render(str(study), out=out, engine="builtin", formats=["html"])
    again = render(str(study), out=out, engine="builtin", formats=["html", "pdf"])
    assert again.reasons == {NB: reuse.REASON} and (out / "supplement.pdf").is_file()
    assert json.loads((out / "ard.json").read_text())["run"]["formats"] == ["html", "pdf"]
    forced = render(str(study), out=root / "_output" / "forced", engine="builtin", formats=["html", "pdf"],
                    force=True)
    assert _files(out) == _files(forced.out)


def test_no_reuse_from_an_incomplete_previous_output(mini):
    root, study = mini
    out = root / "_output" / "mini"
    render(str(study), out=out, engine="builtin", formats=["html"])
    (out / NB.replace("mini/", "")).unlink()           # the previous output lost an executed notebook
    _edit(root, "Edited.")
    again = render(str(study), out=out, engine="builtin", formats=["html"])
    assert again.reasons[NB].startswith("restored from cache") and (out / "notebooks" / "baseline.ipynb").is_file()


def test_no_reuse_after_a_notebook_or_parameter_change(mini):
    root, study = mini
    out = root / "_output" / "mini"
    render(str(study), out=out, engine="builtin", formats=["html"])
    _edit(root, "Edited.")
    other = render(str(study), out=out, engine="builtin", formats=["html"], params={"population": "ITT"})
    assert other.reasons[NB] != reuse.REASON and other.cache_misses == [NB]
