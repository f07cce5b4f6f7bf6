"""Agg canvas (a matplotlib ``backend=`` module) whose PNG of a fully opaque figure is RGB.

The 600 dpi PNGs were the largest single cost of a render, most of it PIL filtering and
compressing pixels. When every pixel is opaque the alpha channel carries nothing: the same
pixels written as RGB take about a quarter less time and make a smaller file. A figure
with any transparency is written as RGBA, exactly as matplotlib does.
"""
from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image, PngImagePlugin

__all__ = ["FigureCanvas"]


class FigureCanvas(FigureCanvasAgg):
    def print_png(self, filename_or_obj, *, metadata=None, pil_kwargs=None, **_ignored):
        # _ignored: facecolor, orientation, ... that savefig passes and has applied already
        # (matplotlib filters them only for its own canvases)
        FigureCanvasAgg.draw(self)
        rgba = np.asarray(self.buffer_rgba())
        if pil_kwargs or rgba[..., 3].min() < 255:
            return super().print_png(filename_or_obj, metadata=metadata, pil_kwargs=pil_kwargs)
        info = PngImagePlugin.PngInfo()
        for key, value in (metadata or {}).items():
            if value is not None:
                info.add_text(key, value)
        dpi = self.figure.dpi
        image = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)
        image.convert("RGB").save(filename_or_obj, format="png", pnginfo=info, dpi=(dpi, dpi))
