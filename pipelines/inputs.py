"""Everything a build reads, loaded once through the ingest adapters, with its provenance."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap import contract as cc
from carbonmap.settings import Settings, get_settings
from ingest import (
    airports,
    boundaries,
    cait,
    edgar,
    fallback_locations,
    gcb,
    gpw,
    night_lights,
    ports,
    power_plants,
    region_catalogue,
)
from ingest.gcb import GCB_FILE
from ingest.sector_shares import national_sector_shares
from nowcast.sector_split import SectorSplit
from pipelines.indicators import DailyIndicators, load_daily_indicators
from pipelines.measured_inputs import load_measured, load_split
from pipelines.spatial_inputs import SpatialInputs, load_spatial

EDGAR_FILE = "statistical/edgar-v5.0-ft2018-co2-by-sector.csv"
CAIT_FILE = "statistical/cait-co2-by-sector-2021.csv"
GPW_FILE = "population/gpw_v4_population_count_rev11_2020_1_deg.asc"
LIGHTS_FILE = "satellite/nasa-city-lights/night.jpg"
GPPD_DIR = "point_sources/wri-gppd-v1.3.0/source_databases_csv"
JRC_DIR = "point_sources/jrc-ppdb-open-v1.0"
COUNTRIES_FILE = "boundaries/ne_50m_admin_0_countries.json"
PLACES_FILE = "boundaries/ne_10m_populated_places_simple.json"
AIRPORTS_FILE = "boundaries/ne_10m_airports.json"
PORTS_FILE = "boundaries/ne_10m_ports.json"
URBAN_FILE = boundaries.URBAN_FILE

FALLBACK_PLACES_PER_COUNTRY = 5
SPLIT_FIRST_YEAR = 1990
"""First year of the per-year sector split (the national daily chain reads from 2000)."""


@dataclass(frozen=True)
class BuildInputs:
    """The inputs of a build (tables and arrays, no file handles)."""

    gcb: pd.DataFrame
    """GCB national totals, Mt CO2 yr-1 (ingest.gcb.read_gcb)."""
    shares: pd.DataFrame
    """Sector shares, index iso3, columns NATIONAL_SECTORS, rows sum to 1."""
    south: dict[str, bool]
    """True where a country's representative point lies south of the equator."""
    population: np.ndarray
    """(180, 360) persons per 1 degree cell, north-up (GPW v4 2020)."""
    lights: np.ndarray
    """(1024, 2048) night-light picture brightness 0..255, north-up."""
    plants: pd.DataFrame
    """Power plants: iso3, lon, lat, primary_fuel, capacity_mw, generation_gwh."""
    airports: pd.DataFrame
    """lon, lat, type."""
    ports: pd.DataFrame
    """lon, lat, scalerank."""
    fallback_points: pd.DataFrame
    """iso3, lon, lat, weight: where to put a country's emissions when it has no cells."""
    coverage: Callable[[cc.Grid], boundaries.Coverage]
    """grid -> exact country cell-coverage fractions (cached)."""
    files: tuple[cc.InputFile, ...]
    proxies: tuple[str, ...]
    indicators: DailyIndicators | None = None
    """Daily activity indicators per country (degree days, US demand); None = documented fallbacks only."""
    jrc_plants: pd.DataFrame | None = None
    """JRC-PPDB-OPEN units with reported annual CO2 (ingest.power_plants.read_jrc_ppdb); None = GPPD only."""
    urban: Callable[[cc.Grid], boundaries.Coverage] | None = None
    """grid -> exact coverage of the Natural Earth 1:50m urban areas (dissolved, cached;
    ingest.region_catalogue.cached_urban_coverage); None = no urban uplift of the population proxies."""
    split: SectorSplit | None = None
    """Per-year sector shares from current data (:func:`nowcast.sector_split.sector_split`); None = the
    static ``shares`` for every year."""
    spatial: SpatialInputs | None = None
    """Facilities (power and industry points), airport traffic and shipping lanes of the last inventory year
    (:func:`pipelines.spatial_inputs.load_spatial`); None = the older plant table and proxies."""


def _fallback_points(places: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """The largest populated places of each country, plus explicit points for codes with none."""
    top = (places.sort_values("pop_max", ascending=False).groupby("iso3").head(FALLBACK_PLACES_PER_COUNTRY))
    pts = pd.DataFrame({"iso3": top["iso3"], "lon": top["lon"], "lat": top["lat"],
                        "weight": top["pop_max"].clip(lower=1).astype(float)})
    add = extra[~extra["iso3"].isin(pts["iso3"])]
    return pd.concat([pts, add.assign(weight=1.0)[["iso3", "lon", "lat", "weight"]]], ignore_index=True)


def load_inputs(grid: cc.Grid | None = None, data_dir: Path | None = None, *,
                settings: Settings | None = None) -> BuildInputs:
    """Read every shipped input through its adapter; ``grid`` is unused until coverage is asked.

    ``settings``: where inputs (``data_dir``, unless given) and coverage caches (``cache_dir``) live; a build
    passes its request's.  None (a public entry point: scripts, notebooks and many tests call it bare) reads
    the process settings, once, here."""
    settings = settings or get_settings()
    root = Path(data_dir or settings.data_dir)

    def path(rel: str) -> Path:
        p = root / rel
        if not p.exists():
            raise FileNotFoundError(f"missing input file {p}; it ships in data/ with the repository")
        return p

    files: list[cc.InputFile] = []

    def record(info, p: Path, role: str) -> Path:  # info: SourceInfo
        files.append(info.input_file(p, role=role, root=root))
        return p

    g = gcb.read_gcb(record(gcb.INFO, path(GCB_FILE), "national annual fossil CO2 totals"))
    e = edgar.read_edgar_v5(record(edgar.INFO, path(EDGAR_FILE), "sector shares (primary)"))
    c = cait.read_cait(record(cait.INFO, path(CAIT_FILE), "sector shares (where EDGAR lacks a country)"))
    codes = [x for x in g["iso3"].dropna().unique() if x not in ("WLD", *cc.INTERNATIONAL_SECTORS.values())]
    shares = national_sector_shares(e, c, countries=codes)

    pop = gpw.read_gpw_ascii(record(gpw.INFO, path(GPW_FILE), "population proxy"))
    lights = night_lights.read_city_lights(record(night_lights.INFO, path(LIGHTS_FILE),
                                                  "sub-degree pattern of population (simplified proxy)"))
    gppd_dir = path(GPPD_DIR)
    for f in sorted(gppd_dir.glob("*.csv")):
        record(power_plants.GPPD_INFO, f, "power plant locations, capacity, fuel")
    plants = power_plants.read_gppd_sources(gppd_dir)
    jrc_dir = path(JRC_DIR)
    for t in power_plants.JRC_TABLES:
        record(power_plants.JRC_INFO, jrc_dir / t, "reported CO2 of European power units")
    jrc_plants = power_plants.read_jrc_ppdb(jrc_dir)
    apt = airports.read_airports(record(airports.INFO, path(AIRPORTS_FILE), "aviation proxy"))
    prt = ports.read_ports(record(ports.INFO, path(PORTS_FILE), "shipping proxy"))

    countries_path = record(boundaries.INFO, path(COUNTRIES_FILE), "country boundaries and coverage fractions")
    countries = boundaries.read_countries(countries_path)
    places = boundaries.read_places(record(boundaries.INFO, path(PLACES_FILE), "fallback locations"))
    extra = fallback_locations.read_fallback_locations(
        record(fallback_locations.INFO, path(fallback_locations.FILE), "fallback locations"))
    indicators = load_daily_indicators(root, record)
    measured = load_measured(root, record, indicators.power_demand)
    indicators = dataclasses.replace(indicators, measured_monthly=measured.monthly, measured_daily=measured.daily,
                                     measured_sources=measured.sources, spring_festival=measured.spring_festival)
    last_inv = int(g.loc[g["total"].notna(), "year"].max())
    split = load_split(root, record, g, shares, list(range(SPLIT_FIRST_YEAR, last_inv + 1)))
    spatial = load_spatial(root, record, last_inv, plants, jrc_plants, cache_dir=settings.cache_dir)
    pts = countries.geometry.representative_point()
    south = {str(i): bool(p.y < 0) for i, p in zip(countries["iso3"], pts, strict=True)}

    def coverage(g_: cc.Grid) -> boundaries.Coverage:
        return boundaries.cached_country_coverage(g_, countries_path, settings=settings)

    urban_path = record(boundaries.INFO, path(URBAN_FILE),
                        "urban areas: uplift of the population proxy of ground transport and residential")

    def urban(g_: cc.Grid) -> boundaries.Coverage:
        return region_catalogue.cached_urban_coverage(g_, urban_path, cache_dir=settings.cache_dir)

    return BuildInputs(
        gcb=g, shares=shares, south=south, population=np.asarray(pop.values, dtype=np.float64),
        lights=np.asarray(lights.values, dtype=np.float64), plants=plants, airports=apt, ports=prt,
        fallback_points=_fallback_points(places, extra), coverage=coverage, files=tuple(files),
        proxies=(), indicators=indicators, jrc_plants=jrc_plants, urban=urban, split=split, spatial=spatial,
    )
