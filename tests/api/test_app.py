"""api.app: create_app wiring: CORS, OpenAPI (examples, problem+json, honesty), tile router, injection."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from carbonmap.registry import Registry

from .conftest import MULTI_ID


def test_cors_allows_configured_origins_only(client: TestClient):
    ok = client.get("/healthz", headers={"Origin": "https://example.org"})
    assert ok.headers.get("access-control-allow-origin") == "https://example.org"
    other = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    pre = client.options("/regions/AAA/emissions", headers={"Origin": "https://example.org",
                                                              "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://example.org"


def test_openapi_documents_every_operation_with_examples_and_problems(client: TestClient):
    schema = client.get("/openapi.json").json()
    ops = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert {"/healthz", "/datasets", "/datasets/{id}", "/regions/{iso3}/emissions", "/"} <= set(schema["paths"])
    for path, method, op in ops:
        assert op.get("summary"), f"{method} {path} has no summary"
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert set(response["content"]) == {"application/problem+json"}, (path, status)
                assert "example" in response["content"]["application/problem+json"], (path, status)
        for param in op.get("parameters", []):
            assert param.get("description"), f"{path} parameter {param['name']} has no description"
            assert param.get("examples") or param["schema"].get("examples") or param.get("example") is not None, \
                f"{path} parameter {param['name']} has no example"
    region = schema["paths"]["/regions/{iso3}/emissions"]["get"]
    assert {"404", "422"} <= set(region["responses"])
    assert "text/csv" in region["responses"]["200"]["content"]
    assert "national inventory territory" in region["description"]


def test_openapi_description_states_real_inputs_and_proxies_per_dataset(client: TestClient):
    info = client.get("/openapi.json").json()["info"]
    text = info["description"]
    assert "Global Carbon Budget 2025" in text  # the multi cube's real input, read from its attrs
    assert "the national table is random test data" in text  # its proxies statement
    assert "synthetic test field" in text  # the synthetic cube's proxies statement
    assert "national inventory territory" in text
    assert info["title"] == "carbonmap" and info["version"]


def test_tile_router_is_mounted_and_uses_the_injected_registry(client: TestClient):
    r = client.get(f"/tiles/{MULTI_ID}/WebMercatorQuad/tilejson.json", params={"date": "2024-01-02"})
    assert r.status_code == 200, r.text
    assert r.json()["tilejson"] == "3.0.0"
    r = client.get(f"/tiles/{MULTI_ID}/WebMercatorQuad/1/5/0.png", params={"date": "2024-01-02"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_registry_is_injected_not_global(registry: Registry, api_settings):
    """Two apps with different registries serve different datasets in one process."""
    empty = TestClient(create_app(Registry(), api_settings))
    assert empty.get("/healthz").json()["datasets"] == []
    r = empty.get("/regions/AAA/emissions")
    assert r.status_code == 404 and "serves no dataset" in r.json()["detail"]
    full = TestClient(create_app(registry, api_settings))
    assert full.get("/healthz").json()["datasets"] == sorted(registry.ids())
