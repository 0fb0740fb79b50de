"""The region engine's caches of one app (issue #18.4): :class:`RegionCaches`, made on first use inside the app's
:class:`~carbonmap.caches.AppCaches` by :func:`region_caches` and sized by the app's :class:`Settings`, so two apps
in one process never share an entry.  Read by :mod:`api.query_engine` and the routes that parse or weigh
geometries (query, region catalogue, analysis).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from cachetools import LRUCache

from api import regions_query as rq
from carbonmap.caches import AppCaches
from carbonmap.settings import Settings
from tiles.chunks import ChunkCache

T = TypeVar("T")

SOURCE_ITEMS = 64
"""Cube versions (store path, build time) whose reading state one app keeps (:func:`api.query_engine.source_of`)."""
CACHE_NAME = "api.query_engine"
"""Name of the :class:`RegionCaches` in an app's :class:`~carbonmap.caches.AppCaches`."""


class RegionCaches:
    """The region engine's caches of one app, thread-safe, sized by the app's :class:`Settings`.

    ``weights``: cells' weights per (geometry hash, grid), an LRU of ``settings.region_cache_items``;
    ``geometries``: parsed, checked posted GeoJSON per hash of its text, same size; ``groups``: each geometry's
    country groups and reducers per (geometry hash, grid), same size; ``chunks``: decoded time-series chunks,
    ``settings.query_chunk_cache_bytes``; ``sources``: the reading state (open arrays, remembered plans) of the
    last :data:`SOURCE_ITEMS` cube versions.
    """

    def __init__(self, settings: Settings) -> None:
        n = settings.region_cache_items
        self.weights = rq.WeightCache(n)
        self.geometries = rq.ParsedGeometryCache(n)
        self.chunks = ChunkCache(settings.query_chunk_cache_bytes)
        self.sources: LRUCache[Hashable, Any] = LRUCache(maxsize=SOURCE_ITEMS)
        self.groups: LRUCache[Hashable, Any] = LRUCache(maxsize=max(1, n))
        self._lock = threading.Lock()

    def source(self, key: Hashable, make: Callable[[], T]) -> T:
        """The reading state of the cube version ``key``, made by ``make`` under the lock (opened once)."""
        with self._lock:
            source = self.sources.get(key)  # a hit is the most recently used
            if source is None:
                source = self.sources[key] = make()
            return cast(T, source)

    def group(self, key: Hashable, make: Callable[[], T]) -> T:
        """A geometry's country groups and reducers under ``key`` (geometry hash, grid), ``make()`` on a miss."""
        with self._lock:
            hit = self.groups.get(key)
        if hit is not None:
            return cast(T, hit)
        value = make()
        with self._lock:
            self.groups[key] = value  # evicts the least recently used beyond region_cache_items
        return value

    def sizes(self) -> dict[str, int]:
        """Entries held per cache (``chunks_bytes``: bytes of decoded chunks)."""
        return {"weights": len(self.weights), "geometries": len(self.geometries), "groups": len(self.groups),
                "sources": len(self.sources), "chunks_bytes": self.chunks.nbytes}


def region_caches(caches: AppCaches, settings: Settings) -> RegionCaches:
    """The region engine's caches of the app whose ``caches`` these are (made on first use from its ``settings``;
    a dict lookup afterwards)."""
    return caches.memo(CACHE_NAME, 1, "region", lambda: RegionCaches(settings))


__all__ = ["CACHE_NAME", "SOURCE_ITEMS", "RegionCaches", "region_caches"]
