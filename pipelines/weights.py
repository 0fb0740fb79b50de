"""Per-sector downscaling weights on a grid: reads the build inputs and runs the spatial model.

The science lives in :mod:`nowcast.placement` (country -> province/state -> facilities -> proxies, pure);
this module only turns :class:`pipelines.inputs.BuildInputs` (files, caches, the national table's last
inventory year) into its :class:`nowcast.placement.PlacementInputs`.
"""

from __future__ import annotations

import numpy as np

from carbonmap import contract as cc
from nowcast import proxies as px
from nowcast.downscale import Coverage
from nowcast.placement import (
    FIRST_CHOICE,
    LANE_PORT_SHARE,
    NO2_SECTORS,
    GridWeights,
    PlacementInputs,
    SectorWeights,
    land_share,
    place,
    replace_column,
    snap_into_region,
)
from pipelines.inputs import BuildInputs

__all__ = ["FIRST_CHOICE", "LANE_PORT_SHARE", "NO2_SECTORS", "GridWeights", "SectorWeights", "build_weights",
           "land_share", "placement_inputs", "power_annual_totals", "replace_column", "sector_annual_totals",
           "snap_into_region", "urban_share"]


def urban_share(inputs: BuildInputs, grid: cc.Grid) -> np.ndarray | None:
    """(cell,) urban share of each cell on ``grid`` (0..1, nowcast.proxies.urban_fraction), or None when the
    inputs carry no urban areas.  The exact coverage behind it is cached per grid by the ingest adapter."""
    if inputs.urban is None:
        return None
    cov = inputs.urban(grid)
    if cov.grid.shape != grid.shape:
        raise ValueError(f"urban coverage is on a {cov.grid.shape} grid, not the build grid {grid.shape}")
    return px.urban_fraction(grid, cov.cell, cov.fraction)


def sector_annual_totals(inputs: BuildInputs, regions: tuple[str, ...], sector: str = "power") -> np.ndarray:
    """(region,) a sector's total of the last inventory year, kg CO2 yr-1 (what decides the points-first split),
    split by the build's per-year sector split where it has one."""
    from pipelines.national import annual_table

    last = int(inputs.gcb.loc[inputs.gcb["total"].notna(), "year"].max())
    table = annual_table(inputs, [last], regions)  # (year, sector, region)
    return table[0, cc.SECTORS.index(sector)]


def power_annual_totals(inputs: BuildInputs, regions: tuple[str, ...]) -> np.ndarray:
    """(region,) power-sector total of the last inventory year, kg CO2 yr-1 (the plants-first split)."""
    return sector_annual_totals(inputs, regions, "power")


def placement_inputs(inputs: BuildInputs, grid: cc.Grid, regions: tuple[str, ...],
                     power_annual: np.ndarray | None = None) -> PlacementInputs:
    """Read and grid everything :func:`nowcast.placement.place` needs (the I/O half of the weights).

    power_annual: (region,) kg CO2 yr-1 that decides the plants-first split (default: the last inventory
    year, :func:`power_annual_totals`).
    """
    n_cells = grid.nlat * grid.nlon
    cov_src = inputs.coverage(grid)
    index = {r: i for i, r in enumerate(regions)}
    remap = np.array([index.get(i, -1) for i in cov_src.ids], dtype=np.int64)
    reg = remap[cov_src.region]
    land = np.zeros(n_cells)
    np.add.at(land, cov_src.cell, cov_src.fraction)
    keep = reg >= 0
    coverage = Coverage(reg[keep], cov_src.cell[keep].astype(np.int64),
                        land_share(cov_src.cell[keep], cov_src.fraction[keep], land))
    lights = px.picture_to_grid(inputs.lights, grid)
    population = px.population_on_grid(inputs.population, lights, grid).ravel()
    spatial = inputs.spatial
    facilities = spatial is not None and spatial.power_points is not None
    plants = (spatial.power_points if spatial is not None and spatial.power_points is not None
              else px.plant_emissions(inputs.plants, inputs.jrc_plants))
    lanes = None
    if spatial is not None and spatial.lanes is not None:
        from ingest.shipping_lanes import lane_density

        lanes = np.asarray(lane_density(grid.resolution, spatial.lanes), dtype=np.float64).ravel()
    industry_points = spatial.industry_points if spatial is not None else None
    provinces = {s: spatial.provinces(grid, s) for s in ("power", "industry")} if spatial is not None else {}
    return PlacementInputs(
        grid=grid, regions=regions, coverage=coverage, land=land, population=population,
        urban=urban_share(inputs, grid), plants=plants,
        facilities=facilities, industry_points=industry_points, airports=inputs.airports,
        airport_traffic=spatial.airports if spatial is not None else None, ports=inputs.ports, lane_density=lanes,
        fallback_points=inputs.fallback_points, provinces=provinces,
        power_total=power_annual_totals(inputs, regions) if power_annual is None else np.asarray(power_annual, float),
        industry_total=sector_annual_totals(inputs, regions, "industry") if industry_points is not None else None)


def build_weights(inputs: BuildInputs, grid: cc.Grid, regions: tuple[str, ...],
                  power_annual: np.ndarray | None = None, no2_ratio: np.ndarray | None = None,
                  no2_alpha: float = 0.5) -> GridWeights:
    """Column-normalised weights (cell, region) for each of the 7 sectors on ``grid``
    (:func:`nowcast.placement.place` over :func:`placement_inputs`)."""
    return place(placement_inputs(inputs, grid, regions, power_annual), no2_ratio, no2_alpha)
