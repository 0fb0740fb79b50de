"""The spatial model: where each sector's national total goes on the grid (issue #16.7), as pure functions.

The hierarchy, one module per level: country (exact cell coverage, :mod:`nowcast.downscale`) -> province/state
where statistics exist (:mod:`nowcast.subnational`) -> facilities (:mod:`nowcast.facilities`, plants first) ->
proxies (population refined by night lights, urban form, airports, lanes: :mod:`nowcast.proxies`).
:func:`place` takes every input
as arrays (:class:`PlacementInputs`) and returns column-normalised (cell, region) weights per sector; the pipeline
(:mod:`pipelines.weights`) only reads files and builds the inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from carbonmap import contract as cc
from nowcast import proxies as px
from nowcast.downscale import FALLBACK_LEVELS, POWER_RULES, Coverage, Points, plants_first_weights, sector_weights
from nowcast.facilities import MAX_POINT_SCALE, calibrated_plants_first
from nowcast.reweight import NO2_METHOD, no2_reweight
from nowcast.subnational import ProvinceLevel, country_column

NO2_SECTORS: tuple[str, ...] = ("power", "industry", "ground_transport", "residential")
"""Sectors the optional NO2 reweighting applies to (land combustion sources)."""


LANE_PORT_SHARE = 0.2
"""Share of the international shipping proxy in port cells; the rest follows the shipping-lane network."""

FIRST_CHOICE: dict[str, str] = {"power": "points", "domestic_aviation": "points",
                                "international_aviation": "points", "international_shipping": "points",
                                "industry": "proxy", "ground_transport": "proxy", "residential": "proxy"}
"""The rule each sector prefers (see nowcast.downscale); anything else is a recorded fallback."""


@dataclass(frozen=True)
class SectorWeights:
    """One (cell, region) column-normalised sparse matrix per sector, in cube sector order."""

    matrices: tuple[sp.csc_matrix, ...]


@dataclass(frozen=True)
class GridWeights:
    matrices: dict[str, sp.csc_matrix]
    levels: dict[str, np.ndarray]
    regions: tuple[str, ...]
    proxy_sigma: dict[str, float]
    methods: dict[str, str]
    proxies: tuple[str, ...]
    power_rules: dict[str, str] | None = None
    """Region -> the power placement rule it used (nowcast.downscale.POWER_RULES)."""

    def for_tasks(self) -> SectorWeights:
        """The part Dask tasks need (CSR for fast mat-vec)."""
        return SectorWeights(tuple(sp.csr_matrix(self.matrices[s]) for s in cc.SECTORS))

    def fallback_summary(self, national: np.ndarray) -> dict[str, dict[str, list[str]]]:
        """Per sector, the emitting regions placed by a rule other than the sector's first choice.

        national: (time, sector, region) kg CO2 day-1.
        """
        emitting = national.sum(axis=0) > 0
        out: dict[str, dict[str, list[str]]] = {}
        for s, sector in enumerate(cc.SECTORS):
            first = FIRST_CHOICE[sector]
            groups: dict[str, list[str]] = {}
            for j, (region, k) in enumerate(zip(self.regions, self.levels[sector], strict=True)):
                name = FALLBACK_LEVELS[int(k)]
                if emitting[s, j] and name != first:
                    groups.setdefault(name, []).append(region)
            if groups:
                out[sector] = groups
        return out

    def unplaced(self, national: np.ndarray) -> list[tuple[str, str]]:
        """(sector, region) pairs that emit but have no cell to go to: must be empty."""
        emitting = national.sum(axis=0) > 0
        bad = []
        for s, sector in enumerate(cc.SECTORS):
            col = np.asarray(self.matrices[sector].sum(axis=0)).ravel()
            for j in np.flatnonzero(emitting[s] & (np.abs(col - 1.0) > 1e-9)):
                bad.append((sector, self.regions[j]))
        return bad


@dataclass(frozen=True)
class PlacementInputs:
    """Everything the spatial model reads, on one grid, as explicit arrays and tables (no files, no I/O).

    Cells index the flattened (lat, lon) grid; regions are the national table's codes.
    """

    grid: cc.Grid
    regions: tuple[str, ...]
    coverage: Coverage
    """Each region's cells with the region's share of the cell's land (:func:`land_share`)."""
    land: np.ndarray
    """(cell,) sum of all countries' coverage fractions."""
    population: np.ndarray
    """(cell,) people per cell (GPW refined within each degree by night lights,
    :func:`nowcast.proxies.population_on_grid`)."""
    urban: np.ndarray | None
    """(cell,) urban share 0..1, or None."""
    plants: pd.DataFrame
    """Power plants: iso3, lon, lat, co2_kg_per_yr (kg CO2 yr-1) and optionally kind ('coal...' flags coal)."""
    facilities: bool
    """True when ``plants`` is the complete facility table (calibrated plants-first), False for the old tables."""
    industry_points: pd.DataFrame | None
    """Industrial facilities: iso3, lon, lat, co2_kg_per_yr, or None."""
    airports: pd.DataFrame
    """Natural Earth airports: lon, lat, type."""
    airport_traffic: pd.DataFrame | None
    """Airports with lon, lat, departures_domestic, departures_international, or None."""
    ports: pd.DataFrame
    """Ports: lon, lat, scalerank."""
    lane_density: np.ndarray | None
    """(cell,) shipping-lane density, or None."""
    fallback_points: pd.DataFrame
    """One point per small region without coverage: iso3, lon, lat, weight."""
    provinces: Mapping[str, Sequence[ProvinceLevel]]
    """Per sector, the countries that have a province/state level on this grid."""
    power_total: np.ndarray
    """(region,) power-sector total of the year that decides the plants-first split, kg CO2 yr-1."""
    industry_total: np.ndarray | None
    """(region,) industry total of the same year, kg CO2 yr-1 (needed with ``industry_points``)."""


def _located(grid: cc.Grid, regions: tuple[str, ...], iso3: pd.Series, lon: pd.Series, lat: pd.Series,
             weight: np.ndarray, coverage: Coverage | None) -> tuple[Points, np.ndarray]:
    index = {r: i for i, r in enumerate(regions)}
    reg = np.array([index.get(str(c), -1) for c in iso3], dtype=np.int64)
    cells = px.points_to_cells(grid, lon.to_numpy(), lat.to_numpy())
    ok = (reg >= 0) & (cells >= 0) & (weight > 0)
    reg, cells = reg[ok], cells[ok]
    if coverage is not None:
        cells = snap_into_region(grid, reg, cells, coverage)
    return Points(reg, cells, np.asarray(weight, dtype=np.float64)[ok]), ok


def _region_points(grid: cc.Grid, regions: tuple[str, ...], iso3: pd.Series, lon: pd.Series, lat: pd.Series,
                   weight: np.ndarray, coverage: Coverage | None = None) -> Points:
    """The located points of the regions (points off the grid, of unknown regions or weight 0 dropped)."""
    return _located(grid, regions, iso3, lon, lat, weight, coverage)[0]


def _flagged_points(grid: cc.Grid, regions: tuple[str, ...], iso3: pd.Series, lon: pd.Series, lat: pd.Series,
                    weight: np.ndarray, coverage: Coverage | None, flag: np.ndarray | None
                    ) -> tuple[Points, np.ndarray]:
    """:func:`_region_points` and a per-row ``flag`` of each kept point (all False without one)."""
    pts, ok = _located(grid, regions, iso3, lon, lat, weight, coverage)
    return pts, (np.asarray(flag, dtype=bool)[ok] if flag is not None else np.zeros(len(pts.cell), bool))


def snap_into_region(grid: cc.Grid, region: np.ndarray, cells: np.ndarray, coverage: Coverage) -> np.ndarray:
    """Move points that fall in a cell their own country does not cover to the nearest cell it does.

    Plants and airports on a coast or border can land, at a coarse grid or with 1:50m coastlines,
    in a cell that belongs only to the sea or to a neighbour; their emissions still belong to their
    country, so they go to the country's nearest covered cell (distance in grid cells).  Points of
    countries with no covered cell stay where they are.
    """
    from scipy.spatial import cKDTree

    cells = cells.copy()
    inside = set(zip(coverage.region.tolist(), coverage.cell.tolist(), strict=True))
    bad = np.array([(int(r), int(c)) not in inside for r, c in zip(region, cells, strict=True)], dtype=bool)
    for r in np.unique(region[bad]):
        own = coverage.cell[coverage.region == r]
        if own.size == 0:
            continue
        tree = cKDTree(np.column_stack([own // grid.nlon, own % grid.nlon]))
        pick = np.flatnonzero(bad & (region == r))
        _, nearest = tree.query(np.column_stack([cells[pick] // grid.nlon, cells[pick] % grid.nlon]))
        cells[pick] = own[nearest]
    return cells


def _global_points(region_index: int, field: np.ndarray) -> Points:
    cells = np.flatnonzero(field > 0)
    return Points(np.full(cells.size, region_index, dtype=np.int64), cells, field[cells])


def land_share(cell: np.ndarray, fraction: np.ndarray, land: np.ndarray) -> np.ndarray:
    """Each country's share of a cell's land: fraction / (sum of all countries' fractions in the cell).

    Proxies such as population are counts per cell, so a coastal cell's count belongs wholly to its
    one country (share 1, however much sea it holds) and a border cell's count is split by land area.
    land: (cell,) sum of coverage fractions over countries.
    """
    return np.minimum(fraction / np.where(land[cell] > 0, land[cell], 1.0), 1.0)


def replace_column(matrix: sp.csc_matrix, j: int, column: np.ndarray) -> sp.csc_matrix:
    """``matrix`` with its column ``j`` replaced by the dense (cell,) ``column``."""
    keep = np.ones(matrix.shape[1])
    keep[j] = 0.0
    nz = np.flatnonzero(column)
    new = sp.csc_matrix((column[nz], (nz, np.full(nz.size, j))), shape=matrix.shape)
    out = sp.csc_matrix(matrix @ sp.diags(keep) + new)
    out.eliminate_zeros()
    return out


def _airport_points(grid: cc.Grid, lon: np.ndarray, lat: np.ndarray, weight: np.ndarray, owner: np.ndarray
                    ) -> tuple[Points, np.ndarray]:
    """Airports as (country points by the cell's main owner, global field), weights as given."""
    cells = px.points_to_cells(grid, lon, lat)
    field = px.points_field(grid, cells, weight)
    ok = (cells >= 0) & (weight > 0)
    own = np.where(ok, owner[np.where(cells >= 0, cells, 0)], -1)
    keep = own >= 0
    return Points(own[keep], cells[keep], weight[keep]), field


def place(inp: PlacementInputs, no2_ratio: np.ndarray | None = None, no2_alpha: float = 0.5) -> GridWeights:
    """Column-normalised weights (cell, region) for each of the 7 sectors on ``inp.grid``: the hierarchy
    country -> province/state (:mod:`nowcast.subnational`) -> facilities (:mod:`nowcast.facilities`,
    :mod:`nowcast.downscale`) -> proxies (:mod:`nowcast.proxies`).

    no2_ratio: optional (cell,) NO2 column ratio on the grid; when given, the land sectors (NO2_SECTORS) are
    reweighted by r^no2_alpha keeping every national total (off by default: no NO2 grid covers the world).
    """
    grid, regions = inp.grid, inp.regions
    n_cells, n_regions = grid.nlat * grid.nlon, len(regions)
    index = {r: i for i, r in enumerate(regions)}
    coverage, land = inp.coverage, inp.land
    population, urban = inp.population, inp.urban
    industry_rest = population  # the diffuse industry beyond facilities: INDUSTRY_REST_PROXY (nowcast.proxies)
    facilities, plants = inp.facilities, inp.plants
    plant_pts, plant_coal = _flagged_points(grid, regions, plants["iso3"], plants["lon"], plants["lat"],
                                            plants["co2_kg_per_yr"].to_numpy(float), coverage,
                                            plants["kind"].astype(str).str.startswith("coal").to_numpy()
                                            if "kind" in plants.columns else None)

    # aviation: airports inside each country, by the country covering most of the cell
    owner = np.full(n_cells, -1, dtype=np.int64)
    order = np.argsort(coverage.fraction)
    owner[coverage.cell[order]] = coverage.region[order]
    airports = inp.airports
    ne_pts, air_field = _airport_points(grid, airports["lon"].to_numpy(float), airports["lat"].to_numpy(float),
                                        px.airport_weights(airports["type"].to_numpy()), owner)
    dom_pts = ne_pts
    traffic = inp.airport_traffic
    if traffic is not None:
        lon, lat = traffic["lon"].to_numpy(float), traffic["lat"].to_numpy(float)
        t_dom, _ = _airport_points(grid, lon, lat, traffic["departures_domestic"].to_numpy(float), owner)
        _, air_field = _airport_points(grid, lon, lat, traffic["departures_international"].to_numpy(float), owner)
        counted = np.isin(ne_pts.region, np.unique(t_dom.region))  # NE airports only where no traffic is counted
        dom_pts = Points(np.concatenate([t_dom.region, ne_pts.region[~counted]]),
                         np.concatenate([t_dom.cell, ne_pts.cell[~counted]]),
                         np.concatenate([t_dom.weight, ne_pts.weight[~counted] * 1e-6]))

    ports = inp.ports
    port_cells = px.points_to_cells(grid, ports["lon"].to_numpy(), ports["lat"].to_numpy())
    port_w = np.clip(11.0 - ports["scalerank"].to_numpy(dtype=float), 1.0, None)
    ship_field = px.shipping_field(grid, port_cells, port_w, land)
    dens = inp.lane_density
    if dens is not None and dens.sum() > 0:
        port_part = px.points_field(grid, port_cells, port_w)
        ship_field = (LANE_PORT_SHARE * port_part / port_part.sum()
                      + (1 - LANE_PORT_SHARE) * dens / dens.sum())

    fb = inp.fallback_points
    fb_pts = _region_points(grid, regions, fb["iso3"], fb["lon"], fb["lat"], fb["weight"].to_numpy(float))

    empty = Points.empty()
    matrices: dict[str, sp.csc_matrix] = {}
    levels: dict[str, np.ndarray] = {}
    resid = sector_weights(n_cells, n_regions, coverage, population, population, empty, fb_pts)
    total = np.asarray(inp.power_total, dtype=np.float64)
    pw = (calibrated_plants_first(plant_pts, total, resid.matrix) if facilities
          else plants_first_weights(plant_pts, total, resid.matrix))
    levels_used: list[str] = []

    def province_first(matrix: sp.csc_matrix, sector: str, pts: Points, proxy: np.ndarray, totals: np.ndarray,
                       max_scale: float, flags: np.ndarray | None = None) -> sp.csc_matrix:
        """``matrix`` with the columns of the countries that have province statistics rebuilt province-first."""
        for level in inp.provinces.get(sector, ()):
            if level.country not in index:
                continue
            j = index[level.country]
            mine = pts.region == j
            col = country_column(level, Points(pts.region[mine], pts.cell[mine], pts.weight[mine]), proxy,
                                 float(totals[j]), n_cells, grid.shape, max_scale=max_scale,
                                 coal=None if flags is None else flags[mine])
            matrix = replace_column(matrix, j, col)
            levels_used.append(f"{sector} {level.country} ({len(level.ids)} units, {level.source})")
        return matrix

    matrices["power"] = province_first(pw.matrix, "power", plant_pts, population, total, MAX_POINT_SCALE,
                                       plant_coal)
    has_pts = pw.rule != POWER_RULES.index("no_plants")
    levels["power"] = np.where(has_pts, FALLBACK_LEVELS.index("points"), resid.level).astype(np.int8)
    power_rules = {r: POWER_RULES[int(k)] for r, k in zip(regions, pw.rule, strict=True)}

    def uplift(sector: str, proxy: np.ndarray) -> np.ndarray:
        return proxy if urban is None else px.urban_weighted(proxy, urban, px.URBAN_UPLIFT[sector])

    ind_points = inp.industry_points
    if ind_points is not None:
        ind_pts = _region_points(grid, regions, ind_points["iso3"], ind_points["lon"], ind_points["lat"],
                                 ind_points["co2_kg_per_yr"].to_numpy(float), coverage)
        ind_resid = sector_weights(n_cells, n_regions, coverage, uplift("industry", industry_rest), population,
                                   empty, fb_pts)
        ind_total = np.asarray(inp.industry_total, dtype=np.float64)
        iw = calibrated_plants_first(ind_pts, ind_total, ind_resid.matrix, max_scale=1.0)
        matrices["industry"] = province_first(iw.matrix, "industry", ind_pts, uplift("industry", industry_rest),
                                              ind_total, 1.0)
        levels["industry"] = np.where(iw.rule != POWER_RULES.index("no_plants"), FALLBACK_LEVELS.index("points"),
                                      ind_resid.level).astype(np.int8)
    spec: dict[str, tuple[np.ndarray | None, Points]] = {} if ind_points is not None else {
        "industry": (uplift("industry", industry_rest), empty)}
    spec |= {
        "ground_transport": (uplift("ground_transport", population), empty),
        "residential": (uplift("residential", population), empty),
        "domestic_aviation": (None, dom_pts),
    }
    for sector, (proxy, pts) in spec.items():
        w = sector_weights(n_cells, n_regions, coverage, proxy, population, pts, fb_pts)
        matrices[sector], levels[sector] = w.matrix, w.level
    no_cov = Coverage(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    for sector, field in (("international_aviation", air_field), ("international_shipping", ship_field)):
        code = cc.INTERNATIONAL_SECTORS[sector]
        pts = _global_points(index[code], field) if code in index else empty
        w = sector_weights(n_cells, n_regions, no_cov, None, np.zeros(n_cells), pts)
        matrices[sector], levels[sector] = w.matrix, w.level
    if no2_ratio is not None:
        for sector in NO2_SECTORS:
            matrices[sector] = no2_reweight(matrices[sector], no2_ratio, no2_alpha)

    counts = {k: sum(v == k for v in power_rules.values()) for k in POWER_RULES}
    methods = {"spatial": "mass-conserving downscaling: national totals x column-normalised proxy weights "
                          "on exact country cell-coverage fractions (nowcast/downscale.py)"}
    methods.update({f"proxy_{s}": d for s, d in px.proxy_descriptions(urban=urban is not None).items()})
    methods["urban_uplift"] = (
        "population proxies x (1 + k x urban share of the cell), k: "
        + ", ".join(f"{s} {k:g}" for s, k in px.URBAN_UPLIFT.items())
        + f" ({px.URBAN_SOURCE}; nowcast.proxies.urban_weighted; renormalised per country)"
        if urban is not None else "off (no urban areas in the inputs)")
    methods["power_placement"] = ("plants first up to their estimated emissions, residual over population "
                                  "(nowcast.downscale.plants_first_weights); regions per rule: "
                                  + ", ".join(f"{k} {v}" for k, v in counts.items())
                                  + f"; {plants.attrs.get('gppd_replaced_by_jrc', 0)} GPPD plants replaced by "
                                    "JRC-PPDB reported CO2")
    methods["province_level"] = ("provinces/states first, by their statistical share of the national sector, then "
                                 "facilities inside each, then the proxy (nowcast.subnational): "
                                       + ("; ".join(levels_used) if levels_used else "none on this grid"))
    methods["no2_reweighting"] = (f"{NO2_METHOD}, alpha {no2_alpha}, sectors {', '.join(NO2_SECTORS)}"
                                  if no2_ratio is not None else "off (no global NO2 ratio grid in the inputs)")
    proxies: tuple[str, ...] = (
        ("Population is GPW v4 2020 at 1 degree, refined within each degree by the NASA City Lights "
         "picture (an 8-bit image, not radiance): a simplified proxy."),
        ("Power-plant emissions are estimated from capacity and typical capacity factors and fuel "
         "emission factors where a plant reports no generation."),
        "Shipping lanes are approximated by sea cells decaying with distance to ports.")
    if urban is not None:
        proxies += (("Urban areas are the Natural Earth 1:50m built-up polygons (a single snapshot); the urban "
                     "uplift k of ground transport and residential is expert judgement, not fitted."),)
    return GridWeights(matrices, levels, regions, dict(px.PROXY_REL_SIGMA), methods, proxies, power_rules)
