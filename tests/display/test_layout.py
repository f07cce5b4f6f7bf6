"""The shared table layout step: statistic cells never break, text takes what remains."""
import pytest

from trialsupp.ard.fmt import CSR
from trialsupp.display import Table
from trialsupp.display._layout import (decimal_parts, is_numeric, layout, mono_width, text_width,
                                       tokens)


@pytest.mark.parametrize("text,numeric", [
    ("65 (75.6%)", True), ("−7.13 to −4.74", True), ("0.51-0.80", True), ("NE", True),
    ("<.001", True), ("12.3 (4.5)", True), ("Week 28", False), ("ALSFRS-R total", False),
    ("Fisher's exact test", False), ("", False)])
def test_is_numeric(text, numeric):
    assert is_numeric(text) is numeric


def test_tokens_keep_whole_statistics():
    assert tokens("−7.13 to −4.74") == ["−7.13 to −4.74"]
    assert tokens("65 (75.6%)") == ["65 (75.6%)"] and tokens("49.0 (8.0)") == ["49.0 (8.0)"]
    # an estimate may sit above its interval; the interval stays whole
    assert tokens("−5.25 (−8.40 to −1.05)") == ["−5.25", "(−8.40 to −1.05)"]
    assert tokens("12.1 (7.6-20.0)") == ["12.1", "(7.6-20.0)"]
    assert tokens("76.0 [52, 88]") == ["76.0 [52, 88]"]
    assert tokens("Published record (NEJM 2022)") == ["Published", "record", "(NEJM", "2022)"]


@pytest.mark.parametrize("text,parts", [
    ("65 (75.6%)", ("65", " (75.6%)")), ("0", ("0", "")), ("−1.25 (0.30)", ("−1", ".25 (0.30)")),
    (">.999", (">", ".999")), ("0.494", ("0", ".494")), ("NE", None), ("Yes", None)])
def test_decimal_parts(text, parts):
    assert decimal_parts(text) == parts


def test_font_metrics_are_real():
    # Liberation Sans (Arial metrics): digits 1139/2048 em, "i" 455/2048 em
    assert text_width("0", 10) == pytest.approx(10 * 1139 / 2048, rel=1e-3)
    assert text_width("i", 10) == pytest.approx(10 * 455 / 2048, rel=1e-3)
    assert mono_width("abc", 10) == pytest.approx(18.0)


def _calibration_like():
    t = (Table("Calibration", stub_header="Quantity")
         .add_column("pub", "Published value\n(95% CI)")
         .add_column("src", "Published record")
         .add_column("sim", "Simulated value\n(95% CI)"))
    for i in range(6):
        t = t.add_row(f"Change from baseline in ALSFRS-R total score at week {i}",
                      {"pub": "−7.13 to −4.74", "src": "Miller et al, N Engl J Med 2022;387:1099-1110, Table 2",
                       "sim": f"−{i}.25 (−8.40 to −1.05)"})
    return t.data


def test_statistics_get_their_width_and_text_wraps():
    d = _calibration_like()
    lay = layout(d, avail=480, size=8.5, pad=4)
    assert sum(lay.widths) == pytest.approx(480)
    assert lay.numeric == (True, False, True)
    for j, cell in ((1, "−7.13 to −4.74"), (3, "(−8.40 to −1.05)")):     # whole intervals
        assert lay.widths[j] >= text_width(cell, lay.font_size) + 8
    # the text columns share what is left and wrap at spaces
    assert lay.widths[2] < text_width("Miller et al, N Engl J Med 2022;387:1099-1110, Table 2", 8.5)
    assert not lay.landscape and not lay.overflow


def test_too_wide_goes_smaller_then_landscape():
    t = Table("Wide", stub_header="Visit")
    for k in range(9):
        t = t.add_column(f"c{k}", f"Arm {k}")
    t = t.add_row("Week 1", {f"c{k}": "100.25 (−80.40 to −10.05)" for k in range(9)})
    lay = layout(t.data, avail=480, avail_landscape=660, size=8.5, pad=4)
    assert lay.landscape and lay.font_size < 8.5
    assert layout(t.data, avail=480, size=8.5, pad=4).overflow


def test_rtf_decimal_alignment_in_monospace():
    t = (Table("T", rules=CSR, landscape=True).add_column("a", "A")
         .add_row("n", {"a": "86"}).add_row("pct", {"a": "5 (5.8%)"}).add_row("mean", {"a": "75.2 (8.59)"}))
    rtf = t.to_rtf(run=None)
    texts = [c.split("\\cell")[0].replace("\\u160?", "~") for c in rtf.split("\\qc\\f0\\fs18 ")[1:]]
    body = [x for x in texts if x.strip("~")[:1].isdigit()]
    # units digit at the same character position, equal lengths: columns line up when centred
    assert len({len(x) for x in body}) == 1, body
    units = {len(x) - len(x.lstrip("~")) + len(decimal_parts(x.strip("~"))[0]) for x in body}
    assert len(units) == 1, body


def test_statistics_inside_text_stay_whole():
    assert tokens("adjusted mean difference 3.5 (95% CI 0.4 to 6.7)")[-1] == "(95% CI 0.4 to 6.7)"
    assert tokens("age, mean (SD) 48.1 (12.6)")[-1] == "48.1 (12.6)"
    assert tokens("P = .97 (joint rank test)")[0] == "P = .97"
    # and the renderers keep them together with non-breaking spaces
    t = (Table("T", stub_header="Quantity").add_column("src", "Published record", align="left")
         .add_row("Week 52 difference", {"src": "adjusted mean difference 3.5 (95% CI 0.4 to 6.7)"}))
    assert "(95%\u00a0CI\u00a0" in t.to_typst() and "0\\.4\u00a0to\u00a06\\.7)" in t.to_typst()
    assert "0.4\\u160?to\\u160?6.7)" in t.to_rtf(run=None)
    assert "0.4\u00a0to\u00a06.7)" in t.to_html()
