"""The map-read pyramid of a cube: lat/lon overview levels of emission density, per day, month and year.

Why this layout (measured, see bench/RESULTS.md "## tiles"): rendering a Web Mercator tile from a
regular lat/lon grid is separable (output row -> source row from latitude, output column -> source
column from longitude), so a tile is one fancy-index gather from decoded chunks; no reprojection
library and no Dask is needed.  What makes it fast is reading only a few small, already-coarsened
chunks per tile: level ``k`` is the native grid coarsened by ``2**k`` (block sums of mass divided by
block area), so a zoomed-out tile never decodes the native grid, and 256 x 256 inner chunks keep a
tile's footprint to ~1-4 chunks (256 KB each decoded).  One shard per (step, level) keeps the file
count to one object per day per level.  Build cost is dominated by writing level 0 (the native
grid again, as density, plus the total layer): see bench/RESULTS.md.

Layout, inside the cube's directory (so a rebuilt cube, which replaces the directory, never keeps a
stale pyramid; the pyramid also records the cube version it was built from)::

    <cube>/pyramid/                               group, attrs["carbonmap_pyramid"] = metadata
    <cube>/pyramid/{day|month|year}/{k}/emissions    (step, layer, lat, lon) float32 kg km-2 day-1
    <cube>/pyramid/{day|month|year}/{k}/uncertainty  (step, sector, lat, lon) float32 relative 1-sigma

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

Writes are atomic: a new pyramid is written to ``<cube>/pyramid.building`` and renamed; an update
marks the pyramid ``updating`` while it writes (readers then fall back to the cube) and
``complete`` again when done.

Entry points: :func:`build_pyramid` (after a cube is sealed), :func:`update_pyramid` (after days
were rewritten or appended) and :func:`open_pyramid` (the tile server's read side).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import zarr
from zarr.codecs import ZstdCodec

from carbonmap import contract as cc

PYRAMID_DIR = "pyramid"
META_ATTR = "carbonmap_pyramid"
PYRAMID_VERSION = "1"
FREQS: tuple[str, ...] = ("day", "month", "year")
LAYERS: tuple[str, ...] = (cc.TOTAL, *cc.SECTORS)
"""Layers of the ``emissions`` arrays (``total`` first)."""
DENSITY_UNITS = "kg km-2 day-1"
"""Units of the pyramid's ``emissions``: kg CO2 per square kilometre per day."""
TILE_CHUNK = 256
"""Inner chunk edge (cells) of every level."""
MIN_LEVEL_ROWS = 64
"""A coarser level is only made while it keeps at least this many rows."""
ZSTD_LEVEL = 1
DAYS_PER_TASK = 4
"""Days per Dask task (progress and load balance vs task overhead)."""
QUANTILE_MAX_CELLS = 2_000_000
"""Quantiles are computed on the finest level with at most this many cells."""

ProgressFn = Callable[[int, int, str], None]


class PyramidError(RuntimeError):
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


def block_sum(values: np.ndarray, factor: int) -> np.ndarray:
    """Sum ``factor x factor`` blocks over the last two dims, (..., lat, lon) -> (..., lat/f, lon/f)."""
    if factor == 1:
        return values
    *lead, ny, nx = values.shape
    return values.reshape(*lead, ny // factor, factor, nx // factor, factor).sum(axis=(-3, -1))


def area_km2(grid: cc.Grid) -> np.ndarray:
    """Cell areas, km2, dims (lat,)."""
    return grid.cell_area_m2() / 1.0e6


def layer_masses(emissions: np.ndarray) -> np.ndarray:
    """(sector, lat, lon) kg day-1 cell-1 -> (layer, lat, lon) float64 with the total first."""
    em = np.asarray(emissions, dtype=np.float64)
    return np.concatenate([em.sum(axis=0, keepdims=True), em], axis=0)


def level_fields(mass: np.ndarray, sigma: np.ndarray, grids: Sequence[cc.Grid]
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per level: (density (layer, lat, lon) float32 kg km-2 day-1, relative sigma (sector, lat, lon) float32).

    ``mass`` (layer, lat, lon) kg day-1 cell-1 on ``grids[0]``; ``sigma`` (sector, lat, lon) absolute
    1-sigma kg day-1 cell-1.  Level k's mass is the block sum of level k-1's.
    """
    out = []
    m, s = mass, sigma
    for k, g in enumerate(grids):
        if k:
            m, s = block_sum(m, 2), block_sum(s, 2)
        dens = (m / area_km2(g)[None, :, None]).astype(np.float32)
        sec = m[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(sec > 0, s / np.where(sec > 0, sec, 1.0), 0.0).astype(np.float32)
        out.append((dens, rel))
    return out


def percentiles(values: np.ndarray) -> list[float]:
    """Percentiles 0, 1, ..., 100 of the positive finite values (empty list when there are none)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return []
    return [float(q) for q in np.percentile(v, np.arange(101))]


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

@dataclass(frozen=True)
class PyramidMeta:
    """What a pyramid holds; stored as JSON in the pyramid group's attributes."""

    cube_version: str
    resolution: float
    bounds: tuple[float, float, float, float]
    levels: tuple[float, ...]
    """Cell size (degrees) of each level."""
    steps: dict[str, list[str]]
    n_days: dict[str, list[int]]
    """Days averaged in each month/year step (and 1 per day)."""
    quantiles: dict[str, dict[str, list[float]]]
    ranges: dict[str, dict[str, list[float]]]
    status: str = cc.STATUS_COMPLETE

    @property
    def grids(self) -> list[cc.Grid]:
        w, s, e, n = self.bounds
        return [cc.Grid(r, w, s, e, n) for r in self.levels]

    def to_json(self) -> dict[str, Any]:
        return {"version": PYRAMID_VERSION, "cube_version": self.cube_version, "resolution": self.resolution,
                "bounds": list(self.bounds), "levels": list(self.levels), "steps": self.steps,
                "n_days": self.n_days, "quantiles": self.quantiles, "ranges": self.ranges,
                "layers": list(LAYERS), "sectors": list(cc.SECTORS), "units": DENSITY_UNITS,
                "status": self.status}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PyramidMeta:
        return cls(str(d["cube_version"]), float(d["resolution"]), tuple(d["bounds"]), tuple(d["levels"]),
                   {k: list(v) for k, v in d["steps"].items()}, {k: list(v) for k, v in d["n_days"].items()},
                   d.get("quantiles", {}), d.get("ranges", {}), d.get("status", cc.STATUS_COMPLETE))


def cube_version_of(attrs: dict[str, Any]) -> str:
    """The token a pyramid is tied to: the cube's build time (changes whenever the cube is rebuilt)."""
    return str(attrs.get("provenance_build_time") or attrs.get("date_created") or "")


def _read_meta(pyr: Path) -> PyramidMeta | None:
    try:
        attrs = json.loads((pyr / "zarr.json").read_text()).get("attributes", {})
        return PyramidMeta.from_json(attrs[META_ATTR])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_meta(pyr: Path, meta: PyramidMeta) -> None:
    zarr.open_group(pyr, mode="r+", use_consolidated=False).attrs[META_ATTR] = meta.to_json()


# ---- the cube side -------------------------------------------------------------------------

@dataclass(frozen=True)
class _CubeInfo:
    grid: cc.Grid
    times: pd.DatetimeIndex
    version: str


def _cube_info(cube_path: Path) -> _CubeInfo:
    root = Path(cube_path)
    if not (root / "zarr.json").exists():
        raise PyramidError(f"no carbonmap cube at {root} (no zarr.json); build the cube first")
    group = zarr.open_group(root, mode="r")
    attrs = dict(group.attrs)
    if "carbonmap_dataset_id" not in attrs:
        raise PyramidError(f"{root} was not built by carbonmap (no carbonmap_dataset_id)")
    lat, lon = np.asarray(group["lat"][:]), np.asarray(group["lon"][:])
    time_arr = group["time"]
    units = str(time_arr.attrs.get("units", "days since 1970-01-01"))
    origin = pd.Timestamp(units.split("since", 1)[1].strip()) if "since" in units else pd.Timestamp("1970-01-01")
    times = pd.DatetimeIndex(origin + pd.to_timedelta(np.asarray(time_arr[:]), unit="D"))
    return _CubeInfo(cc.Grid.from_coords(lat, lon), times, cube_version_of(attrs))


def _read_cube_day(cube_path: str, t: int) -> tuple[np.ndarray, np.ndarray]:
    """(layer mass kg day-1 cell-1 float64, absolute sigma (sector, ...) float64) of day index t."""
    group = zarr.open_group(cube_path, mode="r")
    em = np.asarray(group[cc.EMISSIONS_VAR][t], dtype=np.float64)
    rel = np.asarray(group[cc.UNCERTAINTY_VAR][t], dtype=np.float64)
    return layer_masses(em), rel * em


# ---- writing -------------------------------------------------------------------------------

def _create_arrays(pyr: Path, grids: Sequence[cc.Grid], steps: dict[str, list[str]]) -> None:
    root = zarr.open_group(pyr, mode="a", use_consolidated=False)
    for freq in FREQS:
        for k, g in enumerate(grids):
            grp = root.require_group(f"{freq}/{k}")
            cy, cx = min(TILE_CHUNK, g.nlat), min(TILE_CHUNK, g.nlon)
            sy, sx = math.ceil(g.nlat / cy) * cy, math.ceil(g.nlon / cx) * cx
            for name, n in ((cc.EMISSIONS_VAR, len(LAYERS)), (cc.UNCERTAINTY_VAR, len(cc.SECTORS))):
                shape = (len(steps[freq]), n, g.nlat, g.nlon)
                if name in grp:
                    arr = grp[name]
                    if arr.shape != shape:
                        arr.resize(shape)
                    continue
                grp.create_array(name, shape=shape, chunks=(1, 1, cy, cx), shards=(1, n, sy, sx),
                                 dtype="float32", fill_value=0.0, compressors=[ZstdCodec(level=ZSTD_LEVEL)],
                                 dimension_names=("step", "layer" if n == len(LAYERS) else "sector", "lat", "lon"),
                                 attributes={"units": DENSITY_UNITS if name == cc.EMISSIONS_VAR
                                             else cc.UNCERTAINTY_UNITS})


def _write_step(pyr: str, freq: str, index: int, fields: list[tuple[np.ndarray, np.ndarray]]) -> None:
    root = zarr.open_group(pyr, mode="r+", use_consolidated=False)
    for k, (dens, rel) in enumerate(fields):
        root[f"{freq}/{k}/{cc.EMISSIONS_VAR}"][index] = dens
        root[f"{freq}/{k}/{cc.UNCERTAINTY_VAR}"][index] = rel


def _day_task(cube_path: str, pyr: str, levels: tuple[float, ...], bounds: tuple[float, ...],
              days: list[int]) -> int:
    """Read days from the cube and write their pyramid levels; returns the number written.

    Runs in a Dask worker or in-process.
    """
    grids = [cc.Grid(r, *bounds) for r in levels]
    for t in days:
        mass, sigma = _read_cube_day(cube_path, t)
        _write_step(pyr, "day", t, level_fields(mass, sigma, grids))
    return len(days)


def _mean_task(pyr: str, n_levels: int, src: str, members: list[int], weights: list[int], dst: str,
               index: int) -> int:
    """Step ``index`` of ``dst`` = weighted mean of steps ``members`` of ``src``, at every level.

    Density is linear, so the mean of coarsened days equals the coarsened mean (exact, no
    re-coarsening); relative sigma is the density-weighted mean (errors fully correlated in time).
    """
    root = zarr.open_group(pyr, mode="r+", use_consolidated=False)
    w = np.asarray(weights, dtype=np.float64)
    for k in range(n_levels):
        em_arr, un_arr = root[f"{src}/{k}/{cc.EMISSIONS_VAR}"], root[f"{src}/{k}/{cc.UNCERTAINTY_VAR}"]
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
        root[f"{dst}/{k}/{cc.EMISSIONS_VAR}"][index] = (dens_sum / w.sum()).astype(np.float32)
        root[f"{dst}/{k}/{cc.UNCERTAINTY_VAR}"][index] = rel.astype(np.float32)
    return 1


def _statistics(pyr: Path, grids: Sequence[cc.Grid], steps: dict[str, list[str]]
                ) -> tuple[dict[str, dict[str, list[float]]], dict[str, dict[str, list[float]]]]:
    """Percentiles and display ranges per variable and layer, from the middle day of a modest level."""
    k = next((i for i, g in enumerate(grids) if g.nlat * g.nlon <= QUANTILE_MAX_CELLS), len(grids) - 1)
    root = zarr.open_group(pyr, mode="r", use_consolidated=False)
    mid = len(steps["day"]) // 2
    em = np.asarray(root[f"day/{k}/{cc.EMISSIONS_VAR}"][mid])
    un = np.asarray(root[f"day/{k}/{cc.UNCERTAINTY_VAR}"][mid])
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


def _write_all(cube_path: Path, pyr: Path, info: _CubeInfo, grids: list[cc.Grid], days: set[int],
               client: Any | None, say: ProgressFn) -> PyramidMeta:
    steps = step_labels(info.times)
    n_days = _n_days(info.times, steps)
    _create_arrays(pyr, grids, steps)
    levels = tuple(g.resolution for g in grids)
    bounds = grids[0].bounds
    todo = sorted(days)
    blocks = [todo[i:i + DAYS_PER_TASK] for i in range(0, len(todo), DAYS_PER_TASK)]
    _run([(_day_task, (str(cube_path), str(pyr), levels, bounds, b)) for b in blocks], client, say, len(todo),
         "pyramid: days", int)
    month_of = [steps["month"].index(label_of("month", t)) for t in info.times]
    months = sorted({month_of[t] for t in days})
    month_tasks = []
    for m in months:
        members = [t for t in range(len(info.times)) if month_of[t] == m]
        month_tasks.append((_mean_task, (str(pyr), len(grids), "day", members, [1] * len(members), "month", m)))
    _run(month_tasks, client, say, len(month_tasks), "pyramid: month means", int)
    years = sorted({steps["year"].index(steps["month"][m][:4]) for m in months})
    year_tasks = []
    for y in years:
        members = [i for i, label in enumerate(steps["month"]) if label[:4] == steps["year"][y]]
        year_tasks.append((_mean_task, (str(pyr), len(grids), "month", members,
                                        [n_days["month"][i] for i in members], "year", y)))
    _run(year_tasks, client, say, len(year_tasks), "pyramid: year means", int)
    quant, ranges = _statistics(pyr, grids, steps)
    return PyramidMeta(info.version, grids[0].resolution, grids[0].bounds, levels, steps, n_days, quant, ranges)


def pyramid_path(cube_path: Path) -> Path:
    """Where the pyramid of a cube lives."""
    return Path(cube_path) / PYRAMID_DIR


def build_pyramid(cube_path: Path, progress: ProgressFn | None = None, client: Any | None = None) -> Path:
    """Build (or rebuild) the whole pyramid of the cube at ``cube_path``; returns the pyramid path.

    Call it on a complete cube: ``store.seal(..., before_publish=build_pyramid)`` (so the pyramid is
    part of the same release) or on a sealed cube.  ``client``: a Dask distributed Client to run
    the tasks on (days in blocks of DAYS_PER_TASK, then month and year means; None: in-process).
    Written to ``pyramid.building`` and renamed, so readers see either no pyramid (and render from
    the cube) or a complete one.
    """
    say = progress or (lambda done, total, msg: None)
    cube_path = Path(cube_path)
    info = _cube_info(cube_path)
    if len(info.times) == 0:
        raise PyramidError(f"the cube at {cube_path} has no days")
    final = pyramid_path(cube_path)
    tmp = final.with_name(PYRAMID_DIR + ".building")
    if tmp.exists():
        shutil.rmtree(tmp)
    zarr.open_group(tmp, mode="w", zarr_format=3)
    grids = level_grids(info.grid)
    meta = _write_all(cube_path, tmp, info, grids, set(range(len(info.times))), client, say)
    _write_meta(tmp, meta)
    zarr.consolidate_metadata(str(tmp))
    old = final.with_name(PYRAMID_DIR + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        shutil.rmtree(old)
    return final


def update_pyramid(cube_path: Path, days: Iterable[dt.date | str], progress: ProgressFn | None = None,
                   client: Any | None = None) -> Path:
    """Rewrite the pyramid for ``days`` (rewritten or appended to the cube) and their months and years.

    Grows the step axes when the cube gained days.  Falls back to :func:`build_pyramid` when there
    is no pyramid yet or the grid changed.  While it writes, the pyramid is marked ``updating`` so
    the tile server renders from the cube instead.
    """
    say = progress or (lambda done, total, msg: None)
    cube_path = Path(cube_path)
    info = _cube_info(cube_path)
    pyr = pyramid_path(cube_path)
    meta = _read_meta(pyr)
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
        return pyr
    updating = PyramidMeta(meta.cube_version, meta.resolution, meta.bounds, meta.levels, meta.steps, meta.n_days,
                           meta.quantiles, meta.ranges, cc.STATUS_BUILDING)
    _write_meta(pyr, updating)
    new = _write_all(cube_path, pyr, info, grids, todo, client, say)
    _write_meta(pyr, new)
    zarr.consolidate_metadata(str(pyr))
    return pyr


# ---- reading (the tile server's side) ------------------------------------------------------

class Pyramid:
    """A complete pyramid opened for reading (plain zarr, no Dask): metadata and array access."""

    def __init__(self, path: Path, meta: PyramidMeta) -> None:
        self.path = path
        self.meta = meta
        self.grids = meta.grids
        self._root = zarr.open_group(path, mode="r", use_consolidated=True)
        self._arrays: dict[tuple[str, int, str], Any] = {}
        self._index = {freq: {label: i for i, label in enumerate(labels)} for freq, labels in meta.steps.items()}

    def array(self, freq: str, level: int, variable: str) -> Any:
        key = (freq, level, variable)
        arr = self._arrays.get(key)
        if arr is None:
            arr = self._arrays[key] = self._root[f"{freq}/{level}/{variable}"]
        return arr

    def step_index(self, freq: str, label: str) -> int | None:
        return self._index.get(freq, {}).get(label)

    @staticmethod
    def layer_index(variable: str, layer: str) -> int:
        return (LAYERS if variable == cc.EMISSIONS_VAR else cc.SECTORS).index(layer)

    def chunk_shape(self, level: int) -> tuple[int, int]:
        g = self.grids[level]
        return min(TILE_CHUNK, g.nlat), min(TILE_CHUNK, g.nlon)

    def read(self, freq: str, level: int, variable: str, step: int, layer: int,
             rows: slice, cols: slice) -> np.ndarray:
        """A window of one level, dims (lat, lon), float32 (density or relative sigma)."""
        return np.asarray(self.array(freq, level, variable)[step, layer, rows, cols])


def open_pyramid(cube_path: Path, cube_version: str) -> Pyramid | None:
    """The cube's pyramid if it is complete and was built from this cube version, else None."""
    pyr = pyramid_path(cube_path)
    meta = _read_meta(pyr)
    if meta is None or meta.status != cc.STATUS_COMPLETE or meta.cube_version != cube_version:
        return None
    return Pyramid(pyr, meta)
