"""pipelines/timeseries.py: the sharded time-chunked copy equals the cube; cumulative sums give any window
exactly; append from a parent carries the sums on."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from carbonmap import contract as cc
from pipelines import store as pstore
from pipelines import timeseries as pts
from tests.api.routes.live_server import write_random_cube


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_random_cube(tmp_path_factory.mktemp("ts") / "random-test.zarr", days=40)


@pytest.fixture(scope="module")
def layout(cube: Path) -> Path:
    return pts.build_timeseries(cube)


def test_layout_is_a_sharded_time_chunked_copy_with_sigma(cube: Path, layout: Path):
    assert layout == pts.timeseries_path(cube.resolve()) and layout.name.endswith(".timeseries")
    ts = xr.open_zarr(layout, chunks=None, consolidated=False)
    c = xr.open_zarr(cube, chunks=None)
    np.testing.assert_array_equal(ts[cc.EMISSIONS_VAR].values, c[cc.EMISSIONS_VAR].values)
    expected_sigma = (c[cc.EMISSIONS_VAR].values.astype(np.float64) * c[cc.UNCERTAINTY_VAR].values).astype(np.float32)
    np.testing.assert_array_equal(ts[pts.SIGMA_VAR].values, expected_sigma)
    store = pts.TimeseriesStore(layout)
    em = pstore.array(store.group, cc.EMISSIONS_VAR)
    assert em.chunks == pts.daily_chunks(store.grid)  # the inner chunks readers decode
    assert em.chunks[0] == cc.TIMESERIES_CHUNK_DAYS
    assert em.shards == (cc.TIMESERIES_CHUNK_DAYS, len(cc.SECTORS), *pts.shard_edges(store.grid))
    assert store.has_cumsum and store.attrs["carbonmap_timeseries_format"] == pts.TS_FORMAT_VERSION
    # one object per (32-day block, shard) and array: 2 blocks x 1 shard (the 5 degree grid is one shard)
    assert sorted(p.relative_to(layout / "emissions").as_posix() for p in (layout / "emissions" / "c").rglob("*")
                  if p.is_file()) == ["c/0/0/0/0", "c/1/0/0/0"]


def test_shards_are_tens_of_objects_a_block():
    """A 0.1 degree global block: 4 x 8 shards per array (was 90 x 180 chunk files); 0.25 degree: 2 x 4."""
    for res, edges, n in ((0.1, (480, 480), 32), (0.25, (360, 360), 8)):
        grid = cc.Grid(res)
        sy, sx = pts.shard_edges(grid)
        assert (sy, sx) == edges
        assert math.ceil(grid.nlat / sy) * math.ceil(grid.nlon / sx) == n
        _, _, ty, tx = pts.daily_chunks(grid)
        _, _, cy, cx = pts.cumsum_chunks(grid)
        assert sy % ty == sy % cy == sx % tx == sx % cx == 0  # shards hold whole inner chunks of both kinds


def test_cumulative_sums_equal_the_running_sum(cube: Path, layout: Path):
    ts = xr.open_zarr(layout, chunks=None, consolidated=False)
    c = xr.open_zarr(cube, chunks=None)
    for var, daily in ((cc.EMISSIONS_VAR, c[cc.EMISSIONS_VAR].values), (pts.SIGMA_VAR, ts[pts.SIGMA_VAR].values)):
        cum = ts[pts.cumsum_var(var)].values
        assert cum.dtype == np.float64
        np.testing.assert_allclose(cum, np.cumsum(daily.astype(np.float64), axis=0), rtol=1e-13)


def test_any_window_is_exact_to_1e_9(tmp_path: Path):
    """Long and short windows, late in a longer series (cancellation), against a direct exact sum."""
    cube = write_random_cube(tmp_path / "long.zarr", days=300, resolution=10.0, seed=11)
    cum = pstore.array(pts.TimeseriesStore(pts.build_timeseries(cube)).group, pts.cumsum_var(cc.EMISSIONS_VAR))
    daily = xr.open_zarr(cube, chunks=None)[cc.EMISSIONS_VAR].values.astype(np.float64)
    for a, b in ((1, 299), (297, 299), (299, 299), (250, 289), (0, 39)):  # inclusive day windows
        got = np.asarray(cum[b]) - (np.asarray(cum[a - 1]) if a > 0 else 0.0)
        exact = np.array([[[math.fsum(daily[a:b + 1, s, i, j]) for j in range(daily.shape[3])]
                           for i in range(daily.shape[2])] for s in range(daily.shape[1])])
        assert np.max(np.abs(got - exact) / exact) <= 1e-9, (a, b)


def test_append_reuses_the_parent_and_matches_a_full_build(tmp_path: Path, cube: Path, layout: Path):
    full = xr.open_zarr(layout, chunks=None, consolidated=False).load()
    short = write_random_cube(tmp_path / "a" / "random-test.zarr", days=33)  # same seed: the same first days
    parent = pts.build_timeseries(short)
    appended = pts.build_timeseries(cube, parent=parent)  # replaces the full build atomically
    got = xr.open_zarr(appended, chunks=None, consolidated=False)
    for var in (cc.EMISSIONS_VAR, pts.SIGMA_VAR):
        np.testing.assert_array_equal(got[var].values, full[var].values)
        np.testing.assert_allclose(got[pts.cumsum_var(var)].values, full[pts.cumsum_var(var)].values, rtol=1e-13)
    assert list(got["time"].values) == list(full["time"].values)
    # the first, complete 32-day block was not rewritten: the same inode as the parent's (a hard link)
    for name in (cc.EMISSIONS_VAR, pts.cumsum_var(pts.SIGMA_VAR)):
        shard = Path(name) / "c/0/0/0/0"
        assert os.stat(appended / shard).st_ino == os.stat(parent / shard).st_ino
        # the second block was written anew, and the parent is untouched
        assert os.stat(appended / name / "c/1/0/0/0").st_ino != os.stat(parent / name / "c/1/0/0/0").st_ino
    assert len(xr.open_zarr(parent, chunks=None, consolidated=False)["time"]) == 33


def test_a_layout_of_the_old_format_is_rebuilt_not_appended(tmp_path: Path):
    short = write_random_cube(tmp_path / "a" / "random-test.zarr", days=10)
    parent = pts.build_timeseries(short)
    import zarr

    zarr.open_group(parent, mode="r+").attrs["carbonmap_timeseries_format"] = "1"
    cube = write_random_cube(tmp_path / "b" / "random-test.zarr", days=12)
    assert pts._appendable_from(parent, *pts._cube_axes(cube)) is None
    out = pts.build_timeseries(cube, parent=parent)
    assert pts.TimeseriesStore(out).attrs["carbonmap_timeseries_format"] == pts.TS_FORMAT_VERSION


def test_unsealed_cube_is_refused(tmp_path: Path):
    (tmp_path / "x.zarr").mkdir()
    (tmp_path / "x.zarr" / "zarr.json").write_text('{"attributes": {"carbonmap_status": "building"}}')
    with pytest.raises(pts.TimeseriesError, match="not sealed"):
        pts.build_timeseries(tmp_path / "x.zarr")
    with pytest.raises(pts.TimeseriesError, match="no time-series layout"):
        pts.TimeseriesStore(tmp_path / "nothing.timeseries")
