"""Point sources of the power and industry sectors for one year, with estimated annual CO2 (pure, issue #16).

:func:`power_points` and :func:`industry_points` return one table (:data:`POINT_COLUMNS`): ``iso3, lon, lat,
co2_kg_per_yr, basis, kind, name``; ``basis`` is ``reported`` (a facility's own reported CO2) or ``estimated``
(capacity x utilisation x emission factor). The order of precedence per country:

==========  ====================================================================================================
sector      points
==========  ====================================================================================================
power       US: EPA GHGRP power plants (NAICS 2211), reported CO2 of the newest year <= the target year.
            Europe: JRC-PPDB-OPEN units with reported CO2 (2015-2018), GEM/GPPD plants within
            :data:`MATCH_DEG` of one dropped as duplicates. Everywhere else: every GEM coal unit operating in
            the year (retired units removed as of their retirement year; GEM's heat rates and emission factors at
            :data:`COAL_CAPACITY_FACTOR`) plus WRI GPPD gas, oil and cogeneration plants (GPPD's coal plants are
            replaced by GEM's units).
industry    US: EPA GHGRP non-power facilities, reported. EU: E-PRTR non-power facilities, reported (newest year).
            Everywhere else: GEM iron and steel plants (route capacity x :data:`STEEL_UTILISATION` x route factor,
            :func:`ingest.gem_steel.plant_co2_capacity`), GEM cement plants (clinker or cement capacity x
            :data:`CEMENT_UTILISATION` x :data:`CEMENT_T_CO2_PER_T`); plants without a capacity take their
            country's median.
==========  ====================================================================================================

Estimates only weight points against each other and against the national sector total: the build's
plants-first rule (:func:`calibrated_plants_first`) fills the national total from the points first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nowcast.downscale import Points, PowerWeights, plants_first_weights
from nowcast.proxies import near_same_country

POINT_COLUMNS = ("iso3", "lon", "lat", "co2_kg_per_yr", "basis", "kind", "name")
KG_PER_T = 1000.0
MATCH_DEG = 0.05
"""A plant within this distance (degrees, Chebyshev) of a reported facility of the same country is the same plant."""
COAL_CAPACITY_FACTOR = 0.53
"""GEM's own default capacity factor for coal units (its CO2 parameters sheet)."""
STEEL_UTILISATION = 0.77
"""Crude-steel capacity utilisation, world average of recent years (assumed; worldsteel reports 75-80%)."""
CEMENT_UTILISATION = 0.65
"""Cement capacity utilisation (assumed; the world's cement capacity exceeds output by about a half)."""
CEMENT_T_CO2_PER_T = 0.60
"""t CO2 per t of cement capacity used (process + fuel at a clinker ratio ~0.7; assumed)."""
MAX_POINT_SCALE = 2.0
"""At most this factor up on the points' estimates before the rest of a national total goes to the proxy:
a capacity factor or utilisation is uncertain by that much, diffuse sources are not."""


def _frame(iso3: pd.Series, lon: pd.Series, lat: pd.Series, t_per_yr: pd.Series | np.ndarray, basis: str,
           kind: str, name: pd.Series | str) -> pd.DataFrame:
    out = pd.DataFrame({"iso3": np.asarray(iso3, dtype=object), "lon": np.asarray(lon, dtype=float),
                        "lat": np.asarray(lat, dtype=float),
                        "co2_kg_per_yr": np.asarray(t_per_yr, dtype=float) * KG_PER_T,
                        "basis": basis, "kind": kind,
                        "name": name if isinstance(name, str) else np.asarray(name, dtype=object)})
    ok = np.isfinite(out["lon"]) & np.isfinite(out["lat"]) & (out["co2_kg_per_yr"] > 0)
    return out[ok].reset_index(drop=True)


def _drop_near(points: pd.DataFrame, reported: pd.DataFrame, match_deg: float = MATCH_DEG) -> pd.DataFrame:
    """``points`` without those within ``match_deg`` of a ``reported`` facility of the same country."""
    return points[~near_same_country(points, reported, match_deg)].reset_index(drop=True)


def _latest(fac: pd.DataFrame, year: int) -> pd.DataFrame:
    """Each facility's newest reported year <= ``year`` (located rows only)."""
    f = fac[(fac["year"] <= year) & fac["located"].astype(bool)]
    if f.empty:
        return f
    newest = f.groupby("iso3")["year"].transform("max")
    return f[f["year"] == newest]


def reported_points(facilities: pd.DataFrame, year: int, sector: str, kind: str) -> pd.DataFrame:
    """Facilities of ``sector`` (power or industry) with their reported CO2 of the newest year <= ``year``.

    ``facilities``: the common table of :mod:`ingest.facility_emissions` (``co2_t`` t yr-1, ``sector``,
    ``located``). For each country only its newest reported year is used (one register year per country)."""
    f = facilities[facilities["sector"] == sector]
    f = _latest(f, year)
    if f.empty:
        return pd.DataFrame(columns=list(POINT_COLUMNS))
    g = f.groupby(["iso3", "facility_id"], as_index=False).agg(
        lon=("lon", "first"), lat=("lat", "first"), co2_t=("co2_t", "sum"), name=("name", "first"))
    return _frame(g["iso3"], g["lon"], g["lat"], g["co2_t"], "reported", kind, g["name"])


def coal_points(units: pd.DataFrame, co2_mt_full_load: pd.Series) -> pd.DataFrame:
    """GEM coal units (already those operating in the year) at :data:`COAL_CAPACITY_FACTOR`, t -> kg."""
    t = co2_mt_full_load.to_numpy(float) * 1e6 * COAL_CAPACITY_FACTOR
    return _frame(units["iso3"], units["lon"], units["lat"], t, "estimated", "coal unit (GEM)",
                  units["plant_name"].astype(str) + " " + units["unit_name"].astype(str))


def power_points(coal: pd.DataFrame, other_plants: pd.DataFrame, reported_power: pd.DataFrame,
                 reported_only: tuple[str, ...] = ("USA",)) -> pd.DataFrame:
    """The power point table of one year (see the module table).

    coal: :func:`coal_points`; other_plants: non-coal estimated or reported plants (GPPD gas/oil, JRC units;
    columns :data:`POINT_COLUMNS`); reported_power: :func:`reported_points` of power (e.g. GHGRP).
    Countries in ``reported_only`` are represented by their reported facilities alone when they have any."""
    rep = reported_power
    rep_only = rep[rep["iso3"].isin(reported_only)]
    covered = set(rep_only["iso3"].unique())
    est = pd.concat([coal, other_plants], ignore_index=True)
    est = est[~est["iso3"].isin(covered)]
    reported_other = est[est["basis"] == "reported"]
    estimated = _drop_near(est[est["basis"] != "reported"], reported_other)
    return pd.concat([rep_only, reported_other, estimated], ignore_index=True)[list(POINT_COLUMNS)]


JRC_INACTIVE = ("DECOMMISSIONED", "MOTHBALLED")


def jrc_points(jrc: pd.DataFrame, year: int) -> pd.DataFrame:
    """JRC-PPDB-OPEN units active in ``year`` with their reported CO2, summed per plant (``eic_p``).

    Decommissioned or mothballed units, and units decommissioned in or before ``year``, emit nothing, whatever
    CO2 they reported before (France's La Maxe, Porcheville, Aramon reported in 2015-2017, then closed)."""
    j = jrc[jrc["lat"].notna() & jrc["lon"].notna() & (jrc["co2_kg_per_yr"] > 0) & jrc["iso3"].notna()]
    dec = pd.to_numeric(j["year_decommissioned"], errors="coerce").astype(np.float64)  # NA -> NaN
    active = ~j["status"].isin(JRC_INACTIVE).to_numpy(bool) & ~(dec.to_numpy() <= year)
    j = j[active]
    g = j.groupby("eic_p").agg(iso3=("iso3", "first"), lon=("lon", "mean"), lat=("lat", "mean"),
                               co2=("co2_kg_per_yr", "sum"), name=("name_p", "first")).reset_index(drop=True)
    return _frame(g["iso3"], g["lon"], g["lat"], g["co2"] / KG_PER_T, "reported", "power unit (JRC-PPDB)", g["name"])


def gppd_points(estimated: pd.DataFrame, jrc: pd.DataFrame) -> pd.DataFrame:
    """GPPD non-coal plants (``co2_kg_per_yr`` estimated) without those within :data:`MATCH_DEG` of any JRC unit
    of their country, active or closed: in Europe the JRC register decides whether a plant still runs."""
    est = estimated.assign(kind="gas/oil plant (GPPD)", name="", basis="estimated")
    located = jrc[jrc["lat"].notna() & jrc["lon"].notna() & jrc["iso3"].notna()]
    return _drop_near(est[list(POINT_COLUMNS)], located[["iso3", "lon", "lat"]])


def steel_points(plants: pd.DataFrame, co2_capacity_mt: pd.Series) -> pd.DataFrame:
    """GEM iron and steel plants operating (incl. those with a retirement announced) at :data:`STEEL_UTILISATION`."""
    op = plants["status"].isin(["operating", "operating-pre-retirement"])
    t = co2_capacity_mt[op].to_numpy(float) * 1e6 * STEEL_UTILISATION
    p = plants[op]
    return _frame(p["iso3"], p["lon"], p["lat"], t, "estimated", "iron and steel plant (GEM)", p["plant_name"])


def cement_points(plants: pd.DataFrame) -> pd.DataFrame:
    """GEM cement plants operating; capacity (clinker where given, else cement) missing -> the country median."""
    p = plants[plants["status"].isin(["operating", "operating-pre-retirement"])].copy()
    cap = p["clinker_capacity_mtpa"].where(p["clinker_capacity_mtpa"] > 0, p["cement_capacity_mtpa"])
    med = cap.groupby(p["iso3"]).transform("median")
    cap = cap.where(cap > 0, med).fillna(cap.median())
    t = cap.to_numpy(float) * 1e6 * CEMENT_UTILISATION * CEMENT_T_CO2_PER_T
    return _frame(p["iso3"], p["lon"], p["lat"], t, "estimated", "cement plant (GEM)", p["name"])


def industry_points(steel: pd.DataFrame, cement: pd.DataFrame, reported_industry: pd.DataFrame) -> pd.DataFrame:
    """The industry point table: a country's reported facilities where it has any (US GHGRP, EU E-PRTR), else
    the estimated steel and cement plants."""
    covered = set(reported_industry["iso3"].unique())
    est = pd.concat([steel, cement], ignore_index=True)
    est = est[~est["iso3"].isin(covered)]
    return pd.concat([reported_industry, est], ignore_index=True)[list(POINT_COLUMNS)]


def calibrated_plants_first(points: Points, national_annual: np.ndarray, residual: sp.spmatrix,
                            max_scale: float = MAX_POINT_SCALE) -> PowerWeights:
    """Plants-first weights whose points may be scaled up by at most ``max_scale`` to fill the national total
    before any of it goes to the residual proxy (:func:`nowcast.downscale.plants_first_weights` otherwise)."""
    n_regions = residual.shape[1]
    psum = np.bincount(points.region, weights=points.weight, minlength=n_regions) if len(points.cell) else \
        np.zeros(n_regions)
    total = np.asarray(national_annual, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        need = total / np.where(psum > 0, psum, 1.0)
        # a total the points can fill is filled by them alone (the 1e-9 keeps rounding from leaving a residual)
        scale = np.where(psum > 0, np.where(need <= max_scale, np.maximum(need, 1.0) * (1 + 1e-9), max_scale), 1.0)
    scaled = Points(points.region, points.cell, points.weight * scale[points.region]) if len(points.cell) else points
    return plants_first_weights(scaled, total, residual)


def capacity_against_generation(coal_units: pd.DataFrame, gas_oil_plants: pd.DataFrame,
                                generation: pd.DataFrame) -> pd.DataFrame:
    """Each country's listed fossil capacity beside its fossil generation (issue #16.1): is the plant table complete?

    coal_units: GEM units operating in the year (``iso3``, ``capacity_mw``); gas_oil_plants: GPPD gas and oil
    plants (``iso3``, ``capacity_mw``); generation: (``iso3``, ``coal_twh``, ``gas_oil_twh``) of the same year.
    Returns per country the listed GW, the generation (TWh) and the implied capacity factors
    (TWh / (GW x 8.76)): a coal factor far above 0.85 or a gas/oil factor far above 0.7 means plants are missing
    from the table; far below, plants are listed that barely run (or closed).
    """
    coal_gw = coal_units.groupby("iso3")["capacity_mw"].sum() / 1000.0
    go_gw = gas_oil_plants.groupby("iso3")["capacity_mw"].sum() / 1000.0
    g = generation.set_index("iso3")
    out = pd.DataFrame({"coal_gw": coal_gw.reindex(g.index).fillna(0.0), "gas_oil_gw": go_gw.reindex(g.index).fillna(0.0),
                        "coal_twh": g["coal_twh"], "gas_oil_twh": g["gas_oil_twh"]})
    hours = 8.76  # TWh per GW-year
    out["coal_capacity_factor"] = out["coal_twh"] / (out["coal_gw"] * hours).where(out["coal_gw"] > 0)
    out["gas_oil_capacity_factor"] = out["gas_oil_twh"] / (out["gas_oil_gw"] * hours).where(out["gas_oil_gw"] > 0)
    return out.sort_values("coal_twh", ascending=False)
