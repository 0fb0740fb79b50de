"""Every cache of the region engine and of the tile layer belongs to one app (issue #18.4): two apps over the same
registry, served over real HTTP (uvicorn in a thread), never share an entry, and the sizes come from each app's
Settings."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import shapely
import shapely.geometry
import uvicorn
from fastapi import FastAPI

from api import national_arrays as na
from api import query_engine as q
from api.app import create_app
from carbonmap.registry import Registry
from carbonmap.settings import Settings
from pipelines import timeseries as pts
from tests.api.routes.live_server import free_port, write_random_cube
from tiles.app import create_tiles_app
from tiles.factory import CarbonTilerFactory

DATASET = "caches-test"
BOX = shapely.geometry.mapping(shapely.box(0.0, 40.0, 20.0, 50.0))
OTHER = shapely.geometry.mapping(shapely.box(-100.0, 30.0, -80.0, 45.0))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """A 5 degree random cube with its time-series layout (so the region reads go through the chunk cache)."""
    path = write_random_cube(tmp_path_factory.mktemp("caches") / f"{DATASET}.zarr", dataset_id=DATASET)
    pts.build_timeseries(path)
    reg = Registry()
    reg.add(path)
    return reg


class Served:
    """An app served by uvicorn in a thread, with an HTTP client on it."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)

    def close(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve() -> Iterator[type[Served]]:
    started: list[Served] = []

    class Tracked(Served):
        def __init__(self, app: FastAPI) -> None:
            super().__init__(app)
            started.append(self)

    yield Tracked
    for s in started:
        s.close()


def _query(served: Served, geometry: dict) -> dict:
    r = served.http.post("/emissions/query", json={"geometry": geometry, "dataset": DATASET, "freq": "month"})
    assert r.status_code == 200, r.text
    return r.json()


def _engine(app: FastAPI) -> q.RegionCaches:
    return q.region_caches(app.state.caches, app.state.settings)


def test_two_apps_keep_their_own_region_caches(registry: Registry, serve: type[Served]) -> None:
    quiet = Settings(serve_warmup=False)  # no warm-up: the caches hold only what the test's queries put there
    one, two = serve(create_app(registry, quiet)), serve(create_app(registry, quiet))
    first = _query(one, BOX)
    assert {q.CACHE_NAME, na.CACHE_NAME} <= set(one.app.state.caches.names())
    assert two.app.state.caches.names() == []  # app 2 has served nothing: it holds nothing
    sizes = _engine(one.app).sizes()
    assert sizes["weights"] == sizes["geometries"] == sizes["groups"] == sizes["sources"] == 1
    assert sizes["chunks_bytes"] > 0
    nat_one = one.app.state.caches.memo(na.CACHE_NAME, 1, "national", na.NationalCache)
    assert len(nat_one) == 1

    again = _query(one, BOX)  # the same query on the same app answers from its caches
    assert again == first
    engine = _engine(one.app)
    assert (engine.weights.hits, engine.weights.misses) == (1, 1)
    assert engine.chunks.hits > 0

    assert _query(two, BOX) == first  # the other app computes the same numbers on its own
    engine_two = _engine(two.app)
    assert engine_two is not engine and engine_two.chunks is not engine.chunks
    assert (engine_two.weights.hits, engine_two.weights.misses) == (0, 1)
    assert engine.weights.misses == 1  # app 1 saw nothing of app 2's miss


def test_cache_sizes_come_from_the_apps_settings(registry: Registry, serve: type[Served]) -> None:
    small = serve(create_app(registry, Settings(region_cache_items=1, query_chunk_cache_bytes=0, serve_warmup=False)))
    default = serve(create_app(registry, Settings(serve_warmup=False)))
    for served in (small, default):
        _query(served, BOX)
        _query(served, OTHER)
    tiny, big = _engine(small.app), _engine(default.app)
    assert tiny.weights.max_items == tiny.geometries.max_items == 1
    assert tiny.sizes() == {"weights": 1, "geometries": 1, "groups": 1, "sources": 1, "chunks_bytes": 0}
    assert big.weights.max_items == Settings().region_cache_items == 256
    assert big.sizes()["weights"] == big.sizes()["groups"] == 2 and big.sizes()["chunks_bytes"] > 0
    assert big.chunks.max_bytes == Settings().query_chunk_cache_bytes


def test_tile_factories_keep_their_own_cube_days(registry: Registry, serve: type[Served]) -> None:
    one = serve(create_tiles_app(registry, CarbonTilerFactory.from_settings(Settings())))
    two = serve(create_tiles_app(registry, CarbonTilerFactory.from_settings(Settings())))
    r = one.http.get(f"/tiles/{DATASET}/WebMercatorQuad/0/0/0.png", params={"date": "2024-01"})
    assert r.status_code == 200, r.text
    days_one, days_two = one.app.state.tiler.fields.days, two.app.state.tiler.fields.days
    assert len(days_one) == 1 and len(days_two) == 0
    assert one.http.get(f"/tiles/{DATASET}/WebMercatorQuad/0/0/0.png", params={"date": "2024-01-02"}).status_code == 200
    assert len(days_one) == 1  # one entry per cube version, not per request
    bad = two.http.get(f"/tiles/{DATASET}/WebMercatorQuad/0/0/0.png", params={"date": "2025-01-01"})
    assert bad.status_code == 404 and len(days_two) == 1
