"""The region engine's caches of one app (issue #18.4): :class:`RegionCaches`, made on first use inside the app's
:class:`~carbonmap.caches.AppCaches` by :func:`region_caches` and sized by the app's :class:`Settings`, so two apps
in one process never share an entry.  Read by :mod:`api.query_engine` and the routes that parse or weigh
geometries (query, region catalogue, analysis).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from cachetools import LRUCache
from shapely.geometry.base import BaseGeometry

from api import regions_query as rq
from carbonmap.caches import AppCaches
from carbonmap.contract import Grid
from carbonmap.settings import Settings
from tiles.chunks import ChunkCache

T = TypeVar("T")

SOURCE_ITEMS = 64
"""Cube versions (store path, build time) whose reading state one app keeps (:func:`api.query_engine.source_of`)."""
CACHE_NAME = "api.query_engine"
"""Name of the :class:`RegionCaches` in an app's :class:`~carbonmap.caches.AppCaches`."""


class ParsedGeometryCache:
    """LRU of parsed posted geometries keyed by a hash of their GeoJSON text: a repeated query (a map
    redrawing a region, a dashboard refreshing) skips validation, antimeridian cutting and hashing.

    Only successes are kept; the vertex limit is checked on every call (settings may differ)."""

    def __init__(self, max_items: int = 256) -> None:
        self.max_items = max_items
        self._items: LRUCache[bytes, tuple[BaseGeometry, str, int]] = LRUCache(maxsize=max_items)
        self._lock = threading.Lock()

    def parse(self, obj: Any, max_vertices: int) -> tuple[BaseGeometry, str]:
        """(geometry, :func:`geometry_key`) of a GeoJSON object, as :func:`parse_geometry` gives them."""
        import orjson

        try:
            raw = hashlib.blake2b(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS), digest_size=20).digest()
        except (TypeError, orjson.JSONEncodeError):
            geom = rq.parse_geometry(obj, max_vertices)
            return geom, rq.geometry_key(geom)
        with self._lock:
            hit = self._items.get(raw)  # a hit is the most recently used
        if hit is not None:
            geom, key, n = hit
            if n > max_vertices:
                rq.parse_geometry(obj, max_vertices)  # raises TooManyVertices with the usual message
            return geom, key
        geom = rq.parse_geometry(obj, max_vertices)  # raises for anything that is not a usable polygon
        inner = (obj.get("geometry") or {}) if obj.get("type") == "Feature" else obj
        value = (geom, rq.geometry_key(geom), rq.count_vertices(inner.get("coordinates")))
        with self._lock:
            self._items[raw] = value  # evicts the least recently used beyond max_items
        return value[0], value[1]

    def __len__(self) -> int:
        return len(self._items)


class WeightCache:
    """LRU of :class:`rq.CellWeights` keyed by (geometry hash, grid); thread-safe."""

    def __init__(self, max_items: int = 256) -> None:
        self.max_items = max_items
        self._items: LRUCache[tuple, rq.CellWeights] = LRUCache(maxsize=max_items)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, geom: BaseGeometry, grid: Grid, key: str | None = None) -> rq.CellWeights:
        k = (key or rq.geometry_key(geom), grid)
        with self._lock:
            hit = self._items.get(k)  # a hit is the most recently used
            if hit is not None:
                self.hits += 1
                return hit
        weights = rq.land_weights(rq.coverage_weights(geom, grid), rq.land_fraction(grid))
        with self._lock:
            self.misses += 1
            self._items[k] = weights  # evicts the least recently used beyond max_items
        return weights

    def __len__(self) -> int:
        return len(self._items)


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
        self.weights = WeightCache(n)
        self.geometries = ParsedGeometryCache(n)
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
