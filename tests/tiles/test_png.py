"""tiles.png: the paletted PNG writer decodes (with Pillow) to the same indices, palette and alpha."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tiles import colormap as cm
from tiles.png import encode_paletted


@pytest.mark.parametrize("shape", [(256, 256), (1, 7), (300, 512), (512, 256)])
def test_round_trip_indices_palette_and_transparency(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    pal = rng.integers(0, 256, size=(256, 4), dtype=np.uint8)
    idx = rng.integers(0, 256, size=shape, dtype=np.uint8)
    im = Image.open(io.BytesIO(encode_paletted(idx, pal)))
    im.load()
    assert im.format == "PNG" and im.mode == "P" and im.size == (shape[1], shape[0])
    assert np.array_equal(np.asarray(im), idx)
    assert np.array_equal(np.frombuffer(bytes(im.getpalette("RGB")), np.uint8).reshape(-1, 3)[:256], pal[:, :3])
    assert np.array_equal(np.asarray(im.convert("RGBA"))[..., 3], pal[idx, 3])


def test_a_map_like_tile_is_about_as_small_as_pillows_level_1() -> None:
    y, x = np.mgrid[0:256, 0:256]
    field = np.exp(-((x - 90.0) ** 2 + (y - 140.0) ** 2) / 900.0) * 1e6 + (x % 37 == 0) * 5e3
    idx = cm.to_indices(field, cm.ColorScale("log", 1e2, 1e6, "viridis"))
    pal = cm.palette("viridis")
    ours = encode_paletted(idx.astype(np.uint8), pal)
    buf = io.BytesIO()
    im = Image.fromarray(idx.astype(np.uint8), mode="P")
    im.putpalette(pal[:, :3].tobytes(), rawmode="RGB")
    im.save(buf, format="PNG", compress_level=1, transparency=pal[:, 3].tobytes())
    assert len(ours) <= 1.15 * len(buf.getvalue())  # measured 1.0-1.1x
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(ours))), idx)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="2-d"):
        encode_paletted(np.zeros((2, 2, 2), np.uint8), np.zeros((256, 4), np.uint8))
    with pytest.raises(ValueError, match="RGBA"):
        encode_paletted(np.zeros((2, 2), np.uint8), np.zeros((256, 3), np.uint8))
