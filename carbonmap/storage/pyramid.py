"""The map pyramid of a cube, read side: its layout, metadata and :class:`Pyramid` reader.

Inside a cube's directory, ``pyramid/`` holds lat/lon overview levels of emission **density** (kg CO2 km-2
day-1), per day, month and year (see ``pipelines/pyramid.py``, which writes it, for the layout and the maths):
``pyramid/day/{k>=1}/emissions`` (step, layer, lat, lon) float32 with layers ``total`` + the 7 sectors,
``pyramid/{month|year}/{k>=0}/...`` and ``.../uncertainty`` (step, sector, lat, lon) relative 1-sigma; daily
level 0 is the cube's own arrays, turned into density on read.  The metadata (levels, steps, days per step,
quantiles and default display ranges) is JSON in the pyramid group's attributes.  The tile server and the
downloads read through this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from carbonmap import contract as cc
from carbonmap.storage import shards
from carbonmap.storage.location import Location, location

PYRAMID_DIR = "pyramid"
META_ATTR = "carbonmap_pyramid"
PYRAMID_VERSION = "2"
"""2: daily level 0 is read from the cube, not stored (1 stored it)."""
FREQS: tuple[str, ...] = ("day", "month", "year")
LAYERS: tuple[str, ...] = (cc.TOTAL, *cc.SECTORS)
"""Layers of the ``emissions`` arrays (``total`` first)."""
DENSITY_UNITS = "kg km-2 day-1"
"""Units of the pyramid's ``emissions``: kg CO2 per square kilometre per day."""
TILE_CHUNK = 256
"""Inner chunk edge (cells) of every level."""
DAY_MIN_LEVEL = 1
"""The finest daily level stored in the pyramid (daily level 0 is the cube itself)."""
QUANTILE_MAX_CELLS = 2_000_000
"""Quantiles are computed on the finest level with at most this many cells."""


def area_km2(grid: cc.Grid) -> np.ndarray:
    """Cell areas, km2, dims (lat,)."""
    return grid.cell_area_m2() / 1.0e6


def percentiles(values: np.ndarray) -> list[float]:
    """Percentiles 0, 1, ..., 100 of the positive finite values (empty list when there are none)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return []
    return [float(q) for q in np.percentile(v, np.arange(101))]


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


def read_meta(pyr: Location | Path | str, current_only: bool = False) -> PyramidMeta | None:
    """The stored metadata (None if missing or unreadable; also if ``current_only`` and it was
    written by another PYRAMID_VERSION)."""
    try:
        text = location(pyr).read_text("zarr.json")
        if text is None:
            return None
        d = json.loads(text).get("attributes", {})[META_ATTR]
        if current_only and str(d.get("version")) != PYRAMID_VERSION:
            return None
        return PyramidMeta.from_json(d)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pyramid_location(cube: Location | Path | str) -> Location:
    """Where the pyramid of a cube lives (inside the cube: ``<cube>/pyramid``), local or on object storage."""
    return location(cube).child(PYRAMID_DIR)


def pyramid_path(cube_path: Path | str) -> Path:
    """Where the pyramid of a local cube lives (a directory; :func:`pyramid_location` for any store)."""
    return Path(cube_path) / PYRAMID_DIR


class Pyramid:
    """A complete pyramid opened for reading (plain zarr, no Dask): metadata and array access.

    Daily level 0 is served from the cube's own arrays (the directory holding the pyramid), turned
    into density on read; every other (freq, level) from the pyramid's arrays.
    """

    def __init__(self, path: Location, cube: Location, meta: PyramidMeta) -> None:
        self.path = path
        self.meta = meta
        self.grids = meta.grids
        self._root = zarr.open_group(path.zarr_store(read_only=True), mode="r", use_consolidated=True)
        self._cube = zarr.open_group(cube.zarr_store(read_only=True), mode="r")
        self._inv_area0 = (1.0 / area_km2(self.grids[0])).astype(np.float32)
        self._arrays: dict[tuple[str, int, str], Any] = {}
        self._sharded: dict[tuple[str, int, str], shards.ShardedArray] = {}
        self._index = {freq: {label: i for i, label in enumerate(labels)} for freq, labels in meta.steps.items()}

    @staticmethod
    def from_cube(freq: str, level: int) -> bool:
        """True if (freq, level) is read from the cube rather than stored in the pyramid."""
        return freq == "day" and level < DAY_MIN_LEVEL

    def array(self, freq: str, level: int, variable: str) -> Any:
        """The stored zarr array of (freq, level, variable), or for daily level 0 the cube's array
        (units of the cube: kg day-1 cell-1, dims (time, sector, lat, lon))."""
        key = (freq, level, variable)
        arr = self._arrays.get(key)
        if arr is None:
            arr = self._arrays[key] = (self._cube[variable] if self.from_cube(freq, level)
                                       else self._root[f"{freq}/{level}/{variable}"])
        return arr

    def sharded(self, freq: str, level: int, variable: str) -> shards.ShardedArray:
        """:meth:`array` read through :class:`~carbonmap.storage.shards.ShardedArray` (the shard fast path: zarr
        spends ~1 ms of Python per inner chunk; measured in bench/load.py, where tile reads were 45 % zarr)."""
        key = (freq, level, variable)
        got = self._sharded.get(key)
        if got is None:
            got = self._sharded[key] = shards.ShardedArray(self.array(freq, level, variable))
        return got

    def step_index(self, freq: str, label: str) -> int | None:
        return self._index.get(freq, {}).get(label)

    @staticmethod
    def layer_index(variable: str, layer: str) -> int:
        return (LAYERS if variable == cc.EMISSIONS_VAR else cc.SECTORS).index(layer)

    def chunk_shape(self, freq: str, level: int) -> tuple[int, int]:
        """(rows, cols) of the inner chunks of (freq, level): the cube's map chunks for daily level 0."""
        if self.from_cube(freq, level):
            chunks = self.array(freq, level, cc.EMISSIONS_VAR).chunks
            return int(chunks[-2]), int(chunks[-1])
        g = self.grids[level]
        return min(TILE_CHUNK, g.nlat), min(TILE_CHUNK, g.nlon)

    def read(self, freq: str, level: int, variable: str, step: int, layer: int,
             rows: slice, cols: slice) -> np.ndarray:
        """A window of one level, dims (lat, lon), float32 (density kg km-2 day-1 or relative sigma).

        ``layer`` indexes LAYERS (emissions, total first) or SECTORS (uncertainty).
        """
        arr = self.sharded(freq, level, variable)
        one = (slice(step, step + 1),)
        if not self.from_cube(freq, level):
            return arr.read((*one, slice(layer, layer + 1), rows, cols))[0, 0]
        if variable != cc.EMISSIONS_VAR:
            return np.asarray(arr.read((*one, slice(layer, layer + 1), rows, cols))[0, 0], dtype=np.float32)
        if layer == 0:     # total: one read of the 7 sectors' chunks, summed
            mass = arr.read((*one, slice(None), rows, cols))[0].sum(axis=0, dtype=np.float64)
        else:
            mass = arr.read((*one, slice(layer - 1, layer), rows, cols))[0, 0]
        return (mass * self._inv_area0[rows][:, None]).astype(np.float32, copy=False)

    def field(self, freq: str, level: int, variable: str, step: int) -> np.ndarray:
        """One whole step of a level, (layer, lat, lon) float32 (emissions) or (sector, lat, lon)."""
        g = self.grids[level]
        n = len(LAYERS) if variable == cc.EMISSIONS_VAR else len(cc.SECTORS)
        whole = slice(0, g.nlat), slice(0, g.nlon)
        return np.stack([self.read(freq, level, variable, step, i, *whole) for i in range(n)])


def open_pyramid(cube_path: Location | Path | str, cube_version: str) -> Pyramid | None:
    """The cube's pyramid if it is complete and was built from this cube version, else None."""
    cube = location(cube_path)
    pyr = pyramid_location(cube)
    meta = read_meta(pyr)
    if meta is None or meta.status != cc.STATUS_COMPLETE or meta.cube_version != cube_version:
        return None
    return Pyramid(pyr, cube, meta)
