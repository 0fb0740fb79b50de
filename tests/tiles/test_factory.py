"""tiles/factory.py through FastAPI's TestClient: errors as problem+json, caching, OpenAPI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from carbonmap.registry import Registry
from tiles.app import create_tiles_app
from tiles.cache import TileCache
from tiles.factory import CarbonTilerFactory
from tiles.fields import FieldCache

T = "/tiles/synthetic-test/WebMercatorQuad"


@pytest.mark.parametrize(("url", "status", "needle"), [
    ("/tiles/nope/WebMercatorQuad/0/0/0.png?date=2024-01-03", 404, "unknown dataset 'nope'"),
    (f"{T}/0/0/0.png?date=2023-12-31", 404, "covers 2024-01-01 to 2024-01-10"),
    (f"{T}/0/0/0.png?date=2024-13-01", 422, "YYYY-MM-DD"),
    (f"{T}/0/0/0.png?date=March", 422, "YYYY-MM-DD"),
    (f"{T}/0/0/0.png", 422, "date"),
    (f"{T}/0/0/0.png?date=2024-01-03&sector=coal", 422, "unknown sector 'coal'"),
    (f"{T}/0/0/0.png?date=2024-01-03&variable=ch4", 422, "unknown variable"),
    (f"{T}/0/0/0.png?date=2024-01-03&variable=uncertainty", 422, "emissions only"),
    (f"{T}/0/0/0.png?date=2024-01-03&scale=cubic", 422, "scale"),
    (f"{T}/0/0/0.png?date=2024-01-03&rescale=1", 422, "rescale"),
    (f"{T}/0/0/0.png?date=2024-01-03&scale=log&rescale=0,10", 422, "min > 0"),
    (f"{T}/0/0/0.png?date=2024-01-03&colormap_name=nope", 422, "colormap"),
    (f"{T}/0/0/0.gif?date=2024-01-03", 422, "png or .webp"),
    (f"{T}/0/1/0.png?date=2024-01-03", 404, "x must be 0 to 0"),
    (f"{T}/3/0/8.png?date=2024-01-03", 404, "y 0 to 7"),
    (f"{T}/30/0/0.png?date=2024-01-03", 404, "zooms 0 to 24"),
    (f"{T}/a/0/0.png?date=2024-01-03", 422, "z"),
    ("/tiles/synthetic-test/EuropeanETRS89/0/0/0.png?date=2024-01-03", 404, "WebMercatorQuad, WorldCRS84Quad"),
    (f"{T}/tilejson.json?sector=coal", 422, "unknown sector"),
    ("/tiles/nope/legend", 404, "served datasets"),
    ("/tiles/synthetic-test/legend?format=svg", 422, "format=json or format=png"),
])
def test_errors_are_problem_json_with_a_sentence(client: TestClient, url: str, status: int, needle: str) -> None:
    r = client.get(url)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == status
    assert needle in body["detail"] and len(body["detail"].split()) >= 4


def test_etag_conditional_get_and_cache_control(client: TestClient) -> None:
    url = f"{T}/1/1/0.png?date=2024-01-04&sector=residential"
    r = client.get(url)
    assert r.status_code == 200
    etag = r.headers["etag"]
    assert r.headers["cache-control"].startswith("public, max-age=")
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    other = client.get(f"{T}/1/1/0.png?date=2024-01-05&sector=residential")
    assert other.headers["etag"] != etag
    assert client.get(url + "&colormap_name=viridis").headers["etag"] != etag


def test_tile_cache_is_bounded_by_its_size(registry: Registry) -> None:
    factory = CarbonTilerFactory(tile_cache=TileCache(3), fields=FieldCache(2**26))
    with TestClient(create_tiles_app(registry, factory)) as c:
        urls = [f"{T}/2/{x}/1.png?date=2024-01-02" for x in range(4)] + [f"{T}/1/0/0.png?date=2024-01-02"]
        states = [c.get(u).headers["x-tile-cache"] for u in urls]
        assert states == ["miss"] * 5
        assert len(factory.tile_cache) == 3
        assert c.get(urls[-1]).headers["x-tile-cache"] == "hit"
        assert c.get(urls[0]).headers["x-tile-cache"] == "miss"   # evicted
        assert len(factory.tile_cache) == 3


def test_default_caches_are_sized_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from carbonmap import settings
    monkeypatch.setenv("CARBONMAP_TILE_CACHE_ITEMS", "17")
    settings.get_settings.cache_clear()
    try:
        assert CarbonTilerFactory().tile_cache.max_items == 17
    finally:
        settings.get_settings.cache_clear()


def test_legend_json_matches_tile_colours(client: TestClient) -> None:
    leg = client.get("/tiles/synthetic-test/legend?sector=power&rescale=1000,1000000&classes=3").json()
    assert leg["units"] == "kg km-2 day-1" and leg["scale"] == "log"
    assert leg["breaks"] == pytest.approx([1e3, 1e4, 1e5, 1e6])
    png = client.get("/tiles/synthetic-test/legend?sector=power&format=png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    unc = client.get("/tiles/synthetic-test/legend?sector=power&variable=uncertainty").json()
    assert unc["scale"] == "linear" and unc["rescale"] == [0.0, 1.0] and unc["units"] == "1"


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = {
        "/tiles/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}.{format}": ("image/png", "image/webp"),
        "/tiles/{dataset}/{tileMatrixSetId}/tilejson.json": ("application/json",),
        "/tiles/{dataset}/legend": ("application/json", "image/png"),
    }
    for path, media in paths.items():
        op = spec["paths"][path]["get"]
        assert op["summary"] and "Example" in op["description"]
        assert set(media) <= set(op["responses"]["200"]["content"])
        assert "application/problem+json" in op["responses"]["422"]["content"]
        for param in op["parameters"]:
            assert param.get("description"), (path, param["name"])
            assert param.get("examples") or param["schema"].get("examples"), (path, param["name"])
    tile_params = {p["name"]: p for p in spec["paths"][next(iter(paths))]["get"]["parameters"]}
    assert tile_params["date"]["required"] is True
    assert "total" in tile_params["sector"]["schema"]["enum"]


def test_no_parameter_opens_a_path(client: TestClient, synthetic_cube: Path) -> None:
    spec = client.get("/openapi.json").json()
    names = {p["name"] for op in spec["paths"].values() for p in op["get"].get("parameters", [])}
    assert not names & {"url", "path", "src_path", "store"}
    r = client.get(f"/tiles/{synthetic_cube}/WebMercatorQuad/0/0/0.png?date=2024-01-03")
    assert r.status_code == 404
