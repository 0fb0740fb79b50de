"""The HTTP caching policy of every served response: ETags and ``If-None-Match``, ``Cache-Control``, immutable
URLs and the release header.  The API routes and the tile server build these headers here and nowhere else, so
a tile, a TileJSON, a Zarr key, a release file and a release diff follow one set of rules.

- **ETag**: always strong and quoted.  :func:`make_etag` hashes everything that determines a response's bytes
  (tiles, WMTS); :func:`strong_etag` quotes an identifier that already names the bytes (a file's sha256, a
  store key's release, mtime and size).  Every ETag of a release's data includes the release id.
- **If-None-Match** (RFC 9110 section 13.1.2, weak comparison): a comma-separated list of ETags, ``W/``
  prefixes ignored, ``*`` matches any; :func:`etag_matches`.  A match answers ``304 Not Modified`` with the
  headers the 200 would have had (the Zarr store answers a ``Range`` request with bytes, never 304).
- **Cache-Control**: a URL whose answer can never change (:func:`immutable_url`: it pins a ``release``, or
  carries ``v=`` equal to the served version token, or every day it covers is declared final) is
  :data:`IMMUTABLE`; any other is ``public, max-age=<seconds>`` (:func:`cache_control`): the tile server's
  ``max_age`` (3600 s by default) for tiles, TileJSON, WMTS and legends, :data:`CURRENT_MAX_AGE` (60 s) for the
  Zarr store of the current release, which moves on when a release is published.  The HTML map page is
  :data:`NO_CACHE` (revalidated on every load).
- **Last-Modified** is not set by carbonmap (ETags only); release files get the file's from ``FileResponse``.
- **Release header**: ``X-Carbonmap-Release`` (:data:`RELEASE_HEADER`) names the release an answer was read
  from (:func:`release_headers`); browsers on other origins may read it and the others in
  :data:`EXPOSED_HEADERS`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carbonmap.registry import Cube

IMMUTABLE_MAX_AGE = 31_536_000
"""Seconds (one year) an immutable response may be cached."""
IMMUTABLE = f"public, max-age={IMMUTABLE_MAX_AGE}, immutable"
"""``Cache-Control`` of a response that can never change under its URL."""
CURRENT_MAX_AGE = 60
"""Seconds the current-release Zarr URLs may be cached (a new release can be published at any time)."""
NO_CACHE = "no-cache"
"""``Cache-Control`` of a response a client must revalidate on every use (the HTML map page)."""

RELEASE_HEADER = "X-Carbonmap-Release"
"""Response header naming the release an answer was read from."""

EXPOSED_HEADERS = ["Content-Disposition", "ETag", RELEASE_HEADER, "Content-Range", "Content-Length",
                   "Accept-Ranges", "Last-Modified", "Cache-Control", "Content-Crs", "Link"]
"""Response headers a browser script on another origin may read (CORS ``Access-Control-Expose-Headers``)."""


# ----------------------------------------------------------------------------------------------- ETags
def make_etag(*parts: object) -> str:
    """A strong, quoted ETag from everything that determines a response's bytes (blake2b, 24 hex digits)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def strong_etag(opaque: str) -> str:
    """The strong ETag ``"<opaque>"`` of an identifier that already names a response's bytes."""
    if '"' in opaque or not opaque.isprintable():
        raise ValueError(f"an ETag cannot contain quotes or control characters: {opaque!r}")
    return f'"{opaque}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """True if an ``If-None-Match`` header value names ``etag`` (or is ``*``): a comma-separated list,
    compared weakly (``W/`` prefixes ignored), as RFC 9110 asks of ``If-None-Match``."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


# ----------------------------------------------------------------------------------------------- Cache-Control
def immutable_url(*, release: str | None, v: str | None = None, token: str | None = None,
                  final: bool = False) -> bool:
    """True if the answer to a URL can never change: it names a ``release`` (a published release never
    changes), or its ``v`` equals ``token``, the version token of what is served now (a rebuild gets a new
    token, hence new URLs), or everything it covers is declared ``final``."""
    return release is not None or (v is not None and v == token) or final


def cache_control(max_age: int, immutable: bool = False) -> str:
    """The ``Cache-Control`` value: :data:`IMMUTABLE`, else ``public, max-age=<max_age>`` (seconds)."""
    return IMMUTABLE if immutable else f"public, max-age={max_age}"


def cache_headers(etag: str, max_age: int, immutable: bool = False) -> dict[str, str]:
    """``ETag`` and ``Cache-Control`` headers of a response (``max_age`` in seconds)."""
    return {"ETag": etag, "Cache-Control": cache_control(max_age, immutable)}


# ----------------------------------------------------------------------------------------------- releases
def release_header(release: str | None) -> dict[str, str]:
    """The ``X-Carbonmap-Release`` header naming ``release`` (empty for None: a store without releases)."""
    return {RELEASE_HEADER: release} if release else {}


def release_headers(cube: Cube) -> dict[str, str]:
    """The ``X-Carbonmap-Release`` header of an answer read from ``cube`` (empty without releases)."""
    return release_header(cube.release)


__all__ = ["CURRENT_MAX_AGE", "EXPOSED_HEADERS", "IMMUTABLE", "IMMUTABLE_MAX_AGE", "NO_CACHE", "RELEASE_HEADER",
           "cache_control", "cache_headers", "etag_matches", "immutable_url", "make_etag", "release_header",
           "release_headers", "strong_etag"]
