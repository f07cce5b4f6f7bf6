"""ArdIndex: the same rows, cells and errors as ``select`` / ``cell`` on the whole ARD."""
import pandas as pd
import pytest

from display_ard import place
from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.display import ArdIndex, MissingStatError, cell, select


def placed_ard() -> pd.DataFrame:
    parts = []
    for arm, n in (("Placebo", 40), ("Active", 38)):
        for sex, k in (("F", 21), ("M", n - 21)):
            parts.append(ard_rows({"n": k, "N": n, "p": k / n}, group1="TRT01P", group1_level=arm,
                                  variable="SEX", variable_level=sex, context="tabulate"))
        parts.append(ard_rows({"mean": 61.5, "sd": 8.25}, group1="TRT01P", group1_level=arm,
                              variable="AGE", context="summary"))
    parts.append(ard_rows({"p.value": 0.0312}, variable="SEX", context="fisher"))
    parts.append(ard_rows({"n": 3}, group1="TRT01P", group1_level="Active", variable="CODE", variable_level=1))
    return place(bind_ard(*parts))


WHERES = [dict(variable="SEX", group1_level="Placebo"),
          dict(variable="SEX", group1_level="Active", variable_level="M"),
          dict(variable="AGE", group1_level="Placebo", variable_level=None),
          dict(variable="SEX", group1_level=None, stat_name="p.value"),
          dict(variable="SEX", group1_level=["Placebo", "Active"], stat_name="n"),   # a list: select path
          dict(variable="CODE", group1_level="Active", variable_level="1"),
          dict(variable="NONE", group1_level="Placebo")]


@pytest.mark.parametrize("cols", [(), ("variable",), ("variable", "group1_level"), ("variable_level",)])
@pytest.mark.parametrize("where", WHERES)
def test_select_and_values_as_select(cols, where):
    ard = placed_ard()
    at = ArdIndex(ard, *cols)
    want = select(ard, **where)
    got = at.select(**where)
    assert got.index.tolist() == want.index.tolist()
    pd.testing.assert_frame_equal(got, want)
    assert at.values("stat", **where).tolist() == want["stat"].tolist()


def test_numeric_key_column_falls_back_to_select():
    ard = placed_ard()
    ard.loc[ard["variable"] == "CODE", "variable_level"] = 1.0      # select matches 1 and "1.0" here
    at = ArdIndex(ard, "variable_level")
    for want in (1, "1.0", 1.0):
        assert at.select(variable_level=want).index.tolist() == select(ard, variable_level=want).index.tolist()
        assert len(at.select(variable_level=want)) == 1


def test_cell_as_cell_and_same_errors():
    ard = placed_ard()
    at = ArdIndex(ard, "variable", "group1_level")
    for where, tpl in ((dict(variable="SEX", group1_level="Active", variable_level="F"), "{n} ({p})"),
                       (dict(variable="AGE", group1_level="Placebo"), "{mean} ({sd})"),
                       (dict(variable="SEX", group1_level=None), "{p.value}")):
        assert at.cell(tpl, **where) == cell(ard, tpl, **where)
    with pytest.raises(MissingStatError) as ours:
        at.cell("{median}", variable="AGE", group1_level="Placebo")
    with pytest.raises(MissingStatError) as theirs:
        cell(ard, "{median}", variable="AGE", group1_level="Placebo")
    assert str(ours.value) == str(theirs.value)
