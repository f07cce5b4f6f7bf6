"""Figures read everything from ARD rows and save byte-identical files."""
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


def test_show_figure_displays_svg_with_ids(tmp_path, monkeypatch):
    shown = {}
    import IPython.display
    monkeypatch.setattr(IPython.display, "display",
                        lambda data, raw, metadata: shown.update(data=data, metadata=metadata))
    ard, fig, _ = _km()
    show_figure(fig, "km", tmp_path)
    assert list(shown["data"]) == ["image/svg+xml"] and shown["data"]["image/svg+xml"].lstrip().startswith("<?xml")
    assert set(shown["metadata"]["trialsupp"]["ard_ids"]) <= set(ard["id"])
    assert (tmp_path / "figures" / "km.png").exists() and (tmp_path / "figures" / "km.pdf").exists()
    from PIL import Image
    assert round(Image.open(tmp_path / "figures" / "km.png").info["dpi"][0]) == 600
