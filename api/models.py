"""Pydantic response models of the API (the OpenAPI schema is generated from these)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str = Field(description="carbonmap code version")
    datasets: list[str] = Field(description="ids of the datasets this server serves")


class TimeRange(BaseModel):
    start: dt.date = Field(description="first day covered (UTC)")
    end: dt.date = Field(description="last day covered (UTC), inclusive")
    days: int
    resolution: str = Field("P1D", description="ISO 8601 duration of one time step")


class Sector(BaseModel):
    id: str
    long_name: str


class GridInfo(BaseModel):
    crs: str = "EPSG:4326"
    resolution_deg: float = Field(description="cell size in degrees")
    bounds: tuple[float, float, float, float] = Field(description="west, south, east, north in degrees")
    shape: tuple[int, int] = Field(description="(nlat, nlon)")
    cell_registration: str = "cell centres; rows north to south, longitudes -180..180"


class InputInfo(BaseModel):
    path: str = Field(description="path of the input file relative to the data directory of the build")
    sha256: str
    source: str
    license: str
    role: str = Field(description="what the build used the file for")
    real: bool = Field(description="true for real observations/inventories; false for simplified proxies "
                                   "or synthetic fixtures")


class ProvenanceInfo(BaseModel):
    inputs: list[InputInfo]
    code_version: str
    build_time: str
    methods: dict[str, str] = Field(description="per step, the method used")
    proxies: list[str] = Field(description="plain statements of which parts are simplified proxies")


class DatasetSummary(BaseModel):
    id: str
    title: str
    time: TimeRange
    resolution_deg: float
    links: dict[str, str]


DATASET_DETAIL_EXAMPLE: JsonDict = {
    "id": "demo-2024", "title": "carbonmap daily fossil CO2, 2024, 0.25 degree",
    "summary": "...", "time": {"start": "2024-01-01", "end": "2024-12-31", "days": 366, "resolution": "P1D"},
    "sectors": [{"id": "power", "long_name": "Power generation (electricity and heat)"}],
    "countries": ["AFG", "AGO", "..."],
    "units": {"emissions": "kg day-1", "uncertainty": "1", "national_emissions": "kg day-1",
              "region_queries": "t CO2 per period"},
    "grid": {"crs": "EPSG:4326", "resolution_deg": 0.25, "bounds": [-180, -90, 180, 90],
             "shape": [720, 1440], "cell_registration": "cell centres; rows north to south, longitudes -180..180"},
    "provenance": {"inputs": [{"path": "statistical/GCB2025v15_MtCO2_flat.csv", "sha256": "3f1c...",
                               "source": "Global Carbon Budget 2025", "license": "CC-BY-4.0",
                               "role": "national annual totals", "real": True}],
                   "code_version": "0.1.0", "build_time": "2025-06-01T12:00:00+00:00",
                   "methods": {"temporal": "weekday x seasonal profiles"},
                   "proxies": ["daily profiles are simplified weekday and seasonal profiles"]},
    "license": "CC-BY-4.0", "citation": "...", "references": "https://globalcarbonbudget.org",
    "contract_version": "1.0", "links": {"self": "/datasets/demo-2024"}}
"""The OpenAPI example of :class:`DatasetDetail`."""


class DatasetDetail(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [DATASET_DETAIL_EXAMPLE]})

    id: str
    title: str
    summary: str
    time: TimeRange
    sectors: list[Sector]
    countries: list[str] = Field(description="region codes with national totals (ISO3, plus XIA/XIS bunkers)")
    units: dict[str, str]
    grid: GridInfo
    provenance: ProvenanceInfo
    license: str
    citation: str = Field(description="how to cite this dataset and the inputs it was built from")
    references: str
    contract_version: str
    links: dict[str, str]
    evidence_levels: list[str] = Field(
        default_factory=list, description="what can carry a national value, weakest first: model, "
                                          "annual-inventory, monthly-statistics, daily-activity")
    data_edge: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="per country and sector, how far measured data reach and what follows",
        examples=[{"CHN": {"power": "monthly-statistics through 2026-03-31 (Carbon Monitor Power monthly "
                                    "generation by fuel x emission factors); after that, a model"}}])


class Estimate(BaseModel):
    emissions: float = Field(description="t CO2 in the period")
    lower: float = Field(description="lower bound of the 90% interval, t CO2")
    upper: float = Field(description="upper bound of the 90% interval, t CO2")
    evidence: dict[str, float] | None = Field(
        default=None, description="share of these emissions (0-1) resting on each kind of evidence: "
                                  "'daily-activity' (measured daily data), 'monthly-statistics', "
                                  "'annual-inventory' (the year's level from the inventory, its shape a model) or "
                                  "'model' (no inventory or measured data yet); absent for cubes built before it",
        examples=[{"monthly-statistics": 0.82, "annual-inventory": 0.18}])


class PeriodEmissions(BaseModel):
    period: str = Field(description="'2024-03-01' (day), '2024-03' (month) or '2024' (year)")
    start: dt.date = Field(description="first day of the period inside the query window")
    end: dt.date = Field(description="last day of the period inside the query window")
    days: int = Field(description="days summed; a month or year cut by start/end has fewer")
    sectors: dict[str, Estimate]
    total: Estimate = Field(description="sum of the requested sectors")


class RegionInfo(BaseModel):
    id: str
    type: Literal["country", "international", "world"]
    definition: str


class IntervalInfo(BaseModel):
    level: float = 0.9
    rule: str


class RegionEmissions(BaseModel):
    dataset: str
    region: RegionInfo
    start: dt.date
    end: dt.date
    freq: Literal["day", "month", "year"]
    sectors: list[str]
    units: str = "t CO2"
    interval: IntervalInfo
    periods: list[PeriodEmissions]
