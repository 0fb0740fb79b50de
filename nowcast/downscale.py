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
