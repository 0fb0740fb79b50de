"""OpenAPI documentation of the tile routes: summary, description, examples and responses of each.

Each ``*_DOC`` dict is passed as keyword arguments to the route's registration in
:class:`tiles.factory.CarbonTilerFactory`; the shared parameters are documented in :mod:`tiles.params`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from titiler.core.models.mapbox import TileJSON

from tiles.params import E404_DATASET, E404_DATE, E422

TILE_DOC: dict[str, Any] = {
    "summary": "A map tile of one day, sector and variable",
    "description": (
        "Renders one tile (256x256; 512x512 at `@2x`, for high-DPI screens) of the dataset's daily field, "
        "read through a rio-tiler reader (`tiles.pyramid_reader.PyramidReader`): the nearest cell of the "
        "pyramid level just finer than a pixel, no resampling (a cube without a pyramid is reprojected by "
        "rio-tiler's XarrayReader). Cells with zero emissions or no data are "
        "transparent, so an ocean tile is a fully transparent image, not an error. Colours: `scale` (log/linear) from `rescale` min to max on "
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

TILEJSON_DOC: dict[str, Any] = {
    "summary": "TileJSON 3.0.0 for one layer",
    "description": (
        "A TileJSON 3.0.0 document whose `tiles` URL template carries the date, sector, variable and any "
        "style parameters given here, with the grid's bounds and a zoom range suited to its resolution. "
        "`date` defaults to the dataset's last day.\n\n"
        "Example: `/tiles/demo-2024/WebMercatorQuad/tilejson.json?date=2024-03-01&sector=total`"),
    "response_model": TileJSON,
    "response_model_exclude_none": True,
    "responses": {200: {"description": "TileJSON document"}, 404: E404_DATASET, 422: E422},
}

WMTS_DOC: dict[str, Any] = {
    "summary": "OGC WMTS 1.0.0 capabilities with a Time dimension",
    "description": (
        "A RESTful WMTS GetCapabilities document: one layer per emission layer (`total` and each sector) "
        "and per sector's uncertainty (`<sector>_uncertainty`), the `WebMercatorQuad` tile matrix set "
        "and a `Time` dimension listing every day, month (monthly mean) and year (annual mean). Open it "
        "in QGIS or GDAL (`gdalinfo WMTS:<url>,layer=total`).\n\n"
        "Example: `/tiles/demo-2024/WMTSCapabilities.xml?scale=log`"),
    "response_class": Response,
    "responses": {200: {"description": "WMTS capabilities XML",
                        "content": {"application/xml": {"schema": {"type": "string"}}}},
                  404: E404_DATASET, 422: E422},
}

LEGEND_DOC: dict[str, Any] = {
    "summary": "Legend (class breaks, colours and units) of a layer",
    "description": (
        "The colour scale a tile request with the same parameters uses: class breaks (equal steps on the "
        "log or linear scale), one colour per class and the units. JSON by default, a colour-bar PNG "
        "with `format=png`. `below` says how values under the first break are drawn: `not drawn` "
        "(transparent; the default scale of emissions, also in `below_label` and on the PNG) or "
        "`lowest colour` (an explicit `rescale`).\n\nExample: `/tiles/demo-2024/legend?sector=power&format=png`"),
    "responses": {200: {"description": "The legend",
                        "content": {"application/json": {"example": {
                            "scale": "log", "colormap_name": "inferno", "rescale": [1000.0, 10000000.0],
                            "units": "kg day-1", "breaks": [1000.0, 10000.0, 100000.0, 1000000.0, 10000000.0],
                            "below": "not drawn", "below_label": "below 1k kg km-2 day-1: not drawn",
                            "classes": [{"min": 1000.0, "max": 10000.0, "label": "1k – 10k",
                                         "color": "#1b0c41"}]}},
                            "image/png": {"schema": {"type": "string", "format": "binary"}}}},
                  404: E404_DATASET, 422: E422},
}
