"""``GET /regions/{id}/pathway`` and ``POST /emissions/pathway``: the roadmap to a target, year by year and sector
by sector, with what-if levers (JSON, or CSV with ``format=csv``).

From the region's sector mix in its last complete year and each sector's recent trend, the yearly pathway per
sector that reaches the target (a peak year, or a cut against a base year), the required annual change per
sector, the peak year it implies, cumulative emissions to the target year and the gap to the current trend.
Levers (each optional, phased in linearly to the target year; effects documented in :mod:`nowcast.pathways`):

- ``coal_share_power``: % of electricity from coal in the target year (replaced by non-fossil generation);
- ``industry_energy_intensity_pct``: % change of industrial energy use per unit of output (process CO2 stays);
- ``electric_share_road``: % of road vehicle-km electric (their electricity is added to power);
- ``building_heat_demand_pct``: % change of building heat demand.

A target is required; impossible lever values (a coal share above what gas and oil leave, a share over 100 %)
are a 422 that says the allowed range.
"""


import csv
import datetime as dt
import io
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import ConfigDict, Field

from api.deps import AsOfQuery, Dependency, ReleaseQuery, cube_from_query, get_registry, get_settings, resolve_cube
from api.routes import region_history as rh
from api.routes.analysis import (
    PROBLEMS,
    Context,
    TargetBody,
    TargetParams,
    assess,
    context,
    geometry_scope,
    region_out,
    region_scope,
    target_out,
    target_query,
)
from api.routes.analysis_models import LeverOut, PathwayOut, PathwayYear
from api.routes.regions import wants_csv
from carbonmap import contract as cc
from carbonmap.caches import AppCaches, app_caches
from carbonmap.registry import Cube, Registry
from carbonmap.settings import Settings
from nowcast import pathways as pw


@dataclass(frozen=True)
class LeverParams:
    coal_share_power: float | None = None
    industry_energy_intensity_pct: float | None = None
    electric_share_road: float | None = None
    building_heat_demand_pct: float | None = None

    def given(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.__dict__.items() if v is not None}


async def lever_query(
    coal_share_power: Annotated[float | None, Query(description=pw.LEVERS["coal_share_power"][2] + " (0-100)",
                                                    openapi_examples={"c": {"summary": "20% coal", "value": 20}})
                                ] = None,
    industry_energy_intensity_pct: Annotated[float | None, Query(
        description=pw.LEVERS["industry_energy_intensity_pct"][2] + " (-80..50)",
        openapi_examples={"i": {"summary": "-20%", "value": -20}})] = None,
    electric_share_road: Annotated[float | None, Query(description=pw.LEVERS["electric_share_road"][2] + " (0-100)",
                                                       openapi_examples={"e": {"summary": "40%", "value": 40}})
                                   ] = None,
    building_heat_demand_pct: Annotated[float | None, Query(
        description=pw.LEVERS["building_heat_demand_pct"][2] + " (-80..50)",
        openapi_examples={"b": {"summary": "-25%", "value": -25}})] = None,
) -> LeverParams:
    return LeverParams(coal_share_power, industry_energy_intensity_pct, electric_share_road, building_heat_demand_pct)


class GeometryPathwayBody(TargetBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "geometry": {"type": "Polygon", "coordinates": [[[4.7, 45.6], [5.1, 45.6], [5.1, 45.9], [4.7, 45.9],
                                                         [4.7, 45.6]]]},
        "target_year": 2035, "cut_pct": 50, "base_year": 2015, "levers": {"electric_share_road": 40}}]})

    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon (or a Feature holding one)")
    levers: dict[str, float] = Field(default_factory=dict, description=f"levers by name: {', '.join(pw.LEVERS)}")
    dataset: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    release: str | None = Field(None, pattern=r"^r\d{4,9}$")
    as_of: dt.datetime | None = None


def build_pathway(ctx: Context, p: TargetParams, levers: dict[str, float]) -> PathwayOut:
    h: rh.History = ctx.history
    a = assess(ctx.cube, h, p, ctx.peak())
    if a is None:
        raise pw.TargetError("a pathway needs a target: peak_year=2028, or target_year=2035&cut_pct=50&base_year=2015")
    path = pw.region_pathway(a, h.years, h.total_t, h.sectors, levers, rh.lever_context(ctx.tables, ctx.scope.home))
    years = [PathwayYear(year=y, total_t=path.total[i], trend_t=path.trend_total[i],
                         sectors={s: v[i] for s, v in path.sectors.items()}) for i, y in enumerate(path.years)]
    return PathwayOut(
        dataset=ctx.cube.id, release=ctx.cube.release, region=region_out(ctx.scope), target=target_out(a), years=years,
        required_annual_change_pct={s: v * 100 for s, v in path.required_annual_change.items()},
        trend_growth_pct={s: v * 100 for s, v in path.trend_growth.items()}, implied_peak_year=path.implied_peak_year,
        cumulative_t=path.cumulative_t, cumulative_trend_t=path.cumulative_trend_t, gap_to_trend_t=path.gap_to_trend_t,
        target_t=path.target_t, reaches_target=path.reaches_target,
        levers=[LeverOut(lever=e.lever, value=e.value, effect=e.effect, sector_factor=e.sector_factor,
                         added_power_t=e.added_power_t) for e in path.levers],
        method=path.method, history={"years": [int(y) for y in h.years], "total_t": h.total_t.tolist()})


CSV_COLUMNS = ("dataset", "release", "region", "year", "sector", "pathway_t", "trend_t")


def to_csv(out: PathwayOut) -> str:
    """Tidy CSV: one row per year and sector (``total`` rows included), t CO2 yr-1."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for y in out.years:
        for s in cc.SECTORS:
            if s in y.sectors:
                w.writerow([out.dataset, out.release or "", out.region.id, y.year, s, repr(y.sectors[s]), ""])
        w.writerow([out.dataset, out.release or "", out.region.id, y.year, cc.TOTAL, repr(y.total_t),
                    repr(y.trend_t)])
    return buf.getvalue()


def respond(out: PathwayOut, fmt: str | None, request: Request, t0: float) -> Response:
    timing = {"Server-Timing": f"total;dur={(time.perf_counter() - t0) * 1000:.1f}"}
    if wants_csv(fmt, request.headers.get("accept")):
        name = f"{out.dataset}_{out.region.id.replace(':', '-')}_pathway_{out.years[0].year}-{out.years[-1].year}.csv"
        return Response(to_csv(out), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"', **timing})
    return Response(out.model_dump_json(), media_type="application/json", headers=timing)


CSV_EXAMPLE = ("dataset,release,region,year,sector,pathway_t,trend_t\n"
               "carbonmap-demo-0p25,r0001,CN-GD,2025,power,250000000.0,\n"
               "carbonmap-demo-0p25,r0001,CN-GD,2025,total,560000000.0,560000000.0\n")
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"example": {
        "region": {"id": "CN-GD", "type": "admin1", "definition": "Guangdong: ...", "home_country": "CHN",
                   "scope": "polygon"},
        "target": {"description": "cut emissions 50% by 2035 against 2015", "kind": "cut", "year": 2035},
        "years": [{"year": 2025, "total_t": 5.6e8, "trend_t": 5.6e8, "sectors": {"power": 2.5e8}}],
        "required_annual_change_pct": {"power": -7.9}, "implied_peak_year": 2025, "cumulative_t": 4.1e9,
        "gap_to_trend_t": 3.1e8, "reaches_target": True,
        "levers": [{"lever": "electric_share_road", "value": 40, "effect": "40% of road vehicle-km electric: ...",
                    "sector_factor": {"ground_transport": 0.64}, "added_power_t": 4.0e6}]}},
                      "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}}},
    **PROBLEMS}


@dataclass
class PathwayFactory:
    settings_dependency: Dependency[Settings] = get_settings
    cube_dependency: Dependency[Cube] = cube_from_query
    registry_dependency: Dependency[Registry] = get_registry
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["analysis"]))

    def __post_init__(self) -> None:
        @self.router.get("/regions/{region_id}/pathway", response_model=PathwayOut, description=__doc__,
                         summary="The yearly sector pathway to a target, with what-if levers (JSON or CSV)",
                         responses=RESPONSES)
        def get_pathway(
            request: Request,
            settings: Annotated[Settings, Depends(self.settings_dependency)],
            caches: Annotated[AppCaches, Depends(app_caches)],
            cube: Annotated[Cube, Depends(self.cube_dependency)],
            target: Annotated[TargetParams, Depends(target_query)],
            levers: Annotated[LeverParams, Depends(lever_query)],
            region_id: Annotated[str, Path(description="region id: ISO3, WLD, or an id from GET /regions",
                                           openapi_examples={"guangdong": {"summary": "Guangdong", "value": "CN-GD"},
                                                             "texas": {"summary": "Texas", "value": "US-TX"}})],
            format: Annotated[Literal["json", "csv"] | None, Query(
                description="json (default) or csv (one row per year and sector)",
                openapi_examples={"csv": {"summary": "CSV", "value": "csv"}})] = None,
        ) -> Response:
            t0 = time.perf_counter()
            ctx = context(cube, settings, caches, region_scope(cube, settings, caches, region_id))
            return respond(build_pathway(ctx, target, levers.given()), format, request, t0)

        @self.router.post("/emissions/pathway", response_model=PathwayOut, description=__doc__,
                          summary="The pathway of any GeoJSON polygon (a drawn area)", responses=RESPONSES)
        def post_pathway(
            request: Request,
            settings: Annotated[Settings, Depends(self.settings_dependency)],
            caches: Annotated[AppCaches, Depends(app_caches)],
            registry: Annotated[Registry, Depends(self.registry_dependency)],
            body: Annotated[GeometryPathwayBody, Body()],
            format: Annotated[Literal["json", "csv"] | None, Query(
                description="json (default) or csv (one row per year and sector)",
                openapi_examples={"csv": {"summary": "CSV", "value": "csv"}})] = None,
            release: ReleaseQuery = None,
            as_of: AsOfQuery = None,
        ) -> Response:
            t0 = time.perf_counter()
            cube = resolve_cube(registry, body.dataset or registry.default_id or "", release or body.release,
                                as_of or body.as_of)
            ctx = context(cube, settings, caches, geometry_scope(cube, settings, caches, body.geometry))
            return respond(build_pathway(ctx, body.params(), body.levers), format, request, t0)
