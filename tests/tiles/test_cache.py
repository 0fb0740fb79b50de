"""tiles/cache.py and tiles/fields.py: bounded LRUs and ETag matching."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from carbonmap.http_policy import etag_matches, make_etag
from carbonmap.registry import Registry
from tiles.cache import EncodedTile, TileCache
from tiles.fields import FieldCache
from tiles.layer import Layer


def test_tile_cache_is_bounded_lru() -> None:
    cache = TileCache(2)
    tiles = [EncodedTile(bytes([i]), "image/png", make_etag("t", i)) for i in range(3)]
    cache.put(tiles[0])
    cache.put(tiles[1])
    assert cache.get(tiles[0].etag) == tiles[0]   # 0 is now most recent
    cache.put(tiles[2])                            # evicts 1
    assert len(cache) == 2
    assert tiles[1].etag not in cache and tiles[0].etag in cache and tiles[2].etag in cache
    assert TileCache(0).get(tiles[0].etag) is None
    with pytest.raises(ValueError):
        TileCache(-1)


def test_etags() -> None:
    a, b = make_etag("x", 1), make_etag("x", 2)
    assert a != b and a.startswith('"') and a == make_etag("x", 1)
    assert etag_matches(a, a) and etag_matches(f'W/{a}, {b}', a) and etag_matches("*", a)
    assert not etag_matches(b, a) and not etag_matches(None, a)


def test_field_cache_reads_the_cube_and_stays_within_its_byte_budget(registry: Registry) -> None:
    cube = registry.get("synthetic-test")
    one = cube.grid.nlat * cube.grid.nlon * 4
    fields = FieldCache(2 * one)
    layers = [Layer.of(cube, dt.date(2024, 1, d), "power", "emissions") for d in (1, 2, 3)]
    for layer in layers:
        got = fields.get(cube, layer)
        np.testing.assert_array_equal(got, cube.read_day(layer.day, "power").astype(np.float32))
    assert len(fields) == 2 and fields.nbytes <= 2 * one and fields.misses == 3
    fields.get(cube, layers[2])
    assert fields.hits == 1
    total = fields.get(cube, Layer.of(cube, dt.date(2024, 1, 2), "total", "emissions"))
    assert total.max() == pytest.approx(28 * 2 * 1000)
