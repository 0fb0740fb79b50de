"""``POST /emissions/query``: emissions inside any GeoJSON polygon per period and sector, with a 90% interval.

The route only: its request body, OpenAPI description and examples, and the factory.  The sums come from
the read engine (:func:`api.query_engine.query_geometry`, t CO2 per period and sector), the response schema
from :mod:`api.query_models`, the bytes from :mod:`api.query_encoding`.
"""


import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api import regions_query as rq
from api.deps import (
    AS_OF_DESCRIPTION,
    RELEASE_DESCRIPTION,
    RELEASE_PATTERN,
    AsOfQuery,
    Dependency,
    ReleaseQuery,
    get_registry,
    get_settings,
    resolve_cube,
)
from api.query_encoding import respond
from api.query_engine import parse_sector_list, query_geometry, region_caches
from api.query_models import QueryEmissions
from carbonmap import contract as cc
from carbonmap.caches import AppCaches, app_caches
from carbonmap.problems import problem, problem_responses
from carbonmap.registry import Registry
from carbonmap.settings import Settings


class QueryBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "geometry": {"type": "Polygon", "coordinates": [[[139.5, 35.5], [140.0, 35.5], [140.0, 35.9],
                                                         [139.5, 35.9], [139.5, 35.5]]]},
        "start": "2024-01-01", "end": "2024-12-31", "freq": "month", "sectors": ["power", "ground_transport"],
        "dataset": "demo-2024", "release": "r0003"}]})

    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon (or a Feature holding one), "
                                                 "lon/lat degrees (EPSG:4326); may cross the antimeridian; holes "
                                                 "are respected")
    start: dt.date | None = Field(None, description="first day, inclusive; default the dataset's first day")
    end: dt.date | None = Field(None, description="last day, inclusive; default the dataset's last day")
    freq: Literal["day", "month", "year"] = Field("month", description="period to sum over")
    sectors: list[str] | str | None = Field(None, description="sectors (list or comma-separated); default all 7")
    dataset: str | None = Field(None, description="dataset id; default the server's default dataset",
                                pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    release: str | None = Field(None, description=RELEASE_DESCRIPTION + " (or the `release` query parameter)",
                                pattern=RELEASE_PATTERN, examples=["r0002"])
    as_of: dt.datetime | None = Field(None, description=AS_OF_DESCRIPTION + " (or the `as_of` query parameter)",
                                      examples=["2024-03-05T12:00:00Z"])


DESCRIPTION = f"""
Emissions inside any polygon, per period (`freq`) and sector, in **t CO2 per period**, with a 90% interval.

**Weights.** Each grid cell counts with the share of its *land* inside the polygon: exactextract's exact
coverage fraction divided by the cell's land fraction, at most 1 (a cell's emissions sit on its land, so a coastal
city gets all of the emissions on its side of the shore; open-sea cells keep area weights). Computed once per
geometry and cached by its hash. Polygons may cross the
antimeridian (longitudes past 180, or a ring jumping from 179 to -179); holes are respected.

**Interval.** {rq.INTERVAL_RULE}

**Guardrails.** More than `max_vertices` vertices -> 413; more cells x time steps than the server allows
-> 422 saying to ask for `freq=month`/`year` (precomputed sums), a shorter period or a smaller region.
`format=csv` or `Accept: text/csv` returns a tidy CSV.

**Releases.** `release` (or `as_of`), in the body or as a query parameter, reads a past release of the
dataset; `release` in the answer and the `X-Carbonmap-Release` header name the release read.
"""


@dataclass
class QueryFactory:
    registry_dependency: Dependency[Registry] = get_registry
    settings_dependency: Dependency[Settings] = get_settings
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["regions"]))

    def __post_init__(self) -> None:
        @self.router.post(
            "/emissions/query", response_model=QueryEmissions, description=DESCRIPTION,
            summary="Emissions inside a GeoJSON polygon per period and sector, with a 90% interval",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}, "example":
                             "dataset,region,period,start,end,days,sector,emissions_t,lower_t,upper_t\n"
                             "demo-2024,geometry:3f9a,2024-01,2024-01-01,2024-01-31,31,power,1.0e6,8.1e5,1.2e6\n"}}},
                       **problem_responses(
                           e404=("date-out-of-range", ("start 2023-12-31 is outside dataset 'demo-2024', which "
                                                      "covers 2024-01-01 to 2024-12-31; pick dates in that range")),
                           e413=("too-many-vertices", ("the geometry has 50000 vertices, more than this server's "
                                                      "limit of 20000; simplify it or split it into smaller queries")),
                           e422=("invalid-geometry", ("the geometry is not valid (Self-intersection[10 5]); fix it, "
                                                     "e.g. with shapely.make_valid")))},
        )
        def post_query(
            request: Request,
            registry: Annotated[Registry, Depends(self.registry_dependency)],
            settings: Annotated[Settings, Depends(self.settings_dependency)],
            caches: Annotated[AppCaches, Depends(app_caches)],
            body: Annotated[QueryBody, Body()],
            format: Annotated[Literal["json", "csv"] | None, Query(
                description="response format; default JSON unless `Accept` prefers text/csv",
                openapi_examples={"csv": {"summary": "tidy CSV", "value": "csv"}})] = None,
            release: ReleaseQuery = None,
            as_of: AsOfQuery = None,
        ) -> Any:
            for name, in_query, in_body in (("release", release, body.release), ("as_of", as_of, body.as_of)):
                if in_query is not None and in_body is not None and in_query != in_body:
                    raise cc.ContractError(f"{name} is given twice with different values (query {in_query}, body "
                                           f"{in_body}); give it once")
            cube = resolve_cube(registry, body.dataset or registry.default_id or "", release or body.release,
                                as_of or body.as_of)
            try:
                geom, key = region_caches(caches, settings).geometries.parse(body.geometry, settings.max_vertices)
            except rq.TooManyVertices as exc:
                return problem(413, str(exc), "too-many-vertices")
            except rq.GeometryError as exc:
                return problem(422, str(exc), "invalid-geometry")
            t0 = time.perf_counter()
            result = query_geometry(cube, geom, body.start, body.end, body.freq, parse_sector_list(body.sectors),
                                    settings, caches, key=key)
            t1 = time.perf_counter()
            response = respond(result, format, request)
            response.headers["Server-Timing"] = (f"query;dur={(t1 - t0) * 1000:.2f}, "
                                                 f"encode;dur={(time.perf_counter() - t1) * 1000:.2f}")
            return response


def router() -> APIRouter:
    return QueryFactory().router


__all__ = ["DESCRIPTION", "QueryBody", "QueryFactory", "router"]
