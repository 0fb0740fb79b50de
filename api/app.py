"""The FastAPI application: ``create_app(registry, settings)`` wires routers, middleware and errors.

The registry (which datasets are served, from trusted paths read at start-up) is injected: it is
stored on ``app.state`` and handed to routers through ``api.deps.get_registry``; no route reads a
global or a client-given path.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api import openapi
from api.connections import ConnectionRecycleMiddleware
from api.deps import get_registry
from api.limits import BodySizeLimitMiddleware
from api.proxy import ForwardedHeadersMiddleware, HeadMiddleware, parse_trusted
from api.routes.analysis import AnalysisFactory
from api.routes.datasets import DatasetsFactory
from api.routes.docs import DocsFactory
from api.routes.download import DownloadFactory
from api.routes.health import HealthFactory
from api.routes.map_page import STATIC_DIR, MapPageFactory
from api.routes.pathway import PathwayFactory
from api.routes.query import QueryFactory
from api.routes.region_catalogue import RegionCatalogueFactory
from api.routes.regions import RegionsFactory
from api.routes.stac import StacFactory
from api.routes.zarr_http import ZarrHttpFactory
from api.warmup import warm
from carbonmap import __version__
from carbonmap.caches import AppCaches
from carbonmap.http_policy import EXPOSED_HEADERS
from carbonmap.problems import install_problem_handlers
from carbonmap.registry import Registry
from carbonmap.settings import Settings
from carbonmap.settings import get_settings as load_settings
from tiles.factory import CarbonTilerFactory

TITLE = "carbonmap"

OPENAPI_TAGS = [
    {"name": "health", "description": "Liveness and what is served."},
    {"name": "datasets", "description": "The served cubes: coverage, units, grid, provenance, licence, citation."},
    {"name": "regions", "description": "Emissions of countries and the world per period and sector."},
    {"name": "analysis", "description": "A region's total, sectors, history, peak verdict, target gap, largest "
                                        "facilities, and the sector pathway to a target."},
    {"name": "Tiles", "description": "Map tiles (PNG/WebP), TileJSON and legends."},
    {"name": "map", "description": "The web map."},
]


def create_app(registry: Registry, settings: Settings | None = None) -> FastAPI:
    """Build the app that serves ``registry``'s datasets with ``settings`` (default: the process settings)."""
    settings = settings or load_settings()
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # sync routes run on anyio's thread pool: bound it so a saturated worker serves in arrival order
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.serve_threads
        if settings.serve_warmup:
            await warm(app, registry)  # before the first connection: each kind of request once (api/warmup.py)
        yield

    app = FastAPI(title=TITLE, version=__version__, description=openapi.description(registry),
                  openapi_tags=OPENAPI_TAGS, license_info={"name": "Apache-2.0 (code); data: see each dataset"},
                  lifespan=lifespan)
    app.state.registry = registry
    app.state.settings = settings
    app.state.caches = AppCaches()  # every cache of this app (carbonmap.caches)

    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                       allow_methods=["GET", "HEAD", "POST"], allow_headers=["*"], expose_headers=EXPOSED_HEADERS)
    app.add_middleware(ConnectionRecycleMiddleware, every=settings.serve_keep_alive_requests)
    app.add_middleware(HeadMiddleware)  # outside CORS: a HEAD gets the GET's CORS headers too
    parse_trusted(settings.trusted_proxies)  # a bad entry fails here, at start-up, not on the first request
    app.add_middleware(ForwardedHeadersMiddleware, trusted=list(settings.trusted_proxies))  # outermost

    app.include_router(HealthFactory().router)
    app.include_router(DatasetsFactory().router)
    app.include_router(RegionCatalogueFactory().router)  # before RegionsFactory: non-ISO3 /regions/{id}/emissions
    app.include_router(AnalysisFactory().router)
    app.include_router(PathwayFactory().router)
    app.include_router(RegionsFactory().router)
    app.include_router(QueryFactory().router)
    app.include_router(DownloadFactory().router)
    app.include_router(ZarrHttpFactory().router)
    app.include_router(StacFactory().router)
    app.include_router(CarbonTilerFactory.from_settings(settings, registry_dependency=get_registry).router)  # /tiles/
    app.include_router(MapPageFactory().router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    DocsFactory().install(app)  # /docs from local files (no CDN)

    openapi.install_openapi(app)
    return app
