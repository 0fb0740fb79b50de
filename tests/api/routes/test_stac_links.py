"""Every STAC link resolves (issue #19): crawl the catalogue over real HTTP from /stac through every collection,
item, link and asset (current and pinned releases) and assert each answers 200.  Links off this server (the
licence's page at creativecommons.org) cannot be fetched here (no internet); they are checked to be https and
listed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pystac
import pytest

from carbonmap.storage.release_files import files_dir
from pipelines import release_files as rf
from pipelines import store
from tests.api.routes.live_server import live_server, write_random_cube
from tests.pipelines.test_releases import _revise_day

DATASET = "stac-links"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("stac-links")
    path = write_random_cube(tmp / f"{DATASET}.zarr", start="2024-01-25", days=12, dataset_id=DATASET)
    rel = store.releases_dir(path)
    rf.write_release_files(rel / "r0001", "r0001", daily_months=1)
    _revise_day(path, 10, 1.2)  # 2024-02-04
    rf.write_release_files(rel / "r0002", "r0002", parent=rel / "r0001", changed_days=[dt.date(2024, 2, 4)],
                           daily_months=1)
    with live_server([path], tmp / "server.log") as base:
        yield base


def _hrefs(doc: dict) -> list[str]:
    out = [link["href"] for link in doc.get("links", [])]
    out += [a["href"] for a in doc.get("assets", {}).values()]
    return out


def crawl(base: str, start: str) -> tuple[dict[str, int], set[str], int]:
    """Follow every link and asset reachable from ``start``: (status per same-server URL, external URLs, number of
    STAC documents validated)."""
    seen: dict[str, int] = {}
    external: set[str] = set()
    todo = [start]
    documents = 0
    host = urlparse(base).netloc
    with httpx.Client(timeout=60) as http:
        while todo:
            url = todo.pop()
            if url in seen:
                continue
            if urlparse(url).netloc != host:
                external.add(url)
                continue
            r = http.get(url)
            seen[url] = r.status_code
            kind = r.headers.get("content-type", "")
            if r.status_code == 200 and ("json" in kind) and "/stac" in urlparse(url).path:
                doc = r.json()
                if doc.get("type") in ("Catalog", "Collection", "Feature"):
                    pystac.validation.validate_dict(doc)
                    documents += 1
                    todo += [h for h in _hrefs(doc) if h not in seen]
    return seen, external, documents


@pytest.mark.parametrize("query", ["", "?release=r0001"])
def test_every_stac_link_and_asset_answers_200(server: str, query: str) -> None:
    start = f"{server}/stac" if not query else f"{server}/stac/collections/{DATASET}{query}"
    seen, external, documents = crawl(server, start)
    bad = {u: s for u, s in seen.items() if s != 200}
    assert not bad, bad
    assert documents >= 3  # catalog/collection and both month items
    assert all(u.startswith("https://") for u in external) and len(external) <= 1
    files = [u for u in seen if "/files/" in u]
    assert any(u.endswith(("_daily_r0002.nc", "_daily_r0001.nc")) for u in files)
    assert any(u.endswith(".tif") for u in files) and any(u.endswith(".parquet") for u in files)
    assert not any("/download/" in u for u in seen)  # the old 422 links are gone


def test_items_carry_the_month_files_and_the_collection_the_rest(server: str) -> None:
    item = httpx.get(f"{server}/stac/collections/{DATASET}/items/2024-02").json()
    assert {"daily-netcdf", "monthly-mean-netcdf", "monthly-mean-cog", "zarr"} <= set(item["assets"])
    daily = item["assets"]["daily-netcdf"]
    assert daily["href"].endswith(f"/datasets/{DATASET}/releases/r0002/files/{DATASET}_2024-02_daily_r0002.nc")
    assert len(daily["carbonmap:sha256"]) == 64 and daily["type"] == "application/x-netcdf"
    jan = httpx.get(f"{server}/stac/collections/{DATASET}/items/2024-01").json()
    assert "daily-netcdf" not in jan["assets"]  # daily files for the latest month only (daily_months=1)
    assert jan["assets"]["monthly-mean-cog"]["href"].endswith(f"{DATASET}_2024-01_monthly-mean_r0001.tif")
    col = httpx.get(f"{server}/stac/collections/{DATASET}").json()
    assert {"annual-total-2024-netcdf", "annual-total-2024-cog", "national-daily-csv",
            "national-daily-parquet"} <= set(col["assets"])
    rels = {link["rel"]: link["href"] for link in col["links"]}
    assert rels["cite-as"].endswith(f"/datasets/{DATASET}/citation?format=cff&release=r0002")
    assert rels["related"].endswith(f"/datasets/{DATASET}/releases/r0002/files")


def test_crawl_reports_a_dead_link(tmp_path: Path) -> None:
    """The crawler can fail: a listed file deleted behind the server's back is a 404 the crawl reports."""
    path = write_random_cube(tmp_path / "dead.zarr", start="2024-01-01", days=2, dataset_id="dead")
    rel = store.releases_dir(path) / "r0001"
    entries = rf.write_release_files(rel, "r0001", daily_months=1)
    with live_server([path], tmp_path / "server.log") as base:
        url = f"{base}/datasets/dead/releases/r0001/files/{entries[0].name}"
        (files_dir(rel) / entries[0].name).unlink()
        seen, _, _ = crawl(base, url)
        assert seen == {url: 404}
