"""``GET /tiles/colormaps`` (the colormap names a ``colormap_name=`` accepts) and ``GET /tiles/colormaps/{name}``
(one ramp as JSON colours or a PNG swatch).

Error messages about an unknown ``colormap_name`` send users here.  The names are rio-tiler's registry
(:func:`tiles.colormap.colormap_names`) less those that are not a 256-entry ramp (refused by
:func:`tiles.colormap.palette`).
"""

from __future__ import annotations

import io
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Path, Query
from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from carbonmap.http_policy import cache_control
from tiles import colormap as cm
from tiles.layer import BadTileRequest, TileNotFound
from tiles.params import E422, problem_doc

CACHE = cache_control(86400)  # colour ramps change only with the code
E404_COLORMAP = problem_doc(404, "colormap-not-found", "unknown colormap 'nope'; see /tiles/colormaps for the names")


def usable_colormaps() -> list[str]:
    """Sorted names that ``colormap_name=`` accepts (256-entry ramps)."""
    names = []
    for name in cm.colormap_names():
        try:
            cm.palette(name)
        except BadTileRequest:
            continue
        names.append(name)
    return names


def _defaults() -> dict[str, str]:
    return {variable: style.colormap_name for variable, style in cm.DEFAULT_STYLES.items()}


def swatch_png(name: str, width: int = 256, height: int = 16) -> bytes:
    """The ramp of ``name`` left (index 1) to right (index 255) as an RGBA PNG."""
    pal = cm.palette(name)
    cols = pal[1 + np.rint(np.linspace(0, cm.N_COLOURS - 1, width)).astype(int)]
    buf = io.BytesIO()
    Image.fromarray(np.repeat(cols[None], height, axis=0), mode="RGBA").save(buf, format="PNG")
    return buf.getvalue()


def add_colormap_routes(router: APIRouter, operation_prefix: str = "") -> None:
    """Register the two colormap endpoints on ``router`` (which carries the ``/tiles`` prefix); call it
    before the ``/{dataset}/...`` routes."""

    @router.get(
        "/colormaps",
        operation_id=f"{operation_prefix}getColormaps",
        summary="Colormap names accepted by `colormap_name`",
        description="Every colormap a tile, TileJSON, WMTS or legend request accepts as `colormap_name`, the "
                    "default per variable, and a link to each ramp.\n\nExample: `/tiles/colormaps`",
        responses={200: {"description": "The colormap names", "content": {"application/json": {"example": {
            "colormaps": [{"name": "inferno", "href": "http://localhost:8000/tiles/colormaps/inferno",
                           "swatch": "http://localhost:8000/tiles/colormaps/inferno?format=png"}],
            "defaults": {"emissions": "inferno", "uncertainty": "viridis"},
            "usage": "add colormap_name=<name> to a tile, TileJSON, WMTS or legend request"}}}}},
    )
    def colormaps(request: Request) -> JSONResponse:
        items = []
        for name in usable_colormaps():
            href = str(request.url_for("colormap", name=name))
            items.append({"name": name, "href": href, "swatch": f"{href}?format=png"})
        body: dict[str, Any] = {"colormaps": items, "defaults": _defaults(),
                                "usage": "add colormap_name=<name> to a tile, TileJSON, WMTS or legend request"}
        return JSONResponse(body, headers={"Cache-Control": CACHE})

    @router.get(
        "/colormaps/{name}",
        name="colormap",
        operation_id=f"{operation_prefix}getColormap",
        summary="One colormap: its 255 colours (JSON) or a swatch (PNG)",
        description="The colours tiles use for `colormap_name=<name>`, from the lowest to the highest value "
                    "(palette index 0, transparent, is zero or no data).\n\n"
                    "Example: `/tiles/colormaps/inferno?format=png`",
        responses={200: {"description": "The colormap", "content": {
            "application/json": {"example": {"name": "inferno", "colors": ["#000004", "#010005"],
                                             "transparent": "zero emissions or no data"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}}}},
            404: E404_COLORMAP, 422: E422},
    )
    def colormap(
        name: Annotated[str, Path(description="A name from `GET /tiles/colormaps`.", examples=["inferno"])],
        format: Annotated[str, Query(description="`json` or `png` (a 256x16 swatch).", examples=["json"],
                                     json_schema_extra={"enum": ["json", "png"]})] = "json",
    ) -> Response:
        if name not in cm.colormap_names():
            raise TileNotFound(f"unknown colormap {name!r}; see /tiles/colormaps for the names")
        cm.palette(name)  # a registered name that is not a 256-entry ramp: 422 with a sentence
        if format == "png":
            return Response(swatch_png(name), media_type="image/png", headers={"Cache-Control": CACHE})
        if format != "json":
            raise BadTileRequest(f"unknown format {format!r}; use format=json or format=png")
        colors = ["#{:02x}{:02x}{:02x}".format(*rgba[:3]) for rgba in cm.palette(name)[1:]]
        return JSONResponse({"name": name, "colors": colors, "transparent": "zero emissions or no data",
                             "default_for": [v for v, n in _defaults().items() if n == name]},
                            headers={"Cache-Control": CACHE})
