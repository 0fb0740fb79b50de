"""GET /download over real HTTP: CF/ACDD compliance (compliance-checker), aggregates, limits with alternatives."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
import rasterio
import xarray as xr

from carbonmap import contract as cc
from carbonmap import registry as reg
from tests.api.routes.live_server import live_server, write_random_cube

DATASET = "random-test"
DAYS = 40  # 2023-12-20 .. 2024-01-28: three months, two years
PER_DAY = 36 * 72 * 7  # 5 degree cells x 7 sectors = 18,144 values
MAX_VALUES = 5 * PER_DAY + 10  # 5 days of all sectors written, not 6
MAX_READ = 35 * PER_DAY + 10  # 35 days of all sectors read, not 36


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_random_cube(tmp_path_factory.mktemp("dl") / "random-test.zarr", start="2023-12-20", days=DAYS)


@pytest.fixture(scope="module")
def server(cube: Path, tmp_path_factory: pytest.TempPathFactory):
    env = {"CARBONMAP_MAX_DOWNLOAD_VALUES": str(MAX_VALUES), "CARBONMAP_MAX_DOWNLOAD_READ_VALUES": str(MAX_READ)}
    with live_server([cube], tmp_path_factory.mktemp("dl-log") / "server.log", env) as base:
        yield base


@pytest.fixture(scope="module")
def local(cube: Path) -> xr.Dataset:
    return xr.open_zarr(cube, chunks=None)


def _get(server: str, tmp_path: Path, name: str, **params: str) -> Path:
    r = httpx.get(f"{server}/download/{DATASET}", params=params, timeout=120)
    assert r.status_code == 200, r.text
    path = tmp_path / name
    path.write_bytes(r.content)
    return path


def _high_priority_failures(path: Path, check: str) -> dict[str, list[str]]:
    """compliance-checker's high-priority results with messages (failures), name -> messages."""
    runner = pytest.importorskip("compliance_checker.runner", reason="pip install compliance-checker")
    runner.CheckSuite().load_all_available_checkers()
    out = path.with_suffix(f".{check.replace(':', '_')}.json")
    runner.ComplianceChecker.run_checker(str(path), [check], 0, "normal", output_filename=str(out),
                                         output_format="json")
    report = json.loads(out.read_text())[check]
    return {r["name"]: r["msgs"] for r in report["high_priorities"] if r["msgs"]}


@pytest.mark.e2e
def test_netcdf_download_passes_the_cf_and_acdd_checks(server: str, tmp_path: Path, local: xr.Dataset) -> None:
    path = _get(server, tmp_path, "a.nc", bbox="0,40,20,60", start="2024-01-01", end="2024-01-03",
                sectors="power,industry")
    assert _high_priority_failures(path, "cf:1.10") == {}
    # ACDD: the only high-priority gap is standard_name where CF has no name for the quantity
    # (kg CO2 per grid cell per day, its relative uncertainty): the checker must name nothing else
    acdd = _high_priority_failures(path, "acdd:1.3")
    assert set(acdd) <= {f'variable "{v}" missing the following attributes:' for v in
                         (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR)}, acdd
    assert all(msgs == ["standard_name"] for msgs in acdd.values()), acdd
    ds = xr.open_dataset(path)
    assert ds.attrs["version"] == local.attrs["carbonmap_release"] == "r0001"
    assert [i for i in json.loads(ds.attrs["provenance_inputs"])] == local.attrs["provenance_inputs"]
    assert json.loads(ds.attrs["provenance_proxies"]) == ["random test field"]
    assert ds["emissions"].attrs["grid_mapping"] == "crs" and ds["crs"].attrs["grid_mapping_name"] == "latitude_longitude"
    assert ds["lat_bnds"].values[0].tolist() == [60.0, 55.0] and ds["lon_bnds"].values[0].tolist() == [0.0, 5.0]
    # cell area of the 55..60 N, 5 degree wide row on the authalic sphere, m2
    r = 6371007.1809
    expected = r**2 * np.radians(5.0) * (np.sin(np.radians(60.0)) - np.sin(np.radians(55.0)))
    assert float(ds["cell_area"].values[0, 0]) == pytest.approx(expected, rel=1e-12)
    assert ds.attrs["geospatial_lat_min"] == 40.0 and ds.attrs["time_coverage_end"] == "2024-01-03"
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        ev = nc[cc.EVIDENCE_VAR]
        assert ev.dtype == np.int8 and ev.getncattr("flag_values").dtype == np.int8 and ev.getncattr("_FillValue") == -1
        assert "_FillValue" not in nc["lat"].ncattrs() and nc["lat"].getncattr("bounds") == "lat_bnds"


@pytest.mark.e2e
def test_aggregates_are_monthly_means_and_annual_totals(server: str, tmp_path: Path, local: xr.Dataset) -> None:
    em = local[cc.EMISSIONS_VAR].sel(sector=["power", "residential"]).astype(np.float64)
    month = xr.open_dataset(_get(server, tmp_path, "m.nc", sectors="power,residential", aggregate="month"))
    assert month.sizes["time"] == 2 and month["emissions"].attrs["units"] == "kg day-1"
    assert "time: mean" in month["emissions"].attrs["cell_methods"]
    dec = em.sel(time=slice("2023-12-20", "2023-12-31"))
    np.testing.assert_allclose(month["emissions"].values[0], dec.mean("time").values, rtol=1e-6)
    assert [str(t)[:10] for t in month["time_bnds"].values[0]] == ["2023-12-20", "2024-01-01"]  # the days present
    assert month.attrs["time_coverage_resolution"] == "P1M" and month.attrs["time_coverage_end"] == "2024-01-28"
    year = xr.open_dataset(_get(server, tmp_path, "y.nc", sectors="power,residential", aggregate="year"))
    assert year["emissions"].attrs["units"] == "kg" and year.sizes["time"] == 2
    jan = em.sel(time=slice("2024-01-01", "2024-01-28"))
    np.testing.assert_allclose(year["emissions"].values[1], jan.sum("time").values, rtol=1e-6)
    un = local[cc.UNCERTAINTY_VAR].sel(sector=["power", "residential"], time=slice("2024-01-01", None))
    weighted = (jan * un).sum("time") / jan.sum("time")  # fully correlated daily errors
    np.testing.assert_allclose(year["uncertainty"].values[1], weighted.values, rtol=1e-5)
    assert _high_priority_failures(tmp_path / "y.nc", "cf:1.10") == {}

    r = httpx.get(f"{server}/download/{DATASET}", params={"sectors": "power", "aggregate": "year", "format": "csv",
                                                          "bbox": "0,40,20,60"}, timeout=60)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {x["period"] for x in rows} == {"2023", "2024"} and {x["days"] for x in rows} == {"12", "28"}
    total = em.sel(sector="power", lat=slice(60, 40), lon=slice(0, 20)).sum().item()
    assert sum(float(x["emissions_kg"]) for x in rows) == pytest.approx(total, rel=1e-6)

    tif = _get(server, tmp_path, "m.tif", sectors="power", aggregate="month", format="geotiff")
    with rasterio.open(tif) as src:
        assert src.descriptions == ("2023-12 power", "2024-01 power")
        np.testing.assert_allclose(src.read(2), em.sel(sector="power", time=slice("2024-01", None)).mean("time"),
                                   rtol=1e-6)


@pytest.mark.e2e
def test_too_large_answers_422_with_limits_and_absolute_alternatives(server: str) -> None:
    r = httpx.get(f"{server}/download/{DATASET}", params={"start": "2024-01-01", "end": "2024-01-06"}, timeout=60)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    detail = r.json()["detail"]
    assert f"{MAX_VALUES:,} values written" in detail and f"{MAX_READ:,} values read" in detail
    assert f"{server}/datasets/{DATASET}/releases/r0001/files" in detail
    assert f"xarray.open_zarr('{server}/zarr/{DATASET}/releases/r0001')" in detail
    assert "<server>" not in detail and "aggregate=month" in detail
    # the same period as monthly means is one small answer
    assert httpx.get(f"{server}/download/{DATASET}", params={"start": "2024-01-01", "end": "2024-01-06",
                                                             "aggregate": "month"}, timeout=60).status_code == 200
    # the read limit: 40 days of 7 sectors are read for the whole cube, more than 35
    r = httpx.get(f"{server}/download/{DATASET}", params={"aggregate": "year"}, timeout=60)
    assert r.status_code == 422 and "reads 36 x 72 cells x 40 days x 7 sectors" in r.json()["detail"]
    r = httpx.get(f"{server}/download/{DATASET}", params={"aggregate": "year", "sectors": "power,industry"}, timeout=60)
    assert r.status_code == 200


def test_zarr_store_carries_the_cf_metadata(cube: Path) -> None:
    ds = reg.Registry().add(cube).ds
    assert ds.attrs["version"] == ds.attrs["carbonmap_release"] == "r0001"
    assert ds.attrs["Conventions"] == "CF-1.10, ACDD-1.3" and ds.attrs["creator_name"] == "carbonmap"
    assert ds.attrs["provenance_proxies"] == ["random test field"]
    assert ds["emissions"].attrs["grid_mapping"] == "crs" and ds["emissions"].attrs["cell_measures"] == "area: cell_area"
    assert ds["lat"].attrs["bounds"] == "lat_bnds" and ds["crs"].attrs["epsg_code"] == "EPSG:4326"
    r = 6371007.1809
    assert float(ds["cell_area"].sum()) == pytest.approx(4 * np.pi * r**2, rel=1e-9)


def test_aggregates_from_the_pyramid_equal_the_daily_grids(tmp_path: Path) -> None:
    """With a map pyramid, whole-period aggregates come from its precomputed means: same numbers."""
    import datetime as dt

    from api.routes import download as dl
    from pipelines.pyramid import build_pyramid

    path = write_random_cube(tmp_path / "pyr-test.zarr", start="2024-01-25", days=12, dataset_id="pyr-test", seed=3)
    build_pyramid(path)
    cube = reg.Registry().add(path)
    local = xr.open_zarr(path, chunks=None)
    em = local[cc.EMISSIONS_VAR].sel(sector=["industry", "power"]).astype(np.float64)
    cases: list[tuple[dl.Aggregate, xr.DataArray]] = [("month", em.sel(time="2024-02").mean("time")),
                                                      ("year", em.sum("time"))]
    for agg, expected in cases:
        sub = dl.make_subset(cube, "0,40,20,60", None, None, "industry,power", 10**9, aggregate=agg)
        assert sub.pyramid() is not None
        steps = list(sub.iter_steps())
        window = expected.sel(lat=slice(60, 40), lon=slice(0, 20)).values
        np.testing.assert_allclose(steps[-1][1], window, rtol=2e-6)
        assert steps[-1][0].label == ("2024-02" if agg == "month" else "2024")
    # a selection that cuts a month in two is aggregated from the days
    sub = dl.make_subset(cube, None, dt.date(2024, 1, 26), None, "power", 10**9, aggregate="month")
    assert sub.pyramid() is None
    np.testing.assert_allclose(next(sub.iter_steps())[1][0],
                               em.sel(sector="power", time=slice("2024-01-26", "2024-01-31")).mean("time").values,
                               rtol=1e-6)
