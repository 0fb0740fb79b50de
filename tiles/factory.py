"""The tile endpoints, as a titiler-style factory: ``CarbonTilerFactory(registry_dependency=...).router``.

Routes (the router carries the ``/tiles`` prefix; include it without another prefix):

- ``GET /tiles/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}.{format}`` a PNG/WebP map tile (256 px)
- ``GET /tiles/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}@2x.{format}`` the same tile at 512 px (high-DPI)
- ``GET /tiles/{dataset}/{tileMatrixSetId}/tilejson.json``         TileJSON 3.0.0 (``tilesize=512``: @2x)
- ``GET /tiles/{dataset}/WMTSCapabilities.xml``                     OGC WMTS 1.0.0 with a Time dimension and a
  PNG ``LegendURL`` per layer style (``tilesize=512``: @2x tiles, ``WebMercatorQuad@2x``)
- ``GET /tiles/{dataset}/legend``                                   legend as JSON or PNG (readable numbers)
- ``GET /tiles/colormaps``, ``GET /tiles/colormaps/{name}``          the colormap names and ramps

Default display ranges of emission layers are the layer's own 2nd..99.5th percentile over the cube
(:mod:`tiles.scales`), computed once per served cube version and layer.  On that default scale values
below the range's low end are not drawn (transparent; the legend says ``below: "not drawn"``), so the
dust downscaling leaves around scattered sources does not paint the map; an explicit ``rescale`` clamps
them to the lowest colour instead.

Tiles come from the cube's pyramid (:mod:`pipelines.pyramid`, rendered by :mod:`tiles.render`:
index gathers from cached decoded chunks, ~1-3 ms) when it has one, else from the rio-tiler reader
(:mod:`tiles.reader`, ~100 ms).  Both show emissions as density, kg CO2 km-2 day-1.  ``date`` is a
day (``YYYY-MM-DD``), a month (``YYYY-MM``, monthly mean) or a year (``YYYY``, annual mean).

HTTP caching: strong ETags and conditional GET everywhere.  ``Cache-Control`` is
``public, max-age=31536000, immutable`` when the tile can never change under its URL, i.e. when
(a) the request carries ``v`` equal to the dataset version token (TileJSON and WMTS templates add
it; a rebuilt cube gets a new token and so new URLs), or (b) the cube declares the attribute
``carbonmap_final_until`` (ISO date, the last day that later builds will not revise) and the whole
time step ends on or before it.  Otherwise ``public, max-age=<max_age>``.

Releases (issue 7): every endpoint takes ``release=`` (a release id, ``r0002``) or ``as_of=`` (an
ISO date-time) and reads that release of the dataset (default: the current one; see
``api.deps.resolve_cube``).  Responses name the release in ``X-Carbonmap-Release`` (TileJSON and
legend bodies too); ETags, the tile cache, the field cache, display ranges and the ``v`` token
include the release id, so a newly published release never answers from a stale cached tile.  A
tile asked for with an explicit ``release=`` can never change: it is served ``immutable``.

Datasets are looked up by id in the registry the ``registry_dependency`` returns; there is no
path or URL parameter.  Errors are raised as LookupError (404: unknown dataset, date outside the
cube, tile outside the tile matrix set or grid) and ValueError/ContractError (422: bad date,
sector, variable, scale, rescale, colormap, format); the app turns them into problem+json.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from functools import lru_cache
from typing import Annotated, Any, cast
from urllib.parse import urlencode

import numpy as np
from attrs import define, field
from fastapi import APIRouter, Depends, Path, Query
from morecantile import TileMatrixSet
from morecantile import tms as morecantile_tms
from rio_tiler.utils import CRS_to_uri
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from titiler.core.factory import BaseFactory
from titiler.core.models.mapbox import TileJSON

from api.deps import AsOfQuery, Dependency, ReleaseQuery, release_headers, resolve_cube
from carbonmap import contract as cc
from carbonmap.registry import Cube, Registry
from carbonmap.settings import Settings, get_settings
from pipelines.pyramid import cube_version_of, open_pyramid, percentiles, pyramid_path
from tiles import colormap as cm
from tiles import scales
from tiles import wmts as wmts_xml
from tiles.cache import EncodedTile, TileCache, etag_matches, make_etag
from tiles.chunks import ChunkCache
from tiles.colormaps import add_colormap_routes
from tiles.fields import FieldCache
from tiles.layer import (
    LAYER_SECTORS,
    VARIABLES,
    BadTileRequest,
    Layer,
    TileNotFound,
    TimeStep,
    cube_version,
    parse_time,
)
from tiles.params import (
    E404_DATASET,
    E404_DATE,
    E422,
    PIXEL_RATIO_PARAM,
    SUPPORTED_TMS,
    ColormapQuery,
    DatasetPath,
    RescaleQuery,
    ScaleQuery,
    SectorQuery,
    TileSizeQuery,
    TimeQuery,
    TmsPath,
    VariableQuery,
    VersionQuery,
    pixel_ratio,
    tile_ratio,
)
from tiles.reader import CubeLayerReader, density
from tiles.render import PyramidRenderer, Sample, supports

EARTH_M_PER_DEGREE = 2 * math.pi * 6378137.0 / 360.0
"""Metres per degree of longitude at the equator on the Web Mercator sphere."""
IMMUTABLE = "public, max-age=31536000, immutable"
PYRAMID_RECHECK_S = 2.0
"""How often (seconds) the server looks again whether a cube's pyramid appeared or changed."""
MAX_RENDERERS = 32
"""Pyramid renderers kept (one per dataset release asked for)."""
FINAL_UNTIL_ATTR = "carbonmap_final_until"
"""Cube attribute (ISO date): days up to it will never be revised, so their tiles are immutable."""


@lru_cache(maxsize=16)
def _tms(tms_id: str) -> TileMatrixSet:
    """A tile matrix set by id, built once (morecantile's ``tms.get`` deep-copies it on every call)."""
    return morecantile_tms.get(tms_id)


@lru_cache(maxsize=16)
def _crs_uri(tms_id: str) -> str | None:
    return CRS_to_uri(morecantile_tms.get(tms_id).rasterio_crs)


def crs_uri(tms: TileMatrixSet) -> str | None:
    """OGC URI of a tile matrix set's CRS (for the ``Content-Crs`` header), memoised."""
    return _crs_uri(tms.id)


def served_version(cube: Cube) -> str:
    """The cube's build version and release id: changes with every rebuild and every published release."""
    return f"{cube_version(cube)}@{cube.release}" if cube.release else cube_version(cube)


def version_token(cube: Cube) -> str:
    """Short token of the served cube version (release included), for cache-busting ``v=`` URL parameters."""
    return make_etag("version", cube.id, served_version(cube)).strip('"')[:16]


class ReleaseFieldCache(FieldCache):
    """A :class:`FieldCache` whose keys include the release id (two releases may share a build time)."""

    @staticmethod
    def key(cube: Cube, layer: Layer) -> Any:
        return (*FieldCache.key(cube, layer), cube.release)


async def registry_from_app_state(request: Request) -> Registry:
    """Default registry dependency: ``request.app.state.registry`` (``async``: no thread-pool hop)."""
    registry = getattr(request.app.state, "registry", None)
    if registry is None:
        raise RuntimeError("no registry on app.state; set app.state.registry or pass registry_dependency")
    return registry


@define(kw_only=True)
class CarbonTilerFactory(BaseFactory):
    """Tile, TileJSON and legend endpoints over the registry's cubes (titiler ``BaseFactory`` style).

    Attributes:
        registry_dependency: FastAPI dependency returning the :class:`Registry` (default: app.state.registry).
        reader: fallback rio-tiler reader class built as ``reader(cube=, layer=, fields=, tms=)``.
        tile_cache: encoded-tile LRU (default sized by ``Settings.tile_cache_items``).
        chunks: decoded pyramid-chunk LRU (default sized by ``Settings.chunk_cache_bytes``).
        fields: decoded whole-field cache of the fallback reader (default ``Settings.chunk_cache_bytes``;
            only used for cubes without a pyramid).
        use_pyramid: False forces the fallback reader (benchmarks, comparisons).
        max_age: seconds for ``Cache-Control: public, max-age=...``.
        tilesize: tile edge in pixels.
    """

    router: APIRouter = field(factory=lambda: APIRouter(prefix="/tiles", tags=["Tiles"]))
    registry_dependency: Dependency[Registry] = registry_from_app_state
    reader: type[CubeLayerReader] = CubeLayerReader
    tile_cache: TileCache = field(factory=lambda: TileCache(get_settings().tile_cache_items))
    fields: FieldCache = field(factory=lambda: ReleaseFieldCache(get_settings().chunk_cache_bytes))
    chunks: ChunkCache = field(factory=lambda: ChunkCache(get_settings().chunk_cache_bytes))
    use_pyramid: bool = True
    supported_tms: tuple[str, ...] = SUPPORTED_TMS
    max_age: int = 3600
    tilesize: int = 256
    attribution: str = ("carbonmap — fossil CO2 from national inventories (Global Carbon Budget 2025) "
                        "downscaled with spatial proxies; CC-BY-4.0")
    _ranges: dict[tuple[str, str, str, str], tuple[float, float]] = field(init=False, factory=dict)
    _ranges_lock: threading.Lock = field(init=False, factory=threading.Lock)
    _quantiles: dict[tuple[str, str, str, str], list[float]] = field(init=False, factory=dict)
    _pyramids: dict[tuple[str, str | None], tuple[tuple[str, int | None], PyramidRenderer | None, float]] = field(
        init=False, factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> CarbonTilerFactory:
        """A factory whose caches are sized by ``settings`` (the app's injected settings, not the process's)."""
        return cls(tile_cache=TileCache(settings.tile_cache_items),
                   fields=ReleaseFieldCache(settings.chunk_cache_bytes),
                   chunks=ChunkCache(settings.chunk_cache_bytes), **kwargs)

    # ---- helpers ------------------------------------------------------------------------------

    def get_tms(self, tms_id: str) -> TileMatrixSet:
        if tms_id not in self.supported_tms:
            raise TileNotFound(f"unknown tile matrix set {tms_id!r}; use one of: {', '.join(self.supported_tms)}")
        return _tms(tms_id)

    @staticmethod
    def check_tile_index(tms: TileMatrixSet, z: int, x: int, y: int) -> None:
        """TileNotFound unless (z, x, y) exists in the tile matrix set (no data read)."""
        if not tms.minzoom <= z <= tms.maxzoom:
            raise TileNotFound(f"zoom {z} is outside {tms.id}, which has zooms {tms.minzoom} to {tms.maxzoom}")
        matrix = tms.matrix(z)
        if not (0 <= x < matrix.matrixWidth and 0 <= y < matrix.matrixHeight):
            raise TileNotFound(f"tile {z}/{x}/{y} is outside {tms.id}: at zoom {z} x must be 0 to "
                               f"{matrix.matrixWidth - 1} and y 0 to {matrix.matrixHeight - 1}")

    def pyramid_for(self, cube: Cube) -> PyramidRenderer | None:
        """The renderer of the cube's pyramid, or None (no pyramid, stale, or being updated)."""
        if not self.use_pyramid:
            return None
        slot = (cube.id, cube.release)  # one renderer per served release (pinned releases included)
        hit = self._pyramids.get(slot)
        now = time.monotonic()
        if hit is not None and hit[0][0] == served_version(cube) and now - hit[2] < PYRAMID_RECHECK_S:
            return hit[1]
        try:
            mtime: int | None = (pyramid_path(cube.path) / "zarr.json").stat().st_mtime_ns
        except OSError:
            mtime = None
        state = (served_version(cube), mtime)
        if hit is not None and hit[0] == state:
            self._pyramids[slot] = (state, hit[1], now)
            return hit[1]
        pyr = open_pyramid(cube.path, cube_version_of(cube.attrs)) if mtime is not None else None
        renderer = PyramidRenderer(pyr, self.chunks) if pyr is not None else None
        self._pyramids[slot] = (state, renderer, now)
        while len(self._pyramids) > MAX_RENDERERS:  # oldest first (dicts keep insertion order)
            self._pyramids.pop(next(iter(self._pyramids)))
        return renderer

    def _middle_field(self, cube: Cube, sector: str, variable: str) -> np.ndarray:
        """The dataset's middle day in display units (fallback statistics when there is no pyramid)."""
        mid = cube.times[len(cube.times) // 2].date()
        f = self.fields.get(cube, Layer(cube.id, mid, sector, variable))
        return density(f, cube.grid) if variable == cc.EMISSIONS_VAR else f

    def default_range(self, cube: Cube, sector: str, variable: str) -> tuple[float, float]:
        """Display range of a layer: the 2nd..99.5th percentile of its own positive values over the cube
        (:func:`tiles.scales.data_range`), computed once per served cube version and layer."""
        style = cm.DEFAULT_STYLES[variable]
        if style.rescale is not None:
            return style.rescale
        key = (cube.id, served_version(cube), sector, variable)
        with self._ranges_lock:
            if key in self._ranges:
                return self._ranges[key]
        renderer = self.pyramid_for(cube)
        rng = scales.data_range(cube, sector, variable, renderer.pyramid if renderer is not None else None,
                                style.scale)
        with self._ranges_lock:
            self._ranges[key] = rng
        return rng

    def quantiles(self, cube: Cube, sector: str, variable: str) -> list[float]:
        """Percentiles 0..100 of the layer's positive values (the pyramid's, else the middle day's)."""
        renderer = self.pyramid_for(cube)
        if renderer is not None:
            stored = renderer.pyramid.meta.quantiles.get(variable, {}).get(sector)
            if stored is not None:
                return list(stored)
        key = (cube.id, served_version(cube), sector, variable)
        with self._ranges_lock:
            if key in self._quantiles:
                return self._quantiles[key]
        q = percentiles(self._middle_field(cube, sector, variable))
        with self._ranges_lock:
            self._quantiles[key] = q
        return q

    def color_scale(self, cube: Cube, sector: str, variable: str, scale: str | None, rescale: str | None,
                    colormap_name: str | None) -> cm.ColorScale:
        style = cm.DEFAULT_STYLES[variable]
        chosen_scale = scale or style.scale
        if chosen_scale not in cm.SCALES:
            raise BadTileRequest(f"unknown scale {chosen_scale!r}; use scale=log, scale=linear or scale=quantile")
        if chosen_scale == "quantile":
            if rescale is not None and rescale.strip():
                raise BadTileRequest("rescale does not apply to scale=quantile (its breaks are the data's "
                                     "percentiles); drop rescale or use scale=log")
            cm.palette(colormap_name or style.colormap_name)
            return cm.ColorScale.quantile(self.quantiles(cube, sector, variable),
                                          colormap_name or style.colormap_name)
        rng = cm.parse_rescale(rescale)
        from_data = rng is None and style.rescale is None  # the default range, from the layer's own values
        if rng is None:
            rng = self.default_range(cube, sector, variable)
            if chosen_scale == "log" and rng[0] <= 0:
                rng = (max(rng[1] / 1e3, 1e-6), rng[1])
        return cm.ColorScale(cast(cm.Scale, chosen_scale),  # one of cm.SCALES, checked above
                             rng[0], rng[1], colormap_name or style.colormap_name, hide_below=from_data)

    def render(self, cube: Cube, layer: Layer, tms: TileMatrixSet, z: int, x: int, y: int,
               tilesize: int | None = None) -> Sample:
        """One tile's values in display units, as a :class:`~tiles.render.Sample`: pyramid if possible.
        ``tilesize`` (pixels, default ``self.tilesize``): 2x for high-DPI (``@2x``) tiles."""
        size = tilesize or self.tilesize
        renderer = self.pyramid_for(cube) if supports(tms) else None
        if renderer is not None:
            return renderer.sample(layer, tms, z, x, y, size)
        with self.reader(cube=cube, layer=layer, fields=self.fields, tms=tms) as src:
            image = src.tile(x, y, z, tilesize=size)
        band = image.array[0]
        mask = np.ma.getmaskarray(band) if np.ma.is_masked(band) else None
        return Sample.of_pixels(np.asarray(band.data), mask)

    def renderer_id(self, cube: Cube, tms: TileMatrixSet) -> str:
        renderer = self.pyramid_for(cube) if supports(tms) else None
        return "pyramid" if renderer is not None else self.reader.__qualname__

    @staticmethod
    def is_final(cube: Cube, step: TimeStep) -> bool:
        """True if the cube declares every day of ``step`` final (attribute ``carbonmap_final_until``)."""
        final = cube.attrs.get(FINAL_UNTIL_ATTR)
        if not final:
            return False
        try:
            return step.end <= dt.date.fromisoformat(str(final)[:10])
        except ValueError:
            return False

    def maxzoom_for(self, cube: Cube, tms: TileMatrixSet) -> int:
        """Zoom where a grid cell spans ~4 pixels (tiles deeper than this add no detail)."""
        res = cube.grid.resolution
        res_crs = res * EARTH_M_PER_DEGREE if tms.crs.to_epsg() == 3857 else res
        return min(tms.maxzoom, tms.zoom_for_res(res_crs, zoom_level_strategy="upper") + 2)

    def tile_template(self, request: Request, dataset: str, tms_id: str | None, zxy: tuple[str, str, str], fmt: str,
                      tilesize: int) -> str:
        """Absolute tile URL template (no query) with placeholders ``zxy``; ``@2x`` for 512 px tiles."""
        ratio = tile_ratio(tilesize)
        z, x, y = zxy
        if ratio == 1:
            return self.url_for(request, "tile", dataset=dataset, tileMatrixSetId=tms_id, z=z, x=x, y=y, format=fmt)
        return self.url_for(request, "tile_hidpi", dataset=dataset, tileMatrixSetId=tms_id, z=z, x=x, y=y,
                            pixel_ratio=str(ratio), format=fmt)

    def cache_headers(self, etag: str, immutable: bool = False) -> dict[str, str]:
        return {"ETag": etag, "Cache-Control": IMMUTABLE if immutable else f"public, max-age={self.max_age}"}

    # ---- routes -------------------------------------------------------------------------------

    def register_routes(self) -> None:
        cm.warm_palettes()  # once per process, in the background
        add_colormap_routes(self.router, self.operation_prefix)  # before /{dataset}/...: "colormaps" is no dataset
        self.tile()
        self.tilejson()
        self.wmts()
        self.legend()

    def tile(self) -> None:
        """Register the map tile endpoint."""

        route: dict[str, Any] = {
            "summary": "A map tile of one day, sector and variable",
            "description": (
                "Renders one tile (256x256; 512x512 at `@2x`, for high-DPI screens) of the dataset's daily field, "
                "reprojected by rio-tiler to the tile matrix set. Cells with zero emissions or no data are transparent, so an ocean tile is a fully "
                "transparent image, not an error. Colours: `scale` (log/linear) from `rescale` min to max on "
                "`colormap_name`; see the legend endpoint for the breaks. Without `rescale`, emissions use the "
                "layer's own 2nd..99.5th percentile and values below its low end are not drawn (transparent); "
                "with `rescale` they take the lowest colour. Responses carry a strong `ETag` and "
                "`Cache-Control`; send `If-None-Match` to get `304 Not Modified`.\n\n"
                "Example: `/tiles/demo-2024/WebMercatorQuad/2/2/1.png?date=2024-03-01&sector=power`, "
                "`/tiles/demo-2024/WebMercatorQuad/2/2/1@2x.png?date=2024-03-01&sector=power` (512 px)"),
            "response_class": Response,
            "responses": {
                200: {"description": "The tile image (PNG: paletted with transparency; WebP: RGBA).",
                      "content": {"image/png": {"schema": {"type": "string", "format": "binary"}},
                                  "image/webp": {"schema": {"type": "string", "format": "binary"}}}},
                304: {"description": "Not Modified: the `If-None-Match` ETag is current."},
                404: E404_DATE, 422: E422,
            },
        }

        def tile(
            request: Request,
            dataset: DatasetPath,
            tileMatrixSetId: TmsPath,
            z: Annotated[int, Path(description="Zoom level of the tile matrix set.", examples=[2])],
            x: Annotated[int, Path(description="Tile column (0 .. matrixWidth-1).", examples=[2])],
            y: Annotated[int, Path(description="Tile row (0 .. matrixHeight-1).", examples=[1])],
            format: Annotated[str, Path(description="Image format: `png` or `webp`.", examples=["png"],
                                        json_schema_extra={"enum": list(cm.FORMATS)})],
            date: TimeQuery,
            sector: SectorQuery = cc.TOTAL,
            variable: VariableQuery = cc.EMISSIONS_VAR,
            scale: ScaleQuery = None,
            rescale: RescaleQuery = None,
            colormap_name: ColormapQuery = None,
            v: VersionQuery = None,
            release: ReleaseQuery = None,
            as_of: AsOfQuery = None,
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> Response:
            tilesize = self.tilesize * pixel_ratio(request.path_params.get("pixel_ratio"))
            cube = resolve_cube(registry, dataset, release, as_of)
            tms = self.get_tms(tileMatrixSetId)
            if format not in cm.FORMATS:
                raise BadTileRequest(f"unknown tile format {format!r}; use .png or .webp")
            layer = Layer.of(cube, parse_time(date), sector, variable)
            self.check_tile_index(tms, z, x, y)
            style = self.color_scale(cube, sector, variable, scale, rescale, colormap_name)
            renderer_id = self.renderer_id(cube, tms)
            etag = make_etag("tile", cube.id, served_version(cube), layer.step.label, sector, variable, tms.id, z, x,
                             y, format, style.key(), tilesize, renderer_id)
            immutable = (release is not None or (v is not None and v == version_token(cube))
                         or self.is_final(cube, layer.step))
            if etag_matches(request.headers.get("if-none-match"), etag):
                return Response(status_code=304, headers={**self.cache_headers(etag, immutable),
                                                          **release_headers(cube)})
            encoded = self.tile_cache.get(etag)
            state = "hit"
            if encoded is None:
                state = "miss"
                sample = self.render(cube, layer, tms, z, x, y, tilesize)
                indices = sample.expand(cm.to_indices(sample.values, style, mask=sample.mask))
                encoded = EncodedTile(cm.encode(indices, style.colormap_name, format), cm.FORMATS[format], etag)
                self.tile_cache.put(encoded)
            headers = {**self.cache_headers(etag, immutable), "X-Tile-Cache": state,
                       "X-Tile-Renderer": renderer_id, **release_headers(cube)}
            if uri := crs_uri(tms):
                headers["Content-Crs"] = f"<{uri}>"
            return Response(encoded.content, media_type=encoded.media_type, headers=headers)

        # "@2x" first: the plain path would take "1@2x" as the row and refuse it as a number
        self.router.add_api_route("/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}@{pixel_ratio}x.{format}", tile,
                                  methods=["GET"], name="tile_hidpi", operation_id=f"{self.operation_prefix}getTileHiDpi",
                                  openapi_extra={"parameters": [PIXEL_RATIO_PARAM]}, **route)
        self.router.add_api_route("/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}.{format}", tile, methods=["GET"],
                                  name="tile", operation_id=f"{self.operation_prefix}getTile", **route)

    def tilejson(self) -> None:
        """Register the TileJSON endpoint."""

        @self.router.get(
            "/{dataset}/{tileMatrixSetId}/tilejson.json",
            operation_id=f"{self.operation_prefix}getTileJSON",
            summary="TileJSON 3.0.0 for one layer",
            description=(
                "A TileJSON 3.0.0 document whose `tiles` URL template carries the date, sector, variable and any "
                "style parameters given here, with the grid's bounds and a zoom range suited to its resolution. "
                "`date` defaults to the dataset's last day.\n\n"
                "Example: `/tiles/demo-2024/WebMercatorQuad/tilejson.json?date=2024-03-01&sector=total`"),
            response_model=TileJSON,
            response_model_exclude_none=True,
            responses={200: {"description": "TileJSON document"}, 404: E404_DATASET, 422: E422},
        )
        def tilejson(
            request: Request,
            response: Response,
            dataset: DatasetPath,
            tileMatrixSetId: TmsPath,
            date: Annotated[str | None, Query(description="UTC day `YYYY-MM-DD`, month `YYYY-MM` or year `YYYY`; "
                                                          "default: the last day.",
                                              examples=["2024-03-01"])] = None,
            sector: SectorQuery = cc.TOTAL,
            variable: VariableQuery = cc.EMISSIONS_VAR,
            scale: ScaleQuery = None,
            rescale: RescaleQuery = None,
            colormap_name: ColormapQuery = None,
            tile_format: Annotated[str, Query(description="Tile format in the template: `png` or `webp`.",
                                              examples=["png"], json_schema_extra={"enum": list(cm.FORMATS)})] = "png",
            tilesize: TileSizeQuery = 256,
            release: ReleaseQuery = None,
            as_of: AsOfQuery = None,
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> dict[str, Any]:
            cube = resolve_cube(registry, dataset, release, as_of)
            pinned = cube.release if (release is not None or as_of is not None) else None
            tms = self.get_tms(tileMatrixSetId)
            if tile_format not in cm.FORMATS:
                raise BadTileRequest(f"unknown tile_format {tile_format!r}; use png or webp")
            step = parse_time(date) if date is not None else TimeStep("day", cube.end)
            Layer.of(cube, step, sector, variable)
            style = self.color_scale(cube, sector, variable, scale, rescale, colormap_name)
            query: dict[str, str] = {"date": step.label, "sector": sector, "variable": variable}
            for key, value in (("scale", scale), ("rescale", rescale), ("colormap_name", colormap_name)):
                if value is not None:
                    query[key] = value
            if pinned:
                query["release"] = pinned
            query["v"] = version_token(cube)
            tiles_url = self.tile_template(request, dataset, tms.id, ("{z}", "{x}", "{y}"), tile_format, tilesize)
            legend_url = self.url_for(request, "legend", dataset=dataset)
            w, s, e, n = cube.grid.bounds
            if tms.crs.to_epsg() == 3857:
                s, n = max(s, -85.0511287798066), min(n, 85.0511287798066)
            minzoom = tms.minzoom
            legend_query = {k: val for k, val in query.items() if k not in ("date", "v")}
            response.headers.update({"Cache-Control": IMMUTABLE if release is not None
                                     else f"public, max-age={self.max_age}", **release_headers(cube)})
            return {
                "tilejson": "3.0.0",
                "name": f"{cube.id} {sector} {variable} {step.label}",
                "description": f"{cube.attrs.get('title', cube.id)}: fossil CO2 {variable}, sector {sector}, "
                               f"{step.label} ({cm.DEFAULT_STYLES[variable].long_units})" + (
                                   f"; values {hidden} (transparent)" if (hidden := style.below_label()) else ""),
                "version": "1.0.0",
                "attribution": self.attribution,
                "scheme": "xyz",
                "tiles": [f"{tiles_url}?{urlencode(query)}"],
                "minzoom": minzoom,
                "maxzoom": max(minzoom, self.maxzoom_for(cube, tms)),
                "bounds": [w, s, e, n],
                "center": ((w + e) / 2, (s + n) / 2, minzoom),
                "legend_url": f"{legend_url}?{urlencode(legend_query)}",
                "carbonmap": {"dataset": cube.id, "date": step.label, "sector": sector, "variable": variable,
                              "scale": style.scale, "rescale": [style.vmin, style.vmax],
                              "colormap_name": style.colormap_name, "units": cm.DEFAULT_STYLES[variable].units,
                              "time_range": [cube.start.isoformat(), cube.end.isoformat()],
                              "release": cube.release, "tilesize": tilesize,
                              "below": "not drawn" if style.below_label() else "lowest colour"},
            }

    def wmts(self) -> None:
        """Register the OGC WMTS GetCapabilities endpoint."""

        @self.router.get(
            "/{dataset}/WMTSCapabilities.xml",
            operation_id=f"{self.operation_prefix}getWMTSCapabilities",
            summary="OGC WMTS 1.0.0 capabilities with a Time dimension",
            description=(
                "A RESTful WMTS GetCapabilities document: one layer per emission layer (`total` and each sector) "
                "and per sector's uncertainty (`<sector>_uncertainty`), the `WebMercatorQuad` tile matrix set "
                "and a `Time` dimension listing every day, month (monthly mean) and year (annual mean). Open it "
                "in QGIS or GDAL (`gdalinfo WMTS:<url>,layer=total`).\n\n"
                "Example: `/tiles/demo-2024/WMTSCapabilities.xml?scale=log`"),
            response_class=Response,
            responses={200: {"description": "WMTS capabilities XML",
                             "content": {"application/xml": {"schema": {"type": "string"}}}},
                       404: E404_DATASET, 422: E422},
        )
        def wmts(
            request: Request,
            dataset: DatasetPath,
            scale: ScaleQuery = None,
            rescale: RescaleQuery = None,
            colormap_name: ColormapQuery = None,
            tile_format: Annotated[str, Query(description="Tile format of the layers: `png` or `webp`.",
                                              examples=["png"], json_schema_extra={"enum": list(cm.FORMATS)})] = "png",
            tilesize: TileSizeQuery = 256,
            release: ReleaseQuery = None,
            as_of: AsOfQuery = None,
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> Response:
            cube = resolve_cube(registry, dataset, release, as_of)
            pinned = {"release": cube.release} if (release is not None or as_of is not None) and cube.release else {}
            tms = self.get_tms("WebMercatorQuad")
            if tile_format not in cm.FORMATS:
                raise BadTileRequest(f"unknown tile_format {tile_format!r}; use png or webp")
            hides = self.color_scale(cube, cc.TOTAL, cc.EMISSIONS_VAR, scale, rescale, colormap_name).hide_below
            style_query = {k: val for k, val in (("scale", scale), ("rescale", rescale),
                                                  ("colormap_name", colormap_name)) if val is not None}
            tiles_url = self.tile_template(request, dataset, tms.id, ("{TileMatrix}", "{TileCol}", "{TileRow}"),
                                           tile_format, tilesize)
            legend_base = self.url_for(request, "legend", dataset=dataset)
            token = version_token(cube)
            layers = []
            for variable, sectors in ((cc.EMISSIONS_VAR, LAYER_SECTORS), (cc.UNCERTAINTY_VAR, cc.SECTORS)):
                for sector in sectors:
                    query = {"sector": sector, "variable": variable, **pinned, "v": token,
                             **(style_query if variable == cc.EMISSIONS_VAR else {})}
                    ident = sector if variable == cc.EMISSIONS_VAR else f"{sector}_uncertainty"
                    units = cm.DEFAULT_STYLES[variable].long_units
                    legend_query = {"sector": sector, "variable": variable, **pinned,
                                    **(style_query if variable == cc.EMISSIONS_VAR else {})}
                    legend_url = f"{legend_base}?{urlencode({**legend_query, 'format': 'png'})}"
                    below = ("; values below the low end of the layer's default range (its legend's first break) "
                             "are not drawn (transparent)") if hides and variable == cc.EMISSIONS_VAR else ""
                    layers.append(wmts_xml.WmtsLayer(
                        ident, f"{cube.id}: {sector} {variable}",
                        f"Fossil CO2 {variable} ({units}), sector {sector}{below}; legend: {legend_url}",
                        f"{tiles_url}?{urlencode(query)}&date={{Time}}", legend_url, cm.LEGEND_PNG_SIZE))
            days = [t.strftime("%Y-%m-%d") for t in cube.times]
            months = list(dict.fromkeys(t.strftime("%Y-%m") for t in cube.times))
            years = list(dict.fromkeys(t.strftime("%Y") for t in cube.times))
            w, s, e, n = cube.grid.bounds
            body = wmts_xml.capabilities_xml(
                title=f"carbonmap {cube.id}", abstract=str(cube.attrs.get("title", cube.id)),
                capabilities_url=str(request.url), layers=layers, tms=tms,
                maxzoom=max(tms.minzoom, self.maxzoom_for(cube, tms)),
                bounds=(w, max(s, -85.0511287798066), e, min(n, 85.0511287798066)),
                times=days + months + years, default_time=days[-1], media_type=cm.FORMATS[tile_format],
                tilesize=tilesize)
            etag = make_etag("wmts", cube.id, served_version(cube), str(request.url))
            headers = {**self.cache_headers(etag, immutable=release is not None), **release_headers(cube)}
            if etag_matches(request.headers.get("if-none-match"), etag):
                return Response(status_code=304, headers=headers)
            return Response(body, media_type="application/xml", headers=headers)

    def legend(self) -> None:
        """Register the legend endpoint."""

        @self.router.get(
            "/{dataset}/legend",
            operation_id=f"{self.operation_prefix}getLegend",
            summary="Legend (class breaks, colours and units) of a layer",
            description=(
                "The colour scale a tile request with the same parameters uses: class breaks (equal steps on the "
                "log or linear scale), one colour per class and the units. JSON by default, a colour-bar PNG "
                "with `format=png`. `below` says how values under the first break are drawn: `not drawn` "
                "(transparent; the default scale of emissions, also in `below_label` and on the PNG) or "
                "`lowest colour` (an explicit `rescale`).\n\nExample: `/tiles/demo-2024/legend?sector=power&format=png`"),
            responses={200: {"description": "The legend",
                             "content": {"application/json": {"example": {
                                 "scale": "log", "colormap_name": "inferno", "rescale": [1000.0, 10000000.0],
                                 "units": "kg day-1", "breaks": [1000.0, 10000.0, 100000.0, 1000000.0, 10000000.0],
                                 "below": "not drawn", "below_label": "below 1k kg km-2 day-1: not drawn",
                                 "classes": [{"min": 1000.0, "max": 10000.0, "label": "1k – 10k",
                                              "color": "#1b0c41"}]}},
                                 "image/png": {"schema": {"type": "string", "format": "binary"}}}},
                       404: E404_DATASET, 422: E422},
        )
        def legend(
            dataset: DatasetPath,
            sector: SectorQuery = cc.TOTAL,
            variable: VariableQuery = cc.EMISSIONS_VAR,
            scale: ScaleQuery = None,
            rescale: RescaleQuery = None,
            colormap_name: ColormapQuery = None,
            classes: Annotated[int, Query(ge=1, le=64, description="Number of classes.", examples=[6])] = 6,
            format: Annotated[str, Query(description="`json` or `png`.", examples=["json"],
                                         json_schema_extra={"enum": ["json", "png"]})] = "json",
            release: ReleaseQuery = None,
            as_of: AsOfQuery = None,
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> Response:
            cube = resolve_cube(registry, dataset, release, as_of)
            headers = {"Cache-Control": IMMUTABLE if release is not None else f"public, max-age={self.max_age}",
                       **release_headers(cube)}
            cc.validate_sector(sector)
            if variable not in VARIABLES:
                raise BadTileRequest(f"unknown variable {variable!r}; use one of: {', '.join(VARIABLES)}")
            if sector == cc.TOTAL and variable != cc.EMISSIONS_VAR:
                raise BadTileRequest("sector=total is defined for emissions only; pick one of the 7 sectors")
            style = cm.DEFAULT_STYLES[variable]
            scale_obj = self.color_scale(cube, sector, variable, scale, rescale, colormap_name)
            if format == "png":
                return Response(cm.legend_png(scale_obj, units=style.long_units, n_classes=classes),
                                media_type="image/png", headers=headers)
            if format != "json":
                raise BadTileRequest(f"unknown legend format {format!r}; use format=json or format=png")
            body = {"dataset": cube.id, "release": cube.release, "sector": sector, "variable": variable,
                    **cm.legend(scale_obj, units=style.units, long_units=style.long_units, n_classes=classes)}
            return JSONResponse(body, headers=headers)
