"""The Quarto-native way (issue 15): in a trialsupp project, `quarto render` of a report
gives the same supplement as `trialsupp render --engine quarto`, with trialsupp's
execution and results-store step run as Quarto's pre-render script
(``python -m trialsupp.quarto_prerender``). Skipped only when `quarto` is not on PATH."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import trialsupp
from trialsupp.publish import quarto_available
from trialsupp.pipeline.verify import displayed_values

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipeline"))
from mini_project import make_project  # noqa: E402
from test_engine_parity import HTTP, float_list, front_block, source_links, _text  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not quarto_available(), reason="quarto (>= 1.5) is not on PATH; CI "
                                 "installs it with ../shared/tools/quarto/install.sh")]


def test_quarto_render_in_the_project_equals_trialsupp_render(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    make_project(root)
    env = {**os.environ, "TRIALSUPP_CACHE": str(tmp_path / "cache"), "TRIALSUPP_PROJECT": str(root),
           "PYTHONPATH": os.pathsep.join([str(Path(trialsupp.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    env.pop("TRIALSUPP_STAGED_BUILD", None)
    committed = (root / "notebooks" / "mini" / "baseline.ipynb").read_bytes()
    run = lambda *cmd: subprocess.run(list(cmd), cwd=root, env=env, capture_output=True, text=True, timeout=900)

    native = run("quarto", "render", "report/mini/index.qmd")     # a fresh project: no preparatory step
    assert native.returncode == 0, native.stderr[-3000:]
    out = root / "_output" / "report" / "mini"
    page = (out / "index.html").read_text(encoding="utf-8")
    assert (out / "index.pdf").is_file()
    # the committed notebook is back (no outputs); the source link's target sits next to the page
    assert (root / "notebooks" / "mini" / "baseline.ipynb").read_bytes() == committed
    assert not (root / ".trialsupp-cache" / "quarto-sources").exists()
    assert source_links(page) == [("notebooks/baseline.html#tbl-baseline", "notebooks/mini/baseline.ipynb")]
    assert (out / "notebooks" / "baseline.html").is_file()
    assert "A Author" in front_block(page) and "Simulated data." in front_block(page)
    assert displayed_values(page) and not HTTP.search(page) and "data-notebook" not in page
    assert json.loads((root / "_output" / "mini" / "run.json").read_text())["engine"]["name"] == "quarto"

    piped = run(sys.executable, "-m", "trialsupp.cli", "render", "--study", "mini", "--engine", "quarto",
                "--to", "html,pdf", "--out", str(tmp_path / "piped"), "-q")
    assert piped.returncode == 0, piped.stderr[-3000:]
    other = (tmp_path / "piped" / "supplement.html").read_text(encoding="utf-8")
    assert float_list(page) == float_list(other) and float_list(page)
    assert _text(front_block(page)) == _text(front_block(other))
    assert displayed_values(page) == displayed_values(other)
    assert source_links(page) == source_links(other)


def _add_second_study(root: Path) -> None:
    """A second study beside ``mini`` (same data, its own notebook and report)."""
    import shutil
    from trialsupp.data.manifest import accept
    shutil.copytree(root / "data" / "mini", root / "data" / "mini2")
    accept(root / "data" / "mini2", "test fixture", who="tests")
    for sub in ("notebooks", "report"):
        shutil.copytree(root / sub / "mini", root / sub / "mini2")
    nb = root / "notebooks" / "mini2" / "baseline.ipynb"
    nb.write_text(nb.read_text().replace('\\"mini\\"', '\\"mini2\\"').replace("data/mini", "data/mini2"))
    rep = root / "report" / "mini2" / "index.qmd"
    rep.write_text(rep.read_text().replace("notebooks/mini/", "notebooks/mini2/").replace("Mini study", "Mini two"))
    cfg = (root / "src" / "studies" / "mini" / "study.yml").read_text()
    (root / "src" / "studies" / "mini2").mkdir()
    (root / "src" / "studies" / "mini2" / "study.yml").write_text(
        cfg.replace("name: mini", "name: mini2").replace("/mini", "/mini2").replace("Mini study", "Mini two"))
    (root / "trialsupp.yml").write_text("default: mini\nstudies:\n  mini: src/studies/mini/study.yml\n"
                                        "  mini2: src/studies/mini2/study.yml\n")


def test_quarto_render_of_the_whole_project_publishes_every_study(tmp_path):
    """`quarto render` with no file: every study's report, each from its own _results/."""
    root = tmp_path / "project"
    root.mkdir()
    make_project(root)
    _add_second_study(root)
    env = {**os.environ, "TRIALSUPP_CACHE": str(tmp_path / "cache"), "TRIALSUPP_PROJECT": str(root),
           "PYTHONPATH": os.pathsep.join([str(Path(trialsupp.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    env.pop("TRIALSUPP_STAGED_BUILD", None)
    res = subprocess.run(["quarto", "render"], cwd=root, env=env, capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    pages = {}
    for name, title in (("mini", "Mini study"), ("mini2", "Mini two")):
        out = root / "_output" / "report" / name
        pages[name] = (out / "index.html").read_text(encoding="utf-8")
        assert (out / "index.pdf").is_file() and (out / "notebooks" / "baseline.html").is_file()
        assert title in pages[name] and "A Author" in front_block(pages[name])
        assert source_links(pages[name]) == [("notebooks/baseline.html#tbl-baseline",
                                              f"notebooks/{name}/baseline.ipynb")]
        run_json = json.loads((root / "_output" / name / "run.json").read_text())
        assert run_json["study"] == name and run_json["engine"]["name"] == "quarto"
        assert displayed_values(pages[name])
    # each report shows its own results store (the provenance names its own notebook)
    assert "notebooks/mini2/baseline.ipynb" in pages["mini2"] and "notebooks/mini2/" not in pages["mini"]
    for name in ("mini", "mini2"):          # the committed notebooks are back (no outputs)
        nb = json.loads((root / "notebooks" / name / "baseline.ipynb").read_text())
        assert all(not c.get("outputs") for c in nb["cells"])
    assert float_list(pages["mini"]) == float_list(pages["mini2"]) and float_list(pages["mini"])
