"""A bounded, thread-safe LRU of encoded tiles, keyed by the tile's ETag (:func:`carbonmap.http_policy.make_etag`;
ETag matching and cache headers live in :mod:`carbonmap.http_policy` too)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cachetools import LRUCache


@dataclass(frozen=True)
class EncodedTile:
    """An encoded tile: bytes, media type and strong ETag (quoted)."""

    content: bytes
    media_type: str
    etag: str


class TileCache:
    """LRU of at most ``max_items`` encoded tiles (0 disables caching)."""

    def __init__(self, max_items: int) -> None:
        if max_items < 0:
            raise ValueError(f"max_items must be >= 0, got {max_items}")
        self.max_items = max_items
        self._items: LRUCache[str, EncodedTile] = LRUCache(maxsize=max(1, max_items))
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, etag: str) -> EncodedTile | None:
        with self._lock:
            tile = self._items.get(etag)  # a hit moves the tile to the most recent end
            if tile is None:
                self.misses += 1
                return None
            self.hits += 1
            return tile

    def put(self, tile: EncodedTile) -> None:
        if self.max_items == 0:
            return
        with self._lock:
            self._items[tile.etag] = tile  # evicts the least recently used tile beyond max_items

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, etag: str) -> bool:
        return etag in self._items
