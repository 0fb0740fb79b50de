"""GET /datasets and GET /datasets/{id}: coverage, units, grid, provenance, licence, citation."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from carbonmap import contract as cc
from carbonmap.contract import sha256_file

from ..conftest import MULTI_COUNTRIES, MULTI_ID, REPO


def test_list_has_every_served_dataset_with_its_time_range(client, registry, multi_cube):
    body = client.get("/datasets").json()
    assert [d["id"] for d in body] == registry.ids()
    multi = next(d for d in body if d["id"] == MULTI_ID)
    times = xr.open_zarr(multi_cube, chunks=None)["time"].values
    assert multi["time"]["start"] == str(np.datetime_as_string(times[0], unit="D"))
    assert multi["time"]["end"] == str(np.datetime_as_string(times[-1], unit="D"))
    assert multi["time"]["days"] == len(times)
    assert multi["resolution_deg"] == 10.0
    assert multi["links"]["self"] == f"/datasets/{MULTI_ID}"


def test_detail_carries_provenance_with_real_flags_and_hashes(client):
    body = client.get(f"/datasets/{MULTI_ID}").json()
    assert [s["id"] for s in body["sectors"]] == list(cc.SECTORS)
    assert body["countries"] == list(MULTI_COUNTRIES)
    assert body["grid"]["shape"] == [18, 36] and body["grid"]["bounds"] == [-180, -90, 180, 90]
    assert body["units"]["emissions"].startswith(cc.EMISSIONS_UNITS)
    inputs = {i["source"]: i for i in body["provenance"]["inputs"]}
    gcb = inputs["Global Carbon Budget 2025"]
    assert gcb["real"] is True and gcb["license"] == "CC-BY-4.0"
    assert gcb["sha256"] == sha256_file(REPO / "data" / gcb["path"])
    assert inputs["carbonmap test fixture"]["real"] is False
    assert body["provenance"]["proxies"] == ["the national table is random test data"]
    assert body["provenance"]["methods"]["spatial"] == "one cell per country"
    assert body["license"].startswith("CC-BY-4.0")
    assert "Global Carbon Budget 2025 (CC-BY-4.0)" in body["citation"] and MULTI_ID in body["citation"]
    assert body["contract_version"] == cc.CONTRACT_VERSION


@pytest.mark.parametrize(("dataset_id", "status", "needle"), [
    ("nope", 404, "served datasets"),
    ("-leading-dash", 422, "'id'"),
    ("a b", 422, "'id'"),
    ("a" * 300, 422, "'id'"),
])
def test_unknown_or_malformed_ids_are_problems(client, dataset_id, status, needle):
    r = client.get(f"/datasets/{dataset_id}")
    assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json")
    assert needle in r.json()["detail"]


def test_path_traversal_never_opens_files(client):
    for url in ("/datasets/..%2F..%2Fetc%2Fpasswd", "/datasets/%2e%2e", "/static/..%2F..%2Fcarbonmap%2Fsettings.py",
                "/static/../../pyproject.toml"):
        r = client.get(url)
        assert r.status_code in (404, 422), url
        assert "pydantic" not in r.text and "[project]" not in r.text
