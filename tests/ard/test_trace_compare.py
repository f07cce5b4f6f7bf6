import pytest

from trialsupp.ard.compare import compare_ard
from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.ard.store import place
from trialsupp.ard.trace import trace


def _ard(mean=51.2345, n=36):
    ard = bind_ard(ard_rows({"N": n, "mean": mean}, variable="AGE", group1="TRT01P", group1_level="Placebo",
                            method="descriptive", code="trialsupp.stats.descriptive:ard_summary@abc"))
    placed = place(ard, output="tbl-baseline", analysis_id="baseline", population="ITT",
                   params={"seed": 3}, inputs={"adsl": "f" * 64})
    placed["output_id"] = "eTable 1"          # numbered by the publisher
    placed["notebook"] = "notebooks/valor/baseline.ipynb"
    placed["cell_id"] = "c9"
    return placed


def test_trace_by_id_element_and_value():
    ard = _ard()
    out = trace(ard, "baseline.baseline.placebo.age.mean")
    assert "51.23" in out and "notebooks/valor/baseline.ipynb  cell c9" in out and "adsl sha256:" + "f" * 64 in out
    assert "all 2 numbers of eTable 1" in trace(ard, "eTable 1")
    assert "1 row(s) displayed as '36'" in trace(ard, "36")
    with pytest.raises(LookupError, match="nothing in the results store matches '99'"):
        trace(ard, "99")


def test_compare_counts_exactly_and_numbers_with_tolerance():
    same = compare_ard(_ard(), _ard(mean=51.2345 * (1 + 1e-12)))
    assert same.identical and same.matched == 2
    diff = compare_ard(_ard(), _ard(mean=51.3, n=35))
    fields = sorted((d.id, d.field) for d in diff.differences)
    assert fields == sorted([("baseline.baseline.placebo.age.mean", "stat"), ("baseline.baseline.placebo.age.mean", "stat_fmt"),
                             ("baseline.baseline.placebo.age.N", "stat"), ("baseline.baseline.placebo.age.N", "stat_fmt")])
    assert not diff.identical


def test_not_estimable_equals_not_estimable_whether_none_or_nan():
    from trialsupp.ard.compare import values_equal
    assert values_equal("median", None, float("nan"), 1e-9)[0]
    assert values_equal("median", float("nan"), float("nan"), 1e-9)[0]
    assert not values_equal("median", float("nan"), 1.0, 1e-9)[0]
    assert not values_equal("n", None, 0, 1e-9)[0]
