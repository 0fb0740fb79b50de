"""api.limits: bodies over max_body_bytes get 413 problem+json, declared or streamed."""

from __future__ import annotations

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from api.app import create_app


@pytest.fixture(scope="module")
def echo_client(registry, api_settings) -> TestClient:
    """The real app (limit 1000 bytes) plus a route that reads its body, as POST /emissions/query will."""
    app = create_app(registry, api_settings)

    @app.post("/_echo")
    async def echo(request: Request) -> dict:
        return {"received": len(await request.body())}

    return TestClient(app, raise_server_exceptions=False)


def test_small_body_passes(echo_client: TestClient):
    r = echo_client.post("/_echo", content=b"x" * 999)
    assert r.status_code == 200 and r.json() == {"received": 999}


def test_declared_oversized_body_is_413(echo_client: TestClient):
    r = echo_client.post("/_echo", content=b"x" * 1001)
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")
    assert "1000 bytes" in r.json()["detail"]


def test_streamed_oversized_body_without_length_is_413(echo_client: TestClient):
    def chunks():
        for _ in range(20):
            yield b"y" * 100

    r = echo_client.post("/_echo", content=chunks())  # chunked transfer, no Content-Length
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413 and r.json()["status"] == 413


def test_oversized_body_on_a_get_route_is_413_not_500(client: TestClient):
    r = client.request("GET", "/healthz", content=b"z" * 5000)
    assert r.status_code == 413
