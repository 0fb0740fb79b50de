"""``GET /``: the web map, and ``/static`` for its assets (no CDN: the page loads nothing from the internet).

The page is MapLibre GL JS (``/static/vendor``, copied from npm) driven by ``/static/map.js``, which
``web/build.mjs`` bundles from ``web/src``; ``/static/basemap`` holds country outlines and places
derived from Natural Earth by ``web/basemap.py``.  All built files are committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


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
        def index() -> HTMLResponse:
            return HTMLResponse((self.static_dir / "index.html").read_text(encoding="utf-8"),
                                headers={"Cache-Control": "no-cache"})
