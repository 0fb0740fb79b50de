"""The tile endpoints, as a titiler-style factory: ``CarbonTilerFactory(registry_dependency=...).router``.

Routes (the router carries the ``/tiles`` prefix; include it without another prefix):

- ``GET /tiles/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}.{format}`` a PNG/WebP map tile
- ``GET /tiles/{dataset}/{tileMatrixSetId}/tilejson.json``         TileJSON 3.0.0
- ``GET /tiles/{dataset}/legend``                                   legend as JSON or PNG

Datasets are looked up by id in the registry the ``registry_dependency`` returns; there is no
path or URL parameter.  Errors are raised as LookupError (404: unknown dataset, date outside the
cube, tile outside the tile matrix set or grid) and ValueError/ContractError (422: bad date,
sector, variable, scale, rescale, colormap, format); the app turns them into problem+json.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from attrs import define, field
from fastapi import APIRouter, Depends, Path, Query
from morecantile import TileMatrixSet
from morecantile import tms as morecantile_tms
from rio_tiler.utils import CRS_to_uri
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from titiler.core.factory import BaseFactory
from titiler.core.models.mapbox import TileJSON

from carbonmap import contract as cc
from carbonmap.registry import Cube, Registry
from carbonmap.settings import get_settings
from tiles import colormap as cm
from tiles.cache import EncodedTile, TileCache, etag_matches, make_etag
from tiles.fields import FieldCache
from tiles.layer import LAYER_SECTORS, VARIABLES, BadTileRequest, Layer, TileNotFound, cube_version, parse_date
from tiles.reader import CubeLayerReader

PROBLEM_MEDIA_TYPE = "application/problem+json"
SUPPORTED_TMS: tuple[str, ...] = ("WebMercatorQuad", "WorldCRS84Quad")
EARTH_M_PER_DEGREE = 2 * math.pi * 6378137.0 / 360.0
"""Metres per degree of longitude at the equator on the Web Mercator sphere."""


def registry_from_app_state(request: Request) -> Registry:
    """Default registry dependency: ``request.app.state.registry``."""
    registry = getattr(request.app.state, "registry", None)
    if registry is None:
        raise RuntimeError("no registry on app.state; set app.state.registry or pass registry_dependency")
    return registry


def _problem(status: int, kind: str, detail: str) -> dict[str, Any]:
    title = {404: "Not Found", 422: "Unprocessable Content"}[status]
    return {
        "description": f"{title}: {detail.split(';')[0]}",
        "content": {PROBLEM_MEDIA_TYPE: {
            "schema": {"type": "object", "required": ["type", "title", "status", "detail"],
                       "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                      "status": {"type": "integer"}, "detail": {"type": "string"}}},
            "example": {"type": f"urn:carbonmap:problem:{kind}", "title": title, "status": status,
                        "detail": detail}}},
    }


_E404_DATASET = _problem(404, "dataset-not-found", "unknown dataset 'nope'; served datasets: demo-2024")
_E404_DATE = _problem(404, "date-out-of-range", "date 2023-12-31 is outside dataset 'demo-2024', which covers "
                                                "2024-01-01 to 2024-12-31")
_E404_TILE = _problem(404, "tile-not-found", "tile 3/9/2 is outside WebMercatorQuad: at zoom 3 x must be 0 to 7 "
                                             "and y 0 to 7")
_E422 = _problem(422, "invalid-parameter", "unknown sector 'coal'; known sectors: power, industry, "
                                           "ground_transport, residential, domestic_aviation, "
                                           "international_aviation, international_shipping, total")

# ---- parameters (shared Annotated types, documented once) -------------------------------------

DatasetPath = Annotated[str, Path(description="Dataset id, as listed by `GET /datasets`.",
                                  examples=["demo-2024"])]
TmsPath = Annotated[str, Path(description="Tile matrix set: `WebMercatorQuad` (web maps) or `WorldCRS84Quad`.",
                              examples=["WebMercatorQuad"], json_schema_extra={"enum": list(SUPPORTED_TMS)})]
SectorQuery = Annotated[str, Query(description="One of the 7 sectors, or `total` (their sum).",
                                   examples=["total"], json_schema_extra={"enum": list(LAYER_SECTORS)})]
VariableQuery = Annotated[str, Query(description="`emissions` (kg CO2 day-1 cell-1) or `uncertainty` "
                                                 "(relative 1-sigma; needs a sector, not `total`).",
                                     examples=["emissions"], json_schema_extra={"enum": list(VARIABLES)})]
ScaleQuery = Annotated[str | None, Query(description="Colour scale: `log` (default for emissions) or `linear` "
                                                     "(default for uncertainty).",
                                         examples=["log"], json_schema_extra={"enum": list(cm.SCALES)})]
RescaleQuery = Annotated[str | None, Query(description="Value range `min,max` mapped onto the colormap, in the "
                                                       "variable's units; default: decades around the 1st-99.9th "
                                                       "percentile of the dataset's middle day (emissions), "
                                                       "0,1 (uncertainty).",
                                           examples=["1000,10000000"])]
ColormapQuery = Annotated[str | None, Query(description="A rio-tiler colormap name, e.g. `inferno`, `viridis`, "
                                                        "`magma`, `ylorrd`. Default: inferno (emissions), viridis "
                                                        "(uncertainty).",
                                            examples=["inferno"])]


@define(kw_only=True)
class CarbonTilerFactory(BaseFactory):
    """Tile, TileJSON and legend endpoints over the registry's cubes (titiler ``BaseFactory`` style).

    Attributes:
        registry_dependency: FastAPI dependency returning the :class:`Registry` (default: app.state.registry).
        reader: rio-tiler reader class built as ``reader(cube=, layer=, fields=, tms=)`` (swap in a pyramid).
        tile_cache: encoded-tile LRU (default sized by ``Settings.tile_cache_items``).
        fields: decoded-field cache (default sized by ``Settings.chunk_cache_bytes``).
        max_age: seconds for ``Cache-Control: public, max-age=...``.
        tilesize: tile edge in pixels.
    """

    router: APIRouter = field(factory=lambda: APIRouter(prefix="/tiles", tags=["Tiles"]))
    registry_dependency: Callable[..., Registry] = registry_from_app_state
    reader: type[CubeLayerReader] = CubeLayerReader
    tile_cache: TileCache = field(factory=lambda: TileCache(get_settings().tile_cache_items))
    fields: FieldCache = field(factory=lambda: FieldCache(get_settings().chunk_cache_bytes))
    supported_tms: tuple[str, ...] = SUPPORTED_TMS
    max_age: int = 3600
    tilesize: int = 256
    attribution: str = ("carbonmap — fossil CO2 from national inventories (Global Carbon Budget 2025) "
                        "downscaled with spatial proxies; CC-BY-4.0")
    _ranges: dict[tuple[str, str, str, str], tuple[float, float]] = field(init=False, factory=dict)
    _ranges_lock: threading.Lock = field(init=False, factory=threading.Lock)

    # ---- helpers ------------------------------------------------------------------------------

    def get_tms(self, tms_id: str) -> TileMatrixSet:
        if tms_id not in self.supported_tms:
            raise TileNotFound(f"unknown tile matrix set {tms_id!r}; use one of: {', '.join(self.supported_tms)}")
        return morecantile_tms.get(tms_id)

    @staticmethod
    def check_tile_index(tms: TileMatrixSet, z: int, x: int, y: int) -> None:
        """TileNotFound unless (z, x, y) exists in the tile matrix set (no data read)."""
        if not tms.minzoom <= z <= tms.maxzoom:
            raise TileNotFound(f"zoom {z} is outside {tms.id}, which has zooms {tms.minzoom} to {tms.maxzoom}")
        matrix = tms.matrix(z)
        if not (0 <= x < matrix.matrixWidth and 0 <= y < matrix.matrixHeight):
            raise TileNotFound(f"tile {z}/{x}/{y} is outside {tms.id}: at zoom {z} x must be 0 to "
                               f"{matrix.matrixWidth - 1} and y 0 to {matrix.matrixHeight - 1}")

    def default_range(self, cube: Cube, sector: str, variable: str) -> tuple[float, float]:
        """Display range of a layer from the dataset's middle day (memoised per store build)."""
        style = cm.DEFAULT_STYLES[variable]
        if style.rescale is not None:
            return style.rescale
        key = (cube.id, cube_version(cube), sector, variable)
        with self._ranges_lock:
            if key in self._ranges:
                return self._ranges[key]
        mid = cube.times[len(cube.times) // 2].date()
        rng = cm.nice_range(self.fields.get(cube, Layer(cube.id, mid, sector, variable)), style.scale)
        with self._ranges_lock:
            self._ranges[key] = rng
        return rng

    def color_scale(self, cube: Cube, sector: str, variable: str, scale: str | None, rescale: str | None,
                    colormap_name: str | None) -> cm.ColorScale:
        style = cm.DEFAULT_STYLES[variable]
        chosen_scale = scale or style.scale
        if chosen_scale not in cm.SCALES:
            raise BadTileRequest(f"unknown scale {chosen_scale!r}; use scale=log or scale=linear")
        rng = cm.parse_rescale(rescale)
        if rng is None:
            rng = self.default_range(cube, sector, variable)
            if chosen_scale == "log" and rng[0] <= 0:
                rng = (max(rng[1] / 1e3, 1e-6), rng[1])
        return cm.ColorScale(chosen_scale, rng[0], rng[1], colormap_name or style.colormap_name)  # type: ignore[arg-type]

    def maxzoom_for(self, cube: Cube, tms: TileMatrixSet) -> int:
        """Zoom where a grid cell spans ~4 pixels (tiles deeper than this add no detail)."""
        res = cube.grid.resolution
        res_crs = res * EARTH_M_PER_DEGREE if tms.crs.to_epsg() == 3857 else res
        return min(tms.maxzoom, tms.zoom_for_res(res_crs, zoom_level_strategy="upper") + 2)

    def cache_headers(self, etag: str) -> dict[str, str]:
        return {"ETag": etag, "Cache-Control": f"public, max-age={self.max_age}"}

    # ---- routes -------------------------------------------------------------------------------

    def register_routes(self) -> None:
        self.tile()
        self.tilejson()
        self.legend()

    def tile(self) -> None:
        """Register the map tile endpoint."""

        @self.router.get(
            "/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}.{format}",
            operation_id=f"{self.operation_prefix}getTile",
            summary="A map tile of one day, sector and variable",
            description=(
                "Renders one tile (256x256) of the dataset's daily field, reprojected by rio-tiler to the tile "
                "matrix set. Cells with zero emissions or no data are transparent, so an ocean tile is a fully "
                "transparent image, not an error. Colours: `scale` (log/linear) from `rescale` min to max on "
                "`colormap_name`; see the legend endpoint for the breaks. Responses carry a strong `ETag` and "
                "`Cache-Control`; send `If-None-Match` to get `304 Not Modified`.\n\n"
                "Example: `/tiles/demo-2024/WebMercatorQuad/2/2/1.png?date=2024-03-01&sector=power`"),
            response_class=Response,
            responses={
                200: {"description": "The tile image (PNG: paletted with transparency; WebP: RGBA).",
                      "content": {"image/png": {"schema": {"type": "string", "format": "binary"}},
                                  "image/webp": {"schema": {"type": "string", "format": "binary"}}}},
                304: {"description": "Not Modified: the `If-None-Match` ETag is current."},
                404: _E404_DATE, 422: _E422,
            },
        )
        def tile(
            request: Request,
            dataset: DatasetPath,
            tileMatrixSetId: TmsPath,
            z: Annotated[int, Path(description="Zoom level of the tile matrix set.", examples=[2])],
            x: Annotated[int, Path(description="Tile column (0 .. matrixWidth-1).", examples=[2])],
            y: Annotated[int, Path(description="Tile row (0 .. matrixHeight-1).", examples=[1])],
            format: Annotated[str, Path(description="Image format: `png` or `webp`.", examples=["png"],
                                        json_schema_extra={"enum": list(cm.FORMATS)})],
            date: Annotated[str, Query(description="UTC day, `YYYY-MM-DD`, inside the dataset's time range.",
                                       examples=["2024-03-01"], json_schema_extra={"format": "date"})],
            sector: SectorQuery = cc.TOTAL,
            variable: VariableQuery = cc.EMISSIONS_VAR,
            scale: ScaleQuery = None,
            rescale: RescaleQuery = None,
            colormap_name: ColormapQuery = None,
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> Response:
            cube = registry.get(dataset)
            tms = self.get_tms(tileMatrixSetId)
            if format not in cm.FORMATS:
                raise BadTileRequest(f"unknown tile format {format!r}; use .png or .webp")
            layer = Layer.of(cube, parse_date(date), sector, variable)
            self.check_tile_index(tms, z, x, y)
            style = self.color_scale(cube, sector, variable, scale, rescale, colormap_name)
            etag = make_etag("tile", cube.id, cube_version(cube), layer.day, sector, variable, tms.id, z, x, y,
                             format, style.key(), self.tilesize, self.reader.__qualname__)
            if etag_matches(request.headers.get("if-none-match"), etag):
                return Response(status_code=304, headers=self.cache_headers(etag))
            encoded = self.tile_cache.get(etag)
            state = "hit"
            if encoded is None:
                state = "miss"
                with self.reader(cube=cube, layer=layer, fields=self.fields, tms=tms) as src:
                    image = src.tile(x, y, z, tilesize=self.tilesize)
                band = image.array[0]
                indices = cm.to_indices(band.data, style, mask=band.mask if band.mask is not False else None)
                encoded = EncodedTile(cm.encode(indices, style.colormap_name, format), cm.FORMATS[format], etag)
                self.tile_cache.put(encoded)
            headers = {**self.cache_headers(etag), "X-Tile-Cache": state}
            if uri := CRS_to_uri(tms.rasterio_crs):
                headers["Content-Crs"] = f"<{uri}>"
            return Response(encoded.content, media_type=encoded.media_type, headers=headers)

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
            responses={200: {"description": "TileJSON document"}, 404: _E404_DATASET, 422: _E422},
        )
        def tilejson(
            request: Request,
            dataset: DatasetPath,
            tileMatrixSetId: TmsPath,
            date: Annotated[str | None, Query(description="UTC day `YYYY-MM-DD`; default: the last day.",
                                              examples=["2024-03-01"], json_schema_extra={"format": "date"})] = None,
            sector: SectorQuery = cc.TOTAL,
            variable: VariableQuery = cc.EMISSIONS_VAR,
            scale: ScaleQuery = None,
            rescale: RescaleQuery = None,
            colormap_name: ColormapQuery = None,
            tile_format: Annotated[str, Query(description="Tile format in the template: `png` or `webp`.",
                                              examples=["png"], json_schema_extra={"enum": list(cm.FORMATS)})] = "png",
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> dict[str, Any]:
            cube = registry.get(dataset)
            tms = self.get_tms(tileMatrixSetId)
            if tile_format not in cm.FORMATS:
                raise BadTileRequest(f"unknown tile_format {tile_format!r}; use png or webp")
            day = parse_date(date) if date is not None else cube.end
            Layer.of(cube, day, sector, variable)
            style = self.color_scale(cube, sector, variable, scale, rescale, colormap_name)
            query: dict[str, str] = {"date": day.isoformat(), "sector": sector, "variable": variable}
            for key, value in (("scale", scale), ("rescale", rescale), ("colormap_name", colormap_name)):
                if value is not None:
                    query[key] = value
            tiles_url = self.url_for(request, "tile", dataset=dataset, tileMatrixSetId=tms.id, z="{z}", x="{x}",
                                     y="{y}", format=tile_format)
            legend_url = self.url_for(request, "legend", dataset=dataset)
            w, s, e, n = cube.grid.bounds
            if tms.crs.to_epsg() == 3857:
                s, n = max(s, -85.0511287798066), min(n, 85.0511287798066)
            minzoom = tms.minzoom
            legend_query = {k: v for k, v in query.items() if k != "date"}
            return {
                "tilejson": "3.0.0",
                "name": f"{cube.id} {sector} {variable} {day.isoformat()}",
                "description": f"{cube.attrs.get('title', cube.id)}: daily fossil CO2 {variable}, sector {sector}, "
                               f"{day.isoformat()} ({cm.DEFAULT_STYLES[variable].long_units})",
                "version": "1.0.0",
                "attribution": self.attribution,
                "scheme": "xyz",
                "tiles": [f"{tiles_url}?{urlencode(query)}"],
                "minzoom": minzoom,
                "maxzoom": max(minzoom, self.maxzoom_for(cube, tms)),
                "bounds": [w, s, e, n],
                "center": ((w + e) / 2, (s + n) / 2, minzoom),
                "legend_url": f"{legend_url}?{urlencode(legend_query)}",
                "carbonmap": {"dataset": cube.id, "date": day.isoformat(), "sector": sector, "variable": variable,
                              "scale": style.scale, "rescale": [style.vmin, style.vmax],
                              "colormap_name": style.colormap_name, "units": cm.DEFAULT_STYLES[variable].units,
                              "time_range": [cube.start.isoformat(), cube.end.isoformat()]},
            }

    def legend(self) -> None:
        """Register the legend endpoint."""

        @self.router.get(
            "/{dataset}/legend",
            operation_id=f"{self.operation_prefix}getLegend",
            summary="Legend (class breaks, colours and units) of a layer",
            description=(
                "The colour scale a tile request with the same parameters uses: class breaks (equal steps on the "
                "log or linear scale), one colour per class and the units. JSON by default, a colour-bar PNG "
                "with `format=png`.\n\nExample: `/tiles/demo-2024/legend?sector=power&format=png`"),
            responses={200: {"description": "The legend",
                             "content": {"application/json": {"example": {
                                 "scale": "log", "colormap_name": "inferno", "rescale": [1000.0, 10000000.0],
                                 "units": "kg day-1", "breaks": [1000.0, 10000.0, 100000.0, 1000000.0, 10000000.0],
                                 "classes": [{"min": 1000.0, "max": 10000.0, "label": "1e3 – 1e4",
                                              "color": "#1b0c41"}]}},
                                 "image/png": {"schema": {"type": "string", "format": "binary"}}}},
                       404: _E404_DATASET, 422: _E422},
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
            registry: Registry = Depends(self.registry_dependency),  # noqa: B008 (titiler style)
        ) -> Response:
            cube = registry.get(dataset)
            cc.validate_sector(sector)
            if variable not in VARIABLES:
                raise BadTileRequest(f"unknown variable {variable!r}; use one of: {', '.join(VARIABLES)}")
            if sector == cc.TOTAL and variable != cc.EMISSIONS_VAR:
                raise BadTileRequest("sector=total is defined for emissions only; pick one of the 7 sectors")
            style = cm.DEFAULT_STYLES[variable]
            scale_obj = self.color_scale(cube, sector, variable, scale, rescale, colormap_name)
            if format == "png":
                return Response(cm.legend_png(scale_obj, units=style.units, n_classes=classes),
                                media_type="image/png", headers={"Cache-Control": f"public, max-age={self.max_age}"})
            if format != "json":
                raise BadTileRequest(f"unknown legend format {format!r}; use format=json or format=png")
            body = {"dataset": cube.id, "sector": sector, "variable": variable,
                    **cm.legend(scale_obj, units=style.units, long_units=style.long_units, n_classes=classes)}
            return JSONResponse(body, headers={"Cache-Control": f"public, max-age={self.max_age}"})
