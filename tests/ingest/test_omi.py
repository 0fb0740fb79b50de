from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from ingest.base import IngestError
from ingest.omi import CLIMATOLOGY_FILE, MOLEC_CM2_PER_MOL_M2, MONTHLY_FILE, OMIAdapter, read_omno2d


def test_monthly_and_climatology_on_one_grid(data_dir: Path) -> None:
    m = read_omno2d(data_dir / MONTHLY_FILE)
    c = read_omno2d(data_dir / CLIMATOLOGY_FILE)
    assert m.dims == ("time", "lat", "lon") and m.shape == (7, 38, 50) and c.shape == (12, 38, 50)
    assert m.attrs["grid_resolution"] == 0.25 and (m.attrs["grid_west"], m.attrs["grid_north"]) == (18.5, 51.0)
    assert np.array_equal(m.lat, c.lat) and np.array_equal(m.lon, c.lon) and m.lat[0] > m.lat[-1]
    # the raw file value of the NW corner, Jan 2020, read directly with netCDF4, converted to mol m-2
    with netCDF4.Dataset(data_dir / MONTHLY_FILE) as nc:
        raw = float(nc["no2"][0, 0, 0])
        lat0 = float(nc["latitude"][0])
    assert lat0 > 50.8
    assert float(m[0, 0, 0]) == pytest.approx(raw / MOLEC_CM2_PER_MOL_M2, rel=1e-6)
    assert "stored in molec cm-2" in m.attrs["units_note"]
    assert str(c["time"].values[3])[:7] == "2019-04"


def test_anomaly_shows_spring_2020_drop(data_dir: Path, tmp_path: Path) -> None:
    a = OMIAdapter()
    srcs = [data_dir / MONTHLY_FILE, data_dir / CLIMATOLOGY_FILE]
    ds = a.read(srcs)
    rel = ds["no2_anomaly_relative"].mean(("lat", "lon")).to_series()
    assert rel.loc["2020-04-01"] < -0.08 and rel.loc["2020-01-01"] > 0  # the COVID-19 lockdown month
    diff = ds["no2"] - ds["no2_climatology"] - ds["no2_anomaly"]
    assert float(abs(diff).max()) < 1e-9
    out = a.write(ds, tmp_path / "satellite.zarr", inputs=srcs)
    back = xr.open_zarr(out, consolidated=False)
    assert back["no2"].attrs["units"] == "mol m-2" and "sha256" in back.attrs["provenance"]


def _copy_with(src: Path, dst: Path, **var_attrs: str) -> Path:
    ds = xr.open_dataset(src, decode_times=False)
    ds.load()
    ds.close()
    ds["no2"].attrs.update(var_attrs)
    ds.to_netcdf(dst)
    return dst


def test_bad_input(data_dir: Path, tmp_path: Path) -> None:
    p = _copy_with(data_dir / MONTHLY_FILE, tmp_path / "a.nc", units="DU")
    with pytest.raises(IngestError, match="has units 'DU'"):
        read_omno2d(p)
    ds = xr.open_dataset(data_dir / MONTHLY_FILE, decode_times=False).load()
    ds["crs"].attrs["proj4"] = "+proj=utm +zone=35 +datum=WGS84"
    ds.to_netcdf(tmp_path / "b.nc")
    with pytest.raises(IngestError, match="not geographic lat/lon"):
        read_omno2d(tmp_path / "b.nc")
    bad = tmp_path / "c.nc"
    bad.write_bytes((data_dir / MONTHLY_FILE).read_bytes()[:3000])
    with pytest.raises(IngestError, match="not a readable NetCDF file"):
        read_omno2d(bad)
    ds = xr.open_dataset(data_dir / MONTHLY_FILE, decode_times=False).load()
    dup = ds.assign_coords(time=np.full(ds.sizes["time"], ds["time"].values[0]))
    dup["time"].attrs["units"] = "days since 1970-1-1"
    dup.to_netcdf(tmp_path / "d.nc")
    with pytest.raises(IngestError, match="duplicate month 2020-01"):
        read_omno2d(tmp_path / "d.nc")
    big = ds.copy()
    big["no2"] = big["no2"] * 1e6
    big.to_netcdf(tmp_path / "e.nc")
    with pytest.raises(IngestError, match="implausible; wrong units"):
        read_omno2d(tmp_path / "e.nc")
    out = tmp_path / "never.zarr"
    with pytest.raises(IngestError, match="duplicate month"):
        OMIAdapter().read([data_dir / MONTHLY_FILE, data_dir / MONTHLY_FILE])
    assert not out.exists()
