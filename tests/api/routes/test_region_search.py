"""GET /regions over HTTP: every country's states and provinces, accent/case/script-insensitive search with
aliases, paging past 200, 404 with close matches, and admin-1 emissions from the NE 10m polygons."""

from __future__ import annotations

import json

import httpx
import pytest
import shapely
from fastapi.testclient import TestClient

from api.app import create_app
from carbonmap.registry import Registry
from carbonmap.settings import Settings
from pipelines.timeseries import build_timeseries
from tests.api.routes.live_server import write_random_cube

MANHATTAN, BROOKLYN, PHILADELPHIA = (-74.0, 40.71), (-73.95, 40.65), (-75.16, 39.95)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    cube = write_random_cube(tmp_path_factory.mktemp("search") / "random-test.zarr", start="2024-01-01", days=10)
    build_timeseries(cube)
    reg = Registry()
    reg.add(cube)
    return TestClient(create_app(reg, Settings()), raise_server_exceptions=False)


def _search(client: TestClient, **params) -> dict:
    r = client.get("/regions", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _first(client: TestClient, q: str, kind: str | None = None) -> dict:
    params = {"q": q} if kind is None else {"q": q, "type": kind}
    return _search(client, **params)["regions"][0]


def test_shanghai_in_chinese_and_english_finds_the_municipality(client: TestClient):
    zh = _first(client, "上海")
    assert (zh["id"], zh["type"], zh["name_local"], zh["subtype"]) == ("CN-SH", "admin1", "上海市", "Municipality")
    assert zh["matched"] == "上海" and zh["links"]["emissions"] == "/regions/CN-SH/emissions"
    en = _search(client, q="Shanghai")["regions"]
    assert en[0]["id"] == "CN-SH" and {"place", "urban_area"} <= {h["type"] for h in en}
    assert _first(client, "Ｓｈａｎｇｈａｉ")["id"] == "CN-SH"  # full-width letters
    assert _first(client, "shanghai", "admin1")["id"] == "CN-SH"


def test_munich_by_german_and_english_name(client: TestClient):
    de, en = _first(client, "München"), _first(client, "Munich")
    assert de["id"] == en["id"] and (de["name"], de["type"], de["iso3"]) == ("Munich", "place", "DEU")
    assert _first(client, "MUNCHEN")["id"] == en["id"]


def test_sao_paulo_without_accents_finds_state_and_city(client: TestClient):
    hits = _search(client, q="Sao Paulo")["regions"]
    assert hits[0]["id"] == "BR-SP" and hits[0]["name"] == "São Paulo"
    city = next(h for h in hits if h["type"] == "place")
    assert city["name"] == "São Paulo" and city["iso3"] == "BRA"


def test_new_york_finds_the_city_polygon_not_a_disc(client: TestClient):
    hits = _search(client, q="New York")["regions"]
    assert {h["id"] for h in hits[:3]} >= {"US-NY"}
    city = next(h for h in hits if h["type"] == "place")
    assert city["name"] == "New York" and "disc around this" not in city["definition"]
    feature = client.get(city["links"]["self"]).json()
    g = shapely.geometry.shape(feature["geometry"])
    assert g.contains(shapely.Point(*MANHATTAN)) and g.contains(shapely.Point(*BROOKLYN))
    assert not g.contains(shapely.Point(*PHILADELPHIA))
    assert _first(client, "New York City", "place")["id"] == city["id"] == _first(client, "NYC", "place")["id"]


def test_bavaria_and_bayern_find_the_state(client: TestClient):
    for q in ("Bavaria", "Bayern", "bavaria"):
        hit = _first(client, q)
        assert (hit["id"], hit["type"], hit["name"]) == ("DE-BY", "admin1", "Bayern")
    assert "Bavaria" in _first(client, "Bayern")["names_alt"]


def test_every_admin1_unit_pages_past_200(client: TestClient):
    body = _search(client, type="admin1", limit=200)
    assert (body["total"], body["count"], body["offset"], body["prev"]) == (4855, 200, 0, None)
    ids = [h["id"] for h in body["regions"]]
    pages = 1
    while body["next"]:
        r = client.get(body["next"])
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [h["id"] for h in body["regions"]]
        pages += 1
    assert pages == 25 and len(ids) == len(set(ids)) == 4855 and body["count"] == 4855 - 24 * 200
    assert all(h["type"] == "admin1" for h in body["regions"])
    prev = httpx.URL(body["prev"])
    assert prev.path == "/regions" and dict(prev.params) == {"type": "admin1", "limit": "200", "offset": "4600"}


def test_offset_beyond_the_end_is_an_empty_page(client: TestClient):
    body = _search(client, q="Shanghai", offset=50)
    assert (body["total"], body["count"], body["regions"], body["next"]) == (3, 0, [], None)
    assert body["prev"] is not None


def test_limit_over_200_is_a_422_saying_what_to_change(client: TestClient):
    r = client.get("/regions", params={"type": "admin1", "limit": 500})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "limit=500" in detail and "limit=200 or less" in detail and "next" in detail
    assert client.get("/regions", params={"limit": 0}).status_code == 422
    assert client.get("/regions", params={"offset": -1}).status_code == 422


def test_unknown_region_is_404_with_close_matches(client: TestClient):
    for path in ("/regions/CN-SHH", "/regions/CN-SHH/emissions"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "close matches: CN-SH (Shanghai)" in r.json()["detail"] and "GET /regions?q=" in r.json()["detail"]


def test_admin1_emissions_by_iso_code_equal_its_posted_polygon(client: TestClient):
    r = client.get("/regions/CN-NM/emissions", params={"freq": "month"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region"]["id"] == "CN-NM" and body["region"]["type"] == "admin1"
    feature = client.get("/regions/cn-nm").json()
    assert feature["id"] == "CN-NM" and feature["properties"]["name_local"] == "内蒙古自治区"
    posted = client.post("/emissions/query", json={"geometry": feature["geometry"], "freq": "month"})
    assert posted.json()["periods"][0]["total"]["emissions"] == pytest.approx(
        body["periods"][0]["total"]["emissions"], rel=1e-12)
    analysis = client.get("/regions/CN-SH/analysis")
    assert analysis.status_code == 200 and analysis.json()["region"]["id"] == "CN-SH"


def test_old_ids_and_fallback_ids_still_resolve(client: TestClient):
    names = json.loads((Settings().data_dir / "boundaries/ne_50m_admin_1_states_provinces_9countries.geojson")
                       .read_text("utf-8"))
    code = next(f["properties"]["adm1_code"] for f in names["features"]
                if f["properties"]["iso_3166_2"] == "CN-SH")
    r = client.get(f"/regions/ADM1-{code}")
    assert r.status_code == 200 and r.json()["id"] == "CN-SH"
    fallback = next(h["id"] for h in _search(client, type="admin1", limit=200, offset=4800)["regions"]
                    if h["id"].startswith("adm1:"))
    for rid in (fallback, fallback.upper()):
        assert client.get(f"/regions/{rid}").json()["id"] == fallback
    assert client.get(f"/regions/{fallback}/emissions", params={"freq": "year"}).status_code in (200, 422)


def test_openapi_documents_paging_and_examples(client: TestClient):
    op = client.get("/openapi.json").json()["paths"]["/regions"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 200 and params["limit"]["schema"]["default"] == 20
    assert params["offset"]["schema"]["minimum"] == 0
    assert params["q"]["examples"]["shanghai"]["value"] == "上海"
    examples = op["responses"]["200"]["content"]["application/json"]["examples"]
    assert examples["paged"]["value"]["next"].startswith("/regions?")
    assert "limit=200 or less" in json.dumps(op["responses"]["422"], ensure_ascii=False)
