"""``GET /regions/{id}/analysis`` and ``POST /emissions/analysis``: see it, see it clearly, set the target.

For any region (country, ``WLD``, ``XIA``/``XIS``, admin-1 unit, city, place, or a posted polygon):

- **the total** of the period (``start``..``end``) with its 90 % interval and the evidence behind it, and the
  **sector ranking** with each sector's interval and evidence;
- the **data edge** of the region's country (how far measured data reach, per sector);
- the **annual history**: national inventory years from 1970 and the dataset's complete years; for a
  sub-national region the earlier years are *estimated* (its share of its country's sector totals carried
  back) and labelled so (:mod:`nowcast.region_history`);
- the **peak verdict** from those annual totals (:mod:`nowcast.peak`): peaked (year, how sure), plateau or
  still rising;
- a **target** if asked: ``peak_year=2028``, or ``target_year=2030&cut_pct=50&base_year=2005`` ("cut 50% by
  2030 against 2005"); a half-given target, a target year that is not in the future or a base year outside the
  data is a 422 that says what to change; the answer gives the gap to the path and the annual rate now needed
  (:mod:`nowcast.pathways`);
- the **largest facilities** inside the region (power plants, industrial plants, airports) with their
  emissions over the period, consistent with the sector totals (they never add up to more than a sector), and
  the largest closed plants (shown as closed, emitting nothing) (:mod:`nowcast.region_facilities`).

Countries are answered from the national table (fast, the same numbers as ``/regions/{iso3}/emissions``);
everything else from the grid inside its polygon.  The numbers are computed in the science package
(:mod:`nowcast.region_totals`, :mod:`nowcast.region_history`, :mod:`nowcast.region_facilities`,
:mod:`nowcast.peak`, :mod:`nowcast.pathways`); this module parses, reads (``api.routes.region_analysis``,
``api.routes.region_history``) and shapes the answer.
"""


import datetime as dt
import time
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api import regions_query as rq
from api.deps import (
    AsOfQuery,
    Dependency,
    ReleaseQuery,
    cube_from_query,
    get_registry,
    get_settings,
    resolve_cube,
)
from api.query_engine import region_caches
from api.routes import region_analysis as ra
from api.routes import region_history as rh
from api.routes.analysis_models import (
    Analysis,
    AnalysisRegion,
    FacilitiesOut,
    Facility,
    HistoryOut,
    PeakOut,
    SectorRank,
    TargetOut,
    Total,
    TwelveMonths,
)
from api.routes.region_catalogue import catalogue
from carbonmap import contract as cc
from carbonmap.caches import AppCaches, app_caches
from carbonmap.problems import problem_responses
from carbonmap.registry import Cube, Registry
from carbonmap.settings import Settings
from nowcast import pathways as pw
from nowcast import peak as pk
from nowcast import region_history as nrh
from nowcast import region_totals as rtot

INTERVAL_RULE = ("90% interval = estimate +- 1.645 sigma; within a country errors are fully correlated across "
                 "days, sectors and cells (sigmas add), different countries are independent (quadrature); across "
                 "periods sigmas add linearly. A region inside a country adds the error of placing emissions inside "
                 "it (a log-normal sigma of its share of the country, calibrated on held-out provincial statistics, "
                 "reports/spatial.md; log-normal, so the upper bound moves further than the lower). History: "
                 "inventory years carry the relative interval of the dataset's first complete inventory year.")


# ----------------------------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class TargetParams:
    peak_year: int | None = None
    target_year: int | None = None
    cut_pct: float | None = None
    base_year: int | None = None
    base_value_t: float | None = None
    target_pct: float | None = None

    def check_legacy(self) -> None:
        if self.target_pct is not None:
            raise pw.TargetError(f"target_pct is no longer accepted: it read as a change (+{self.target_pct:g}% meant "
                                 f"{100 + self.target_pct:g}% of the base); give cut_pct instead, e.g. cut_pct=50 for "
                                 "half the base year's emissions, with target_year and base_year")


async def target_query(
    peak_year: Annotated[int | None, Query(ge=1900, le=2200, description="target: emissions peak no later than this "
                                           "year (not together with the cut target)",
                                           openapi_examples={"2028": {"summary": "peak by 2028", "value": 2028}})] = None,
    target_year: Annotated[int | None, Query(ge=1900, le=2200, description="cut target: the year by which to cut "
                                             "(with cut_pct and base_year)",
                                             openapi_examples={"2030": {"summary": "2030", "value": 2030}})] = None,
    cut_pct: Annotated[float | None, Query(description="cut target: % cut against the base year, 0-100 (50 = half)",
                                           openapi_examples={"half": {"summary": "cut 50%", "value": 50}})] = None,
    base_year: Annotated[int | None, Query(ge=1900, le=2200, description="cut target: the base year (must lie in the "
                                           "region's data, see history.years, unless base_value_t is given)",
                                           openapi_examples={"2005": {"summary": "2005", "value": 2005}})] = None,
    base_value_t: Annotated[float | None, Query(ge=0, description="cut target: the base year's emissions in t CO2 "
                                                "from your own inventory (default: this region's history)",
                                                openapi_examples={"own": {"summary": "5 Mt", "value": 5e6}})] = None,
    target_pct: Annotated[float | None, Query(deprecated=True, description="no longer accepted (it was ambiguous); "
                                              "use cut_pct", openapi_examples={"refused": {
                                                  "summary": "refused with a 422 that says to use cut_pct",
                                                  "value": 50}})] = None,
) -> TargetParams:
    return TargetParams(peak_year, target_year, cut_pct, base_year, base_value_t, target_pct)


class TargetBody(BaseModel):
    peak_year: int | None = Field(None, ge=1900, le=2200, description="peak no later than this year")
    target_year: int | None = Field(None, ge=1900, le=2200, description="cut target year")
    cut_pct: float | None = Field(None, description="cut target: % cut against base_year, 0-100")
    base_year: int | None = Field(None, ge=1900, le=2200)
    base_value_t: float | None = Field(None, ge=0)

    def params(self) -> TargetParams:
        return TargetParams(self.peak_year, self.target_year, self.cut_pct, self.base_year, self.base_value_t)


class GeometryAnalysisBody(TargetBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "geometry": {"type": "Polygon", "coordinates": [[[4.7, 45.6], [5.1, 45.6], [5.1, 45.9], [4.7, 45.9],
                                                         [4.7, 45.6]]]},
        "dataset": "carbonmap-demo-0p25", "target_year": 2030, "cut_pct": 50, "base_year": 2015, "top": 5}]})

    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon (or a Feature holding one)")
    start: dt.date | None = None
    end: dt.date | None = None
    top: int = Field(10, ge=1, le=100, description="how many facilities")
    dataset: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    release: str | None = Field(None, pattern=r"^r\d{4,9}$")
    as_of: dt.datetime | None = None


# ----------------------------------------------------------------------------------------------- scopes
def region_scope(cube: Cube, settings: Settings, caches: AppCaches, region_id: str) -> ra.Scope:
    """National scope for codes in the national table (and WLD), else the catalogue region's polygon."""
    code = region_id.strip().upper()
    if len(code) == 3 and code.isalpha():
        scope = ra.national_scope(cube, code)
        if scope is not None:
            row = catalogue(settings).table
            name = row.loc[row["id"] == code, "name"]
            if len(name):
                scope.info["definition"] = f"{name.iloc[0]}: {scope.info['definition']}"
            return scope
    row = catalogue(settings).get(code)
    info = {"id": str(row["id"]), "type": str(row["type"]), "definition": f"{row['name']}: {row['definition']}"}
    iso3 = row.get("iso3")
    return ra.polygon_scope(cube, settings, caches, row.geometry, info, str(iso3) if isinstance(iso3, str) else None)


def geometry_scope(cube: Cube, settings: Settings, caches: AppCaches, geometry: dict[str, Any]) -> ra.Scope:
    try:
        geom, key = region_caches(caches, settings).geometries.parse(geometry, settings.max_vertices)
    except rq.GeometryError as exc:
        raise cc.ContractError(str(exc)) from None
    info = {"id": f"geometry:{key[:16]}", "type": "geometry",
            "definition": "the posted polygon; each cell weighted by the share of its land inside it"}
    return ra.polygon_scope(cube, settings, caches, geom, info, None, key)


# ----------------------------------------------------------------------------------------------- assembly
def _total(est: float, sigma: float, evidence: dict[str, float] | None, sigma_lo: float | None = None) -> Total:
    i = rtot.interval90(est, sigma, sigma_lo)
    return Total(emissions_t=i.estimate_t, lower_t=i.lower_t, upper_t=i.upper_t, evidence=evidence)


def history_out(h: rh.History) -> HistoryOut:
    lower, upper = h.interval90()
    return HistoryOut(years=[int(y) for y in h.years], total_t=h.total_t.tolist(), lower_t=lower.tolist(),
                      upper_t=upper.tolist(), basis=h.basis, evidence=h.evidence,
                      sectors=None if h.sectors is None else {s: v.tolist() for s, v in h.sectors.items()}, note=h.note)


def peak_out(h: rh.History, r: pk.PeakResult) -> PeakOut:
    def pct(v: float | None) -> float | None:
        return None if v is None else v * 100

    return PeakOut(verdict=r.verdict, probability=r.probability, likelihood=r.likelihood, peak_year=r.peak_year,
                   peak_year_range=list(r.peak_year_range) if r.peak_year_range else None, peak_t=r.peak_t,
                   last_year=r.last_year, last_t=r.last_t, decline_from_peak_pct=pct(r.decline_from_peak),
                   recent_growth_pct=pct(r.recent_growth),
                   recent_growth_range_pct=[v * 100 for v in r.recent_growth_range] if r.recent_growth_range else None,
                   shares=r.shares, years_used=[int(y) for y in h.years], rule=pk.RULE, reason=r.reason)


def target_out(a: pw.Assessment) -> TargetOut:
    t = a.target
    return TargetOut(description=t.describe(), kind=t.kind, year=t.year, cut_pct=t.cut_pct, base_year=t.base_year,
                     base_t=a.base_t, target_t=a.target_t, now_year=a.now_year, now_t=a.now_t, path_t_now=a.path_t_now,
                     gap_t=a.gap_t, gap_pct=a.gap_pct, required_annual_change_pct=a.required_annual_change * 100,
                     required_slowdown_pp_per_year=None if a.required_slowdown_pp_per_year is None
                     else a.required_slowdown_pp_per_year * 100, trend_growth_pct=a.trend_growth * 100,
                     trend_t_at_target_year=a.trend_t_at_target_year, gap_at_target_year_t=a.gap_at_target_year_t,
                     on_track=a.on_track, met=a.met, explanation=a.explanation)


def parse_target(cube: Cube, h: rh.History, p: TargetParams) -> pw.Target | None:
    p.check_legacy()
    years = (int(h.years[0]), int(h.years[-1])) if len(h.years) else (cube.start.year, cube.start.year - 1)
    return pw.parse_target(p.peak_year, p.target_year, p.cut_pct, p.base_year, years, cube.end.year,
                           base_given=p.base_value_t is not None)


def assess(cube: Cube, h: rh.History, p: TargetParams, peak: pk.PeakResult) -> pw.Assessment | None:
    target = parse_target(cube, h, p)
    if target is None:
        return None
    return pw.assess_region(target, h.years, h.total_t, peak, p.base_value_t)


@dataclass
class Context:
    """What both the analysis and the pathway read, computed once per request."""

    cube: Cube
    scope: ra.Scope
    tables: ra.Tables
    monthly: ra.Monthly
    history: rh.History
    caches: AppCaches
    timings: dict[str, float] = field(default_factory=dict)

    def peak(self) -> pk.PeakResult:
        """The peak verdict of the region's annual history."""
        return nrh.history_peak(self.history)


def context(cube: Cube, settings: Settings, caches: AppCaches, scope: ra.Scope) -> Context:
    t0 = time.perf_counter()
    tables = ra.tables_of(cube, settings, caches)
    m = ra.monthly(cube, settings, caches, scope)
    t1 = time.perf_counter()
    h = rh.history(cube, settings, caches, scope, m, tables)
    return Context(cube, scope, tables, m, h, caches,
                   {"read": (t1 - t0) * 1000, "history": (time.perf_counter() - t1) * 1000})


def region_out(scope: ra.Scope) -> AnalysisRegion:
    return AnalysisRegion(**scope.info, home_country=scope.home,
                          scope="national table" if scope.kind == "national" else "polygon")


def analyse(ctx: Context, settings: Settings, start: dt.date | None, end: dt.date | None, p: TargetParams,
            top: int) -> Analysis:
    cube, scope = ctx.cube, ctx.scope
    start, end = cube.check_period(start, end)
    totals = (ra.national_totals(cube, ctx.caches, scope, start, end) if scope.kind == "national"
              else ra.polygon_totals(cube, settings, ctx.caches, scope, start, end, ctx.monthly))
    lo = totals.sector_sigma_lo
    sectors = [SectorRank(sector=r.sector, share=r.share,
                          **_total(totals.sector_t[r.index], totals.sector_sigma[r.index], totals.sector_evidence[r.index],
                                   None if lo is None else float(lo[r.index])).model_dump())
               for r in rtot.rank_sectors(totals.sector_t, totals.total_t)]
    peak = ctx.peak()
    assessment = assess(cube, ctx.history, p, peak)
    fac = rh.facilities(cube, ctx.caches, scope, ctx.tables, start, end,
                        {s: float(totals.sector_t[k]) for k, s in enumerate(cc.SECTORS)}, top)
    edge = (cube.attrs.get("carbonmap_data_edge") or {}).get(scope.home or "", {})
    twelve = rtot.latest_twelve_months(ctx.monthly)
    return Analysis(
        dataset=cube.id, release=cube.release, region=region_out(scope), start=start, end=end, days=totals.days,
        total=_total(totals.total_t, totals.total_sigma, totals.total_evidence, totals.total_sigma_lo),
        sectors=sectors, data_edge={str(k): str(v) for k, v in edge.items()},
        latest_12_months=TwelveMonths(**asdict(twelve)) if twelve else None, history=history_out(ctx.history),
        peak=peak_out(ctx.history, peak), target=target_out(assessment) if assessment else None,
        facilities=FacilitiesOut(available=fac.available, operating=[Facility(**asdict(f)) for f in fac.operating],
                                 closed=[Facility(**asdict(f)) for f in fac.closed],
                                 scaled_to_sector_totals=fac.scaled, method=fac.note),
        interval_rule=INTERVAL_RULE)


# ----------------------------------------------------------------------------------------------- routes
EXAMPLE_QUERY = "/regions/CHN/analysis?peak_year=2028"
PROBLEMS = problem_responses(
    e404=("region-not-in-catalogue", "no region 'XXX' in the catalogue; search with GET /regions?q=name"),
    e422=("invalid-parameter", ("a cut target needs target_year, cut_pct and base_year; missing: base_year (e.g. "
                               "target_year=2030&cut_pct=50&base_year=2005 for 'cut 50% by 2030 against 2005')")))


def _timed(response: Response, ctx: Context, t0: float) -> None:
    parts = [f"{k};dur={v:.1f}" for k, v in ctx.timings.items()]
    parts.append(f"total;dur={(time.perf_counter() - t0) * 1000:.1f}")
    response.headers["Server-Timing"] = ", ".join(parts)


@dataclass
class AnalysisFactory:
    settings_dependency: Dependency[Settings] = get_settings
    cube_dependency: Dependency[Cube] = cube_from_query
    registry_dependency: Dependency[Registry] = get_registry
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["analysis"]))

    def __post_init__(self) -> None:
        @self.router.get(
            "/regions/{region_id}/analysis", response_model=Analysis, description=__doc__,
            summary="A region's total with interval and evidence, sectors, history, peak verdict, target gap and "
                    "largest facilities",
            responses={200: {"content": {"application/json": {"example": ANALYSIS_EXAMPLE}}}, **PROBLEMS})
        def get_analysis(
            response: Response,
            settings: Annotated[Settings, Depends(self.settings_dependency)],
            caches: Annotated[AppCaches, Depends(app_caches)],
            cube: Annotated[Cube, Depends(self.cube_dependency)],
            target: Annotated[TargetParams, Depends(target_query)],
            region_id: Annotated[str, Path(description="region id: ISO3, WLD, XIA/XIS, or an id from GET /regions",
                                           openapi_examples={"china": {"summary": "China", "value": "CHN"},
                                                             "province": {"summary": "Shanghai", "value": "CN-SH"},
                                                             "world": {"summary": "the world", "value": "WLD"}})],
            start: Annotated[dt.date | None, Query(description="first day of the period; default the dataset's first",
                                                   openapi_examples={"y": {"summary": "2025", "value": "2025-01-01"}})
                             ] = None,
            end: Annotated[dt.date | None, Query(description="last day of the period; default the dataset's last",
                                                 openapi_examples={"y": {"summary": "2025", "value": "2025-12-31"}})
                           ] = None,
            top: Annotated[int, Query(ge=1, le=100, description="how many facilities (operating, and closed)",
                                      openapi_examples={"five": {"summary": "five", "value": 5}})] = 10,
        ) -> Analysis:
            t0 = time.perf_counter()
            ctx = context(cube, settings, caches, region_scope(cube, settings, caches, region_id))
            out = analyse(ctx, settings, start, end, target, top)
            _timed(response, ctx, t0)
            return out

        @self.router.post(
            "/emissions/analysis", response_model=Analysis, description=__doc__,
            summary="The analysis of any GeoJSON polygon (a drawn area)",
            responses={200: {"content": {"application/json": {"example": ANALYSIS_EXAMPLE}}}, **PROBLEMS})
        def post_analysis(
            response: Response,
            settings: Annotated[Settings, Depends(self.settings_dependency)],
            caches: Annotated[AppCaches, Depends(app_caches)],
            registry: Annotated[Registry, Depends(self.registry_dependency)],
            body: Annotated[GeometryAnalysisBody, Body()],
            release: ReleaseQuery = None,
            as_of: AsOfQuery = None,
        ) -> Analysis:
            t0 = time.perf_counter()
            cube = resolve_cube(registry, body.dataset or registry.default_id or "", release or body.release,
                                as_of or body.as_of)
            ctx = context(cube, settings, caches, geometry_scope(cube, settings, caches, body.geometry))
            out = analyse(ctx, settings, body.start, body.end, body.params(), body.top)
            _timed(response, ctx, t0)
            return out


ANALYSIS_EXAMPLE: dict[str, Any] = {
    "dataset": "carbonmap-demo-0p25", "release": "r0001",
    "region": {"id": "CHN", "type": "country", "definition": "China: national inventory territory ...",
               "home_country": "CHN", "scope": "national table"},
    "start": "2024-01-01", "end": "2026-03-31", "days": 821, "units": "t CO2",
    "total": {"emissions_t": 2.9e10, "lower_t": 2.6e10, "upper_t": 3.2e10,
              "evidence": {"monthly-statistics": 0.74, "annual-inventory": 0.2, "model": 0.06}},
    "sectors": [{"sector": "power", "emissions_t": 1.3e10, "lower_t": 1.2e10, "upper_t": 1.4e10, "share": 0.46,
                 "evidence": {"monthly-statistics": 1.0}}],
    "data_edge": {"power": "monthly-statistics through 2026-03-31 (Carbon Monitor Power monthly generation by fuel "
                           "x emission factors); after that, a model"},
    "latest_12_months": {"start": "2025-04-01", "end": "2026-03-31", "total_t": 1.26e10,
                         "previous_total_t": 1.25e10, "change_pct": 0.8},
    "history": {"years": [1970, "...", 2025], "total_t": [9.4e8, "...", 1.26e10], "lower_t": ["..."],
                "upper_t": ["..."], "basis": ["inventory", "...", "dataset"], "evidence": [{"annual-inventory": 1.0}],
                "sectors": {"power": ["..."]}, "note": "inventory years from this release ..."},
    "peak": {"verdict": "still rising", "probability": 0.9, "likelihood": "very likely", "peak_year": None,
             "recent_growth_pct": 2.1, "rule": "...", "reason": "56 annual totals, 1970-2025; maximum 2025"},
    "target": {"description": "emissions peak no later than 2028", "kind": "peak", "year": 2028, "now_year": 2025,
               "now_t": 1.26e10, "required_annual_change_pct": 1.4, "required_slowdown_pp_per_year": 0.7,
               "on_track": False, "met": False, "explanation": "..."},
    "facilities": {"available": True, "operating": [{"name": "Tuoketuo power station", "sector": "power",
                                                     "kind": "coal unit (GEM)", "iso3": "CHN", "lon": 111.4,
                                                     "lat": 40.2, "basis": "estimated", "status": "operating",
                                                     "emissions_t": 5.1e7, "t_per_year": 2.3e7,
                                                     "share_of_sector": 0.004}],
                   "closed": [{"name": "...", "status": "closed", "closed_year": 2017, "emissions_t": 0.0}],
                   "scaled_to_sector_totals": {}, "method": "..."},
    "interval_rule": INTERVAL_RULE,
}
