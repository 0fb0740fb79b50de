"""A rio-tiler reader for one map layer of a served cube: the fallback when a cube has no pyramid.

``CubeLayerReader`` is rio-tiler's :class:`~rio_tiler.io.xarray.XarrayReader` over an in-memory
``xr.DataArray`` (dims ``(y, x)`` = (lat, lon), EPSG:4326, the cube's grid transform) holding one
step's field from a :class:`tiles.fields.FieldCache`, emissions converted to density
(kg CO2 km-2 day-1, the pyramid's units, so colours match).  It is built from a ``Cube`` the registry
returned (by dataset id), never from a client path.  Tiles are reprojected by rio-tiler's
``tile()``.  Cubes with a pyramid are read by :class:`tiles.pyramid_reader.PyramidReader` instead (the
same rio-tiler interface, no reprojection); the factory picks one in ``CarbonTilerFactory.reader_for``.
"""

from __future__ import annotations

import warnings
from typing import Any

import attr
import numpy as np
import xarray as xr
from affine import Affine
from morecantile import Tile, TileMatrixSet
from rio_tiler.constants import WEB_MERCATOR_TMS, WGS84_CRS
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io.xarray import Options, XarrayReader
from rio_tiler.models import ImageData
from rio_tiler.types import WarpResampling

from carbonmap import contract as cc
from carbonmap.registry import Cube
from carbonmap.storage.pyramid import DENSITY_UNITS, area_km2
from tiles.fields import FieldCache
from tiles.layer import Layer, TileNotFound

AVERAGE_BELOW_CELLS_PER_PIXEL = 2.0
"""Tiles whose pixels span more grid cells than this are averaged (no point source vanishes)."""


def density(field: np.ndarray, grid: cc.Grid) -> np.ndarray:
    """kg CO2 day-1 cell-1 (lat, lon) -> kg CO2 km-2 day-1 (lat, lon), float32."""
    return (np.asarray(field, dtype=np.float64) / area_km2(grid)[:, None]).astype(np.float32)


def layer_dataarray(field: np.ndarray, grid: cc.Grid, name: str, attrs: dict[str, Any]) -> xr.DataArray:
    """Wrap a (lat, lon) field as a georeferenced DataArray, dims (y, x), EPSG:4326."""
    if field.shape != grid.shape:
        raise ValueError(f"field shape {field.shape} does not match the grid {grid.shape}")
    da = xr.DataArray(field, dims=("y", "x"), coords={"y": grid.lat, "x": grid.lon}, name=name, attrs=attrs)
    return da.rio.write_crs(WGS84_CRS).rio.write_transform(Affine(*grid.transform))


@attr.s
class CubeLayerReader(XarrayReader):
    """rio-tiler reader of one (dataset, day, sector, variable) layer of a ``Cube``."""

    cube: Cube = attr.ib()
    layer: Layer = attr.ib()
    fields: FieldCache = attr.ib()

    tms: TileMatrixSet = attr.ib(default=WEB_MERCATOR_TMS)
    options: Options = attr.ib()
    input: xr.DataArray = attr.ib(init=False)
    _dims: list = attr.ib(init=False, factory=list)

    @options.default
    def _options_default(self) -> Options:
        return {}

    def __attrs_post_init__(self) -> None:
        # What XarrayReader.__attrs_post_init__ derives from the coordinates, taken from the grid
        # (exact, and ~30x cheaper per request than rioxarray's coordinate scans).
        grid = self.cube.grid
        self.input = self.fields.get_dataarray(self.cube, self.layer, self._wrap)
        self.bounds = grid.bounds
        self.crs = WGS84_CRS
        self.transform = Affine(*grid.transform)
        self.height, self.width = grid.shape
        self._dims = []

    def _wrap(self, field: np.ndarray) -> xr.DataArray:
        attrs = dict(self.cube.ds[self.layer.variable].attrs)
        if self.layer.variable == cc.EMISSIONS_VAR:
            field = density(field, self.cube.grid)
            attrs["units"] = DENSITY_UNITS
        return layer_dataarray(field, self.cube.grid, self.layer.variable, attrs)

    @property
    def grid(self) -> cc.Grid:
        return self.cube.grid

    def check_tile(self, x: int, y: int, z: int) -> None:
        """TileNotFound if (z, x, y) is not in the tile matrix set or misses the grid."""
        if not self.tms.minzoom <= z <= self.tms.maxzoom:
            raise TileNotFound(f"zoom {z} is outside {self.tms.id}, which has zooms "
                               f"{self.tms.minzoom} to {self.tms.maxzoom}")
        matrix = self.tms.matrix(z)
        if not (0 <= x < matrix.matrixWidth and 0 <= y < matrix.matrixHeight):
            raise TileNotFound(f"tile {z}/{x}/{y} is outside {self.tms.id}: at zoom {z} x must be 0 to "
                               f"{matrix.matrixWidth - 1} and y 0 to {matrix.matrixHeight - 1}")
        if not self.tile_exists(x, y, z):
            raise TileNotFound(f"tile {z}/{x}/{y} does not intersect the grid of dataset "
                               f"{self.cube.id!r} (bounds {self.grid.bounds})")

    def cells_per_pixel(self, x: int, y: int, z: int, tilesize: int) -> float:
        """Grid cells spanned by one tile pixel (east-west), at the tile's extent."""
        w, _, e, _ = self.tms.bounds(Tile(x=x, y=y, z=z))
        return (e - w) / tilesize / self.grid.resolution

    # override: rio-tiler's later parameters (auto_expand, nodata, ...) are passed on through **kwargs
    def tile(self, tile_x: int, tile_y: int, tile_z: int, tilesize: int | None = None,  # type: ignore[override]
             reproject_method: WarpResampling | None = None, **kwargs: Any) -> ImageData:
        """The tile as rio-tiler ``ImageData`` (masked float32, one band).

        ``reproject_method`` None picks ``average`` when a pixel spans several cells (zoomed out)
        and ``nearest`` otherwise, so cells stay crisp when zoomed in.
        """
        self.check_tile(tile_x, tile_y, tile_z)
        size = tilesize or self.tms.matrix(tile_z).tileWidth
        if reproject_method is None:
            many = self.cells_per_pixel(tile_x, tile_y, tile_z, size) > AVERAGE_BELOW_CELLS_PER_PIXEL
            reproject_method = "average" if many else "nearest"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # rio-tiler's "Adjusting dataset latitudes"
            try:
                return super().tile(tile_x, tile_y, tile_z, tilesize=size, reproject_method=reproject_method,
                                    **kwargs)
            except TileOutsideBounds as exc:
                raise TileNotFound(f"tile {tile_z}/{tile_x}/{tile_y} does not intersect dataset "
                                   f"{self.cube.id!r}: {exc}") from None
