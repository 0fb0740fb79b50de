"""Documentation pieces of the tile endpoints: problem examples and the shared query/path parameters.

The parameters every tile route shares are declared here once: as ``Annotated`` types (one description
and example each) and, grouped, as dataclasses the titiler way (``titiler.core.dependencies``):
:class:`LayerParams` (``sector``, ``variable``), :class:`StyleParams` (``scale``, ``rescale``,
``colormap_name``) and :class:`TemplateParams` (``tile_format``, ``tilesize``).  A route endpoint takes a
group as one argument (``style: StyleParams``) and is wrapped by :func:`expand_query_params`, which shows
FastAPI the group's fields as plain query parameters in that place (documented as declared here, parsed
with no per-request sub-dependency; titiler's ``Depends()`` on a dataclass would cost a thread-pool hop).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query

from carbonmap import contract as cc
from carbonmap.problems import PROBLEM_MEDIA_TYPE
from tiles import colormap as cm
from tiles.layer import LAYER_SECTORS, VARIABLES, BadTileRequest

SUPPORTED_TMS: tuple[str, ...] = ("WebMercatorQuad", "WorldCRS84Quad")
R = TypeVar("R")


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
DefaultTimeQuery = Annotated[str | None, Query(description="UTC day `YYYY-MM-DD`, month `YYYY-MM` or year `YYYY`; "
                                                           "default: the last day.",
                                               examples=["2024-03-01"])]
TemplateFormatQuery = Annotated[str, Query(description="Tile format of the tile URL templates: `png` or `webp`.",
                                           examples=["png"], json_schema_extra={"enum": list(cm.FORMATS)})]
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


# ---- the shared parameters, grouped (titiler-style dataclasses) --------------------------------


class QueryParams:
    """Base of the parameter groups: a dataclass of ``Annotated`` query parameters (titiler's
    ``DefaultDependency`` style).  A route endpoint wrapped by :func:`expand_query_params` takes a group as
    one argument (``style: StyleParams``) and FastAPI sees, documents and parses its fields as plain query
    parameters in that place: no sub-dependency to solve per request."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class LayerParams(QueryParams):
    """The layer of a request: ``sector`` and ``variable``."""

    sector: SectorQuery = cc.TOTAL
    variable: VariableQuery = cc.EMISSIONS_VAR


@dataclass(frozen=True, slots=True)
class StyleParams(QueryParams):
    """The colour style of a request: ``scale``, ``rescale`` and ``colormap_name`` (None: the variable's
    default style)."""

    scale: ScaleQuery = None
    rescale: RescaleQuery = None
    colormap_name: ColormapQuery = None

    def query(self) -> dict[str, str]:
        """The parameters given (not None), in declaration order, for URLs that carry the same style."""
        return {key: value for key, value in (("scale", self.scale), ("rescale", self.rescale),
                                              ("colormap_name", self.colormap_name)) if value is not None}


@dataclass(frozen=True, slots=True)
class TemplateParams(QueryParams):
    """The tile URL templates a TileJSON or WMTS document carries: ``tile_format`` and ``tilesize`` (pixels)."""

    tile_format: TemplateFormatQuery = "png"
    tilesize: TileSizeQuery = 256


def expand_query_params(endpoint: Callable[..., R]) -> Callable[..., R]:
    """``endpoint`` with each :class:`QueryParams` argument replaced, in FastAPI's eyes, by the group's fields.

    The wrapper's ``__signature__`` lists the fields (with their ``Annotated`` query documentation) where
    the group stood, so the OpenAPI parameter order follows the endpoint's; each call builds the groups from
    the parsed values and calls ``endpoint`` with them.  Sync endpoints stay sync (run in the thread pool).
    """
    signature = inspect.signature(endpoint, eval_str=True)
    params: list[inspect.Parameter] = []
    groups: list[tuple[str, type[QueryParams], tuple[str, ...]]] = []
    for param in signature.parameters.values():
        group = param.annotation
        if isinstance(group, type) and issubclass(group, QueryParams):
            fields = inspect.signature(group, eval_str=True).parameters.values()
            groups.append((param.name, group, tuple(f.name for f in fields)))
            params.extend(f.replace(kind=inspect.Parameter.KEYWORD_ONLY) for f in fields)
        else:
            params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise TypeError(f"{endpoint.__qualname__}: a parameter group repeats a parameter name: {names}")

    @functools.wraps(endpoint)
    def wrapper(**kwargs: Any) -> R:
        for name, group, fields in groups:
            kwargs[name] = group(*[kwargs.pop(f) for f in fields])
        return endpoint(**kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper
