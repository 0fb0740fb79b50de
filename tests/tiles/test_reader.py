"""tiles/reader.py: rio-tiler reprojection of one cube layer."""

from __future__ import annotations

import datetime as dt

import morecantile
import numpy as np
import pytest

from carbonmap import contract as cc
from carbonmap.registry import Registry
from pipelines.pyramid import area_km2
from tiles.fields import FieldCache
from tiles.layer import Layer, TileNotFound
from tiles.reader import CubeLayerReader


@pytest.fixture()
def reader_for(registry: Registry):
    cube = registry.get("synthetic-test")
    fields = FieldCache(2**26)

    def make(sector: str = "power", day: int = 1, tms: str = "WebMercatorQuad") -> CubeLayerReader:
        layer = Layer.of(cube, dt.date(2024, 1, day), sector, "emissions")
        return CubeLayerReader(cube=cube, layer=layer, fields=fields, tms=morecantile.tms.get(tms))

    return make


def test_reader_is_georeferenced_like_the_grid(reader_for) -> None:
    with reader_for() as src:
        assert src.crs.to_epsg() == 4326
        assert tuple(round(b, 6) for b in src.bounds) == (-180.0, -90.0, 180.0, 90.0)
        assert src.transform.a == pytest.approx(5.0)


def density_rows(grid: cc.Grid, kg_per_cell: float) -> np.ndarray:
    """The density (kg km-2 day-1) a cell of each grid row shows for a per-cell value."""
    return (kg_per_cell / area_km2(grid)).astype(np.float32)


def test_tile_values_follow_the_synthetic_field(reader_for) -> None:
    # synthetic field: (sector + 1) * (day + 1) * 1000 kg per cell where |lat| < 60, else 0;
    # the reader shows it as density: divided by the cell's area in km2
    with reader_for("industry", day=3) as src:
        img = src.tile(0, 0, 1)       # north-west quadrant: 0..85 N
        grid = src.grid
    band = np.asarray(img.array[0].filled(0))
    assert band.shape == (256, 256)
    allowed = density_rows(grid, 2 * 3 * 1000.0)
    values = np.unique(band[band > 0])
    assert values.size >= 5
    assert all(np.isclose(allowed, v, rtol=1e-5).any() for v in values)
    # Web Mercator row of 60 N in the z1 tile: rows above it are zero, rows below are not
    y60 = morecantile.tms.get("WebMercatorQuad").xy(0, 60).y
    row60 = int((20037508.34 - y60) / (20037508.34 / 256))
    assert np.all(band[: row60 - 2] == 0)
    assert np.all(band[row60 + 2:] > 0)


def test_zoomed_in_tile_stays_crisp_and_crs84_works(reader_for) -> None:
    with reader_for("power", day=2) as src:
        img = src.tile(37, 63, 7)     # 0..2.8 N, inside one 5 degree cell row
        grid = src.grid
    w, s, e, n = morecantile.tms.get("WebMercatorQuad").bounds(morecantile.Tile(37, 63, 7))
    row = grid.cell_index(np.array([(w + e) / 2]), np.array([(s + n) / 2]))[0][0]
    band = np.asarray(img.array[0].filled(0))
    np.testing.assert_allclose(band, density_rows(grid, 2000.0)[row], rtol=1e-6)
    with reader_for("power", day=2, tms="WorldCRS84Quad") as src:
        img = src.tile(1, 0, 0)
    assert img.array.shape == (1, 256, 256)
    assert img.array.max() == pytest.approx(density_rows(grid, 2000.0)[np.abs(grid.lat) < 60].max(), rel=1e-6)


@pytest.mark.parametrize("zxy", [(0, 1, 0), (1, 0, 2), (-1, 0, 0), (25, 0, 0)])
def test_tiles_outside_the_matrix_are_not_found(reader_for, zxy: tuple[int, int, int]) -> None:
    z, x, y = zxy
    with reader_for() as src, pytest.raises(TileNotFound, match="outside"):
        src.tile(x, y, z)
