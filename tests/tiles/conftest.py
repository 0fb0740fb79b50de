"""Fixtures for the tile tests: registries over the synthetic cube with and without a pyramid,
a TestClient and a live uvicorn server.

``registry`` is parametrized: every test that uses it runs against the pyramid renderer and the
rio-tiler fallback (a cube without a pyramid), which must answer alike.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn
from fastapi.testclient import TestClient

from carbonmap import contract as cc
from carbonmap.registry import Registry
from carbonmap.storage.pyramid import cube_version_of, open_pyramid
from pipelines import store
from pipelines.pyramid import build_pyramid
from tests.conftest import write_synthetic_cube
from tiles.app import create_tiles_app
from tiles.cache import TileCache
from tiles.chunks import ChunkCache
from tiles.factory import CarbonTilerFactory
from tiles.fields import FieldCache
from tiles.render import PyramidRenderer


@pytest.fixture(scope="session")
def pyramid_cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic test cube (same field as ``synthetic_cube``) with its pyramid built."""
    cube = write_synthetic_cube(tmp_path_factory.mktemp("pyrcube") / "synthetic-test.zarr")
    build_pyramid(cube)
    return cube


def write_random_cube(path: Path, *, resolution: float = 1.0, start: str = "2024-01-30", days: int = 4,
                      dataset_id: str = "random-test", seed: int = 0) -> Path:
    """A sealed cube with a heavy-tailed random field (test data): lognormal values on ~half the
    cells with |lat| < 70, different every day and sector; uncertainty 0.05..0.5."""
    grid = cc.Grid(resolution)
    times = pd.date_range(start, periods=days, freq="D")
    prov = cc.Provenance(inputs=(), code_version="test", build_time=dt.datetime.now(dt.UTC).isoformat(),
                         proxies=("random test field",))
    attrs = cc.global_attrs(dataset_id=dataset_id, title="random test cube", grid=grid, start=str(times[0].date()),
                            end=str(times[-1].date()), provenance=prov, summary="random field for tests")
    tmp = store.building_path(path)
    store.create(tmp, grid, times, ["AAA"], attrs)
    rng = np.random.default_rng(seed)
    land = (np.abs(grid.lat) < 70)[:, None] & (rng.random(grid.shape) < 0.5)
    ns = len(cc.SECTORS)
    for t in range(days):
        em = np.where(land[None], rng.lognormal(8, 2, (ns, *grid.shape)), 0.0)
        store.write_day(tmp, t, em, np.where(em > 0, rng.uniform(0.05, 0.5, em.shape), 0.0))
    store.write_national(tmp, np.zeros((days, ns, 1)), np.zeros((days, ns, 1)))
    return store.seal(tmp, path)


@pytest.fixture(scope="session")
def random_cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 degree random cube over 2024-01-30..2024-02-02 (two months) with its pyramid."""
    cube = write_random_cube(tmp_path_factory.mktemp("randcube") / "random-test.zarr")
    build_pyramid(cube)
    return cube


@pytest.fixture(scope="module")
def rreg(random_cube: Path) -> Registry:
    """A registry serving the random-field cube (test_render, test_pyramid_reader)."""
    reg = Registry()
    reg.add(random_cube)
    return reg


@pytest.fixture(scope="module")
def renderer(random_cube: Path, rreg: Registry) -> PyramidRenderer:
    """The pyramid renderer of the random-field cube."""
    pyr = open_pyramid(random_cube, cube_version_of(rreg.get("random-test").attrs))
    assert pyr is not None
    return PyramidRenderer(pyr, ChunkCache(2**26))


@pytest.fixture(scope="module", params=["pyramid", "fallback"])
def registry(request: pytest.FixtureRequest, pyramid_cube: Path, synthetic_cube: Path) -> Registry:
    reg = Registry()
    reg.add(pyramid_cube if request.param == "pyramid" else synthetic_cube)
    return reg


@pytest.fixture(scope="module")
def client(registry: Registry) -> Iterator[TestClient]:
    factory = CarbonTilerFactory(tile_cache=TileCache(256), fields=FieldCache(64 * 2**20),
                                 chunks=ChunkCache(64 * 2**20))
    with TestClient(create_tiles_app(registry, factory)) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app: object) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Start uvicorn in a thread on a free 127.0.0.1 port; returns (server, thread, base URL)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def live_url(registry: Registry) -> Iterator[str]:
    """Base URL of a real uvicorn server (in a thread) serving the tile app on 127.0.0.1."""
    server, thread, url = start_server(create_tiles_app(registry))
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def http(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, timeout=30) as c:
        yield c
