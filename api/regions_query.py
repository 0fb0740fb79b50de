"""Region sums over any polygon: geometry checks, exact coverage weights and weighted sums.

Pure science, no HTTP, no Dask and no caches (those are :mod:`api.query_caches`):

- :func:`parse_geometry` checks a GeoJSON Polygon/MultiPolygon (vertex limit, validity, latitudes)
  and cuts rings that cross the antimeridian into parts inside -180..180 (holes are kept);
- :func:`land_weights` turns them into the share of each cell's land inside the polygon (emissions sit on land);
- :func:`coverage_weights` gives each grid cell the exact fraction of its area inside the
  polygon, computed by exactextract (polygon clipping, not sampling) on the sub-grid covering
  the polygon, so the weights are exactextract's coverage fractions;
- :class:`WeightCache` keeps weights per (geometry hash, grid), an LRU;
- :func:`weighted_sum` and :func:`grouped_sum` reduce a ``(time, sector, lat, lon)`` block with
  ``einsum``; :func:`period_intervals` applies the interval rule of :data:`INTERVAL_RULE`.

The reducer over cached weights (the caches: :mod:`api.query_caches`) is hand-written because it is measured
faster than exactextract per query: benchmark ``bench/regions.py`` (``city_ms`` against ``exactextract_ms``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from api.national_series import KG_PER_T, Z90
from carbonmap.contract import Grid
from carbonmap.errors import InvalidInput
from nowcast.spatial_validation import SHARE_RULE, ShareIntervalRule

INTERVAL_RULE = (
    "90% interval = estimate +- 1.645 sigma (normal; lower bound clipped at 0). The 1-sigma of a cell, sector "
    "and day is the dataset's uncertainty (relative 1-sigma) times its emissions. Each cell belongs to the "
    "country covering most of it (international aviation and shipping to their bunker pseudo-countries "
    "XIA/XIS). Within one country, errors are fully correlated across cells, days and sectors (their sigmas "
    "add); different countries are independent (their sigmas add in quadrature). A polygon inside one "
    "country carries the country's relative interval, and on top of it the error of placing emissions inside "
    "the country: a log-normal 1-sigma of the region's share f of its country's sector, sigma(f) = "
    f"{SHARE_RULE.s0:.3f} x (f / {SHARE_RULE.ref})^-{SHARE_RULE.beta:.2f} x (1 - f), calibrated on held-out provincial statistics (reports/spatial.md: leave-one-"
    "set-out 90 % coverage 87 %), independent across sectors and countries, zero for a whole country and for "
    "the international bunkers. Its 90 % range x exp(-+1.645 sigma(f)) is asymmetric: the upper bound moves "
    "further than the lower."
)


class GeometryError(InvalidInput):
    """A posted geometry is not a valid polygon the server can use."""


class TooManyVertices(GeometryError):
    """A geometry with more vertices than the server allows (answered with 413)."""


def count_vertices(coords: Any) -> int:
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return 1
    if isinstance(coords, (list, tuple)):
        return sum(count_vertices(c) for c in coords)
    return 0


def _unwrap_ring(ring: np.ndarray) -> np.ndarray:
    """Make a ring's longitudes continuous: a jump of more than 180 degrees means it crossed +-180."""
    lon = ring[:, 0].copy()
    step = np.diff(lon)
    shift = -360.0 * np.cumsum(np.round(step / 360.0) * (np.abs(step) > 180))
    lon[1:] += shift
    return np.column_stack([lon, ring[:, 1]])


def _wrap_into_world(geom: BaseGeometry) -> BaseGeometry:
    """Cut a geometry whose longitudes leave -180..180 at the antimeridian and shift the parts back."""
    parts = []
    for k in range(-2, 3):
        window = shapely.box(-180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0)
        piece = shapely.intersection(geom, window)
        if not piece.is_empty and piece.area > 0:
            parts.append(shapely.transform(piece, lambda xy, k=k: xy - np.array([360.0 * k, 0.0])))
    out = shapely.union_all(parts)
    return shapely.make_valid(out) if not out.is_valid else out


def _polygons(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygonal parts of a geometry (an intersection may add slivers of lines)."""
    if isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
        return geom
    polys = [g for g in shapely.get_parts(geom) if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def parse_geometry(obj: dict[str, Any], max_vertices: int) -> BaseGeometry:
    """A GeoJSON Polygon or MultiPolygon (or a Feature holding one) as a valid shapely geometry in -180..180.

    Longitudes may run past 180 (e.g. 170 to 190) or jump across the antimeridian between consecutive
    vertices; either way the polygon is taken as the short way across the antimeridian and cut there.
    Raises :class:`TooManyVertices` past ``max_vertices`` and :class:`GeometryError` for anything else.
    """
    if not isinstance(obj, dict):
        raise GeometryError("geometry must be a GeoJSON object such as {\"type\": \"Polygon\", \"coordinates\": ...}")
    if obj.get("type") == "Feature":
        obj = obj.get("geometry") or {}
    kind = obj.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError(f"geometry type {kind!r} is not supported; send a GeoJSON Polygon or MultiPolygon "
                            "(a point or line has no area to sum emissions over)")
    coords: Any = obj.get("coordinates")  # parsed JSON: checked as it is read below
    n = count_vertices(coords)
    if n > max_vertices:
        raise TooManyVertices(f"the geometry has {n} vertices, more than this server's limit of {max_vertices}; "
                              "simplify it (e.g. shapely's simplify or mapshaper) or split it into smaller queries")
    try:
        polys = [coords] if kind == "Polygon" else list(coords)
        rings_out = []
        for poly in polys:
            rings = [np.asarray(r, dtype=np.float64)[:, :2] for r in poly]
            if any(r.ndim != 2 or len(r) < 4 for r in rings) or not rings:
                raise GeometryError("each polygon ring needs at least 4 positions [lon, lat], the last equal to "
                                    "the first")
            rings_out.append([_unwrap_ring(r) for r in rings])
    except (TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, GeometryError):
            raise
        raise GeometryError(f"geometry coordinates are malformed ({exc}); send [[[lon, lat], ...]] rings") from None
    for poly in rings_out:
        for r in poly:
            if not np.isfinite(r).all():
                raise GeometryError("geometry coordinates must be finite numbers")
            if (np.abs(r[:, 1]) > 90).any():
                raise GeometryError("latitudes must lie between -90 and 90; GeoJSON positions are [lon, lat]")
            if not np.allclose(r[0], r[-1]):
                raise GeometryError("each polygon ring must be closed: repeat the first position at the end")
    # a polygon whose shell was unwrapped past +-180 keeps its holes on the same side
    shapes = []
    for poly in rings_out:
        shell, holes = poly[0], poly[1:]
        centre = shell[:, 0].mean()
        holes = [h + np.array([360.0 * round((centre - h[:, 0].mean()) / 360.0), 0.0]) for h in holes]
        shapes.append(shapely.Polygon(shell, holes))
    geom = shapes[0] if len(shapes) == 1 else shapely.MultiPolygon(shapes)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise GeometryError(f"the geometry is not valid ({reason}); fix it, e.g. with shapely.make_valid or "
                            "QGIS 'Fix geometries', and make sure rings do not cross themselves")
    minx, _, maxx, _ = geom.bounds
    if minx < -180.0 or maxx > 180.0:
        geom = _wrap_into_world(geom)
    geom = _polygons(geom)
    if geom.is_empty or geom.area <= 0:
        raise GeometryError("the geometry has no area; send a polygon with at least three distinct corners")
    return geom


def geometry_key(geom: BaseGeometry) -> str:
    """A hash of the geometry (normalised, so vertex order or ring start do not matter)."""
    return hashlib.sha256(shapely.to_wkb(shapely.normalize(geom), hex=False)).hexdigest()


@dataclass(frozen=True)
class CellWeights:
    """Coverage fractions of a geometry's cells on a grid.

    ``rows``/``cols`` index the grid's (lat, lon); ``fraction`` is the share of each cell's area inside
    the geometry (0..1], float64; ``row_slice``/``col_slice`` bound the cells (the block to read);
    ``flat`` indexes the cells inside that block, ``(row - row0) * width + (col - col0)``.
    """

    rows: np.ndarray
    cols: np.ndarray
    fraction: np.ndarray
    row_slice: slice
    col_slice: slice
    flat: np.ndarray
    coverage: np.ndarray | None = None
    """The share of each cell's *area* inside the geometry when ``fraction`` is its share of the cell's land
    (:func:`land_weights`); None when the two are the same."""

    @property
    def area_fraction(self) -> np.ndarray:
        """Share of each cell's area inside the geometry (for areas in km2), whatever ``fraction`` weighs."""
        return self.fraction if self.coverage is None else self.coverage

    @cached_property
    def dense_block(self) -> np.ndarray:
        """The fractions on the whole bounding block, flattened (lat x lon of the block,), float64, 0 outside."""
        d = np.zeros(self.block_shape[0] * self.block_shape[1])
        d[self.flat] = self.fraction
        return d

    def group_matrix(self, groups: np.ndarray, n_groups: int) -> GroupWeights:
        """The fractions split per cell group, ready for :func:`grouped_sum` (see :class:`GroupWeights`)."""
        return GroupWeights.of(self, groups, n_groups)

    @property
    def n_cells(self) -> int:
        return int(self.fraction.size)

    @property
    def block_shape(self) -> tuple[int, int]:
        return (self.row_slice.stop - self.row_slice.start, self.col_slice.stop - self.col_slice.start)


def coverage_weights(geom: BaseGeometry, grid: Grid) -> CellWeights:
    """Exact coverage fractions of ``geom`` (EPSG:4326 degrees, inside -180..180) on ``grid``.

    exactextract computes them on the sub-grid covering the geometry, so they are exactextract's
    coverage fractions (in degrees, as exactextract treats geographic rasters).
    """
    import geopandas as gpd
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    w, s, e, n = geom.bounds
    w, s, e, n = max(w, grid.west), max(s, grid.south), min(e, grid.east), min(n, grid.north)
    if not (w < e and s < n):
        raise GeometryError(f"the geometry {tuple(round(v, 4) for v in geom.bounds)} lies outside the dataset's grid "
                            f"{grid.bounds}")
    sub = grid.subset(w, s, e, n)
    raster = NumPyRasterSource(np.zeros(sub.shape, dtype=np.uint8), xmin=sub.west, ymin=sub.south, xmax=sub.east,
                               ymax=sub.north)
    res = exact_extract(raster, gpd.GeoDataFrame(geometry=[geom], crs=4326), ["cell_id", "coverage"],
                        output="pandas")
    cid = np.concatenate([np.asarray(c, dtype=np.int64) for c in res["cell_id"]]) if len(res) else np.zeros(0, int)
    cov = np.concatenate([np.asarray(c, dtype=np.float64) for c in res["coverage"]]) if len(res) else np.zeros(0)
    keep = cov > 0
    cid, cov = cid[keep], np.clip(cov[keep], 0.0, 1.0)
    rs, cs = grid.slices_of(sub)
    sub_rows, sub_cols = cid // sub.nlon, cid % sub.nlon
    if cid.size == 0:
        raise GeometryError("the geometry covers no grid cell of the dataset")
    r0, r1 = int(sub_rows.min()), int(sub_rows.max()) + 1
    c0, c1 = int(sub_cols.min()), int(sub_cols.max()) + 1
    width = c1 - c0
    return CellWeights(rows=sub_rows + rs.start, cols=sub_cols + cs.start, fraction=cov,
                       row_slice=slice(rs.start + r0, rs.start + r1), col_slice=slice(cs.start + c0, cs.start + c1),
                       flat=(sub_rows - r0) * width + (sub_cols - c0))


LAND_MIN = 0.02
"""A cell counts as land when at least this share of it lies in some country (below: open sea, area weights)."""


@lru_cache(maxsize=4)
def land_fraction(grid: Grid) -> np.ndarray:
    """(lat, lon) share of each cell inside any country (Natural Earth, exact coverage; the build's own)."""
    from ingest.boundaries import cached_country_coverage

    cov = cached_country_coverage(grid)
    land = np.zeros(grid.nlat * grid.nlon)
    np.add.at(land, cov.cell, cov.fraction)
    return np.minimum(land, 1.0).reshape(grid.shape)


def land_share(coverage: np.ndarray, land: np.ndarray) -> np.ndarray:
    """Each cell's share of its *land* inside a geometry, ``min(1, coverage / land)``; open sea (land below
    :data:`LAND_MIN`) keeps the area coverage. ``coverage`` and ``land`` per cell, same shape, 0..1."""
    c = np.asarray(coverage, dtype=np.float64)
    lf = np.asarray(land, dtype=np.float64)
    return np.where(lf >= LAND_MIN, np.minimum(1.0, c / np.maximum(lf, LAND_MIN)), c)


def land_weights(weights: CellWeights, land: np.ndarray) -> CellWeights:
    """Weights as the share of each cell's *land* inside the geometry: ``min(1, coverage / land)``.

    The build puts a country's emissions on the land of its cells, so a coastal cell that is 30 % land holds all
    its emissions there; area weights would give a region covering that land only 30 % of them (Shanghai at
    0.25 degree: 156 instead of 197 Mt). The part of a cell a geometry covers is taken to be land, which holds
    for every catalogue region (countries, provinces, cities are land polygons); a drawn polygon over the sea next
    to a coast counts that cell's land pro rata. Open-sea cells (land < :data:`LAND_MIN`) keep area weights.
    """
    frac = land_share(weights.fraction, land[weights.rows, weights.cols])
    return CellWeights(weights.rows, weights.cols, frac, weights.row_slice, weights.col_slice, weights.flat,
                       coverage=weights.fraction)


def weighted_sum(block: np.ndarray, weights: CellWeights) -> np.ndarray:
    """sum over cells of block x fraction, dims (time, sector); same units as the block per cell.

    ``block`` is cut to the weights' bounding block, dims (time, sector, lat, lon); the sum is an einsum
    against the dense fractions of that block (zeros outside the geometry).
    """
    t, s, ny, nx = block.shape
    if (ny, nx) != weights.block_shape:
        raise ValueError(f"block has {ny} x {nx} cells, the weights expect {weights.block_shape}")
    return np.einsum("tsc,c->ts", block.reshape(t, s, ny * nx), weights.dense_block, dtype=np.float64)


DENSE_GROUPS = 4
"""Up to this many groups, :class:`GroupWeights` keeps one dense fraction vector per group."""


@dataclass(frozen=True)
class GroupWeights:
    """A geometry's fractions per cell group on its bounding block (cells outside the geometry are 0).

    Few groups (a city is usually inside one country): ``dense`` (group, block cell) float64, one
    ``einsum`` per group, which streams the float32 block once per group without a float64 copy.
    Many groups: ``sparse`` (group, block cell) CSR, built once (not transposed per call).
    """

    n_groups: int
    dense: np.ndarray | None
    sparse: Any | None

    @classmethod
    def of(cls, weights: CellWeights, groups: np.ndarray, n_groups: int) -> GroupWeights:
        from scipy.sparse import csr_array

        groups = np.asarray(groups, dtype=np.int64)
        n_block = weights.block_shape[0] * weights.block_shape[1]
        if n_groups <= DENSE_GROUPS:
            dense = np.zeros((n_groups, n_block))
            dense[groups, weights.flat] = weights.fraction
            return cls(n_groups, dense, None)
        return cls(n_groups, None, csr_array((weights.fraction, (groups, weights.flat)), shape=(n_groups, n_block)))

    def reduce(self, flat: np.ndarray) -> np.ndarray:
        """(rows, block cell) -> (rows, group) float64 sums of value x fraction."""
        if self.dense is not None:
            out = np.empty((flat.shape[0], self.n_groups))
            for g in range(self.n_groups):
                out[:, g] = np.einsum("rc,c->r", flat, self.dense[g], dtype=np.float64)
            return out
        return np.asarray(self.sparse @ flat.T, dtype=np.float64).T


@dataclass(frozen=True)
class ChunkPart:
    """A geometry's cells inside one spatial chunk: the chunk's (row, col) index, the cells' flat index
    in the chunk's (lat, lon) plane, and their weights, dims (output, cell) float64 (dense, or CSR for more
    than :data:`DENSE_GROUPS` outputs)."""

    chunk: tuple[int, int]
    index: np.ndarray
    weights: Any  # np.ndarray, or a scipy.sparse csr_array when there are many outputs

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[0])


def chunk_parts(weights: CellWeights, grid_shape: tuple[int, int], chunk: tuple[int, int],
                columns: np.ndarray) -> tuple[ChunkPart, ...]:
    """Split a geometry's cells by the spatial chunk (rows x cols, ``chunk``) of a store they fall in.

    ``columns`` (cell, output) float64: each cell's weight per output, e.g. ``fraction[:, None]`` for
    the sum, or the fraction spread over one-hot groups.  Summing ``part.weights @ values[part.index]``
    (``values`` a chunk's cells x steps) over the parts gives the same sums as :func:`weighted_sum` /
    :func:`grouped_sum` on the assembled block, without assembling it (fresh multi-MB blocks cost
    page faults, not arithmetic).
    """
    _ny, nx = grid_shape
    cy, cx = chunk
    bi, bj = weights.rows // cy, weights.cols // cx
    width = np.minimum(nx, (bj + 1) * cx) - bj * cx  # edge chunks are narrower
    local = (weights.rows - bi * cy) * width + (weights.cols - bj * cx)
    order = np.lexsort((local, bj, bi))
    key = bi[order] * (nx // cx + 2) + bj[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], key.size]
    cols = np.asarray(columns, dtype=np.float64)
    sparse = cols.shape[1] > DENSE_GROUPS  # many groups (a country's border cells): mostly zeros
    parts = []
    for a, b in zip(starts, ends, strict=True):
        sel = order[a:b]
        w = np.ascontiguousarray(cols[sel].T)
        if sparse:
            from scipy.sparse import csr_array

            w = csr_array(w)
        parts.append(ChunkPart((int(bi[sel[0]]), int(bj[sel[0]])), np.ascontiguousarray(local[sel]), w))
    return tuple(parts)


def group_columns(weights: CellWeights, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """(cell, group) float64: each cell's fraction in its group's column, 0 elsewhere."""
    out = np.zeros((weights.n_cells, n_groups))
    out[np.arange(weights.n_cells), np.asarray(groups, dtype=np.int64)] = weights.fraction
    return out


def grouped_sum(block: np.ndarray, weights: CellWeights, groups: np.ndarray, n_groups: int,
                matrix: GroupWeights | None = None) -> np.ndarray:
    """sum over cells of block x fraction per cell group, dims (time, sector, group).

    ``groups`` (cell,) gives each of the weights' cells a group index in 0..n_groups-1; ``matrix`` is
    ``weights.group_matrix(groups, n_groups)`` if the caller keeps it (it is built otherwise).
    """
    t, s, ny, nx = block.shape
    if (ny, nx) != weights.block_shape:
        raise ValueError(f"block has {ny} x {nx} cells, the weights expect {weights.block_shape}")
    m = matrix if matrix is not None else weights.group_matrix(groups, n_groups)
    return m.reduce(block.reshape(t * s, ny * nx)).reshape(t, s, n_groups)


def allocation_sigmas(estimate_kg: np.ndarray, national_kg: np.ndarray, international: np.ndarray,
                      rule: ShareIntervalRule = SHARE_RULE) -> tuple[np.ndarray, np.ndarray]:
    """Absolute 1-sigmas (lower side, upper side) of where the method places emissions inside a country, kg.

    ``estimate_kg`` (period, sector, group): the region's part of each country group; ``national_kg`` the same
    countries' whole totals; ``international`` (sector,) bool: bunker sectors get none. The region's share
    ``f = estimate / national`` sets a log 1-sigma by ``rule`` (calibrated on held-out provincial statistics,
    reports/spatial.md); its 90 % range ``x exp(-+1.645 sigma)`` becomes two normal-equivalent sigmas.
    """
    e = np.asarray(estimate_kg, dtype=np.float64)
    n = np.asarray(national_kg, dtype=np.float64)
    share = np.divide(e, n, out=np.ones_like(e), where=n > 0)
    log_sig = np.where(np.asarray(international, dtype=bool)[None, :, None], 0.0, rule.log_sigma(share))
    lo = e * (1.0 - np.exp(-Z90 * log_sig)) / Z90
    hi = e * (np.exp(Z90 * log_sig) - 1.0) / Z90
    return lo, hi


def period_intervals(estimate_kg: np.ndarray, sigma_kg: np.ndarray, international: np.ndarray,
                     allocation_kg: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Per period and sector, and for the total, the estimate and 90% bounds in t CO2.

    ``estimate_kg`` (period, sector); ``sigma_kg`` (period, sector, group) sums of absolute 1-sigma
    (linear within a group); ``international`` (sector,) bool marks bunker sectors, each of which is one
    group of its own whatever the cells' countries; ``allocation_kg`` (lower, upper) (period, sector, group)
    from :func:`allocation_sigmas`, independent across groups and sectors.  Rule: :data:`INTERVAL_RULE`.
    """
    est = np.asarray(estimate_kg, dtype=np.float64)
    sig = np.asarray(sigma_kg, dtype=np.float64)
    intl = np.asarray(international, dtype=bool)
    per_sector = np.where(intl[None, :], sig.sum(axis=2), np.sqrt((sig**2).sum(axis=2)))
    national = sig[:, ~intl, :].sum(axis=1)  # (period, group): sectors correlated within a country
    total_var = (national**2).sum(axis=1) + (sig[:, intl, :].sum(axis=2) ** 2).sum(axis=1)
    total_est = est.sum(axis=1)
    out = {}
    for side, alloc in (("lower", None if allocation_kg is None else allocation_kg[0]),
                        ("upper", None if allocation_kg is None else allocation_kg[1])):
        a = np.zeros_like(sig) if alloc is None else np.asarray(alloc, dtype=np.float64)
        sector_sig = np.sqrt(per_sector**2 + (a**2).sum(axis=2))
        total_sig = np.sqrt(total_var + (a**2).sum(axis=(1, 2)))
        for name, e, sg in (("sector", est, sector_sig), ("total", total_est, total_sig)):
            out[f"{name}_estimate"] = e / KG_PER_T
            bound = np.maximum(e - Z90 * sg, 0.0) if side == "lower" else e + Z90 * sg
            out[f"{name}_{side}"] = bound / KG_PER_T
    return out


def dominant_groups(rows: np.ndarray, cols: np.ndarray, country_of_cell: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Group index per cell (0..k-1) and the country codes (indices) of the groups, from a (lat, lon) map."""
    codes = country_of_cell[rows, cols]
    uniq, inv = np.unique(codes, return_inverse=True)
    return inv.astype(np.int64), [int(u) for u in uniq]

