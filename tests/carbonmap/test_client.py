"""carbonmap.client against a real live server (uvicorn subprocess) on a random cube with release files."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from carbonmap import contract as cc
from carbonmap.client import CarbonmapError, ChecksumError, Client
from pipelines import release_files as rf
from pipelines import store
from tests.api.routes.live_server import live_server, write_random_cube

DATASET = "client-test"
POLY = {"type": "Feature", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[[0.0, 40.0], [20.0, 40.0], [20.0, 60.0], [0.0, 60.0],
                                                         [0.0, 40.0]]]}}


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_random_cube(tmp_path_factory.mktemp("client") / "client-test.zarr", start="2023-12-28", days=10,
                             dataset_id=DATASET)
    rf.write_release_files(store.releases_dir(path) / "r0001", "r0001", daily_months=0)
    return path


@pytest.fixture(scope="module")
def server(cube: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server([cube], tmp_path_factory.mktemp("client-log") / "server.log") as base:
        yield base


@pytest.fixture()
def cm(server: str) -> Iterator[Client]:
    with Client(server, retries=1, backoff=0.05) as client:
        yield client


def test_datasets_and_open_dataset_over_http(cm: Client, cube: Path) -> None:
    assert [d["id"] for d in cm.datasets()] == [DATASET]
    remote = cm.open_dataset(DATASET)
    local = xr.open_zarr(cube, chunks=None)
    part = remote[cc.EMISSIONS_VAR].isel(time=3, sector=1, lat=slice(4, 9), lon=slice(10, 20)).values
    np.testing.assert_array_equal(part, local[cc.EMISSIONS_VAR].isel(time=3, sector=1, lat=slice(4, 9),
                                                                     lon=slice(10, 20)).values)
    pinned = cm.open_dataset(DATASET, release="r0001")
    assert pinned.attrs["version"] == "r0001" and "cell_area" in pinned


def test_region_and_polygon_emissions_are_dataframes(cm: Client, cube: Path) -> None:
    local = xr.open_zarr(cube, chunks=None)
    df = cm.region_emissions("WLD", dataset=DATASET, freq="year", sectors=["power", "industry"])
    assert {"period", "sector", "emissions_t", "lower_t", "upper_t"} <= set(df.columns), df.columns
    power_2024 = df[(df["sector"] == "power") & (df["period"].astype(str) == "2024")]["emissions_t"].iloc[0]
    expected_t = float(local[cc.NATIONAL_VAR].sel(sector="power", time=slice("2024", "2024")).sum()) / 1e3
    assert power_2024 == pytest.approx(expected_t, rel=1e-6)
    poly = cm.polygon_emissions(POLY, dataset=DATASET, freq="day", sectors="power", start="2024-01-01",
                                end="2024-01-02")
    cells = local[cc.EMISSIONS_VAR].sel(sector="power", lat=slice(60, 40), lon=slice(0, 20),
                                        time=slice("2024-01-01", "2024-01-02")).astype(float)
    got = poly[poly["sector"] == "power"]["emissions_t"].to_numpy()
    np.testing.assert_allclose(got, cells.sum(("lat", "lon")).values / 1e3, rtol=1e-5)
    with pytest.raises(CarbonmapError, match="unknown country") as err:
        cm.region_emissions("DEX", dataset=DATASET)
    assert err.value.status == 404


def test_release_files_download_with_checksum(cm: Client, tmp_path: Path) -> None:
    files = cm.release_files(DATASET, "r0001")
    nc = next(f for f in files if f["name"].endswith(".nc"))
    path = cm.download_release_file(DATASET, "r0001", nc["name"], tmp_path)
    assert path == tmp_path / nc["name"] and path.stat().st_size == nc["size"]
    assert xr.open_dataset(path).attrs["version"] == "r0001"
    # a broken transfer left a .part: the client resumes it with Range and still checks the sha256
    data = path.read_bytes()
    path.unlink()
    (tmp_path / (nc["name"] + ".part")).write_bytes(data[: len(data) // 2])
    assert cm.download_release_file(DATASET, "r0001", nc["name"], tmp_path).read_bytes() == data
    with pytest.raises(CarbonmapError, match="lists no file"):
        cm.download_release_file(DATASET, "r0001", "nope.nc", tmp_path)


def test_checksum_mismatch_raises_and_deletes(server: str, tmp_path: Path) -> None:
    """A proxy that corrupts one byte of every file body: the client must refuse the file."""
    class Corrupting(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            import httpx

            r = httpx.get(server + self.path, timeout=60)
            body = r.content
            if "/files/" in self.path and body:
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            self.send_response(r.status_code)
            self.send_header("Content-Type", r.headers.get("content-type", "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Corrupting)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        with Client(f"http://127.0.0.1:{proxy.server_address[1]}", retries=0) as bad:
            name = bad.release_files(DATASET, "r0001")[0]["name"]
            with pytest.raises(ChecksumError, match="sha256"):
                bad.download_release_file(DATASET, "r0001", name, tmp_path)
        assert list(tmp_path.iterdir()) == []
    finally:
        proxy.shutdown()


def test_citation_and_aggregated_download(cm: Client, tmp_path: Path) -> None:
    bib = cm.citation(DATASET, "bibtex", release="r0001")
    assert bib.lstrip().startswith("@") and "r0001" in bib
    assert "cff-version" in cm.citation(DATASET, "cff")
    path = cm.download(DATASET, tmp_path, sectors=["power"], aggregate="month")
    ds = xr.open_dataset(path)
    assert path.name.endswith("_monthly.nc") and ds.sizes["time"] == 2 and ds["emissions"].attrs["units"] == "kg day-1"
