"""``GET /``: the web map, and ``/static`` for its assets (no CDN: the page loads nothing from the internet).

The page is MapLibre GL JS (``/static/vendor``, copied from npm) driven by ``/static/map.js``, which
``web/build.mjs`` bundles from ``web/src``; ``/static/basemap`` holds country outlines and places
derived from Natural Earth by ``web/basemap.py``.  All built files are committed.

Behind a reverse proxy that serves the app under a prefix (a trusted proxy's ``X-Forwarded-Prefix``, or
the server's ``--root-path``) the page must load everything under that prefix: ``GET /`` writes
``<base href="{root_path}/">`` into the page, ``index.html`` names its assets relatively (``static/map.js``)
and the script resolves every API path against the page's base (``url()`` in ``web/src/api.js``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.proxy import public_root
from carbonmap.http_policy import NO_CACHE

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
_HEAD_RE = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_DOCTYPE_RE = re.compile(r"<!doctype[^>]*>", re.IGNORECASE)


def with_base(page: str, root_path: str) -> str:
    """``page`` with ``<base href="{root_path}/">`` (HTML-escaped) as the first element of its ``<head>`` (after
    ``<!doctype>`` when there is no ``<head>`` tag, else at the very start), so that the page's relative
    URLs resolve under the prefix the client sees the app at (``""``: the host's root, ``<base href="/">``)."""
    tag = f'<base href="{html.escape(root_path.rstrip("/") + "/", quote=True)}">'
    if head := _HEAD_RE.search(page):
        return f"{page[:head.end()]}\n  {tag}{page[head.end():]}"
    at = doctype.end() if (doctype := _DOCTYPE_RE.search(page)) else 0
    return page[:at] + tag + page[at:]


@dataclass
class MapPageFactory:
    """Builds the router of the map page; the app mounts ``STATIC_DIR`` at ``/static``."""

    static_dir: Path = STATIC_DIR
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["map"]))

    def __post_init__(self) -> None:
        @self.router.get("/", response_class=HTMLResponse, summary="The web map",
                         description="A MapLibre map of a dataset's tiles with a time slider (play/pause), a "
                                     "sector picker, legend, country/city search, per-country and drawn-area "
                                     "charts, and the dataset's provenance and licence. State lives in the URL "
                                     "hash (`#dataset=&date=&sector=&z=&lat=&lon=&region=`).",
                         responses={200: {"content": {"text/html": {"example": "<!doctype html>..."}}}})
        def index(request: Request) -> HTMLResponse:
            page = (self.static_dir / "index.html").read_text(encoding="utf-8")
            return HTMLResponse(with_base(page, public_root(request)), headers={"Cache-Control": NO_CACHE})
