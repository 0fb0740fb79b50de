"""tiles/colormap.py: scales, palette indices, encoding and legends."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tiles import colormap as cm
from tiles.layer import BadTileRequest


def test_indices_are_transparent_for_zero_nan_and_masked_and_monotonic_otherwise() -> None:
    s = cm.ColorScale("log", 1e3, 1e6, "inferno")
    values = np.array([0.0, -5.0, np.nan, 1.0, 1e3, 1e4, 1e5, 1e6, 1e9])
    idx = cm.to_indices(values, s)
    assert idx[:3].tolist() == [0, 0, 0]
    assert idx[3] == 1 and idx[4] == 1            # below vmin clips to the first colour
    assert idx[7] == 255 and idx[8] == 255        # above vmax clips to the last
    assert np.all(np.diff(idx[4:8].astype(int)) > 0)
    assert idx[5] == 1 + round(254 / 3)           # one decade of three
    masked = cm.to_indices(values, s, mask=np.ones(values.shape, bool))
    assert not masked.any()


@pytest.mark.parametrize("scale", [cm.ColorScale("log", 1.0, 1e6, "viridis"),
                                   cm.ColorScale("linear", 0.0, 5e5, "viridis"),
                                   cm.ColorScale.quantile([0, 1, 5, 10, 100, 1e3, 1e4, 1e5], "viridis")],
                         ids=["log", "linear", "quantile"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_indices_match_the_float64_position_formula(scale: cm.ColorScale, dtype: type) -> None:
    """The in-place float32 kernel gives 1 + rint(position * 254) of the float64 reference, 0 for invalid."""
    rng = np.random.default_rng(7)
    v = (rng.lognormal(5, 4, (128, 128)) * rng.choice([1, 0, -1], (128, 128), p=[0.7, 0.2, 0.1])).astype(dtype)
    v[rng.random(v.shape) < 0.05] = np.nan
    v[0, :3] = (np.inf, -np.inf, 1e30)
    mask = rng.random(v.shape) < 0.1
    got = cm.to_indices(v, scale, mask=mask)
    valid = np.isfinite(v) & (v > 0) & ~mask
    ref = np.where(valid, 1 + np.rint(scale.position(np.where(valid, v, scale.vmax)) * 254), 0).astype(int)
    assert got.dtype == np.uint8 and got.shape == v.shape
    assert np.array_equal(got == 0, ~valid)
    diff = np.abs(got.astype(int) - ref)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3  # at most float32 rounding at class edges
    assert got[0, 2] == 255


def test_linear_scale_positions() -> None:
    s = cm.ColorScale("linear", 0.0, 1.0, "viridis")
    assert cm.to_indices(np.array([0.5]), s)[0] == 1 + round(254 * 0.5)
    assert float(s.value_at(0.25)) == pytest.approx(0.25)


@pytest.mark.parametrize("args", [("log", 0.0, 10.0, "inferno"), ("log", 10.0, 1.0, "inferno"),
                                  ("cubic", 1.0, 10.0, "inferno"), ("log", 1.0, 10.0, "not-a-colormap")])
def test_bad_scales_are_refused_with_a_sentence(args: tuple) -> None:
    with pytest.raises(BadTileRequest, match=r"\w+ .*\w+"):
        cm.ColorScale(*args)


def test_parse_rescale() -> None:
    assert cm.parse_rescale("1e3,1e6") == (1000.0, 1000000.0)
    assert cm.parse_rescale(None) is None
    for bad in ("1", "a,b", "1,2,3"):
        with pytest.raises(BadTileRequest, match="rescale"):
            cm.parse_rescale(bad)


def test_nice_range_spans_whole_decades_around_the_data() -> None:
    rng = np.random.default_rng(0)
    field = np.where(rng.random((50, 50)) < 0.5, 0.0, 10 ** rng.uniform(2.3, 5.6, (50, 50)))
    lo, hi = cm.nice_range(field, "log")
    assert lo in (100.0, 1000.0) and hi == 1e6
    assert cm.nice_range(np.full((3, 3), 5000.0), "log") == (1000.0, 10000.0)
    assert cm.nice_range(np.zeros((3, 3)), "linear") == (0.0, 1.0)


def test_palette_has_transparent_zero_and_opaque_ramp() -> None:
    pal = cm.palette("viridis")
    assert pal.shape == (256, 4) and pal[0, 3] == 0 and np.all(pal[1:, 3] == 255)
    assert len({tuple(p) for p in pal[1:]}) > 100


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_encode_round_trips_colours_and_transparency(fmt: str) -> None:
    s = cm.ColorScale("log", 1e3, 1e6, "inferno")
    field = np.zeros((256, 256))
    field[:, 128:] = 1e4
    idx = cm.to_indices(field, s)
    im = Image.open(io.BytesIO(cm.encode(idx, "inferno", fmt)))
    assert im.format == fmt.upper() and im.size == (256, 256)
    rgba = np.asarray(im.convert("RGBA"))
    assert np.all(rgba[:, :128, 3] == 0)
    assert np.all(rgba[:, 128:, 3] == 255)
    expected = cm.palette("inferno")[idx[0, 200]]
    assert np.abs(rgba[10, 200, :3].astype(int) - expected[:3]).max() <= (0 if fmt == "png" else 12)


def test_legend_breaks_colours_and_png() -> None:
    s = cm.ColorScale("log", 1e3, 1e7, "inferno")
    leg = cm.legend(s, units="kg day-1", long_units="kg CO2 per grid cell per day", n_classes=4)
    assert leg["breaks"] == pytest.approx([1e3, 1e4, 1e5, 1e6, 1e7])
    assert leg["units"] == "kg day-1" and len(leg["classes"]) == 4
    assert len({c["color"] for c in leg["classes"]}) == 4
    png = Image.open(io.BytesIO(cm.legend_png(s, units="kg day-1")))
    assert png.format == "PNG" and png.width > png.height
    with pytest.raises(BadTileRequest):
        cm.class_breaks(s, 0)
