"""`carbonmap update`: appends as a new release, idempotent, revisions, hard-linked history.

Real inputs, real Dask LocalCluster, a 10 degree grid and a few days so it stays fast."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import numpy as np
import pytest

from carbonmap import contract as cc
from pipelines import releases, store
from pipelines.build import BuildRequest, build
from pipelines.consistency import check_store
from pipelines.inputs import load_inputs
from pipelines.update import UpdateError, UpdateRequest, update


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(cc.Grid(10.0))


@pytest.fixture(scope="module")
def updated(tmp_path_factory: pytest.TempPathFactory, inputs):
    path = tmp_path_factory.mktemp("upd") / "u.zarr"
    build(BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 3), 10.0, path, "upd-10deg"), inputs=inputs)
    first = update(UpdateRequest(path, dt.date(2024, 3, 5)), inputs=inputs)
    return path, first


def test_update_appends_days_as_a_new_release(updated) -> None:
    path, result = updated
    assert result.release == "r0002" and result.parent == "r0001"
    assert result.days_added == ("2024-03-04", "2024-03-05") and result.days_revised == ()
    ds = store.open_cube(path)
    assert ds.sizes["time"] == 5 and ds.attrs[store.RELEASE_ATTR] == "r0002"
    report = check_store(path)
    assert report.ok, report.problems
    assert report.days == 5 and report.max_rel_gap < 1e-6
    assert store.open_cube(path, "r0001").sizes["time"] == 3  # the old release is intact


def test_unchanged_days_are_hard_links_to_the_parent(updated) -> None:
    path, _ = updated
    rel = store.releases_dir(path)
    shard = Path(cc.EMISSIONS_VAR) / "c" / "0" / "0" / "0" / "0"
    assert os.stat(rel / "r0001" / shard).st_ino == os.stat(rel / "r0002" / shard).st_ino
    assert not (rel / "r0002" / "progress").exists() and not (rel / "r0002" / "plan.json").exists()


def test_update_twice_changes_nothing(updated, inputs) -> None:
    path, _ = updated
    again = update(UpdateRequest(path, dt.date(2024, 3, 5)), inputs=inputs)
    assert again.release is None and not again.changed and again.parent == "r0002"
    assert store.current_release(path) == "r0002" and store.release_ids(path) == ["r0001", "r0002"]


def test_better_inputs_revise_past_days_in_a_new_release(updated, inputs) -> None:
    path, _ = updated
    gcb = inputs.gcb.copy()
    sel = (gcb["iso3"] == "DEU") & (gcb["year"] == 2024)
    assert sel.any()
    gcb.loc[sel, "total"] *= 1.10  # a revised inventory for Germany
    better = dataclasses.replace(inputs, gcb=gcb)
    res = update(UpdateRequest(path, dt.date(2024, 3, 5)), inputs=better)
    assert res.release == "r0003" and res.days_added == () and len(res.days_revised) == 5
    assert check_store(path).ok
    d = releases.diff(path, "r0002", "r0003")
    assert set(d.table["country"]) == {"DEU"} and d.total_change_t > 0
    hist = releases.list_releases(path)
    assert [h.id for h in hist] == ["r0003", "r0002", "r0001"]
    assert hist[0].days_revised == [["2024-03-01", "2024-03-05"]]
    old = store.open_cube(path, "r0002")[cc.NATIONAL_VAR].sel(country="DEU").sum().item()
    new = store.open_cube(path)[cc.NATIONAL_VAR].sel(country="DEU").sum().item()
    # +10% on the annual total; the temporal disaggregation may shift it between months of the year
    assert old * 1.02 < new < old * 1.25
    fra_old = store.open_cube(path, "r0002")[cc.NATIONAL_VAR].sel(country="FRA").values
    np.testing.assert_array_equal(store.open_cube(path)[cc.NATIONAL_VAR].sel(country="FRA").values, fra_old)
    # the grid moved with the national totals: mass is conserved in the revised release
    em_new = np.asarray(store.open_cube(path)[cc.EMISSIONS_VAR].values, dtype=np.float64).sum()
    em_old = np.asarray(store.open_cube(path, "r0002")[cc.EMISSIONS_VAR].values, dtype=np.float64).sum()
    assert em_new - em_old == pytest.approx((new - old), rel=1e-4)


def test_update_needs_a_built_store(tmp_path: Path) -> None:
    with pytest.raises(UpdateError, match="carbonmap build"):
        update(UpdateRequest(tmp_path / "none.zarr", dt.date(2024, 3, 5)))


def test_each_release_has_its_own_current_timeseries_layout(updated) -> None:
    """The time-series layout published with every release (built, appended, revised) holds exactly
    that release's days and values, not the parent's it was hard-linked from."""
    import zarr

    from pipelines.timeseries import SIGMA_VAR, timeseries_path

    path, _ = updated
    for rid in store.release_ids(path):
        cube = zarr.open_group(store.releases_dir(path) / rid, mode="r")
        ts = zarr.open_group(timeseries_path(store.releases_dir(path) / rid), mode="r")
        em = np.asarray(cube[cc.EMISSIONS_VAR][:])
        np.testing.assert_array_equal(np.asarray(ts[cc.EMISSIONS_VAR][:]), em, err_msg=rid)
        sigma = np.abs(np.asarray(cube[cc.UNCERTAINTY_VAR][:])) * em
        np.testing.assert_array_equal(np.asarray(ts[SIGMA_VAR][:]), sigma, err_msg=rid)
        np.testing.assert_allclose(np.asarray(ts[f"{cc.EMISSIONS_VAR}_cumsum"][-1]),
                                   em.astype(np.float64).sum(axis=0), rtol=1e-9, err_msg=rid)


def test_update_of_a_cube_only_build_publishes_both_layouts_whole(tmp_path: Path, inputs) -> None:
    """A store built with ``layouts=False`` has no pyramid or time-series layout to update: its next
    release gets both, built whole from that release's cube (every day, not only the appended ones)."""
    import zarr

    from carbonmap.storage import pyramid as SP
    from pipelines.timeseries import timeseries_path

    path = tmp_path / "bare.zarr"
    build(BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 2), 10.0, path, "upd-bare", layouts=False),
          inputs=inputs)
    first = store.releases_dir(path) / "r0001"
    assert not SP.pyramid_path(first).exists() and not timeseries_path(first).exists()
    result = update(UpdateRequest(path, dt.date(2024, 3, 3)), inputs=inputs)
    assert result.release == "r0002" and result.days_added == ("2024-03-03",)
    rel = store.releases_dir(path) / "r0002"
    cube = zarr.open_group(rel, mode="r")
    em = np.asarray(cube[cc.EMISSIONS_VAR][:], dtype=np.float64)            # (time, sector, lat, lon)
    pyr = SP.open_pyramid(rel, SP.cube_version_of(dict(cube.attrs)))
    assert pyr is not None, "the update left no complete pyramid tied to the new cube"
    assert pyr.meta.steps["day"] == ["2024-03-01", "2024-03-02", "2024-03-03"]
    assert pyr.meta.steps["month"] == ["2024-03"]
    ts = zarr.open_group(timeseries_path(rel), mode="r")
    np.testing.assert_array_equal(np.asarray(ts[cc.EMISSIONS_VAR][:], dtype=np.float64), em)
    assert not SP.pyramid_path(first).exists()   # the parent release is left as it was


def test_an_update_release_carries_the_analysis_tables(updated) -> None:
    from carbonmap.storage.tables import read_table

    path, result = updated
    release = store.releases_dir(path) / str(result.release)
    for name in ("national_history", "facilities"):
        table = read_table(release, name)
        assert table is not None and len(table) > 0, f"release {result.release} lacks the {name} table"
