"""Figures read everything from ARD rows and save byte-identical files."""
import io

import matplotlib.pyplot as plt
import pytest

from display_ard import change_ard, consort_ard, forest_ard, km_ard
from trialsupp.display import MissingStatError, select
from trialsupp.display import figures as F
from trialsupp.display.figure_output import save_figure, show_figure
from trialsupp.display.theme import PALETTE, house_theme


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def _km():
    ard = km_ard()
    with house_theme("single"):
        fig, ax = plt.subplots()
        F.km_plot(ard, ax=ax, hr=select(ard, context="cox"), median_line=True)
    return ard, fig, ax


class TestKM:
    def test_at_risk_numbers_come_from_ard(self):
        ard = km_ard()
        i = ard.index[(ard["context"] == "km_at_risk") & (ard["group1_level"] == "Early start")
                      & (ard["variable_level"] == 100)][0]
        ard.loc[i, "stat_fmt"] = "4711"          # a value no computation could give
        fig, ax = plt.subplots()
        F.km_plot(ard, ax=ax, times=[0, 100, 200])
        assert "4711" in _texts(ax)
        assert ard.loc[i, "id"] in F.figure_ard_ids(fig)
        plt.close(fig)

    def test_missing_at_risk_time_is_an_error(self):
        fig, ax = plt.subplots()
        with pytest.raises(MissingStatError, match="n_risk"):
            F.km_plot(km_ard(), ax=ax, times=[0, 75])
        plt.close(fig)

    def test_hr_annotation_from_ard(self):
        _, fig, ax = _km()
        assert "HR, 0.36 (95% CI, 0.14-0.94)" in _texts(ax)
        plt.close(fig)

    def test_returns_ax_and_records_ids(self):
        ard, fig, ax = _km()
        ids = F.figure_ard_ids(fig)
        assert set(ids) <= set(ard["id"]) and len(ids) > 100
        plt.close(fig)


class TestOthers:
    def test_forest_text_columns(self):
        fig, ax = plt.subplots()
        F.forest_plot(forest_ard(), ax=ax, columns={"HR (95% CI)": "{estimate} ({ci})", "P": "{p.value}"})
        t = _texts(ax)
        assert "0.36 (0.14-0.94)" in t and ".03" in t and "Sex" in t and "Male" in t
        assert ax.get_xscale() == "log"
        plt.close(fig)

    def test_forest_missing_stat(self):
        a = forest_ard()
        with pytest.raises(MissingStatError, match="conf.high"):
            F.forest_plot(a[a["stat_name"] != "conf.high"])

    def test_mean_change_and_ratio(self):
        fig, (a1, a2) = plt.subplots(1, 2)
        m, r = change_ard(), change_ard("estimate")
        F.mean_change_plot(m, ax=a1, bands=[(0, 28, "VALOR"), (28, None, "OLE")])
        F.ratio_plot(r, ax=a2)
        assert "VALOR" in _texts(a1) and a2.get_yscale() == "log"
        assert set(F.figure_ard_ids(fig)) == set(m["id"]) | set(r["id"])
        plt.close(fig)

    def test_consort_counts_from_ard(self):
        ax = F.consort_diagram(consort_ard())
        text = "\n".join(_texts(ax))
        for s in ("Randomized (n = 108)", "Allocated to Placebo", "(n = 36)", "Excluded (n = 52)",
                  "Entered open-label", "Died (n = 7)"):
            assert s in text, s
        plt.close(ax.figure)

    def test_spaghetti(self):
        import pandas as pd
        data = pd.DataFrame({"USUBJID": [1, 1, 2, 2], "AVISITN": [0, 12, 0, 12], "CHG": [0, -2, 0, -1],
                             "TRT01P": ["Early start"] * 2 + ["Placebo / delayed start"] * 2})
        ax = F.spaghetti_plot(data, x="AVISITN", y="CHG", id="USUBJID", group="TRT01P",
                              groups=["Placebo / delayed start", "Early start"], summary=change_ard())
        assert len(ax.lines) == 2 + 2
        plt.close(ax.figure)


def test_palette_distinct_in_greyscale():
    def grey(h):
        r, g, b = (int(h[i:i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b
    g = [grey(c) for c in PALETTE[:4]]
    assert min(abs(a - b) for i, a in enumerate(g) for b in g[i + 1:]) > 30


def test_figures_save_deterministically(tmp_path):
    outs = []
    for run in range(2):
        _, fig, _ = _km()
        paths = save_figure(fig, "km", tmp_path / f"run{run}")
        outs.append({k: p.read_bytes() for k, p in paths.items()})
        plt.close(fig)
    for fmt in ("svg", "pdf", "png"):
        assert outs[0][fmt] == outs[1][fmt], fmt
    assert b"CreationDate" not in outs[0]["pdf"] and b"<dc:date>" not in outs[0]["svg"]


def test_svg_pdf_png_share_one_padded_tight_box(tmp_path):
    """One tight box (measured once, padded 0.03 in) gives the three files the same extent, and
    that box is the one ``savefig(bbox_inches="tight")`` finds at 600 dpi."""
    import io
    import re
    from PIL import Image
    from pypdf import PdfReader
    _, fig, _ = _km()
    fig.tight_layout()                      # leaves a placeholder layout engine: restored after saving
    engine = fig.get_layout_engine()
    paths = save_figure(fig, "km", tmp_path)
    assert fig.get_layout_engine() is engine
    tight = io.BytesIO()
    fig.savefig(tight, format="png", dpi=600, bbox_inches="tight", pad_inches=0.03)
    plt.close(fig)
    png = Image.open(paths["png"]).size
    assert png == Image.open(tight).size
    box = PdfReader(paths["pdf"]).pages[0].mediabox
    svg = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', paths["svg"].read_text()).groups()
    for w, h in ((float(box.width), float(box.height)), tuple(map(float, svg))):
        # the PNG's pixel count is the box at 600 dpi rounded down: within a pixel (0.12 pt)
        assert w == pytest.approx(png[0] * 72 / 600, abs=0.13) and h == pytest.approx(png[1] * 72 / 600, abs=0.13)


def test_png_holds_the_pixels_matplotlib_draws(tmp_path):
    """The PNG is encoded by trialsupp (not Pillow) but holds exactly the pixels of matplotlib's
    own 600 dpi PNG of the same box, at 600 dpi, with the fixed Software field."""
    import numpy as np
    from PIL import Image
    from trialsupp.display.figure_output import tight_bbox
    _, fig, _ = _km()
    paths = save_figure(fig, "km", tmp_path)
    ref = io.BytesIO()
    fig.savefig(ref, format="png", dpi=600, bbox_inches=tight_bbox(fig))
    plt.close(fig)
    ours, theirs = Image.open(paths["png"]), Image.open(ref)
    assert ours.mode == "RGB" and ours.info["Software"] == "trialsupp" and round(ours.info["dpi"][0]) == 600
    assert np.array_equal(np.asarray(ours), np.asarray(theirs.convert("RGB")))


def test_pdf_fonts_embedded_without_layout_tables(tmp_path):
    """Fonts stay embedded as TrueType (Type 42 / CIDFontType2, FontFile2), subset without the
    OpenType layout tables a PDF never reads. Fails if matplotlib stops subsetting through
    ``fontTools.subset.load_font``, which ``lean_font_subsets`` wraps."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader
    from trialsupp.display.figure_output import UNUSED_IN_PDF
    load = subset.load_font
    _, fig, _ = _km()
    paths = save_figure(fig, "km", tmp_path)
    plt.close(fig)
    assert subset.load_font is load                       # unwrapped again after the save
    fonts = []
    for page_font in PdfReader(paths["pdf"]).pages[0]["/Resources"]["/Font"].values():
        font = page_font.get_object()
        assert font["/Subtype"] == "/Type0"
        desc = font["/DescendantFonts"][0].get_object()
        assert desc["/Subtype"] == "/CIDFontType2"
        fonts.append(TTFont(io.BytesIO(desc["/FontDescriptor"]["/FontFile2"].get_data())))
    assert fonts
    for ttf in fonts:
        assert {"glyf", "loca", "cmap", "hmtx"} <= set(ttf.keys())
        assert not set(UNUSED_IN_PDF) & set(ttf.keys())


def test_show_figure_displays_svg_with_ids(tmp_path, monkeypatch):
    calls = []
    import IPython.display
    monkeypatch.setattr(IPython.display, "display",
                        lambda data, raw, metadata=None: calls.append(dict(data=data, metadata=metadata)))
    ard, fig, _ = _km()
    show_figure(fig, "km", tmp_path)
    shown, legend = calls
    assert list(shown["data"]) == ["image/svg+xml"] and shown["data"]["image/svg+xml"].lstrip().startswith("<?xml")
    # then the legend sentence, generated from what the figure draws, as raw HTML + Typst
    md = legend["data"]["text/markdown"]
    assert '<p class="ts-figure-legend">Shaded bands show pointwise 95% CIs' in md and "{=typst}" in md
    assert shown["metadata"]["trialsupp"]["legend"].startswith("Shaded bands show pointwise 95% CIs")
    assert set(shown["metadata"]["trialsupp"]["ard_ids"]) <= set(ard["id"])
    assert (tmp_path / "figures" / "km.png").exists() and (tmp_path / "figures" / "km.pdf").exists()
    from PIL import Image
    assert round(Image.open(tmp_path / "figures" / "km.png").info["dpi"][0]) == 600


def test_contrast_ratio_wcag_formula():
    from trialsupp.display.theme import contrast_ratio
    # WCAG 2.x: black on white 21:1, white on white 1:1; #777777 on white is 4.48:1
    assert contrast_ratio("#000000") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#777777") == pytest.approx(4.48, abs=0.01)
    # the old early-start orange failed even the 3:1 graphics threshold
    assert contrast_ratio("#E69F00") == pytest.approx(2.25, abs=0.01)


def test_palette_contrast_lines_and_text():
    from trialsupp.display.theme import GREY, contrast_ratio, group_style, text_color
    for i in range(len(PALETTE)):
        st = group_style(i)
        assert contrast_ratio(st.color) >= 3.0, st.color          # lines and markers
        assert contrast_ratio(st.text) >= 4.5, st.text            # text in the group colour
    assert contrast_ratio(GREY) >= 3.0
    assert text_color("#000000") == "#000000"


def test_text_in_figures_meets_contrast():
    """Every text artist drawn by the figure functions has >= 4.5:1 on white."""
    from matplotlib.colors import to_hex
    from trialsupp.display.theme import contrast_ratio
    _, fig, _ = _km()
    texts = [t for ax in fig.axes for t in ax.texts if t.get_text().strip()]
    texts += [t for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert texts
    for t in texts:
        assert contrast_ratio(to_hex(t.get_color())) >= 4.5, (t.get_text(), t.get_color())
    plt.close(fig)


def _change_with_n():
    import pandas as pd
    from display_ard import place
    from trialsupp.ard.schema import ard_rows, bind_ard
    base = change_ard()
    parts = []
    for j, arm in enumerate(("Placebo / delayed start", "Early start")):
        for k, wk in enumerate((0, 12, 28, 52, 104, 148)):
            parts.append(ard_rows({"n": 40 - 2 * k - j}, variable="CHG", variable_level=wk, context="mmrm",
                                  group1="TRT01P", group1_level=arm))
    n = place(bind_ard(*parts), "fig-change")
    n["id"] = n["id"] + ".n"
    return pd.concat([base, n], ignore_index=True)


def test_numbers_per_visit_under_the_time_axis_and_legend_outside():
    with house_theme("single"):
        fig, ax = plt.subplots()
        F.mean_change_plot(_change_with_n(), ax=ax, bands=[(0, 28, "VALOR"), (28, None, "OLE")])
        fig.canvas.draw()
    t = _texts(ax)
    assert "No. of participants" in t and "40" in t and "29" in t      # 40 - 2*5 - 1
    legend = ax.get_legend().get_window_extent()
    box = ax.get_window_extent()
    assert legend.y1 < box.y0                  # the legend is below the axes, not on the data
    below = [x.get_window_extent() for x in ax.texts if x.get_text() in ("40", "29")]
    assert all(b.y1 < box.y0 for b in below) and all(legend.y1 <= b.y0 + 1 for b in below)
    sentence = F.figure_legend(fig)
    assert sentence.startswith("Error bars show 95% CIs") and "study periods (VALOR, OLE)" in sentence
    assert "participants with a value at each visit" in sentence and sentence.endswith(".")
    plt.close(fig)


def test_km_legend_sentence_and_legend_below_risk_table():
    _, fig, ax = _km()
    fig.canvas.draw()
    s = F.figure_legend(fig)
    assert "pointwise 95% CIs" in s and "censored observations" in s and "participants at risk" in s
    risk = [x.get_window_extent() for x in ax.texts if x.get_text() == "No. at risk"][0]
    assert ax.get_legend().get_window_extent().y1 < risk.y0
    plt.close(fig)


def test_forest_log_ticks_readable_and_counts():
    import pandas as pd
    ard = forest_ard()
    extra = ard[ard["stat_name"] == "estimate"].copy()
    extra["stat_name"], extra["stat"], extra["stat_fmt"] = "N", 50, "50"
    extra["id"] = extra["id"] + ".N"
    fig, ax = plt.subplots()
    F.forest_plot(pd.concat([ard, extra], ignore_index=True), ax=ax, xlim=(0.05, 4))
    fig.canvas.draw()
    ticks = [float(t.get_text()) for t in ax.get_xticklabels() if t.get_text()]
    assert ticks == [0.05, 0.1, 0.25, 0.5, 1, 2, 4]
    assert "No." in _texts(ax) and "50" in _texts(ax)
    assert "logarithmic" in F.figure_legend(fig)
    assert F.log_ticks(0.3, 1.2) == [0.4, 0.5, 0.75, 1]
    plt.close(fig)


def test_numbers_drawn_in_a_figure_carry_their_ard_ids_in_the_svg():
    """Each at-risk count and the HR text is an SVG group id="ard:<id>" (issue 19), so a number
    drawn inside a figure is traceable to its ARD row like a table cell."""
    import re
    from trialsupp.display.figure_output import figure_svg
    ard, fig, ax = _km()
    svg = figure_svg(fig)
    plt.close(fig)
    bound = re.findall(r'<g id="ard:([^"]+)"', svg)
    risk = ard[(ard["context"] == "km_at_risk") & (ard["stat_name"] == "n_risk")]
    drawn_risk = [b for b in bound if b in set(risk["id"])]
    assert drawn_risk and len(drawn_risk) == len(set(drawn_risk))
    cox_ids = set(select(ard, context="cox")["id"])
    assert any(set(b.split("+")) & cox_ids for b in bound)          # the HR text: estimate, CI (and P)
    assert set("+".join(bound).split("+")) <= set(ard["id"])
