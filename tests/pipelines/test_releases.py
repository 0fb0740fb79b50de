"""Revision history: listing releases, as-of lookups, diffs, and the registry's release pinning."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonmap import contract as cc
from carbonmap.registry import Registry, ReleaseNotFound
from carbonmap.settings import get_settings
from pipelines import releases, store
from tests.conftest import write_synthetic_cube


def _revise_day(path: Path, day: int, factor: float) -> None:
    """Publish a new release of a synthetic store with one day scaled (a 'better input' revision)."""
    ds = store.open_cube(path)
    grid = cc.Grid.from_coords(ds["lat"].values, ds["lon"].values)
    times = pd.DatetimeIndex(ds["time"].values)
    em = np.asarray(ds[cc.EMISSIONS_VAR].values)
    unc = np.asarray(ds[cc.UNCERTAINTY_VAR].values)
    nat = np.asarray(ds[cc.NATIONAL_VAR].values)
    tmp = store.building_path(path)
    store.create(tmp, grid, times, [str(c) for c in ds["country"].values], dict(ds.attrs))
    em[day] *= factor
    nat[day] *= factor
    for t in range(len(times)):
        store.write_day(tmp, t, em[t], unc[t])
    store.write_national(tmp, nat, np.full_like(nat, 0.05))
    store.seal(tmp, path, manifest={"kind": "update", "days_revised": [[f"{times[day]:%Y-%m-%d}"] * 2],
                                    "days_added": [], "reason": "test revision"})


@pytest.fixture()
def history(tmp_path: Path) -> Path:
    path = write_synthetic_cube(tmp_path / "h.zarr", days=4)
    time.sleep(1.1)  # distinct creation seconds for the as-of query
    _revise_day(path, 2, 1.5)
    return path


def test_list_releases_newest_first_with_what_changed(history: Path) -> None:
    rel = releases.list_releases(history)
    assert [r.id for r in rel] == ["r0002", "r0001"]
    assert rel[0].current and not rel[1].current and rel[0].parent == "r0001"
    assert rel[0].days_revised == [["2024-01-03", "2024-01-03"]]
    assert rel[0].to_json()["kind"] == "update"


def test_diff_shows_the_revised_day_only(history: Path) -> None:
    d = releases.diff(history, "r0001", "r0002")
    assert d.days_revised == ["2024-01-03"] and d.days_added == [] and d.days_removed == []
    assert set(d.table["date"]) == {"2024-01-03"} and len(d.table) == len(cc.SECTORS)
    old = store.open_cube(history, "r0001")[cc.NATIONAL_VAR].isel(time=2).sum().item() / 1000.0
    assert d.total_change_t == pytest.approx(0.5 * old, rel=1e-9)
    assert d.to_json()["days_revised"] == ["2024-01-03"]


def test_release_as_of(history: Path) -> None:
    rel = releases.list_releases(history)
    first = dt.datetime.fromisoformat(rel[1].created)
    assert releases.release_as_of(history, first) == "r0001"
    assert releases.release_as_of(history, dt.datetime.now(dt.UTC)) == "r0002"
    with pytest.raises(LookupError):
        releases.release_as_of(history, first - dt.timedelta(days=1))


def test_registry_serves_current_and_pinned_releases(tmp_path: Path) -> None:
    path = write_synthetic_cube(tmp_path / "g.zarr", days=4)
    reg = Registry()
    cube = reg.add(path)
    assert cube.release == "r0001" and cube.path.name == "r0001"
    day = dt.date(2024, 1, 3)
    before = cube.read_day(day, "power").sum()
    _revise_day(path, 2, 2.0)
    now = reg.get(cube.id)  # picks up the published release without a restart
    assert now.release == "r0002" and now.read_day(day, "power").sum() == pytest.approx(2 * before)
    pinned = reg.get(cube.id, release="r0001")
    assert pinned.release == "r0001" and pinned.read_day(day, "power").sum() == pytest.approx(before)
    assert cube.read_day(day, "power").sum() == pytest.approx(before)  # an open Cube never changes
    with pytest.raises(ReleaseNotFound):
        reg.get(cube.id, release="../../etc")
    with pytest.raises(ReleaseNotFound):
        reg.get(cube.id, release="r0009")
    assert sorted(now.zarr_store.root.iterdir()) if hasattr(now.zarr_store, "root") else True


def test_a_pruned_release_is_not_served_from_the_registry_cache(tmp_path: Path) -> None:
    path = write_synthetic_cube(tmp_path / "p.zarr", days=3)
    _revise_day(path, 1, 2.0)
    reg = Registry()
    cube = reg.add(path)
    assert reg.get(cube.id, release="r0001").release == "r0001"  # now cached
    assert releases.prune(path, keep=1, settings=get_settings()) == ["r0001"]
    with pytest.raises(ReleaseNotFound, match="pruned"):  # its shards are gone: never read them as zeros
        reg.get(cube.id, release="r0001")
    assert reg.get(cube.id).release == "r0002"
