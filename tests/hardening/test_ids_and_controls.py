"""ARD ids unique by construction (AE terms differing only in case) and control characters
(BEL, ESC, DEL, C1) never reaching HTML, Typst or RTF: one case per test."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from trialsupp.ard.store import place
from trialsupp.data.manifest import accept
from trialsupp.display.table import Table
from trialsupp.stats.descriptive import ard_tabulate

from .hostile_project import make_project

REPO = Path(__file__).resolve().parents[2]
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
BEL_TERM = "Nausea\x07 \x1b[31mred\x1b[0m \x7f\x9bend"


def _terms() -> pd.DataFrame:
    return pd.DataFrame({"TRT01P": ["A", "A", "B", "B", "B"],
                         "AEDECOD": ["PRURITUS", "Pruritus", "Pruritus", "pruritus", BEL_TERM]})


def test_terms_differing_only_in_case_get_distinct_ids():
    placed = place(ard_tabulate(_terms(), "AEDECOD", by="TRT01P"), output="tbl-ae", analysis_id="ae",
                   population="Safety")
    assert placed["id"].is_unique
    n = placed[placed["stat_name"] == "n"]
    ids = dict(zip(zip(n["group1_level"], n["variable_level"]), n["id"]))
    upper, title = ids[("A", "PRURITUS")], ids[("A", "Pruritus")]
    assert upper != title and upper.startswith("ae.ae.a.aedecod.pruritus-") and upper.endswith(".n")
    # stable: the same data give the same ids
    again = place(ard_tabulate(_terms(), "AEDECOD", by="TRT01P"), output="tbl-ae", analysis_id="ae",
                  population="Safety")
    assert again["id"].tolist() == placed["id"].tolist()
    # levels that do not collide keep their plain readable id
    assert ids[("B", BEL_TERM)] == "ae.ae.b.aedecod.nausea-31mred-0m-end.n"


def _table() -> Table:
    placed = place(ard_tabulate(_terms(), "AEDECOD", by="TRT01P"), output="tbl-ae", analysis_id="ae",
                   population="Safety")
    return (Table("AEs \x07with a bell", label="tbl-ae", stub_header="Term\x1b")
            .columns_from(placed, by="TRT01P")
            .add_categorical(placed, "AEDECOD", "Preferred term, No. (%)", group1="TRT01P")
            .footnote("Footnote with ESC\x1b[0m and DEL\x7f."))


@pytest.mark.parametrize("target", ["html", "typst", "rtf"])
def test_control_characters_are_removed(target):
    t = _table()
    text = {"html": t.to_html, "typst": t.to_typst, "rtf": t.to_rtf}[target]()
    assert not CONTROL.search(text), repr(CONTROL.search(text).group())
    assert "Nausea" in text and "red" in text


def test_control_characters_in_data_never_reach_a_rendered_page(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    study = make_project(root)
    adsl = pd.read_parquet(root / "data" / "hostile" / "adsl.parquet")
    adsl.loc[::3, "AETERM"] = BEL_TERM
    adsl.to_parquet(root / "data" / "hostile" / "adsl.parquet", index=False)
    accept(root / "data" / "hostile", "control characters", who="tests")
    env = {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": str(REPO / "src")}
    out = root / "_output" / "hostile"
    proc = subprocess.run([sys.executable, "-m", "trialsupp.cli", "render", "--study", str(study), "--out", str(out),
                           "--engine", "builtin", "-q"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    pages = [out / "supplement.html", out / "t-events.rtf", *sorted((out / "notebooks").glob("*.html"))]
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        assert not CONTROL.search(text), (page.name, repr(CONTROL.search(text).group()))
        assert "Nausea" in text, page.name
    pdf = subprocess.run(["pdftotext", str(out / "supplement.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Nausea" in pdf and not CONTROL.search(pdf.replace("\x0c", ""))
