"""A small FastAPI app serving only the tile router (tests and the tile benchmark).

The main app (``api/``) includes the same ``CarbonTilerFactory().router``; both register
:func:`carbonmap.problems.install_problem_handlers` (one error table, :func:`carbonmap.errors.status_of`).
"""

from __future__ import annotations

from fastapi import FastAPI

from carbonmap.problems import install_problem_handlers
from carbonmap.registry import Registry
from carbonmap.settings import Settings, get_settings
from tiles.factory import CarbonTilerFactory


def create_tiles_app(registry: Registry, factory: CarbonTilerFactory | None = None,
                     settings: Settings | None = None) -> FastAPI:
    """A FastAPI app with the tile router and problem+json handlers; the registry is on app.state."""
    app = FastAPI(title="carbonmap tiles", description="Map tiles, TileJSON and legends of carbonmap cubes.")
    app.state.registry = registry
    factory = factory or CarbonTilerFactory.from_settings(settings or get_settings())
    app.state.tiler = factory
    app.include_router(factory.router)
    install_problem_handlers(app)
    return app
