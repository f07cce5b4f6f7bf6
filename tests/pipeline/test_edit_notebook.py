"""A user edits one cell of a project's notebook (as in Jupyter) and re-renders: the output changes."""
from decimal import ROUND_HALF_EVEN, Decimal

import nbformat
import pyreadstat
import pytest

from trialsupp.pipeline.render import render

pytestmark = pytest.mark.slow


def _placebo_mean_age(root, min_age=0):
    adsl, _ = pyreadstat.read_xport(str(root / "data" / "mini" / "adsl.xpt"))
    ages = adsl.loc[(adsl.SAFFL == "Y") & (adsl.TRT01P == "Placebo") & (adsl.AGE >= min_age), "AGE"]
    return str(Decimal(repr(float(ages.mean()))).quantize(Decimal("0.1"), ROUND_HALF_EVEN))


def test_editing_one_cell_changes_the_next_render(mini):
    root, study = mini
    out = root / "_output" / "mini"
    render(str(study), out=out, engine="builtin", formats=["html"])
    html = (out / "supplement.html").read_text()
    assert "Female, No. (%)" in html
    assert f'data-ard="baseline.baseline.placebo.age.mean" tabindex="0">{_placebo_mean_age(root)}</span>' in html

    path = root / "notebooks" / "mini" / "baseline.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.id == "cell-1")
    assert 'pop = adsl[adsl["SAFFL"] == "Y"]' in cell.source
    cell.source = (cell.source.replace("Female, No. (%)", "Women, No. (%)")                  # a label
                   .replace('pop = adsl[adsl["SAFFL"] == "Y"]',                              # a threshold
                            'pop = adsl[(adsl["SAFFL"] == "Y") & (adsl["AGE"] >= 75)]'))
    nbformat.write(nb, path)

    result = render(str(study), out=out, engine="builtin", formats=["html"])     # no --force
    assert result.cache_misses == ["notebooks/mini/baseline.ipynb"]
    html = (out / "supplement.html").read_text()
    assert "Women, No. (%)" in html and "Female, No. (%)" not in html
    edited = _placebo_mean_age(root, min_age=75)
    assert edited != _placebo_mean_age(root)
    assert f'data-ard="baseline.baseline.placebo.age.mean" tabindex="0">{edited}</span>' in html
