"""The time-series layout of a cube, write side: chunked along time, sharded, with cumulative sums for any period.

The names and the reader (:class:`TimeseriesStore`) are :mod:`carbonmap.storage.timeseries`, re-exported here.

Map reads want one chunk per day; region queries want many days of a few cells.  This module
writes, next to a sealed cube ``<name>.zarr``, a second Zarr v3 store ``<name>.timeseries``:

- ``emissions(time, sector, lat, lon)`` float32, kg CO2 day-1 cell-1 (a copy of the cube's);
- ``sigma(time, sector, lat, lon)`` float32, kg CO2 day-1 cell-1: the absolute 1-sigma,
  ``emissions x uncertainty``.  Sums of ``sigma`` are the sigma of errors fully correlated over
  the summed days/cells, which is the rule the region queries apply within a country;
- ``emissions_cumsum``/``sigma_cumsum (time, sector, lat, lon)`` float64, kg CO2 cell-1: the sums of the
  daily values above (float32, summed in float64) from the cube's first day through each day,
  inclusive.  Any window of days ``[a, b]`` (40 days, a month, a quarter, three years) is
  ``cumsum[b] - cumsum[a - 1]``: two reads per cell-chunk whatever its length.  Values are >= 0, so the
  difference's relative error is ~1e-16 x (days up to b) / (days in the window), < 1e-12 for a day
  after a decade; months and years are windows too (no separate monthly/annual arrays).

Daily variables use the contract's ``Grid.timeseries_chunks()`` (32 days x 7 sectors x 2 deg x 2 deg;
at least 20 x 20 cells on coarse grids) as inner chunks; the cumulative sums use :func:`cumsum_chunks`
(4 days x 7 sectors x twice that edge).  Both are Zarr v3 shards of one 32-day block x
:func:`shard_edges` cells (about ``TIMESERIES_SHARD_CHUNKS`` daily chunks a side), so a 0.1 degree
global block is 32 objects per variable, not 16,200 files, and readers still decode single chunks.

The writer runs one Dask task per shard column (a spatial shard region over all time blocks, carrying
the cumulative sums from block to block): on the build's distributed client when given, else on Dask's
threaded scheduler.  Every shard is written whole, so no task reads or rewrites another's objects.
Shards are encoded by :func:`carbonmap.storage.shards.write_shard` in zarr's own sharding format (zarr reads them) without
zarr's per-chunk buffer copies: about half the CPU, and zstd releases the GIL, so threads overlap.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import zarr
from zarr.codecs import ZstdCodec

from carbonmap import contract as cc
from carbonmap.progress import ProgressFn, no_progress
from carbonmap.storage import shards
from carbonmap.storage.location import Location, location
from carbonmap.storage.timeseries import (
    SIGMA_VAR,
    SUFFIX,
    TS_FORMAT_VERSION,
    TS_STATUS_ATTR,
    TimeseriesError,
    TimeseriesStore,
    cumsum_var,
    timeseries_location,
    timeseries_path,
)
from pipelines import store

__all__ = ["SIGMA_VAR", "SUFFIX", "TimeseriesError", "TimeseriesStore", "build_timeseries", "cumsum_var",
           "timeseries_location", "timeseries_path"]

CUMSUM_CHUNK_DAYS = 4
"""Days per inner chunk of the cumulative sums."""
CUMSUM_CHUNK_FACTOR = 2
"""The cumulative sums' inner chunks span this many daily chunks a side."""
def daily_chunks(grid: cc.Grid, n_sectors: int = len(cc.SECTORS)) -> tuple[int, int, int, int]:
    """Chunks of the daily variables: the contract's ``timeseries_chunks`` (32 days, all sectors, 2 x 2 deg,
    at least ``TIMESERIES_CHUNK_MIN_CELLS`` cells a side on coarse grids, capped at the grid)."""
    return grid.timeseries_chunks(n_sectors)


def cumsum_chunks(grid: cc.Grid, n_sectors: int = len(cc.SECTORS)) -> tuple[int, int, int, int]:
    """Inner chunks of the cumulative sums: ``CUMSUM_CHUNK_DAYS`` days x all sectors x twice the daily chunk
    edge (40 x 40 cells at 0.1 degree, ~360 kB of float64): a window end decodes one small chunk per
    cell-chunk, and a shard holds ~1,000 of them (zarr's cost is per chunk when it writes a shard)."""
    _, ns, ty, tx = daily_chunks(grid, n_sectors)
    return CUMSUM_CHUNK_DAYS, ns, ty * CUMSUM_CHUNK_FACTOR, tx * CUMSUM_CHUNK_FACTOR


def shard_edges(grid: cc.Grid) -> tuple[int, int]:
    """(lat, lon) cells of a shard: about ``TIMESERIES_SHARD_CHUNKS`` daily chunks a side, a multiple of the
    cumulative sums' chunk edge and, when that is not larger, of the map chunks the cube is read in; the
    whole grid (rounded up to whole chunks) on small grids.  0.1 degree: 480 x 480 cells (4 x 8 shards
    a block, global); 0.25 degree: 360 x 360 (2 x 4)."""
    _, _, cy, cx = cumsum_chunks(grid)
    my, mx = grid.map_chunks()[2:]

    def one(a: int, m: int, n: int) -> int:
        full = math.ceil(n / a) * a
        target = cc.TIMESERIES_SHARD_CHUNKS * a // CUMSUM_CHUNK_FACTOR
        aligned = math.lcm(a, m)
        edge = aligned * max(1, round(target / aligned)) if aligned <= target else math.ceil(target / a) * a
        return min(edge, full)

    return one(cy, my, grid.nlat), one(cx, mx, grid.nlon)


def _create_arrays(group: zarr.Group, grid: cc.Grid, times: pd.DatetimeIndex, sectors: list[str]) -> None:
    ns = len(sectors)
    ty_chunks = daily_chunks(grid, ns)
    tt = ty_chunks[0]
    sy, sx = shard_edges(grid)
    zstd = [ZstdCodec(level=3)]
    epoch = np.datetime64("1970-01-01", "D")
    ca = cc.coord_attrs()

    def coord(name: str, values: np.ndarray, attrs: dict) -> None:
        arr = group.create_array(name, shape=values.shape, dtype=values.dtype, chunks=(max(1, values.shape[0]),),
                                 dimension_names=(name,), attributes=attrs, fill_value=None)
        arr[...] = values

    coord("time", (times.values.astype("datetime64[D]") - epoch).astype(np.int32),
          {**ca["time"], "units": "days since 1970-01-01", "calendar": "proleptic_gregorian"})
    coord("lat", grid.lat, ca["lat"])
    coord("lon", grid.lon, ca["lon"])
    sec = group.create_array("sector", shape=(ns,), dtype=str, chunks=(ns,), dimension_names=("sector",),
                             attributes=ca["sector"])
    sec[...] = np.array(sectors, dtype=object)
    dims4 = ("time", "sector", "lat", "lon")
    sigma_attrs: dict[str, Any] = {"units": cc.EMISSIONS_UNITS, "long_name": "absolute 1-sigma of emissions",
                                   "comment": "emissions x uncertainty; sums = sigma of fully correlated errors"}
    for name, attrs in ((cc.EMISSIONS_VAR, cc.emissions_attrs()), (SIGMA_VAR, sigma_attrs)):
        group.create_array(name, shape=(len(times), ns, grid.nlat, grid.nlon), dtype=np.float32, chunks=ty_chunks,
                           shards=(tt, ns, sy, sx), compressors=zstd, fill_value=0.0, dimension_names=dims4,
                           attributes=attrs)
        # float64: a window is a difference of two cumulative sums, exact to ~1e-16 x cumsum / window
        group.create_array(cumsum_var(name), shape=(len(times), ns, grid.nlat, grid.nlon), dtype=np.float64,
                           chunks=cumsum_chunks(grid, ns), shards=(tt, ns, sy, sx), compressors=zstd,
                           fill_value=0.0, dimension_names=dims4,
                           attributes={**attrs, "units": "kg", "cell_methods": "time: sum",
                                       "long_name": f"{attrs['long_name']}, summed from the first day through "
                                                    "each day (inclusive)"})


def _blocks(n: int, step: int, start: int = 0) -> Iterator[tuple[int, int]]:
    for a in range(start, n, step):
        yield a, min(n, a + step)


def _layout(arr: Any) -> shards.ShardLayout:
    """The shard layout of a time-series array; raise unless it is stored the way
    :func:`carbonmap.storage.shards.write_shard` writes (so a change to :func:`_create_arrays` cannot silently
    produce shards zarr misreads)."""
    layout = shards.layout_of(arr)
    if layout is None:
        raise TimeseriesError(f"the time-series array {arr.path} is not stored as write_shard writes "
                              f"(sharding, bytes + zstd, index bytes + crc32c at the end); rebuild the layout")
    return layout


def _read_cube(cube: zarr.Group, name: str, sel: tuple[slice, ...]) -> np.ndarray:
    """A box of a cube variable as float32: :func:`carbonmap.storage.shards.read_region` when the cube is local."""
    return np.asarray(shards.ShardedArray(store.array(cube, name)).read(sel), dtype=np.float32)


def running_sum(values: np.ndarray, carry: np.ndarray) -> np.ndarray:
    """Cumulative sums along axis 0 in float64, starting from ``carry`` (the sum through the day before):
    ``out[i] = (((carry + values[0]) + values[1]) + ...) + values[i]``, (day, ...) kg cell-1.  A loop of
    whole-field adds, 2.5x faster than numpy's cumsum along the slow axis (measured on a 32-day 0.25
    degree block); a build and an update that carries on from a stored day add the same numbers in the
    same order, so they agree bit for bit."""
    out = np.empty(values.shape, dtype=np.float64)
    prev = carry
    for i in range(values.shape[0]):
        np.add(prev, values[i], out=out[i])
        prev = out[i]
    return out


def _write_column(cube_path: str, ts_path: str, n_days: int, r: tuple[int, int], c: tuple[int, int],
                  first_day: int, block: int) -> int:
    """Write one shard column (cells r x c) from day ``first_day`` (a block start) on; returns blocks written.

    Per 32-day block: the daily copy, sigma and their cumulative sums, carried from the day before
    ``first_day`` (read back from the layout, which holds it unchanged).  Every shard of the column is
    written whole, so columns never touch each other's objects."""
    cube = zarr.open_group(location(cube_path).zarr_store(read_only=True), mode="r")
    ts_root = location(ts_path)
    ts = zarr.open_group(ts_root.zarr_store(read_only=True), mode="r", use_consolidated=False)  # (a parent's is stale)
    rs, cs = slice(*r), slice(*c)
    em_layout = _layout(store.array(ts, cc.EMISSIONS_VAR))
    cum_layout = _layout(store.array(ts, cumsum_var(cc.EMISSIONS_VAR)))
    daily, cumulative, shard = em_layout.chunks, cum_layout.chunks, em_layout.shard
    assert block == shard[0] and cum_layout.shard == shard  # one shard = one block of one column
    carry: dict[str, np.ndarray] = {}
    for var in (cc.EMISSIONS_VAR, SIGMA_VAR):
        arr = store.array(ts, cumsum_var(var))
        carry[var] = (np.asarray(arr[first_day - 1, :, rs, cs], dtype=np.float64) if first_day > 0
                      else np.zeros((arr.shape[1], r[1] - r[0], c[1] - c[0])))
    n = 0
    for a, b in _blocks(n_days, block, first_day):
        sel = (slice(a, b), slice(None), rs, cs)
        em = _read_cube(cube, cc.EMISSIONS_VAR, sel)
        sigma = _read_cube(cube, cc.UNCERTAINTY_VAR, sel)
        # sigma = em x |relative 1-sigma|, in place: a float32 product is correctly rounded, so this equals
        # the float64 product cast to float32, without a float64 copy of the block
        np.abs(sigma, out=sigma)
        sigma *= em
        key = (a // block, 0, r[0] // shard[2], c[0] // shard[3])
        for var, values in ((cc.EMISSIONS_VAR, em), (SIGMA_VAR, sigma)):
            shards.write_shard(ts_root.child(var), key, values, daily, shard, em_layout.level)
            cum = running_sum(values, carry[var])
            shards.write_shard(ts_root.child(cumsum_var(var)), key, cum, cumulative, shard, cum_layout.level)
            carry[var] = cum[-1].copy()
            del cum
        n += 1
    return n


def _run(calls: list[tuple[Any, ...]], client: Any | None, workers: int, say: ProgressFn, total: int,
         label: str) -> None:
    """Run ``_write_column(*call)`` for each call on the Dask client, or on Dask's local schedulers."""
    say(0, total, label)
    if client is not None:
        from distributed import as_completed

        futures = [client.submit(_write_column, *call, pure=False) for call in calls]
        done = 0
        for fut in as_completed(futures):
            done += int(fut.result())
            say(done, total, label)
        return
    import dask
    from dask.callbacks import Callback

    done_box = [0]

    def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if isinstance(result, int):  # runs in this process, whatever the scheduler
            done_box[0] += result
            say(done_box[0], total, label)

    # threads overlap: shards.write_shard's zstd, numpy's cumsum and the cube's decoding release the GIL
    with Callback(posttask=posttask):
        dask.compute(*[dask.delayed(_write_column, pure=False)(*call) for call in calls], scheduler="threads",
                     num_workers=max(1, workers))


def _write_days(cube_path: Location, ts_path: Location, grid: cc.Grid, times: pd.DatetimeIndex, first_day: int,
                workers: int, progress: ProgressFn | None, client: Any | None = None) -> None:
    tt = daily_chunks(grid)[0]
    sy, sx = shard_edges(grid)
    t_start = (first_day // tt) * tt
    calls = [(str(cube_path), str(ts_path), len(times), r, c, t_start, tt)
             for r in _blocks(grid.nlat, sy) for c in _blocks(grid.nlon, sx)]
    n_blocks = len(range(t_start, len(times), tt))
    _run(calls, client, workers, progress or no_progress, n_blocks * len(calls),
         "timeseries: shard columns (daily values and cumulative sums)")


def _cube_meta(cube_path: Location) -> dict:
    meta = json.loads(cube_path.read_text("zarr.json") or "{}")
    attrs = meta.get("attributes", {})
    if attrs.get(cc.STATUS_ATTR) != cc.STATUS_COMPLETE:
        raise TimeseriesError(f"the cube at {cube_path} is not sealed; build it before its time-series layout")
    return attrs


def _cube_axes(cube_path: Location | Path | str) -> tuple[cc.Grid, pd.DatetimeIndex, list[str]]:
    import xarray as xr

    with xr.open_zarr(location(cube_path).zarr_store(read_only=True), chunks=None, consolidated=True, zarr_format=3) as ds:
        grid = cc.Grid.from_coords(ds["lat"].values, ds["lon"].values)
        times = pd.DatetimeIndex(ds["time"].values)
        sectors = [str(s) for s in ds["sector"].values]
    return grid, times, sectors


def _seal_attrs(cube_attrs: dict, times: pd.DatetimeIndex) -> dict:
    return {"carbonmap_dataset_id": cube_attrs.get("carbonmap_dataset_id"),
            "carbonmap_timeseries_format": TS_FORMAT_VERSION,
            "source_build_time": cube_attrs.get("provenance_build_time"),
            "time_coverage_start": str(times[0].date()), "time_coverage_end": str(times[-1].date()),
            "title": f"time-series layout of {cube_attrs.get('carbonmap_dataset_id')}",
            "Conventions": "CF-1.10", TS_STATUS_ATTR: cc.STATUS_COMPLETE}


def build_timeseries(cube_path: Path | str | Location, progress: ProgressFn | None = None, *,
                     parent: Path | str | Location | None = None, first_changed_day: int | None = None,
                     workers: int = 2, client: Any | None = None) -> Path | str:
    """Write the time-series layout of the sealed cube at ``cube_path`` next to it; returns its path (the URL
    on object storage).

    ``cube_path`` may be the store symlink (it is resolved to its release) or a staging cube that is
    complete but not yet published (``pipelines.store.seal``'s ``before_publish``: the layout is then a
    sidecar that ``seal`` moves with the release).  The layout is written to ``<layout>.building`` and
    renamed into place, so a reader never sees half of it (object storage: written in place, beside the
    unpublished release it belongs to).

    Incremental append: ``parent`` is the layout of the previous release (or that release's cube).  If it
    matches this cube's grid, sectors and first days, its files are hard-linked (zarr writes by temp file
    and rename, so the parent never changes; server-side copies on object storage) and only the days from ``first_changed_day`` (default: the
    first day the parent lacks), rounded down to a 32-day block, are rewritten, the cumulative sums
    carried on from the day before (a parent of an older layout format is not reused).  Otherwise the
    whole layout is rebuilt.

    ``client``: a Dask distributed Client to run the shard columns on (the build's); default Dask's
    threaded scheduler with ``workers`` threads.
    """
    cube = location(cube_path).resolved()
    cube_attrs = _cube_meta(cube)
    grid, times, sectors = _cube_axes(cube)
    final = timeseries_location(cube)
    first = None
    source: Location | None = None
    if parent is not None:
        source = location(parent)
        if not source.exists("zarr.json") or not source.name.endswith(SUFFIX):
            source = timeseries_location(source.resolved())
        if source.exists("zarr.json"):
            first = _appendable_from(source, grid, times, sectors)
    with final.staged() as tmp:
        if first is not None:
            if first_changed_day is not None:
                first = min(first, max(0, int(first_changed_day)))
            assert source is not None  # ``first`` is only set from a parent layout
            source.copy_tree_to(tmp)
            _extend_in_place(tmp, grid, times, sectors)
        else:
            first = 0
            group = zarr.open_group(tmp.zarr_store(), mode="w", zarr_format=3)
            group.attrs.update({TS_STATUS_ATTR: cc.STATUS_BUILDING})
            _create_arrays(group, grid, times, sectors)
        if first < len(times):
            _write_days(cube, tmp, grid, times, first, workers, progress, client)
        zarr.open_group(tmp.zarr_store(), mode="r+", use_consolidated=False).attrs.update(_seal_attrs(cube_attrs, times))
        zarr.consolidate_metadata(tmp.zarr_store())  # readers open the layout in one read (one GET on S3)
    return final.target


def _appendable_from(ts_path: Location | Path | str, grid: cc.Grid, times: pd.DatetimeIndex, sectors: list[str]) -> int | None:
    """Index of the first cube day the layout lacks, or None if the layout does not match the cube."""
    try:
        ts = TimeseriesStore(ts_path)
        if ts.attrs.get("carbonmap_timeseries_format") != TS_FORMAT_VERSION:
            return None  # an older layout (no shards, no cumulative sums): rebuild whole
        if tuple(store.array(ts.group, cc.EMISSIONS_VAR).shards or ())[2:] != shard_edges(grid):
            return None
        if ts.grid != grid or list(ts.sectors) != sectors or len(ts.times) > len(times) or len(ts.times) == 0:
            return None
        if not ts.times.equals(times[: len(ts.times)]):
            return None
        return len(ts.times)
    except (TimeseriesError, OSError, ValueError, KeyError):
        return None


def _extend_in_place(ts_path: Location, grid: cc.Grid, times: pd.DatetimeIndex, sectors: list[str]) -> None:
    """Resize the layout's arrays and its time coordinate to the cube's (longer) time axis."""
    group = zarr.open_group(ts_path.zarr_store(), mode="r+", use_consolidated=False)
    group.attrs[TS_STATUS_ATTR] = cc.STATUS_BUILDING
    ns = len(sectors)
    for name in (cc.EMISSIONS_VAR, SIGMA_VAR):
        store.array(group, name).resize((len(times), ns, grid.nlat, grid.nlon))
        store.array(group, cumsum_var(name)).resize((len(times), ns, grid.nlat, grid.nlon))
    attrs = dict(group["time"].attrs)
    del group["time"]  # a new array (new files): the parent's hard-linked coordinate is left as it was
    values = (times.values.astype("datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(np.int32)
    arr = group.create_array("time", shape=values.shape, dtype=values.dtype, chunks=(max(1, len(values)),),
                             dimension_names=("time",), attributes=attrs, fill_value=None)
    arr[...] = values

