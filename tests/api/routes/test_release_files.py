"""GET /datasets/{id}/releases/{release}/files and .../files/{name} over real HTTP: listing with sha256, downloads
with ETag = sha256, Range (206, Content-Range), a broken transfer resumed with Range, 304, and 404s that say
what exists."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import httpx
import pytest

from pipelines import release_files as rf
from pipelines import store
from tests.api.routes.live_server import live_server, write_random_cube
from tests.pipelines.test_releases import _revise_day

DATASET = "files-test"


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two releases: r0001 with all its files, r0002 (one revised day in January) written like an update."""
    path = write_random_cube(tmp_path_factory.mktemp("files") / "files-test.zarr", start="2023-12-28", days=10,
                             dataset_id=DATASET)
    rel = store.releases_dir(path)
    rf.write_release_files(rel / "r0001", "r0001", daily_months=0)
    _revise_day(path, 6, 1.5)  # 2024-01-03
    rf.write_release_files(rel / "r0002", "r0002", parent=rel / "r0001", changed_days=[dt.date(2024, 1, 3)],
                           daily_months=0)
    return path


@pytest.fixture(scope="module")
def server(cube: Path, tmp_path_factory: pytest.TempPathFactory):
    with live_server([cube], tmp_path_factory.mktemp("files-log") / "server.log") as base:
        yield base


def _listing(server: str, release: str) -> dict:
    r = httpx.get(f"{server}/datasets/{DATASET}/releases/{release}/files")
    assert r.status_code == 200, r.text
    assert r.headers["x-carbonmap-release"] == release
    return r.json()


def test_listing_names_every_file_with_size_sha256_and_link(server: str, cube: Path) -> None:
    body = _listing(server, "r0002")
    manifest = rf.read_manifest(store.releases_dir(cube) / "r0002")
    assert [f["name"] for f in body["files"]] == list(manifest) and body["note"] is None
    by_name = {f["name"]: f for f in body["files"]}
    dec = by_name[f"{DATASET}_2023-12_daily_r0001.nc"]  # December unchanged: the parent's file, same name
    assert dec["written_in"] == "r0001" and dec["media_type"] == "application/x-netcdf"
    assert f"{DATASET}_2024-01_daily_r0002.nc" in by_name and f"{DATASET}_2024-01_daily_r0001.nc" not in by_name
    for f in body["files"]:
        assert f["href"] == f"/datasets/{DATASET}/releases/r0002/files/{f['name']}"
        assert f["size"] == manifest[f["name"]].size and f["sha256"] == manifest[f["name"]].sha256


def test_download_has_sha256_etag_and_bytes_that_match(server: str) -> None:
    for f in _listing(server, "r0001")["files"]:
        r = httpx.get(server + f["href"])
        assert r.status_code == 200, r.text
        assert hashlib.sha256(r.content).hexdigest() == f["sha256"] and len(r.content) == f["size"]
        assert r.headers["etag"] == f'"{f["sha256"]}"'
        assert r.headers["content-type"].split(";")[0] == f["media_type"].split(";")[0]
        assert r.headers["accept-ranges"] == "bytes" and f["name"] in r.headers["content-disposition"]
        again = httpx.get(server + f["href"], headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and not again.content


def test_range_request_answers_206_with_content_range(server: str) -> None:
    f = next(f for f in _listing(server, "r0001")["files"] if f["kind"] == "daily")
    r = httpx.get(server + f["href"], headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and len(r.content) == 100
    assert r.headers["content-range"] == f"bytes 100-199/{f['size']}"
    whole = httpx.get(server + f["href"]).content
    assert r.content == whole[100:200]


def test_a_broken_transfer_resumes_with_range(server: str) -> None:
    f = next(f for f in _listing(server, "r0002")["files"] if f["name"].endswith("_daily_r0002.nc"))
    got = bytearray()
    with httpx.stream("GET", server + f["href"]) as r:  # the connection drops after ~1/3 of the file
        for chunk in r.iter_bytes(4096):
            got += chunk
            if len(got) >= f["size"] // 3:
                break
    assert 0 < len(got) < f["size"]
    rest = httpx.get(server + f["href"], headers={"Range": f"bytes={len(got)}-", "If-Range": f'"{f["sha256"]}"'})
    assert rest.status_code == 206 and rest.headers["content-range"] == f"bytes {len(got)}-{f['size'] - 1}/{f['size']}"
    got += rest.content
    assert len(got) == f["size"] and hashlib.sha256(got).hexdigest() == f["sha256"]


def _problem(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return str(r.json()["detail"])


def test_unknown_file_or_release_is_404_saying_what_exists(server: str) -> None:
    base = f"{server}/datasets/{DATASET}/releases"
    detail = _problem(httpx.get(f"{base}/r0001/files/nope.nc"), 404)
    assert f"{DATASET}_2023-12_daily_r0001.nc" in detail and "/files" in detail
    for name in ("files.json", "..%2Fzarr.json", "%2E%2E", ".files.json"):
        r = httpx.get(f"{base}/r0001/files/{name}")
        assert r.status_code == 404, (name, r.text)
    assert "r0001, r0002" in _problem(httpx.get(f"{base}/r0009/files"), 404)
    assert "r0001, r0002" in _problem(httpx.get(f"{base}/r0009/files/x.nc"), 404)
    assert _problem(httpx.get(f"{base}/v1/files"), 422)


def test_a_release_without_files_lists_none_and_says_what_to_use(tmp_path: Path) -> None:
    path = write_random_cube(tmp_path / "bare.zarr", start="2024-01-01", days=2, dataset_id="bare")
    with live_server([path], tmp_path / "server.log") as base:
        body = httpx.get(f"{base}/datasets/bare/releases/r0001/files").json()
        assert body["files"] == [] and "/zarr/bare/releases/r0001" in body["note"]
        item = httpx.get(f"{base}/stac/collections/bare/items/2024-01").json()
        assert set(item["assets"]) == {"zarr"}  # no dead NetCDF link


def test_openapi_documents_the_file_endpoints_with_examples(server: str) -> None:
    spec = httpx.get(f"{server}/openapi.json").json()
    listing = spec["paths"]["/datasets/{id}/releases/{release}/files"]["get"]
    one = spec["paths"]["/datasets/{id}/releases/{release}/files/{name}"]["get"]
    assert "404" in listing["responses"] and "application/problem+json" in one["responses"]["404"]["content"]
    assert "206" in one["responses"] and any(p["name"] == "name" and p.get("examples") for p in one["parameters"])
    assert spec["components"]["schemas"]["ReleaseFile"].get("examples")
