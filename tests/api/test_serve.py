"""api.serve end to end: the real server in a subprocess (uvicorn), queried over real HTTP."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import xarray as xr
from PIL import Image

from api.serve import NothingToServe, main, run, store_paths_from
from carbonmap import contract as cc
from carbonmap.settings import Settings
from tests.api.routes.live_server import live_server


@pytest.fixture(scope="module")
def server(synthetic_cube: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server([synthetic_cube], tmp_path_factory.mktemp("serve") / "server.log") as base:
        yield base


@pytest.mark.e2e
def test_real_server_over_http(server: str, synthetic_cube: Path):
    with httpx.Client(base_url=server, timeout=60) as http:
        health = http.get("/healthz").json()
        assert health["status"] == "ok" and health["datasets"] == ["synthetic-test"]

        datasets = http.get("/datasets").json()
        assert [d["id"] for d in datasets] == ["synthetic-test"]

        # region query: the sum equals the national table read directly from the Zarr store
        r = http.get("/regions/AAA/emissions", params={"freq": "month", "start": "2024-01-02", "end": "2024-01-09"})
        assert r.status_code == 200, r.text
        (period,) = r.json()["periods"]
        with xr.open_zarr(synthetic_cube, chunks=None) as ds:
            nat = ds[cc.NATIONAL_VAR].sel(country="AAA", time=slice("2024-01-02", "2024-01-09"))
            expected_t = float(nat.sum()) / 1000
            expected_power_t = float(nat.sel(sector="power").sum()) / 1000
        assert period["days"] == 8
        assert period["total"]["emissions"] == pytest.approx(expected_t, rel=1e-12)
        assert period["sectors"]["power"]["emissions"] == pytest.approx(expected_power_t, rel=1e-12)
        assert period["total"]["lower"] < period["total"]["emissions"] < period["total"]["upper"]

        csv_text = http.get("/regions/AAA/emissions", params={"freq": "year", "sectors": "power"},
                            headers={"Accept": "text/csv"})
        assert csv_text.headers["content-type"].startswith("text/csv")
        header, row, _total = csv_text.text.strip().splitlines()
        assert header.startswith("dataset,region,period") and row.split(",")[6] == "power"
        with xr.open_zarr(synthetic_cube, chunks=None) as ds:
            power_all = float(ds[cc.NATIONAL_VAR].sel(country="AAA", sector="power").sum()) / 1000
        assert float(row.split(",")[7]) == pytest.approx(power_all, rel=1e-12)

        bad = http.get("/regions/ZZZ/emissions")
        assert bad.status_code == 404 and bad.headers["content-type"].startswith("application/problem+json")

        page = http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"] and 'id="map"' in page.text
        assert http.get("/static/map.js").status_code == 200

        tile = http.get("/tiles/synthetic-test/WebMercatorQuad/1/0/0.png", params={"date": "2024-01-03"})
        assert tile.status_code == 200, tile.text
        assert tile.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(tile.content))
        assert image.format == "PNG" and image.size == (256, 256)
        image.load()


def test_run_refuses_to_start_without_a_store(tmp_path: Path):
    settings = Settings(stores=[], stores_dir=tmp_path / "none")
    with pytest.raises(NothingToServe, match="carbonmap build"):
        run(None, settings=settings)


def test_store_paths_from_settings_finds_only_sealed_stores(tmp_path: Path, synthetic_cube: Path):
    (tmp_path / "half.zarr.building").mkdir()
    (tmp_path / "empty.zarr").mkdir()
    sealed = tmp_path / "synthetic-test.zarr"
    sealed.symlink_to(synthetic_cube, target_is_directory=True)
    assert store_paths_from(Settings(stores=[], stores_dir=tmp_path)) == [sealed]
    assert store_paths_from(Settings(stores=[synthetic_cube], stores_dir=tmp_path)) == [synthetic_cube]


def test_entry_point_exits_non_zero_with_a_message_for_a_bad_store(tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--store", str(tmp_path / "missing.zarr")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no carbonmap cube" in err and "carbonmap build" in err


def test_serve_with_two_worker_processes(tmp_path: Path, synthetic_cube: Path):
    """``--workers 2``: two uvicorn worker processes answer on one port (each opens the checked stores)."""
    import re

    log = tmp_path / "server.log"
    with live_server([synthetic_cube], log, extra_args=("--workers", "2", "--log-level", "info")) as base:
        deadline = time.monotonic() + 120
        while len(set(re.findall(r"Started server process \[(\d+)\]", log.read_text(errors="replace")))) < 2:
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
            time.sleep(0.5)
        for _ in range(6):  # fresh connections: whichever worker accepts, the dataset is served
            r = httpx.get(f"{base}/datasets", timeout=30)
            assert r.status_code == 200 and synthetic_cube.stem.split(".")[0] in r.text
        assert "died" not in log.read_text(errors="replace")  # no worker restarted by the health check


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_entry_point_refuses_a_worker_count_below_one(synthetic_cube: Path, workers: str, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--store", str(synthetic_cube), "--workers", workers])
    assert exc.value.code == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
