"""Pyramid renderers of the served cubes, memoised per dataset release and refreshed by polling.

The tile endpoints ask :meth:`PyramidRenderers.get` for a cube's :class:`~tiles.render.PyramidRenderer`
on every request.  A renderer is kept per ``(dataset id, release)``; at most every
:data:`PYRAMID_RECHECK_S` seconds the pyramid's ``zarr.json`` modification time is looked at again, so a
pyramid that appears, is rebuilt or disappears under a running server is picked up without a restart.
A cube without a (current) pyramid gets None: the caller reads it with the fallback
:class:`~tiles.reader.CubeLayerReader` (rio-tiler's XarrayReader) instead of a :class:`~tiles.pyramid_reader.PyramidReader`.
"""

from __future__ import annotations

import time

from carbonmap.registry import Cube
from carbonmap.storage.pyramid import cube_version_of, open_pyramid, pyramid_location
from tiles.cache_policy import served_version
from tiles.chunks import ChunkCache
from tiles.render import PyramidRenderer

PYRAMID_RECHECK_S = 2.0
"""How often (seconds) the server looks again whether a cube's pyramid appeared or changed."""
MAX_RENDERERS = 32
"""Pyramid renderers kept (one per dataset release asked for)."""

_State = tuple[str, str | None]
"""What a memoised renderer was built for: (served cube version, the pyramid's ``zarr.json`` version or None)."""


class PyramidRenderers:
    """Memo of pyramid renderers, one per served release, sharing one decoded-chunk cache.

    Args:
        chunks: the decoded pyramid-chunk LRU every renderer reads through.
        recheck_s: seconds between looks at a pyramid's ``zarr.json`` modification time.
        max_items: renderers kept; the oldest is dropped first.
    """

    def __init__(self, chunks: ChunkCache, recheck_s: float = PYRAMID_RECHECK_S,
                 max_items: int = MAX_RENDERERS) -> None:
        self.chunks = chunks
        self.recheck_s = recheck_s
        self.max_items = max_items
        self._memo: dict[tuple[str, str | None], tuple[_State, PyramidRenderer | None, float]] = {}

    def get(self, cube: Cube) -> PyramidRenderer | None:
        """The renderer of the cube's pyramid, or None (no pyramid, stale, or being updated)."""
        slot = (cube.id, cube.release)  # one renderer per served release (pinned releases included)
        hit = self._memo.get(slot)
        now = time.monotonic()
        if hit is not None and hit[0][0] == served_version(cube) and now - hit[2] < self.recheck_s:
            return hit[1]
        try:  # the pyramid's version (a local file's mtime, an object's ETag): changes when it is rewritten
            stamp = pyramid_location(cube.path).stat("zarr.json")
        except OSError:
            stamp = None
        mtime = stamp[1] if stamp is not None else None
        state = (served_version(cube), mtime)
        if hit is not None and hit[0] == state:
            self._memo[slot] = (state, hit[1], now)
            return hit[1]
        pyr = open_pyramid(cube.path, cube_version_of(cube.attrs)) if mtime is not None else None
        renderer = PyramidRenderer(pyr, self.chunks) if pyr is not None else None
        self._memo[slot] = (state, renderer, now)
        while len(self._memo) > self.max_items:  # oldest first (dicts keep insertion order)
            self._memo.pop(next(iter(self._memo)))
        return renderer

    def __len__(self) -> int:
        return len(self._memo)
