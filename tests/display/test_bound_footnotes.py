"""Numbers in footnotes come from ARD rows and are bound like body cells."""
from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.ard.store import place
from trialsupp.display.table import Table


def _placed():
    ard = bind_ard(ard_rows({"N": 36}, variable="AGE", group1="TRT01P", group1_level="Placebo"),
                   ard_rows({"value": 0.1}, variable="threshold", context="config", fmt={"value": "pct0"}))
    return place(ard, output="tbl-ae", analysis_id="ae", population="Safety")


def test_footnote_value_is_a_bound_span():
    placed = _placed()
    t = (Table("Adverse Events", label="tbl-ae")
         .add_stat_row("Participants, No.", placed, "{N}", variable="AGE")
         .footnote("Terms reported by at least {value}% of any group.", ard=placed, variable="threshold"))
    html = t.to_html()
    # the number alone is bound: a number typed into the sentence around it is not
    assert ('Terms reported by at least <span class="ts-stat" data-ard="ae.ae.threshold.value" tabindex="0">'
            '10</span>% of any group.') in html
    assert r"Terms reported by at least 10% of any group\." in t.to_typst()      # Typst-escaped full stop


def test_number_typed_into_a_bound_footnote_is_unbound():
    from trialsupp.ard.audit import audit_html
    placed = _placed()
    html = (Table("Adverse Events", label="tbl-ae")
            .footnote("Terms reported by at least {value}% of any group.", ard=placed, variable="threshold")
            .to_html())
    assert audit_html(html, placed) == []
    typed = html.replace("% of any group.", "% of any group in 12 countries.")
    assert [u.number for u in audit_html(typed, placed)] == ["12"]


def test_number_typed_inside_a_bound_span_is_unbound():
    from trialsupp.ard.audit import audit_html
    placed = _placed()
    html = '<p>At least <span class="ts-stat" data-ard="ae.ae.threshold.value">10% in 12 countries</span>.</p>'
    problems = audit_html(html, placed)
    assert [u.number for u in problems] == ["12"]
    assert "inside the span of ae.ae.threshold.value" in problems[0].context
