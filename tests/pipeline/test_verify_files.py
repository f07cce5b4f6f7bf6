"""verify checks every file of a rendered output (issue 19): one tamper case per kind of file.

The mini project gets a second cell that writes what the real studies write: an RTF
table and a figure in SVG, PDF and PNG. One render; each case edits a copy of it and
runs ``trialsupp verify`` on the copy (in parallel). A clean copy must verify.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from trialsupp.pipeline.render import render

from .mini_project import make_project

EXTRA = '''import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from trialsupp.display.figure_output import show_figure
t = (Table("Baseline Characteristics", label="tbl-baseline", stub_header="Characteristic")
     .columns_from(placed, by="TRT01P")
     .add_stat_row("Female, No. (%)", placed, "{n} ({p})", variable="SEX", variable_level="F"))
t.to_rtf(Path(out_dir) / "t-baseline.rtf", number="Table 14-2.01")
means = placed[(placed["variable"] == "AGE") & (placed["stat_name"] == "mean")]
fig, ax = plt.subplots(figsize=(3, 2))
ax.bar(means["group1_level"], means["stat"].astype(float))
_ = show_figure(fig, "f-age", out_dir, ard_ids=list(means["id"]), display=False)
'''


def _project(root: Path) -> Path:
    study = make_project(root)
    path = root / "notebooks" / "mini" / "baseline.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell("from pathlib import Path\n" + EXTRA)
    cell.id = "cell-2"
    nb.cells.append(cell)
    nbformat.write(nb, path)
    return study


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    base = tmp_path_factory.mktemp("verify-files")
    root = base / "project"
    root.mkdir()
    study = _project(root)
    env = {"TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(base / "cache")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = render(str(study), out=root / "_output" / "mini", engine="builtin", formats=["html", "pdf"])
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return root, base, result.out


# ---- tampering, one function per kind of file -------------------------------------------
def _edit_text(rel, old_re, new):
    def edit(out: Path) -> None:
        p = out / rel
        text = p.read_text(encoding="utf-8", errors="surrogateescape")
        changed = re.sub(old_re, new, text, count=1)
        assert changed != text, (rel, old_re)
        p.write_text(changed, encoding="utf-8", errors="surrogateescape")
    return edit


def _flip_byte(rel, where=0.5):
    def edit(out: Path) -> None:
        p = out / rel
        data = bytearray(p.read_bytes())
        data[int(len(data) * where)] ^= 0x01
        p.write_bytes(bytes(data))
    return edit


def _pixel(rel):
    def edit(out: Path) -> None:
        p = out / rel
        img = np.array(Image.open(p).convert("RGBA"))
        img[10, 10] = [255, 0, 0, 255]
        Image.fromarray(img).save(p)
    return edit


def _json(rel, change):
    def edit(out: Path) -> None:
        p = out / rel
        doc = json.loads(p.read_text())
        change(doc)
        p.write_text(json.dumps(doc, indent=1))
    return edit


def _ard_value(doc):
    row = next(r for r in doc["rows"] if r["id"] == "baseline.baseline.placebo.age.mean")
    row["stat"] = row["stat"] + 0.5


def _run_env(doc):
    doc["git"]["commit"] = "0" * 40
    doc["python"] = "3.99.0"


def _delete(rel):
    def edit(out: Path) -> None:
        (out / rel).unlink()
    return edit


def _add(rel):
    def edit(out: Path) -> None:
        (out / rel).write_text("added later\n")
    return edit


def _and_manifest(edit):
    """A forger who also rewrites manifest.json: the re-run still catches it."""
    def both(out: Path) -> None:
        edit(out)
        from trialsupp.pipeline.integrity import OUTPUT_MANIFEST, hash_output
        (out / OUTPUT_MANIFEST).write_text(json.dumps({"schema": "trialsupp-output-manifest/1",
                                                       "files": hash_output(out)}))
    return both


# CDISC pilot ADSL: 53 placebo women (62%), tampered to 58. "n (" (space or RTF no-break space \u160?)
# followed by a digit: a count with its percent, never the "Table 14-2.01 (continued)" header. Verify must name the line and both values.
_RTF_COUNT = _edit_text("t-baseline.rtf", r"(?<![\d.])(\d+)( |\\u160\?)\((?=\d)",
                        lambda m: f"{int(m.group(1)) + 5}{m.group(2)}(")
RTF_COUNT_PLACE = re.compile(r"^t-baseline\.rtf: line \d+: '[^'\n]*\b58 \(62\)[^'\n]*' \(recorded\) "
                             r"vs '[^'\n]*\b53 \(62\)[^'\n]*' \(re-run\)$", re.M)

CASES = {
    "html number": (_edit_text("supplement.html", r'(data-ard="baseline\.baseline\.placebo\.age\.mean"[^>]*>)(\d)',
                               lambda m: m.group(1) + str((int(m.group(2)) + 1) % 10)),
                    ["supplement.html: changed since the render", "supplement.html: line ",
                     "placebo group was 85.2 years",
                     "displayed baseline.baseline.placebo.age.mean: '85.2' (recorded) vs '75.2' (re-run)"]),
    "pdf byte": (_flip_byte("supplement.pdf"), ["supplement.pdf: changed since the render", "supplement.pdf: "]),
    "rtf count": (_RTF_COUNT,
                  ["t-baseline.rtf: changed since the render", RTF_COUNT_PLACE]),
    "svg figure": (_edit_text("figures/f-age.svg", r'd="M (\d)', lambda m: f'd="M {(int(m.group(1)) + 1) % 10}'),
                   ["figures/f-age.svg: changed since the render", "figures/f-age.svg: element "]),
    "png figure": (_pixel("figures/f-age.png"),
                   ["figures/f-age.png: changed since the render", "figures/f-age.png: 1 pixel(s) differ"]),
    "pdf figure": (_flip_byte("figures/f-age.pdf", 0.3), ["figures/f-age.pdf: changed since the render"]),
    "ard.json value": (_json("ard.json", _ard_value),
                       ["ard.json: changed since the render", "ARD eTable 1 baseline.baseline.placebo.age.mean: stat "
                                                               "75.70930232558139 -> 75.20930232558139"]),
    "ard.csv number": (_edit_text("ard.csv", r"(baseline\.baseline\.placebo\.age\.mean,(?:[^,]*,){12})(\d)",
                                  lambda m: m.group(1) + str((int(m.group(2)) + 1) % 10)),
                       ["ard.csv: changed since the render",
                        "ard.csv: row 3 (id baseline.baseline.placebo.age.mean) column stat: '85.20930232558139' "
                        "(recorded) vs '75.20930232558139' (re-run)"]),
    "run.json environment": (_json("run.json", _run_env),
                             ["run.json: changed since the render", "run.json: git.commit: '0000",
                              "run.json: python: '3.99.0' (recorded)"]),
    # an ARD row's value inside the output's JSON text (its quotes escaped in the notebook)
    "executed notebook": (_edit_text("notebooks/baseline.ipynb", r'(\\"stat\\": )(\d)',
                                     lambda m: m.group(1) + str((int(m.group(2)) + 1) % 10)),
                          ["notebooks/baseline.ipynb: changed since the render",
                           "(id cell-1): outputs differ"]),
    "notebook preview": (_flip_byte("notebooks/baseline.html", 0.7),
                         ["notebooks/baseline.html: changed since the render"]),
    "figure deleted": (_delete("figures/f-age.png"),
                       ["figures/f-age.png: written by the render, now missing",
                        "figures/f-age.png: made by the re-run, missing from the output"]),
    "file added": (_add("extra.txt"), ["extra.txt: not written by the render", "extra.txt: not made by the re-run"]),
    "manifest deleted": (_delete("manifest.json"), ["manifest.json: missing or unreadable"]),
    "rtf and manifest": (_and_manifest(_RTF_COUNT), [RTF_COUNT_PLACE]),
    "pdf and manifest": (_and_manifest(_flip_byte("supplement.pdf")), ["supplement.pdf: "]),
    "untouched": (lambda out: None, []),
}


def _verify_copy(root: Path, base: Path, out: Path, name: str):
    copy = base / "copies" / re.sub(r"\W+", "-", name)
    shutil.copytree(out.resolve(), copy)
    CASES[name][0](copy)
    env = {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(base / "cache")}
    proc = subprocess.run([sys.executable, "-m", "trialsupp.cli", "verify", "--out", str(copy), "--engine", "builtin"],
                          capture_output=True, text=True, env=env, timeout=900)
    return copy, proc


@pytest.fixture(scope="module")
def verified(rendered):
    root, base, out = rendered
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(_verify_copy, root, base, out, name) for name in CASES}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_every_kind_of_file_is_checked(verified, name):
    copy, proc = verified[name]
    want = CASES[name][1]
    assert "Traceback" not in proc.stderr, proc.stderr
    if not want:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.strip().splitlines()[-1].startswith("reproduced:")
        # progress through rich on stderr: each step, what is left, the re-run's notebook
        assert "verify 2/5: re-run every notebook and re-publish" in proc.stderr
        assert "verify 5/5: write the certificate" in proc.stderr and "notebooks/mini/baseline.ipynb" in proc.stderr
        return
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NOT reproduced" in proc.stdout
    for text in want:
        found = text.search(proc.stdout) if isinstance(text, re.Pattern) else text in proc.stdout
        assert found, (getattr(text, "pattern", text), proc.stdout)


def test_certificate_lists_each_file_with_status_and_hash(verified):
    copy, proc = verified["rtf count"]
    report = json.loads((copy / "verify.json").read_text())
    files = {f["file"]: f for f in report["files"]}
    assert {"supplement.html", "supplement.pdf", "t-baseline.rtf", "figures/f-age.svg", "figures/f-age.pdf",
            "figures/f-age.png", "ard.json", "ard.csv", "run.json", "notebooks/baseline.ipynb"} <= set(files)
    assert files["t-baseline.rtf"]["render"] == "changed since the render"
    assert files["t-baseline.rtf"]["rerun"] == "differs"
    assert files["supplement.pdf"]["render"] == "as rendered" and files["supplement.pdf"]["rerun"] == "identical"
    from trialsupp.ard.provenance import sha256_file
    assert files["ard.csv"]["sha256"] == sha256_file(copy / "ard.csv")
    html = (copy / "verify.html").read_text()
    assert "t-baseline.rtf</td><td>changed since the render</td><td>differs</td>" in html
    assert files["ard.csv"]["sha256"] in html


@pytest.mark.slow
def test_rtf_run_date_is_the_renders_and_reproduced_byte_for_byte(rendered, verified):
    """The RTF footer carries the run date/time recorded in run.json (SOURCE_DATE_EPOCH); verify's
    re-run, dated the same, writes the same bytes. A second render that restores the notebook
    from the cache dates the RTF by itself, not by the render that executed the notebook."""
    root, base, out = rendered
    started = json.loads((out / "run.json").read_text())["started"]
    rtf = (out / "t-baseline.rtf").read_text(encoding="ascii")
    assert f"Run: {started[:10]} {started[11:16]} UTC" in rtf
    copy, proc = verified["untouched"]
    files = {f["file"]: f for f in json.loads((copy / "verify.json").read_text())["files"]}
    assert files["t-baseline.rtf"]["rerun"] == "identical"
    env = {"TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(base / "cache"),
           "SOURCE_DATE_EPOCH": "1736936433"}                     # 2025-01-15 10:20:33 UTC
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        again = render(str(root / "src" / "studies" / "mini" / "study.yml"), out=base / "again",
                       engine="builtin", formats=["html"])
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    assert again.cache_hits == ["notebooks/mini/baseline.ipynb"]
    dated = (again.out / "t-baseline.rtf").read_text(encoding="ascii")
    assert "Run: 2025-01-15 10:20 UTC" in dated and started[:16].replace("T", " ") not in dated
