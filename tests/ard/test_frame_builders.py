"""The ARD frame builders' array paths give the frames pandas builds from the same records
(the reference here is the plain pandas construction they replace)."""
import itertools

import numpy as np
import pandas as pd
import pytest

from trialsupp.ard.schema import RESULT_COLUMNS, ard_frame, ard_records, ard_rows, cells_frame
from trialsupp.ard.store import place, to_records

STATS = [{"n": 3, "N": 10, "p": 0.3}, {"n": 3}, {"mean": 1.5, "sd": None}, {"p.value": float("nan")},
         {"method": "x"}, {"a": None, "b": None}, {"n": 3, "N": None}, {"statistic": 0.5, "method": "m"},
         {"x": True}, {"x": np.float64(2.5), "y": 1}, {"big": 2 ** 70, "f": 0.5}]
KEYS = [{}, dict(group1="TRTP", group1_level="A", variable="X", variable_level="L"),
        dict(variable="V", variable_level=1), dict(variable="V", error="e", warning="w")]


def reference_rows(stats, **kw):
    frame = pd.DataFrame(ard_records(stats, **kw), columns=RESULT_COLUMNS)
    stat = frame["stat"].astype(object)
    frame["stat"] = stat.where(stat.notna(), None)
    return frame


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b)
    for c in a.columns:     # values and their Python types, column by column
        assert [type(v) for v in a[c]] == [type(v) for v in b[c]], c


@pytest.mark.parametrize("stats,kw", list(itertools.product(STATS, KEYS)))
def test_ard_rows_as_pandas(stats, kw):
    same(ard_rows(stats, **kw), reference_rows(stats, **kw))


@pytest.mark.parametrize("kw", KEYS)
def test_ard_frame_and_cells_frame_as_pandas(kw):
    records = [r for s in STATS for r in ard_records(s, **kw)]
    ref = pd.DataFrame(records, columns=RESULT_COLUMNS).astype(object)
    stat = pd.Series([r["stat"] for r in records], dtype=object)
    ref["stat"] = stat.where(stat.notna(), None)
    same(ard_frame(records), ref)
    cells = [ard_records(s, **kw) for s in STATS]
    pd.testing.assert_frame_equal(cells_frame(cells), pd.concat([reference_rows(s, **kw) for s in STATS],
                                                                ignore_index=True).astype(object))


def test_place_and_records_as_before():
    numbers = [{"n": 3, "N": 10, "p": 0.3}, {"mean": 1.5, "sd": 2.25}, {"statistic": 0.5, "p.value": 0.04}]
    ard = pd.concat([ard_rows(s, **KEYS[1]) for s in numbers], ignore_index=True)
    ard["variable_level"] = [f"L{i}" for i in range(len(ard))]
    placed = place(ard, output="t", analysis_id="a", population="ITT", inputs={"adsl": "x"})
    assert list(placed.columns)[:4] == ["id", "output_id", "analysis_id", "population"]
    assert placed["id"].is_unique and (placed["output_id"] == "t").all()
    typed = ard.copy()
    typed["stat"] = pd.to_numeric(typed["stat"], errors="coerce")     # a float column: the typed path
    placed_typed = place(typed, output="t", analysis_id="a", population="ITT", inputs={"adsl": "x"})
    assert placed_typed["id"].tolist() == placed["id"].tolist()
    recs = to_records(placed)
    ref = [{c: (None if isinstance(v, float) and v != v else v) for c, v in r.items()}
           for r in placed.to_dict("records")]
    assert recs == ref
