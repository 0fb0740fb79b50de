"""A bounded in-memory cache of decoded cube fields, the tile fallback for cubes without a pyramid.

Each entry is one (dataset, time step, sector, variable) field, dims (lat, lon), float32, in the
cube's units (``emissions``: kg CO2 day-1 cell-1; ``uncertainty``: relative 1-sigma).  Monthly and
annual steps are means over the cube's days in the period (uncertainty: emission-weighted, as in
the pyramid).
Reads go through :meth:`carbonmap.registry.Cube.read_day` (a Dask-free Zarr read).  Concurrent
requests for the same missing field wait for one read instead of decoding it twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from cachetools import LRUCache

from carbonmap import contract as cc
from carbonmap.registry import Cube
from tiles.layer import CubeDays, Layer, cube_version

FieldKey = tuple[str, str, str, str, str]


def read_step(cube: Cube, layer: Layer, memo: CubeDays | None = None) -> np.ndarray:
    """The layer's field from the cube, dims (lat, lon): a day, or the mean over the step's days (``memo``: the
    cubes' days, :class:`~tiles.layer.CubeDays`)."""
    days = layer.step.days_in(cube, memo)
    if layer.step.freq == "day":
        return cube.read_day(layer.day, layer.sector, layer.variable)
    if layer.variable == cc.EMISSIONS_VAR:
        return np.asarray(sum(np.asarray(cube.read_day(d, layer.sector), dtype=np.float64) for d in days) / len(days))
    em = [np.asarray(cube.read_day(d, layer.sector), dtype=np.float64) for d in days]
    sig = sum(np.asarray(cube.read_day(d, layer.sector, layer.variable), dtype=np.float64) * e
              for d, e in zip(days, em, strict=True))
    mass = sum(em)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mass > 0, sig / np.where(mass > 0, mass, 1.0), 0.0)


class _FieldLRU(LRUCache[FieldKey, np.ndarray]):
    """cachetools' LRU of fields sized in bytes, dropping a field's wrapper (``wrapped``) with the field."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(maxsize=max_bytes, getsizeof=lambda a: int(a.nbytes))
        self.wrapped: dict[FieldKey, Any] = {}

    def popitem(self) -> tuple[FieldKey, np.ndarray]:
        key, value = super().popitem()
        self.wrapped.pop(key, None)
        return key, value


class FieldCache:
    """LRU of decoded (lat, lon) float32 fields bounded by ``max_bytes``; ``days`` the cubes' days per version
    (:class:`~tiles.layer.CubeDays`), kept here for the owner's layers too (the tile factory's routes)."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self.days = CubeDays()
        self._items: _FieldLRU = _FieldLRU(max(1, max_bytes))
        self._lock = threading.Lock()
        self._loading: dict[FieldKey, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(cube: Cube, layer: Layer) -> FieldKey:
        return (cube.id, cube_version(cube), layer.step.label, layer.sector, layer.variable)

    def get(self, cube: Cube, layer: Layer) -> np.ndarray:
        """The layer's field, dims (lat, lon), float32 (read-only view)."""
        key = self.key(cube, layer)
        with self._lock:
            if (hit := self._lookup(key)) is not None:
                return hit
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if (hit := self._lookup(key)) is not None:
                    return hit
            field = np.ascontiguousarray(read_step(cube, layer, self.days), dtype=np.float32)
            field.setflags(write=False)
            with self._lock:
                self.misses += 1
                self._store(key, field)
                self._loading.pop(key, None)
            return field

    def get_dataarray(self, cube: Cube, layer: Layer, wrap: Callable[[np.ndarray], Any]) -> Any:
        """``wrap(field)`` (e.g. a georeferenced DataArray), built once per cached field."""
        field = self.get(cube, layer)
        key = self.key(cube, layer)
        with self._lock:
            wrapped = self._items.wrapped.get(key)
            if wrapped is not None and self._items.get(key) is field:
                return wrapped
        wrapped = wrap(field)
        with self._lock:
            if self._items.get(key) is field:
                self._items.wrapped[key] = wrapped
        return wrapped

    def _lookup(self, key: FieldKey) -> np.ndarray | None:
        field = self._items.get(key)  # a hit moves the key to the most recent end
        if field is not None:
            self.hits += 1
        return field

    def _store(self, key: FieldKey, field: np.ndarray) -> None:
        if field.nbytes > self.max_bytes:
            return
        self._items[key] = field  # evicts the least recently used fields (and their wrappers) down to max_bytes

    @property
    def nbytes(self) -> int:
        return int(self._items.currsize)

    def __len__(self) -> int:
        return len(self._items)
