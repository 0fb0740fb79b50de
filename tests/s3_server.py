"""Test support: moto's S3 server on loopback (a real S3-compatible HTTP server, started in this process)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest

from carbonmap.settings import get_settings
from tests.api.routes.live_server import free_port


@contextlib.contextmanager
def moto_s3(bucket: str = "carbonmap-test") -> Iterator[tuple[str, dict[str, str]]]:
    """Start moto's threaded S3 server, point carbonmap's settings at it and create ``bucket``; yields
    (``s3://bucket``, the environment a subprocess needs to reach it).  Skips when moto is not installed."""
    moto_server = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request otherwise
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {"CARBONMAP_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}", "CARBONMAP_S3_REGION": "us-east-1",
           "CARBONMAP_S3_ACCESS_KEY_ID": "testing", "CARBONMAP_S3_SECRET_ACCESS_KEY": "testing",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "CARBONMAP_DASK_PROCESSES": "false"}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    get_settings.cache_clear()
    try:
        import boto3

        boto3.client("s3", endpoint_url=env["CARBONMAP_S3_ENDPOINT_URL"], region_name="us-east-1").create_bucket(
            Bucket=bucket)
        yield f"s3://{bucket}", env
    finally:
        mp.undo()
        get_settings.cache_clear()
        server.stop()
