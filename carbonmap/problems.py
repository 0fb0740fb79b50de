"""Errors as RFC 9457 ``application/problem+json``: the model, the responses and the handlers, for the API and the
tile app alike.

Mapping (:func:`carbonmap.errors.status_of`, the one table; the API never answers bad input with a 500 and never
blames the client for a bug):

- :class:`~carbonmap.errors.NotFound` (unknown dataset, region, release, date outside the cube) -> 404
- :class:`~carbonmap.errors.InvalidInput` (``ContractError``: unknown sector, end before start, bad GeoJSON...) -> 422
- :class:`~carbonmap.errors.TooLarge` (a period longer than ``max_query_days``, too many cells x days)  -> 422
- request validation errors (a malformed date, a bad ``freq``)                            -> 422
- request bodies over ``max_body_bytes`` (see ``api.limits``)                             -> 413
- :class:`~carbonmap.errors.StorageError` and anything else (a ``ValueError`` from numpy, a ``KeyError``) -> 500,
  logged with its traceback
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from carbonmap import errors

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:carbonmap:problem:"

log = logging.getLogger(__name__)


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "type": "urn:carbonmap:problem:date-out-of-range",
        "title": "Not Found",
        "status": 404,
        "detail": "date 2023-12-31 is outside dataset 'demo-2024', which covers 2024-01-01 to 2024-12-31",
    }]})

    type: str = Field(description="a URN naming the kind of problem")
    title: str = Field(description="the HTTP status phrase")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what was wrong and what to change, as a sentence")
    errors: list[dict[str, Any]] | None = Field(
        None, description="for request validation errors: each bad parameter, where it was and why")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


_TITLES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
           413: "Content Too Large", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
           422: "Unprocessable Content",
           500: "Internal Server Error"}


def problem(status: int, detail: str, kind: str, errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> ProblemResponse:
    """A problem+json response; ``kind`` is a short slug such as ``date-out-of-range``."""
    body = Problem(type=PROBLEM_TYPE_PREFIX + kind, title=_TITLES.get(status, "Error"), status=status,
                   detail=detail, errors=errors)
    return ProblemResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def problem_title(status: int) -> str:
    """The ``title`` of a problem with this HTTP status."""
    return _TITLES.get(status, "Error")


def problem_example(status: int, kind: str, detail: str) -> dict[str, Any]:
    return {"type": PROBLEM_TYPE_PREFIX + kind, "title": problem_title(status), "status": status,
            "detail": detail}


def problem_responses(**examples: tuple[str, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for error statuses, e.g. ``problem_responses(e404=("kind", "detail"))``.

    Keys are ``e<status>``; each value is (kind, detail) of the example.  ``api.openapi`` moves
    the content to ``application/problem+json``.
    """
    out: dict[int | str, dict[str, Any]] = {}
    for key, (kind, detail) in examples.items():
        status = int(key.lstrip("e"))
        out[status] = {"model": Problem, "description": _TITLES.get(status, "Error"),
                       "content": {"application/json": {"example": problem_example(status, kind, detail)}}}
    return out


def _describe_validation(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """One sentence per bad parameter, naming it, what was given and what to send instead."""
    sentences, tidy = [], []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else "request"
        name = ".".join(loc[1:]) or where
        place = {"query": "query parameter", "path": "path parameter", "body": "request body field",
                 "header": "header"}.get(where, "parameter")
        msg = str(err.get("msg", "is invalid"))
        given = err.get("input")
        hint = ""
        etype = str(err.get("type", ""))
        if etype.startswith(("date", "datetime")):
            hint = "; use a date like 2024-03-01 (YYYY-MM-DD)"
        elif etype == "string_pattern_mismatch" and name == "iso3":
            hint = "; use a 3-letter ISO 3166-1 alpha-3 code such as USA, or WLD for the world"
        shown = f" (got {given!r})" if given is not None and not isinstance(given, (dict, list)) else ""
        sentences.append(f"{place} '{name}'{shown}: {msg}{hint}.")
        tidy.append({"in": where, "name": name, "message": msg, "type": etype})
    return " ".join(sentences) + " Fix the parameter and retry.", tidy


async def _carbonmap_handler(request: Request, exc: Exception) -> ProblemResponse:
    status, kind = errors.status_of(exc)
    if status >= 500:
        return await _server_error_handler(request, exc)
    return problem(status, str(exc) or problem_title(status), kind)


async def _validation_handler(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    detail, tidy = _describe_validation(list(exc.errors()))
    return problem(422, detail, "invalid-parameter", errors=tidy)


async def _http_handler(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if status == 404 and detail == "Not Found":
        detail = f"no endpoint at {request.url.path}; see /docs for the endpoints this server offers"
    elif status == 405:
        method = request.scope.get("carbonmap.original_method", request.method)  # see api.proxy.HeadMiddleware
        detail = f"method {method} is not allowed on {request.url.path}; see /docs"
    return problem(status, detail, errors.slug(_TITLES.get(status, "http-error").replace(" ", "")),
                   headers=getattr(exc, "headers", None))


async def _server_error_handler(request: Request, exc: Exception) -> ProblemResponse:
    log.error("error on %s", request.url.path, exc_info=exc)
    if isinstance(exc, errors.StorageError):
        return problem(500, "the data behind this request is missing or damaged on the server; please report it "
                            "with the URL you called", errors.status_of(exc)[1])
    return problem(500, "the server failed to answer this request; this is a bug in carbonmap, "
                        "please report it with the URL you called", "internal-error")


def install_problem_handlers(app: FastAPI) -> None:
    """Register the exception -> problem+json handlers listed in the module docstring (the API's and the tile
    app's)."""
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(errors.CarbonmapError, _carbonmap_handler)
    app.add_exception_handler(Exception, _server_error_handler)
