"""The region read engine: emissions inside any geometry per period and sector, with a 90% interval.

:func:`query_geometry` is the region service shared by the query, region-catalogue and analysis routes; it
returns a :class:`api.query_models.QueryResult` (t CO2 per period).  Weights come from
:mod:`api.regions_query` (exact coverage, cached by geometry hash in the app's caches), data from
the cube's time-series layout (:mod:`pipelines.timeseries`): every month, year or arbitrary window of days as a
difference of its float64 cumulative sums (two small reads per cell-chunk whatever the period), daily series
from its sharded 32-day blocks.  Without a layout it falls back to the map-chunked cube (slower, same
numbers).  No Dask in the request path.

Pieces: :class:`_Source` (where a cube's numbers are read, and the per-chunk region-sum reducer),
:func:`plan` (a period split into :class:`Piece` reads), :func:`reduce_windows` (windows from cumulative
sums), :func:`country_map` / :func:`_reducers` (country groups for the allocation term),
:class:`~api.query_caches.RegionCaches` (every cache of the engine, one per app).
"""


import datetime as dt
import threading
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from cachetools import LRUCache
from shapely.geometry.base import BaseGeometry

from api import national_series
from api import regions_query as rq
from api.query_caches import CACHE_NAME, SOURCE_ITEMS, RegionCaches, region_caches
from api.query_models import QueryRegion, QueryResult
from carbonmap import contract as cc
from carbonmap.caches import AppCaches
from carbonmap.errors import TooLarge
from carbonmap.registry import Cube
from carbonmap.settings import Settings
from carbonmap.storage import cube as pstore
from carbonmap.storage import shards
from carbonmap.storage import timeseries as pts
from tiles.chunks import ChunkCache

if TYPE_CHECKING:
    import zarr

READ_BUDGET_BYTES = 64 * 2**20
"""Largest block (emissions + sigma, all sectors) one read of consecutive days may assemble."""


# ----------------------------------------------------------------------------------------------- sources
class _Source:
    """Where a cube's numbers are read: the time-series layout, or the cube itself as a fallback."""

    def __init__(self, cube: Cube, chunks: ChunkCache) -> None:
        self.cube = cube
        self.chunks = chunks
        """The app's decoded time-series chunks (:attr:`RegionCaches.chunks`)."""
        self.ts: pts.TimeseriesStore | None = None
        path = pts.timeseries_location(cube.path)
        try:
            ts = pts.TimeseriesStore(path)
            same = (ts.attrs.get("source_build_time") == cube.attrs.get("provenance_build_time")
                    and ts.times.equals(pd.DatetimeIndex(cube.times)) and ts.grid == cube.grid)
            self.ts = ts if same else None
        except pts.TimeseriesError:
            self.ts = None
        self._cube_group: zarr.Group | None = None
        self._arrays: dict[str, Any] = {}
        self._sharded: dict[str, shards.ShardedArray] = {}
        self._plans: LRUCache[tuple, tuple] = LRUCache(maxsize=64)
        self._plans_lock = threading.Lock()

    def plan(self, cube: Cube, start: dt.date, end: dt.date, freq: national_series.Freq, max_daily_run: int
             ) -> "tuple[list[Piece], tuple[str, ...], list[tuple[dt.date, dt.date, int]]]":
        """:func:`plan`, remembered for the last 64 (start, end, freq, run): it depends only on this source's
        time axes, and a year of days costs ~0.5 ms to plan (a dashboard repeats the same periods)."""
        key = (start, end, freq, max_daily_run)
        with self._plans_lock:
            hit = self._plans.get(key)  # a hit is the most recently used
            if hit is not None:
                return hit
        value = plan(self, cube, start, end, freq, max_daily_run=max_daily_run)
        with self._plans_lock:
            self._plans[key] = value
        return value

    def _array(self, variable: str) -> Any:
        assert self.ts is not None
        if variable not in self._arrays:  # opening an array reads its metadata: once per source
            self._arrays[variable] = self.ts.group[variable]
        return self._arrays[variable]

    def _read(self, variable: str, box: tuple[slice, ...]) -> np.ndarray:
        """A box of a layout variable: :func:`carbonmap.storage.shards.read_region` on a local layout (no zarr
        per-chunk overhead: a cold 17 degree box 2-3x faster), zarr otherwise."""
        if variable not in self._sharded:
            self._sharded[variable] = shards.ShardedArray(self._array(variable))
        return self._sharded[variable].read(box)

    def chunk_shape(self, variable: str) -> tuple[int, int]:
        """(rows, cols) of a layout variable's spatial chunks."""
        return tuple(self._array(variable).chunks[2:])

    def _chunks(self, variable: str, keys: list[tuple]) -> dict[tuple, np.ndarray]:
        """Decoded chunks of a layout variable, keyed (path, variable, t, y, x), cached, **cell-major**:
        dims (lat x lon of the chunk, step x sector) float64, so a geometry's cells are contiguous rows."""
        arr = self._array(variable)
        ct, _, cy, cx = arr.chunks
        nt, _, ny, nx = arr.shape

        sy, sx = (arr.shards or arr.chunks)[2:]

        def one(ks: list[tuple]) -> np.ndarray:
            """The chunks ``ks`` (one time chunk, one shard) as one box: one shard index and one batch of ranges."""
            y0, y1 = min(k[3] for k in ks), max(k[3] for k in ks) + 1
            x0, x1 = min(k[4] for k in ks), max(k[4] for k in ks) + 1
            return self._read(variable, (slice(ks[0][2] * ct, min(nt, (ks[0][2] + 1) * ct)), slice(None),
                                         slice(y0 * cy, min(ny, y1 * cy)), slice(x0 * cx, min(nx, x1 * cx))))

        def load(missing: list) -> dict:  # shard groups read concurrently on object storage (map_reads)
            assert self.ts is not None
            groups: dict[tuple, list] = {}
            for k in missing:
                groups.setdefault((k[2], k[3] * cy // sy, k[4] * cx // sx), []).append(k)
            out = {}
            for ks, block in zip(groups.values(), self.ts.location.map_reads(one, list(groups.values())),
                                 strict=True):
                y0, x0 = min(k[3] for k in ks), min(k[4] for k in ks)
                for k in ks:
                    sub = block[:, :, (k[3] - y0) * cy:(k[3] - y0 + 1) * cy, (k[4] - x0) * cx:(k[4] - x0 + 1) * cx]
                    tt, ss, h, w = sub.shape
                    out[k] = np.ascontiguousarray(sub.reshape(tt * ss, h * w).T, dtype=np.float64)
            return out

        return self.chunks.get_many(sorted(keys), load)

    def reduce(self, variable: str, i0: int, i1: int, parts: tuple[rq.ChunkPart, ...], sectors: Any
               ) -> np.ndarray:
        """Weighted sums over a geometry's cells of steps [i0, i1) of a layout variable, chunk by chunk.

        ``parts``: :func:`api.regions_query.chunk_parts` for this variable's chunk shape; ``sectors``: a
        slice or index list on the sector axis.  Returns (step, sector, output) float64, in the variable's
        units per step.  No block is assembled: per cached cell-major chunk, the part's cells (rows) times
        its weights, one small float64 matrix product (~20 us), so memory is only the output.
        """
        arr = self._array(variable)
        assert self.ts is not None  # as in _array: only a source with a time-series layout reduces chunks
        ct, ns = arr.chunks[0], arr.shape[1]
        path = str(self.ts.path)
        tis = range(i0 // ct, (i1 - 1) // ct + 1)
        chunks = self._chunks(variable, [(path, variable, a, *p.chunk) for a in tis for p in parts])
        n_out = parts[0].n_out if parts else 1
        flat = np.zeros((n_out, (i1 - i0) * ns))  # (output, step x sector)
        for a in tis:
            t_lo = a * ct
            ta, tb = max(i0, t_lo), min(i1, t_lo + ct)
            c0, c1 = (ta - t_lo) * ns, (tb - t_lo) * ns
            acc = flat[:, (ta - i0) * ns:(tb - i0) * ns]
            for p in parts:  # the part's cells are rows of the cell-major chunk: one small product each
                chunk = chunks[(path, variable, a, *p.chunk)]
                if c0 == 0 and c1 == chunk.shape[1]:  # a whole block: np.take is ~2x faster than [index, :]
                    rows = np.take(chunk, p.index, axis=0)
                else:
                    rows = chunk[p.index, c0:c1]
                acc += np.dot(p.weights, rows) if isinstance(p.weights, np.ndarray) else p.weights @ rows
        full = flat.reshape(n_out, i1 - i0, ns).transpose(1, 2, 0)
        return full[:, sectors]

    def _day_rows(self, variable: str, keys: list[tuple]) -> dict[tuple, np.ndarray]:
        """Single days of a layout variable per spatial chunk, keyed (path, variable, day, y, x), cached,
        cell-major: (lat x lon of the chunk, sector) float64.  The chunks holding them (a few days each) are
        read per shard, one zarr call per (time chunk, shard), so a shard's index is read once."""
        arr = self._array(variable)
        ct, _, cy, cx = arr.chunks
        sy, sx = (arr.shards or arr.chunks)[2:]
        nt, _, ny, nx = arr.shape

        def load(missing: list) -> dict:
            groups: dict[tuple, list] = {}
            for k in missing:
                groups.setdefault((k[2] // ct, k[3] * cy // sy, k[4] * cx // sx), []).append(k)
            out = {}

            def one(item: tuple[tuple, list]) -> np.ndarray:
                (tc, _, _), ks = item
                y0, y1 = min(k[3] for k in ks), max(k[3] for k in ks) + 1
                x0, x1 = min(k[4] for k in ks), max(k[4] for k in ks) + 1
                return self._read(variable, (slice(tc * ct, min(nt, tc * ct + ct)), slice(None),
                                             slice(y0 * cy, min(ny, y1 * cy)), slice(x0 * cx, min(nx, x1 * cx))))

            assert self.ts is not None
            blocks = self.ts.location.map_reads(one, list(groups.items()))  # overlapped on object storage
            for ((tc, _, _), ks), block in zip(groups.items(), blocks, strict=True):
                t0 = tc * ct
                y0, x0 = min(k[3] for k in ks), min(k[4] for k in ks)
                for k in ks:
                    sub = block[k[2] - t0, :, (k[3] - y0) * cy:(k[3] - y0 + 1) * cy, (k[4] - x0) * cx:(k[4] - x0 + 1) * cx]
                    ss, h, w = sub.shape
                    out[k] = np.ascontiguousarray(sub.reshape(ss, h * w).T, dtype=np.float64)
            return out

        return self.chunks.get_many(sorted(keys), load)

    def reduce_days(self, variable: str, days: list[int], parts: tuple[rq.ChunkPart, ...], sectors: Any
                    ) -> np.ndarray:
        """Weighted sums over a geometry's cells of single days of a layout variable (the cumulative sums:
        a window [a, b] is day b minus day a - 1), dims (day, sector, output) float64.

        ``parts``: :func:`api.regions_query.chunk_parts` for this variable's chunk shape.  Per day and part,
        one small product of the part's weights with its cells' rows of the cached day."""
        assert self.ts is not None
        ns = self._array(variable).shape[1]
        path = str(self.ts.path)
        rows = self._day_rows(variable, [(path, variable, d, *p.chunk) for d in days for p in parts])
        n_out = parts[0].n_out if parts else 1
        out = np.zeros((len(days), ns, n_out))
        for i, d in enumerate(days):
            acc = np.zeros((n_out, ns))
            for p in parts:
                cells = np.take(rows[(path, variable, d, *p.chunk)], p.index, axis=0)
                acc += np.dot(p.weights, cells) if isinstance(p.weights, np.ndarray) else p.weights @ cells
            out[i] = acc.T
        return out[:, sectors]

    @property
    def has_cumsum(self) -> bool:
        """True if this source answers windows of days from cumulative sums (a layout of format 2 on)."""
        return self.ts is not None and self.ts.has_cumsum

    @property
    def name(self) -> str:
        if self.ts is None:
            return "map-chunked cube"
        if self.ts.has_cumsum:
            return "timeseries layout (sharded 32-day blocks, cumulative sums)"
        return "timeseries layout (32-day blocks)"

    def daily(self, i0: int, i1: int, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        """(emissions, sigma) of the map-chunked cube for days [i0, i1), all sectors, dims (time, sector, lat,
        lon), kg day-1 cell-1 (the fallback when there is no time-series layout; see :meth:`reduce`)."""
        import zarr

        if self._cube_group is None:
            self._cube_group = zarr.open_group(self.cube.zarr_store, mode="r")
        sel = (slice(i0, i1), slice(None), rows, cols)
        em = np.asarray(pstore.array(self._cube_group, cc.EMISSIONS_VAR)[sel])
        unc = np.asarray(pstore.array(self._cube_group, cc.UNCERTAINTY_VAR)[sel])
        return em, (em.astype(np.float64) * np.abs(unc)).astype(np.float32)


@lru_cache(maxsize=4)
def country_map(grid: cc.Grid) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per cell (lat, lon), the index of the country covering most of it (-1: none), and the codes.

    Process-wide (not per app): a function of the grid (a value) and the shipped Natural Earth countries only,
    like a constant table; no store, release or setting of an app enters it."""
    from ingest.boundaries import cached_country_coverage

    cov = cached_country_coverage(grid)
    out = np.full(grid.nlat * grid.nlon, -1, dtype=np.int32)
    if cov.cell.size:
        order = np.lexsort((-cov.fraction, cov.cell))  # by cell, largest fraction first
        cells = cov.cell[order]
        first = np.r_[True, cells[1:] != cells[:-1]]
        out[cells[first]] = cov.region[order][first]
    return out.reshape(grid.shape), cov.ids


@dataclass
class _Reducers:
    """A geometry's cell groups on one grid and its per-chunk-shape weights (see chunk_parts), cached."""

    weights: rq.CellWeights
    groups: np.ndarray
    n_groups: int
    matrix: rq.GroupWeights
    grid_shape: tuple[int, int]
    area_km2: float
    """Area of the region on the grid: sum of coverage x cell area, km2."""
    codes: tuple[int, ...] = ()
    """Per group, its country's index in :func:`country_map`'s codes."""
    _parts: dict[tuple, tuple[rq.ChunkPart, ...]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def parts(self, chunk: tuple[int, int], kind: str) -> tuple[rq.ChunkPart, ...]:
        """``kind`` 'sum' (one output: the fractions) or 'groups' (one output per country group)."""
        key = (chunk, kind)
        with self._lock:
            if key in self._parts:
                return self._parts[key]
        w = self.weights
        columns = w.fraction[:, None] if kind == "sum" else rq.group_columns(w, self.groups, self.n_groups)
        value = rq.chunk_parts(w, self.grid_shape, chunk, columns)
        with self._lock:
            self._parts[key] = value
        return value


def _reducers(grid: cc.Grid, weights: rq.CellWeights) -> _Reducers:
    """Country group of each of the geometry's cells and its reducers (cached in :attr:`RegionCaches.groups`)."""
    cmap, _ = country_map(grid)
    groups, codes = rq.dominant_groups(weights.rows, weights.cols, cmap)
    area = float((weights.area_fraction * grid.cell_area_m2()[weights.rows]).sum() / 1e6)
    return _Reducers(weights, groups, len(codes), weights.group_matrix(groups, len(codes)), grid.shape, area,
                     tuple(codes))


def source_of(memo: RegionCaches, cube: Cube) -> _Source:
    """The reading state of ``cube`` in the app's caches, one per (store path, build time)."""
    key = (str(cube.path), str(cube.attrs.get("provenance_build_time")))
    return memo.source(key, lambda: _Source(cube, memo.chunks))


# ----------------------------------------------------------------------------------------------- planning
def _national_by_group(cube: Cube, caches: AppCaches, codes: tuple[int, ...],
                       bounds: list[tuple[dt.date, dt.date, int]], sectors: tuple[str, ...]) -> np.ndarray:
    """Each group's whole-country totals per period and sector, (period, sector, group) kg CO2; groups whose
    country the cube does not carry get 0 (no allocation term)."""
    from api.national_arrays import national_arrays

    arr = national_arrays(cube, caches)
    _, names = country_map(cube.grid)
    cidx = [arr.countries.index(names[c]) if names[c] in arr.countries else -1 for c in codes]
    out = np.zeros((len(bounds), len(sectors), len(codes)))
    have = [k for k, c in enumerate(cidx) if c >= 0]
    if not have or not bounds:
        return out
    i0, i1 = cube.day_index(bounds[0][0]), cube.day_index(bounds[-1][1]) + 1
    days = arr.nat[i0:i1][:, cube.sector_indices(sectors)][:, :, [cidx[k] for k in have]]
    starts = np.array([cube.day_index(a) for a, _, _ in bounds]) - i0
    out[:, :, have] = np.add.reduceat(days, starts, axis=0)
    return out


@dataclass(frozen=True)
class Piece:
    """One read: ``kind`` (``daily``: days [i0, i1) of the daily values; ``window``: the same days as a
    difference of the cumulative sums), the day index range, and the period each step adds to."""

    kind: str
    i0: int
    i1: int
    periods: np.ndarray  # (i1 - i0,) period index per step

    @cached_property
    def period_slice(self) -> slice | None:
        """The periods as a slice when they are consecutive (one day per period): a plain ``+=`` instead of
        ``np.add.at``; None when steps share a period."""
        p = self.periods
        if p.size and int(p[-1]) - int(p[0]) + 1 == p.size and bool(np.all(np.diff(p) == 1)):
            return slice(int(p[0]), int(p[-1]) + 1)
        return None


def plan(source: _Source, cube: Cube, start: dt.date, end: dt.date, freq: national_series.Freq,
         max_daily_run: int = cc.TIMESERIES_CHUNK_DAYS
         ) -> tuple[list[Piece], tuple[str, ...], list[tuple[dt.date, dt.date, int]]]:
    """Split [start, end] into reads: a ``window`` per month/year/partial period from the cumulative sums
    (its days ``[i0, i1)`` are ``cumsum[i1 - 1] - cumsum[i0 - 1]``), daily reads otherwise.

    ``freq='day'``, or a source without cumulative sums (the cube, an older layout): consecutive days are
    read together, at most ``max_daily_run`` per read (the caller sizes it so a read stays within a memory
    budget; few large reads cost far less than one read per 32-day block).
    """
    days = pd.date_range(start, end, freq="D")
    day0, n = cube.day_index(start), len(days)
    per_read = max(1, max_daily_run)
    if freq == "day":  # one period per day: vectorised, no per-day Python work beyond the labels
        d64 = days.values.astype("datetime64[D]")
        dates = d64.tolist()  # datetime.date objects
        reads = [Piece("daily", day0 + a, day0 + min(n, a + per_read), np.arange(a, min(n, a + per_read)))
                 for a in range(0, n, per_read)]
        return reads, tuple(np.datetime_as_string(d64, unit="D").tolist()), [(d, d, 1) for d in dates]
    codes, labels = national_series.period_codes(days, freq)
    first = np.searchsorted(codes, np.arange(len(labels)), side="left")
    last = np.searchsorted(codes, np.arange(len(labels)), side="right") - 1
    bounds = [(days[a].date(), days[b].date(), int(b - a + 1)) for a, b in zip(first, last, strict=True)]
    if source.has_cumsum:
        return ([Piece("window", day0 + int(a), day0 + int(b) + 1, np.array([p]))
                 for p, (a, b) in enumerate(zip(first, last, strict=True))], labels, bounds)
    reads = [Piece("daily", day0 + a, day0 + min(n, a + per_read), codes[a:a + per_read])
             for a in range(0, n, per_read)]
    return reads, labels, bounds


def reduce_windows(source: _Source, windows: list[Piece], red: "_Reducers", s_idx: Any, n_periods: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(emissions, sigma) sums per period, sector and country group, kg, of the ``window`` pieces: each the
    difference of the region's cumulative sums at its last day and at the day before its first (the ends
    are read once for all windows; consecutive periods share them)."""
    ends = sorted({i for w in windows for i in (w.i0 - 1, w.i1 - 1) if i >= 0})
    pos = {d: k for k, d in enumerate(ends)}
    out = []
    for var in (cc.EMISSIONS_VAR, pts.SIGMA_VAR):
        cvar = pts.cumsum_var(var)
        cum = source.reduce_days(cvar, ends, red.parts(source.chunk_shape(cvar), "groups"), s_idx)
        total = np.zeros((n_periods, *cum.shape[1:]))
        for w in windows:
            p = int(w.periods[0])
            total[p] += cum[pos[w.i1 - 1]]
            if w.i0 > 0:
                total[p] -= cum[pos[w.i0 - 1]]
        out.append(total)
    return out[0], out[1]


# ----------------------------------------------------------------------------------------------- service
def _dates(cube: Cube, start: dt.date | None, end: dt.date | None, max_days: int) -> tuple[dt.date, dt.date]:
    start, end = cube.check_period(start, end)
    n = (end - start).days + 1
    if n > max_days:
        raise TooLarge(f"the period {start} to {end} spans {n} days, more than this server's limit of "
                            f"{max_days}; split the query into shorter periods")
    return start, end


def query_geometry(cube: Cube, geom: BaseGeometry, start: dt.date | None, end: dt.date | None,
                   freq: national_series.Freq, sectors: tuple[str, ...], settings: Settings, caches: AppCaches,
                   region: dict[str, str] | None = None, key: str | None = None) -> "QueryResult":
    """Sum the cube inside ``geom`` per period and sector (t CO2) with the 90% interval of :data:`rq.INTERVAL_RULE`.

    ``settings`` and ``caches`` are the serving app's (its limits; its :class:`~api.query_caches.RegionCaches`)."""
    start, end = _dates(cube, start, end, settings.max_query_days)
    key = key or rq.geometry_key(geom)
    memo = region_caches(caches, settings)
    weights = memo.weights.get(geom, cube.grid, key)
    source = source_of(memo, cube)
    ny, nx = weights.block_shape
    ct = cc.TIMESERIES_CHUNK_DAYS
    run = max(ct, READ_BUDGET_BYTES // (ny * nx * len(cc.SECTORS) * 4 * 2) // ct * ct)
    pieces, labels, bounds = source.plan(cube, start, end, freq, run)
    steps = sum(2 if p.kind == "window" else p.i1 - p.i0 for p in pieces)
    limit = min(settings.max_cells_days, settings.max_query_cell_steps)
    cell_steps = weights.block_shape[0] * weights.block_shape[1] * steps
    if cell_steps > limit:
        raise TooLarge(
            f"this query reads {weights.block_shape[0] * weights.block_shape[1]} grid cells x {steps} time steps "
            f"= {cell_steps:,} cell-steps, more than this server's limit of {limit:,}; ask for a coarser freq "
            "(month or year read precomputed sums), a shorter period or a smaller region")
    red = memo.group((key, cube.grid), lambda: _reducers(cube.grid, weights))
    s_idx: Any = cube.sector_indices(sectors)
    if len(s_idx) and np.array_equal(s_idx, np.arange(s_idx[0], s_idx[0] + len(s_idx))):
        s_idx = slice(int(s_idx[0]), int(s_idx[0]) + len(s_idx))  # a view, not a copy of the block
    intl = np.array([s in cc.INTERNATIONAL_SECTORS for s in sectors])
    est = np.zeros((len(labels), len(sectors), red.n_groups))
    sig = np.zeros((len(labels), len(sectors), red.n_groups))
    windows = [p for p in pieces if p.kind == "window"]
    if windows:  # months, years and partial periods: differences of the layout's cumulative sums
        e, g = reduce_windows(source, windows, red, s_idx, len(labels))
        est += e
        sig += g
    for piece in pieces:
        if piece.kind == "window":
            continue
        if source.ts is not None:  # chunk by chunk from the time-series layout
            em_var, sg_var = cc.EMISSIONS_VAR, pts.SIGMA_VAR
            e = source.reduce(em_var, piece.i0, piece.i1, red.parts(source.chunk_shape(em_var), "groups"), s_idx)
            g = source.reduce(sg_var, piece.i0, piece.i1, red.parts(source.chunk_shape(sg_var), "groups"), s_idx)
        else:  # the map-chunked cube: assemble the block, then reduce it
            em, sg = source.daily(piece.i0, piece.i1, weights.row_slice, weights.col_slice)
            e = rq.grouped_sum(em[:, s_idx], weights, red.groups, red.n_groups, red.matrix)
            g = rq.grouped_sum(sg[:, s_idx], weights, red.groups, red.n_groups, red.matrix)
        if (span := piece.period_slice) is not None:
            est[span] += e
            sig[span] += g
        else:
            np.add.at(est, piece.periods, e)
            np.add.at(sig, piece.periods, g)
    national = _national_by_group(cube, caches, red.codes, bounds, sectors)
    res = rq.period_intervals(est.sum(axis=2), sig, intl, rq.allocation_sigmas(est, national, intl))
    area = red.area_km2
    region = region or {"id": f"geometry:{key[:16]}", "type": "geometry",
                        "definition": "the posted polygon; each cell weighted by the share of its land inside it "
                                      "(exactextract coverage / the cell's land fraction, at most 1)"}
    return QueryResult(dataset=cube.id, region=QueryRegion(**region, cells=weights.n_cells, area_km2=area),
                       start=start, end=end, freq=freq, sectors=tuple(sectors), source=source.name, labels=labels,
                       bounds=bounds, arrays=res, release=cube.release)


def parse_sector_list(value: list[str] | str | None) -> tuple[str, ...]:
    """Sector names from a list or a comma-separated string; None means all of :data:`cc.SECTORS`."""
    if value is None:
        return cc.SECTORS
    if isinstance(value, list):
        value = ",".join(value)
    return cc.parse_sectors(value)



__all__ = ["CACHE_NAME", "READ_BUDGET_BYTES", "SOURCE_ITEMS", "Piece", "RegionCaches", "country_map",
           "parse_sector_list", "plan", "query_geometry", "reduce_windows", "region_caches", "source_of"]
