"""ERA5 CDS retrieve flow against a real local HTTP server imitating the CDS API v1."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from carbonmap.settings import get_settings
from ingest.base import IngestError
from ingest.era5 import ERA5Adapter
from ingest.era5_cds import download_era5, month_request, months


def _era5_nc(path: Path) -> bytes:
    """A small NetCDF in the CDS 2024+ layout (valid_time, latitude, longitude; t2m in K)."""
    t = pd.date_range("2024-01-30", periods=48, freq="h")
    lat, lon = np.array([50.0, 49.0]), np.array([8.0, 9.0, 10.0])
    t2m = 270.0 + np.arange(48 * 2 * 3, dtype="float32").reshape(48, 2, 3) / 100.0
    ds = xr.Dataset({"t2m": (("valid_time", "latitude", "longitude"), t2m, {"units": "K"})},
                    coords={"valid_time": t, "latitude": lat, "longitude": lon})
    ds.to_netcdf(path, engine="netcdf4")
    return path.read_bytes()


@pytest.fixture()
def cds(publisher, set_settings, tmp_path: Path):
    base, routes, hits = publisher
    body = _era5_nc(tmp_path / "src.nc")
    state = {"polls": 0, "md5": hashlib.md5(body).hexdigest(), "size": len(body), "inputs": None}

    def auth(h) -> bool:
        return h.get("PRIVATE-TOKEN") == "k-123"

    def execute(q, h, b):
        if not auth(h):
            return 401, "application/json", b'{"title": "Authentication failed"}'
        state["inputs"] = json.loads(b)["inputs"]
        return 201, "application/json", json.dumps({
            "processID": "reanalysis-era5-single-levels", "type": "process", "jobID": "job-1",
            "status": "accepted", "created": "2024-02-01T00:00:00", "links": []}).encode()

    def status(q, h, b):
        state["polls"] += 1
        st = "running" if state["polls"] < 2 else "successful"
        return 200, "application/json", json.dumps({"jobID": "job-1", "status": st}).encode()

    def results(q, h, b):
        return 200, "application/json", json.dumps({"asset": {"value": {
            "type": "application/netcdf", "href": f"{base}/cache/data.nc",
            "file:checksum": state["md5"], "file:size": state["size"]}}}).encode()

    routes[("POST", "/api/retrieve/v1/processes/reanalysis-era5-single-levels/execution")] = execute
    routes[("GET", "/api/retrieve/v1/jobs/job-1")] = status
    routes[("GET", "/api/retrieve/v1/jobs/job-1/results")] = results
    routes[("GET", "/cache/data.nc")] = lambda q, h, b: (200, "application/x-netcdf", body)
    set_settings(cds_url=f"{base}/api", cds_api_key="k-123")
    return base, state, hits


def test_months_and_request() -> None:
    assert months(date(2023, 12, 30), date(2024, 2, 1)) == [(2023, 12), (2024, 1), (2024, 2)]
    r = month_request(2024, 1, date(2024, 1, 30), date(2024, 2, 3))
    assert r["day"] == ["30", "31"] and len(r["time"]) == 24 and r["variable"] == ["2m_temperature"]
    with pytest.raises(IngestError, match="before its start"):
        months(date(2024, 2, 1), date(2024, 1, 1))


def test_submit_poll_fetch_and_read(cds, tmp_cache: Path) -> None:
    _, state, hits = cds
    paths = download_era5(date(2024, 1, 30), date(2024, 1, 31), poll_s=0.01, settings=get_settings())
    assert len(paths) == 1 and paths[0].is_relative_to(tmp_cache) and paths[0].suffix == ".nc"
    assert state["inputs"]["day"] == ["30", "31"] and state["inputs"]["data_format"] == "netcdf"
    assert state["polls"] == 2
    daily = ERA5Adapter().read(paths)
    assert daily.sizes["day"] == 2 and float(daily.isel(day=0).mean()) == pytest.approx(
        270.0 + (24 * 6 - 1) / 200.0 - 273.15, abs=1e-3)
    n = len(hits)
    assert download_era5(date(2024, 1, 30), date(2024, 1, 31), poll_s=0.01, settings=get_settings()) == paths
    assert len(hits) == n  # the month comes from the cache, no new job


def test_missing_key_names_the_setting(set_settings, tmp_cache: Path) -> None:
    set_settings(cds_api_key="")
    with pytest.raises(IngestError, match="set the setting 'cds_api_key'.*CARBONMAP_CDS_API_KEY"):
        ERA5Adapter().download(date(2024, 1, 1), date(2024, 1, 2))


def test_wrong_key_and_offline(cds, set_settings, dead_url: str, tmp_cache: Path) -> None:
    set_settings(cds_api_key="bad-key-xyz")
    with pytest.raises(IngestError, match="401.*credential was refused") as e:
        download_era5(date(2024, 1, 30), date(2024, 1, 31), poll_s=0.01, retries=1, settings=get_settings())
    assert "bad-key-xyz" not in str(e.value)
    set_settings(cds_url=f"{dead_url}/api", cds_api_key="k-123")
    with pytest.raises(IngestError, match="after 2 attempts.*are you offline"):
        download_era5(date(2024, 1, 30), date(2024, 1, 31), retries=2, backoff_s=0.01, settings=get_settings())


def test_checksum_mismatch_leaves_nothing(cds, tmp_cache: Path) -> None:
    _, state, _ = cds
    state["md5"] = "0" * 32
    with pytest.raises(IngestError, match="md5 .* expected 0{32}"):
        download_era5(date(2024, 1, 30), date(2024, 1, 31), poll_s=0.01, retries=1, settings=get_settings())
    assert not [p for p in (tmp_cache / "downloads" / "era5").glob("*") if p.is_file()]
