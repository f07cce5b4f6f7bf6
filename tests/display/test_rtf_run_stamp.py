"""Run date/time in the RTF footer (issue 16): tables and figures carry "Run: <date time> UTC",
taken from SOURCE_DATE_EPOCH (the render's recorded start), so the same epoch writes the same
bytes; an RTF restored from the notebook cache is re-dated by the render that publishes it."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from trialsupp.ard.fmt import CSR
from trialsupp.display import Table
from trialsupp.display._render_rtf import restamp
from trialsupp.display.rtf_figure import figure_rtf
from trialsupp.pipeline.render import date_rtf_files

# 2025-01-15 10:20:33 UTC (date -u -d @1736936433)
EPOCH = "1736936433"
STAMP = "Run: 2025-01-15 10:20 UTC"


def _table():
    return (Table("Demo", stub_header="Characteristic").set(rules=CSR)
            .add_column("a", "Placebo").add_row("Age, mean (SD)", {"a": "75.2 (8.6)"}))


def _footers(rtf: str) -> list[str]:
    return re.findall(r"\{\\footerf?\n.*?\n\}\n", rtf, re.S)


def _png(tmp_path):
    p = tmp_path / "f.png"
    Image.new("RGB", (40, 20), "white").save(p)
    return p


def test_table_and_figure_footers_carry_the_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    table = _table().to_rtf(tmp_path / "t.rtf", number="Table 1", footer_right="Data cut: none")
    figure = figure_rtf(_png(tmp_path), tmp_path / "f.rtf", number="Figure 1", title="Demo",
                        footer_left="Source: x", footer_right="Data cut: none")
    for rtf in (table, figure):
        footers = _footers(rtf)
        assert footers and all(STAMP in f for f in footers), footers
        assert rtf.count("Run: ") == len(footers)          # only in the footers
    assert len(_footers(table)) == 2                       # first-page and later-page footers
    # same epoch, same bytes
    again = figure_rtf(_png(tmp_path), tmp_path / "f2.rtf", number="Figure 1", title="Demo",
                       footer_left="Source: x", footer_right="Data cut: none")
    assert again == figure
    assert "Run:" not in figure_rtf(_png(tmp_path), tmp_path / "f3.rtf", number="F", title="T", run=None)


def test_restamp_changes_only_the_footer_run_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")      # 2023-11-14 22:13 UTC
    t = (Table("Run: 2023-11-14 22:13 UTC in a title", stub_header="x").set(rules=CSR)
         .add_column("a", "A").add_row("r", {"a": "1"}))
    old = t.to_rtf(tmp_path / "t.rtf", number="Table 1")
    assert old.count("Run: 2023-11-14 22:13 UTC") == 5      # title: info + 2 page headers; 2 footers
    new = restamp(old, "2025-01-15 10:20 UTC")
    assert new.count(STAMP) == 2 and new.count("Run: 2023-11-14 22:13 UTC") == 3   # the title kept
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert new == t.to_rtf(tmp_path / "t2.rtf", number="Table 1").replace(
        "Run: 2025-01-15 10:20 UTC in a title", "Run: 2023-11-14 22:13 UTC in a title")


def test_rtfs_restored_from_the_cache_are_dated_by_this_render(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    (tmp_path / "rtf").mkdir()
    _table().to_rtf(tmp_path / "rtf" / "t.rtf", number="Table 1")
    figure_rtf(_png(tmp_path), tmp_path / "rtf" / "f.rtf", number="Figure 1", title="Demo")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    fresh = _table().to_rtf(tmp_path / "t.rtf", number="Table 1")      # as a re-execution writes it
    date_rtf_files(tmp_path / "rtf")
    assert (tmp_path / "rtf" / "t.rtf").read_text(encoding="ascii") == fresh
    fig = (tmp_path / "rtf" / "f.rtf").read_text(encoding="ascii")
    assert STAMP in fig and "2023-11-14" not in fig
