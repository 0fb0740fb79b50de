from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import IngestError
from ingest.firms import SHIPPED, FIRMSAdapter, grid_daily, read_firms_csv


@pytest.fixture(scope="module")
def fires(data_dir: Path) -> pd.DataFrame:
    return read_firms_csv(data_dir / SHIPPED)


def test_real_file(fires: pd.DataFrame) -> None:
    assert len(fires) == 36_555
    assert set(fires["satellite"]) == {"T", "A"} and set(fires["daynight"]) == {"D", "N"}
    assert fires["time"].min() >= pd.Timestamp("2023-08-01") and fires["time"].max() < pd.Timestamp("2023-08-03")


def test_grid_conserves_counts_and_frp(fires: pd.DataFrame) -> None:
    ds = grid_daily(fires, Grid(1.0))
    kept = fires[fires["confidence"] >= 30]
    assert int(ds["fire_count"].sum()) == len(kept)
    assert float(ds["frp"].sum()) == pytest.approx(kept["frp"].sum(), rel=1e-5)
    per_day = ds["fire_count"].sum(("lat", "lon")).to_series()
    ref = kept.groupby(kept["time"].dt.normalize()).size()
    assert per_day.to_numpy().tolist() == ref.to_numpy().tolist()
    # one detection by hand: its cell holds at least it
    r = kept.iloc[0]
    cell = ds["fire_count"].sel(day=r["time"].normalize(), lat=r["latitude"], lon=r["longitude"], method="nearest")
    assert int(cell) >= 1


def test_adapter_writes_zarr(data_dir: Path, tmp_path: Path) -> None:
    a = FIRMSAdapter()
    a.grid = Grid(0.5)
    src = data_dir / SHIPPED
    out = a.write(a.read([src]), tmp_path / "fires.zarr", inputs=[src])
    ds = xr.open_zarr(out, consolidated=False)
    assert ds["frp"].attrs["units"] == "MW" and ds.sizes["day"] == 2 and "sha256" in ds.attrs["provenance"]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.drop(columns=["frp"]), r"lacks the FIRMS MODIS column\(s\) \['frp'\]"),
    (lambda d: d.assign(confidence=np.where(np.arange(len(d)) == 3, "h", d["confidence"].astype(str))),
     "non-numeric confidence in data row 4"),
    (lambda d: d.assign(latitude=d["latitude"] * 10), "latitude must lie in -90..90"),
    (lambda d: d.assign(brightness=d["brightness"] - 273.15), r"brightness must lie in 200..600.*in K"),
    (lambda d: d.assign(acq_date="01/08/2023"), "is not YYYY-MM-DD HHMM"),
    (lambda d: pd.concat([d, d.iloc[:1]]), "duplicate detections"),
])
def test_bad_input(data_dir: Path, tmp_path: Path, edit, message: str) -> None:
    d = pd.read_csv(data_dir / SHIPPED, dtype={"acq_time": str}, nrows=50)
    p = tmp_path / "bad.csv"
    edit(d).to_csv(p, index=False)
    with pytest.raises(IngestError, match=message):
        read_firms_csv(p)
