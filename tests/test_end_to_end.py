"""The walking skeleton end to end: real inputs -> Dask build -> Zarr -> `carbonmap serve` -> HTTP."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import xarray as xr
from PIL import Image

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(real_cube: Path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "carbonmap", "serve", "--store", str(real_cube), "--port",
                             str(port)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("server did not start within 90 s")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


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
