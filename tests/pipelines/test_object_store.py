"""Stores on object storage: build and read a cube on a real S3-compatible server (moto, localhost)."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import numpy as np
import pytest

from carbonmap import contract as cc
from carbonmap.registry import Registry
from carbonmap.settings import get_settings
from pipelines import remote, store
from pipelines.build import BuildRequest, build
from pipelines.consistency import check_store
from pipelines.inputs import load_inputs

moto_server = pytest.importorskip("moto.server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory):
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    mp = pytest.MonkeyPatch()
    env = {"CARBONMAP_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}", "CARBONMAP_S3_REGION": "us-east-1",
           "CARBONMAP_S3_ACCESS_KEY_ID": "testing", "CARBONMAP_S3_SECRET_ACCESS_KEY": "testing",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    for k, v in env.items():
        mp.setenv(k, v)
    get_settings.cache_clear()
    import boto3

    boto3.client("s3", endpoint_url=env["CARBONMAP_S3_ENDPOINT_URL"], region_name="us-east-1").create_bucket(
        Bucket="carbonmap-test")
    yield "s3://carbonmap-test"
    mp.undo()
    get_settings.cache_clear()
    server.stop()


@pytest.mark.e2e
def test_build_and_read_a_cube_on_s3(s3: str) -> None:
    url = f"{s3}/cubes/s3-10deg.zarr"
    out = build(BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 4), 10.0, url, "s3-10deg"),
                inputs=load_inputs(cc.Grid(10.0)))
    assert out == url
    assert store.current_release(url) == "r0001"
    assert remote.read_text(url, "CURRENT").strip() == "r0001"
    ds = store.open_cube(url)
    assert ds.sizes["time"] == 4 and ds.attrs[cc.STATUS_ATTR] == cc.STATUS_COMPLETE
    report = check_store(url)
    assert report.ok and report.days == 4, report.problems
    total = float(np.asarray(ds[cc.EMISSIONS_VAR].isel(time=1).values, dtype=np.float64).sum())
    nat = float(ds[cc.NATIONAL_VAR].isel(time=1).sum())
    assert total == pytest.approx(nat, rel=1e-6)
    reg = Registry()
    cube = reg.add(url)
    assert cube.release == "r0001" and cube.read_day(dt.date(2024, 3, 2), "power").sum() > 0
    # the CLI's Path would collapse s3:// to s3:/; the request normalises it back
    assert BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 2), 10.0, Path(url), "x").store == url


def test_unpublished_s3_release_is_invisible(s3: str) -> None:
    url = f"{s3}/cubes/never.zarr"
    with pytest.raises(store.StoreError, match="no CURRENT"):
        store.open_cube(url)
