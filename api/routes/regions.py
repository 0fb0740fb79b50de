"""``GET /regions/{iso3}/emissions``: a country's (or the world's) emissions per period and sector.

Answered from the national table the grid conserves (see ``api.national_regions`` for the region
definition and ``api.national_series`` for the 90% interval rule), as JSON or tidy CSV.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import Field

from api import national_regions, national_series
from api.deps import Dependency, cube_from_query, get_settings
from api.models import Estimate, IntervalInfo, PeriodEmissions, RegionEmissions, RegionInfo
from carbonmap import contract as cc
from carbonmap.errors import TooLarge
from carbonmap.http_policy import release_headers
from carbonmap.problems import problem_responses
from carbonmap.registry import Cube
from carbonmap.settings import Settings

INTERVAL_RULE = (
    "90% interval = estimate +- 1.645 sigma (normal; lower bound clipped at 0). The 1-sigma of one "
    "country, sector and day is the dataset's national_uncertainty (relative 1-sigma) times its emissions. "
    "Within a country, errors are treated as fully correlated across days and sectors (sigmas add); "
    "different countries and the XIA/XIS bunkers are independent (sigmas add in quadrature)."
)

CSV_COLUMNS = ("dataset", "region", "period", "start", "end", "days", "sector", "emissions_t", "lower_t",
               "upper_t")

DESCRIPTION = f"""
Emissions of a country (ISO 3166-1 alpha-3), of the international bunkers (`XIA` aviation, `XIS`
shipping) or of the world (`WLD`), per period (`freq`) and sector, in **t CO2 per period**, with a
90% interval.

**Region definition.** {national_regions.COUNTRY_DEFINITION.capitalize()}. `WLD` is
{national_regions.WORLD_DEFINITION.removeprefix("the world: ")}.

**Interval.** {INTERVAL_RULE}

`total` is the sum of the requested sectors. Months and years cut by `start`/`end` are partial;
`days` says how many days each period holds. Use `format=csv` or `Accept: text/csv` for a tidy
CSV (one row per period and sector, `sector=total` rows included).
"""

CSV_EXAMPLE = ("dataset,region,period,start,end,days,sector,emissions_t,lower_t,upper_t\n"
               "demo-2024,DEU,2024-01,2024-01-01,2024-01-31,31,power,17250000.0,15830000.0,18670000.0\n")

JSON_EXAMPLE = {
    "dataset": "demo-2024", "release": "r0003",
    "region": {"id": "DEU", "type": "country", "definition": national_regions.COUNTRY_DEFINITION},
    "start": "2024-01-01", "end": "2024-01-31", "freq": "month", "sectors": ["power"], "units": "t CO2",
    "interval": {"level": 0.9, "rule": INTERVAL_RULE},
    "periods": [{"period": "2024-01", "start": "2024-01-01", "end": "2024-01-31", "days": 31,
                 "sectors": {"power": {"emissions": 17250000.0, "lower": 15830000.0, "upper": 18670000.0}},
                 "total": {"emissions": 17250000.0, "lower": 15830000.0, "upper": 18670000.0}}],
}


class RegionEmissionsOut(RegionEmissions):
    """:class:`RegionEmissions` plus the release it was read from."""

    release: str | None = Field(None, description="the dataset release the numbers come from (pin it with "
                                                  "?release=; see GET /datasets/{id}/releases)")


def wants_csv(fmt: str | None, accept: str | None) -> bool:
    """CSV if ``format=csv``, or if no format is given and ``Accept`` prefers text/csv over JSON."""
    if fmt is not None:
        return fmt == "csv"
    if not accept:
        return False
    q: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    weight = float(p[2:])
                except ValueError:
                    weight = 0.0
        q[media.lower()] = max(weight, q.get(media.lower(), 0.0))
    csv_q = q.get("text/csv", 0.0)
    json_q = max(q.get("application/json", 0.0), q.get("application/*", 0.0), q.get("*/*", 0.0))
    return csv_q > json_q


def _estimate(value: float, sigma: float) -> Estimate:
    lo, hi = national_series.interval90(np.float64(value), np.float64(sigma))
    return Estimate(emissions=float(value), lower=float(lo), upper=float(hi))


def region_emissions(cube: Cube, iso3: str, start: dt.date | None, end: dt.date | None,
                     freq: national_series.Freq, sectors_text: str | None, max_days: int) -> RegionEmissions:
    """Read the national table for a region and aggregate it (no HTTP here)."""
    sectors = cc.parse_sectors(sectors_text)
    region = national_regions.resolve(iso3, cube.countries, cube.id)
    start, end = cube.check_period(start, end)
    times_slice = cube.period_slice(start, end)
    n_days = (end - start).days + 1
    if n_days > max_days:
        raise TooLarge(f"the period {start.isoformat()} to {end.isoformat()} spans {n_days} days, more than "
                            f"this server's limit of {max_days}; split the query into shorter periods")
    sector_idx = cube.sector_indices(sectors)
    country_idx = [cube.countries.index(c) for c in region.countries]
    sel = {"time": times_slice, "sector": sector_idx, "country": country_idx}
    national = cube.ds[cc.NATIONAL_VAR].isel(sel).values
    rel_sigma = cube.ds[cc.NATIONAL_UNC_VAR].isel(sel).values
    totals = national_series.aggregate(national, rel_sigma, cube.times[times_slice], freq)
    ev_sector = ev_total = None
    if cc.EVIDENCE_VAR in cube.ds:
        ev_sector, ev_total = national_series.evidence_shares(
            national, cube.ds[cc.EVIDENCE_VAR].isel(sel).values, cube.times[times_slice], freq,
            len(cc.EVIDENCE_LEVELS))

    def shares(row: np.ndarray | None) -> dict[str, float] | None:
        if row is None or not np.isfinite(row).all():
            return None
        return {cc.EVIDENCE_LEVELS[i]: round(float(v), 6) for i, v in enumerate(row) if v > 0}

    periods = []
    for p, label in enumerate(totals.labels):
        periods.append(PeriodEmissions(
            period=label, start=totals.first[p].date(), end=totals.last[p].date(), days=int(totals.days[p]),
            sectors={s: _estimate(totals.estimate[p, k], totals.sigma[p, k]).model_copy(
                update={"evidence": shares(None if ev_sector is None else ev_sector[p, k])})
                for k, s in enumerate(sectors)},
            total=_estimate(totals.total_estimate[p], totals.total_sigma[p]).model_copy(
                update={"evidence": shares(None if ev_total is None else ev_total[p])}),
        ))
    return RegionEmissions(
        dataset=cube.id, region=RegionInfo(id=region.id, type=region.type, definition=region.definition),
        start=start, end=end, freq=freq, sectors=list(sectors), interval=IntervalInfo(rule=INTERVAL_RULE),
        periods=periods,
    )


def to_csv(result: RegionEmissions) -> str:
    """Tidy CSV: one row per period and sector (``total`` rows included), t CO2."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in result.periods:
        for name, est in [*p.sectors.items(), (cc.TOTAL, p.total)]:
            writer.writerow([result.dataset, result.region.id, p.period, p.start.isoformat(), p.end.isoformat(),
                             p.days, name, repr(est.emissions), repr(est.lower), repr(est.upper)])
    return buf.getvalue()


@dataclass
class RegionsFactory:
    """Builds the region router; the cube and settings come from injected dependencies."""

    cube_dependency: Dependency[Cube] = cube_from_query
    settings_dependency: Dependency[Settings] = get_settings
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["regions"]))

    def __post_init__(self) -> None:
        @self.router.get(
            "/regions/{iso3}/emissions",
            response_model=RegionEmissionsOut,
            summary="Emissions of a country or the world, per period and sector, with a 90% interval",
            description=DESCRIPTION,
            responses={
                200: {"content": {"application/json": {"example": JSON_EXAMPLE},
                                  "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}}},
                **problem_responses(
                    e404=("region-not-found", ("unknown country 'DEX' in dataset 'demo-2024' (close codes: DEU, "
                                               "DMA, DNK); use an ISO 3166-1 alpha-3 code listed under 'countries' "
                                               "by GET /datasets/demo-2024, or WLD for the world")),
                    e422=("invalid-parameter", ("unknown sector 'cars'; known sectors: power, industry, "
                                                "ground_transport, residential, domestic_aviation, "
                                                "international_aviation, international_shipping")),
                ),
            },
        )
        def get_region_emissions(
            request: Request,
            cube: Annotated[Cube, Depends(self.cube_dependency)],
            settings: Annotated[Settings, Depends(self.settings_dependency)],
            iso3: Annotated[str, Path(
                description="ISO 3166-1 alpha-3 country code, XIA/XIS for international aviation/shipping "
                            "bunkers, or WLD for the world (case-insensitive)",
                pattern=r"^[A-Za-z]{3}$",
                openapi_examples={"germany": {"summary": "Germany", "value": "DEU"},
                                  "world": {"summary": "the world", "value": "WLD"}})],
            start: Annotated[dt.date | None, Query(
                description="first day (YYYY-MM-DD), inclusive; default: the dataset's first day",
                openapi_examples={"jan": {"summary": "1 January 2024", "value": "2024-01-01"}})] = None,
            end: Annotated[dt.date | None, Query(
                description="last day (YYYY-MM-DD), inclusive; default: the dataset's last day",
                openapi_examples={"jan": {"summary": "31 January 2024", "value": "2024-01-31"}})] = None,
            freq: Annotated[Literal["day", "month", "year"], Query(
                description="period to sum over",
                openapi_examples={"month": {"summary": "monthly totals", "value": "month"}})] = "day",
            sectors: Annotated[str | None, Query(
                description="comma-separated sectors (power, industry, ground_transport, residential, "
                            "domestic_aviation, international_aviation, international_shipping); "
                            "empty or `total` means all 7",
                openapi_examples={"two": {"summary": "power and industry", "value": "power,industry"}})] = None,
            format: Annotated[Literal["json", "csv"] | None, Query(
                description="response format; default JSON unless `Accept` prefers text/csv",
                openapi_examples={"csv": {"summary": "tidy CSV", "value": "csv"}})] = None,
        ) -> RegionEmissionsOut | Response:
            result = region_emissions(cube, iso3, start, end, freq, sectors, settings.max_query_days)
            if wants_csv(format, request.headers.get("accept")):
                name = f"{result.dataset}_{result.region.id}_{result.start}_{result.end}_{freq}.csv"
                return Response(to_csv(result), media_type="text/csv; charset=utf-8",
                                headers={"Content-Disposition": f'attachment; filename="{name}"',
                                         **release_headers(cube)})
            return RegionEmissionsOut(**dict(result), release=cube.release)
