"""GET /regions (search), /regions/{id} (GeoJSON), /regions/{id}/emissions for cities, /regions/{id}/analysis,
the STAC catalogue (validated offline with pystac) and the OpenAPI documentation of the new endpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pystac
import pytest
import shapely
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes import analysis
from carbonmap.registry import Registry
from carbonmap.settings import Settings
from ingest.region_catalogue import load_catalogue
from pipelines.timeseries import build_timeseries
from tests.api.routes.live_server import write_random_cube

DATASET = "random-test"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    cube = write_random_cube(tmp_path_factory.mktemp("cat") / "random-test.zarr", start="2024-01-01", days=15)
    build_timeseries(cube)
    reg = Registry()
    reg.add(cube)
    return reg


@pytest.fixture(scope="module")
def client(registry: Registry) -> TestClient:
    return TestClient(create_app(registry, Settings()), raise_server_exceptions=False)


def test_cells_times_steps_guardrail_says_what_to_do(registry: Registry):
    small = TestClient(create_app(registry, Settings(max_cells_days=50)), raise_server_exceptions=False)
    box = {"type": "Polygon", "coordinates": [[[0, 0], [30, 0], [30, 20], [0, 20], [0, 0]]]}
    r = small.post("/emissions/query", json={"geometry": box, "freq": "day"})  # 6 x 4 cells x 15 days
    assert r.status_code == 422 and "freq" in r.json()["detail"] and "smaller region" in r.json()["detail"]
    assert small.post("/emissions/query", json={"geometry": box, "freq": "day", "end": "2024-01-02"}).status_code == 200


def test_search_and_geojson(client: TestClient):
    r = client.get("/regions", params={"q": "tokyo"})
    assert r.status_code == 200
    hits = r.json()["regions"]
    assert hits[0]["name"] == "Tokyo" and {h["type"] for h in hits} >= {"place", "urban_area"}
    r = client.get("/regions", params={"q": "germany", "type": "country"})
    assert [h["id"] for h in r.json()["regions"]] == ["DEU"]
    r = client.get("/regions", params={"type": "admin1", "limit": 200})
    assert r.json()["count"] == 200 and all(h["type"] == "admin1" for h in r.json()["regions"])
    feature = client.get("/regions/DEU").json()
    geom = shapely.geometry.shape(feature["geometry"])
    assert geom.contains(shapely.Point(13.4, 52.5)) and feature["properties"]["type"] == "country"
    r = client.get("/regions/ZZZ")
    assert r.status_code == 404 and "GET /regions?q=" in r.json()["detail"]


def test_city_emissions_by_id_and_iso3_route_still_works(client: TestClient):
    ua = client.get("/regions", params={"q": "tokyo", "type": "urban_area"}).json()["regions"][0]["id"]
    r = client.get(f"/regions/{ua}/emissions", params={"freq": "month"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region"]["id"] == ua and body["region"]["type"] == "urban_area"
    geom = shapely.geometry.shape(client.get(f"/regions/{ua}").json()["geometry"])
    posted = client.post("/emissions/query", json={"geometry": shapely.geometry.mapping(geom), "freq": "month"})
    assert posted.json()["periods"][0]["total"]["emissions"] == pytest.approx(
        body["periods"][0]["total"]["emissions"], rel=1e-12)
    r = client.get("/regions/AAA/emissions")  # the national-table route answers ISO3 codes
    assert r.status_code == 200 and r.json()["region"]["type"] == "country"


def test_analysis_of_a_country(client: TestClient):
    r = client.get("/regions/DEU/analysis", params={"target_year": 2030, "target_pct": -50, "base_year": 2019,
                                                    "base_value_t": 1.0e6, "top": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    shares = [s["share"] for s in body["sectors"]]
    assert shares == sorted(shares, reverse=True) and sum(shares) == pytest.approx(1.0)
    assert body["year_over_year"]["available"] is False and "730 days" in body["year_over_year"]["reason"]
    assert body["trend"]["verdict"] in ("peaked", "not yet", "uncertain") and body["trend"]["evidence"]
    assert len(body["trend"]["trend_t"]) == 15  # daily STL (period 7) on 15 days
    t = body["target"]
    assert t["pathway_t"] == pytest.approx(1e6 + (0.5e6 - 1e6) * (2024 - 2019) / (2030 - 2019))
    assert t["gap_t"] == pytest.approx(t["current_t"] - t["pathway_t"])
    plants = body["point_sources"]
    assert 0 < len(plants) <= 5 and "estimate" in body["point_source_method"]
    est = [p["estimated_t_per_year"] for p in plants]
    assert est == sorted(est, reverse=True)
    de = load_catalogue(Settings().data_dir, Settings().cache_dir).get("DEU").geometry
    assert all(de.contains(shapely.Point(p["lon"], p["lat"])) for p in plants)
    r = client.get("/regions/DEU/analysis", params={"target_year": 2030, "target_pct": -50, "base_year": 2005})
    assert r.status_code == 422 and "base_value_t" in r.json()["detail"]


def test_peak_verdicts_follow_the_rule():
    idx = pd.date_range("2015-01-01", periods=96, freq="MS")
    season = 5 * np.sin(np.arange(96) * 2 * np.pi / 12)
    rising = pd.Series(100 + np.arange(96) * 1.0 + season, index=idx)
    peaked = pd.Series(100 + np.r_[np.arange(48), 48 - np.arange(48)] * 1.0 + season, index=idx)
    flat = pd.Series(100 + season + np.random.default_rng(0).normal(0, 3, 96), index=idx)
    assert analysis.peak_verdict(rising, 12, "month")[1] == "not yet"
    _, verdict, ev = analysis.peak_verdict(peaked, 12, "month")
    assert verdict == "peaked" and ev["peak_at"].startswith("2018")
    assert analysis.peak_verdict(flat, 12, "month")[1] == "uncertain"
    assert analysis.peak_verdict(rising.iloc[:20], 12, "month")[1] == "uncertain"


def test_stac_catalogue_validates_offline(client: TestClient):
    root = client.get("/stac").json()
    pystac.validation.validate_dict(root)
    child = next(link["href"] for link in root["links"] if link["rel"] == "child")
    col = client.get(child.replace("http://testserver", "")).json()
    pystac.validation.validate_dict(col)
    assert col["license"] == "CC-BY-4.0" and "carbonmap:citation" in col and "carbonmap:inputs" in col
    items = [link["href"] for link in col["links"] if link["rel"] == "item"]
    assert [h.rsplit("/", 1)[1] for h in items] == ["2024-01"]
    item = client.get(items[0].replace("http://testserver", "")).json()
    pystac.validation.validate_dict(item)
    assert item["properties"]["start_datetime"] == "2024-01-01T00:00:00Z"
    assert client.get(f"/stac/collections/{DATASET}/items/2023-05").status_code == 404


def test_openapi_documents_the_new_endpoints_with_problem_json(client: TestClient):
    spec = client.get("/openapi.json").json()
    for path, method in (("/emissions/query", "post"), ("/regions", "get"), ("/regions/{region_id}", "get"),
                         ("/regions/{region_id}/analysis", "get"), ("/download/{dataset}", "get"),
                         ("/zarr/{dataset}/{key}", "get"), ("/stac/collections/{dataset}", "get")):
        op = spec["paths"][path][method]
        errors = [c for s, c in op["responses"].items() if s.startswith("4")]
        assert errors and all("application/problem+json" in e.get("content", {}) for e in errors), path
    assert "correlated" in spec["paths"]["/emissions/query"]["post"]["description"]
