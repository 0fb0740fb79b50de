"""``GET /docs`` (Swagger UI) and ``GET /redoc`` served from local files, so the API docs work offline.

FastAPI's default docs pages load Swagger UI and ReDoc from a CDN.  ``DocsFactory(...).install(app)``
removes those routes and serves:

- ``/docs``: Swagger UI, its script and style from ``assets_dir`` mounted at ``assets_url``;
- ``/docs/oauth2-redirect``: Swagger UI's OAuth2 redirect helper;
- ``/redoc``: ReDoc, if ``redoc_js`` exists in ``assets_dir``; otherwise ``/redoc`` is not served.

The assets are Swagger UI 5 from npm (``swagger-ui-dist``), copied into ``api/static/vendor/docs`` by
``web/build.mjs`` and committed.  Swagger UI 5 is needed because FastAPI emits OpenAPI 3.1, which
Swagger UI 4 (what the PyPI package ``swagger-ui-bundle`` 1.1 ships) refuses to render.  ReDoc is
not shipped (another 1.1 MB), so ``/redoc`` is not served unless ``redoc_js`` is put in ``assets_dir``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount, Route

from api.proxy import public_path
from api.routes.map_page import STATIC_DIR
from carbonmap.errors import StorageError

VENDOR_DOCS_DIR = STATIC_DIR / "vendor" / "docs"
"""Swagger UI 5 files copied from npm (swagger-ui-dist) by ``web/build.mjs``."""
DEFAULT_DOC_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")


class DocsAssetsMissing(StorageError):
    """The directory of the docs' script and style does not hold the files the page needs."""


@dataclass
class DocsFactory:
    """Builds the offline docs router; ``install(app)`` swaps it in for FastAPI's CDN-based pages.

    Attributes:
        assets_dir: directory holding ``swagger-ui-bundle.js`` and ``swagger-ui.css`` (and ``redoc_js``).
        assets_url: URL path at which ``assets_dir`` is mounted (must not be under another mount).
        title: page title prefix.
        redoc_js: ReDoc's standalone script name inside ``assets_dir``.
    """

    assets_dir: Path = VENDOR_DOCS_DIR
    assets_url: str = "/docs-assets"
    title: str = "carbonmap"
    openapi_url: str = "/openapi.json"
    redoc_js: str = "redoc.standalone.js"
    router: APIRouter = field(default_factory=lambda: APIRouter(include_in_schema=False))

    def __post_init__(self) -> None:
        for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
            if not (self.assets_dir / name).is_file():
                raise DocsAssetsMissing(f"{self.assets_dir} has no {name}; run `npm ci && npm run build` in web/ "
                                        "(it copies Swagger UI into api/static/vendor/docs) or point assets_dir "
                                        "at a Swagger UI 5 distribution")
        oauth_url = "/docs/oauth2-redirect"

        @self.router.get("/docs", response_class=HTMLResponse)
        def swagger_ui(request: Request) -> HTMLResponse:
            p = partial(public_path, request)  # behind a trusted prefix proxy every URL keeps the prefix
            return get_swagger_ui_html(
                openapi_url=p(self.openapi_url), title=f"{self.title} API", oauth2_redirect_url=p(oauth_url),
                swagger_js_url=p(f"{self.assets_url}/swagger-ui-bundle.js"),
                swagger_css_url=p(f"{self.assets_url}/swagger-ui.css"),
                swagger_favicon_url=p(self.favicon_url))

        @self.router.get(oauth_url, response_class=HTMLResponse)
        def swagger_ui_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

        if self.has_redoc:
            @self.router.get("/redoc", response_class=HTMLResponse)
            def redoc(request: Request) -> HTMLResponse:
                p = partial(public_path, request)
                return get_redoc_html(openapi_url=p(self.openapi_url), title=f"{self.title} API (ReDoc)",
                                      redoc_js_url=p(f"{self.assets_url}/{self.redoc_js}"),
                                      redoc_favicon_url=p(self.favicon_url), with_google_fonts=False)

    @property
    def has_redoc(self) -> bool:
        return (self.assets_dir / self.redoc_js).is_file()

    @property
    def favicon_url(self) -> str:
        """A local favicon (the map's), so the browser does not fetch FastAPI's default from the internet."""
        return "/static/favicon.svg"

    def install(self, app: FastAPI) -> FastAPI:
        """Drop FastAPI's CDN docs routes from ``app``, add the local ones and mount the assets; returns app."""
        app.router.routes[:] = [r for r in app.router.routes
                                if not (isinstance(r, Route) and r.path in DEFAULT_DOC_PATHS)]
        app.docs_url = "/docs"
        app.redoc_url = "/redoc" if self.has_redoc else None
        app.swagger_ui_oauth2_redirect_url = "/docs/oauth2-redirect"
        app.include_router(self.router)
        if not any(isinstance(r, Mount) and r.path == self.assets_url for r in app.router.routes):
            app.mount(self.assets_url, StaticFiles(directory=self.assets_dir), name="docs-assets")
        return app
