"""Response models of the analysis and pathway routes (the OpenAPI schema is generated from these)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class AnalysisRegion(BaseModel):
    id: str
    type: str = Field(description="country, international, world, admin1, urban_area, place or geometry")
    definition: str
    home_country: str | None = Field(None, description="the country whose national table gives this region's "
                                                       "evidence, data edge and history (ISO3)")
    scope: str = Field(description="'national table' (countries, XIA/XIS, WLD) or 'polygon' (the grid inside it)")


class Total(BaseModel):
    emissions_t: float = Field(description="t CO2 in the period")
    lower_t: float = Field(description="lower bound of the 90% interval, t CO2")
    upper_t: float = Field(description="upper bound of the 90% interval, t CO2")
    evidence: dict[str, float] | None = Field(None, description="share of these emissions resting on each kind of "
                                                                "evidence (daily-activity, monthly-statistics, "
                                                                "annual-inventory, model)")


class SectorRank(Total):
    sector: str
    share: float = Field(description="share of the region's total over the period, 0..1")


class TwelveMonths(BaseModel):
    start: str
    end: str
    total_t: float = Field(description="t CO2 in the last 12 whole months of the dataset")
    previous_total_t: float | None = Field(None, description="t CO2 in the 12 months before them")
    change_pct: float | None = None


class HistoryOut(BaseModel):
    years: list[int]
    total_t: list[float] = Field(description="annual emissions, t CO2 yr-1")
    lower_t: list[float]
    upper_t: list[float]
    basis: list[str] = Field(description="per year: 'inventory' (national annual inventory), 'dataset' (this "
                                         "dataset's complete years) or 'estimated' (a sub-national region's share of "
                                         "its country carried back)")
    evidence: list[dict[str, float]] = Field(description="per year, the evidence shares")
    sectors: dict[str, list[float]] | None = Field(None, description="per sector, t CO2 yr-1")
    note: str


class PeakOut(BaseModel):
    verdict: str = Field(description="peaked, plateau, still rising, or not enough data")
    probability: float | None = Field(None, description="share of Monte Carlo draws giving this verdict (how sure)")
    likelihood: str | None = Field(None, description="the probability in IPCC calibrated language")
    peak_year: int | None = Field(None, description="for 'peaked': the most likely peak year")
    peak_year_range: list[int] | None = Field(None, description="5-95% range of the peak year")
    peak_t: float | None = Field(None, description="the series' maximum, t CO2 yr-1")
    last_year: int | None = None
    last_t: float | None = None
    decline_from_peak_pct: float | None = Field(None, description="the last two years' mean below the maximum, %")
    recent_growth_pct: float | None = Field(None, description="Theil-Sen trend of the last 5 years, % per year")
    recent_growth_range_pct: list[float] | None = None
    shares: dict[str, float] = Field(default_factory=dict, description="share of draws per verdict")
    years_used: list[int] = Field(default_factory=list)
    rule: str
    reason: str


class TargetOut(BaseModel):
    description: str
    kind: str = Field(description="'peak' (peak no later than year) or 'cut' (cut_pct % by year against base_year)")
    year: int
    cut_pct: float | None = None
    base_year: int | None = None
    base_t: float | None = Field(None, description="base year emissions, t CO2 yr-1")
    target_t: float | None = Field(None, description="cut: the target level; peak: the path's level in the peak "
                                                     "year, t CO2 yr-1")
    now_year: int = Field(description="the last complete year of data")
    now_t: float
    path_t_now: float = Field(description="cut: the straight path from the base year to the target, in now_year")
    gap_t: float = Field(description="now_t - path_t_now: > 0 means above the path")
    gap_pct: float
    required_annual_change_pct: float = Field(description="cut: the constant annual change from now that reaches "
                                                          "the target; peak: next year's growth on the path")
    required_slowdown_pp_per_year: float | None = Field(None, description="peak: how many percentage points the "
                                                                          "growth rate must fall every year")
    trend_growth_pct: float = Field(description="the current trend, % per year")
    trend_t_at_target_year: float
    gap_at_target_year_t: float = Field(description="the trend's value in the target year minus the target")
    on_track: bool = Field(description="the current trend reaches the target")
    met: bool = Field(description="already met (cut: emissions already at or below the target; peak: peaked by then)")
    explanation: str


class Facility(BaseModel):
    name: str
    sector: str
    kind: str
    iso3: str
    lon: float
    lat: float
    basis: str = Field(description="reported (the facility's own report), estimated (capacity x utilisation x "
                                   "factor) or traffic share (airports)")
    status: str = Field(description="operating, closed or mothballed; closed plants emit nothing")
    emissions_t: float = Field(description="t CO2 over the period (0 when closed)")
    t_per_year: float
    share_of_sector: float | None = Field(None, description="share of the region's sector total over the period")
    closed_year: int | None = None
    former_t_per_year: float | None = Field(None, description="closed plants: what they emitted (or were estimated "
                                                              "to emit) a year while running")


class FacilitiesOut(BaseModel):
    available: bool
    operating: list[Facility]
    closed: list[Facility]
    scaled_to_sector_totals: dict[str, float] = Field(
        default_factory=dict, description="sectors whose facilities were scaled down so that they never add up to "
                                          "more than the region's sector total, and the factor")
    method: str


class Analysis(BaseModel):
    dataset: str
    release: str | None = Field(None, description="the dataset release the numbers come from (pin it with ?release=)")
    region: AnalysisRegion
    start: dt.date
    end: dt.date
    days: int
    units: str = "t CO2"
    total: Total
    sectors: list[SectorRank]
    data_edge: dict[str, str] = Field(default_factory=dict, description="per sector, how far measured data reach for "
                                                                        "the home country and what follows")
    latest_12_months: TwelveMonths | None
    history: HistoryOut
    peak: PeakOut
    target: TargetOut | None
    facilities: FacilitiesOut
    interval_rule: str


class LeverOut(BaseModel):
    lever: str
    value: float
    effect: str
    sector_factor: dict[str, float]
    added_power_t: float


class PathwayYear(BaseModel):
    year: int
    total_t: float
    trend_t: float
    sectors: dict[str, float]


class PathwayOut(BaseModel):
    dataset: str
    release: str | None = None
    region: AnalysisRegion
    target: TargetOut
    years: list[PathwayYear] = Field(description="now_year (actual) to the target year")
    required_annual_change_pct: dict[str, float] = Field(description="per sector, the constant annual change from "
                                                                     "now to its pathway value in the target year")
    trend_growth_pct: dict[str, float] = Field(description="per sector, the current trend, % per year")
    implied_peak_year: int
    cumulative_t: float = Field(description="emissions of the years after now_year through the target year")
    cumulative_trend_t: float
    gap_to_trend_t: float = Field(description="the current trend minus the pathway in the target year")
    target_t: float
    reaches_target: bool
    levers: list[LeverOut]
    method: str
    history: dict[str, Any] = Field(description="the annual totals the trends come from (years, total_t)")
