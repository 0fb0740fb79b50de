"""tiles/pyramid_reader.py: the pyramid as a rio-tiler reader, under carbonmap's route and titiler's factory.

The 1 degree random cube (``random_cube``: lognormal values on ~half the cells with |lat| < 70, different
per day and sector) with its pyramid.  References are computed here from the cube's own arrays (kg per
cell / cell area) or from :class:`tiles.render.PyramidRenderer` directly (the renderer the route used
before it rendered through the reader).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import morecantile
import numpy as np
import pytest
import zarr
from fastapi import FastAPI, Query
from rio_tiler.errors import PointOutsideBounds, TileOutsideBounds
from rio_tiler.io.base import BaseReader
from titiler.core.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from titiler.core.factory import TilerFactory

from carbonmap import contract as cc
from carbonmap.registry import Registry
from carbonmap.storage.pyramid import area_km2
from tests.tiles.conftest import start_server
from tiles import colormap as cm
from tiles.app import create_tiles_app
from tiles.cache import TileCache
from tiles.chunks import ChunkCache
from tiles.factory import CarbonTilerFactory
from tiles.layer import Layer, TimeStep, parse_time
from tiles.pyramid_reader import (
    PyramidImageData,
    PyramidLayer,
    PyramidPointOutside,
    PyramidReader,
    PyramidTileOutside,
    sample_of,
)
from tiles.render import PyramidRenderer

WMQ = morecantile.tms.get("WebMercatorQuad")
CRS84 = morecantile.tms.get("WorldCRS84Quad")
DAY = dt.date(2024, 1, 31)
TILES = [(0, 0, 0), (1, 1, 0), (2, 2, 1), (3, 5, 3), (5, 17, 12)]


@pytest.fixture(scope="module")
def density(random_cube: Path, rreg: Registry) -> np.ndarray:
    """Emission density of the cube, kg km-2 day-1, dims (time, sector, lat, lon), float64."""
    arr: Any = zarr.open_group(random_cube, mode="r")[cc.EMISSIONS_VAR]
    em = np.asarray(arr[:], np.float64)
    return em / area_km2(rreg.get("random-test").grid)[:, None]


def reader(renderer: PyramidRenderer, rreg: Registry, sector: str = "power", when: dt.date | TimeStep = DAY,
           tms: morecantile.TileMatrixSet = WMQ) -> PyramidReader:
    return PyramidReader(PyramidLayer(renderer, Layer.of(rreg.get("random-test"), when, sector, cc.EMISSIONS_VAR)),
                         tms=tms)


# ---- the reader itself ------------------------------------------------------------------------

def test_it_is_a_rio_tiler_reader_with_the_datasets_geometry(renderer: PyramidRenderer, rreg: Registry) -> None:
    src = reader(renderer, rreg)
    with src:
        assert isinstance(src, BaseReader)
        assert src.bounds == (-180.0, -90.0, 180.0, 90.0) and src.crs.to_epsg() == 4326
        assert (src.height, src.width) == (180, 360)
        assert 0 <= src.minzoom <= src.maxzoom <= 24
        info = src.info()
        assert info.dtype == "float32" and info.band_descriptions[0][0] == "b1"
        assert "emissions power 2024-01-31 (kg km-2 day-1)" == info.band_descriptions[0][1]


@pytest.mark.parametrize("tms", [WMQ, CRS84], ids=["WebMercatorQuad", "WorldCRS84Quad"])
@pytest.mark.parametrize("zxy", TILES)
def test_tile_is_the_renderers_array(renderer: PyramidRenderer, rreg: Registry, tms: morecantile.TileMatrixSet,
                                     zxy: tuple[int, int, int]) -> None:
    z, x, y = zxy
    if tms is CRS84:
        x, y = x % 2**(z + 1), y % 2**z
    with reader(renderer, rreg, "total", tms=tms) as src:
        image = src.tile(x, y, z)
    want = renderer.tile(src.layer, tms, z, x, y, 256)
    assert isinstance(image, PyramidImageData) and image.array.shape == (1, 256, 256)
    assert image.array.dtype == np.float32
    np.testing.assert_array_equal(image.array[0].data, want)
    assert not image.array.mask.any()                     # a global grid: every pixel is on it
    assert image.bounds is not None and tuple(image.bounds) == tuple(tms.xy_bounds(morecantile.Tile(x, y, z)))
    assert image.crs == tms.rasterio_crs
    assert sample_of(image) is image.sample      # the encoder colours the renderer's distinct cells
    np.testing.assert_array_equal(image.sample.expand(image.sample.values), want)


def test_tile_pixels_are_the_cube_densities_at_their_centres(renderer: PyramidRenderer, rreg: Registry,
                                                              density: np.ndarray) -> None:
    from tiles.render import pixel_lonlat

    with reader(renderer, rreg, "industry", when=dt.date(2024, 2, 1)) as src:
        got = src.tile(17, 12, 5).array[0]
    lon, lat = pixel_lonlat(WMQ, 5, 17, 12, 256)
    r, c = rreg.get("random-test").grid.cell_index(*np.meshgrid(lon, lat))
    np.testing.assert_allclose(got, density[2, cc.SECTORS.index("industry")][r, c], rtol=1e-6)


def test_tile_options_expression_buffer_nodata_and_errors(renderer: PyramidRenderer, rreg: Registry) -> None:
    with reader(renderer, rreg) as src:
        plain = src.tile(2, 1, 2).array[0]
        doubled = src.tile(2, 1, 2, expression="b1*2")
        np.testing.assert_allclose(doubled.array[0], plain * 2, rtol=1e-6)
        assert sample_of(doubled).values.shape == (256, 256)   # a new image: coloured per pixel, not a stale sample
        buffered = src.tile(2, 1, 2, buffer=2).array[0]
        assert buffered.shape == (260, 260)
        np.testing.assert_array_equal(buffered[2:-2, 2:-2], plain)
        masked = src.tile(2, 1, 2, nodata=0.0).array[0]
        np.testing.assert_array_equal(masked.mask, plain == 0)
        src.tile(2, 1, 2, indexes=(1,))
        with pytest.raises(ValueError, match="one band"):
            src.tile(2, 1, 2, indexes=(2,))
        for bad in ((9, 0, 2), (0, 0, 30)):
            with pytest.raises(PyramidTileOutside) as exc:
                src.tile(*bad)
            assert isinstance(exc.value, TileOutsideBounds) and isinstance(exc.value, LookupError)
    missing = Layer("random-test", TimeStep("year", dt.date(2023, 1, 1)), "power")   # a step the pyramid lacks
    with pytest.raises(TileOutsideBounds, match="no year step 2023"), PyramidReader(PyramidLayer(renderer, missing)) as src:
        src.tile(0, 0, 0)


def test_part_and_preview_are_the_cube_cells(renderer: PyramidRenderer, rreg: Registry, density: np.ndarray) -> None:
    field = density[1, cc.SECTORS.index("power")]
    with reader(renderer, rreg) as src:
        part = src.part((10.0, 20.0, 40.0, 35.0))            # EPSG:4326, native size: one pixel per cell
        assert part.array.shape == (1, 15, 30) and part.crs.to_epsg() == 4326
        np.testing.assert_allclose(part.array[0], field[55:70, 190:220], rtol=1e-6)
        half = src.part((10.0, 20.0, 40.0, 35.0), max_size=15)
        assert half.array.shape == (1, 8, 15)
        outside = src.part((-190.0, -10.0, -170.0, 10.0))    # west of the antimeridian: off the grid
        assert outside.array.mask[0, :, :10].all() and not outside.array.mask[0, :, 10:].any()
        merc = src.part((10.0, 20.0, 40.0, 35.0), dst_crs=WMQ.rasterio_crs, width=64, height=64)
        assert merc.array.shape == (1, 64, 64) and merc.crs.to_epsg() == 3857
        assert merc.array[0].max() == pytest.approx(field[55:70, 190:220].max(), rel=1e-6)
        preview = src.preview()
        assert preview.array.shape == (1, 180, 360)
        np.testing.assert_allclose(preview.array[0], field, rtol=1e-6)
        small = src.preview(max_size=90)
        assert small.array.shape == (1, 45, 90)


def test_point_is_the_finest_cell(renderer: PyramidRenderer, rreg: Registry, density: np.ndarray) -> None:
    with reader(renderer, rreg, "total") as src:
        pt = src.point(10.5, 45.5)
        assert pt.array[0] == pytest.approx(density[1].sum(axis=0)[44, 190], rel=1e-6)
        assert pt.band_names == ["b1"] and pt.pixel_location == (190, 44)
        with pytest.raises(PyramidPointOutside) as exc:
            src.point(200.0, 0.0)
        assert isinstance(exc.value, PointOutsideBounds) and isinstance(exc.value, LookupError)


def test_statistics_over_the_preview(renderer: PyramidRenderer, rreg: Registry, density: np.ndarray) -> None:
    field = density[1, cc.SECTORS.index("power")]
    with reader(renderer, rreg) as src:
        stats = src.statistics()["b1"]
    assert stats.max == pytest.approx(field.max(), rel=1e-6) and stats.min == 0.0
    assert stats.mean == pytest.approx(field.mean(), rel=1e-5) and stats.valid_pixels == field.size


# ---- carbonmap's route renders through it, byte for byte as before ------------------------------

@pytest.fixture(scope="module")
def carbon(rreg: Registry) -> Iterator[tuple[CarbonTilerFactory, httpx.Client]]:
    factory = CarbonTilerFactory(tile_cache=TileCache(64), chunks=ChunkCache(2**25))
    server, thread, url = start_server(create_tiles_app(rreg, factory))
    with httpx.Client(base_url=url, timeout=30) as client:
        yield factory, client
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("style", [{}, {"rescale": "1,100000", "colormap_name": "viridis"}, {"scale": "quantile"}])
@pytest.mark.parametrize("zxy", TILES)
def test_route_png_is_byte_identical_to_the_renderers_encoding(carbon: tuple[CarbonTilerFactory, httpx.Client],
                                                               renderer: PyramidRenderer, rreg: Registry,
                                                               zxy: tuple[int, int, int], style: dict) -> None:
    factory, client = carbon
    z, x, y = zxy
    r = client.get(f"/tiles/random-test/WebMercatorQuad/{z}/{x}/{y}.png",
                   params={"date": "2024-02-01", "sector": "total", **style})
    assert r.status_code == 200 and r.headers["x-tile-renderer"] == "pyramid", r.text
    # the encoding the route used before it rendered through the reader: the renderer's sample, coloured
    # per distinct cell, expanded (rows first, as Sample.expand did then) and encoded
    cube = rreg.get("random-test")
    scale = factory.color_scale(cube, "total", cc.EMISSIONS_VAR, style.get("scale"), style.get("rescale"),
                                style.get("colormap_name"))
    sample = renderer.sample(Layer.of(cube, parse_time("2024-02-01"), "total", cc.EMISSIONS_VAR), WMQ, z, x, y, 256)
    idx = cm.to_indices(sample.values, scale).take(sample.row_of, axis=0).take(sample.col_of, axis=1)
    assert r.content == cm.encode(idx, scale.colormap_name, "png")


# ---- titiler's TilerFactory over the same reader --------------------------------------------------

def layer_dependency(registry: Registry, renderer: PyramidRenderer) -> Callable[..., PyramidLayer]:
    """A titiler ``path_dependency``: the query's dataset/date/sector/variable as a PyramidLayer."""

    def dependency(dataset: Annotated[str, Query()], date: Annotated[str, Query()],
                   sector: Annotated[str, Query()] = "total",
                   variable: Annotated[str, Query()] = cc.EMISSIONS_VAR) -> PyramidLayer:
        return PyramidLayer(renderer, Layer.of(registry.get(dataset), parse_time(date), sector, variable))

    return dependency


@pytest.fixture(scope="module")
def titiler_http(rreg: Registry, renderer: PyramidRenderer) -> Iterator[httpx.Client]:
    app = FastAPI()
    md = TilerFactory(reader=PyramidReader, path_dependency=layer_dependency(rreg, renderer),
                      router_prefix="/pyr")
    app.include_router(md.router, prefix="/pyr")
    add_exception_handlers(app, DEFAULT_STATUS_CODES)
    server, thread, url = start_server(app)
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)


Q = {"dataset": "random-test", "date": "2024-01-31", "sector": "power"}


def test_titiler_factory_tile_npy_is_the_renderers_array(titiler_http: httpx.Client, renderer: PyramidRenderer,
                                                         rreg: Registry) -> None:
    r = titiler_http.get("/pyr/tiles/WebMercatorQuad/3/5/3.npy", params=Q)
    assert r.status_code == 200, r.text
    arr = np.load(io.BytesIO(r.content))
    layer = Layer.of(rreg.get("random-test"), DAY, "power", cc.EMISSIONS_VAR)
    np.testing.assert_array_equal(arr[0], renderer.tile(layer, WMQ, 3, 5, 3, 256))
    png = titiler_http.get("/pyr/tiles/WebMercatorQuad/3/5/3.png",
                           params={**Q, "rescale": "0,1000", "colormap_name": "inferno"})
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert titiler_http.get("/pyr/tiles/WebMercatorQuad/1/7/0.png", params=Q).status_code == 404


def test_titiler_factory_point_statistics_info_tilejson(titiler_http: httpx.Client, density: np.ndarray) -> None:
    field = density[1, cc.SECTORS.index("power")]
    pt = titiler_http.get("/pyr/point/10.5,45.5", params=Q)
    assert pt.status_code == 200, pt.text
    assert pt.json()["values"][0] == pytest.approx(field[44, 190], rel=1e-6)
    st = titiler_http.get("/pyr/statistics", params=Q)
    assert st.status_code == 200, st.text
    b1 = st.json()["b1"]
    assert b1["max"] == pytest.approx(field.max(), rel=1e-6) and b1["mean"] == pytest.approx(field.mean(), rel=1e-5)
    info = titiler_http.get("/pyr/info", params=Q).json()
    assert info["bounds"] == [-180.0, -90.0, 180.0, 90.0] and info["dtype"] == "float32"
    tj = titiler_http.get("/pyr/WebMercatorQuad/tilejson.json", params=Q).json()
    assert "dataset=random-test" in tj["tiles"][0] and tj["minzoom"] <= tj["maxzoom"]
