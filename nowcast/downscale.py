"""Mass-conserving spatial downscaling: national sector totals -> grid cells.

E(cell, sector, day) = sum over countries c of N(c, sector, day) * M_s[cell, c], where each
column of the weight matrix M_s sums to 1, so the grid conserves every national total.

For country c and sector s the column is, in order of preference (the first non-empty wins):

1. point sources (power plants: capacity x fuel emission factor) placed in their cells;
2. the sector's proxy field times the country's exact cell-coverage fraction;
3. population times the coverage fraction;
4. the coverage fraction alone (uniform over the country's area);
5. the country's fallback points (capital or largest places) when it has no polygon at all.

Every country with emissions gets a column; none is lost.  All arrays are flat over cells
(index ``row * nlon + col``, row 0 at the north edge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

FALLBACK_LEVELS: tuple[str, ...] = ("points", "proxy", "population", "area", "fallback_points", "none")
MIN_COLUMN_WEIGHT = 1e-200
"""A candidate column whose weights sum below this counts as empty (avoids overflow on 1/sum)."""


@dataclass(frozen=True)
class Points:
    """Point sources or locations: region index, flat cell index and a weight (>= 0) each."""

    region: np.ndarray
    cell: np.ndarray
    weight: np.ndarray

    def __post_init__(self) -> None:
        if not (len(self.region) == len(self.cell) == len(self.weight)):
            raise ValueError("Points arrays must have equal lengths")
        if np.any(np.asarray(self.weight) < 0) or not np.all(np.isfinite(self.weight)):
            raise ValueError("point weights must be finite and >= 0")

    @classmethod
    def empty(cls) -> Points:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))


@dataclass(frozen=True)
class Coverage:
    """Exact coverage: for each (region, cell) pair, the fraction of the cell inside the region."""

    region: np.ndarray
    cell: np.ndarray
    fraction: np.ndarray


@dataclass(frozen=True)
class Weights:
    """Column-normalised weights of one sector, (cell, region), and the rule each region used."""

    matrix: sp.csc_matrix
    level: np.ndarray
    """(region,) index into FALLBACK_LEVELS."""

    def column_sums(self) -> np.ndarray:
        return np.asarray(self.matrix.sum(axis=0)).ravel()


def _columns(region: np.ndarray, cell: np.ndarray, weight: np.ndarray, n_cells: int,
             n_regions: int) -> sp.csc_matrix:
    keep = weight > 0
    return sp.csc_matrix((weight[keep].astype(np.float64), (cell[keep], region[keep])),
                         shape=(n_cells, n_regions))


def sector_weights(n_cells: int, n_regions: int, coverage: Coverage, proxy: np.ndarray | None,
                   population: np.ndarray, points: Points | None = None,
                   fallback_points: Points | None = None) -> Weights:
    """Build column-normalised weights for one sector.

    proxy, population: (cell,) non-negative proxy fields (any units; only ratios matter).
    Returns Weights whose matrix columns sum to exactly 1 (float64) for every region that has
    any candidate cell, and to 0 for regions with nothing at all (level ``none``).
    """
    candidates: list[sp.csc_matrix] = []
    if points is not None and len(points.cell):
        candidates.append(_columns(points.region, points.cell, points.weight, n_cells, n_regions))
    else:
        candidates.append(sp.csc_matrix((n_cells, n_regions)))
    frac = coverage.fraction
    for field in (proxy, population, None):
        w = frac if field is None else frac * np.asarray(field, dtype=np.float64)[coverage.cell]
        candidates.append(_columns(coverage.region, coverage.cell, w, n_cells, n_regions))
    if fallback_points is not None and len(fallback_points.cell):
        candidates.append(_columns(fallback_points.region, fallback_points.cell, fallback_points.weight,
                                   n_cells, n_regions))
    else:
        candidates.append(sp.csc_matrix((n_cells, n_regions)))

    level = np.full(n_regions, len(FALLBACK_LEVELS) - 1, dtype=np.int8)
    chosen = np.zeros(n_regions, dtype=np.int64) - 1
    sums = [np.asarray(c.sum(axis=0)).ravel() for c in candidates]
    for k, s in enumerate(sums):
        take = (chosen < 0) & (s > MIN_COLUMN_WEIGHT)
        chosen[take] = k
        level[take] = k
    blocks = []
    for k, cand in enumerate(candidates):
        sel = (chosen == k).astype(np.float64)
        ok = sel > 0
        inv = np.zeros(n_regions)
        inv[ok] = 1.0 / sums[k][ok]
        blocks.append(cand @ sp.diags(inv))
    matrix = blocks[0]
    for b in blocks[1:]:
        matrix = matrix + b
    matrix = sp.csc_matrix(matrix)
    matrix.eliminate_zeros()
    # renormalise once more in float64 so columns sum to 1 to the last bit we can get
    col = np.asarray(matrix.sum(axis=0)).ravel()
    inv = np.zeros(n_regions)
    inv[col > 0] = 1.0 / col[col > 0]
    matrix = sp.csc_matrix(matrix @ sp.diags(inv))
    return Weights(matrix, level)


def downscale(weights: sp.spmatrix, national: np.ndarray) -> np.ndarray:
    """Grid values from national totals.

    weights: (cell, region) column-normalised; national: (region, ...) kg CO2 day-1.
    Returns (cell, ...) kg CO2 day-1 cell-1 with sum over cells == national summed over regions.
    """
    return np.asarray(weights @ national)


def downscale_with_uncertainty(weights: sp.spmatrix, national: np.ndarray, national_rel_sigma: np.ndarray,
                               proxy_rel_sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`downscale` and :func:`cell_uncertainty` in one sparse pass (two right-hand sides).

    national, national_rel_sigma: (region,) kg CO2 day-1 and dimensionless.  Returns (cell,)
    kg CO2 day-1 cell-1 and (cell,) relative 1-sigma, equal to the two separate functions'.
    """
    nat = np.asarray(national, dtype=np.float64)
    combined = np.sqrt(np.asarray(national_rel_sigma, dtype=np.float64) ** 2 + proxy_rel_sigma**2)
    both = np.asarray(weights @ np.column_stack([nat, nat * combined]))
    em = np.ascontiguousarray(both[:, 0])
    unc = np.divide(both[:, 1], em, out=np.zeros_like(em), where=em > 0)
    return em, unc


def cell_uncertainty(weights: sp.spmatrix, national: np.ndarray, national_rel_sigma: np.ndarray,
                     proxy_rel_sigma: float) -> np.ndarray:
    """Relative 1-sigma per cell.

    Each region's contribution to a cell carries sqrt(u_nat^2 + u_proxy^2); contributions of
    different regions to one cell are treated as fully correlated (a conservative choice), so
    the cell's relative sigma is their emission-weighted mean.  national: (region, ...) kg day-1;
    national_rel_sigma: (region, ...) dimensionless.  Returns (cell, ...), 0 where emissions are 0.
    """
    combined = np.sqrt(np.asarray(national_rel_sigma, dtype=np.float64) ** 2 + proxy_rel_sigma**2)
    num = np.asarray(weights @ (national * combined))
    den = np.asarray(weights @ national)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


POWER_RULES: tuple[str, ...] = ("plants_then_residual", "plants_scaled_down", "plants_only", "no_plants")
"""How :func:`plants_first_weights` placed a country's power emissions (index = ``Weights.level``-like code):

- ``plants_then_residual``: the national total exceeds its plants' estimated emissions; every plant gets
  its estimate, the residual goes over the residual proxy (population);
- ``plants_scaled_down``: the total is at most the plants' sum; plants are scaled down pro rata;
- ``plants_only``: the total exceeds the plants' sum but the residual proxy is empty for the country, so
  plants are scaled up (nowhere else to go);
- ``no_plants``: no located plant; the residual column (its own fallback order) is used as is.
"""


@dataclass(frozen=True)
class PowerWeights:
    """Column-normalised power weights (cell, region) and the rule each region used (POWER_RULES index)."""

    matrix: sp.csc_matrix
    rule: np.ndarray
    """(region,) int8 index into POWER_RULES."""
    plant_share: np.ndarray
    """(region,) fraction of the national total placed on plants (0..1)."""


def plants_first_weights(plants: Points, national_annual: np.ndarray, residual: sp.spmatrix) -> PowerWeights:
    """Power weights: plants up to their estimated emissions first, the residual over a proxy.

    plants: points whose weight is a plant's estimated emissions, kg CO2 yr-1 (same unit as
    ``national_annual``); national_annual: (region,) the country's power total, kg CO2 yr-1 (the
    inventory year the plant estimates refer to); residual: (cell, region) column-normalised
    weights (e.g. :func:`sector_weights` without points, so its own fallback order applies).

    For region c with plants summing to P and total T:  T > P -> column = plants / T + (1 - P/T) x
    residual column;  T <= P -> column = plants / P (scaled down).  Every returned column with any
    weight sums to 1, so the daily grid conserves the national total whatever the day's value; the
    split is fixed by the annual totals.  Returns (cell, region) CSC float64.
    """
    residual = sp.csc_matrix(residual, dtype=np.float64)
    n_cells, n_regions = residual.shape
    total = np.asarray(national_annual, dtype=np.float64)
    if total.shape != (n_regions,):
        raise ValueError(f"national_annual must have one value per region ({n_regions}), got shape {total.shape}")
    if np.any(~np.isfinite(total)) or np.any(total < 0):
        raise ValueError("national_annual power totals must be finite and >= 0 (kg CO2 yr-1)")
    if len(plants.cell) and (plants.cell.max() >= n_cells or plants.region.max() >= n_regions
                             or plants.cell.min() < 0 or plants.region.min() < 0):
        raise ValueError("plant cell or region index outside the weight matrix")
    pmat = _columns(plants.region, plants.cell, np.asarray(plants.weight, dtype=np.float64), n_cells, n_regions)
    psum = np.asarray(pmat.sum(axis=0)).ravel()
    rsum = np.asarray(residual.sum(axis=0)).ravel()
    has_plants = psum > MIN_COLUMN_WEIGHT
    has_resid = rsum > MIN_COLUMN_WEIGHT
    split = has_plants & has_resid & (total > psum)
    rule = np.full(n_regions, POWER_RULES.index("no_plants"), dtype=np.int8)
    rule[has_plants] = POWER_RULES.index("plants_scaled_down")
    rule[has_plants & ~has_resid & (total > psum)] = POWER_RULES.index("plants_only")
    rule[split] = POWER_RULES.index("plants_then_residual")
    share = np.where(has_plants, 1.0, 0.0)
    np.divide(psum, total, out=share, where=split)
    inv_p = np.zeros(n_regions)
    inv_p[has_plants] = share[has_plants] / psum[has_plants]
    inv_r = np.zeros(n_regions)
    use_r = ~has_plants | split
    use_r &= has_resid
    inv_r[use_r] = np.where(has_plants[use_r], 1.0 - share[use_r], 1.0) / rsum[use_r]
    matrix = sp.csc_matrix(pmat @ sp.diags(inv_p) + residual @ sp.diags(inv_r))
    matrix.eliminate_zeros()
    col = np.asarray(matrix.sum(axis=0)).ravel()
    inv = np.zeros(n_regions)
    inv[col > 0] = 1.0 / col[col > 0]
    return PowerWeights(sp.csc_matrix(matrix @ sp.diags(inv)), rule, share)
