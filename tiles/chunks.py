"""A bounded, thread-safe LRU of decoded pyramid chunks (float32 (rows, cols) arrays).

Keys name everything that determines a chunk's values (pyramid, cube version, frequency, level,
variable, step, layer, chunk row, chunk column).  The budget is in bytes
(``Settings.chunk_cache_bytes``).  Concurrent requests needing the same missing chunk wait for one
decode instead of decoding it twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence

import numpy as np
from cachetools import LRUCache

ChunkKey = tuple[Hashable, ...]


def _nbytes(arr: np.ndarray) -> int:
    return int(arr.nbytes)


class ChunkCache:
    """LRU of decoded chunks bounded by ``max_bytes`` (0 disables keeping anything)."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        # cachetools' LRU, sized in bytes (getsizeof); maxsize 0 would refuse every item, as _store does
        self._items: LRUCache[ChunkKey, np.ndarray] = LRUCache(maxsize=max(1, max_bytes), getsizeof=_nbytes)
        self._lock = threading.Lock()
        self._loading: dict[ChunkKey, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: Sequence[ChunkKey],
                 load: Callable[[list[ChunkKey]], dict[ChunkKey, np.ndarray]]) -> dict[ChunkKey, np.ndarray]:
        """The chunks for ``keys``; ``load(missing)`` decodes the missing ones in one call."""
        out: dict[ChunkKey, np.ndarray] = {}
        with self._lock:
            for k in keys:
                if (hit := self._lookup(k)) is not None:
                    out[k] = hit
            missing = [k for k in keys if k not in out]
            gates = [self._loading.setdefault(k, threading.Lock()) for k in missing]
        if not missing:
            return out
        for g in gates:          # same order for every caller of these keys: sorted by the caller
            g.acquire()
        try:
            with self._lock:
                still = []
                for k in missing:
                    if (hit := self._items.get(k)) is not None:
                        out[k] = hit
                    else:
                        still.append(k)
            if still:
                loaded = load(still)
                with self._lock:
                    for k in still:
                        arr = loaded[k]
                        arr.setflags(write=False)
                        out[k] = arr
                        self.misses += 1
                        self._store(k, arr)
        finally:
            with self._lock:
                for k in missing:
                    self._loading.pop(k, None)
            for g in gates:
                g.release()
        return out

    def _lookup(self, key: ChunkKey) -> np.ndarray | None:
        arr = self._items.get(key)  # a hit moves the key to the most recent end
        if arr is not None:
            self.hits += 1
        return arr

    def _store(self, key: ChunkKey, arr: np.ndarray) -> None:
        if arr.nbytes > self.max_bytes or key in self._items:
            return
        self._items[key] = arr  # evicts the least recently used chunks down to max_bytes

    @property
    def nbytes(self) -> int:
        return int(self._items.currsize)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: ChunkKey) -> bool:
        return key in self._items
