"""The walking skeleton end to end: real inputs -> Dask build -> Zarr -> `carbonmap serve` -> HTTP."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest
import xarray as xr
from PIL import Image

from tests.api.routes.live_server import live_server


@pytest.fixture(scope="module")
def server(real_cube: Path, tmp_path_factory: pytest.TempPathFactory):
    """``carbonmap serve`` (the user's command) on the real-pipeline cube."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with live_server([real_cube], log, module=("carbonmap", "serve")) as base:
        yield base


@pytest.mark.e2e
def test_tile_is_a_256_png_with_emissions(server: str) -> None:
    r = httpx.get(f"{server}/tiles/real-5deg/WebMercatorQuad/1/1/0.png", params={"date": "2024-03-02",
                                                                                "sector": "total"}, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(r.content)).convert("RGBA")
    assert img.size == (256, 256)
    alpha = np.asarray(img)[..., 3]
    assert (alpha > 0).mean() > 0.05, "Europe/Asia tile must show emissions"


@pytest.mark.e2e
def test_region_query_matches_the_cube(server: str, real_cube: Path) -> None:
    r = httpx.get(f"{server}/regions/DEU/emissions", params={"dataset": "real-5deg", "start": "2024-03-01",
                                                            "end": "2024-03-10", "freq": "day"}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    ds = xr.open_zarr(real_cube)
    expected_t = float(ds["national_emissions"].sel(country="DEU").sum()) / 1000.0
    got_t = sum(float(v) for v in _all_values(body))
    assert got_t == pytest.approx(expected_t, rel=1e-6)


def _all_values(body: dict) -> list[float]:
    """Every per-period, per-sector emission value (t CO2) in a region-query response."""
    assert body["units"] == "t CO2" and len(body["periods"]) == 10
    return [float(est["emissions"]) for period in body["periods"] for est in period["sectors"].values()]


@pytest.mark.e2e
@pytest.mark.parametrize("path,params,status", [
    ("/regions/ZZZ/emissions", {"start": "2024-03-01", "end": "2024-03-02"}, 404),
    ("/regions/DEU/emissions", {"start": "2024-03-05", "end": "2024-03-01"}, 422),
    ("/regions/DEU/emissions", {"start": "2024-03-01", "end": "2024-03-02", "sectors": "coal"}, 422),
    ("/regions/DEU/emissions", {"start": "2023-01-01", "end": "2023-01-02"}, 404),
    ("/tiles/real-5deg/WebMercatorQuad/1/5/0.png", {"date": "2024-03-01"}, 404),
    ("/tiles/real-5deg/WebMercatorQuad/1/1/0.png", {"date": "2024-03-01", "sector": "coal"}, 422),
    ("/tiles/nope/WebMercatorQuad/1/1/0.png", {"date": "2024-03-01"}, 404),
])
def test_bad_requests_get_problem_json(server: str, path: str, params: dict, status: int) -> None:
    r = httpx.get(f"{server}{path}", params=params, timeout=30)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert len(r.json()["detail"]) > 10
