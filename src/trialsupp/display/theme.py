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

# Okabe-Ito hues, darkened where needed so that every line and marker has a contrast of
# at least 3:1 on white (WCAG 2.x non-text contrast): blue 11.2, orange 3.6, black 21,
# reddish purple 7.0, sky blue 3.9, bluish green 4.1. The first four differ by more than
# 30 grey levels (greyscale print). Text in a group colour uses ``text_color`` (>= 4.5:1).
PALETTE = ("#003E66", "#C87000", "#000000", "#85407C", "#3A87B8", "#0E8F6A")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "P")
GREY = "#7F7F7F"
BAND = "#E8E8E8"


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour ("#RRGGBB" or any matplotlib colour)."""
    from matplotlib.colors import to_rgb
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(color)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(fg: str, bg: str = "#FFFFFF") -> float:
    """WCAG contrast ratio (L1 + 0.05) / (L2 + 0.05), from 1 to 21."""
    a, b = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


TEXT_CONTRAST = 4.5     # WCAG AA, normal text
GRAPHIC_CONTRAST = 3.0  # WCAG AA, lines, markers and other graphical objects


def text_color(color: str, bg: str = "#FFFFFF", minimum: float = TEXT_CONTRAST) -> str:
    """``color`` darkened (same hue) until its contrast on ``bg`` reaches ``minimum``."""
    from matplotlib.colors import to_hex, to_rgb
    rgb = to_rgb(color)
    k = 1.0
    while contrast_ratio(to_hex(tuple(c * k for c in rgb)), bg) < minimum and k > 0:
        k = round(k - 0.02, 2)
    return to_hex(tuple(c * max(k, 0) for c in rgb))


@dataclass(frozen=True)
class GroupStyle:
    color: str
    linestyle: object
    marker: str

    @property
    def text(self) -> str:
        """The group colour for text (contrast >= 4.5:1 on white)."""
        return text_color(self.color)


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
