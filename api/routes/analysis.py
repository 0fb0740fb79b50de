"""``GET /regions/{id}/analysis``: what drives a region's emissions and where they are heading.

For any catalogue region (country, admin-1, urban area, place), from its polygon (exact coverage,
like ``POST /emissions/query``):

- **sector ranking**: each sector's total and share over the period;
- **year-over-year change**: the last 365 days against the 365 before (needs two years in the cube);
- **trend and peak**: an STL decomposition (statsmodels) of the monthly series (period 12, needs 24
  months) or, for shorter cubes, of the daily series (weekly period 7, needs 14 days); the verdict
  ``peaked`` / ``not yet`` / ``uncertain`` comes with its evidence (see :func:`peak_verdict`);
- **target pathway**: the distance to a straight line from the base year's emissions to
  ``target_pct`` % of them in ``target_year``;
- **point sources**: the largest power plants inside the polygon (GPPD), with their *estimated*
  annual CO2 from ``nowcast.proxies.plant_weights`` (reported generation, else capacity x a capacity
  factor, times a fuel emission factor) - an estimate, not a measurement.
"""


import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from api.deps import Dependency, cube_from_query, get_settings
from api.problems import problem_responses
from api.routes.query import query_geometry
from api.routes.region_catalogue import region_geometry
from carbonmap import contract as cc
from carbonmap.registry import Cube
from carbonmap.settings import Settings
from ingest.region_catalogue import ID_PATTERN

GPPD_DIR = "point_sources/wri-gppd-v1.3.0/source_databases_csv"
PLANT_METHOD = ("estimated annual CO2 = reported generation (else capacity x fuel capacity factor x 8.76 GWh/MW-yr) "
                "x fuel emission factor (nowcast.proxies.plant_weights); an estimate from GPPD attributes, "
                "not a measurement")


class SectorRank(BaseModel):
    sector: str
    emissions_t: float
    share: float = Field(description="share of the region's total over the period, 0..1")


class YearOverYear(BaseModel):
    available: bool
    reason: str | None = None
    current_t: float | None = None
    previous_t: float | None = None
    change_pct: float | None = None
    current_period: str | None = None
    previous_period: str | None = None


Verdict = Literal["peaked", "not yet", "uncertain"]
"""The peak test's answer (:func:`peak_verdict`)."""


class Trend(BaseModel):
    method: str
    series: Literal["monthly", "daily", "none"]
    dates: list[str]
    observed_t: list[float]
    trend_t: list[float]
    verdict: Verdict
    evidence: dict[str, Any]


class Target(BaseModel):
    base_year: int
    base_t: float = Field(description="annual emissions in the base year, t CO2")
    base_source: str
    target_year: int
    target_pct: float
    target_t: float
    current_year: int
    current_t: float = Field(description="emissions of the last 365 days, or the period's mean day x 365, t CO2")
    current_basis: str
    pathway_t: float = Field(description="the straight-line pathway's value in the current year, t CO2")
    gap_t: float = Field(description="current - pathway; > 0 means above the pathway")
    gap_pct: float
    on_track: bool


class PointSource(BaseModel):
    plant_id: str
    name: str
    iso3: str
    lat: float
    lon: float
    primary_fuel: str
    capacity_mw: float
    estimated_t_per_year: float


class Analysis(BaseModel):
    dataset: str
    release: str | None = Field(None, description="the dataset release the numbers come from (pin it with "
                                                  "?release=)")
    region: dict[str, str]
    start: dt.date
    end: dt.date
    total_t: float
    sectors: list[SectorRank]
    year_over_year: YearOverYear
    trend: Trend
    target: Target | None
    point_sources: list[PointSource]
    point_source_method: str


def sector_ranking(totals: dict[str, float]) -> list[SectorRank]:
    grand = sum(totals.values())
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return [SectorRank(sector=s, emissions_t=v, share=(v / grand if grand > 0 else 0.0)) for s, v in ranked]


def year_over_year(daily: pd.Series) -> YearOverYear:
    """Last 365 days vs the 365 before, from a daily t CO2 series."""
    if len(daily) < 730:
        return YearOverYear(available=False, reason=f"needs 730 days of data, the period has {len(daily)}")
    cur, prev = daily.iloc[-365:], daily.iloc[-730:-365]
    c, p = float(cur.sum()), float(prev.sum())
    return YearOverYear(available=True, current_t=c, previous_t=p, change_pct=(c / p - 1) * 100 if p else None,
                        current_period=f"{cur.index[0].date()}..{cur.index[-1].date()}",
                        previous_period=f"{prev.index[0].date()}..{prev.index[-1].date()}")


def peak_verdict(series: pd.Series, period: int, unit: str) -> tuple[np.ndarray, Verdict, dict[str, Any]]:
    """STL trend of ``series`` and the verdict with its evidence.

    Rule: the noise is 1.645 x the std of the STL residual (a 90% band). ``peaked`` if the trend's maximum
    lies at least ``period`` steps before the end and the latest trend is below it by more than the noise;
    ``not yet`` if the maximum is within the last ``period`` steps and the trend rose by more than the noise
    over the last ``period`` steps; otherwise ``uncertain``.  Fewer than 2 x period points -> ``uncertain``.
    """
    from statsmodels.tsa.seasonal import STL

    y = series.to_numpy(dtype=np.float64)
    if len(y) < 2 * period + 1:
        return (np.full(len(y), np.nan), "uncertain",
                {"reason": f"STL needs at least {2 * period + 1} {unit} points, the period has {len(y)}",
                 "points": len(y)})
    res = STL(y, period=period, robust=True).fit()
    trend = np.asarray(res.trend)
    noise = 1.645 * float(np.std(res.resid))
    k = int(np.argmax(trend))
    steps_since = len(y) - 1 - k
    drop = float(trend[k] - trend[-1])
    rise = float(trend[-1] - trend[-1 - period])
    verdict: Verdict
    if steps_since >= period and drop > noise:
        verdict = "peaked"
    elif steps_since < period and rise > noise:
        verdict = "not yet"
    else:
        verdict = "uncertain"
    evidence = {"peak_at": str(series.index[k].date()), f"{unit}s_since_peak": steps_since,
                "decline_from_peak_t": drop, "decline_from_peak_pct": drop / trend[k] * 100 if trend[k] else None,
                "rise_over_last_period_t": rise, "noise_90_t": noise, "points": len(y), "stl_period": period,
                "rule": "peaked: trend max >= one period before the end and decline > noise; not yet: max within the "
                        "last period and rise > noise; else uncertain (noise = 1.645 x std of STL residual)"}
    return trend, verdict, evidence


def trend_section(daily: pd.Series) -> Trend:
    monthly = daily.resample("MS").sum()
    if len(monthly) >= 25:
        trend, verdict, ev = peak_verdict(monthly, 12, "month")
        return Trend(method="STL (statsmodels, robust, period 12) on monthly totals", series="monthly",
                     dates=[str(d.date()) for d in monthly.index], observed_t=monthly.tolist(),
                     trend_t=[float(v) for v in trend], verdict=verdict, evidence=ev)
    trend, verdict, ev = peak_verdict(daily, 7, "day")
    ok = np.isfinite(trend).all()
    return Trend(method="STL (statsmodels, robust, period 7) on daily totals; monthly STL needs 25 months",
                 series="daily" if ok else "none", dates=[str(d.date()) for d in daily.index],
                 observed_t=daily.tolist(), trend_t=[float(v) for v in trend] if ok else [],
                 verdict=verdict, evidence=ev)


def target_section(daily: pd.Series, base_year: int, target_year: int, target_pct: float,
                   base_value_t: float | None) -> Target:
    if target_year <= base_year:
        raise cc.ContractError(f"target_year {target_year} must be after base_year {base_year}")
    years = daily.groupby(daily.index.year)
    if base_value_t is not None:
        base, source = float(base_value_t), "given by the caller (base_value_t)"
    elif base_year in years.groups and years.size()[base_year] >= 365:
        base, source = float(years.sum()[base_year]), "this dataset's full calendar year"
    else:
        raise cc.ContractError(f"the dataset does not cover all of {base_year}; pass base_value_t (the base year's "
                               "emissions in t CO2, e.g. from a national inventory) or pick a covered base_year")
    if len(daily) >= 365:
        current, basis = float(daily.iloc[-365:].sum()), "sum of the last 365 days"
    else:
        current, basis = float(daily.mean() * 365), f"mean of {len(daily)} days x 365 (no seasonal adjustment)"
    year = int(daily.index[-1].year)
    target = base * (1 + target_pct / 100)
    frac = min(max((year - base_year) / (target_year - base_year), 0.0), 1.0)
    pathway = base + (target - base) * frac
    gap = current - pathway
    return Target(base_year=base_year, base_t=base, base_source=source, target_year=target_year,
                  target_pct=target_pct, target_t=target, current_year=year, current_t=current, current_basis=basis,
                  pathway_t=pathway, gap_t=gap, gap_pct=gap / pathway * 100 if pathway else 0.0, on_track=gap <= 0)


@lru_cache(maxsize=2)
def _plants(data_dir: FsPath) -> pd.DataFrame:
    from ingest.power_plants import read_gppd_sources
    from nowcast.proxies import plant_weights

    df = read_gppd_sources(data_dir / GPPD_DIR)
    df = df.assign(estimated_t_per_year=plant_weights(df["primary_fuel"].to_numpy(), df["capacity_mw"].to_numpy(),
                                                      df["generation_gwh"].to_numpy()))
    return df[df["estimated_t_per_year"] > 0].reset_index(drop=True)


def point_sources(geom: Any, data_dir: FsPath, top: int) -> list[PointSource]:
    plants = _plants(FsPath(data_dir))
    inside = shapely.contains_xy(geom, plants["lon"].to_numpy(), plants["lat"].to_numpy())
    sel = plants[inside].nlargest(top, "estimated_t_per_year")
    return [PointSource(plant_id=str(r.plant_id), name=str(r.name), iso3=str(r.iso3), lat=float(r.lat),
                        lon=float(r.lon), primary_fuel=str(r.primary_fuel), capacity_mw=float(r.capacity_mw),
                        estimated_t_per_year=float(r.estimated_t_per_year)) for r in sel.itertuples()]


def analyse(cube: Cube, settings: Settings, region_id: str, start: dt.date | None, end: dt.date | None,
            base_year: int | None, target_year: int | None, target_pct: float | None,
            base_value_t: float | None, top: int) -> Analysis:
    geom, info = region_geometry(settings, region_id)
    result = query_geometry(cube, geom, start, end, "day", cc.SECTORS, settings, region=info)
    idx = pd.DatetimeIndex([pd.Timestamp(b[0]) for b in result.bounds])
    daily = pd.Series(result.arrays["total_estimate"], index=idx)
    sector_sums = result.arrays["sector_estimate"].sum(axis=0)
    totals = {s: float(sector_sums[k]) for k, s in enumerate(result.sectors)}
    target = None
    if target_year is not None and target_pct is not None:
        target = target_section(daily, base_year or int(idx[0].year), target_year, target_pct, base_value_t)
    return Analysis(dataset=cube.id, release=cube.release, region=info, start=result.start, end=result.end,
                    total_t=float(daily.sum()),
                    sectors=sector_ranking(totals), year_over_year=year_over_year(daily), trend=trend_section(daily),
                    target=target, point_sources=point_sources(geom, settings.data_dir, top),
                    point_source_method=PLANT_METHOD)


@dataclass
class AnalysisFactory:
    settings_dependency: Dependency[Settings] = get_settings
    cube_dependency: Callable[..., Cube] = cube_from_query
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["regions"]))

    def __post_init__(self) -> None:
        @self.router.get(
            "/regions/{region_id}/analysis", response_model=Analysis,
            summary="Sector ranking, year-over-year change, STL trend and peak verdict, target gap, top plants",
            description=__doc__,
            responses=problem_responses(
                e404=("region-not-in-catalogue", "no region 'XXX' in the catalogue; search with GET /regions?q=name"),
                e422=("invalid-parameter", ("the dataset does not cover all of 2005; pass base_value_t or pick a "
                                           "covered base_year"))))
        def get_analysis(
            settings: Annotated[Settings, Depends(self.settings_dependency)],
            cube: Annotated[Cube, Depends(self.cube_dependency)],
            region_id: Annotated[str, Path(pattern=ID_PATTERN.replace("[A-Z]", "[A-Za-z]"), description="region id",
                                           openapi_examples={"city": {"summary": "Tokyo urban area",
                                                                      "value": "UA2132"}})],
            start: Annotated[dt.date | None, Query(description="first day; default the dataset's first",
                                                   openapi_examples={"jan": {"summary": "2024-01-01",
                                                                             "value": "2024-01-01"}})] = None,
            end: Annotated[dt.date | None, Query(description="last day; default the dataset's last",
                                                 openapi_examples={"dec": {"summary": "2024-12-31",
                                                                           "value": "2024-12-31"}})] = None,
            base_year: Annotated[int | None, Query(ge=1950, le=2100, description="target base year",
                                                   openapi_examples={"2019": {"summary": "2019",
                                                                              "value": 2019}})] = None,
            target_year: Annotated[int | None, Query(ge=1950, le=2100, description="target year",
                                                     openapi_examples={"2030": {"summary": "2030",
                                                                                "value": 2030}})] = None,
            target_pct: Annotated[float | None, Query(ge=-100, le=100, description="target change vs base, %",
                                                      openapi_examples={"half": {"summary": "-50%",
                                                                                 "value": -50}})] = None,
            base_value_t: Annotated[float | None, Query(ge=0, description="base-year emissions, t CO2, if the "
                                                                          "dataset does not cover the base year",
                                                              openapi_examples={"base": {"summary": "5 Mt",
                                                                                         "value": 5.0e6}})] = None,
            top: Annotated[int, Query(ge=1, le=100, description="how many point sources",
                                      openapi_examples={"five": {"summary": "five", "value": 5}})] = 10,
        ) -> Analysis:
            return analyse(cube, settings, region_id, start, end, base_year, target_year, target_pct, base_value_t,
                           top)
