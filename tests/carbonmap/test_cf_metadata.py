"""carbonmap.cf_metadata.apply_cf: bounds, cell area, crs, evidence flags, ACDD attributes; pure."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from carbonmap import cf_metadata as cf
from carbonmap import contract as cc


def _attrs(grid: cc.Grid) -> dict:
    prov = cc.Provenance(inputs=(cc.InputFile("data/x.csv", "ab" * 32, "GCB 2024", "CC-BY-4.0", "national"),),
                         code_version="1.2", build_time="2024-05-01T00:00:00Z", methods={"temporal": "profiles"},
                         proxies=("power: population proxy",))
    attrs = cc.global_attrs(dataset_id="demo", title="demo cube", grid=grid, start="2024-01-01", end="2024-03-31",
                            provenance=prov, summary="see provenance_proxies")
    attrs["carbonmap_data_edge"] = {"DEU": {"power": "daily-activity through 2024-03-31"}}
    return attrs


def _cut(grid: cc.Grid, days: int = 3, evidence: bool = True) -> xr.Dataset:
    times = pd.date_range("2024-02-27", periods=days)
    shape = (days, 2, grid.nlat, grid.nlon)
    ds = xr.Dataset({cc.EMISSIONS_VAR: (("time", "sector", "lat", "lon"), np.ones(shape, np.float32),
                                        cc.emissions_attrs())},
                    coords={"time": times, "sector": ["power", "industry"], "lat": grid.lat, "lon": grid.lon,
                            "country": ["DEU"]})
    if evidence:  # as xarray decodes it from Zarr: float with NaN for the -1 fill
        ev = np.full((days, 2, 1), 3.0)
        ev[0, 1, 0] = np.nan
        ds[cc.EVIDENCE_VAR] = (("time", "sector", "country"), ev, cc.evidence_attrs())
    return ds


def test_bounds_area_crs_and_grid_mapping() -> None:
    grid = cc.Grid(2.0).subset(5, 47, 15, 55)
    out = cf.apply_cf(_cut(grid), release_id="r0007", dataset_attrs=_attrs(cc.Grid(2.0)))
    assert out["lat"].attrs["bounds"] == "lat_bnds" and out["lon"].attrs["bounds"] == "lon_bnds"
    assert out["lat_bnds"].values[0].tolist() == [56.0, 54.0]  # north-up: the upper edge first
    assert out["lon_bnds"].values[0].tolist() == [4.0, 6.0]
    assert out["lat_bnds"].dims == ("lat", "nv")
    r = cf.AUTHALIC_RADIUS_M
    row = r**2 * np.radians(2.0) * (np.sin(np.radians(56.0)) - np.sin(np.radians(54.0)))
    assert out["cell_area"].dims == ("lat", "lon") and out["cell_area"].attrs["units"] == "m2"
    np.testing.assert_allclose(out["cell_area"].values[0], row, rtol=1e-12)
    crs = out["crs"].attrs
    assert crs["grid_mapping_name"] == "latitude_longitude" and crs["semi_major_axis"] == 6378137.0
    assert crs["inverse_flattening"] == 298.257223563 and 'ID["EPSG",4326]' in crs["crs_wkt"]
    em = out[cc.EMISSIONS_VAR].attrs
    assert em["grid_mapping"] == "crs" and em["cell_measures"] == "area: cell_area" and em["units"] == "kg day-1"
    assert "grid_mapping" not in out[cc.EVIDENCE_VAR].attrs  # not gridded


def test_global_cell_area_is_the_sphere() -> None:
    grid = cc.Grid(1.0)
    area = cf.static_variables(grid)["cell_area"][1]
    assert area.sum() == pytest.approx(4 * np.pi * cf.AUTHALIC_RADIUS_M**2, rel=1e-12)
    assert area.sum() / 1e12 == pytest.approx(510.0656, rel=1e-6)  # WGS84 ellipsoid surface, million km2


def test_global_attributes_version_provenance_and_coverage() -> None:
    grid = cc.Grid(2.0).subset(5, 47, 15, 55)
    out = cf.apply_cf(_cut(grid), release_id="r0007", dataset_attrs=_attrs(cc.Grid(2.0)))
    a = out.attrs
    assert a["Conventions"] == "CF-1.10, ACDD-1.3" and a["version"] == a["product_version"] == "r0007"
    for key in ("title", "summary", "license", "creator_name", "institution", "source", "history", "references",
                "date_created", "id", "keywords"):
        assert isinstance(a[key], str) and a[key], key
    assert json.loads(a["provenance_inputs"])[0]["source"] == "GCB 2024"
    assert json.loads(a["provenance_proxies"]) == ["power: population proxy"]
    assert json.loads(a["carbonmap_data_edge"])["DEU"]["power"].startswith("daily-activity")
    assert (a["time_coverage_start"], a["time_coverage_end"], a["time_coverage_duration"]) == \
        ("2024-02-27", "2024-02-29", "P3D")
    assert (a["geospatial_lat_min"], a["geospatial_lat_max"], a["geospatial_lon_min"], a["geospatial_lon_max"]) == \
        (46.0, 56.0, 4.0, 16.0)
    assert a["geospatial_lat_resolution"] == "2.0 degree"
    assert all(isinstance(v, (str, int, float)) for v in a.values())  # all NetCDF-writable
    no_ev = cf.apply_cf(_cut(grid, evidence=False), release_id=None, dataset_attrs=_attrs(cc.Grid(2.0)))
    assert no_ev.attrs["version"] == "unreleased" and "carbonmap_data_edge" not in no_ev.attrs


def test_evidence_is_int8_with_cf_flags() -> None:
    grid = cc.Grid(5.0).subset(0, 40, 20, 60)
    out = cf.apply_cf(_cut(grid), release_id="r0001", dataset_attrs=_attrs(cc.Grid(5.0)))
    ev = out[cc.EVIDENCE_VAR]
    assert ev.dtype == np.int8 and int(ev.values[0, 1, 0]) == cc.EVIDENCE_NO_DATA and int(ev.values[1, 0, 0]) == 3
    assert ev.attrs["flag_values"].dtype == np.int8 and ev.attrs["flag_values"].tolist() == [0, 1, 2, 3]
    assert ev.attrs["flag_meanings"].split() == ["model", "annual_inventory", "monthly_statistics", "daily_activity"]
    assert ev.encoding["_FillValue"] == -1
    assert "flag_meanings" not in out["sector"].attrs  # names are values, not flags


def test_apply_cf_is_pure_and_the_file_is_readable(tmp_path) -> None:
    grid = cc.Grid(5.0).subset(0, 40, 20, 60)
    ds = _cut(grid)
    ds["time_bnds"] = (("time", "nv"), np.stack([ds.time.values, ds.time.values + np.timedelta64(1, "D")], 1))
    before = copy.deepcopy({k: dict(v.attrs) for k, v in ds.variables.items()}), dict(ds.attrs), set(ds.variables)
    out = cf.apply_cf(ds, release_id="r0001", dataset_attrs=_attrs(cc.Grid(5.0)))
    assert before == ({k: dict(v.attrs) for k, v in ds.variables.items()}, dict(ds.attrs), set(ds.variables))
    assert out.attrs["time_coverage_end"] == "2024-02-29"  # from time_bnds: the last bound minus a day
    out.to_netcdf(tmp_path / "x.nc")
    import netCDF4

    with netCDF4.Dataset(tmp_path / "x.nc") as nc:  # CF: no _FillValue on coordinates and bounds
        assert "_FillValue" not in nc["lat"].ncattrs() and "_FillValue" not in nc["lat_bnds"].ncattrs()
    back = xr.open_dataset(tmp_path / "x.nc")
    assert back["crs"].attrs["epsg_code"] == "EPSG:4326" and back.attrs["version"] == "r0001"
