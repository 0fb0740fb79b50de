"""What is tile-specific in the HTTP cache policy: version tokens and when a tile URL is immutable.

The rules themselves (ETags, ``If-None-Match``, ``Cache-Control`` values, the release header) are
:mod:`carbonmap.http_policy`, shared with the API.  Here: a tile response can never change under its URL
(:func:`carbonmap.http_policy.immutable_url`) when (a) the request carries ``v`` equal to the dataset version
token (TileJSON and WMTS templates add it; a rebuilt cube gets a new token and so new URLs), (b) it names an
explicit ``release=`` (a published release never changes), or (c) the cube declares the attribute
``carbonmap_final_until`` (ISO date, the last day that later builds will not revise) and the whole time step
ends on or before it.
"""

from __future__ import annotations

import datetime as dt

from carbonmap.http_policy import immutable_url, make_etag
from carbonmap.registry import Cube
from tiles.layer import TimeStep, cube_version

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
    return immutable_url(release=release, v=v, token=version_token(cube) if v is not None else None,
                         final=is_final(cube, step))
