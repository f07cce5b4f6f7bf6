"""PNG files written by trialsupp.display.png decode (with Pillow) to exactly the pixels given."""
import io

import numpy as np
from PIL import Image

from trialsupp.display.png import encode_png


def _pixels(opaque: bool) -> np.ndarray:
    rng = np.random.default_rng(7)
    px = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    px[:10] = (255, 255, 255, 255)                 # a flat band, as in plots
    px[..., 3] = 255 if opaque else px[..., 3]
    return px


def test_opaque_pixels_written_as_rgb_with_dpi_and_text():
    px = _pixels(opaque=True)
    data = encode_png(px, 600, {"Software": "trialsupp"})
    Image.open(io.BytesIO(data)).verify()          # chunk CRCs
    im = Image.open(io.BytesIO(data))
    assert im.mode == "RGB" and im.size == (53, 37)
    assert np.array_equal(np.asarray(im), px[..., :3])
    assert round(im.info["dpi"][0]) == 600 and im.info["Software"] == "trialsupp"


def test_translucent_pixels_keep_alpha():
    px = _pixels(opaque=False)
    im = Image.open(io.BytesIO(encode_png(px, 300)))
    assert im.mode == "RGBA" and np.array_equal(np.asarray(im), px)
    assert round(im.info["dpi"][1]) == 300


def test_same_pixels_same_bytes():
    px = _pixels(opaque=True)
    assert encode_png(px, 600) == encode_png(px.copy(), 600)


def test_rows_compressed_band_by_band_decode_whole(monkeypatch):
    import trialsupp.display.png as P
    monkeypatch.setattr(P, "BAND", 5)              # 37 rows: 8 bands, the last one short
    px = _pixels(opaque=False)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(P.encode_png(px, 600)))), px)
