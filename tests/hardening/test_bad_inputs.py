"""Bad input, one case per test, each asserting the message.

* ADaM checks not covered by tests/data/test_cut_and_checks.py (direct calls).
* Corrupt/truncated XPT and Parquet, a directory or a non-dataset where a dataset is
  expected, duplicate USUBJID, invalid study configs: through the CLI, each giving
  ONE line ``trialsupp: error: ...`` (exit 1) and no traceback. The CLI cases run
  in parallel (each on its own copy of the fixture project) in a module fixture.
* Not-estimable statistics (empty arm, zero events, non-converging model) show
  "NE" with a footnote reason in a rendered table and the ARD row holds the reason.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialsupp.ard.schema import bind_ard
from trialsupp.ard.store import place
from trialsupp.data.checks import check_flags, check_numeric, check_study, require
from trialsupp.data.io import DataError
from trialsupp.display._escape import escape_html, escape_typst
from trialsupp.display.table import Table, cell
from trialsupp.stats.cox import CoxPH
from trialsupp.stats.descriptive import ard_summary, ard_tabulate
from trialsupp.stats.tests import chisq_test

from .hostile_project import REPO, hostile_adsl, make_project


# ---- ADaM checks (direct) --------------------------------------------------------------
def _study():
    adsl = pd.DataFrame({"USUBJID": ["A", "B", "C"], "SAFFL": ["Y", "Y", "N"]})
    adtte = pd.DataFrame({"USUBJID": ["A", "B"], "AVAL": [3.0, 4.0], "CNSR": [0, 1], "AVISITN": [1, 2]})
    return {"adsl": adsl, "adtte": adtte}


def test_required_dataset_missing():
    with pytest.raises(DataError, match=r"^dataset adae: required by this analysis but not provided$"):
        require(_study(), {"adsl": ["USUBJID"], "adae": ["AEDECOD"]})


def test_required_variables_missing_are_all_named():
    with pytest.raises(DataError, match=r"^dataset adtte: required variable\(s\) PARAMCD, ADT missing$"):
        require(_study(), {"adtte": ["USUBJID", "PARAMCD", "ADT"]})


def test_adsl_without_usubjid():
    data = _study()
    data["adsl"] = data["adsl"].drop(columns="USUBJID")
    with pytest.raises(DataError, match=r"^dataset adsl: variable USUBJID missing$"):
        check_study(data)


def test_analysis_dataset_without_usubjid():
    data = _study()
    data["adtte"] = data["adtte"].drop(columns="USUBJID")
    with pytest.raises(DataError, match=r"^dataset adtte: variable USUBJID missing$"):
        check_study(data)


@pytest.mark.parametrize("bad", ["y", "Yes", "1"])
def test_flag_values_are_y_n_or_blank(bad):
    df = pd.DataFrame({"ITTFL": ["Y", bad, None, ""]})
    with pytest.raises(DataError, match=rf"^dataset adsl, variable ITTFL: flag values must be Y, N or blank; "
                                        rf"rows 1 hold \['{bad}'\]$"):
        check_flags("adsl", df)


def test_numeric_flag_is_refused():
    with pytest.raises(DataError, match=r"variable SAFFL: .*rows 0, 1 hold \['0.0', '1.0'\]"):
        check_flags("adsl", pd.DataFrame({"SAFFL": [1.0, 0.0]}))


@pytest.mark.parametrize("col", ["AVAL", "CNSR", "BASE", "CHG"])
def test_analysis_values_must_be_numeric(col):
    df = pd.DataFrame({"USUBJID": ["A", "B", "C"], col: [1.0, "n/a", 2.0]})
    with pytest.raises(DataError, match=rf"^dataset adqs, variable {col}: must be numeric; rows 1 hold text "
                                        r"such as \['n/a'\]$"):
        check_numeric("adqs", df, [col])


def test_many_bad_rows_are_counted():
    df = pd.DataFrame({"USUBJID": [f"S{i}" for i in range(9)], "AVISITN": ["x"] * 9})
    with pytest.raises(DataError, match=r"rows 0, 1, 2, 3, 4 \(\+4 more\)"):
        check_numeric("adqs", df, ["AVISITN"])


@pytest.mark.parametrize("values", [["1", "2"], [None, None]])
def test_numeric_text_or_all_missing_column_is_accepted(values):
    check_numeric("adtte", pd.DataFrame({"AVAL": values}), ["AVAL"])


# ---- through the CLI ---------------------------------------------------------------------
def _cfg(sub: str, by: str):
    def edit(root: Path) -> None:
        p = root / "hostile.yaml"
        text = p.read_text()
        new = re.sub(sub, by, text, count=1, flags=re.M)
        assert new != text, sub
        p.write_text(new)
    return edit


def _data(fn):
    def edit(root: Path) -> None:
        fn(root / "data" / "hostile")
    return edit


def _truncate_parquet(d: Path):
    p = d / "adsl.parquet"
    p.write_bytes(p.read_bytes()[:3000])


def _png_as_parquet(d: Path):
    (d / "adsl.parquet").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)


def _directory_as_parquet(d: Path):
    (d / "adsl.parquet").unlink()
    (d / "adsl.parquet").mkdir()


def _truncated_xpt(d: Path):
    (d / "adsl.parquet").unlink()
    (d / "adsl.xpt").write_bytes((REPO / "data" / "cdiscpilot01" / "adsl.xpt").read_bytes()[:5000])


def _text_as_xpt(d: Path):
    (d / "adsl.parquet").unlink()
    (d / "adsl.xpt").write_text("USUBJID,TRT01P\n01-701-1015,Placebo\n")


def _duplicate_usubjid(d: Path):
    adsl = hostile_adsl()
    adsl.loc[3, "USUBJID"] = adsl.loc[0, "USUBJID"]
    adsl.to_parquet(d / "adsl.parquet", index=False)


def _orphan_usubjid(d: Path):
    adae = pd.read_parquet(d / "adae.parquet")
    adae.loc[2, "USUBJID"] = "99-999-9999"
    adae.to_parquet(d / "adae.parquet", index=False)


def _csv_only(d: Path):
    pd.read_parquet(d / "adsl.parquet").to_csv(d / "adsl.csv", index=False)
    (d / "adsl.parquet").unlink()


NB = "trialsupp: error: notebook notebooks/hostile/events.ipynb, cell 1 (id cell-1, label tbl-events): "
CLI_CASES = {
    # data
    "truncated parquet": (_data(_truncate_parquet),
                          "trialsupp: error: adsl.parquet: cannot be read as parquet ("),
    "png named .parquet": (_data(_png_as_parquet), "trialsupp: error: adsl.parquet: cannot be read as parquet ("),
    "directory named .parquet": (_data(_directory_as_parquet),
                                 "trialsupp: error: {root}/data/hostile/adsl.parquet: is a directory, "
                                 "expected a parquet file"),
    "truncated xpt": (_data(_truncated_xpt), "trialsupp: error: adsl.xpt: SAS transport file does not end on an "
                                             "80-byte record (5000 bytes): truncated or damaged"),
    "csv text named .xpt": (_data(_text_as_xpt), "trialsupp: error: adsl.xpt: not a SAS transport (XPT) file"),
    "usubjid not unique": (_data(_duplicate_usubjid),
                           NB + "DataError: dataset adsl, variable USUBJID: not unique; rows 0, 3 repeat"),
    "orphan usubjid": (_data(_orphan_usubjid),
                       NB + "DataError: dataset adae, variable USUBJID: rows 2 have participants not in adsl, "
                            "e.g. '99-999-9999'"),
    "only a csv": (_data(_csv_only), NB + "DataError: dataset adsl: required by this analysis but not provided"),
    # study config
    "unknown top key": (_cfg(r"^title:", "colour: red\ntitle:"), "trialsupp: error: hostile.yaml: unknown key(s) colour"),
    "unknown data key": (_cfg(r"dir: data/hostile\}", "dir: data/hostile, bogus: 1}"),
                         "trialsupp: error: hostile.yaml: data: unknown key(s) bogus"),
    "unknown parameter key": (_cfg(r'description: "Row heading"', 'description: "Row heading", colour: 3'),
                              "trialsupp: error: hostile.yaml: parameters.label: unknown key(s) colour"),
    "bounds on a text parameter": (_cfg(r'description: "Row heading"', 'description: "Row heading", min: 3'),
                                   "trialsupp: error: hostile.yaml: parameters.label.min: only int, float, date "
                                   "and cut parameters take bounds"),
    "parameter type": (_cfg(r"type: str", "type: string"),
                       "trialsupp: error: hostile.yaml: parameters.label.type: must be one of bool, choice, cut, "
                       "date, float, int, str, got 'string'"),
    "parameter default": (_cfg(r"default: Safety", "default: Everyone"),
                          "trialsupp: error: hostile.yaml: parameters.population.default: must be one of "
                          "Safety, ITT, got 'Everyone'"),
    "notebooks not a list": (_cfg(r"^notebooks: .*$", "notebooks: notebooks/hostile/events.ipynb"),
                             "trialsupp: error: hostile.yaml: notebooks: must be a list of paths"),
    "data not a mapping": (_cfg(r"^data: .*$", "data: data/hostile"),
                           "trialsupp: error: hostile.yaml: data: must be a mapping"),
    "format rules not a mapping": (_cfg(r"^format_rules: .*$", "format_rules: jama"),
                                   "trialsupp: error: hostile.yaml: format_rules: "),
    "format rule value": (_cfg(r"rounding: half_even", "rounding: up"),
                          "trialsupp: error: hostile.yaml: format_rules: format rule 'rounding' must be half_even or half_away, not 'up'"),
    "name not text": (_cfg(r"^name: hostile", "name: 5"),
                      "trialsupp: error: hostile.yaml: name: must be a folder name (letters, digits, . _ -), got 5"),
    "name with a path": (_cfg(r"^name: hostile", 'name: "../../evil"'),
                         "trialsupp: error: hostile.yaml: name: must be a folder name (letters, digits, . _ -), "
                         "got '../../evil'"),
    "citation not a mapping": (_cfg(r"^citation: .*$", "citation: 7"),
                               "trialsupp: error: hostile.yaml: citation: must be a mapping"),
    "title not text": (_cfg(r"^title: .*$", "title: [1, 2]"),
                       "trialsupp: error: hostile.yaml: title: must be text, got [1, 2]"),
    "data dir outside": (_cfg(r"dir: data/hostile", "dir: ../outside"),
                         "trialsupp: error: hostile.yaml: data.dir: path '../outside' is outside the project "
                         "directory {root}"),
    "notebook outside": (_cfg(r"^notebooks: .*$", "notebooks: [/etc/hosts.ipynb]"),
                         "trialsupp: error: hostile.yaml: notebooks: path '/etc/hosts.ipynb' is outside the "
                         "project directory {root}"),
    "report outside": (_cfg(r"^report: .*$", "report: ../../etc/passwd"),
                       "trialsupp: error: hostile.yaml: report: path '../../etc/passwd' is outside the project "
                       "directory {root}"),
    "not yaml": (_cfg(r"^title: .*$", "title: [unclosed"), "trialsupp: error: hostile.yaml: not valid YAML ("),
}


def _run_case(base: Path, name: str):
    """Edit a fresh project, re-record its data deliberately (``data accept``), render.
    Returns the first command that failed: ``data accept`` refuses a file it cannot read to
    its end, and then the render refuses the unrecorded file too (checked here)."""
    root = base / re.sub(r"\W+", "-", name)
    root.mkdir()
    make_project(root)
    CLI_CASES[name][0](root)
    env = {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(root / ".cache")}
    env.pop("TRIALSUPP_DEBUG", None)
    study = str(root / "hostile.yaml")
    accepted = subprocess.run([sys.executable, "-m", "trialsupp.cli", "data", "accept", "--study", study,
                               "--reason", "test case"], capture_output=True, text=True, env=env, timeout=300)
    proc = subprocess.run([sys.executable, "-m", "trialsupp.cli", "render", "--study", study,
                           "--out", str(root / "_output" / "hostile"), "--engine", "builtin", "--to", "html", "-q"],
                          capture_output=True, text=True, env=env, timeout=300)
    if accepted.returncode != 0:
        assert proc.returncode == 1 and len(_error_lines(proc.stderr)) == 1, proc.stderr
        return root, accepted
    return root, proc


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad-inputs")
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(_run_case, base, name) for name in CLI_CASES}
        return {name: f.result() for name, f in futures.items()}


def _error_lines(stderr: str) -> list[str]:
    # the kernel's own banner (ZMQ transport warning) is not ours
    return [l for l in stderr.splitlines() if l.strip() and not l.startswith("[IPKernelApp]")]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CLI_CASES))
def test_cli_bad_input_is_one_line(cli_results, name):
    root, proc = cli_results[name]
    want = CLI_CASES[name][1].format(root=root)
    lines = _error_lines(proc.stderr)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith(want), (lines[0], want)
    # nothing was published, nothing left outside the output folder
    out = root / "_output" / "hostile"
    assert not out.exists()
    if out.parent.exists():
        assert {p.name for p in out.parent.iterdir()} <= {".hostile.lock"}
    assert not (root.parent / "evil").exists() and not (root / "evil").exists()


# ---- not estimable: NE with a reason, in the ARD and in a rendered table -----------------
def _render(t: Table) -> tuple[str, str]:
    return t.to_html(), t.to_typst()


def _assert_ne(placed: pd.DataFrame, html: str, typ: str, reason: str) -> None:
    rows = placed[placed["error"] == reason]
    assert len(rows), f"no ARD row holds {reason!r}: {sorted(set(placed['error'].dropna()))}"
    assert rows["stat"].isna().all() and (rows["stat_fmt"] == "NE").all()
    note = f"Not estimable (NE): {reason.rstrip('.')}."
    assert ">NE</span>" in html and escape_html(note) in html and "NE, not estimable" in html
    assert escape_typst(note) in typ
    for out in (html, typ):
        assert not re.search(r"\b(nan|NaN|None|inf)\b", out)


def test_empty_arm_gives_ne_with_reason():
    adsl = pd.DataFrame({"USUBJID": ["A", "B", "C"], "AGE": [50.0, 61.0, 70.0],
                         "TRT01P": pd.Categorical(["Placebo"] * 3, categories=["Placebo", "Drug"]),
                         "SEX": ["F", "M", "F"]})
    ard = bind_ard(ard_summary(adsl, "AGE", by="TRT01P", statistic=("N", "mean", "sd")),
                   ard_tabulate(adsl, "SEX", by="TRT01P", denominator=adsl))
    placed = place(ard, output="tbl-empty", analysis_id="base", population="ITT")
    t = (Table("Baseline", label="tbl-empty", stub_header="Characteristic")
         .columns_from(placed, by="TRT01P", variable="SEX")
         .add_stat_row("Age, mean (SD), y", placed, "{mean} ({sd})", variable="AGE")
         .add_categorical(placed, "SEX", "Sex, No. (%)"))
    html, typ = _render(t)
    _assert_ne(placed, html, typ, "no non-missing values")
    _assert_ne(placed, html, typ, "denominator is zero")


def test_zero_events_gives_ne_for_the_test():
    adae = pd.DataFrame({"USUBJID": list("ABCDEF"), "TRT01A": ["Placebo"] * 3 + ["Drug"] * 3,
                         "AESER": ["N"] * 6})
    ard = bind_ard(ard_tabulate(adae, "AESER", by="TRT01A"), chisq_test(adae, "AESER", "TRT01A"))
    placed = place(ard, output="tbl-sae", analysis_id="sae", population="Safety")
    test_rows = placed[placed["stat_name"].isin(["statistic", "p.value"])]
    assert test_rows["stat"].isna().all()
    assert set(test_rows["error"]) == {"table has fewer than 2 non-empty rows or columns"}
    t = (Table("Serious adverse events", label="tbl-sae", stub_header="Event")
         .columns_from(placed, by="TRT01A", variable="AESER")
         .add_stat_row("No serious event, No. (%)", placed, "{n} ({p})", variable="AESER", variable_level="N")
         .add_column("p", "P value")
         .add_row("Chi-square test", {"p": cell(test_rows, "{p.value}")}))
    html, typ = _render(t)
    _assert_ne(placed, html, typ, "table has fewer than 2 non-empty rows or columns")


def _tte(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"AVAL": rng.exponential(10, 2 * n).round(1) + 0.1,
                         "EVENT": [0] * n + list(rng.integers(0, 2, n)),     # no events on Placebo
                         "TRT01P": ["Placebo"] * n + ["Drug"] * n})


def _cox_table(df: pd.DataFrame) -> tuple[pd.DataFrame, str, str]:
    fit = CoxPH().fit(df, time="AVAL", event="EVENT", treatment="TRT01P", reference="Placebo")
    placed = place(fit.to_ard(), output="tbl-cox", analysis_id="os", population="ITT")
    hr = placed[placed["stat_name"].isin(["estimate", "conf.low", "conf.high"])]
    t = (Table("Overall survival", label="tbl-cox", stub_header="Comparison")
         .add_column("hr", "HR (95% CI)")
         .add_row("Drug vs placebo", {"hr": cell(hr, "{estimate} ({ci})")}))
    html, typ = _render(t)
    return placed, html, typ


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_non_converging_cox_gives_ne_with_reason():
    placed, html, typ = _cox_table(_tte(10, 1))
    _assert_ne(placed, html, typ, "not estimable (monotone likelihood: coefficient infinite)")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("n", [4, 30])
def test_no_events_in_one_arm_always_gives_ne_rows(n):
    placed, html, typ = _cox_table(_tte(n, 1))
    _assert_ne(placed, html, typ, "not estimable (monotone likelihood: coefficient infinite)")


def test_empty_population_gives_ne_rows():
    empty = pd.DataFrame({"USUBJID": pd.Series([], dtype=str), "AGE": pd.Series([], dtype=float),
                          "TRT01P": pd.Categorical([], categories=["Placebo", "Drug"])})
    ard = ard_summary(empty, "AGE", by="TRT01P", statistic=("N", "mean"))
    assert len(ard) and ard["error"].notna().any()
