"""A rio-tiler reader over a cube's map pyramid: the fast tile path in the ecosystem's interface.

:class:`PyramidReader` is a :class:`rio_tiler.io.base.BaseReader` (``tile``, ``part``, ``preview``,
``point``, ``feature``, ``info``, ``statistics``; ``bounds``, ``crs``, ``minzoom``, ``maxzoom``, ``tms``)
whose input is a :class:`PyramidLayer`: a cube's :class:`~tiles.render.PyramidRenderer` and one
:class:`~tiles.layer.Layer` (dataset, time step, sector, variable).  So titiler's ``TilerFactory(reader=
PyramidReader, path_dependency=<a dependency returning a PyramidLayer>)`` and its dependencies apply
to it (``tests/tiles/test_pyramid_reader.py`` mounts one), and carbonmap's own tile route renders through
:meth:`PyramidReader.tile` too.

Nothing is reprojected by rasterio: the pyramid's levels are regular lon/lat grids and the supported
tile matrix sets (Web Mercator and CRS84/EPSG:4326 ones) have separable pixel centres, so every
output pixel takes the cell under its centre on the level just finer than a pixel (the level's block
means stand in for averaging), exactly as :mod:`tiles.render` computes it.  ``tile()`` returns the
renderer's array unchanged (``image.array[0]`` equals ``PyramidRenderer.tile(...)``) as a
:class:`PyramidImageData`, which also carries the distinct source cells (the renderer's
:class:`~tiles.render.Sample`), so carbonmap's encoder colours each cell once (:func:`sample_of`).

Values are in the pyramid's units: emissions as density, kg CO2 km-2 day-1; uncertainty as relative
1-sigma.  One band, ``b1``, float32; pixels off the dataset's grid are masked; ``nodata`` masks a value.
``resampling_method``/``reproject_method``/``padding``/``unscale`` are accepted and have no effect
(nearest cell of the level just finer than a pixel; no scale or offset).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import attr
import numpy as np
from affine import Affine
from morecantile import Tile, TileMatrixSet
from rasterio.crs import CRS
from rasterio.features import bounds as feature_bounds
from rasterio.features import rasterize
from rasterio.warp import transform, transform_bounds, transform_geom
from rio_tiler.constants import WEB_MERCATOR_TMS, WGS84_CRS
from rio_tiler.errors import PointOutsideBounds, TileOutsideBounds
from rio_tiler.io.base import BaseReader
from rio_tiler.models import BandStatistics, ImageData, Info, PointData
from rio_tiler.types import BBox
from rio_tiler.utils import CRS_to_uri, _validate_shape_input

from carbonmap import contract as cc
from carbonmap.errors import NotFound
from carbonmap.storage.pyramid import DENSITY_UNITS
from tiles.layer import BadTileRequest, Layer, TileNotFound
from tiles.matrix_sets import MERCATOR_MAX_LAT
from tiles.render import EARTH_RADIUS_M, PyramidRenderer, Sample, supports

BAND = "b1"
"""The one band's name (rio-tiler's convention, so expressions like ``b1*1e-3`` work)."""


class PyramidTileOutside(TileNotFound, TileOutsideBounds):
    """A tile outside the tile matrix set or the grid, or a step not in the pyramid: 404 for carbonmap
    (a ``TileNotFound``) and for titiler (a rio-tiler ``TileOutsideBounds``)."""

    kind = "tile-not-found"


class PyramidPointOutside(NotFound, PointOutsideBounds):
    """A point outside the dataset's grid (404 for carbonmap; rio-tiler's ``PointOutsideBounds``)."""

    kind = "point-outside-bounds"


@dataclass(frozen=True)
class PyramidLayer:
    """What a :class:`PyramidReader` reads: one layer of the cube whose pyramid ``renderer`` draws."""

    renderer: PyramidRenderer
    layer: Layer

    @property
    def units(self) -> str:
        return DENSITY_UNITS if self.layer.variable == cc.EMISSIONS_VAR else "1 (relative 1-sigma)"

    @property
    def description(self) -> str:
        """``emissions total 2024-01-05 (kg km-2 day-1)``."""
        lyr = self.layer
        return f"{lyr.variable} {lyr.sector} {lyr.step.label} ({self.units})"


@attr.s
class PyramidImageData(ImageData):
    """rio-tiler ``ImageData`` that also carries the pyramid :class:`~tiles.render.Sample` its pixels were
    expanded from (``None`` when there is none).  The sample describes ``array`` only as long as ``array``
    is the array the image was built with: :func:`sample_of` checks that (``rescale()`` and
    ``apply_color_formula()`` assign a new one); editing ``array``'s values in place is not detected."""

    sample: Sample | None = attr.ib(default=None, kw_only=True)
    _built: Any = attr.ib(init=False, default=None, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        self._built = self.array


def sample_of(image: ImageData) -> Sample:
    """The cells to colour for an image: a pyramid image's own sample (each cell once), else its pixels
    (band 1, its mask when masked)."""
    if isinstance(image, PyramidImageData) and image.sample is not None and image.array is image._built:
        return image.sample
    band = image.array[0]
    mask = np.ma.getmaskarray(band) if np.ma.is_masked(band) else None
    return Sample.of_pixels(np.asarray(band.data), mask)


def _indexes_ok(indexes: int | Sequence[int] | None) -> None:
    """BadTileRequest unless ``indexes`` names only band 1 (or nothing)."""
    if indexes is None:
        return
    idx = [indexes] if isinstance(indexes, int) else list(indexes)
    if any(i != 1 for i in idx):
        raise BadTileRequest(f"band indexes {idx} do not exist: a pyramid layer has one band, 1 ({BAND})")


def _is_mercator(crs: CRS) -> bool:
    return crs.to_epsg() == 3857


def _check_crs(crs: CRS) -> None:
    if crs.to_epsg() not in (3857, 4326):
        raise BadTileRequest(f"the pyramid reader draws EPSG:4326/OGC:CRS84 or EPSG:3857 images only, not {crs}")


def _size(height: int | None, width: int | None, max_size: int | None, native_h: float, native_w: float
          ) -> tuple[int, int]:
    """(height, width) in pixels: as given (one of them: the other keeps the aspect ratio), else the
    native cell counts limited to ``max_size`` on the longer side."""
    ratio = native_h / native_w if native_w > 0 else 1.0
    if height and width:
        return height, width
    if width:
        return max(1, math.ceil(width * ratio)), width
    if height:
        return height, max(1, math.ceil(height / ratio))
    h, w = max(1, math.ceil(native_h - 1e-6)), max(1, math.ceil(native_w - 1e-6))
    if max_size and max(h, w) > max_size:
        h, w = (max_size, max(1, math.ceil(max_size / ratio))) if ratio > 1 else \
            (max(1, math.ceil(max_size * ratio)), max_size)
    return h, w


@lru_cache(maxsize=64)
def _geometry(grid: cc.Grid) -> tuple[BBox, Affine, int, int]:
    """(bounds, transform, height, width) of the finest level's grid (built once per grid, not per request)."""
    return grid.bounds, Affine(*grid.transform), grid.nlat, grid.nlon


@attr.s
class PyramidReader(BaseReader):
    """rio-tiler reader of one layer of a cube's pyramid (see the module docstring).

    Attributes:
        input: the :class:`PyramidLayer` (renderer + layer) to read.
        tms: tile matrix set of ``tile()`` (Web Mercator or a CRS84/EPSG:4326 one).
    """

    input: PyramidLayer = attr.ib()
    tms: TileMatrixSet = attr.ib(default=WEB_MERCATOR_TMS)

    def __attrs_post_init__(self) -> None:
        self.bounds, self.transform, self.height, self.width = _geometry(self.input.renderer.pyramid.grids[0])
        self.crs = WGS84_CRS

    @property
    def renderer(self) -> PyramidRenderer:
        return self.input.renderer

    @property
    def layer(self) -> Layer:
        return self.input.layer

    @property
    def minzoom(self) -> int:
        """Dataset minimum zoom level (rio-tiler's estimate for ``tms``)."""
        return self._minzoom

    @property
    def maxzoom(self) -> int:
        """Dataset maximum zoom level (rio-tiler's estimate for ``tms``)."""
        return self._maxzoom

    # ---- images -------------------------------------------------------------------------------

    def _image(self, sample: Sample, bounds: BBox, crs: CRS, nodata: float | None,
               expression: str | None) -> ImageData:
        """ImageData (1, h, w) float32 of a sample: the renderer's pixels, off-grid pixels masked."""
        pixels = sample.expand(sample.values)[None]
        outside = sample.outside()
        mask: Any = outside[None] if outside is not None else False
        if nodata is not None:
            mask = mask | (pixels == np.float32(nodata))
        image = PyramidImageData(np.ma.MaskedArray(pixels, mask=mask), bounds=bounds, crs=crs, nodata=nodata,
                                 band_names=[BAND], band_descriptions=[self.input.description],
                                 metadata={"units": self.input.units}, sample=sample)
        return image.apply_expression(expression) if expression else image

    def tile(self, tile_x: int, tile_y: int, tile_z: int, tilesize: int | None = None,
             indexes: int | Sequence[int] | None = None, expression: str | None = None,
             buffer: float | None = None, nodata: float | None = None, **kwargs: Any) -> ImageData:
        """The tile (z, x, y) of ``tms`` as ImageData (1, tilesize, tilesize) float32 (``tilesize`` default:
        the matrix's tile width; ``buffer`` pixels added on each side).

        PyramidTileOutside (404) if the tile is not in the tile matrix set or misses the grid, or the
        step is not in the pyramid.
        """
        tms = self.tms
        if not supports(tms):
            raise BadTileRequest(f"tile matrix set {tms.id!r} is not supported by the pyramid reader; "
                                 "use WebMercatorQuad or a CRS84 one (WorldCRS84Quad)")
        _indexes_ok(indexes)
        if not tms.minzoom <= tile_z <= tms.maxzoom:
            raise PyramidTileOutside(f"zoom {tile_z} is outside {tms.id}, which has zooms "
                                     f"{tms.minzoom} to {tms.maxzoom}")
        matrix = tms.matrix(tile_z)
        if not (0 <= tile_x < matrix.matrixWidth and 0 <= tile_y < matrix.matrixHeight):
            raise PyramidTileOutside(f"tile {tile_z}/{tile_x}/{tile_y} is outside {tms.id}: at zoom {tile_z} "
                                     f"x must be 0 to {matrix.matrixWidth - 1} and y 0 to {matrix.matrixHeight - 1}")
        size = tilesize or matrix.tileWidth
        bounds = tms.xy_bounds(Tile(x=tile_x, y=tile_y, z=tile_z))
        if buffer:
            # a buffered tile is a part of the tile's bounds grown by ``buffer`` pixels
            n = int(buffer)
            if n != buffer or n < 0:
                raise BadTileRequest(f"buffer must be a whole number of pixels >= 0, got {buffer}")
            px = (bounds.right - bounds.left) / size
            py = (bounds.top - bounds.bottom) / size
            grown = (bounds.left - n * px, bounds.bottom - n * py, bounds.right + n * px, bounds.top + n * py)
            return self.part(grown, dst_crs=tms.rasterio_crs, bounds_crs=tms.rasterio_crs, height=size + 2 * n,
                             width=size + 2 * n, nodata=nodata, expression=expression)
        try:
            sample = self.renderer.sample(self.layer, tms, tile_z, tile_x, tile_y, size)
        except TileNotFound as exc:
            raise PyramidTileOutside(str(exc)) from None
        return self._image(sample, bounds, tms.rasterio_crs, nodata, expression)

    def part(self, bbox: BBox, dst_crs: CRS | None = None, bounds_crs: CRS = WGS84_CRS,
             height: int | None = None, width: int | None = None, max_size: int | None = None,
             indexes: int | Sequence[int] | None = None, expression: str | None = None,
             buffer: float | None = None, nodata: float | None = None, **kwargs: Any) -> ImageData:
        """The box ``bbox`` (left, bottom, right, top in ``bounds_crs``) as ImageData in ``dst_crs``
        (EPSG:4326 (default) or EPSG:3857).  Size: ``height``/``width`` if given, else one pixel per cell
        of the finest level, limited to ``max_size`` on the longer side; ``buffer`` pixels on each side."""
        _indexes_ok(indexes)
        dst = dst_crs or self.crs
        _check_crs(dst)
        left, bottom, right, top = bbox
        if bounds_crs != dst:
            if _is_mercator(dst):
                bottom, top = max(bottom, -MERCATOR_MAX_LAT), min(top, MERCATOR_MAX_LAT)
            left, bottom, right, top = transform_bounds(bounds_crs, dst, left, bottom, right, top, densify_pts=21)
        if not (left < right and bottom < top):
            raise BadTileRequest(f"bbox {tuple(bbox)} is empty or inverted; give (left, bottom, right, top)")
        w_deg, s_deg, e_deg, n_deg = (transform_bounds(dst, WGS84_CRS, left, bottom, right, top, densify_pts=21)
                                      if _is_mercator(dst) else (left, bottom, right, top))
        res = self.renderer.pyramid.grids[0].resolution
        h, w = _size(height, width, max_size, (n_deg - s_deg) / res, (e_deg - w_deg) / res)
        if buffer:
            n = int(buffer)
            px, py = (right - left) / w, (top - bottom) / h
            left, bottom, right, top = left - n * px, bottom - n * py, right + n * px, top + n * py
            h, w = h + 2 * n, w + 2 * n
        x = left + (np.arange(w) + 0.5) * (right - left) / w
        y = top - (np.arange(h) + 0.5) * (top - bottom) / h
        if _is_mercator(dst):
            lon, lat = np.degrees(x / EARTH_RADIUS_M), np.degrees(np.arctan(np.sinh(y / EARTH_RADIUS_M)))
        else:
            lon, lat = x, y
        pixel_deg = float(lon[1] - lon[0]) if w > 1 else float(e_deg - w_deg)
        sample = self.renderer.sample_lonlat(self.layer, lon, lat, pixel_deg)
        return self._image(sample, (left, bottom, right, top), dst, nodata, expression)

    def preview(self, max_size: int = 1024, height: int | None = None, width: int | None = None,
                dst_crs: CRS | None = None, **kwargs: Any) -> ImageData:
        """The whole grid as ImageData in ``dst_crs`` (default EPSG:4326), at most ``max_size`` pixels on its
        longer side unless ``height``/``width`` are given."""
        return self.part(self.bounds, dst_crs=dst_crs or self.crs, bounds_crs=self.crs,
                         max_size=None if (height or width) else max_size, height=height, width=width, **kwargs)

    def feature(self, shape: dict, dst_crs: CRS | None = None, shape_crs: CRS = WGS84_CRS,
                **kwargs: Any) -> ImageData:
        """The bounding box of a GeoJSON feature as ImageData, pixels outside the shape masked."""
        shape = _validate_shape_input(shape)
        dst = dst_crs or shape_crs
        img = self.part(feature_bounds(shape), dst_crs=dst, bounds_crs=shape_crs, **kwargs)
        if dst != shape_crs:
            shape = transform_geom(shape_crs, dst, shape)
        outside = rasterize([shape], out_shape=(img.height, img.width), transform=img.transform, all_touched=True,
                            default_value=0, fill=1, dtype="uint8").astype(bool)
        img.cutline_mask = outside
        img.array.mask = np.where(~outside, img.array.mask, True)
        return img

    def point(self, lon: float, lat: float, coord_crs: CRS = WGS84_CRS,
              indexes: int | Sequence[int] | None = None, expression: str | None = None,
              nodata: float | None = None, **kwargs: Any) -> PointData:
        """The value of the finest level's cell under (lon, lat) (in ``coord_crs``) as PointData.

        PyramidPointOutside (404) off the grid; PyramidTileOutside if the step is not in the pyramid.
        """
        _indexes_ok(indexes)
        x, y = (lon, lat)
        if coord_crs != self.crs:
            xs, ys = transform(coord_crs, self.crs, [lon], [lat])
            x, y = xs[0], ys[0]
        grid = self.renderer.pyramid.grids[0]
        row, col = (int(v[0]) for v in grid.cell_index(np.array([x]), np.array([y])))
        if row < 0 or col < 0:
            raise PyramidPointOutside(f"point ({lon}, {lat}) is outside dataset {self.layer.dataset!r} "
                                      f"(bounds {grid.bounds})")
        try:
            value = self.renderer.cells(self.layer, 0, np.array([row]), np.array([col]))[0, 0]
        except TileNotFound as exc:
            raise PyramidTileOutside(str(exc)) from None
        arr = np.ma.MaskedArray(np.array([value], np.float32),
                                mask=[nodata is not None and bool(value == np.float32(nodata))])
        pts = PointData(arr, band_names=[BAND], band_descriptions=[self.input.description], coordinates=(lon, lat),
                        crs=coord_crs, nodata=nodata, pixel_location=(col, row),
                        metadata={"units": self.input.units})
        return pts.apply_expression(expression) if expression else pts

    # ---- metadata -----------------------------------------------------------------------------

    def info(self) -> Info:
        """Bounds, CRS, band and data type of the layer, plus the pyramid's levels (degrees per cell)."""
        pyr = self.renderer.pyramid
        return Info.model_validate({
            "bounds": self.bounds, "crs": CRS_to_uri(self.crs) or self.crs.to_wkt(),
            "band_metadata": [(BAND, {"units": self.input.units})],
            "band_descriptions": [(BAND, self.input.description)], "dtype": "float32", "nodata_type": "Mask",
            # additional info (not in rio-tiler's model, as XarrayReader adds its own)
            "name": self.layer.variable, "dataset": self.layer.dataset, "sector": self.layer.sector,
            "date": self.layer.step.label, "count": 1, "width": self.width, "height": self.height,
            "levels": list(pyr.meta.levels)})

    def statistics(self, categorical: bool = False, categories: list[float] | None = None,
                   percentiles: list[int] | None = None, hist_options: dict | None = None,
                   max_size: int = 1024, **kwargs: Any) -> dict[str, BandStatistics]:
        """Statistics of the layer over :meth:`preview` (``max_size`` pixels on the longer side)."""
        image = self.preview(max_size=max_size, **kwargs)
        return image.statistics(categorical=categorical, categories=categories, percentiles=percentiles,
                                hist_options=hist_options or {})
