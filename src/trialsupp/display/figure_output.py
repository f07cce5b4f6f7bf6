"""Show a figure in the notebook as vector SVG and save SVG, PDF and 600 dpi PNG.

Files are byte-identical across runs: the SVG hash salt is fixed, dates are
removed from the metadata (SVG ``Date``, PDF ``CreationDate``), and the
``Creator``/``Software`` fields are fixed strings.

Saving is kept cheap (it was a third of a cold render's kernel time): the tight bounding
box is measured once and given to all three saves (which then share one extent), the
PDF's TrueType subsets leave out tables a PDF never reads, and the PNG is encoded by
:mod:`trialsupp.display.png` (same pixels as matplotlib's PNG, written 2-3x faster).
"""
from __future__ import annotations

import io
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Optional, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.transforms import Bbox

from .figures import figure_ard_ids, figure_legend
from .png import encode_png

__all__ = ["show_figure", "save_figure", "figure_svg"]

CREATOR = "trialsupp"
MIME = "image/svg+xml"
_RC = {"svg.hashsalt": "trialsupp", "svg.fonttype": "path", "pdf.fonttype": 42,
       "path.simplify": True}
_META = {"svg": {"Date": None, "Creator": CREATOR},
         "pdf": {"CreationDate": None, "ModDate": None, "Creator": CREATOR, "Producer": CREATOR},
         "png": {"Software": CREATOR}}
PAD_INCHES = 0.03
PNG_DPI = 600


@contextmanager
def _dpi(fig, dpi: float):
    old = fig.dpi
    fig.dpi = dpi
    try:
        yield
    finally:
        fig.dpi = old


def tight_bbox(fig, dpi: float = PNG_DPI) -> Bbox | str:
    """The figure's tight bounding box in inches, padded by ``PAD_INCHES``, measured once.

    Measured as the 600 dpi PNG measures it (``savefig(bbox_inches="tight")`` draws the
    figure once more in every format just to find this box). Passing the box to each save
    gives SVG, PDF and PNG the same extent. ``"tight"`` for a canvas without an Agg renderer.
    """
    if not hasattr(fig.canvas, "get_renderer"):
        return "tight"
    with mpl.rc_context(_RC), _dpi(fig, dpi):
        fig.draw_without_rendering()
        box = fig.get_tightbbox(fig.canvas.get_renderer())
    return box.padded(PAD_INCHES)


@contextmanager
def _layout_done(fig):
    """Save without re-running the layout engine: the measuring draw of :func:`tight_bbox` ran it.

    (``fig.tight_layout()`` leaves a placeholder engine, which alone makes every ``savefig``
    draw the figure twice; savefig itself turns the engine off for its real draw.)
    """
    engine = fig.get_layout_engine()
    if engine is None:
        yield
        return
    with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


# Tables of a TrueType font that a PDF never uses: OpenType layout and kerning (the PDF places
# every glyph itself) and DejaVu's MATH table. fontTools decompiles them in full to subset them,
# which is two thirds of the cost of embedding a font, and they are a fifth of each subset.
UNUSED_IN_PDF = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "kern")


@contextmanager
def lean_font_subsets():
    """Embed fonts in a PDF (``pdf.fonttype: 42``) without the tables in ``UNUSED_IN_PDF``.

    Matplotlib builds its fontTools subsetting options internally, with no setting to add
    tables to drop; they reach ``fontTools.subset.load_font`` (public fontTools API), which is
    wrapped here while the PDF is written. ``test_pdf_fonts_embedded_without_layout_tables``
    fails if matplotlib stops subsetting through it.
    """
    from fontTools import subset
    load = subset.load_font

    def load_font(font_file, options, *args, **kwargs):
        font = load(font_file, options, *args, **kwargs)
        for tag in UNUSED_IN_PDF:      # before subsetting: it would decompile GSUB/GPOS even to drop them
            if tag in font:
                del font[tag]
        return font

    subset.load_font = load_font
    try:
        yield
    finally:
        subset.load_font = load


def _save(fig, target, fmt: str, dpi: int, bbox: Bbox | str = "tight") -> None:
    meta = _META[fmt]
    lean = lean_font_subsets() if fmt == "pdf" else nullcontext()
    measured = _layout_done(fig) if isinstance(bbox, Bbox) else nullcontext()
    with mpl.rc_context(_RC), lean, measured:
        if fmt == "png" and isinstance(bbox, Bbox):
            target.write(encode_png(_rgba(fig, dpi, bbox), dpi, meta))
        else:
            fig.savefig(target, format=fmt, dpi=dpi, metadata=meta, bbox_inches=bbox, pad_inches=PAD_INCHES)


class _Discard(io.RawIOBase):
    """A file that keeps nothing: the raw buffer savefig writes is read from the renderer."""

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        return len(memoryview(b))


def _rgba(fig, dpi: int, bbox: Bbox) -> np.ndarray:
    """The figure drawn by Agg at ``dpi`` within ``bbox``, as ``(height, width, 4)`` pixels:
    the buffer of the renderer that drew them (caught by ``draw_event``), not a copy."""
    drawn = []
    cid = fig.canvas.mpl_connect("draw_event", lambda e: drawn.append(e.renderer))
    try:
        fig.savefig(_Discard(), format="rgba", dpi=dpi, bbox_inches=bbox, pad_inches=PAD_INCHES)
    finally:
        fig.canvas.mpl_disconnect(cid)
    return np.asarray(drawn[-1].buffer_rgba())


def figure_svg(fig) -> str:
    buf = io.BytesIO()
    _save(fig, buf, "svg", 72, tight_bbox(fig))
    return buf.getvalue().decode("utf-8")


def save_figure(fig, name: str, out_dir: str | Path, *, dpi: int = PNG_DPI) -> dict[str, Path]:
    """Write ``out_dir/figures/name.{svg,pdf,png}``, all three with one extent; returns the paths."""
    d = Path(out_dir) / "figures"
    d.mkdir(parents=True, exist_ok=True)
    bbox = tight_bbox(fig, dpi)
    paths = {}
    for fmt in ("svg", "pdf", "png"):
        p = d / f"{name}.{fmt}"
        buf = io.BytesIO()
        _save(fig, buf, fmt, dpi if fmt == "png" else 72, bbox)
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_bytes(buf.getvalue())
        tmp.replace(p)
        paths[fmt] = p
    return paths


def legend_output(text: str) -> dict:
    """The figure legend sentence as a ``text/markdown`` output (raw HTML + raw Typst)."""
    from ._escape import escape_html, escape_typst
    from .markdown import raw_block
    html = f'<p class="ts-figure-legend">{escape_html(text)}</p>'
    typ = f"#block(above: 0.5em, width: 100%, text(size: 8pt)[{escape_typst(text)}])"
    return {"text/markdown": raw_block(html, "html") + "\n" + raw_block(typ, "typst")}


def show_figure(fig, name: str, out_dir: str | Path = ".", ard_ids: Optional[Sequence[str]] = None,
                *, display: bool = True, close: bool = True, legend: bool | str = True) -> dict:
    """Save the figure and display it as ``image/svg+xml`` with the ARD ids in the metadata.

    ``ard_ids`` default: the ids recorded by the trialsupp figure functions.
    ``legend``: True displays, under the image, the legend sentence generated from what
    the figure draws (:func:`~trialsupp.display.figures.figure_legend`); a string is
    shown instead; False shows none.
    Returns ``{"svg": str, "metadata": dict, "paths": {...}, "legend": str}``.
    """
    ids = list(ard_ids) if ard_ids is not None else figure_ard_ids(fig)
    text = legend if isinstance(legend, str) else (figure_legend(fig) if legend else "")
    paths = save_figure(fig, name, out_dir)
    svg = paths["svg"].read_text(encoding="utf-8")
    metadata = {"trialsupp": {"ard_ids": ids, "name": name, "legend": text,
                              "files": {k: str(v) for k, v in paths.items()}}}
    if display:
        from IPython.display import display as ipy_display
        ipy_display({MIME: svg}, raw=True, metadata=metadata)
        if text:
            ipy_display(legend_output(text), raw=True)
    if close:
        plt.close(fig)
    return {"svg": svg, "metadata": metadata, "paths": paths, "legend": text}
