"""Read the facility, airport-traffic and shipping-lane inputs of the spatial model (thin I/O, issue #16).

:func:`load_spatial` returns :class:`SpatialInputs`: the power and industry point tables of one year
(:mod:`nowcast.facilities`), airports with their scheduled departures and the shipping lanes. Files that do not
ship are skipped (the build then keeps its older proxies for that part, and says so in its metadata).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nowcast import facilities as fac

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


def load_spatial(root: Path, record: Record, year: int, gppd: pd.DataFrame, jrc: pd.DataFrame | None
                 ) -> SpatialInputs:
    """Read the spatial inputs shipped under ``root`` for ``year``.

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
    return SpatialInputs(year, power, industry, airports, lanes)
