"""Fixtures for the tile tests: a registry over the synthetic cube, a TestClient and a live uvicorn."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from carbonmap.registry import Registry
from tiles.app import create_tiles_app
from tiles.cache import TileCache
from tiles.factory import CarbonTilerFactory
from tiles.fields import FieldCache


@pytest.fixture(scope="module")
def registry(synthetic_cube: Path) -> Registry:
    reg = Registry()
    reg.add(synthetic_cube)
    return reg


@pytest.fixture(scope="module")
def client(registry: Registry) -> Iterator[TestClient]:
    factory = CarbonTilerFactory(tile_cache=TileCache(256), fields=FieldCache(64 * 2**20))
    with TestClient(create_tiles_app(registry, factory)) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_url(registry: Registry) -> Iterator[str]:
    """Base URL of a real uvicorn server (in a thread) serving the tile app on 127.0.0.1."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_tiles_app(registry), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def http(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, timeout=30) as c:
        yield c
