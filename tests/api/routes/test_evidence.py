"""Evidence over real HTTP: what carries each value, the data edge, and evidence in NetCDF downloads."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from carbonmap import contract as cc
from tests.api.routes.live_server import live_server


@pytest.fixture(scope="module")
def server(real_cube: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("evidence-log") / "server.log"
    with live_server([real_cube], log, {}) as base:
        yield base


def test_dataset_lists_evidence_levels_and_data_edges(server: str) -> None:
    body = httpx.get(f"{server}/datasets/real-5deg", timeout=60).json()
    assert body["evidence_levels"] == list(cc.EVIDENCE_LEVELS)
    assert body["data_edge"]["CHN"]["power"].startswith("monthly-statistics through 2024-12-31")  # this cube: 2024
    assert "daily-activity" in body["data_edge"]["IND"]["power"]


def test_region_answers_carry_evidence_shares(server: str) -> None:
    r = httpx.get(f"{server}/regions/CHN/emissions", params={"dataset": "real-5deg", "freq": "month"}, timeout=60)
    assert r.status_code == 200, r.text
    p = r.json()["periods"][0]
    assert p["sectors"]["power"]["evidence"] == {"monthly-statistics": 1.0}
    assert p["sectors"]["residential"]["evidence"] == {"annual-inventory": 1.0}
    total = p["total"]["evidence"]
    assert set(total) == {"monthly-statistics", "annual-inventory"} and sum(total.values()) == pytest.approx(1.0)


def test_netcdf_download_has_the_evidence_table(server: str) -> None:
    import netCDF4

    r = httpx.get(f"{server}/download/real-5deg", params={"bbox": "70,10,140,55", "start": "2024-03-01",
                                                          "end": "2024-03-02", "format": "netcdf"}, timeout=120)
    assert r.status_code == 200, r.text
    with netCDF4.Dataset("inmemory.nc", memory=io.BytesIO(r.content).getvalue()) as nc:
        ev = nc.variables[cc.EVIDENCE_VAR]
        assert ev.dimensions == ("time", "sector", "country") and ev.shape[0] == 2
        assert "monthly_statistics" in ev.getncattr("flag_meanings")
        assert "CHN" in nc.getncattr("carbonmap_data_edge")
