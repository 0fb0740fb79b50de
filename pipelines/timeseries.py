"""The time-series layout of a cube: chunked along time, plus monthly and annual sums.

Map reads want one chunk per day; region queries want many days of a few cells.  This module
writes, next to a sealed cube ``<name>.zarr``, a second Zarr v3 store ``<name>.timeseries``:

- ``emissions(time, sector, lat, lon)`` float32, kg CO2 day-1 cell-1 (a copy of the cube's);
- ``sigma(time, sector, lat, lon)`` float32, kg CO2 day-1 cell-1: the absolute 1-sigma,
  ``emissions x uncertainty``.  Sums of ``sigma`` are the sigma of errors fully correlated over
  the summed days/cells, which is the rule the region queries apply within a country;
- ``emissions_monthly``/``sigma_monthly (month, sector, lat, lon)`` and
  ``emissions_annual``/``sigma_annual (year, sector, lat, lon)``: sums over the cube's days of
  each month / year, kg CO2 per period per cell (float32); ``month_days(month)`` and
  ``year_days(year)`` count the cube days each holds.

Daily variables use the contract's ``Grid.timeseries_chunks()`` (32 days x 7 sectors x 2 deg x 2 deg;
at least 20 x 20 cells on coarse test grids),
so a year of a city is about a dozen chunk reads and a daily append rewrites one time block.
Aggregates use (12 months | 1 year) x 7 sectors x 10 deg x 10 deg chunks, so a whole country-year
is a few dozen chunks.  No Dask here: blocks are independent and run on a small thread pool;
the lead's Dask build calls :func:`build_timeseries` after sealing the cube.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import zarr
from zarr.codecs import ZstdCodec

from carbonmap import contract as cc
from carbonmap.progress import ProgressFn, no_progress
from pipelines import store

SUFFIX = ".timeseries"
SIGMA_VAR = "sigma"
AGGREGATE_CHUNK_DEGREES = 10.0
"""Spatial chunk edge of the monthly/annual aggregates, degrees."""
TS_STATUS_ATTR = "carbonmap_timeseries_status"
TS_FORMAT_VERSION = "1"


class TimeseriesError(RuntimeError):
    """The time-series store is missing, unfinished or does not match its cube."""


def timeseries_path(cube_path: Path | str) -> Path:
    """Where the time-series layout of the cube directory ``cube_path`` lives: a sibling named
    ``<name>.timeseries`` (``x.zarr`` -> ``x.timeseries``; a release ``r0003`` -> ``r0003.timeseries``).
    Pass the resolved release directory, not the store symlink."""
    cube_path = Path(cube_path)
    return cube_path.with_name(cube_path.name.removesuffix(".zarr") + SUFFIX)


def daily_chunks(grid: cc.Grid, n_sectors: int = len(cc.SECTORS)) -> tuple[int, int, int, int]:
    """Chunks of the daily variables: the contract's ``timeseries_chunks`` (32 days, all sectors, 2 x 2 deg,
    at least ``TIMESERIES_CHUNK_MIN_CELLS`` cells a side on coarse grids, capped at the grid)."""
    return grid.timeseries_chunks(n_sectors)


def _chunk_edges(grid: cc.Grid) -> tuple[int, int, int, int]:
    """(daily edge lat, daily edge lon, aggregate edge lat, aggregate edge lon) in cells."""
    _, _, ty, tx = daily_chunks(grid)
    edge = max(1, round(AGGREGATE_CHUNK_DEGREES / grid.resolution))
    ay, ax = min(grid.nlat, math.lcm(edge, ty)), min(grid.nlon, math.lcm(edge, tx))
    return ty, tx, ay, ax


def _month_starts(times: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(sorted(set(times.to_period("M").start_time)))


def _years(times: pd.DatetimeIndex) -> np.ndarray:
    return np.array(sorted(set(times.year)), dtype=np.int32)


def _create_arrays(group: zarr.Group, grid: cc.Grid, times: pd.DatetimeIndex, sectors: list[str]) -> None:
    ns = len(sectors)
    ty_chunks = daily_chunks(grid, ns)
    _, _, ay, ax = _chunk_edges(grid)
    zstd = [ZstdCodec(level=3)]
    months, years = _month_starts(times), _years(times)
    nt, nm, ny = len(times), len(months), len(years)
    epoch = np.datetime64("1970-01-01", "D")
    ca = cc.coord_attrs()

    def coord(name: str, values: np.ndarray, attrs: dict) -> None:
        arr = group.create_array(name, shape=values.shape, dtype=values.dtype, chunks=(max(1, values.shape[0]),),
                                 dimension_names=(name,), attributes=attrs, fill_value=None)
        arr[...] = values

    coord("time", (times.values.astype("datetime64[D]") - epoch).astype(np.int32),
          {**ca["time"], "units": "days since 1970-01-01", "calendar": "proleptic_gregorian"})
    coord("month", (months.values.astype("datetime64[D]") - epoch).astype(np.int32),
          {"long_name": "first day of the month", "units": "days since 1970-01-01", "calendar": "proleptic_gregorian"})
    coord("year", years, {"long_name": "calendar year", "units": "1"})
    coord("lat", grid.lat, ca["lat"])
    coord("lon", grid.lon, ca["lon"])
    sec = group.create_array("sector", shape=(ns,), dtype=str, chunks=(ns,), dimension_names=("sector",),
                             attributes=ca["sector"])
    sec[...] = np.array(sectors, dtype=object)
    dims4 = ("time", "sector", "lat", "lon")
    sigma_attrs: dict[str, Any] = {"units": cc.EMISSIONS_UNITS, "long_name": "absolute 1-sigma of emissions",
                                   "comment": "emissions x uncertainty; sums = sigma of fully correlated errors"}
    for name, attrs in ((cc.EMISSIONS_VAR, cc.emissions_attrs()), (SIGMA_VAR, sigma_attrs)):
        group.create_array(name, shape=(nt, ns, grid.nlat, grid.nlon), dtype=np.float32, chunks=ty_chunks,
                           compressors=zstd, fill_value=0.0, dimension_names=dims4, attributes=attrs)
        for agg, n, tchunk in (("monthly", nm, 12), ("annual", ny, 1)):
            dim = "month" if agg == "monthly" else "year"
            group.create_array(f"{name}_{agg}", shape=(n, ns, grid.nlat, grid.nlon), dtype=np.float32,
                               chunks=(tchunk, ns, ay, ax), compressors=zstd, fill_value=0.0,
                               dimension_names=(dim, "sector", "lat", "lon"),
                               attributes={**attrs, "units": "kg", "cell_methods": f"time: sum (interval: 1 {dim})",
                                           "long_name": f"{attrs['long_name']}, summed over each {dim}"})
    for name, dim, values in (("month_days", "month", np.bincount(
            np.searchsorted(months.values, times.to_period("M").start_time.values), minlength=nm)),
                              ("year_days", "year", np.array([(times.year == y).sum() for y in years]))):
        arr = group.create_array(name, shape=(len(values),), dtype=np.int32, chunks=(max(1, len(values)),),
                                 dimension_names=(dim,), attributes={"long_name": f"cube days in each {dim}"})
        arr[...] = np.asarray(values, dtype=np.int32)


def _blocks(n: int, step: int, start: int = 0) -> Iterator[tuple[int, int]]:
    for a in range(start, n, step):
        yield a, min(n, a + step)


def _copy_block(cube: zarr.Group, ts: zarr.Group, t: tuple[int, int], r: tuple[int, int], c: tuple[int, int]) -> None:
    sel = (slice(*t), slice(None), slice(*r), slice(*c))
    em = np.asarray(store.array(cube, cc.EMISSIONS_VAR)[sel], dtype=np.float32)
    store.array(ts, cc.EMISSIONS_VAR)[sel] = em
    sigma = np.asarray(store.array(cube, cc.UNCERTAINTY_VAR)[sel], dtype=np.float32)
    # sigma = em x |relative 1-sigma|, in place: a float32 product is correctly rounded, so this equals
    # the float64 product cast to float32, without a float64 copy of the block (~1.5 GB at 0.1 deg)
    np.abs(sigma, out=sigma)
    sigma *= em
    store.array(ts, SIGMA_VAR)[sel] = sigma


def _aggregate_block(ts: zarr.Group, times: pd.DatetimeIndex, r: tuple[int, int], c: tuple[int, int],
                     first_day: int) -> None:
    """Monthly and annual sums over cells r x c for every month/year from the one holding ``first_day``."""
    months = pd.DatetimeIndex(_month_starts(times))
    years = _years(times)
    month_of_day = np.searchsorted(months.values, times.to_period("M").start_time.values)
    year_of_day = np.searchsorted(years, times.year.values)
    y0 = int(year_of_day[first_day])
    d0 = int(np.searchsorted(year_of_day, y0))  # first day of that year: annual sums restart there
    for name in (cc.EMISSIONS_VAR, SIGMA_VAR):
        for yi in range(y0, len(years)):
            days = np.flatnonzero(year_of_day == yi)
            days = days[days >= d0]
            if days.size == 0:
                continue
            block = np.asarray(store.array(ts, name)[days[0]:days[-1] + 1, :, slice(*r), slice(*c)],
                               dtype=np.float64)
            codes = month_of_day[days]
            starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
            monthly = np.add.reduceat(block, starts, axis=0)
            m0 = int(codes[0])
            store.array(ts, f"{name}_monthly")[m0:m0 + len(starts), :, slice(*r), slice(*c)] = monthly.astype(
                np.float32)
            store.array(ts, f"{name}_annual")[yi:yi + 1, :, slice(*r), slice(*c)] = monthly.sum(
                axis=0, keepdims=True).astype(np.float32)


def _cube_meta(cube_path: Path) -> dict:
    meta = json.loads((Path(cube_path) / "zarr.json").read_text())
    attrs = meta.get("attributes", {})
    if attrs.get(cc.STATUS_ATTR) != cc.STATUS_COMPLETE:
        raise TimeseriesError(f"the cube at {cube_path} is not sealed; build it before its time-series layout")
    return attrs


def _cube_axes(cube_path: Path) -> tuple[cc.Grid, pd.DatetimeIndex, list[str]]:
    import xarray as xr

    with xr.open_zarr(cube_path, chunks=None, consolidated=True, zarr_format=3) as ds:
        grid = cc.Grid.from_coords(ds["lat"].values, ds["lon"].values)
        times = pd.DatetimeIndex(ds["time"].values)
        sectors = [str(s) for s in ds["sector"].values]
    return grid, times, sectors


def _run(tasks: Sequence[Callable[[], object]], workers: int, progress: ProgressFn | None, label: str) -> None:
    done = 0
    lock = threading.Lock()
    say = progress or no_progress
    say(0, len(tasks), label)

    def one(fn: Callable[[], object]) -> None:
        nonlocal done
        fn()
        with lock:
            done += 1
            say(done, len(tasks), label)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for f in [pool.submit(one, t) for t in tasks]:
            f.result()


def _write_days(cube_path: Path, ts_path: Path, grid: cc.Grid, times: pd.DatetimeIndex, first_day: int,
                workers: int, progress: ProgressFn | None) -> None:
    cube = zarr.open_group(cube_path, mode="r")
    ts = zarr.open_group(ts_path, mode="r+")
    tt, _, ty, tx = daily_chunks(grid)
    my, mx = grid.map_chunks()[2:]
    by, bx = min(grid.nlat, math.lcm(ty, my)), min(grid.nlon, math.lcm(tx, mx))
    t_start = (first_day // tt) * tt
    copies = [(lambda t=t, r=r, c=c: _copy_block(cube, ts, t, r, c))
              for t in _blocks(len(times), tt, t_start) for r in _blocks(grid.nlat, by) for c in _blocks(grid.nlon, bx)]
    _run(copies, workers, progress, "timeseries: daily blocks")
    _, _, ay, ax = _chunk_edges(grid)
    aggs = [(lambda r=r, c=c: _aggregate_block(ts, times, r, c, first_day))
            for r in _blocks(grid.nlat, ay) for c in _blocks(grid.nlon, ax)]
    _run(aggs, workers, progress, "timeseries: monthly and annual sums")


def _seal_attrs(cube_attrs: dict, times: pd.DatetimeIndex) -> dict:
    return {"carbonmap_dataset_id": cube_attrs.get("carbonmap_dataset_id"),
            "carbonmap_timeseries_format": TS_FORMAT_VERSION,
            "source_build_time": cube_attrs.get("provenance_build_time"),
            "time_coverage_start": str(times[0].date()), "time_coverage_end": str(times[-1].date()),
            "title": f"time-series layout of {cube_attrs.get('carbonmap_dataset_id')}",
            "Conventions": "CF-1.10", TS_STATUS_ATTR: cc.STATUS_COMPLETE}


def build_timeseries(cube_path: Path, progress: ProgressFn | None = None, *, parent: Path | None = None,
                     first_changed_day: int | None = None, workers: int = 2) -> Path:
    """Write the time-series layout of the sealed cube at ``cube_path`` next to it; returns its path.

    ``cube_path`` may be the store symlink (it is resolved to its release) or a staging cube that is
    complete but not yet published (``pipelines.store.seal``'s ``before_publish``: the layout is then a
    sidecar that ``seal`` moves with the release).  The layout is written to ``<layout>.building`` and
    renamed into place, so a reader never sees half of it.

    Incremental append: ``parent`` is the layout of the previous release (or that release's cube).  If it
    matches this cube's grid, sectors and first days, its files are hard-linked (zarr writes by temp file
    and rename, so the parent never changes) and only the days from ``first_changed_day`` (default: the
    first day the parent lacks), rounded down to a 32-day block, and the months/years they touch are
    rewritten.  Otherwise the whole layout is rebuilt.
    """
    cube_path = Path(cube_path)
    if cube_path.is_symlink():
        cube_path = cube_path.resolve()
    cube_attrs = _cube_meta(cube_path)
    grid, times, sectors = _cube_axes(cube_path)
    final = timeseries_path(cube_path)
    tmp = final.with_name(final.name + ".building")
    if tmp.exists():
        shutil.rmtree(tmp)
    first = None
    if parent is not None:
        parent = Path(parent)
        if not (parent / "zarr.json").is_file() or parent.suffix != SUFFIX:
            parent = timeseries_path(parent.resolve() if parent.is_symlink() else parent)
        if parent.exists():
            first = _appendable_from(parent, grid, times, sectors)
    if first is not None:
        if first_changed_day is not None:
            first = min(first, max(0, int(first_changed_day)))
        assert parent is not None  # ``first`` is only set from a parent layout
        shutil.copytree(parent, tmp, copy_function=os.link)
        _extend_in_place(tmp, grid, times, sectors)
    else:
        first = 0
        group = zarr.open_group(tmp, mode="w", zarr_format=3)
        group.attrs.update({TS_STATUS_ATTR: cc.STATUS_BUILDING})
        _create_arrays(group, grid, times, sectors)
    if first < len(times):
        _write_days(cube_path, tmp, grid, times, first, workers, progress)
    zarr.open_group(tmp, mode="r+").attrs.update(_seal_attrs(cube_attrs, times))
    store.replace_dir(tmp, final)
    return final


def _appendable_from(ts_path: Path, grid: cc.Grid, times: pd.DatetimeIndex, sectors: list[str]) -> int | None:
    """Index of the first cube day the layout lacks, or None if the layout does not match the cube."""
    try:
        ts = TimeseriesStore(ts_path)
        if ts.grid != grid or list(ts.sectors) != sectors or len(ts.times) > len(times) or len(ts.times) == 0:
            return None
        if not ts.times.equals(times[: len(ts.times)]):
            return None
        return len(ts.times)
    except (TimeseriesError, OSError, ValueError, KeyError):
        return None


def _extend_in_place(ts_path: Path, grid: cc.Grid, times: pd.DatetimeIndex, sectors: list[str]) -> None:
    """Resize the layout's arrays and coordinates to the cube's (longer) time axis."""
    group = zarr.open_group(ts_path, mode="r+")
    group.attrs[TS_STATUS_ATTR] = cc.STATUS_BUILDING
    months, years = _month_starts(times), _years(times)
    epoch = np.datetime64("1970-01-01", "D")
    ns = len(sectors)
    for name in (cc.EMISSIONS_VAR, SIGMA_VAR):
        store.array(group, name).resize((len(times), ns, grid.nlat, grid.nlon))
        store.array(group, f"{name}_monthly").resize((len(months), ns, grid.nlat, grid.nlon))
        store.array(group, f"{name}_annual").resize((len(years), ns, grid.nlat, grid.nlon))
    for name, values in (("time", (times.values.astype("datetime64[D]") - epoch).astype(np.int32)),
                         ("month", (months.values.astype("datetime64[D]") - epoch).astype(np.int32)),
                         ("year", years),
                         ("month_days", np.bincount(np.searchsorted(months.values,
                                                                    times.to_period("M").start_time.values),
                                                    minlength=len(months)).astype(np.int32)),
                         ("year_days", np.array([(times.year == y).sum() for y in years], dtype=np.int32))):
        del group[name]
        attrs: dict[str, Any] = {}
        arr = group.create_array(name, shape=values.shape, dtype=values.dtype, chunks=(max(1, len(values)),),
                                 dimension_names=("time" if name == "time" else "month" if name.startswith("month")
                                                  else "year",), attributes=attrs, fill_value=None)
        arr[...] = values
    # restore coordinate attributes xarray needs to decode dates
    for name in ("time", "month"):
        group[name].attrs.update({"units": "days since 1970-01-01", "calendar": "proleptic_gregorian"})


@dataclass
class TimeseriesStore:
    """Read access to a sealed time-series layout (numpy, no Dask): blocks by index ranges."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        meta_file = self.path / "zarr.json"
        if not meta_file.is_file():
            raise TimeseriesError(f"no time-series layout at {self.path}; run build_timeseries on its cube")
        attrs = json.loads(meta_file.read_text()).get("attributes", {})
        if attrs.get(TS_STATUS_ATTR) != cc.STATUS_COMPLETE:
            raise TimeseriesError(f"the time-series layout at {self.path} is not complete; rebuild it")
        self.attrs = attrs
        self.group = zarr.open_group(self.path, mode="r")

    @cached_property
    def times(self) -> pd.DatetimeIndex:
        days = np.asarray(store.array(self.group, "time")[...])
        return pd.DatetimeIndex(np.datetime64("1970-01-01", "D") + days.astype("timedelta64[D]"))

    @cached_property
    def months(self) -> pd.DatetimeIndex:
        days = np.asarray(store.array(self.group, "month")[...])
        return pd.DatetimeIndex(np.datetime64("1970-01-01", "D") + days.astype("timedelta64[D]"))

    @cached_property
    def years(self) -> np.ndarray:
        return np.asarray(store.array(self.group, "year")[...], dtype=np.int64)

    @cached_property
    def sectors(self) -> tuple[str, ...]:
        return tuple(str(s) for s in np.asarray(store.array(self.group, "sector")[...]))

    @cached_property
    def grid(self) -> cc.Grid:
        return cc.Grid.from_coords(np.asarray(store.array(self.group, "lat")[...]),
                                   np.asarray(store.array(self.group, "lon")[...]))

    def read(self, variable: str, index: slice, sectors: list[int] | slice, rows: slice, cols: slice) -> np.ndarray:
        """Block of ``variable`` (e.g. ``emissions``, ``sigma_monthly``), dims (time, sector, lat, lon), float32."""
        block = np.asarray(store.array(self.group, variable)[index, :, rows, cols])
        return block if isinstance(sectors, slice) and sectors == slice(None) else np.asarray(block[:, sectors])
