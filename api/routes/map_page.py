"""``GET /``: the minimal map page, and ``/static`` for its script and style (no CDN, works offline)."""

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
                         description="A dependency-free map of the default dataset's tiles with date and "
                                     "sector pickers; state lives in the URL hash (`#date=&sector=&z=&lat=&lon=`).",
                         responses={200: {"content": {"text/html": {"example": "<!doctype html>..."}}}})
        def index() -> HTMLResponse:
            return HTMLResponse((self.static_dir / "index.html").read_text(encoding="utf-8"),
                                headers={"Cache-Control": "no-cache"})
