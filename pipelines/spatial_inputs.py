"""Read the facility, airport-traffic and shipping-lane inputs of the spatial model (thin I/O, issue #16).

:func:`load_spatial` returns :class:`SpatialInputs`: the power and industry point tables of one year
(:mod:`nowcast.facilities`), airports with their scheduled departures and the shipping lanes. Files that do not
ship are skipped (the build then keeps its older proxies for that part, and says so in its metadata).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonmap.contract import Grid
from nowcast import facilities as fac
from nowcast.downscale import Coverage
from nowcast.subnational import ProvinceLevel, shares_from_stats

Record = Callable[[Any, Path, str], Path]

GEM_DIR = "point_sources/gem"
GEM_COAL = f"{GEM_DIR}/gem_gcpt_coal_units_2024-07.csv.gz"
GEM_COAL_PARAMETERS = f"{GEM_DIR}/gem_gcpt_co2_parameters_2024-07.csv"
GEM_STEEL_PLANTS = f"{GEM_DIR}/gem_gist_iron_steel_plants_2025-03.csv.gz"
GEM_STEEL_UNITS = f"{GEM_DIR}/gem_gist_iron_steel_units_2025-03.csv.gz"
GEM_CEMENT = f"{GEM_DIR}/gem_gcct_cement_plants_2025-06.csv.gz"
GHGRP = "point_sources/facility-emissions/us_ghgrp_direct_emitters_2010-2020_2022-2023_long.csv.gz"
EPRTR = "point_sources/facility-emissions/eu_eprtr_facility_co2_2007-2021.csv.gz"
AIRPORT_TRAFFIC = "activity/aviation/airport_departures_2016-08_optd_x_openflights.csv.gz"
SHIPPING_LANES = "activity/shipping/shipping_lanes_v1_cia2012.geojson.gz"
ADMIN1 = "boundaries/ne_10m_admin_1_states_provinces.topo.json.gz"
CN_PROVINCE_THERMAL = "activity/china-monthly/nbs_province_thermal_power_monthly_火电当月.csv"
CN_PROVINCE_THERMAL_YTD = "activity/china-monthly/nbs_province_thermal_power_ytd_火电累计.csv"
US_STATES = "electricity/ember/api_overview_usa_monthly.csv.gz"
IND_STATES = "electricity/ember/api_overview_ind_monthly.csv"
TUR_PROVINCES = "electricity/ember/generation_tur_monthly.csv.gz"
CN_PROVINCE_OUTPUT = "activity/china-monthly/provincial_outputs_and_thermal_capacity.csv"


@dataclass(frozen=True)
class SpatialInputs:
    """Point tables (:data:`nowcast.facilities.POINT_COLUMNS`), airports and lanes; None where absent."""

    year: int
    power_points: pd.DataFrame | None = None
    industry_points: pd.DataFrame | None = None
    airports: pd.DataFrame | None = None
    """iso3, lon, lat, departures_domestic, departures_international (flights per month, August 2016)."""
    lanes: Any = None
    """GeoDataFrame of shipping-lane lines (ingest.shipping_lanes.read_shipping_lanes)."""
    province_stats: dict[str, dict[str, tuple[pd.Series, str]]] = field(default_factory=dict)
    """sector -> iso3 -> (province id -> statistic of the newest complete year <= ``year``, what it is)."""
    admin1_path: Path | None = None
    cache_dir: Path | None = None
    """Where province coverage is cached (``Settings.cache_dir`` of the build); None = computed, not cached."""

    def provinces(self, grid: Grid, sector: str = "power") -> list[ProvinceLevel]:
        """The countries whose ``sector`` has a province level on ``grid`` (coverage cached per grid)."""
        stats_of = self.province_stats.get(sector, {})
        if not stats_of or self.admin1_path is None:
            return []
        out = []
        units: list[Any] = []  # the admin-1 file, read once and only on a cache miss
        for iso3, (stats, source) in sorted(stats_of.items()):
            cov = province_coverage(self.admin1_path, iso3, grid, units, cache_dir=self.cache_dir)
            ids = tuple(cov.ids)
            shares = shares_from_stats(stats, ids)
            out.append(ProvinceLevel(iso3, ids, Coverage(cov.region.astype(np.int64), cov.cell, cov.fraction),
                                     shares, source, generation="generation" in source))
        return out


def province_coverage(admin1_path: Path, iso3: str, grid: Grid, units_cache: list[Any] | None = None, *,
                      cache_dir: Path | None) -> Any:
    """Exact coverage of one country's admin-1 polygons on ``grid`` (ingest.boundaries.Coverage), cached under
    ``cache_dir / "coverage"`` (the build's ``Settings.cache_dir``; None: not cached)."""
    import hashlib

    from carbonmap.contract import sha256_file
    from ingest import admin1, boundaries

    cache: Path | None = None
    if cache_dir is not None:
        key = hashlib.sha256(f"{sha256_file(admin1_path)}|{iso3}|{grid.bounds}|{grid.resolution}".encode()
                             ).hexdigest()
        cache = Path(cache_dir) / "coverage" / f"admin1_{iso3}_{grid.resolution:g}deg_{key[:20]}.parquet"
    if cache is not None and cache.exists():
        try:
            return boundaries.load_coverage(cache)
        except (OSError, ValueError, KeyError):
            cache.unlink(missing_ok=True)
    if units_cache is None:
        units_cache = []
    if not units_cache:
        units_cache.append(admin1.read_admin1(admin1_path))
    units = units_cache[0]
    units = units[(units["iso3"] == iso3) & ~units["id"].str.startswith("adm1:")].reset_index(drop=True)
    cov = boundaries.coverage_fractions(units.rename(columns={"id": "code"}), grid, id_col="code")
    if cache is not None:
        boundaries.save_coverage(cov, cache)
    return cov


def load_spatial(root: Path, record: Record, year: int, gppd: pd.DataFrame, jrc: pd.DataFrame | None, *,
                 cache_dir: Path | None) -> SpatialInputs:
    """Read the spatial inputs shipped under ``root`` for ``year``; ``cache_dir``: where province coverage is
    cached (the build's ``Settings.cache_dir``).

    ``gppd``: the build's WRI GPPD plants (``ingest.power_plants.read_gppd_sources``; their coal plants are
    replaced by GEM's units); ``jrc``: JRC-PPDB-OPEN units (``read_jrc_ppdb``) or None."""
    root = Path(root)
    have = {k: (root / v).exists() for k, v in {
        "coal": GEM_COAL, "steel": GEM_STEEL_PLANTS, "cement": GEM_CEMENT, "ghgrp": GHGRP, "eprtr": EPRTR,
        "air": AIRPORT_TRAFFIC, "lanes": SHIPPING_LANES}.items()}
    power = industry = airports = lanes = None
    reported = []
    if have["ghgrp"]:
        from ingest import ghgrp

        reported.append(ghgrp.read_ghgrp_long(record(ghgrp.INFO, root / GHGRP, "reported CO2 of US facilities")))
    if have["eprtr"]:
        from ingest import facility_emissions as fe

        reported.append(fe.read_eprtr(record(fe.INFO, root / EPRTR, "reported CO2 of European facilities")))
    facilities = pd.concat(reported, ignore_index=True) if reported else None
    if have["coal"]:
        from ingest import gem_coal

        params = record(gem_coal.INFO, root / GEM_COAL_PARAMETERS, "GEM heat rates and emission factors")
        units = gem_coal.read_gem_coal_units(record(gem_coal.INFO, root / GEM_COAL, "coal units with status and "
                                                                                    "retirement year"), params)
        op = gem_coal.operating_in(units, year)
        coal = fac.coal_points(op, gem_coal.annual_co2_mt(op, 1.0))
        from nowcast.proxies import plant_emissions

        noncoal = plant_emissions(gppd[gppd["primary_fuel"] != "Coal"])
        jrc_ = jrc if jrc is not None else pd.DataFrame(columns=["iso3", "lon", "lat", "co2_kg_per_yr", "status",
                                                                  "year_decommissioned", "eic_p", "name_p"])
        others = pd.concat([fac.gppd_points(noncoal, jrc_), fac.jrc_points(jrc_, year)], ignore_index=True)
        rep_power = (fac.reported_points(facilities, year, "power", "power plant (EPA GHGRP)")
                     if facilities is not None else pd.DataFrame(columns=list(fac.POINT_COLUMNS)))
        power = fac.power_points(coal, others[list(fac.POINT_COLUMNS)], rep_power)
    if have["steel"] and have["cement"]:
        from ingest import gem_cement, gem_steel

        sp_ = gem_steel.read_gem_steel_plants(
            record(gem_steel.INFO, root / GEM_STEEL_PLANTS, "iron and steel plants"),
            record(gem_steel.INFO, root / GEM_STEEL_UNITS, "iron and steel furnaces by process"))
        steel = fac.steel_points(sp_, gem_steel.plant_co2_capacity(sp_))
        cement = fac.cement_points(gem_cement.read_gem_cement_plants(
            record(gem_cement.INFO, root / GEM_CEMENT, "cement plants")))
        rep_ind = (fac.reported_points(facilities, year, "industry", "industrial facility (reported)")
                   if facilities is not None else pd.DataFrame(columns=list(fac.POINT_COLUMNS)))
        industry = fac.industry_points(steel, cement, rep_ind)
    if have["air"]:
        from ingest import airport_traffic

        airports = airport_traffic.read_airport_departures(
            record(airport_traffic.INFO, root / AIRPORT_TRAFFIC, "aviation: scheduled departures per airport"))
    if have["lanes"]:
        from ingest import shipping_lanes

        lanes = shipping_lanes.read_shipping_lanes(
            record(shipping_lanes.INFO, root / SHIPPING_LANES, "international shipping: lane network"))
    stats: dict[str, dict[str, tuple[pd.Series, str]]] = {}
    if (root / ADMIN1).exists():
        stats = {"power": _province_power_stats(root, record, year),
                 "industry": _province_industry_stats(root, record, year)}
    return SpatialInputs(year, power, industry, airports, lanes, stats,
                         root / ADMIN1 if (root / ADMIN1).exists() else None, cache_dir)


def _newest_full_year(table: pd.DataFrame, variable: str, year: int) -> tuple[pd.Series, int] | None:
    t = table[(table["variable"] == variable) & (table["frequency"] == "monthly") & (table["region"] != "")]
    if t.empty:
        return None
    y = pd.DatetimeIndex(t["period"]).year
    counts = t.groupby([y, t["region"]])["value"].count().unstack()
    full = [int(v) for v in counts.index if v <= year and (counts.loc[v] == 12).sum() >= 0.8 * counts.shape[1]]
    if not full:
        return None
    best = max(full)
    sel = t[(y == best)]
    return sel.groupby("region")["value"].sum(), best


def _province_industry_stats(root: Path, record: Record, year: int) -> dict[str, tuple[pd.Series, str]]:
    """China: NBS crude steel and cement output by province, weighted into CO2 like the national index."""
    p = root / CN_PROVINCE_OUTPUT
    if not p.exists():
        return {}
    from ingest import china_provinces
    from nowcast.activity_indicators import INDUSTRY_EF_T_PER_T

    t = china_provinces.read_china_province_output(
        record(china_provinces.INFO, p, "province level of industry: crude steel and cement output"))
    y = pd.DatetimeIndex(t["period"]).year
    best = int(y[y <= year].max())
    w = t[y == best].pivot_table(index="region", columns="variable", values="value")
    idx = sum(w.get(v, pd.Series(0.0, index=w.index)).fillna(0.0) * INDUSTRY_EF_T_PER_T[v]
              for v in ("crude_steel", "cement"))
    return {"CHN": (pd.Series(idx, index=w.index), f"NBS crude steel and cement output by province, {best}")}


def _province_power_stats(root: Path, record: Record, year: int) -> dict[str, tuple[pd.Series, str]]:
    """China: NBS provincial thermal generation; USA and India: Ember's state power-sector CO2; Türkiye: Ember's
    province fossil power CO2 (coal, gas, other fossil)."""
    out: dict[str, tuple[pd.Series, str]] = {}
    cn, cn_ytd = root / CN_PROVINCE_THERMAL, root / CN_PROVINCE_THERMAL_YTD
    if cn.exists():
        from ingest import china_monthly

        t = china_monthly.read_china_province_thermal_monthly(
            record(china_monthly.PROVINCE_INFO, cn, "province level of power: thermal generation by province"),
            record(china_monthly.PROVINCE_INFO, cn_ytd, "province level of power (year to date)")
            if cn_ytd.exists() else None)
        got = _newest_full_year(t, "generation_thermal", year)
        if got is not None:
            out["CHN"] = (got[0], f"NBS thermal generation by province, {got[1]}")
    for iso3, rel, unit in (("USA", US_STATES, "state"), ("IND", IND_STATES, "state"),
                            ("TUR", TUR_PROVINCES, "province")):
        p = root / rel
        if not p.exists():
            continue
        from ingest import ember_api

        t = ember_api.read_ember_api(record(ember_api.INFO, p, f"{unit} level of power ({iso3})"))
        got = _newest_full_year(t, "power_co2", year)
        if got is not None:
            out[iso3] = (got[0], f"Ember power-sector CO2 by {unit}, {got[1]}")
    return out
