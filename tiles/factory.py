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

Every tile is read through a rio-tiler reader (``BaseReader.tile()`` -> ``ImageData``, :meth:`reader_for`):
:class:`tiles.pyramid_reader.PyramidReader` over the cube's pyramid when it has one (Web Mercator and CRS84
tile matrix sets; no reprojection library: index gathers from cached decoded chunks by :mod:`tiles.render`,
~1-3 ms), else :class:`tiles.reader.CubeLayerReader` (rio-tiler's ``XarrayReader``: the field reprojected by
rio-tiler, ~100 ms).  carbonmap's own encoder (:mod:`tiles.colormap`, :mod:`tiles.png`), not titiler's
``render_image``, colours and encodes the result; a pyramid tile is coloured once per distinct source cell.
The same ``PyramidReader`` plugs into titiler's ``TilerFactory(reader=PyramidReader, path_dependency=...)``
(``tests/tiles/test_pyramid_reader.py``).  Both show emissions as density, kg CO2 km-2 day-1.  ``date`` is a
day (``YYYY-MM-DD``), a month (``YYYY-MM``, monthly mean) or a year (``YYYY``, annual mean).

HTTP caching: strong ETags and conditional GET everywhere.  ``Cache-Control`` is
``public, max-age=31536000, immutable`` when the tile can never change under its URL, i.e. when
(a) the request carries ``v`` equal to the dataset version token (TileJSON and WMTS templates add
it; a rebuilt cube gets a new token and so new URLs), or (b) the cube declares the attribute
``carbonmap_final_until`` (ISO date, the last day that later builds will not revise) and the whole
time step ends on or before it.  Otherwise ``public, max-age=<max_age>``.

Releases (issue 7): every endpoint takes ``release=`` (a release id, ``r0002``) or ``as_of=`` (an
ISO date-time) and reads that release of the dataset (default: the current one; see
``carbonmap.serving.resolve_cube``).  Responses name the release in ``X-Carbonmap-Release`` (TileJSON and
legend bodies too); ETags, the tile cache, the field cache, display ranges and the ``v`` token
include the release id, so a newly published release never answers from a stale cached tile.  A
tile asked for with an explicit ``release=`` can never change: it is served ``immutable``.

Module map: the shared query parameters are declared once in :mod:`tiles.params` (grouped as
``LayerParams``, ``StyleParams``, ``TemplateParams``; ``ReleaseParams`` here); the routes' OpenAPI texts
in :mod:`tiles.route_docs`; pyramid renderers are memoised and refreshed in :mod:`tiles.renderers`;
display ranges, quantile breaks and colour scales in :mod:`tiles.display_ranges`; the ``Cache-Control``
and ``ETag`` decisions in :mod:`carbonmap.http_policy` (the tile-specific version token in
:mod:`tiles.cache_policy`); tile matrix sets in :mod:`tiles.matrix_sets`.

Datasets are looked up by id in the registry the ``registry_dependency`` returns; there is no
path or URL parameter.  Errors are raised as LookupError (404: unknown dataset, date outside the
cube, tile outside the tile matrix set or grid) and ValueError/ContractError (422: bad date,
sector, variable, scale, rescale, colormap, format); the app turns them into problem+json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from attrs import define, field
from fastapi import APIRouter, Depends, Path, Query
from morecantile import TileMatrixSet
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from titiler.core.factory import BaseFactory

from carbonmap import contract as cc
from carbonmap.http_policy import cache_control, cache_headers, etag_matches, make_etag, release_headers
from carbonmap.registry import Cube, Registry
from carbonmap.serving import AsOfQuery, Dependency, ReleaseQuery, resolve_cube
from carbonmap.settings import Settings, get_settings
from tiles import colormap as cm
from tiles import wmts as wmts_xml
from tiles.cache import EncodedTile, TileCache
from tiles.cache_policy import served_version, tile_is_immutable, version_token
from tiles.chunks import ChunkCache
from tiles.colormaps import add_colormap_routes
from tiles.display_ranges import DisplayRanges
from tiles.fields import FieldCache
from tiles.layer import LAYER_SECTORS, VARIABLES, BadTileRequest, Layer, TimeStep, parse_time
from tiles.matrix_sets import MERCATOR_MAX_LAT, check_tile_index, crs_uri, get_tms, maxzoom_for
from tiles.params import (
    PIXEL_RATIO_PARAM,
    SUPPORTED_TMS,
    DatasetPath,
    DefaultTimeQuery,
    LayerParams,
    QueryParams,
    StyleParams,
    TemplateParams,
    TimeQuery,
    TmsPath,
    VersionQuery,
    expand_query_params,
    pixel_ratio,
    tile_ratio,
)
from tiles.pyramid_reader import PyramidLayer, PyramidReader, sample_of
from tiles.reader import CubeLayerReader
from tiles.render import PyramidRenderer, Sample, supports
from tiles.renderers import PyramidRenderers
from tiles.route_docs import LEGEND_DOC, TILE_DOC, TILEJSON_DOC, WMTS_DOC


class ReleaseFieldCache(FieldCache):
    """A :class:`FieldCache` whose keys include the release id (two releases may share a build time)."""

    @staticmethod
    def key(cube: Cube, layer: Layer) -> Any:
        return (*FieldCache.key(cube, layer), cube.release)


@dataclass(frozen=True, slots=True)
class ReleaseParams(QueryParams):
    """The release a request reads: ``release`` (id) or ``as_of`` (date-time); both None: the current one.
    Declared here, not in :mod:`tiles.params`, because the parameter types come from :mod:`carbonmap.serving`."""

    release: ReleaseQuery = None
    as_of: AsOfQuery = None


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
        pyramids: memo of the cubes' pyramid renderers (built from ``chunks``; :mod:`tiles.renderers`).
        ranges: memo of display ranges and quantile breaks (:mod:`tiles.display_ranges`).
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
    pyramids: PyramidRenderers = field(init=False)
    ranges: DisplayRanges = field(init=False)

    @pyramids.default
    def _pyramids_default(self) -> PyramidRenderers:
        return PyramidRenderers(self.chunks)

    @ranges.default
    def _ranges_default(self) -> DisplayRanges:
        return DisplayRanges(self.pyramid_for, self.fields)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> CarbonTilerFactory:
        """A factory whose caches are sized by ``settings`` (the app's injected settings, not the process's)."""
        return cls(tile_cache=TileCache(settings.tile_cache_items),
                   fields=ReleaseFieldCache(settings.chunk_cache_bytes),
                   chunks=ChunkCache(settings.chunk_cache_bytes), **kwargs)

    # ---- helpers ------------------------------------------------------------------------------

    def get_tms(self, tms_id: str) -> TileMatrixSet:
        """A supported tile matrix set by id; TileNotFound (404) otherwise."""
        return get_tms(tms_id, self.supported_tms)

    def pyramid_for(self, cube: Cube) -> PyramidRenderer | None:
        """The renderer of the cube's pyramid, or None (no pyramid, stale, being updated, or use_pyramid off)."""
        return self.pyramids.get(cube) if self.use_pyramid else None

    def color_scale(self, cube: Cube, sector: str, variable: str, scale: str | None, rescale: str | None,
                    colormap_name: str | None) -> cm.ColorScale:
        """The colour scale of a layer under a request's style (:meth:`DisplayRanges.color_scale`)."""
        return self.ranges.color_scale(cube, sector, variable, scale, rescale, colormap_name)

    def reader_for(self, cube: Cube, layer: Layer, tms: TileMatrixSet) -> PyramidReader | CubeLayerReader:
        """The rio-tiler reader of one layer: a :class:`~tiles.pyramid_reader.PyramidReader` over the cube's
        pyramid when it has one and ``tms`` is Web Mercator or CRS84 (no reprojection), else ``self.reader``
        (the fallback, rio-tiler's ``XarrayReader`` reprojecting the cube's field)."""
        renderer = self.pyramid_for(cube) if supports(tms) else None
        if renderer is not None:
            return PyramidReader(PyramidLayer(renderer, layer), tms=tms)
        return self.reader(cube=cube, layer=layer, fields=self.fields, tms=tms)

    def render(self, cube: Cube, layer: Layer, tms: TileMatrixSet, z: int, x: int, y: int,
               tilesize: int | None = None) -> Sample:
        """One tile's values in display units, as a :class:`~tiles.render.Sample`: the reader's ``tile()``
        (:meth:`reader_for`); a pyramid tile keeps its distinct cells, so the encoder colours each cell once.
        ``tilesize`` (pixels, default ``self.tilesize``): 2x for high-DPI (``@2x``) tiles."""
        with self.reader_for(cube, layer, tms) as src:
            return sample_of(src.tile(x, y, z, tilesize=tilesize or self.tilesize))

    def renderer_id(self, cube: Cube, tms: TileMatrixSet) -> str:
        renderer = self.pyramid_for(cube) if supports(tms) else None
        return "pyramid" if renderer is not None else self.reader.__qualname__

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
        return cache_headers(etag, self.max_age, immutable)

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
            layer_params: LayerParams,
            style_params: StyleParams,
            *,
            v: VersionQuery = None,
            pin: ReleaseParams,
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> Response:
            tilesize = self.tilesize * pixel_ratio(request.path_params.get("pixel_ratio"))
            release = pin.release
            cube = resolve_cube(registry, dataset, release, pin.as_of)
            tms = self.get_tms(tileMatrixSetId)
            if format not in cm.FORMATS:
                raise BadTileRequest(f"unknown tile format {format!r}; use .png or .webp")
            sector, variable = layer_params.sector, layer_params.variable
            layer = Layer.of(cube, parse_time(date), sector, variable, self.fields.days)
            check_tile_index(tms, z, x, y)
            style = self.color_scale(cube, sector, variable, style_params.scale, style_params.rescale,
                                     style_params.colormap_name)
            renderer_id = self.renderer_id(cube, tms)
            etag = make_etag("tile", cube.id, served_version(cube), layer.step.label, sector, variable, tms.id, z, x,
                             y, format, style.key(), tilesize, renderer_id)
            immutable = tile_is_immutable(cube, layer.step, release=release, v=v)
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

        endpoint = expand_query_params(tile)
        # "@2x" first: the plain path would take "1@2x" as the row and refuse it as a number
        self.router.add_api_route("/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}@{pixel_ratio}x.{format}", endpoint,
                                  methods=["GET"], name="tile_hidpi", operation_id=f"{self.operation_prefix}getTileHiDpi",
                                  openapi_extra={"parameters": [PIXEL_RATIO_PARAM]}, **TILE_DOC)
        self.router.add_api_route("/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}.{format}", endpoint, methods=["GET"],
                                  name="tile", operation_id=f"{self.operation_prefix}getTile", **TILE_DOC)

    def tilejson(self) -> None:
        """Register the TileJSON endpoint."""

        @self.router.get("/{dataset}/{tileMatrixSetId}/tilejson.json",
                         operation_id=f"{self.operation_prefix}getTileJSON", **TILEJSON_DOC)
        @expand_query_params
        def tilejson(
            request: Request,
            response: Response,
            dataset: DatasetPath,
            tileMatrixSetId: TmsPath,
            *,
            date: DefaultTimeQuery = None,  # keyword-only: it may stand before the groups without defaults
            layer_params: LayerParams,
            style_params: StyleParams,
            template: TemplateParams,
            pin: ReleaseParams,
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> dict[str, Any]:
            release, as_of, tile_format, tilesize = pin.release, pin.as_of, template.tile_format, template.tilesize
            cube = resolve_cube(registry, dataset, release, as_of)
            pinned = cube.release if (release is not None or as_of is not None) else None
            tms = self.get_tms(tileMatrixSetId)
            if tile_format not in cm.FORMATS:
                raise BadTileRequest(f"unknown tile_format {tile_format!r}; use png or webp")
            sector, variable = layer_params.sector, layer_params.variable
            step = parse_time(date) if date is not None else TimeStep("day", cube.end)
            Layer.of(cube, step, sector, variable, self.fields.days)
            style = self.color_scale(cube, sector, variable, style_params.scale, style_params.rescale,
                                     style_params.colormap_name)
            query: dict[str, str] = {"date": step.label, "sector": sector, "variable": variable,
                                     **style_params.query()}
            if pinned:
                query["release"] = pinned
            query["v"] = version_token(cube)
            tiles_url = self.tile_template(request, dataset, tms.id, ("{z}", "{x}", "{y}"), tile_format, tilesize)
            legend_url = self.url_for(request, "legend", dataset=dataset)
            w, s, e, n = cube.grid.bounds
            if tms.crs.to_epsg() == 3857:
                s, n = max(s, -MERCATOR_MAX_LAT), min(n, MERCATOR_MAX_LAT)
            minzoom = tms.minzoom
            legend_query = {k: val for k, val in query.items() if k not in ("date", "v")}
            response.headers.update({"Cache-Control": cache_control(self.max_age, immutable=release is not None),
                                     **release_headers(cube)})
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
                "maxzoom": max(minzoom, maxzoom_for(cube, tms)),
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

        @self.router.get("/{dataset}/WMTSCapabilities.xml",
                         operation_id=f"{self.operation_prefix}getWMTSCapabilities", **WMTS_DOC)
        @expand_query_params
        def wmts(
            request: Request,
            dataset: DatasetPath,
            style_params: StyleParams,
            template: TemplateParams,
            pin: ReleaseParams,
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> Response:
            release, as_of, tile_format, tilesize = pin.release, pin.as_of, template.tile_format, template.tilesize
            cube = resolve_cube(registry, dataset, release, as_of)
            pinned = {"release": cube.release} if (release is not None or as_of is not None) and cube.release else {}
            tms = self.get_tms("WebMercatorQuad")
            if tile_format not in cm.FORMATS:
                raise BadTileRequest(f"unknown tile_format {tile_format!r}; use png or webp")
            hides = self.color_scale(cube, cc.TOTAL, cc.EMISSIONS_VAR, style_params.scale, style_params.rescale,
                                     style_params.colormap_name).hide_below
            style_query = style_params.query()
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
                maxzoom=max(tms.minzoom, maxzoom_for(cube, tms)),
                bounds=(w, max(s, -MERCATOR_MAX_LAT), e, min(n, MERCATOR_MAX_LAT)),
                times=days + months + years, default_time=days[-1], media_type=cm.FORMATS[tile_format],
                tilesize=tilesize)
            etag = make_etag("wmts", cube.id, served_version(cube), str(request.url))
            headers = {**self.cache_headers(etag, immutable=release is not None), **release_headers(cube)}
            if etag_matches(request.headers.get("if-none-match"), etag):
                return Response(status_code=304, headers=headers)
            return Response(body, media_type="application/xml", headers=headers)

    def legend(self) -> None:
        """Register the legend endpoint."""

        @self.router.get("/{dataset}/legend", operation_id=f"{self.operation_prefix}getLegend", **LEGEND_DOC)
        @expand_query_params
        def legend(
            dataset: DatasetPath,
            layer_params: LayerParams,
            style_params: StyleParams,
            *,
            classes: Annotated[int, Query(ge=1, le=64, description="Number of classes.", examples=[6])] = 6,
            format: Annotated[str, Query(description="`json` or `png`.", examples=["json"],
                                         json_schema_extra={"enum": ["json", "png"]})] = "json",
            pin: ReleaseParams,
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> Response:
            cube = resolve_cube(registry, dataset, pin.release, pin.as_of)
            headers = {"Cache-Control": cache_control(self.max_age, immutable=pin.release is not None),
                       **release_headers(cube)}
            sector, variable = layer_params.sector, layer_params.variable
            cc.validate_sector(sector)
            if variable not in VARIABLES:
                raise BadTileRequest(f"unknown variable {variable!r}; use one of: {', '.join(VARIABLES)}")
            if sector == cc.TOTAL and variable != cc.EMISSIONS_VAR:
                raise BadTileRequest("sector=total is defined for emissions only; pick one of the 7 sectors")
            style = cm.DEFAULT_STYLES[variable]
            scale_obj = self.color_scale(cube, sector, variable, style_params.scale, style_params.rescale,
                                         style_params.colormap_name)
            if format == "png":
                return Response(cm.legend_png(scale_obj, units=style.long_units, n_classes=classes),
                                media_type="image/png", headers=headers)
            if format != "json":
                raise BadTileRequest(f"unknown legend format {format!r}; use format=json or format=png")
            body = {"dataset": cube.id, "release": cube.release, "sector": sector, "variable": variable,
                    **cm.legend(scale_obj, units=style.units, long_units=style.long_units, n_classes=classes)}
            return JSONResponse(body, headers=headers)
