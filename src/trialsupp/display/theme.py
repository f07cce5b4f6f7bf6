"""The house theme for matplotlib/seaborn figures, applied with a context manager.

Colours are an Okabe-Ito subset ordered so that neighbouring groups differ in
luminance (they stay distinct in greyscale); every group also gets its own line
style and marker as a second cue. Sizes follow a journal page: single column
3.5 in, full page 7 in.

>>> with house_theme("single"):
...     fig, ax = plt.subplots()
...     km_plot(ard, ax=ax)
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

import matplotlib as mpl
from cycler import cycler

SINGLE_COLUMN = 3.5     # inches
FULL_PAGE = 7.0
WIDTHS = {"single": SINGLE_COLUMN, "full": FULL_PAGE}

# Okabe-Ito: blue (grey ~ 35%), orange (~ 64%), black, vermillion (~ 47%), sky blue, bluish green
PALETTE = ("#0072B2", "#E69F00", "#000000", "#D55E00", "#56B4E9", "#009E73")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "P")
GREY = "#7F7F7F"
BAND = "#E8E8E8"


@dataclass(frozen=True)
class GroupStyle:
    color: str
    linestyle: object
    marker: str


def group_style(i: int) -> GroupStyle:
    """Colour, line style and marker of the i-th group (cycling)."""
    return GroupStyle(PALETTE[i % len(PALETTE)], LINESTYLES[i % len(LINESTYLES)],
                      MARKERS[i % len(MARKERS)])


def rc_params(width: str = "single", *, font_size: float = 8.0) -> dict:
    w = WIDTHS.get(width, width) if isinstance(width, str) else float(width)
    return {
        "figure.figsize": (w, w * 0.75),
        "figure.dpi": 100,
        "savefig.dpi": 600,
        "savefig.bbox": "tight",
        "savefig.pad_inches": 0.02,
        "font.family": "sans-serif",
        "font.sans-serif": ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans"],
        "font.size": font_size,
        "axes.titlesize": font_size + 1,
        "axes.labelsize": font_size,
        "xtick.labelsize": font_size - 0.5,
        "ytick.labelsize": font_size - 0.5,
        "legend.fontsize": font_size - 0.5,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": False,
        "axes.linewidth": 0.6,
        "axes.edgecolor": "black",
        "axes.labelcolor": "black",
        "xtick.color": "black",
        "ytick.color": "black",
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.major.size": 3,
        "ytick.major.size": 3,
        "lines.linewidth": 1.2,
        "lines.markersize": 4,
        "axes.prop_cycle": cycler(color=list(PALETTE)) + cycler(linestyle=list(LINESTYLES)),
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "svg.hashsalt": "trialsupp",
        "image.cmap": "cividis",
    }


@contextlib.contextmanager
def house_theme(width: str | float = "single", *, font_size: float = 8.0) -> Iterator[dict]:
    """Apply the house theme inside a ``with`` block (matplotlib and seaborn)."""
    params = rc_params(width, font_size=font_size)
    # seaborn reads its default palette from axes.prop_cycle, so one rc_context serves both
    with mpl.rc_context(params):
        yield params
