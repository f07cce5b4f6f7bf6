"""PNG files from RGBA pixels, written with the standard library's zlib.

Why not Pillow (used before): it tries all five PNG row filters on every row and keeps the
best, 0.2 s per 600 dpi figure even with compression off. For plots (flat colours, long
runs) unfiltered rows compress as well at zlib level 3 in half the time: the valor
figures' PNGs came to the same total size at 40% of the encoding time.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_png"]

LEVEL = 3
BAND = 256


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rgba: np.ndarray, dpi: float, text: dict[str, str] | None = None, level: int = LEVEL) -> bytes:
    """PNG bytes of an ``(height, width, 4)`` uint8 array (straight alpha).

    Written as 8-bit RGB when every pixel is opaque (journals' figure checks dislike an
    alpha channel), else RGBA; ``pHYs`` carries ``dpi``; ``text`` becomes ``tEXt`` chunks
    (Latin-1). Same pixels, same bytes.
    """
    h, w, _ = rgba.shape
    opaque = bool((rgba[..., 3] == 255).all())
    channels = 3 if opaque else 4
    z = zlib.compressobj(level)
    idat = []
    for top in range(0, h, BAND):                      # a band of rows at a time: little memory
        band = rgba[top:top + BAND]
        rows = np.empty((band.shape[0], 1 + w * channels), np.uint8)
        rows[:, 0] = 0                                 # filter type 0 (None) on every row
        view = rows[:, 1:].reshape(band.shape[0], w, channels)
        for c in range(channels):                      # channel by channel: 4x faster than one strided copy
            view[..., c] = band[..., c]
        idat.append(z.compress(rows))
    idat.append(z.flush())
    ppm = int(dpi / 0.0254 + 0.5)
    out = [b"\x89PNG\r\n\x1a\n",
           _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if opaque else 6, 0, 0, 0)),
           _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))]
    out += [_chunk(b"tEXt", k.encode("latin-1") + b"\0" + v.encode("latin-1")) for k, v in (text or {}).items()]
    out += [_chunk(b"IDAT", b"".join(idat)), _chunk(b"IEND", b"")]
    return b"".join(out)
