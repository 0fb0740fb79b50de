"""The map-read pyramid of a cube, write side: lat/lon overview levels of emission density, per day, month and year.

The layout's names, its metadata and the reader (:class:`Pyramid`, :func:`open_pyramid`) are
:mod:`carbonmap.storage.pyramid`, re-exported here for the pipelines' own use.

Why this layout (measured, see bench/RESULTS.md "## tiles"): rendering a Web Mercator tile from a
regular lat/lon grid is separable (output row -> source row from latitude, output column -> source
column from longitude), so a tile is one fancy-index gather from decoded chunks; no reprojection
library and no Dask is needed.  What makes it fast is reading only a few small, already-coarsened
chunks per tile: level ``k`` is the native grid coarsened by ``2**k`` (block sums of mass divided by
block area), so a zoomed-out tile never decodes the native grid, and 256 x 256 inner chunks keep a
tile's footprint to ~1-4 chunks (256 KB each decoded).  One shard per (step, level) keeps the file
count to one object per day per level.

**Daily level 0 is not copied**: it is the cube's own ``emissions``/``uncertainty`` arrays (45 degree
inner chunks), read by :meth:`Pyramid.read` and turned into density at read time (divide each row by
its cell area; ``total`` = sum of the 7 sectors).  Re-storing the native grid as density dominated
the build (measured 1.2 s of 3.3 s per day at 0.25 degree, 20-40 s per day at 0.1 degree under load);
the pyramid stores daily levels ``k >= 1`` only, computed from one read of each cube day by
vectorised 2 x 2 block sums.  Month and year steps are few, so they keep every level including 0.

Layout, inside the cube's directory (so a rebuilt cube, which replaces the directory, never keeps a
stale pyramid; the pyramid also records the cube version it was built from)::

    <cube>/pyramid/                               group, attrs["carbonmap_pyramid"] = metadata
    <cube>/pyramid/day/{k>=1}/emissions             (step, layer, lat, lon) float32 kg km-2 day-1
    <cube>/pyramid/{month|year}/{k>=0}/emissions    (step, layer, lat, lon) float32 kg km-2 day-1
    <cube>/pyramid/{freq}/{k}/uncertainty           (step, sector, lat, lon) float32 relative 1-sigma

- ``layer`` = ``("total", *SECTORS)``: the total is precomputed so a total tile is one gather.
- values are **emission density**, kg CO2 km-2 day-1 (mass / cell area on the sphere), so colours
  do not change with zoom; sum(density x area) at every level equals the cube's daily total.
- ``month``/``year`` steps are means over the cube's days in that month/year (partial months at the
  cube's edges average the days present; ``n_days`` per step is in the metadata).
- uncertainty is aggregated assuming errors fully correlated inside a block and across days (they
  all come from the same national totals and proxies): relative sigma = sum(sigma) / sum(mass).
- levels: ``k = 0, 1, ...`` while the grid halves evenly and keeps >= MIN_LEVEL_ROWS rows
  (0.1 deg: 0.1, 0.2, 0.4, 0.8 deg; 0.25 deg: 0.25, 0.5, 1, 2 deg).
- ``quantiles`` (percentiles 0..100 of positive values of a middle step, per variable and layer)
  and ``ranges`` (decades around the 1st..99.9th percentile) are stored for the quantile colour
  scale and default display ranges, so a tile request never scans data for them.

Build work: one Dask task per calendar month of the cube (a block of days): it reads each day of
the month from the cube once, writes that day's coarse levels (whole shards) and accumulates the
month's level-0 sums, then writes the month step at every level.  Year steps are then the
day-weighted means of the stored month steps.

Writes are atomic: a new pyramid is written to ``<cube>/pyramid.building`` and renamed; an update
marks the pyramid ``updating`` while it writes (readers then fall back to the cube) and
``complete`` again when done.

Updates (``carbonmap update``): the staged release holds hard links to the parent's pyramid
files, and :func:`update_pyramid` rewrites only the daily steps of the appended/revised days, the
month steps they fall in (re-read from the cube's days of that month, accumulated in the same
order as a build, so the result is bit-identical to a full rebuild), the year steps of those
months and, when the middle day moved or changed, the display statistics.  zarr's local store
writes every object by temp file + rename, so each rewritten shard or ``zarr.json`` gets a new
inode in the new release and the parent's files are never altered.  Growing the step axes
rewrites the arrays' own ``zarr.json``; every task opens arrays from those (never a consolidated
copy), and the pyramid's and, if it lists the pyramid, the cube's consolidated metadata are
rewritten afterwards, so no reader sees the old step count (the BoundsCheckError of stale
consolidated shapes).

Entry points: :func:`build_pyramid` (after a cube is sealed), :func:`update_pyramid` (after days
were rewritten or appended) and :func:`open_pyramid` (the tile server's read side).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import zarr
from zarr.codecs import ZstdCodec

from carbonmap import contract as cc
from carbonmap.errors import StorageError
from carbonmap.progress import ProgressFn, no_progress
from carbonmap.storage import shards
from carbonmap.storage.location import Location, location
from carbonmap.storage.pyramid import (
    DAY_MIN_LEVEL,
    DENSITY_UNITS,
    FREQS,
    LAYERS,
    META_ATTR,
    PYRAMID_DIR,
    QUANTILE_MAX_CELLS,
    TILE_CHUNK,
    PyramidMeta,
    area_km2,
    cube_version_of,
    percentiles,
    pyramid_location,
    read_meta,
)
from pipelines import store

MIN_LEVEL_ROWS = 64
"""A coarser level is only made while it keeps at least this many rows."""
ZSTD_LEVEL = 1
class PyramidError(StorageError):
    """A pyramid cannot be built or updated (cube missing or unfinished, bad days)."""


# ---- pure functions (arrays in, arrays out) ------------------------------------------------

def level_grids(grid: cc.Grid) -> list[cc.Grid]:
    """The grids of levels 0, 1, ...: ``grid`` coarsened by 1, 2, 4, ... while it halves evenly."""
    out = [grid]
    while True:
        g = out[-1]
        if g.nlat % 2 or g.nlon % 2 or g.nlat // 2 < MIN_LEVEL_ROWS:
            return out
        out.append(g.coarsen(2))


def block_sum(values: np.ndarray, factor: int, dtype: Any = None) -> np.ndarray:
    """Sum ``factor x factor`` blocks over the last two dims, (..., lat, lon) -> (..., lat/f, lon/f).

    Vectorised: for ``factor == 2`` two strided pairwise adds (rows, then columns; ~4x faster than
    numpy's reduction over the reshaped axes, measured on (7, 720, 1440) float32), else one
    reshape-sum.  ``dtype`` is the accumulator and output dtype (default: the input's).
    """
    if factor == 1:
        return values if dtype is None else values.astype(dtype, copy=False)
    *lead, ny, nx = values.shape
    if factor == 2:
        rows = values[..., 0::2, :].astype(dtype or values.dtype)
        rows += values[..., 1::2, :]
        return rows[..., 0::2] + rows[..., 1::2]
    return values.reshape(*lead, ny // factor, factor, nx // factor, factor).sum(axis=(-3, -1), dtype=dtype)


def layer_masses(emissions: np.ndarray) -> np.ndarray:
    """(sector, lat, lon) kg day-1 cell-1 -> (layer, lat, lon) float64 with the total first."""
    em = np.asarray(emissions, dtype=np.float64)
    return np.concatenate([em.sum(axis=0, keepdims=True), em], axis=0)


def coarsen_masses(mass: np.ndarray, sigma: np.ndarray, n_levels: int
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Levels 0..n_levels-1 of (mass, absolute sigma), both (sector, lat, lon) kg day-1 cell-1.

    Level 0 is the input as given; level k is the 2 x 2 block sum of level k-1, accumulated in
    float64 (so float32 cube days can be passed in without a float64 copy of the native grid).
    """
    out = [(mass, sigma)]
    for _ in range(1, n_levels):
        m, s = out[-1]
        out.append((block_sum(m, 2, np.float64), block_sum(s, 2, np.float64)))
    return out


def density_fields(mass: np.ndarray, sigma: np.ndarray, grid: cc.Grid) -> tuple[np.ndarray, np.ndarray]:
    """(density (layer, lat, lon) float32 kg km-2 day-1 with the total first,
    relative sigma (sector, lat, lon) float32) of sector ``mass`` and absolute ``sigma`` (sector, lat, lon),
    kg day-1 cell-1, on ``grid``."""
    ns, ny, nx = mass.shape
    inv_area = (1.0 / area_km2(grid))[:, None]
    dens = np.empty((ns + 1, ny, nx), np.float32)
    np.multiply(mass.sum(axis=0, dtype=np.float64), inv_area, out=dens[0], casting="unsafe")
    np.multiply(mass, inv_area, out=dens[1:], casting="unsafe")
    rel = np.zeros((ns, ny, nx), np.float32)
    np.divide(sigma, mass, out=rel, where=mass > 0, casting="unsafe")
    return dens, rel


def level_fields(mass: np.ndarray, sigma: np.ndarray, grids: Sequence[cc.Grid], first: int = 0
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per level ``first..len(grids)-1``: (density (layer, lat, lon) float32 kg km-2 day-1,
    relative sigma (sector, lat, lon) float32).

    ``mass`` and ``sigma`` (sector, lat, lon) kg day-1 cell-1 (mass and absolute 1-sigma) on ``grids[0]``.
    """
    levels = coarsen_masses(mass, sigma, len(grids))
    return [density_fields(m, s, grids[k]) for k, (m, s) in enumerate(levels) if k >= first]


def display_range(pcts: Sequence[float]) -> list[float]:
    """Whole decades around the 1st..99.9th percentile (the default log range), [1, 1e6] if empty."""
    if not pcts:
        return [1.0, 1.0e6]
    lo = max(pcts[1], 1e-30)
    hi = max(pcts[-1] if len(pcts) < 100 else pcts[99] + 0.9 * (pcts[100] - pcts[99]), lo)
    vmin = 10.0 ** math.floor(math.log10(lo))
    vmax = 10.0 ** math.ceil(math.log10(hi))
    return [vmin, vmax if vmax > vmin else vmin * 10.0]


def step_labels(times: pd.DatetimeIndex) -> dict[str, list[str]]:
    """Step labels per frequency: days ``YYYY-MM-DD``, months ``YYYY-MM``, years ``YYYY``."""
    return {"day": [f"{t:%Y-%m-%d}" for t in times],
            "month": list(dict.fromkeys(f"{t:%Y-%m}" for t in times)),
            "year": list(dict.fromkeys(f"{t:%Y}" for t in times))}


def label_of(freq: str, day: pd.Timestamp) -> str:
    return {"day": f"{day:%Y-%m-%d}", "month": f"{day:%Y-%m}", "year": f"{day:%Y}"}[freq]


# ---- metadata ------------------------------------------------------------------------------

def _write_meta(pyr: Location, meta: PyramidMeta) -> None:
    zarr.open_group(pyr.zarr_store(), mode="r+", use_consolidated=False).attrs[META_ATTR] = meta.to_json()


# ---- the cube side -------------------------------------------------------------------------

@dataclass(frozen=True)
class _CubeInfo:
    grid: cc.Grid
    times: pd.DatetimeIndex
    version: str


def _cube_info(cube: Location) -> _CubeInfo:
    root = cube
    if not root.exists("zarr.json"):
        raise PyramidError(f"no carbonmap cube at {root} (no zarr.json); build the cube first")
    group = zarr.open_group(root.zarr_store(read_only=True), mode="r")
    attrs = dict(group.attrs)
    if "carbonmap_dataset_id" not in attrs:
        raise PyramidError(f"{root} was not built by carbonmap (no carbonmap_dataset_id)")
    lat, lon = np.asarray(store.array(group, "lat")[:]), np.asarray(store.array(group, "lon")[:])
    time_arr = store.array(group, "time")
    units = str(time_arr.attrs.get("units", "days since 1970-01-01"))
    origin = pd.Timestamp(units.split("since", 1)[1].strip()) if "since" in units else pd.Timestamp("1970-01-01")
    times = pd.DatetimeIndex(origin + pd.to_timedelta(np.asarray(time_arr[:]), unit="D"))
    return _CubeInfo(cc.Grid.from_coords(lat, lon), times, cube_version_of(attrs))


def read_cube_day(group: zarr.Group, t: int) -> tuple[np.ndarray, np.ndarray]:
    """(mass, absolute sigma) of day index ``t``, both (sector, lat, lon) float32 kg day-1 cell-1.

    A local cube is read with :func:`carbonmap.storage.shards.read_region` (a third of zarr's time per day)."""
    em, rel = (np.asarray(shards.ShardedArray(store.array(group, name)).read_step(t), dtype=np.float32)
               for name in (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR))
    return em, np.multiply(em, rel, out=rel)


# ---- writing -------------------------------------------------------------------------------

def _stored_levels(freq: str, n_levels: int) -> range:
    """Levels stored in the pyramid for ``freq`` (daily level 0 is the cube itself)."""
    return range(DAY_MIN_LEVEL if freq == "day" else 0, n_levels)


def _create_arrays(pyr: Location, grids: Sequence[cc.Grid], steps: dict[str, list[str]]) -> None:
    root = zarr.open_group(pyr.zarr_store(), mode="a", use_consolidated=False)
    for freq in FREQS:
        for k in _stored_levels(freq, len(grids)):
            g = grids[k]
            grp = root.require_group(f"{freq}/{k}")
            cy, cx = min(TILE_CHUNK, g.nlat), min(TILE_CHUNK, g.nlon)
            sy, sx = math.ceil(g.nlat / cy) * cy, math.ceil(g.nlon / cx) * cx
            for name, n in ((cc.EMISSIONS_VAR, len(LAYERS)), (cc.UNCERTAINTY_VAR, len(cc.SECTORS))):
                shape = (len(steps[freq]), n, g.nlat, g.nlon)
                if name in grp:
                    arr = store.array(grp, name)
                    if arr.shape != shape:
                        arr.resize(shape)
                    continue
                grp.create_array(name, shape=shape, chunks=(1, 1, cy, cx), shards=(1, n, sy, sx),
                                 dtype="float32", fill_value=0.0, compressors=[ZstdCodec(level=ZSTD_LEVEL)],
                                 dimension_names=("step", "layer" if n == len(LAYERS) else "sector", "lat", "lon"),
                                 attributes={"units": DENSITY_UNITS if name == cc.EMISSIONS_VAR
                                             else cc.UNCERTAINTY_UNITS})


def _open_level(pyr: str, freq: str, k: int, variable: str) -> zarr.Array:
    """One pyramid array opened from its own metadata (never the consolidated copy, which an
    update may have made stale by growing the step axis)."""
    return zarr.open_array(store=location(pyr).child(f"{freq}/{k}/{variable}").zarr_store(), mode="r+",
                           zarr_format=3)


def _write_step(pyr: str, freq: str, index: int, fields: Sequence[tuple[np.ndarray, np.ndarray]],
                first: int, layouts: dict[tuple[str, int, str], shards.ShardedArray] | None = None) -> None:
    """Write step ``index`` of ``freq`` at levels first, first+1, ...: one whole shard per array.

    Local pyramids are written by :func:`carbonmap.storage.shards.write_step` (zarr's bytes, a third of its time);
    ``layouts`` caches each opened array across the days of a task."""
    cache = {} if layouts is None else layouts
    for k, (dens, rel) in enumerate(fields, start=first):
        for name, values in ((cc.EMISSIONS_VAR, dens), (cc.UNCERTAINTY_VAR, rel)):
            if (freq, k, name) not in cache:
                cache[(freq, k, name)] = shards.ShardedArray(_open_level(pyr, freq, k, name))
            cache[(freq, k, name)].write_step(index, values)


def _month_task(cube_path: str, pyr: str, levels: tuple[float, ...], bounds: tuple[float, ...],
                month: int, members: list[int], write: list[int]) -> int:
    """One calendar month (a block of days): read each day of ``members`` from the cube once, write
    the coarse daily levels of the days in ``write`` and the month step ``month`` (mean of the
    members) at every level.  Returns the number of days written.  Runs in a Dask worker or in-process.
    """
    grids = [cc.Grid(r, *bounds) for r in levels]
    cube = zarr.open_group(location(cube_path).zarr_store(read_only=True), mode="r")
    todo = set(write)
    layouts: dict[tuple[str, int, str], shards.ShardedArray] = {}
    acc_mass: np.ndarray | None = None
    acc_sigma: np.ndarray | None = None
    for t in members:
        mass, sigma = read_cube_day(cube, t)
        if t in todo and len(grids) > DAY_MIN_LEVEL:
            _write_step(pyr, "day", t, level_fields(mass, sigma, grids, first=DAY_MIN_LEVEL), DAY_MIN_LEVEL, layouts)
        if acc_mass is None or acc_sigma is None:
            acc_mass, acc_sigma = mass.astype(np.float64), sigma.astype(np.float64)
        else:
            acc_mass += mass
            acc_sigma += sigma
        del mass, sigma
    assert acc_mass is not None and acc_sigma is not None
    acc_mass /= len(members)
    acc_sigma /= len(members)
    _write_step(pyr, "month", month, level_fields(acc_mass, acc_sigma, grids), 0, layouts)
    return len(todo)


def _mean_task(pyr: str, n_levels: int, src: str, members: list[int], weights: list[int], dst: str,
               index: int) -> int:
    """Step ``index`` of ``dst`` = weighted mean of steps ``members`` of ``src``, at every level.

    Density is linear, so the mean of coarsened days equals the coarsened mean (exact, no
    re-coarsening); relative sigma is the density-weighted mean (errors fully correlated in time).
    """
    w = np.asarray(weights, dtype=np.float64)
    for k in range(n_levels):
        em_arr, un_arr = _open_level(pyr, src, k, cc.EMISSIONS_VAR), _open_level(pyr, src, k, cc.UNCERTAINTY_VAR)
        dens_sum: np.ndarray | None = None
        sig_sum: np.ndarray | None = None
        for m, wm in zip(members, w, strict=True):
            dens = np.asarray(em_arr[m], dtype=np.float64) * wm
            sig = np.asarray(un_arr[m], dtype=np.float64) * dens[1:]
            dens_sum = dens if dens_sum is None else dens_sum + dens
            sig_sum = sig if sig_sum is None else sig_sum + sig
        assert dens_sum is not None and sig_sum is not None
        sec = dens_sum[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(sec > 0, sig_sum / np.where(sec > 0, sec, 1.0), 0.0)
        _open_level(pyr, dst, k, cc.EMISSIONS_VAR)[index] = (dens_sum / w.sum()).astype(np.float32)
        _open_level(pyr, dst, k, cc.UNCERTAINTY_VAR)[index] = rel.astype(np.float32)
    return 1


def _statistics(cube_path: Location, grids: Sequence[cc.Grid], steps: dict[str, list[str]]
                ) -> tuple[dict[str, dict[str, list[float]]], dict[str, dict[str, list[float]]]]:
    """Percentiles and display ranges per variable and layer, from the cube's middle day on the
    finest level with at most QUANTILE_MAX_CELLS cells."""
    k = next((i for i, g in enumerate(grids) if g.nlat * g.nlon <= QUANTILE_MAX_CELLS), len(grids) - 1)
    mid = len(steps["day"]) // 2
    mass, sigma = read_cube_day(zarr.open_group(cube_path.zarr_store(read_only=True), mode="r"), mid)
    em, un = level_fields(mass, sigma, grids[:k + 1], first=k)[0]
    quant: dict[str, dict[str, list[float]]] = {cc.EMISSIONS_VAR: {}, cc.UNCERTAINTY_VAR: {}}
    ranges: dict[str, dict[str, list[float]]] = {cc.EMISSIONS_VAR: {}, cc.UNCERTAINTY_VAR: {}}
    for i, name in enumerate(LAYERS):
        quant[cc.EMISSIONS_VAR][name] = p = percentiles(em[i])
        ranges[cc.EMISSIONS_VAR][name] = display_range(p)
    for i, name in enumerate(cc.SECTORS):
        quant[cc.UNCERTAINTY_VAR][name] = percentiles(un[i])
        ranges[cc.UNCERTAINTY_VAR][name] = [0.0, 1.0]
    return quant, ranges


def _n_days(times: pd.DatetimeIndex, steps: dict[str, list[str]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {"day": [1] * len(times)}
    for freq in ("month", "year"):
        counts = pd.Series(1, index=[label_of(freq, t) for t in times]).groupby(level=0).sum()
        out[freq] = [int(counts[label]) for label in steps[freq]]
    return out


def _run(tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]], client: Any | None, say: ProgressFn,
         total: int, message: str, count: Callable[[Any], int]) -> None:
    """Run tasks on the Dask client (if any) or in-process, reporting ``count(result)`` progress."""
    done = 0
    say(0, total, message)
    if client is None:
        for fn, args in tasks:
            done += count(fn(*args))
            say(done, total, message)
        return
    from distributed import as_completed

    futures = [client.submit(fn, *args, pure=False) for fn, args in tasks]
    for fut in as_completed(futures):
        done += count(fut.result())
        say(done, total, message)


def _write_all(cube_path: Location, pyr: Location, info: _CubeInfo, grids: list[cc.Grid], days: set[int],
               client: Any | None, say: ProgressFn, previous: PyramidMeta | None = None) -> PyramidMeta:
    """Write the daily levels of ``days``, their months and years; returns the new metadata.

    ``previous``: the metadata the pyramid had before an update; its statistics are kept when
    they were computed from the same middle day and that day is not in ``days``."""
    steps = step_labels(info.times)
    n_days = _n_days(info.times, steps)
    _create_arrays(pyr, grids, steps)
    levels = tuple(g.resolution for g in grids)
    bounds = grids[0].bounds
    month_of = [steps["month"].index(label_of("month", t)) for t in info.times]
    months = sorted({month_of[t] for t in days})
    month_tasks = []
    for m in months:
        members = [t for t in range(len(info.times)) if month_of[t] == m]
        month_tasks.append((_month_task, (str(cube_path), str(pyr), levels, bounds, m, members,
                                          [t for t in members if t in days])))
    month_tasks.sort(key=lambda task: -len(task[1][5]))      # longest months first: better balance
    _run(month_tasks, client, say, len(days), "pyramid: days", int)
    years = sorted({steps["year"].index(steps["month"][m][:4]) for m in months})
    year_tasks = []
    for y in years:
        members = [i for i, label in enumerate(steps["month"]) if label[:4] == steps["year"][y]]
        year_tasks.append((_mean_task, (str(pyr), len(grids), "month", members,
                                        [n_days["month"][i] for i in members], "year", y)))
    _run(year_tasks, client, say, len(year_tasks), "pyramid: year means", int)
    mid = len(info.times) // 2
    if previous is not None and previous.quantiles and len(previous.steps["day"]) // 2 == mid \
            and mid not in days:
        quant, ranges = previous.quantiles, previous.ranges     # same middle day, unchanged
    else:
        quant, ranges = _statistics(cube_path, grids, steps)
    return PyramidMeta(info.version, grids[0].resolution, grids[0].bounds, levels, steps, n_days, quant, ranges)


def build_pyramid(cube_path: Path | str | Location, progress: ProgressFn | None = None,
                  client: Any | None = None) -> Path | str:
    """Build (or rebuild) the whole pyramid of the cube at ``cube_path``; returns the pyramid path.

    Call it on a complete cube: ``store.seal(..., before_publish=build_pyramid)`` (so the pyramid is
    part of the same release) or on a sealed cube.  ``client``: a Dask distributed Client to run
    the tasks on (one task per calendar month of days, then one per year; None: in-process).
    Written to ``pyramid.building`` and renamed (local stores), so readers see either no pyramid (and render
    from the cube) or a complete one; on object storage written in place inside the unpublished release
    (:meth:`carbonmap.storage.location.Location.staged`).  Returns the pyramid's path (the URL on object storage).
    """
    say = progress or no_progress
    cube = location(cube_path)
    info = _cube_info(cube)
    if len(info.times) == 0:
        raise PyramidError(f"the cube at {cube} has no days")
    final = pyramid_location(cube)
    with final.staged() as tmp:
        zarr.open_group(tmp.zarr_store(), mode="w", zarr_format=3)
        grids = level_grids(info.grid)
        meta = _write_all(cube, tmp, info, grids, set(range(len(info.times))), client, say)
        _write_meta(tmp, meta)
        zarr.consolidate_metadata(tmp.zarr_store())
    _refresh_cube_consolidated(cube)
    return final.target


def _refresh_cube_consolidated(cube: Location) -> None:
    """Re-consolidate the cube's metadata if its consolidated copy lists the pyramid.

    A release staged by ``carbonmap update`` is sealed (consolidated) while it still holds the
    parent's hard-linked pyramid, so the cube's ``zarr.json`` lists the parent's step counts; after
    the pyramid grows, reading a pyramid array through the cube group would raise
    BoundsCheckError.  The cube's ``zarr.json`` is rewritten by temp file + rename (new inode)."""
    try:
        doc = json.loads(cube.read_text("zarr.json") or "{}")
    except (OSError, ValueError):
        return
    listed = (doc.get("consolidated_metadata") or {}).get("metadata") or {}
    if any(key == PYRAMID_DIR or key.startswith(PYRAMID_DIR + "/") for key in listed):
        zarr.consolidate_metadata(cube.zarr_store())


def update_pyramid(cube_path: Path | str | Location, days: Iterable[dt.date | str], progress: ProgressFn | None = None,
                   client: Any | None = None) -> Path | str:
    """Rewrite the pyramid for ``days`` (rewritten or appended to the cube) and their months and years.

    Days the cube gained since the pyramid was written are always included; the step axes grow.
    Only the daily steps of those days, their month steps, their year steps and (if the middle day
    moved or changed) the display statistics are rewritten; the result is identical to
    :func:`build_pyramid` of the same cube.  Every write is a new file (temp file + rename), so a
    pyramid hard-linked from a parent release is updated without altering the parent's files.
    Falls back to :func:`build_pyramid` when there is no pyramid yet, the grid changed or the
    cube's days were not appended.  While it writes, the pyramid is marked ``updating`` so the
    tile server renders from the cube instead.
    """
    say = progress or no_progress
    cube_path = location(cube_path)
    info = _cube_info(cube_path)
    pyr = pyramid_location(cube_path)
    meta = read_meta(pyr, current_only=True)
    grids = level_grids(info.grid)
    if meta is None or tuple(meta.levels) != tuple(g.resolution for g in grids) or \
            tuple(meta.bounds) != info.grid.bounds:
        return build_pyramid(cube_path, progress, client)
    wanted = []
    for d in days:
        ts = pd.Timestamp(d)
        pos = info.times.get_indexer([ts])[0]
        if pos < 0:
            raise PyramidError(f"day {ts:%Y-%m-%d} is not in the cube at {cube_path} "
                               f"({info.times[0]:%Y-%m-%d} to {info.times[-1]:%Y-%m-%d})")
        wanted.append(int(pos))
    if meta.steps["day"] != step_labels(info.times)["day"][: len(meta.steps["day"])]:
        return build_pyramid(cube_path, progress, client)  # days were not appended but changed order
    new_days = set(range(len(meta.steps["day"]), len(info.times)))
    todo = set(wanted) | new_days
    if not todo:
        if meta.cube_version != info.version or meta.status != cc.STATUS_COMPLETE:
            _write_meta(pyr, dataclasses.replace(meta, cube_version=info.version, status=cc.STATUS_COMPLETE))
            zarr.consolidate_metadata(pyr.zarr_store())
            _refresh_cube_consolidated(cube_path)
        return pyr.target
    _write_meta(pyr, dataclasses.replace(meta, status=cc.STATUS_BUILDING))
    new = _write_all(cube_path, pyr, info, grids, todo, client, say, previous=meta)
    _write_meta(pyr, new)
    zarr.consolidate_metadata(pyr.zarr_store())
    _refresh_cube_consolidated(cube_path)
    return pyr.target


# ---- reading (the tile server's side) ------------------------------------------------------
