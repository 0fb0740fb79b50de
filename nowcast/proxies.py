"""Spatial proxy fields on a carbonmap grid (pure functions, arrays in and out).

Every field returned here is flat over cells (``row * nlon + col``), non-negative, and only
its ratios matter.  Which proxy serves which sector is listed in ``SECTOR_PROXIES`` and stated
in the dataset metadata.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from carbonmap.contract import Grid

URBAN_UPLIFT: dict[str, float] = {"industry": 0.0, "ground_transport": 1.0, "residential": 0.5}
"""k per population-proxy sector in w = proxy x (1 + k x urban fraction) (dimensionless, expert judgement).

Population already says where people live; k says how much more of the sector's national total a
person in a fully built-up cell carries than one in a cell with no urban area (1 + k times as much).
A country's column is normalised afterwards, so k moves emissions between its own cells and never
changes a total.  Why these values (docs/methods.md, section 3):

- ``ground_transport`` 1.0: vehicle-km per unit area is highest in built-up areas (urban road
  networks, commuter in-flows: daytime population above resident population, freight delivery), and
  outside the rich world car ownership itself is concentrated in cities.  EDGAR grids road transport
  over road networks weighted by road class, densest in built-up areas, and ODIAC spreads non-point
  emissions by night lights, which saturate over urban cores; k = 1 (twice the per-capita weight in a
  fully urban cell) is a middle value: US studies (DARTE, Vulcan) find per-capita on-road CO2 lower in
  the densest cores than in suburbs, which also lie partly inside the urban polygons.
- ``residential`` 0.5: the sector is residential plus commercial/institutional buildings (IPCC 1A4);
  commercial floor space concentrates in cities, and urban households use networked fossil fuels
  (gas, district heat, LPG) where many rural households burn biomass, which is not fossil CO2.  Rural
  oil- and LPG-heated houses in rich countries pull the other way, hence half the transport value.
- ``industry`` 0.0: heavy industry (cement, steel, refineries) often sits outside the urban polygons,
  and the facilities carry the large sources; the diffuse rest follows population (:data:`INDUSTRY_REST_PROXY`).
"""

INDUSTRY_REST_PROXY = "population (GPW 2020 refined within 1 degree by night lights), no brightness weight"
"""Proxy of the industry that no facility table places. Until 2026-12 it was population x (night-light DN + 1),
up to 251x the weight in the brightest cells; on China's provinces held out of the fit (NBS steel and cement)
that ranked at Spearman 0.81 (median |log ratio| 0.27), population alone at 0.95 (0.17), population x (1 + 3 x
DN/250) at 0.93 (`carbonmap spatial-report`, 0.25 degree): brightness put Delhi's industry at 38 Mt, population
at 8. Chosen on those provinces, the only subnational industry statistics in the repository."""

URBAN_SOURCE = "Natural Earth 1:50m urban areas, exact cell-coverage fractions of their union"


def proxy_descriptions(urban: bool = True) -> dict[str, str]:
    """Per-sector proxy description for the cube metadata; ``urban`` = the urban uplift was applied."""
    def up(sector: str, base: str) -> str:
        k = URBAN_UPLIFT[sector]
        if not urban:
            return base
        if k == 0:
            return f"{base}; no urban uplift (k = 0, see docs/methods.md)"
        return f"{base}, x (1 + {k:g} x urban share of the cell) from {URBAN_SOURCE}"

    return {
        "power": "fossil power plants first, up to their estimated emissions (JRC-PPDB-OPEN reported CO2 where a "
                 "unit is located, else WRI GPPD reported generation x fuel factor, else capacity x capacity factor "
                 "x fuel factor); the residual national total over population; plants scaled down where the "
                 "national total is smaller; population where a country has no fossil plant",
        "industry": up("industry", INDUSTRY_REST_PROXY),
        "ground_transport": up("ground_transport", "population (GPW 2020) refined within 1 degree by night lights"),
        "residential": up("residential", "population (GPW 2020) refined within 1 degree by night lights"),
        "domestic_aviation": "airports (Natural Earth 10m, weighted by type); population where none",
        "international_aviation": "airports worldwide (Natural Earth 10m, major and mid airports)",
        "international_shipping": "ports (Natural Earth 10m) and sea cells decaying with distance to ports",
    }


SECTOR_PROXIES: dict[str, str] = proxy_descriptions(urban=True)

PROXY_REL_SIGMA: dict[str, float] = {
    "power": 0.15,
    "industry": 0.50,
    "ground_transport": 0.40,
    "residential": 0.40,
    "domestic_aviation": 0.50,
    "international_aviation": 0.80,
    "international_shipping": 0.80,
}
"""Relative 1-sigma error of placing emissions in a cell, per sector's proxy (expert judgement,
documented in docs/methods.md); combined with the national sigma in quadrature."""

AIRPORT_TYPE_WEIGHT: dict[str, float] = {"major": 10.0, "mid": 3.0, "small": 1.0, "spaceport": 0.0}

FUEL_EMISSION_FACTOR_T_PER_MWH: dict[str, float] = {
    "Coal": 0.95, "Petcoke": 1.0, "Oil": 0.75, "Gas": 0.42, "Cogeneration": 0.55,
}
"""Fossil fuels' CO2 per MWh of electricity (t CO2 MWh-1, typical fleet averages; IPCC 2006
default fuel factors over typical plant efficiencies).  Other fuels emit no fossil CO2 here."""

FUEL_CAPACITY_FACTOR: dict[str, float] = {
    "Coal": 0.55, "Petcoke": 0.55, "Oil": 0.15, "Gas": 0.40, "Cogeneration": 0.50,
}
"""Capacity factors used when a plant reports no generation."""


def block_sum(field: np.ndarray, factor: int) -> np.ndarray:
    """Sum ``factor`` x ``factor`` blocks of a (lat, lon) array; shape must divide."""
    ny, nx = field.shape
    if ny % factor or nx % factor:
        raise ValueError(f"cannot block-sum a {field.shape} array by {factor}")
    return field.reshape(ny // factor, factor, nx // factor, factor).sum(axis=(1, 3))


def picture_to_grid(picture: np.ndarray, grid: Grid) -> np.ndarray:
    """Resample a global equirectangular picture (rows north->south) to ``grid``, dims (lat, lon).

    Area-mean where grid cells are larger than pixels, nearest pixel where they are smaller.
    """
    h, w = picture.shape
    pic = np.asarray(picture, dtype=np.float64)
    pix = 360.0 / w
    if grid.resolution <= pix * 1.5:
        rows = np.clip(((90.0 - grid.lat) / 180.0 * h).astype(int), 0, h - 1)
        cols = np.clip(((grid.lon + 180.0) / 360.0 * w).astype(int), 0, w - 1)
        return pic[np.ix_(rows, cols)]
    row_edges = np.clip(np.round((90.0 - (grid.lat + grid.resolution / 2)) / 180.0 * h).astype(int), 0, h - 1)
    col_edges = np.clip(np.round((grid.lon - grid.resolution / 2 + 180.0) / 360.0 * w).astype(int), 0, w - 1)
    sums = np.add.reduceat(np.add.reduceat(pic, row_edges, axis=0), col_edges, axis=1)
    counts = np.add.reduceat(np.add.reduceat(np.ones_like(pic), row_edges, axis=0), col_edges, axis=1)
    return sums / counts


def population_on_grid(pop_1deg: np.ndarray, lights: np.ndarray, grid: Grid, floor: float = 2.0) -> np.ndarray:
    """Population on ``grid`` from a global 1 degree count, dims (lat, lon), persons per cell.

    Coarser grids: exact block sums.  Finer grids: each 1 degree count is shared among its
    sub-cells in proportion to (night-light brightness + ``floor``), so totals per degree are kept.
    lights: brightness already on ``grid`` (lat, lon).
    """
    if pop_1deg.shape != (180, 360):
        raise ValueError(f"population must be a global 1 degree grid (180, 360), got {pop_1deg.shape}")
    if not grid.is_global:
        raise ValueError("population_on_grid needs a global grid")
    pop = np.nan_to_num(np.asarray(pop_1deg, dtype=np.float64), nan=0.0).clip(min=0)
    if grid.resolution >= 1.0:
        return block_sum(pop, round(grid.resolution))
    f = round(1.0 / grid.resolution)
    if abs(f * grid.resolution - 1.0) > 1e-9:
        raise ValueError(f"resolution {grid.resolution} must divide 1 degree for population refinement")
    share = np.asarray(lights, dtype=np.float64) + floor
    block = block_sum(share, f)
    share = share / np.repeat(np.repeat(block, f, axis=0), f, axis=1)
    return np.repeat(np.repeat(pop, f, axis=0), f, axis=1) * share


def urban_fraction(grid: Grid, cell: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """Share of each cell's area inside urban polygons, flat (cell,) over ``grid``, dimensionless 0..1.

    cell, fraction: exact coverage pairs of the urban polygons (``ingest.boundaries.Coverage.cell`` /
    ``.fraction``, e.g. from ``ingest.region_catalogue.cached_urban_coverage``), one pair per
    (polygon, cell).  Fractions of disjoint polygons add up within a cell; the sum is clipped to 1 so
    overlapping polygons or float32 rounding can never make a cell more than fully urban.
    """
    n = grid.nlat * grid.nlon
    cell = np.asarray(cell, dtype=np.int64)
    frac = np.asarray(fraction, dtype=np.float64)
    if cell.shape != frac.shape:
        raise ValueError(f"cell and fraction must have the same shape, got {cell.shape} and {frac.shape}")
    if cell.size and (cell.min() < 0 or cell.max() >= n):
        raise ValueError(f"cell index outside the grid's {n} cells")
    if frac.size and not (frac.min() >= 0 and np.isfinite(frac.max())):
        raise ValueError("coverage fractions must be finite and >= 0")
    out = np.bincount(cell, weights=frac, minlength=n)
    return np.clip(out, 0.0, 1.0, out=out)


def urban_weighted(proxy: np.ndarray, urban: np.ndarray, k: float) -> np.ndarray:
    """A population-type proxy raised in built-up cells: proxy x (1 + k x urban), same shape and units.

    proxy: (cell,) non-negative (e.g. persons per cell); urban: (cell,) urban share of each cell, 0..1
    (:func:`urban_fraction`); k >= 0: the sector's uplift (:data:`URBAN_UPLIFT`).  A cell with no
    people stays at 0 and k = 0 returns the proxy unchanged; only ratios within a country matter
    (the downscaling normalises each country's column), so national totals are untouched.
    """
    p = np.asarray(proxy, dtype=np.float64)
    u = np.asarray(urban, dtype=np.float64)
    if p.shape != u.shape:
        raise ValueError(f"proxy and urban fraction must have the same shape, got {p.shape} and {u.shape}")
    if not (np.isfinite(k) and k >= 0):
        raise ValueError(f"urban uplift k must be finite and >= 0, got {k}")
    if u.size and not (u.min() >= 0 and u.max() <= 1):  # NaN fails both comparisons
        raise ValueError("urban fraction must lie in 0..1")
    return p * (1.0 + k * u)


def points_to_cells(grid: Grid, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Flat cell index per point, -1 for points off the grid."""
    row, col = grid.cell_index(lon, lat)
    return np.where(row >= 0, row * grid.nlon + col, -1)


def plant_weights(fuel: np.ndarray, capacity_mw: np.ndarray, generation_gwh: np.ndarray) -> np.ndarray:
    """Expected annual CO2 of plants, t CO2 yr-1 (0 for non-fossil fuels).

    Reported generation x fuel factor where generation is known, else capacity x capacity
    factor x 8.76 GWh per MW-year x fuel factor.
    """
    fuel = np.asarray(fuel, dtype=object)
    ef = np.array([FUEL_EMISSION_FACTOR_T_PER_MWH.get(str(f), 0.0) for f in fuel])
    cf = np.array([FUEL_CAPACITY_FACTOR.get(str(f), 0.0) for f in fuel])
    cap = np.nan_to_num(np.asarray(capacity_mw, dtype=np.float64), nan=0.0).clip(min=0)
    gen = np.asarray(generation_gwh, dtype=np.float64)
    est = cap * cf * 8.76  # GWh yr-1
    gwh = np.where(np.isfinite(gen) & (gen > 0), gen, est)
    return gwh * 1000.0 * ef


def airport_weights(kind: np.ndarray) -> np.ndarray:
    """Relative traffic weight of Natural Earth airport types.

    major 10, mid 3, small 1; mixed civil/military types ("major and military") count as their
    civil class, purely military ones at a tenth, spaceports 0.
    """
    def one(k: object) -> float:
        text = str(k).strip().lower()
        if text in AIRPORT_TYPE_WEIGHT:
            return AIRPORT_TYPE_WEIGHT[text]
        base = 10.0 if "major" in text else 3.0 if "mid" in text else 1.0
        return base * (0.1 if text.startswith("military") else 1.0)

    return np.array([one(k) for k in kind], dtype=np.float64)


def shipping_field(grid: Grid, port_cells: np.ndarray, port_weight: np.ndarray, land_fraction: np.ndarray,
                   port_share: float = 0.3, decay_deg: float = 8.0) -> np.ndarray:
    """International shipping proxy, flat (cell,): ports plus sea cells near ports.

    ``port_share`` of the weight sits in port cells (by port weight); the rest spreads over sea
    cells (land fraction < 0.5, |lat| < 70) decaying as exp(-distance to nearest port / decay).
    Both parts are normalised, so the field sums to 1.
    """
    n = grid.nlat * grid.nlon
    ports = np.zeros(n)
    ok = port_cells >= 0
    np.add.at(ports, port_cells[ok], port_weight[ok])
    if ports.sum() <= 0:
        raise ValueError("no port on the grid")
    is_port = (ports > 0).reshape(grid.shape)
    dist_cells = ndimage.distance_transform_edt(~is_port)
    dist_deg = dist_cells * grid.resolution
    sea = (land_fraction.reshape(grid.shape) < 0.5) & (np.abs(grid.lat)[:, None] < 70)
    sea_w = np.where(sea, np.exp(-dist_deg / decay_deg), 0.0).ravel()
    if sea_w.sum() <= 0:
        return ports / ports.sum()
    return port_share * ports / ports.sum() + (1 - port_share) * sea_w / sea_w.sum()


def points_field(grid: Grid, cells: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Sum point weights into a flat (cell,) field."""
    out = np.zeros(grid.nlat * grid.nlon)
    ok = cells >= 0
    np.add.at(out, cells[ok], np.asarray(weight, dtype=np.float64)[ok])
    return out


PLANT_MATCH_DEG = 0.05
"""A GPPD plant within this distance (degrees, max of |dlon|, |dlat|) of a JRC plant of the same country
is taken to be that plant (its reported CO2 replaces the GPPD estimate)."""

PLANT_EMISSION_COLUMNS = ("iso3", "lon", "lat", "co2_kg_per_yr", "basis")


def near_same_country(points: pd.DataFrame, reference: pd.DataFrame, match_deg: float) -> np.ndarray:
    """(point,) True where a point lies within ``match_deg`` degrees (Chebyshev) of a ``reference`` location of its
    own country (both frames have ``iso3, lon, lat``): the same plant listed twice."""
    near = np.zeros(len(points), dtype=bool)
    if points.empty or reference.empty:
        return near
    iso = points["iso3"].to_numpy()
    xy = points[["lon", "lat"]].to_numpy()
    for c, ref in reference.groupby("iso3"):
        idx = np.flatnonzero(iso == c)
        if idx.size:
            dist, _ = cKDTree(ref[["lon", "lat"]].to_numpy()).query(xy[idx], p=np.inf)
            near[idx[dist <= match_deg]] = True
    return near


def plant_emissions(gppd: pd.DataFrame, jrc: pd.DataFrame | None = None,
                    match_deg: float = PLANT_MATCH_DEG) -> pd.DataFrame:
    """Located fossil plants with their annual CO2, kg CO2 yr-1 (columns PLANT_EMISSION_COLUMNS).

    gppd: ingest.power_plants.read_gppd_sources table (estimates from :func:`plant_weights`,
    basis ``estimated``).  jrc: ingest.power_plants.read_jrc_ppdb units or None; units with
    coordinates and a reported ``co2_kg_per_yr`` > 0 are summed per plant (``eic_p``, mean unit
    position) and used with basis ``reported``; GPPD plants of the same country within
    ``match_deg`` of such a plant are dropped as duplicates of it.
    """
    est = plant_weights(gppd["primary_fuel"].to_numpy(), gppd["capacity_mw"].to_numpy(),
                        gppd["generation_gwh"].to_numpy()) * 1000.0
    g = pd.DataFrame({"iso3": gppd["iso3"].astype(str).to_numpy(), "lon": gppd["lon"].to_numpy(float),
                      "lat": gppd["lat"].to_numpy(float), "co2_kg_per_yr": est, "basis": "estimated"})
    g = g[(g["co2_kg_per_yr"] > 0) & np.isfinite(g["lon"]) & np.isfinite(g["lat"])]
    if jrc is None or jrc.empty:
        return g.reset_index(drop=True)
    j = jrc[jrc["lat"].notna() & jrc["lon"].notna() & (jrc["co2_kg_per_yr"] > 0) & jrc["iso3"].notna()]
    j = (j.groupby("eic_p").agg(iso3=("iso3", "first"), lon=("lon", "mean"), lat=("lat", "mean"),
                                co2_kg_per_yr=("co2_kg_per_yr", "sum")).reset_index(drop=True))
    j = j.assign(basis="reported")
    drop = near_same_country(g, j, match_deg)
    out = pd.concat([g[~drop], j[list(PLANT_EMISSION_COLUMNS)]], ignore_index=True)
    out.attrs["gppd_replaced_by_jrc"] = int(drop.sum())
    return out
