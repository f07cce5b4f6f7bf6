"""The notebook cache (issue 19, issue 14 item 7): the key covers the project modules a
notebook imports and the files it reads; entries carry checksums re-checked on restore;
``--force`` refreshes; each notebook says why it ran or was restored."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from trialsupp.ard.store import read_store
from trialsupp.pipeline.cache import MANIFEST, _files_of
from trialsupp.pipeline.render import render

NB = "notebooks/mini/baseline.ipynb"
AGE_MEAN = "baseline.baseline.placebo.age.mean"
HELPER = "AGE_SHIFT = {shift}\n"


@pytest.fixture()
def helper_project(mini):
    """The mini project whose notebook imports a project module ``studies.mini.helpers``."""
    root, study = mini
    pkg = root / "src" / "studies" / "mini"
    pkg.mkdir(parents=True, exist_ok=True)        # the study config lives there too
    (root / "src" / "studies" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text(HELPER.format(shift=0))
    path = root / NB
    nb = nbformat.read(path, as_version=4)
    src = nb.cells[1].source
    nb.cells[1].source = src.replace(
        'pop = adsl[adsl["SAFFL"] == "Y"]\n',
        'pop = adsl[adsl["SAFFL"] == "Y"]\n'
        'from studies.mini.helpers import AGE_SHIFT\n'
        'pop = pop.assign(AGE=pop["AGE"] + AGE_SHIFT)\n')
    assert nb.cells[1].source != src
    nbformat.write(nb, path)
    return root, study


def _render(study, out, **kw):
    return render(str(study), out=out, engine="builtin", formats=["html"], **kw)


def _age(out: Path) -> float:
    ard = read_store(out)
    return float(ard.loc[ard["id"] == AGE_MEAN, "stat"].iloc[0])


def _entry(cache: Path) -> Path:
    entries = [p for p in cache.glob("*/*") if p.parent.name != "index" and p.is_dir()]
    assert len(entries) == 1
    return entries[0]


def test_editing_an_imported_project_module_changes_the_next_render(helper_project, tmp_path):
    root, study = helper_project
    out = root / "_output" / "mini"
    first = _render(study, out)
    assert first.reasons == {NB: "ran: not in the cache"}
    before = _age(out)
    deps = json.loads((_entry(tmp_path / "cache") / "deps.json").read_text())
    assert "src/studies/mini/helpers.py" in deps and "data/mini/adsl.xpt" in deps

    again = _render(study, out.with_name("again"))     # the same folder would be an unchanged no-op
    assert again.cache_hits == [NB] and again.reasons[NB].startswith("restored from cache")

    (root / "src" / "studies" / "mini" / "helpers.py").write_text(HELPER.format(shift=10))
    edited = _render(study, out)
    assert edited.reasons == {NB: "ran: project file src/studies/mini/helpers.py changed"}
    assert _age(out) == pytest.approx(before + 10)
    assert json.loads((out / "run.json").read_text())["notebooks"] == edited.reasons


def test_reasons_name_the_changed_part_of_the_key(mini):
    root, study = mini
    out = root / "_output" / "mini"
    _render(study, out)
    changed = _render(study, out, params={"population": "ITT"})
    assert changed.reasons == {NB: "ran: parameter population changed"}
    forced = _render(study, out, force=True)
    assert forced.reasons == {NB: "ran: --force"}


def _tamper_cached_value(entry: Path, old: float, new: float) -> None:
    nb = entry / "notebook.ipynb"
    text = nb.read_text()
    assert json.dumps(old) in text
    nb.write_text(text.replace(json.dumps(old), json.dumps(new)))


def test_flipped_value_in_a_cache_entry_is_discarded_with_one_warning(mini, tmp_path, capfd):
    root, study = mini
    out = root / "_output" / "mini"
    _render(study, out)
    true_age = _age(out)
    _tamper_cached_value(_entry(tmp_path / "cache"), true_age, true_age + 1)
    capfd.readouterr()
    again = _render(study, out.with_name("again"))
    err = capfd.readouterr().err.strip().splitlines()
    assert again.cache_misses == [NB]
    assert again.reasons[NB] == "ran: cache entry damaged (notebook.ipynb SHA-256 differs)"
    assert len(err) == 1 and err[0].startswith("trialsupp: warning: cache entry ") and "re-executing" in err[0]
    assert _age(again.out) == true_age


def test_unreadable_manifest_is_discarded_not_a_json_error(mini, tmp_path, capfd):
    root, study = mini
    out = root / "_output" / "mini"
    _render(study, out)
    (_entry(tmp_path / "cache") / MANIFEST).write_bytes(b"\x00{not json")
    again = _render(study, out.with_name("again"))
    assert again.reasons[NB] == f"ran: cache entry damaged ({MANIFEST} unreadable: JSONDecodeError)"
    assert "trialsupp: warning:" in capfd.readouterr().err
    assert _render(study, out.with_name("third")).cache_hits == [NB]          # the re-execution stored a good entry


def test_force_reexecutes_and_refreshes_the_entry(mini, tmp_path):
    """A stale entry whose checksums are consistent (as a cache key that missed a dependency
    would have left it): --force replaces it, so the next plain render is right too."""
    root, study = mini
    out = root / "_output" / "mini"
    _render(study, out)
    true_age = _age(out)
    entry = _entry(tmp_path / "cache")
    _tamper_cached_value(entry, true_age, true_age + 1)
    manifest = json.loads((entry / MANIFEST).read_text())
    manifest["files"] = _files_of(entry)
    (entry / MANIFEST).write_text(json.dumps(manifest))
    stale = _render(study, out.with_name("stale"))
    assert stale.cache_hits == [NB] and _age(stale.out) == true_age + 1
    _render(study, out, force=True)
    assert _age(out) == true_age
    plain = _render(study, out.with_name("plain"))
    assert plain.cache_hits == [NB] and _age(plain.out) == true_age


def test_cached_notebook_keeps_no_absolute_path_of_a_temporary_folder(mini, tmp_path):
    root, study = mini
    out = root / "_output" / "mini"
    _render(study, out)
    text = (_entry(tmp_path / "cache") / "notebook.ipynb").read_text()
    assert str(tmp_path) not in text
    assert ".mini." not in text and ".work" not in text
