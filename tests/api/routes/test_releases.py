"""Versioned releases over real HTTP: the revision history, as-of, pinned reads, diffs, caching, errors.

A random cube (r0001) is revised on one day by a "better input" release (r0002, the day x1.5, the
same build time, so only the release id tells them apart), then served by a real uvicorn process.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from carbonmap import contract as cc
from pipelines import releases, store
from tests.api.routes.live_server import live_server, write_random_cube
from tests.pipelines.test_releases import _revise_day

DATASET = "rel-test"
REVISED = "2024-01-03"
POLY = {"type": "Polygon", "coordinates": [[[-60.0, -40.0], [60.0, -40.0], [60.0, 40.0], [-60.0, 40.0],
                                           [-60.0, -40.0]]]}
TILE = "/tiles/rel-test/WebMercatorQuad/1/1/0.png"


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_random_cube(tmp_path_factory.mktemp("rel") / "rel-test.zarr", start="2024-01-01", days=6,
                             dataset_id=DATASET)
    time.sleep(1.1)  # distinct creation seconds for as_of
    _revise_day(path, 2, 1.5)
    assert store.release_ids(path) == ["r0001", "r0002"]
    return path


@pytest.fixture(scope="module")
def server(cube: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("rel-log") / "server.log"
    with live_server([cube], log, {"CARBONMAP_MAX_RELEASE_DIFF_ROWS": "5"}) as base:
        yield base


def _problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


def test_list_releases_with_what_changed(server: str, cube: Path) -> None:
    r = httpx.get(f"{server}/datasets/{DATASET}/releases")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["current"] == "r0002" and r.headers["x-carbonmap-release"] == "r0002"
    assert [x["id"] for x in body["releases"]] == ["r0002", "r0001"]
    expected = [i.to_json() for i in releases.list_releases(cube)]
    for got, want in zip(body["releases"], expected, strict=True):
        assert {k: got[k] for k in want} == want
    newest = body["releases"][0]
    assert newest["kind"] == "update" and newest["parent"] == "r0001" and newest["current"]
    assert newest["days_revised"] == [[REVISED, REVISED]] and newest["reason"] == "test revision"
    assert newest["links"]["diff"] == f"/datasets/{DATASET}/releases/r0002/diff"
    one = httpx.get(f"{server}/datasets/{DATASET}/releases/r0001").json()
    assert one["id"] == "r0001" and one["kind"] == "build" and not one["current"] and "diff" not in one["links"]
    detail = httpx.get(f"{server}/datasets/{DATASET}")
    assert detail.json()["release"] == "r0002" and detail.headers["x-carbonmap-release"] == "r0002"
    assert detail.json()["links"]["releases"] == f"/datasets/{DATASET}/releases"
    assert httpx.get(f"{server}/datasets").json()[0]["release"] == "r0002"


def test_as_of_picks_the_release_current_then(server: str, cube: Path) -> None:
    first, second = (dt.datetime.fromisoformat(i.created) for i in reversed(releases.list_releases(cube)))
    assert first < second
    between = (first + (second - first) / 2).isoformat()
    r = httpx.get(f"{server}/datasets/{DATASET}/releases", params={"as_of": between})
    assert r.json()["as_of_release"] == "r0001" and [x["id"] for x in r.json()["releases"]] == ["r0001"]
    d = httpx.get(f"{server}/datasets/{DATASET}", params={"as_of": between})
    assert d.json()["release"] == "r0001" and d.headers["x-carbonmap-release"] == "r0001"
    now = httpx.get(f"{server}/datasets/{DATASET}", params={"as_of": dt.datetime.now(dt.UTC).isoformat()})
    assert now.json()["release"] == "r0002"
    before = (first - dt.timedelta(days=1)).isoformat()
    assert "had no release" in _problem(httpx.get(f"{server}/datasets/{DATASET}", params={"as_of": before}),
                                        404)["detail"]
    _problem(httpx.get(f"{server}/datasets/{DATASET}/releases", params={"as_of": before}), 404)
    _problem(httpx.get(f"{server}/datasets/{DATASET}", params={"as_of": "yesterday"}), 422)
    _problem(httpx.get(f"{server}/datasets/{DATASET}", params={"as_of": between, "release": "r0001"}), 422)


def test_pinned_region_values_are_the_release_values(server: str, cube: Path) -> None:
    def series(**extra: str) -> tuple[dict[str, float], httpx.Response]:
        r = httpx.get(f"{server}/regions/WLD/emissions", params={"dataset": DATASET, "freq": "day", **extra})
        assert r.status_code == 200, r.text
        return {p["period"]: p["total"]["emissions"] for p in r.json()["periods"]}, r

    old, r_old = series(release="r0001")
    new, r_new = series()
    assert r_old.json()["release"] == "r0001" and r_old.headers["x-carbonmap-release"] == "r0001"
    assert r_new.json()["release"] == "r0002"
    for rid, got in (("r0001", old), ("r0002", new)):
        nat = store.open_cube(cube, rid)[cc.NATIONAL_VAR].sum(dim=("sector", "country")).values / 1000.0
        np.testing.assert_allclose([got[d] for d in sorted(got)], nat, rtol=1e-9)
    assert new[REVISED] == pytest.approx(1.5 * old[REVISED], rel=1e-6)
    assert all(new[d] == old[d] for d in old if d != REVISED)
    csv = httpx.get(f"{server}/regions/WLD/emissions", params={"dataset": DATASET, "release": "r0001",
                                                                "format": "csv"})
    assert csv.headers["x-carbonmap-release"] == "r0001"


def test_pinned_polygon_query_body_or_query_parameter(server: str) -> None:
    body = {"geometry": POLY, "dataset": DATASET, "freq": "day", "start": REVISED, "end": REVISED}
    with httpx.Client(base_url=server, timeout=60) as http:
        cur = http.post("/emissions/query", json=body)
        old = http.post("/emissions/query", json={**body, "release": "r0001"})
        old_q = http.post("/emissions/query", json=body, params={"release": "r0001"})
        assert cur.status_code == old.status_code == old_q.status_code == 200, (cur.text, old.text)
        assert cur.json()["release"] == "r0002" and old.json()["release"] == "r0001"
        assert old.headers["x-carbonmap-release"] == "r0001"
        assert old.json()["periods"] == old_q.json()["periods"]
        e_old = old.json()["periods"][0]["total"]["emissions"]
        assert cur.json()["periods"][0]["total"]["emissions"] == pytest.approx(1.5 * e_old, rel=1e-5)
        _problem(http.post("/emissions/query", json={**body, "release": "r0001"}, params={"release": "r0002"}), 422)
        _problem(http.post("/emissions/query", json={**body, "release": "r9"}), 422)
        _problem(http.post("/emissions/query", json={**body, "release": "r0042"}), 404)


def test_download_of_a_pinned_release(server: str, cube: Path) -> None:
    r = httpx.get(f"{server}/download/{DATASET}", params={"release": "r0001", "format": "csv", "start": REVISED,
                                                         "end": REVISED, "sectors": "power", "bbox": "0,0,20,20"})
    assert r.status_code == 200, r.text
    assert r.headers["x-carbonmap-release"] == "r0001" and "rel-test_r0001_" in r.headers["content-disposition"]
    got = pd.read_csv(io.StringIO(r.text))
    ref = store.open_cube(cube, "r0001")[cc.EMISSIONS_VAR].sel(time=REVISED, sector="power")
    for row in got.itertuples():
        assert row.emissions_kg == pytest.approx(float(ref.sel(lat=row.lat, lon=row.lon, method="nearest")), rel=1e-6)


def test_diff_endpoint_equals_releases_diff(server: str, cube: Path) -> None:
    ref = releases.diff(cube, "r0001", "r0002")
    r = httpx.get(f"{server}/datasets/{DATASET}/releases/r0002/diff", params={"sectors": "power,industry"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["against"] == "r0001" and body["release"] == "r0002"  # default: the parent
    assert body["days_revised"] == ref.days_revised == [REVISED]
    assert body["days_added"] == ref.days_added == [] and body["days_removed"] == []
    sel = ref.table[ref.table["sector"].isin(["power", "industry"])]
    assert body["rows"] == len(sel) == 2
    assert body["total_change_t"] == pytest.approx(float(sel["change_t"].sum()), rel=1e-12)
    for row in body["changes"]:
        want = sel[(sel["date"] == row["date"]) & (sel["sector"] == row["sector"])].iloc[0]
        assert (row["against_t"], row["release_t"], row["change_t"]) == pytest.approx(
            (want["a_t"], want["b_t"], want["change_t"]), rel=1e-12)
    assert "immutable" in r.headers["cache-control"] and r.headers["x-carbonmap-release"] == "r0002"
    csv = httpx.get(f"{server}/datasets/{DATASET}/releases/r0002/diff",
                    params={"format": "csv", "against": "r0001", "sectors": "power"})
    table = pd.read_csv(io.StringIO(csv.text))
    assert list(table["sector"]) == ["power"] and table["change_t"].iloc[0] == pytest.approx(
        float(sel[sel["sector"] == "power"]["change_t"].iloc[0]), rel=1e-12)
    same = httpx.get(f"{server}/datasets/{DATASET}/releases/r0002/diff", params={"against": "r0002"}).json()
    assert same["rows"] == 0 and same["days_revised"] == [] and same["total_change_t"] == 0.0
    # r0001 has no parent: say how to compare it
    assert "against=" in _problem(httpx.get(f"{server}/datasets/{DATASET}/releases/r0001/diff"), 422)["detail"]


def test_diff_larger_than_the_limit_is_refused(server: str, cube: Path) -> None:
    assert len(releases.diff(cube, "r0001", "r0002").table) == len(cc.SECTORS) > 5
    p = _problem(httpx.get(f"{server}/datasets/{DATASET}/releases/r0002/diff"), 422)
    assert "limit of 5" in p["detail"] and "narrow" in p["detail"]


def test_tiles_of_two_releases_have_distinct_etags(server: str) -> None:
    with httpx.Client(base_url=server, timeout=60) as http:
        def tile(**params: str) -> httpx.Response:
            r = http.get(TILE, params={"date": REVISED, "sector": "power", "rescale": "1,1000000", **params})
            assert r.status_code == 200, r.text
            return r

        t1, t2, cur = tile(release="r0001"), tile(release="r0002"), tile()
        assert t1.headers["etag"] != t2.headers["etag"]
        assert t2.headers["etag"] == cur.headers["etag"]  # the same release, the same bytes
        assert t1.content != t2.content  # the revised day looks different
        assert t1.headers["x-carbonmap-release"] == "r0001" and cur.headers["x-carbonmap-release"] == "r0002"
        assert "immutable" in t1.headers["cache-control"] and "immutable" not in cur.headers["cache-control"]
        # a client holding the r0001 tile gets the new one, never a 304, from the current URL
        assert http.get(TILE, params={"date": REVISED, "sector": "power", "rescale": "1,1000000"},
                        headers={"If-None-Match": t1.headers["etag"]}).status_code == 200
        again = http.get(TILE, params={"date": REVISED, "sector": "power", "rescale": "1,1000000",
                                       "release": "r0001"}, headers={"If-None-Match": t1.headers["etag"]})
        assert again.status_code == 304
        u1, u2 = tile(release="r0001", date="2024-01-01"), tile(release="r0002", date="2024-01-01")
        assert u1.content == u2.content and u1.headers["etag"] != u2.headers["etag"]  # unrevised day
        tj = http.get("/tiles/rel-test/WebMercatorQuad/tilejson.json", params={"release": "r0001"})
        assert tj.json()["carbonmap"]["release"] == "r0001" and "release=r0001" in tj.json()["tiles"][0]
        assert tj.headers["x-carbonmap-release"] == "r0001"
        tj_cur = http.get("/tiles/rel-test/WebMercatorQuad/tilejson.json").json()
        assert "release=" not in tj_cur["tiles"][0] and tj_cur["carbonmap"]["release"] == "r0002"
        assert tj_cur["tiles"][0].split("v=")[1] != tj.json()["tiles"][0].split("v=")[1]
        leg = http.get("/tiles/rel-test/legend", params={"release": "r0001"})
        assert leg.json()["release"] == "r0001" and "immutable" in leg.headers["cache-control"]
        wmts = http.get("/tiles/rel-test/WMTSCapabilities.xml", params={"release": "r0001"})
        assert wmts.status_code == 200 and "release=r0001" in wmts.text
        assert wmts.headers["etag"] != http.get("/tiles/rel-test/WMTSCapabilities.xml").headers["etag"]


def test_open_zarr_of_a_pinned_past_release_over_http(server: str, cube: Path) -> None:
    url = f"{server}/zarr/{DATASET}/releases/r0001"
    remote = xr.open_zarr(url, consolidated=True)
    assert remote.attrs[store.RELEASE_ATTR] == "r0001"
    got = remote[cc.EMISSIONS_VAR].sel(time=REVISED).values
    np.testing.assert_array_equal(got, store.open_cube(cube, "r0001")[cc.EMISSIONS_VAR].sel(time=REVISED).values)
    current = xr.open_zarr(f"{server}/zarr/{DATASET}", consolidated=True)
    assert current.attrs[store.RELEASE_ATTR] == "r0002"
    np.testing.assert_allclose(current[cc.EMISSIONS_VAR].sel(time=REVISED).values, got * 1.5, rtol=1e-6)
    meta = httpx.get(f"{url}/zarr.json")
    assert "immutable" in meta.headers["cache-control"] and meta.headers["x-carbonmap-release"] == "r0001"
    assert meta.headers["etag"].startswith('"r0001-')
    assert "immutable" not in httpx.get(f"{server}/zarr/{DATASET}/zarr.json").headers["cache-control"]
    _problem(httpx.get(f"{server}/zarr/{DATASET}/releases/r0042/zarr.json"), 404)
    _problem(httpx.get(f"{server}/zarr/{DATASET}/releases/r0001/../../r0002/zarr.json"), 404)


def test_stac_names_the_release(server: str) -> None:
    col = httpx.get(f"{server}/stac/collections/{DATASET}", params={"release": "r0001"}).json()
    assert col["carbonmap:release"] == "r0001"
    assert col["assets"]["zarr"]["href"].endswith(f"/zarr/{DATASET}/releases/r0001")
    assert any(link["rel"] == "version-history" for link in col["links"])
    item = httpx.get(f"{server}/stac/collections/{DATASET}/items/2024-01").json()
    assert item["properties"]["carbonmap:release"] == "r0002"


def test_unknown_release_is_404_naming_the_releases(server: str) -> None:
    for path in (f"/datasets/{DATASET}", "/regions/WLD/emissions", TILE, f"/download/{DATASET}",
                 f"/datasets/{DATASET}/releases/r0042", f"/stac/collections/{DATASET}"):
        params = {"release": "r0042", "dataset": DATASET, "date": REVISED, "format": "csv"}
        if path.endswith("r0042"):
            params = {}
        p = _problem(httpx.get(f"{server}{path}", params=params), 404)
        assert "r0042" in p["detail"] and "r0001, r0002" in p["detail"], (path, p)
        assert p["type"].endswith("release-not-found")
    p = _problem(httpx.get(f"{server}/datasets/{DATASET}/releases/r0002/diff", params={"against": "r0042"}), 404)
    assert "r0001, r0002" in p["detail"]


def test_malformed_release_is_422(server: str) -> None:
    for bad in ("v2", "r12", "r0001;rm", "../r0001", "latest"):
        _problem(httpx.get(f"{server}/datasets/{DATASET}", params={"release": bad}), 422)
        _problem(httpx.get(f"{server}{TILE}", params={"date": REVISED, "release": bad}), 422)
    _problem(httpx.get(f"{server}/datasets/{DATASET}/releases/latest"), 422)
    _problem(httpx.get(f"{server}/datasets/{DATASET}/releases/r0002/diff", params={"against": "x"}), 422)


def test_openapi_documents_release_parameters(server: str) -> None:
    spec = httpx.get(f"{server}/openapi.json").json()
    for path, method in (("/datasets/{id}", "get"), ("/regions/{iso3}/emissions", "get"),
                         ("/regions/{region_id}/analysis", "get"), ("/download/{dataset}", "get"),
                         ("/tiles/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}.{format}", "get"),
                         ("/tiles/{dataset}/legend", "get"), ("/emissions/query", "post")):
        names = {p["name"]: p for p in spec["paths"][path][method]["parameters"]}
        assert "release" in names and "as_of" in names, path
        assert names["release"]["schema"].get("anyOf", [{}])[0].get("pattern") == r"^r\d{4,9}$", path
    for path in ("/datasets/{id}/releases", "/datasets/{id}/releases/{release}",
                 "/datasets/{id}/releases/{release}/diff", "/zarr/{dataset}/releases/{release}/{key}"):
        op = spec["paths"][path]["get"]
        assert "application/problem+json" in op["responses"]["404"]["content"], path


def test_server_picks_up_a_new_release_without_restart(tmp_path: Path) -> None:
    path = write_random_cube(tmp_path / "live.zarr", start="2024-01-01", days=4, dataset_id="live-test")
    with live_server([path], tmp_path / "server.log") as base, httpx.Client(base_url=base, timeout=60) as http:
        def world_day() -> tuple[str, float]:
            r = http.get("/regions/WLD/emissions", params={"start": REVISED, "end": REVISED})
            return r.headers["x-carbonmap-release"], r.json()["periods"][0]["total"]["emissions"]

        tile_params = {"date": REVISED, "rescale": "1,1000000"}
        rel1, v1 = world_day()
        etag1 = http.get("/tiles/live-test/WebMercatorQuad/1/1/0.png", params=tile_params).headers["etag"]
        _revise_day(path, 2, 2.0)
        rel2, v2 = world_day()
        assert (rel1, rel2) == ("r0001", "r0002") and v2 == pytest.approx(2 * v1, rel=1e-6)
        etag2 = http.get("/tiles/live-test/WebMercatorQuad/1/1/0.png", params=tile_params).headers["etag"]
        assert etag2 != etag1
        assert [x["id"] for x in http.get("/datasets/live-test/releases").json()["releases"]] == ["r0002", "r0001"]
        assert http.get("/datasets/live-test").json()["release"] == "r0002"


def test_release_diff_past_the_row_limit_says_how_to_narrow_it(cube: Path) -> None:
    from api.routes.releases import release_diff
    from carbonmap.errors import TooLarge
    from carbonmap.registry import Registry

    reg = Registry()
    reg.add(cube)
    with pytest.raises(TooLarge, match="limit of 5; narrow it"):
        release_diff(reg, DATASET, "r0002", None, 5)
    body, table = release_diff(reg, DATASET, "r0002", None, 5, sectors="power")
    assert body.rows == len(table) == 1 and body.against == "r0001"
