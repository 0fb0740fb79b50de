"""A small FastAPI app serving only the tile router (tests and the tile benchmark).

The main app (``api/``) includes the same ``CarbonTilerFactory().router`` with its own handlers;
these minimal handlers give the same mapping: LookupError -> 404, ValueError -> 422, request
validation -> 422, as ``application/problem+json`` ``{type, title, status, detail}``.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from carbonmap.registry import Registry
from tiles.factory import CarbonTilerFactory
from tiles.params import PROBLEM_MEDIA_TYPE

_TITLES = {404: "Not Found", 405: "Method Not Allowed", 422: "Unprocessable Content"}


def problem_response(status: int, detail: str, kind: str) -> JSONResponse:
    body = {"type": f"urn:carbonmap:problem:{kind}", "title": _TITLES.get(status, "Error"), "status": status,
            "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _kind(exc: Exception) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", type(exc).__name__).lower()


def install_tile_problem_handlers(app: FastAPI) -> None:
    """LookupError -> 404, ValueError -> 422, validation -> 422, HTTP errors -> their status."""

    async def lookup(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(404, str(exc), _kind(exc))

    async def value(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(422, str(exc), "invalid-parameter")

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        parts = [f"{' '.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')} (got {e.get('input')!r})"
                 for e in exc.errors()]
        return problem_response(422, "; ".join(parts) + ". Fix the parameter and retry.", "invalid-parameter")

    async def http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no endpoint at {request.url.path}; see /docs for the tile endpoints"
        return problem_response(exc.status_code, detail, "http-error")

    app.add_exception_handler(LookupError, lookup)
    app.add_exception_handler(ValueError, value)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http)


def create_tiles_app(registry: Registry, factory: CarbonTilerFactory | None = None) -> FastAPI:
    """A FastAPI app with the tile router and problem+json handlers; the registry is on app.state."""
    app = FastAPI(title="carbonmap tiles", description="Map tiles, TileJSON and legends of carbonmap cubes.")
    app.state.registry = registry
    factory = factory or CarbonTilerFactory()
    app.state.tiler = factory
    app.include_router(factory.router)
    install_tile_problem_handlers(app)
    return app
