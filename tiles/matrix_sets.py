"""Tile matrix sets of the tile endpoints: lookup, tile index checks, CRS URIs and useful zoom range."""

from __future__ import annotations

import math
from functools import lru_cache

from morecantile import TileMatrixSet
from morecantile import tms as morecantile_tms
from rio_tiler.utils import CRS_to_uri

from carbonmap.registry import Cube
from tiles.layer import TileNotFound

EARTH_M_PER_DEGREE = 2 * math.pi * 6378137.0 / 360.0
"""Metres per degree of longitude at the equator on the Web Mercator sphere."""
MERCATOR_MAX_LAT = 85.0511287798066
"""Latitude (degrees) where the square Web Mercator world ends."""


@lru_cache(maxsize=16)
def _tms(tms_id: str) -> TileMatrixSet:
    """A tile matrix set by id, built once (morecantile's ``tms.get`` deep-copies it on every call)."""
    return morecantile_tms.get(tms_id)


@lru_cache(maxsize=16)
def _crs_uri(tms_id: str) -> str | None:
    return CRS_to_uri(morecantile_tms.get(tms_id).rasterio_crs)


def get_tms(tms_id: str, supported: tuple[str, ...]) -> TileMatrixSet:
    """The tile matrix set ``tms_id`` (built once); TileNotFound (404) unless it is in ``supported``."""
    if tms_id not in supported:
        raise TileNotFound(f"unknown tile matrix set {tms_id!r}; use one of: {', '.join(supported)}")
    return _tms(tms_id)


def crs_uri(tms: TileMatrixSet) -> str | None:
    """OGC URI of a tile matrix set's CRS (for the ``Content-Crs`` header), memoised."""
    return _crs_uri(tms.id)


def check_tile_index(tms: TileMatrixSet, z: int, x: int, y: int) -> None:
    """TileNotFound unless (z, x, y) exists in the tile matrix set (no data read)."""
    if not tms.minzoom <= z <= tms.maxzoom:
        raise TileNotFound(f"zoom {z} is outside {tms.id}, which has zooms {tms.minzoom} to {tms.maxzoom}")
    matrix = tms.matrix(z)
    if not (0 <= x < matrix.matrixWidth and 0 <= y < matrix.matrixHeight):
        raise TileNotFound(f"tile {z}/{x}/{y} is outside {tms.id}: at zoom {z} x must be 0 to "
                           f"{matrix.matrixWidth - 1} and y 0 to {matrix.matrixHeight - 1}")


def maxzoom_for(cube: Cube, tms: TileMatrixSet) -> int:
    """Zoom where a grid cell spans ~4 pixels (tiles deeper than this add no detail)."""
    res = cube.grid.resolution
    res_crs = res * EARTH_M_PER_DEGREE if tms.crs.to_epsg() == 3857 else res
    return min(tms.maxzoom, tms.zoom_for_res(res_crs, zoom_level_strategy="upper") + 2)
