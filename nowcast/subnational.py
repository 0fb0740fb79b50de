"""Subnational statistics as the first level of the downscaling: country -> province/state -> cells (issue #16.4).

Where statistics give each province's (state's) share of a national sector, the country's column of the sector's
weight matrix becomes ``sum_p share_p x column_p``: each province's column is built inside the province only
(points of the province first, scaled up to :data:`nowcast.facilities.MAX_POINT_SCALE` to fill the province's
total, the rest over the proxy on the province's cells). Every column still sums to 1, so national totals are
conserved exactly; a province's total is its statistical share of the national total.

Pure functions over arrays: the province coverage (exact cell fractions of the admin-1 polygons) and the shares
come from the caller. Units: weights are dimensionless; totals kg CO2 yr-1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from carbonmap.errors import InvalidInput
from nowcast.downscale import Coverage, Points, sector_weights
from nowcast.facilities import MAX_POINT_SCALE, calibrated_plants_first


class SubnationalError(InvalidInput):
    """Province shares or coverage do not fit the country they are meant to split."""


@dataclass(frozen=True)
class ProvinceLevel:
    """One country's provinces: ids, exact coverage of their polygons (region = province index), their shares."""

    country: str
    ids: tuple[str, ...]
    coverage: Coverage
    shares: np.ndarray
    """(province,) share of the national sector total, sums to 1."""
    source: str
    generation: bool = False
    """True when the statistic is generation (converted to CO2 with the province's plant mix), not CO2."""


def shares_from_stats(values: pd.Series, ids: tuple[str, ...]) -> np.ndarray:
    """Shares (province,) of a statistic over ``ids`` (missing or negative -> 0); SubnationalError if none is > 0."""
    v = values.reindex(list(ids)).fillna(0.0).clip(lower=0.0).to_numpy(np.float64)
    if v.sum() <= 0:
        raise SubnationalError("no province has a positive value of the statistic")
    return v / v.sum()


GENERATION_EF_T_PER_MWH = {"coal": 1.0, "other": 0.42}
"""t CO2 per MWh of a province's coal units and of its other fossil plants (gas, oil), to turn a thermal
*generation* statistic into CO2 shares with the province's own fuel mix (assumed fleet averages)."""


def generation_to_co2(generation: np.ndarray, coal_co2: np.ndarray, other_co2: np.ndarray) -> np.ndarray:
    """Province CO2 (same units as ``generation`` x t MWh-1) from thermal generation and the mix of its plants.

    ``coal_co2``, ``other_co2``: (province,) estimated CO2 of the province's coal units and other fossil plants
    (any unit: only the mix matters). The intensity is CO2 / MWh of that mix; a province without plants takes the
    national mix."""
    c = np.asarray(coal_co2, dtype=np.float64)
    o = np.asarray(other_co2, dtype=np.float64)
    ef_c, ef_o = GENERATION_EF_T_PER_MWH["coal"], GENERATION_EF_T_PER_MWH["other"]

    def intensity(cc_: np.ndarray, oo: np.ndarray) -> np.ndarray:
        mwh = cc_ / ef_c + oo / ef_o
        return np.where(mwh > 0, (cc_ + oo) / np.where(mwh > 0, mwh, 1.0), np.nan)

    nat = intensity(np.array([c.sum()]), np.array([o.sum()]))[0]
    inten = intensity(c, o)
    inten = np.where(np.isfinite(inten), inten, nat if np.isfinite(nat) else ef_c)
    return np.asarray(generation, dtype=np.float64) * inten


def province_of_cells(cov: Coverage, n_cells: int) -> np.ndarray:
    """(cell,) index of the province covering most of each cell, -1 outside every province."""
    owner = np.full(n_cells, -1, dtype=np.int64)
    best = np.zeros(n_cells)
    order = np.argsort(cov.fraction)
    owner[cov.cell[order]] = cov.region[order]
    best[cov.cell[order]] = cov.fraction[order]
    return owner


def assign_points(points_cell: np.ndarray, cov: Coverage, n_cells: int, shape: tuple[int, int]) -> np.ndarray:
    """Province index of each point: the province covering most of its cell, else the nearest province cell."""
    from scipy.spatial import cKDTree

    owner = province_of_cells(cov, n_cells)
    prov = owner[points_cell]
    miss = prov < 0
    if miss.any() and len(cov.cell):
        nlon = shape[1]
        cells = np.unique(cov.cell)
        tree = cKDTree(np.column_stack([cells // nlon, cells % nlon]))
        _, k = tree.query(np.column_stack([points_cell[miss] // nlon, points_cell[miss] % nlon]))
        prov[miss] = owner[cells[k]]
    return prov


def country_column(level: ProvinceLevel, points: Points, proxy: np.ndarray, national_total: float,
                   n_cells: int, shape: tuple[int, int], max_scale: float = MAX_POINT_SCALE,
                   coal: np.ndarray | None = None) -> np.ndarray:
    """The country's weight column (cell,), sum 1: provinces by their shares, inside each points then proxy.

    ``points``: the country's points (their ``region`` is ignored; they are assigned to provinces by cell);
    ``proxy``: (cell,) residual proxy (e.g. population); ``national_total`` kg CO2 yr-1 of the sector; ``coal``:
    (point,) True for coal units, used to turn a generation statistic into CO2 (:func:`generation_to_co2`)."""
    n_p = len(level.ids)
    if len(level.shares) != n_p or not np.isclose(level.shares.sum(), 1.0):
        raise SubnationalError(f"{level.country}: shares must be one per province and sum to 1")
    prov = assign_points(points.cell, level.coverage, n_cells, shape) if len(points.cell) else \
        np.zeros(0, np.int64)
    keep = prov >= 0
    p_pts = Points(prov[keep], points.cell[keep], points.weight[keep])
    resid = sector_weights(n_cells, n_p, level.coverage, proxy, np.ones(n_cells), None).matrix
    shares = level.shares
    if level.generation:
        is_coal = (np.zeros(len(points.cell), bool) if coal is None else np.asarray(coal, bool))[keep]
        c = np.bincount(p_pts.region, weights=np.where(is_coal, p_pts.weight, 0.0), minlength=n_p)
        o = np.bincount(p_pts.region, weights=np.where(is_coal, 0.0, p_pts.weight), minlength=n_p)
        co2 = generation_to_co2(shares, c, o)
        shares = co2 / co2.sum()
    totals = shares * national_total
    w = calibrated_plants_first(p_pts, totals, resid, max_scale=max_scale)
    col = np.asarray((w.matrix @ sp.csc_matrix(shares.reshape(-1, 1))).todense()).ravel()
    s = col.sum()
    if s <= 0:
        raise SubnationalError(f"{level.country}: the provinces have no cell to place emissions in")
    return col / s
