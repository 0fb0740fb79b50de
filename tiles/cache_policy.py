"""HTTP cache policy of the tile endpoints: version tokens, ``Cache-Control`` and ``ETag`` headers.

A response may be cached as ``public, max-age=31536000, immutable`` when it can never change under its
URL, i.e. when (a) the request carries ``v`` equal to the dataset version token (TileJSON and WMTS
templates add it; a rebuilt cube gets a new token and so new URLs), (b) it names an explicit
``release=`` (a published release never changes), or (c) the cube declares the attribute
``carbonmap_final_until`` (ISO date, the last day that later builds will not revise) and the whole
time step ends on or before it.  Otherwise ``public, max-age=<max_age>`` (seconds).
"""

from __future__ import annotations

import datetime as dt

from carbonmap.registry import Cube
from tiles.cache import make_etag
from tiles.layer import TimeStep, cube_version

IMMUTABLE = "public, max-age=31536000, immutable"
"""``Cache-Control`` of a response that can never change under its URL."""
FINAL_UNTIL_ATTR = "carbonmap_final_until"
"""Cube attribute (ISO date): days up to it will never be revised, so their tiles are immutable."""


def served_version(cube: Cube) -> str:
    """The cube's build version and release id: changes with every rebuild and every published release."""
    return f"{cube_version(cube)}@{cube.release}" if cube.release else cube_version(cube)


def version_token(cube: Cube) -> str:
    """Short token of the served cube version (release included), for cache-busting ``v=`` URL parameters."""
    return make_etag("version", cube.id, served_version(cube)).strip('"')[:16]


def is_final(cube: Cube, step: TimeStep) -> bool:
    """True if the cube declares every day of ``step`` final (attribute ``carbonmap_final_until``)."""
    final = cube.attrs.get(FINAL_UNTIL_ATTR)
    if not final:
        return False
    try:
        return step.end <= dt.date.fromisoformat(str(final)[:10])
    except ValueError:
        return False


def tile_is_immutable(cube: Cube, step: TimeStep, *, release: str | None, v: str | None) -> bool:
    """True if a tile of ``step`` asked for with these ``release`` and ``v`` parameters can never change."""
    return release is not None or (v is not None and v == version_token(cube)) or is_final(cube, step)


def cache_control(max_age: int, immutable: bool = False) -> str:
    """The ``Cache-Control`` value: :data:`IMMUTABLE`, else ``public, max-age=<max_age>`` (seconds)."""
    return IMMUTABLE if immutable else f"public, max-age={max_age}"


def cache_headers(etag: str, max_age: int, immutable: bool = False) -> dict[str, str]:
    """``ETag`` and ``Cache-Control`` headers of a response (``max_age`` in seconds)."""
    return {"ETag": etag, "Cache-Control": cache_control(max_age, immutable)}
