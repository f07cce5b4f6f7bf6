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
    assert ('<span class="ts-stat" data-ard="ae.ae.threshold.value" tabindex="0">'
            'Terms reported by at least 10% of any group.</span>') in html
    assert r"Terms reported by at least 10% of any group\." in t.to_typst()      # Typst-escaped full stop
