"""POST /emissions/query, GET /download and /zarr over real HTTP (uvicorn subprocess) on a random cube."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import fsspec
import geopandas as gpd
import httpx
import numpy as np
import pytest
import rasterio
import xarray as xr

from api.national_series import Z90
from api.regions_query import land_fraction
from carbonmap import contract as cc
from pipelines.timeseries import build_timeseries
from tests.api.routes.live_server import live_server, write_random_cube

DATASET = "random-test"
POLY = {"type": "Polygon", "coordinates": [[[3.0, 41.0], [27.0, 41.0], [27.0, 58.0], [3.0, 58.0], [3.0, 41.0]],
                                           [[10.0, 45.0], [15.0, 45.0], [15.0, 50.0], [10.0, 50.0], [10.0, 45.0]]]}


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_random_cube(tmp_path_factory.mktemp("http") / "random-test.zarr", start="2023-12-26", days=12)
    build_timeseries(path)
    return path


@pytest.fixture(scope="module")
def server(cube: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("http-log") / "server.log"
    with live_server([cube], log, {"CARBONMAP_MAX_VERTICES": "50"}) as base:
        yield base


def _reference(cube: Path, geom_json: dict, start: str, end: str) -> xr.DataArray:
    """exactextract coverage (as a share of each cell's land) x the cube read with xarray: kg per (time, sector)."""
    import shapely
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    ds = xr.open_zarr(cube, chunks=None)
    grid = cc.Grid.from_coords(ds["lat"].values, ds["lon"].values)
    raster = NumPyRasterSource(np.zeros(grid.shape, np.uint8), xmin=grid.west, ymin=grid.south, xmax=grid.east,
                               ymax=grid.north)
    geom = shapely.geometry.shape(geom_json)
    res = exact_extract(raster, gpd.GeoDataFrame(geometry=[geom], crs=4326), ["cell_id", "coverage"], output="pandas")
    w = np.zeros(grid.nlat * grid.nlon)
    w[np.asarray(res["cell_id"][0])] = np.asarray(res["coverage"][0])
    # a cell's emissions sit on its land: the polygon's share of a partly-land cell is coverage / land (<= 1)
    land = land_fraction(grid).ravel()
    w = np.where(land >= 0.02, np.minimum(1.0, w / np.maximum(land, 0.02)), w)
    em = ds[cc.EMISSIONS_VAR].sel(time=slice(start, end)).astype(np.float64)
    weights = xr.DataArray(w.reshape(grid.shape), dims=("lat", "lon"), coords={"lat": ds.lat, "lon": ds.lon})
    return (em * weights).sum(dim=("lat", "lon")), (em * ds[cc.UNCERTAINTY_VAR].sel(time=slice(start, end)) * weights)


@pytest.mark.e2e
def test_query_equals_exactextract_per_day_month_and_year(server: str, cube: Path):
    ref, _ = _reference(cube, POLY, "2023-12-28", "2024-01-06")
    with httpx.Client(base_url=server, timeout=120) as http:
        for freq, grouper in (("day", "time"), ("month", "time.month"), ("year", "time.year")):
            r = http.post("/emissions/query", json={"geometry": POLY, "start": "2023-12-28", "end": "2024-01-06",
                                                    "freq": freq, "dataset": DATASET})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["source"].startswith("timeseries layout")
            expected = ref if freq == "day" else ref.groupby(grouper).sum()
            if freq == "month":
                expected = expected.sel(month=[12, 1])
            if freq == "year":
                expected = expected.sel(year=[2023, 2024])
            assert len(body["periods"]) == expected.shape[0]
            for p, row in zip(body["periods"], expected.values, strict=True):
                for k, s in enumerate(cc.SECTORS):
                    assert p["sectors"][s]["emissions"] == pytest.approx(row[k] / 1000, rel=1e-6)
                assert p["total"]["emissions"] == pytest.approx(row.sum() / 1000, rel=1e-6)


@pytest.mark.e2e
def test_query_interval_is_correlated_within_the_country(server: str, cube: Path):
    # a polygon inside one 5 degree cell: one country group, so sigmas add linearly over days and sectors
    de = {"type": "Polygon", "coordinates": [[[10.5, 50.5], [14.5, 50.5], [14.5, 54.5], [10.5, 54.5], [10.5, 50.5]]]}
    _, sig = _reference(cube, de, "2024-01-01", "2024-01-05")
    est, _ = _reference(cube, de, "2024-01-01", "2024-01-05")
    r = httpx.post(f"{server}/emissions/query", json={"geometry": de, "start": "2024-01-01", "end": "2024-01-05",
                                                     "freq": "year", "sectors": ["power", "industry"]}, timeout=60)
    assert r.status_code == 200, r.text
    (p,) = r.json()["periods"]
    linear = float(sig.sel(sector=["power", "industry"]).sum()) / 1000
    total = float(est.sel(sector=["power", "industry"]).sum()) / 1000
    assert p["total"]["upper"] == pytest.approx(total + Z90 * linear, rel=1e-5)


@pytest.mark.e2e
def test_query_csv_and_guardrails(server: str):
    with httpx.Client(base_url=server, timeout=60) as http:
        r = http.post("/emissions/query", json={"geometry": POLY, "freq": "month"}, headers={"Accept": "text/csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert {row["sector"] for row in rows} == {*cc.SECTORS, "total"}
        ring = [[float(i) / 10, 0.0] for i in range(60)] + [[3.0, 3.0], [0.0, 0.0]]
        r = http.post("/emissions/query", json={"geometry": {"type": "Polygon", "coordinates": [ring]}})
        assert r.status_code == 413 and "simplify" in r.json()["detail"]
        assert r.headers["content-type"].startswith("application/problem+json")
        bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
        r = http.post("/emissions/query", json={"geometry": bowtie})
        assert r.status_code == 422 and "not valid" in r.json()["detail"]
        r = http.post("/emissions/query", json={"geometry": POLY, "start": "2020-01-01"})
        assert r.status_code == 404 and "outside dataset" in r.json()["detail"]


@pytest.mark.e2e
def test_download_netcdf_geotiff_csv(server: str, cube: Path, tmp_path: Path):
    ds = xr.open_zarr(cube, chunks=None)
    params = {"bbox": "0,40,20,60", "start": "2024-01-01", "end": "2024-01-03", "sectors": "power,industry"}
    expected = ds[cc.EMISSIONS_VAR].sel(time=slice("2024-01-01", "2024-01-03"), sector=["power", "industry"],
                                        lat=slice(60, 40), lon=slice(0, 20))
    with httpx.Client(base_url=server, timeout=120) as http:
        r = http.get(f"/download/{DATASET}", params={**params, "format": "netcdf"})
        assert r.status_code == 200, r.text
        (tmp_path / "a.nc").write_bytes(r.content)
        nc = xr.open_dataset(tmp_path / "a.nc")
        assert nc.attrs["Conventions"].startswith("CF-1.10") and nc[cc.EMISSIONS_VAR].attrs["units"] == "kg day-1"
        np.testing.assert_array_equal(nc[cc.EMISSIONS_VAR].values, expected.values)
        assert list(nc["time"].dt.strftime("%Y-%m-%d").values) == ["2024-01-01", "2024-01-02", "2024-01-03"]

        r = http.get(f"/download/{DATASET}", params={**params, "format": "geotiff"})
        assert r.status_code == 200
        (tmp_path / "a.tif").write_bytes(r.content)
        with rasterio.open(tmp_path / "a.tif") as src:
            assert src.count == 6 and src.descriptions[0] == "2024-01-01 power"
            assert src.descriptions[3] == "2024-01-02 industry"
            assert src.profile.get("tiled") and src.crs.to_epsg() == 4326
            np.testing.assert_array_equal(src.read(4), expected.values[1, 1])

        r = http.get(f"/download/{DATASET}", params={**params, "format": "csv"})
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert len(rows) == int((expected.values != 0).sum())
        assert sum(float(x["emissions_kg"]) for x in rows) == pytest.approx(float(expected.astype(float).sum()), rel=1e-6)

        r = http.get(f"/download/{DATASET}", params={"format": "netcdf"})  # whole cube: 72*36*12*7 values
        assert r.status_code == 200
        r = http.get(f"/download/{DATASET}", params={"bbox": "-200,0,10,10"})
        assert r.status_code == 422 and "bbox" in r.json()["detail"]


@pytest.mark.e2e
def test_open_zarr_over_http_with_partial_reads(server: str, cube: Path):
    url = f"{server}/zarr/{DATASET}"
    remote = xr.open_zarr(url, consolidated=True)
    local = xr.open_zarr(cube, chunks=None)
    part = remote[cc.EMISSIONS_VAR].isel(time=3, sector=2, lat=slice(5, 9), lon=slice(10, 19)).values
    np.testing.assert_array_equal(part, local[cc.EMISSIONS_VAR].isel(time=3, sector=2, lat=slice(5, 9),
                                                                     lon=slice(10, 19)).values)
    assert remote.attrs["carbonmap_dataset_id"] == DATASET
    # ranges: suffix and open-ended, 206 with Content-Range
    fs = fsspec.filesystem("http")
    shard = "emissions/c/3/0/0/0"
    size = (Path(cube).resolve() / shard).stat().st_size
    r = httpx.get(f"{url}/{shard}", headers={"Range": "bytes=-16"})
    assert r.status_code == 206 and len(r.content) == 16 and r.headers["content-range"] == f"bytes {size - 16}-{size - 1}/{size}"
    assert r.content == (Path(cube).resolve() / shard).read_bytes()[-16:]
    assert fs.info(f"{url}/zarr.json")["size"] == (Path(cube).resolve() / "zarr.json").stat().st_size
    r = httpx.get(f"{url}/zarr.json", headers={"Range": f"bytes={10**9}-"})
    assert r.status_code == 416
    for bad in ("../zarr.json", "..%2F..%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/etc/passwd", ".hidden", "emissions/../../x"):
        assert httpx.get(f"{url}/{bad}").status_code == 404, bad
