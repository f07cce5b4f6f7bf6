"""Show a figure in the notebook as vector SVG and save SVG, PDF and 600 dpi PNG.

Files are byte-identical across runs: the SVG hash salt is fixed, dates are
removed from the metadata (SVG ``Date``, PDF ``CreationDate``), and the
``Creator``/``Software`` fields are fixed strings.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Optional, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt

from .figures import figure_ard_ids, figure_legend

__all__ = ["show_figure", "save_figure", "figure_svg"]

CREATOR = "trialsupp"
MIME = "image/svg+xml"
_RC = {"svg.hashsalt": "trialsupp", "svg.fonttype": "path", "pdf.fonttype": 42,
       "path.simplify": True}


def _save(fig, target, fmt: str, dpi: int) -> None:
    meta = {"svg": {"Date": None, "Creator": CREATOR},
            "pdf": {"CreationDate": None, "ModDate": None, "Creator": CREATOR, "Producer": CREATOR},
            "png": {"Software": CREATOR}}[fmt]
    with mpl.rc_context(_RC):
        fig.savefig(target, format=fmt, dpi=dpi, metadata=meta, bbox_inches="tight", pad_inches=0.03)


def figure_svg(fig) -> str:
    buf = io.BytesIO()
    _save(fig, buf, "svg", 72)
    return buf.getvalue().decode("utf-8")


def save_figure(fig, name: str, out_dir: str | Path, *, dpi: int = 600) -> dict[str, Path]:
    """Write ``out_dir/figures/name.{svg,pdf,png}``; returns the paths."""
    d = Path(out_dir) / "figures"
    d.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt in ("svg", "pdf", "png"):
        p = d / f"{name}.{fmt}"
        buf = io.BytesIO()
        _save(fig, buf, fmt, dpi if fmt == "png" else 72)
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
