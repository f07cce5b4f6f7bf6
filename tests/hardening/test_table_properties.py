"""Property-based tests of the table builders fed random ADaM-like frames.

Missing values, empty arms and all-missing variables must never print "nan":
not-estimable statistics show "NE" with a footnote giving the reason, the ARD row
holds the reason, and every number in the HTML sits inside a ``ts-stat`` span.
"""
from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pypdf
import typst
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialsupp.ard.audit import audit_html
from trialsupp.ard.schema import bind_ard
from trialsupp.ard.store import place
from trialsupp.display.table import Table
from trialsupp.stats.descriptive import ard_summary, ard_tabulate

ARMS = ["Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"]
BAD_WORDS = re.compile(r"\b(nan|NaN|None|inf|NaT|null)\b")


@st.composite
def adsl_frames(draw):
    n = draw(st.integers(1, 30))
    arms = draw(st.lists(st.sampled_from(ARMS), min_size=n, max_size=n))
    ages = draw(st.lists(st.one_of(st.none(), st.integers(18, 95).map(float),
                                   st.floats(18, 95, allow_nan=False).map(lambda v: round(v, 1))),
                         min_size=n, max_size=n))
    sexes = draw(st.lists(st.sampled_from(["F", "M", None]), min_size=n, max_size=n))
    return pd.DataFrame({
        "USUBJID": [f"S-{i:03d}" for i in range(n)],
        "TRT01P": pd.Categorical(arms, categories=ARMS),        # empty arms are kept
        "AGE": pd.Series(ages, dtype=float),
        "SEX": pd.Categorical(sexes, categories=["F", "M"]),
    })


def _table(df):
    ard = bind_ard(ard_summary(df, "AGE", by="TRT01P", statistic=("N", "mean", "sd", "median", "min", "max")),
                   ard_tabulate(df, "SEX", by="TRT01P", denominator=df))
    placed = place(ard, output="tbl-props", analysis_id="base", population="ITT")
    t = (Table("Baseline", label="tbl-props", stub_header="Characteristic")
         .columns_from(placed, by="TRT01P", variable="SEX")
         .add_stat_row("Age, mean (SD), y", placed, "{mean} ({sd})", variable="AGE")
         .add_stat_row("Age, median (range), y", placed, "{median} ({range})", variable="AGE")
         .add_categorical(placed, "SEX", "Sex, No. (%)", levels={"F": "Female", "M": "Male"}))
    return placed, t


def _text_of_typst(markup: str) -> str:
    pdf = typst.compile(("#set page(width: 30cm, height: auto, margin: 5mm)\n" + markup).encode("utf-8"))
    return " ".join((p.extract_text() or "") for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=adsl_frames())
def test_random_frames_render_without_nan_and_with_ne_reasons(df):
    placed, t = _table(df)
    html, typ = t.to_html(), t.to_typst()
    for out in (html, typ, t.to_text(), t.to_rtf()):
        assert not BAD_WORDS.search(out), BAD_WORDS.search(out)

    # the ARD: never NaN; a missing stat always has its reason
    assert placed["stat_fmt"].map(lambda s: isinstance(s, str) and s != "").all()
    missing = placed[placed["stat"].isna()]
    assert missing["error"].map(lambda e: isinstance(e, str) and e.strip() != "").all()
    assert (missing["stat_fmt"] == "NE").all()

    # every empty arm: NE cells, a footnote with the reason, "NE, not estimable"
    empty_arms = [a for a in ARMS if not (df["TRT01P"] == a).any()]
    no_age = [a for a in ARMS if df.loc[df["TRT01P"] == a, "AGE"].notna().sum() == 0]
    if no_age:
        assert ">NE</span>" in html
        assert "Not estimable (NE): no non-missing values." in html
        assert "NE, not estimable" in html
    if empty_arms:
        assert "Not estimable (NE): denominator is zero." in html
    if not missing.empty:
        # the table shows NE for every ARD NE that is displayed
        assert "NE" in t.to_text()

    # every number of the HTML is bound to an ARD row and equals its formatted value
    assert audit_html(html, placed) == []


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=adsl_frames())
def test_random_frames_compile_in_typst(df):
    _, t = _table(df)
    text = _text_of_typst(t.to_typst(include_title=True, number="eTable 1"))
    assert "eTable 1" in text and "Baseline" in text
    assert not BAD_WORDS.search(text)


def test_all_arms_empty_but_one_and_all_values_missing():
    """A deterministic corner: one subject, no age, no sex."""
    df = pd.DataFrame({"USUBJID": ["S-1"], "TRT01P": pd.Categorical(["Placebo"], categories=ARMS),
                       "AGE": [np.nan], "SEX": pd.Categorical([None], categories=["F", "M"])})
    placed, t = _table(df)
    html = t.to_html()
    assert "Not estimable (NE): no non-missing values." in html
    assert "Not estimable (NE): denominator is zero." in html
    assert "nan" not in html.lower().replace("nanc", "")
    assert audit_html(html, placed) == []
