"""A bounded in-memory cache of decoded day fields, so tiles of one layer decode the cube once.

Each entry is one (dataset, day, sector, variable) field, dims (lat, lon), float32, in the
variable's units (``emissions``: kg CO2 day-1 cell-1; ``uncertainty``: relative 1-sigma).
Reads go through :meth:`carbonmap.registry.Cube.read_day` (a Dask-free Zarr read).  Concurrent
requests for the same missing field wait for one read instead of decoding it twice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from carbonmap.registry import Cube
from tiles.layer import Layer, cube_version

FieldKey = tuple[str, str, str, str, str]


class FieldCache:
    """LRU of decoded (lat, lon) float32 fields bounded by ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self._items: OrderedDict[FieldKey, np.ndarray] = OrderedDict()
        self._wrapped: dict[FieldKey, Any] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self._loading: dict[FieldKey, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(cube: Cube, layer: Layer) -> FieldKey:
        return (cube.id, cube_version(cube), layer.day.isoformat(), layer.sector, layer.variable)

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
            field = np.ascontiguousarray(cube.read_day(layer.day, layer.sector, layer.variable), dtype=np.float32)
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
            wrapped = self._wrapped.get(key)
            if wrapped is not None and self._items.get(key) is field:
                return wrapped
        wrapped = wrap(field)
        with self._lock:
            if self._items.get(key) is field:
                self._wrapped[key] = wrapped
        return wrapped

    def _lookup(self, key: FieldKey) -> np.ndarray | None:
        field = self._items.get(key)
        if field is not None:
            self._items.move_to_end(key)
            self.hits += 1
        return field

    def _store(self, key: FieldKey, field: np.ndarray) -> None:
        if field.nbytes > self.max_bytes:
            return
        self._items[key] = field
        self._bytes += field.nbytes
        while self._bytes > self.max_bytes:
            old_key, old = self._items.popitem(last=False)
            self._wrapped.pop(old_key, None)
            self._bytes -= old.nbytes

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
