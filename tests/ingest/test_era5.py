from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import IngestError
from ingest.era5 import (
    DAILY_DIR,
    GRID_FILE,
    MONTHLY_FILE,
    STATION_FILE,
    STATION_META_FILE,
    daily_mean,
    read_era5_daily_national,
    read_era5_grid,
    read_era5_monthly_country,
    read_station_temperature,
    to_grid,
)


def test_real_grid_sample(data_dir: Path) -> None:
    t = read_era5_grid(data_dir / GRID_FILE)
    assert t.dims == ("time", "lat", "lon") and t.shape == (24, 181, 360)
    assert t.attrs["units"] == "degC"
    assert t.lon.values[0] == -180.0 and t.lon.values[-1] == 179.0 and t.lat.values[0] == 90.0
    assert -90 < float(t.min()) < -20 and 30 < float(t.max()) < 60  # late March: Antarctic and Saharan extremes
    raw = xr.open_dataset(data_dir / GRID_FILE)["t2m"]
    # same value at the same place: lon 10 E (0..360 index 10) and the K -> degC conversion
    assert float(t.isel(time=3).sel(lat=50.0, lon=10.0)) == pytest.approx(
        float(raw.isel(time=3).sel(latitude=50.0, longitude=10.0)) - 273.15, abs=1e-4)
    d = daily_mean(t)
    assert d.sizes["day"] == 7 and d["n_samples"].values.sum() == 24
    g = to_grid(d, Grid(1.0))
    assert g.shape == (7, 180, 360) and not bool(g.isnull().any())
    # a cell centre between 4 points is their bilinear mean
    pts = d.isel(day=0).sel(lat=[51.0, 50.0], lon=[10.0, 11.0])
    assert float(g.isel(day=0).sel(lat=50.5, lon=10.5)) == pytest.approx(float(pts.mean()), abs=1e-4)


def test_grid_refuses_bad_units_and_files(tmp_path: Path) -> None:
    da = xr.DataArray(np.full((2, 3, 4), 280.0, np.float32), dims=("time", "latitude", "longitude"),
                      coords={"time": pd.date_range("2024-01-01", periods=2, freq="h"),
                              "latitude": [1.0, 0.0, -1.0], "longitude": [0.0, 1.0, 2.0, 3.0]},
                      attrs={"units": "F"}, name="t2m")
    da.to_dataset().to_netcdf(tmp_path / "f.nc")
    with pytest.raises(IngestError, match="units must be K or degC, got 'F'"):
        read_era5_grid(tmp_path / "f.nc")
    da.attrs["units"] = "degC"  # 280 degC is impossible
    da.to_dataset().to_netcdf(tmp_path / "c.nc")
    with pytest.raises(IngestError, match="plausible"):
        read_era5_grid(tmp_path / "c.nc")
    (tmp_path / "x.nc").write_bytes(b"not a netcdf")
    with pytest.raises(IngestError, match="not a readable NetCDF"):
        read_era5_grid(tmp_path / "x.nc")


def test_monthly_country(data_dir: Path, tmp_path: Path) -> None:
    m = read_era5_monthly_country(data_dir / MONTHLY_FILE)
    assert {"DEU", "USA", "IND", "SRB", "TZA"} <= set(m["iso3"])
    assert m["month"].min() == pd.Timestamp("2000-01-01") and m["month"].max() == pd.Timestamp("2024-12-01")
    de = m[m["iso3"] == "DEU"].set_index("month")["tmean_c"]
    assert len(de) == 300 and de[de.index.month == 7].mean() > de[de.index.month == 1].mean() + 12
    src = pd.read_csv(data_dir / MONTHLY_FILE)
    bad = src.copy()
    bad.loc[1, "Date"] = bad.loc[0, "Date"]
    bad.loc[1, "Country"] = bad.loc[0, "Country"]
    bad.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(IngestError, match="duplicate month 2000-01 for AFG"):
        read_era5_monthly_country(tmp_path / "m.csv")
    src.drop(columns=["avg_temp"]).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(IngestError, match=r"lacks the column\(s\) \['avg_temp'\]"):
        read_era5_monthly_country(tmp_path / "n.csv")


def test_daily_national(data_dir: Path, tmp_path: Path) -> None:
    files = sorted((data_dir / DAILY_DIR).glob("*.csv"))
    d = read_era5_daily_national(files)
    assert set(d["iso3"]) == {"DEU", "USA"}
    assert (d["iso3"] == "USA").sum() == 365 and (d["iso3"] == "DEU").sum() == 365 + 124
    assert not d.duplicated(["iso3", "day"]).any()
    with pytest.raises(IngestError, match="duplicate date 2021-01-01 for DEU"):
        read_era5_daily_national([files[0], files[0]])
    (tmp_path / "temps.csv").write_text("date,t2m\n2021-01-01,1\n")
    with pytest.raises(IngestError, match="cannot tell the country"):
        read_era5_daily_national([tmp_path / "temps.csv"])


def test_stations(data_dir: Path) -> None:
    s = read_station_temperature(data_dir / STATION_FILE, data_dir / STATION_META_FILE)
    atl = s[s["station"] == "13874"]
    assert atl["name"].iloc[0] == "Atlanta" and atl["day"].iloc[0] == pd.Timestamp("2017-01-01")
    assert atl["tmean_c"].iloc[0] == pytest.approx((47.0 - 32) * 5 / 9)
    assert set(s["country"]) == {"US", "CA"}
