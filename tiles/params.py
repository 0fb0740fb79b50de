"""Documentation pieces of the tile endpoints: problem examples and the shared query/path parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from carbonmap.problems import PROBLEM_MEDIA_TYPE
from tiles import colormap as cm
from tiles.layer import LAYER_SECTORS, VARIABLES, BadTileRequest

SUPPORTED_TMS: tuple[str, ...] = ("WebMercatorQuad", "WorldCRS84Quad")


def problem_doc(status: int, kind: str, detail: str) -> dict[str, Any]:
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


E404_DATASET = problem_doc(404, "dataset-not-found", "unknown dataset 'nope'; served datasets: demo-2024")
E404_DATE = problem_doc(404, "date-out-of-range", "date 2023-12-31 is outside dataset 'demo-2024', which covers "
                                                "2024-01-01 to 2024-12-31")
E404_TILE = problem_doc(404, "tile-not-found", "tile 3/9/2 is outside WebMercatorQuad: at zoom 3 x must be 0 to 7 "
                                             "and y 0 to 7")
E422 = problem_doc(422, "invalid-parameter", "unknown sector 'coal'; known sectors: power, industry, "
                                           "ground_transport, residential, domestic_aviation, "
                                           "international_aviation, international_shipping, total")

# ---- parameters (shared Annotated types, documented once) -------------------------------------

DatasetPath = Annotated[str, Path(description="Dataset id, as listed by `GET /datasets`.",
                                  examples=["demo-2024"])]
TmsPath = Annotated[str, Path(description="Tile matrix set: `WebMercatorQuad` (web maps) or `WorldCRS84Quad`.",
                              examples=["WebMercatorQuad"], json_schema_extra={"enum": list(SUPPORTED_TMS)})]
SectorQuery = Annotated[str, Query(description="One of the 7 sectors, or `total` (their sum).",
                                   examples=["total"], json_schema_extra={"enum": list(LAYER_SECTORS)})]
VariableQuery = Annotated[str, Query(description="`emissions` (shown as kg CO2 km-2 day-1) or `uncertainty` "
                                                 "(relative 1-sigma; needs a sector, not `total`).",
                                     examples=["emissions"], json_schema_extra={"enum": list(VARIABLES)})]
ScaleQuery = Annotated[str | None, Query(description="Colour scale: `log` (default for emissions), `linear` "
                                                     "(default for uncertainty) or `quantile` (equal shares of "
                                                     "the data's cells per colour; class breaks from its "
                                                     "percentiles).",
                                         examples=["log"], json_schema_extra={"enum": list(cm.SCALES)})]
RescaleQuery = Annotated[str | None, Query(description="Value range `min,max` mapped onto the colormap, in the "
                                                       "variable's units (emissions: kg CO2 km-2 day-1); default: "
                                                       "the layer's own 2nd-99.5th percentile of positive values "
                                                       "over the dataset, rounded inwards to 1-2-5 steps "
                                                       "(emissions), 0,1 (uncertainty). Not with `scale=quantile`.",
                                           examples=["1,100000"])]
TimeQuery = Annotated[str, Query(description="Time step: a UTC day `YYYY-MM-DD`, a month `YYYY-MM` (monthly "
                                             "mean) or a year `YYYY` (annual mean), inside the dataset's range.",
                                 examples=["2024-03-01"])]
VersionQuery = Annotated[str | None, Query(description="Dataset version token (TileJSON and WMTS add it). With the "
                                                       "current token the tile is cached as immutable.",
                                           examples=["3f2a9c0d1e4b5a67"])]
ColormapQuery = Annotated[str | None, Query(description="A rio-tiler colormap name, e.g. `inferno`, `viridis`, "
                                                        "`magma`, `ylorrd`. Default: inferno (emissions), viridis "
                                                        "(uncertainty).",
                                            examples=["inferno"])]

# ---- high-DPI tiles ---------------------------------------------------------------------------

PIXEL_RATIOS: tuple[int, ...] = (1, 2)
"""``@<n>x`` tile suffixes served: 1 (256 px, also without a suffix) and 2 (512 px, high-DPI screens)."""
PIXEL_RATIO_PARAM: dict[str, Any] = {
    "name": "pixel_ratio", "in": "path", "required": True,
    "description": "Device pixel ratio of the `@<n>x` suffix: `2` gives a 512x512 tile covering the same area "
                   "as the 256x256 one (high-DPI screens).",
    "schema": {"type": "integer", "enum": list(PIXEL_RATIOS)}, "example": 2}


def pixel_ratio(text: str | None) -> int:
    """The pixel ratio of a ``@<n>x`` tile path (1 without a suffix); BadTileRequest (422) otherwise."""
    if text is None:
        return 1
    if text.isdigit() and int(text) in PIXEL_RATIOS:
        return int(text)
    raise BadTileRequest(f"tile suffix '@{text}x' is not served; use @2x (512 px) or no suffix (256 px)")
TILE_SIZES: tuple[int, ...] = (256, 512)
TileSizeQuery = Annotated[int, Query(description="Tile edge in pixels of the URL template: `256`, or `512` for "
                                                 "high-DPI screens (the template then ends in `@2x.<format>`; a "
                                                 "512 px tile covers the same area as the 256 px one).",
                                     examples=[256], json_schema_extra={"enum": list(TILE_SIZES)})]


def tile_ratio(tilesize: int) -> int:
    """The ``@<n>x`` pixel ratio of a template's tile size (256 -> 1, 512 -> 2); BadTileRequest otherwise."""
    if tilesize not in TILE_SIZES:
        raise BadTileRequest(f"tilesize {tilesize} is not served; use tilesize=256 or tilesize=512")
    return tilesize // TILE_SIZES[0]
