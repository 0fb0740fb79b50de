"""tiles/render.py and tiles/chunks.py: pyramid tiles equal the cube's values; time steps; caching."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import morecantile
import numpy as np
import pytest
import zarr
from fastapi.testclient import TestClient
from PIL import Image

from carbonmap import contract as cc
from carbonmap.registry import Registry
from carbonmap.storage.pyramid import area_km2
from tiles import colormap as cm
from tiles.app import create_tiles_app
from tiles.cache import TileCache
from tiles.cache_policy import version_token
from tiles.chunks import ChunkCache
from tiles.factory import CarbonTilerFactory
from tiles.layer import Layer, TileNotFound, TimeStep
from tiles.render import PyramidRenderer, gather, needed_chunks, pick_level, pixel_lonlat

WMQ = morecantile.tms.get("WebMercatorQuad")
R = "/tiles/random-test/WebMercatorQuad"


@pytest.fixture(scope="module")
def cube_data(random_cube: Path) -> tuple[np.ndarray, np.ndarray]:
    g = zarr.open_group(random_cube, mode="r")
    return np.asarray(g[cc.EMISSIONS_VAR][:], np.float64), np.asarray(g[cc.UNCERTAINTY_VAR][:], np.float64)


@pytest.fixture(scope="module")
def rclient(rreg: Registry) -> TestClient:
    factory = CarbonTilerFactory(tile_cache=TileCache(64), chunks=ChunkCache(2**25))
    with TestClient(create_tiles_app(rreg, factory)) as c:
        yield c


def expected(field: np.ndarray, grid: cc.Grid, tms: morecantile.TileMatrixSet, z: int, x: int, y: int) -> np.ndarray:
    """Independent reference: the density of the cell under each pixel centre (point lookup per pixel)."""
    lon, lat = pixel_lonlat(tms, z, x, y, 256)
    lon2, lat2 = np.meshgrid(lon, lat)
    r, c = grid.cell_index(lon2.ravel(), lat2.ravel())
    dens = field / area_km2(grid)[:, None]
    out = np.where(r >= 0, dens[np.maximum(r, 0), np.maximum(c, 0)], 0.0)
    return out.reshape(256, 256)


@pytest.mark.parametrize("zxy", [(0, 0, 0), (1, 1, 0), (2, 2, 1), (3, 5, 3), (5, 17, 12)])
def test_tile_pixels_match_the_cube_at_their_centres(renderer: PyramidRenderer, rreg: Registry, cube_data,
                                                     zxy: tuple[int, int, int]) -> None:
    z, x, y = zxy
    em, _ = cube_data
    cube = rreg.get("random-test")
    assert pick_level(renderer.pyramid.meta.levels, 360 / 256 / 2**z) == 0   # 1 degree cube: level 0 here
    layer = Layer.of(cube, dt.date(2024, 2, 1), "industry", cc.EMISSIONS_VAR)
    got = renderer.tile(layer, WMQ, z, x, y, 256)
    want = expected(em[2, cc.SECTORS.index("industry")], cube.grid, WMQ, z, x, y)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    total = renderer.tile(Layer.of(cube, dt.date(2024, 2, 1), "total", cc.EMISSIONS_VAR), WMQ, z, x, y, 256)
    np.testing.assert_allclose(total, expected(em[2].sum(axis=0), cube.grid, WMQ, z, x, y), rtol=1e-5)


def test_crs84_tiles_and_uncertainty(renderer: PyramidRenderer, rreg: Registry, cube_data) -> None:
    _, unc = cube_data
    cube = rreg.get("random-test")
    crs84 = morecantile.tms.get("WorldCRS84Quad")
    layer = Layer.of(cube, dt.date(2024, 1, 31), "power", cc.UNCERTAINTY_VAR)
    got = renderer.tile(layer, crs84, 1, 1, 0, 256)
    lon, lat = pixel_lonlat(crs84, 1, 1, 0, 256)
    r, c = cube.grid.cell_index(*np.meshgrid(lon, lat))
    np.testing.assert_allclose(got, unc[1, 0][r, c], rtol=1e-6)


def test_monthly_and_annual_tiles_are_the_means(renderer: PyramidRenderer, rreg: Registry, cube_data) -> None:
    em, _ = cube_data
    cube = rreg.get("random-test")
    s = cc.SECTORS.index("residential")
    for step, days in ((TimeStep("month", dt.date(2024, 1, 1)), slice(0, 2)),
                       (TimeStep("month", dt.date(2024, 2, 1)), slice(2, 4)),
                       (TimeStep("year", dt.date(2024, 1, 1)), slice(0, 4))):
        got = renderer.tile(Layer.of(cube, step, "residential", cc.EMISSIONS_VAR), WMQ, 2, 1, 1, 256)
        want = expected(em[days, s].mean(axis=0), cube.grid, WMQ, 2, 1, 1)
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_month_and_year_over_http_and_errors(rclient: TestClient) -> None:
    for date in ("2024-01", "2024-02", "2024"):
        r = rclient.get(f"{R}/1/0/0.png", params={"date": date, "sector": "power"})
        assert r.status_code == 200 and r.headers["x-tile-renderer"] == "pyramid", r.text
    r = rclient.get(f"{R}/1/0/0.png", params={"date": "2024-03", "sector": "power"})
    assert r.status_code == 404 and "month 2024-03 has no days" in r.json()["detail"]
    r = rclient.get(f"{R}/1/0/0.png", params={"date": "2023", "sector": "power"})
    assert r.status_code == 404 and "year 2023" in r.json()["detail"]
    assert rclient.get(f"{R}/1/0/0.png", params={"date": "2024-1"}).status_code == 422


def test_png_colour_equals_the_scale_of_the_cube_value(rclient: TestClient, rreg: Registry, cube_data) -> None:
    em, _ = cube_data
    cube = rreg.get("random-test")
    r = rclient.get(f"{R}/3/5/3.png", params={"date": "2024-01-30", "sector": "power", "rescale": "1,100000"})
    px = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    want = expected(em[0, 0], cube.grid, WMQ, 3, 5, 3)
    idx = cm.to_indices(want, cm.ColorScale("log", 1.0, 1e5, "inferno"))
    np.testing.assert_array_equal(px, cm.palette("inferno")[idx])
    assert (idx > 0).any() and (idx == 0).any()


def test_quantile_scale_spreads_colours_evenly(rclient: TestClient) -> None:
    leg = rclient.get("/tiles/random-test/legend", params={"sector": "total", "scale": "quantile",
                                                            "classes": 4}).json()
    assert leg["scale"] == "quantile" and leg["units"] == "kg km-2 day-1" and len(leg["breaks"]) == 5
    assert all(a < b for a, b in zip(leg["breaks"], leg["breaks"][1:], strict=False))
    r = rclient.get(f"{R}/0/0/0.png", params={"date": "2024-02-02", "sector": "total", "scale": "quantile"})
    px = np.asarray(Image.open(io.BytesIO(r.content)))   # palette indices
    colours = px[px > 0].astype(int)
    counts = np.bincount(((colours - 1) * 4 // 255).astype(int), minlength=4)
    assert counts.min() > 0.1 * counts.sum()              # every quarter of the ramp is used
    bad = rclient.get(f"{R}/0/0/0.png", params={"date": "2024-02-02", "scale": "quantile", "rescale": "1,2"})
    assert bad.status_code == 422 and "quantile" in bad.json()["detail"]


def test_immutable_only_for_versioned_urls(rclient: TestClient, rreg: Registry) -> None:
    token = version_token(rreg.get("random-test"))
    tj = rclient.get(f"{R}/tilejson.json", params={"date": "2024-02-01"}).json()
    assert f"v={token}" in tj["tiles"][0]
    params = {"date": "2024-02-01", "sector": "power"}
    assert "immutable" not in rclient.get(f"{R}/2/1/1.png", params=params).headers["cache-control"]
    pinned = rclient.get(f"{R}/2/1/1.png", params={**params, "v": token})
    assert pinned.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = rclient.get(f"{R}/2/1/1.png", params={**params, "v": token},
                        headers={"If-None-Match": pinned.headers["etag"]})
    assert again.status_code == 304 and "immutable" in again.headers["cache-control"]
    stale = rclient.get(f"{R}/2/1/1.png", params={**params, "v": "0000"})
    assert "immutable" not in stale.headers["cache-control"]


def test_gather_and_needed_chunks() -> None:
    rows = np.array([-1, 0, 1, 2, 3, 3])
    cols = np.array([1, 2, 3, -1])
    level = np.arange(16.0, dtype=np.float32).reshape(4, 4)
    chunks = {(i, j): level[2 * i:2 * i + 2, 2 * j:2 * j + 2] for i in range(2) for j in range(2)}
    assert needed_chunks(rows, cols, (2, 2)) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    out = gather(rows, cols, (2, 2), chunks)
    want = np.where((rows[:, None] >= 0) & (cols[None, :] >= 0), level[np.maximum(rows, 0)][:, np.maximum(cols, 0)], 0)
    np.testing.assert_array_equal(out, want)


def test_chunk_cache_is_bounded_and_loads_once() -> None:
    cache = ChunkCache(3 * 400)
    calls: list[list] = []

    def load(keys: list) -> dict:
        calls.append(list(keys))
        return {k: np.full((10, 10), float(k[0]), np.float32) for k in keys}

    got = cache.get_many([(1,), (2,)], load)
    assert got[(2,)][0, 0] == 2.0 and calls == [[(1,), (2,)]]
    cache.get_many([(1,), (3,)], load)
    assert calls[-1] == [(3,)] and cache.hits == 1
    cache.get_many([(4,)], load)                  # evicts the least recently used, (2,)
    assert len(cache) == 3 and cache.nbytes <= 1200 and (2,) not in cache and (1,) in cache
    with pytest.raises(ValueError):
        ChunkCache(-1)


def test_tile_outside_a_regional_grid_is_not_found(renderer: PyramidRenderer, rreg: Registry) -> None:
    # the grid is global, so every Web Mercator tile intersects it; an out-of-matrix tile is refused
    cube = rreg.get("random-test")
    layer = Layer.of(cube, dt.date(2024, 2, 1), "power", cc.EMISSIONS_VAR)
    assert renderer.tile(layer, WMQ, 4, 0, 0, 256).shape == (256, 256)   # polar: empty, not an error
    assert not renderer.tile(layer, WMQ, 4, 0, 0, 256).any()
    with pytest.raises(TileNotFound):
        renderer.tile(layer, morecantile.tms.get("WorldCRS84Quad"), 0, 5, 5, 256)
