"""The caches of one server app: created with the app, never at module level.

Every cache a route or a reader keeps (region weights, geometries, national arrays, release diffs, analysis
tables, facility indexes, ...) is one named LRU inside the :class:`AppCaches` of the app that serves the
request, so two apps in one process (tests, an embedding) never share or leak state, and ``create_app(registry,
Settings(...))`` sizes them from its own settings.  ``create_app`` puts one on ``app.state.caches``; routes reach
it with ``Depends(app_caches)`` (or ``request.app.state.caches``) and pass it down to the functions that read
through it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from cachetools import LRUCache
from starlette.requests import HTTPConnection

K = TypeVar("K")
V = TypeVar("V")


class AppCaches:
    """Named LRU caches of one app (thread-safe creation; each LRUCache is used under the GIL as before)."""

    def __init__(self) -> None:
        self._caches: dict[str, LRUCache[Any, Any]] = {}
        self._lock = threading.Lock()

    def lru(self, name: str, maxsize: int, getsizeof: Callable[[Any], float] | None = None) -> LRUCache[Any, Any]:
        """The LRU called ``name`` (made on first use with ``maxsize`` entries, or ``maxsize`` units of
        ``getsizeof``); later calls return the same cache whatever size they ask for."""
        cache = self._caches.get(name)
        if cache is None:
            with self._lock:
                cache = self._caches.get(name)
                if cache is None:
                    cache = LRUCache(maxsize=max(1, int(maxsize)), getsizeof=getsizeof)
                    self._caches[name] = cache
        return cache

    def memo(self, name: str, maxsize: int, key: Any, make: Callable[[], V]) -> V:
        """``make()`` cached under ``key`` in the LRU ``name`` (computed once per key while it stays)."""
        cache = self.lru(name, maxsize)
        try:
            return cast(V, cache[key])
        except KeyError:
            pass
        value = make()
        cache[key] = value
        return value

    def clear(self) -> None:
        """Empty every cache (a store was rebuilt under the app)."""
        with self._lock:
            for cache in self._caches.values():
                cache.clear()

    def names(self) -> list[str]:
        return sorted(self._caches)


async def app_caches(conn: HTTPConnection) -> AppCaches:
    """FastAPI dependency: the caches of the app serving this request (``async``: a plain ``def`` dependency is
    run on the server's thread pool, one more wait in its queue per request; measured in bench/load.py)."""
    caches = getattr(conn.app.state, "caches", None)
    if caches is None:  # an app assembled without create_app (a bare router in a test)
        caches = AppCaches()
        conn.app.state.caches = caches
    return cast(AppCaches, caches)
