"""The PDF audit per element (issue 19): inside a table or figure, a number must be a
formatted ARD value of THAT element, not merely a value found anywhere in the document."""
from __future__ import annotations

import pandas as pd
import pytest

from trialsupp.ard import audit

ARD = pd.DataFrame({"id": ["a.age.mean", "b.hr.p"], "output_id": ["eTable 1", "eTable 2"],
                    "stat_fmt": ["75.2", ".33"], "error": [None, None]})
CONTENTS = "Supplementary Online Content\nContents\neTable 1. Age\neTable 2. Hazard ratio\n"


def _audit(monkeypatch, body: str):
    monkeypatch.setattr(audit, "pdf_pages_text", lambda pdf: [CONTENTS, body])
    return audit.audit_pdf("unused.pdf", ARD)


def test_each_number_in_its_own_element_is_bound(monkeypatch):
    body = "eTables\neTable 1. Age\nMean age 75.2\neTable 2. Hazard ratio\nP = .33\n"
    assert _audit(monkeypatch, body) == []


def test_a_value_of_another_element_is_unbound(monkeypatch):
    body = "eTables\neTable 1. Age\nMean age .33\neTable 2. Hazard ratio\nP = 75.2\n"
    problems = _audit(monkeypatch, body)
    assert [(p.where, p.number) for p in problems] == [("PDF page 2, eTable 1", ".33"),
                                                        ("PDF page 2, eTable 2", "75.2")]
    assert "a value of another element, not of eTable 1" in problems[0].context


def test_prose_outside_elements_may_cite_any_value(monkeypatch):
    body = "eMethods\nThe mean age was 75.2 years (P = .33).\neTables\neTable 1. Age\nMean age 75.2\n"
    assert _audit(monkeypatch, body) == []


def test_a_number_of_no_element_is_unbound(monkeypatch):
    body = "eTables\neTable 1. Age\nMean age 81.9\n"
    assert [(p.where, p.number) for p in _audit(monkeypatch, body)] == [("PDF page 2", "81.9")]


def test_a_section_heading_ends_the_element(monkeypatch):
    body = "eTable 1. Age\nMean age 75.2\neMethods\nP = .33\n"
    assert _audit(monkeypatch, body) == []


def test_numbers_drawn_in_embedded_figures_are_traced_to_existing_rows():
    import base64
    svg = '<svg><g id="ard:a.age.mean"><path d="M 0 0"/></g><g id="ard:b.hr.p+gone.row"><path/></g></svg>'
    html = f'<p><img src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}"></p>'
    assert audit.figure_bindings(html) == [["a.age.mean"], ["b.hr.p", "gone.row"]]
    problems = audit.audit_html(html, ARD)
    assert [(p.where, p.number) for p in problems] == [("HTML figure", "b.hr.p+gone.row")]
    assert "unknown ARD id(s) gone.row" in problems[0].context


def test_tokens_of_each_element_by_hand():
    """The values an element may print: each formatted value, the numbers in it and its blank-
    separated parts (minus signs as hyphens), and the numbers of its rows' NE reasons and of its
    category labels with digits; rows without an element count for the document only."""
    ard = pd.DataFrame({
        "output_id": ["eTable 1", "eTable 1", "eTable 2", None],
        "stat_fmt": ["\u22121.5 (\u22122.0 to 3.1)", "12 (40%)", "NE", "7"],
        "error": [None, None, "SD needs at least 2 values.", None],
        "group1_level": ["Grade 3", "4", None, None],
        "group2_level": [None, None, None, None], "variable_level": [None, None, "COVID 19", None]})
    first = {"-1.5 (-2.0 to 3.1)", "-1.5", "-2.0", "3.1", "to", "12 (40%)", "12", "40%", "40", "3"}
    second = {"NE", "2", "19"}
    assert audit._element_tokens(ard) == {"eTable 1": first, "eTable 2": second}
    assert audit._stat_tokens(ard) == first | second | {"7"}
