"""Security: no client-given paths or URLs, size limits, configurable CORS, traversal refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from carbonmap.registry import Registry
from carbonmap.settings import Settings

PATHLIKE_PARAMS = {"url", "uri", "path", "file", "filename", "store", "src", "source", "href", "dir", "location"}


@pytest.fixture(scope="module")
def registry(synthetic_cube: Path) -> Registry:
    reg = Registry()
    reg.add(synthetic_cube)
    return reg


@pytest.fixture(scope="module")
def client(registry: Registry) -> TestClient:
    return TestClient(create_app(registry), raise_server_exceptions=False)


def test_no_endpoint_takes_a_path_or_url_parameter(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    names = set()
    for path, ops in spec["paths"].items():
        for op in ops.values():
            if isinstance(op, dict):
                names |= {p["name"].lower() for p in op.get("parameters", [])}
        assert "{path" not in path.lower() or path.startswith("/zarr/"), path
    assert not (names & PATHLIKE_PARAMS), names & PATHLIKE_PARAMS
    body_props = set()
    for comp in spec.get("components", {}).get("schemas", {}).values():
        body_props |= {k.lower() for k in comp.get("properties", {})}
    assert not (body_props & {"url", "uri", "file", "filename", "store", "href"}), body_props


TRAVERSALS = [
    "/zarr/..%2f..%2f..%2fetc%2fpasswd",
    "/zarr/synthetic-test/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/zarr/synthetic-test/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/zarr/synthetic-test/..%252f..%252fetc%252fpasswd",
    "/zarr/synthetic-test/....//....//etc/passwd",
    "/zarr/synthetic-test/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
    "/tiles/../../etc/passwd",
    "/tiles/%2e%2e/%2e%2e/etc/passwd",
    "/tiles/..%2f..%2fetc%2fpasswd/WebMercatorQuad/0/0/0.png",
    "/download/..%2f..%2fetc%2fpasswd",
    "/stac/..%2f..%2fetc%2fpasswd",
    "/static/..%2f..%2f..%2fetc%2fpasswd",
    "/%2e%2e/%2e%2e/etc/passwd",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_path_traversal_is_refused(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert 400 <= r.status_code < 500, (url, r.status_code)
    assert b"root:x:0:0" not in r.content


def test_zarr_route_serves_only_the_cube_of_a_known_dataset(client: TestClient) -> None:
    ok = client.get("/zarr/synthetic-test/zarr.json")
    assert ok.status_code == 200 and json.loads(ok.content)["zarr_format"] == 3
    assert client.get("/zarr/not-a-dataset/zarr.json").status_code == 404


def _big_polygon(n: int) -> dict:
    import math

    ring = [[10 * math.cos(2 * math.pi * k / n), 10 * math.sin(2 * math.pi * k / n)] for k in range(n)]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def test_oversized_body_is_refused_with_413(client: TestClient) -> None:
    limit = Settings().max_body_bytes
    body = b'{"geometry": "' + b"x" * (limit + 10) + b'"}'
    r = client.post("/emissions/query", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413

    def chunks():
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    r = client.post("/emissions/query", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_geometries_are_limited_in_vertices(client: TestClient) -> None:
    n = Settings().max_vertices + 10
    r = client.post("/emissions/query", json={"geometry": _big_polygon(n), "dataset": "synthetic-test",
                                              "start": "2024-01-01", "end": "2024-01-02", "freq": "day"})
    assert r.status_code in (413, 422), r.status_code
    assert "vert" in r.text.lower()


def test_cors_is_configurable(registry: Registry) -> None:
    app = create_app(registry, Settings(cors_origins=["https://maps.example.org"]))
    c = TestClient(app)
    pre = {"access-control-request-method": "GET"}
    ok = c.options("/datasets", headers={"origin": "https://maps.example.org", **pre})
    assert ok.headers.get("access-control-allow-origin") == "https://maps.example.org"
    bad = c.options("/datasets", headers={"origin": "https://evil.example.com", **pre})
    assert bad.headers.get("access-control-allow-origin") is None
    r = c.get("/healthz", headers={"origin": "https://evil.example.com"})
    assert r.headers.get("access-control-allow-origin") is None
