from trialsupp.ard.audit import audit_html, numbers_in
from trialsupp.ard.schema import ard_rows
from trialsupp.ard.store import place


def _ard():
    return place(ard_rows({"N": 36, "mean": 51.25}, variable="AGE"), output="tbl-b", analysis_id="a", population="ITT")


HTML = """<html><head><title>x 2</title><script>var a = 12;</script></head><body>
<h2>eTable 1. Baseline Characteristics at Week 28</h2>
<p>Of <span class="ts-stat" data-ard="b.a.age.N" tabindex="0">36</span> participants, mean age
<span class="ts-stat" data-ard="b.a.age.mean" tabindex="0">51.25</span> y (SOD1, ALSAQ-40; 95% CI); rendered 2026-11-25.</p>
</body></html>"""


def test_bound_numbers_pass_and_exemptions_hold():
    assert audit_html(HTML, _ard()) == []


def test_hand_typed_number_is_reported():
    problems = audit_html(HTML.replace("participants,", "participants (98765 screened),"), _ard())
    assert [p.number for p in problems] == ["98765"]


def test_span_that_disagrees_with_the_store_is_reported():
    problems = audit_html(HTML.replace(">51.25<", ">51.3<"), _ard())
    assert len(problems) == 1 and "differs from the ARD value" in problems[0].context
    problems = audit_html(HTML.replace("b.a.age.N", "b.a.age.zz"), _ard())
    assert "unknown ARD id" in problems[0].context


def test_number_tokens():
    assert [n for n, _ in numbers_in("eFigure 3 shows \u22127.2 to 1.0 at Week 52 (Page 2 of 9)")] == ["\u22127.2", "1.0"]


def test_range_with_thousands_separators_is_one_token():
    # "1,550.0-4,400.0" (JAMA range): the upper limit is not re-read as "400.0" after its comma
    assert [n for n, _ in numbers_in("Median 3,700.0 (1,550.0-4,400.0), range 0-6,200")] == \
        ["3,700.0", "1,550.0", "0"]
