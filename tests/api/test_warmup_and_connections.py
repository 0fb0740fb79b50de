"""api/warmup.py (a worker answers each kind of request once before it takes traffic) and api/connections.py
(keep-alive connections recycled so worker processes share the load), on real cubes and over real HTTP."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from api.app import create_app
from api.warmup import requests_for, warm
from carbonmap.registry import Registry
from carbonmap.settings import Settings
from tests.api.routes.live_server import live_server, write_random_cube


def test_warm_up_sends_every_kind_of_request_once_and_fills_the_caches(registry: Registry) -> None:
    app = create_app(registry, Settings(serve_warmup=False))
    todo = requests_for(registry)
    kinds = {(m, p.split("/")[1]) for m, p, _ in todo}
    assert ("GET", "tiles") in kinds and ("POST", "emissions") in kinds
    assert sum(p.endswith(".png") for _, p, _ in todo) >= 9 * len(registry.ids())  # 8 layers + uncertainty each
    assert app.state.caches.names() == []
    counts = anyio.run(warm, app, registry)
    assert counts == {"ok": len(todo), "failed": 0}
    assert "api.query_engine" in app.state.caches.names()  # the region engine is open before the first client


def test_a_failed_warm_up_request_is_counted_not_raised(registry: Registry) -> None:
    app = create_app(registry, Settings(serve_warmup=False))
    good = requests_for(registry)[0]
    bad = ("GET", good[1], {**good[2], "sector": "no-such-sector"})  # a 422: counted, start-up goes on
    assert anyio.run(warm, app, registry, [good, bad, good]) == {"ok": 2, "failed": 1}


@pytest.mark.e2e
def test_every_nth_answer_of_a_connection_asks_the_client_to_reconnect(tmp_path: Path) -> None:
    cube = write_random_cube(tmp_path / "c.zarr", days=4, dataset_id="conn-test")
    env = {"CARBONMAP_SERVE_KEEP_ALIVE_REQUESTS": "3"}
    with live_server([cube], tmp_path / "server.log", env_extra=env) as base, httpx.Client(base_url=base) as http:
        answers = [http.get("/healthz") for _ in range(7)]
    closing = [r.headers.get("connection") == "close" for r in answers]
    assert all(r.status_code == 200 for r in answers)
    assert closing == [False, False, True, False, False, True, False]  # a fresh connection after each close
