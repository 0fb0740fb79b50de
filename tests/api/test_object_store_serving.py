"""Serving from object storage: a store built on S3 (moto's server on loopback) carries its pyramid, time-series
layout and release files, and a real `api.serve` process serves tiles, region queries, release files and Zarr
keys from them with the same answers as the same build on local disk (#20.4)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from carbonmap import contract as cc
from carbonmap.registry import Registry
from carbonmap.settings import get_settings
from pipelines.build import BuildRequest, build
from pipelines.inputs import load_inputs
from tests.api.routes.live_server import live_server
from tests.s3_server import moto_s3

START, END = dt.date(2024, 3, 1), dt.date(2024, 3, 4)
BOX = {"type": "Polygon", "coordinates": [[[-10, 35], [30, 35], [30, 60], [-10, 60], [-10, 35]]]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    with moto_s3("carbonmap-serve") as (bucket, env):
        inputs = load_inputs(cc.Grid(10.0))
        url = f"{bucket}/cubes/s3-serve.zarr"
        build(BuildRequest(START, END, 10.0, url, "s3-serve"), inputs=inputs)
        local = tmp_path_factory.mktemp("local-serve") / "local-serve.zarr"
        build(BuildRequest(START, END, 10.0, local, "local-serve"), inputs=inputs)
        log = tmp_path_factory.mktemp("s3-serve-log") / "server.log"
        with live_server([url, local], log, env_extra=env) as base:  # type: ignore[list-item]
            yield SimpleNamespace(base=base, url=url, local=local)
    get_settings.cache_clear()


def _both(served: SimpleNamespace, path: str, method: str = "GET", **kw: object) -> tuple[httpx.Response, ...]:
    """The same request to the S3 dataset and to its local twin."""
    with httpx.Client(base_url=served.base, timeout=60) as http:
        return tuple(http.request(method, path.format(id=ds), **kw)  # type: ignore[arg-type]
                     for ds in ("s3-serve", "local-serve"))


@pytest.mark.e2e
def test_tiles_come_from_the_s3_pyramid_and_equal_local_ones(served: SimpleNamespace) -> None:
    for date, z, x, y in (("2024-03-02", 2, 2, 1), ("2024-03", 1, 1, 0), ("2024", 0, 0, 0)):
        s3, loc = _both(served, "/tiles/{id}/WebMercatorQuad/" + f"{z}/{x}/{y}.png",
                        params={"date": date, "sector": "power", "rescale": "1,1000000"})
        assert s3.status_code == 200 and loc.status_code == 200, (s3.text, loc.text)
        assert s3.headers["x-tile-renderer"] == "pyramid" == loc.headers["x-tile-renderer"], date
        assert s3.content == loc.content, date  # the same pixels from the object store as from disk


@pytest.mark.e2e
def test_region_queries_read_the_s3_time_series_layout_and_equal_local_ones(served: SimpleNamespace) -> None:
    body = {"geometry": BOX, "start": "2024-03-02", "end": "2024-03-04", "freq": "day"}
    s3, loc = _both(served, "/emissions/query", method="POST", json=body)
    assert s3.status_code == 200 and loc.status_code == 200, (s3.text, loc.text)
    a, b = s3.json(), loc.json()
    assert [p["period"] for p in a["periods"]] == [p["period"] for p in b["periods"]] and len(a["periods"]) == 3
    for pa, pb in zip(a["periods"], b["periods"], strict=True):
        assert pa["total"]["emissions"] == pytest.approx(pb["total"]["emissions"], rel=1e-12) and \
            pa["total"]["emissions"] > 0
    # the engine reads the layout on S3 (not the map-chunked cube fallback)
    from api.query_engine import _Source
    from tiles.chunks import ChunkCache

    cube = Registry().add(served.url)
    assert _Source(cube, ChunkCache(1 << 20)).ts is not None


@pytest.mark.e2e
def test_release_files_are_served_from_s3_with_ranges(served: SimpleNamespace) -> None:
    with httpx.Client(base_url=served.base, timeout=60) as http:
        listing = http.get("/datasets/s3-serve/releases/r0001/files").json()
        local = http.get("/datasets/local-serve/releases/r0001/files").json()
        names = sorted(f["name"].replace("s3-serve", "X") for f in listing["files"])
        assert names and names == sorted(f["name"].replace("local-serve", "X") for f in local["files"])
        one = next(f for f in listing["files"] if f["name"].endswith("_daily_r0001.nc"))
        r = http.get(one["href"])
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == one["sha256"]
        assert r.headers["etag"] and "attachment" in r.headers["content-disposition"]
        part = http.get(one["href"], headers={"Range": "bytes=0-7"})
        assert part.status_code == 206 and part.content == r.content[:8] and part.content.startswith(b"\x89HDF")
        assert http.get(one["href"], headers={"If-None-Match": r.headers["etag"]}).status_code == 304
        assert http.get("/datasets/s3-serve/releases/r0001/files/nope.nc").status_code == 404
        key = http.get("/zarr/s3-serve/releases/r0001/zarr.json")
        assert key.status_code == 200 and key.json()["attributes"]["carbonmap_dataset_id"] == "s3-serve"


def test_the_local_twin_is_what_it_seems(served: SimpleNamespace) -> None:
    """Guard for the comparisons above: the local build has its layouts on disk (a pyramid, a time-series layout,
    release files), so 'equal to local' compares like with like."""
    rel = Path(served.local).resolve()
    assert (rel / "pyramid" / "zarr.json").is_file() and (rel / "files" / "files.json").is_file()
    assert rel.with_name(rel.name + ".timeseries").is_dir() and len(list((rel / "files").iterdir())) > 2
