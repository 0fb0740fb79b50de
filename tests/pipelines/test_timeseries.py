"""pipelines/timeseries.py: the time-chunked copy equals the cube; monthly/annual sums; append from a parent."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from carbonmap import contract as cc
from pipelines import timeseries as pts
from tests.api.routes.live_server import write_random_cube


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_random_cube(tmp_path_factory.mktemp("ts") / "random-test.zarr", days=40)


@pytest.fixture(scope="module")
def layout(cube: Path) -> Path:
    return pts.build_timeseries(cube)


def test_layout_is_a_time_chunked_copy_with_sigma(cube: Path, layout: Path):
    assert layout == pts.timeseries_path(cube.resolve()) and layout.name.endswith(".timeseries")
    ts = xr.open_zarr(layout, chunks=None, consolidated=False)
    c = xr.open_zarr(cube, chunks=None)
    np.testing.assert_array_equal(ts[cc.EMISSIONS_VAR].values, c[cc.EMISSIONS_VAR].values)
    expected_sigma = (c[cc.EMISSIONS_VAR].values.astype(np.float64) * c[cc.UNCERTAINTY_VAR].values).astype(np.float32)
    np.testing.assert_array_equal(ts[pts.SIGMA_VAR].values, expected_sigma)
    store = pts.TimeseriesStore(layout)
    assert store.group[cc.EMISSIONS_VAR].chunks == pts.daily_chunks(store.grid)
    assert store.group[cc.EMISSIONS_VAR].chunks[0] == cc.TIMESERIES_CHUNK_DAYS


def test_monthly_and_annual_sums(cube: Path, layout: Path):
    ts = xr.open_zarr(layout, chunks=None, consolidated=False)
    c = xr.open_zarr(cube, chunks=None)[cc.EMISSIONS_VAR].astype(np.float64)
    monthly = c.resample(time="MS").sum()
    np.testing.assert_allclose(ts["emissions_monthly"].values, monthly.values, rtol=1e-6)
    assert list(ts["month_days"].values) == [12, 28]  # 2023-12-20.. and January 2024 to 2024-01-28
    annual = c.groupby("time.year").sum()
    np.testing.assert_allclose(ts["emissions_annual"].values, annual.values, rtol=1e-6)
    assert list(ts["year"].values) == [2023, 2024]


def test_append_reuses_the_parent_and_matches_a_full_build(tmp_path: Path, cube: Path, layout: Path):
    full = xr.open_zarr(layout, chunks=None, consolidated=False).load()
    short = write_random_cube(tmp_path / "a" / "random-test.zarr", days=33)  # same seed: the same first days
    parent = pts.build_timeseries(short)
    appended = pts.build_timeseries(cube, parent=parent)  # replaces the full build atomically
    got = xr.open_zarr(appended, chunks=None, consolidated=False)
    for var in (cc.EMISSIONS_VAR, pts.SIGMA_VAR, "emissions_monthly", "sigma_monthly", "emissions_annual"):
        np.testing.assert_allclose(got[var].values, full[var].values, rtol=1e-6)
    assert list(got["time"].values) == list(full["time"].values)
    # the first, complete 32-day block was not rewritten: the same inode as the parent's (a hard link)
    chunk = Path("emissions/c/0/0/0/0")
    assert os.stat(appended / chunk).st_ino == os.stat(parent / chunk).st_ino
    # the second block was written anew, and the parent is untouched
    assert os.stat(appended / "emissions/c/1/0/0/0").st_ino != os.stat(parent / "emissions/c/1/0/0/0").st_ino
    assert len(xr.open_zarr(parent, chunks=None, consolidated=False)["time"]) == 33


def test_unsealed_cube_is_refused(tmp_path: Path):
    (tmp_path / "x.zarr").mkdir()
    (tmp_path / "x.zarr" / "zarr.json").write_text('{"attributes": {"carbonmap_status": "building"}}')
    with pytest.raises(pts.TimeseriesError, match="not sealed"):
        pts.build_timeseries(tmp_path / "x.zarr")
    with pytest.raises(pts.TimeseriesError, match="no time-series layout"):
        pts.TimeseriesStore(tmp_path / "nothing.timeseries")
