"""Stores on object storage: build, read, update (releases), history and prune on a real
S3-compatible server (moto's server mode on localhost, started here).

A 10 degree grid and a few days; the Dask LocalCluster runs threads (CARBONMAP_DASK_PROCESSES=false)
so the module stays well under two minutes on a shared machine."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import obstore
import pytest

from carbonmap import contract as cc
from carbonmap.registry import Registry, ReleaseNotFound
from carbonmap.settings import get_settings
from carbonmap.storage import remote
from pipelines import releases, store
from pipelines.build import BuildRequest, build
from pipelines.consistency import check_store
from pipelines.inputs import load_inputs
from pipelines.update import UpdateRequest, update
from tests.s3_server import moto_s3


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    with moto_s3() as (bucket, _env):
        yield bucket


@pytest.mark.e2e
def test_build_and_read_a_cube_on_s3(s3: str) -> None:
    url = f"{s3}/cubes/s3-10deg.zarr"
    out = build(BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 4), 10.0, url, "s3-10deg"),
                inputs=load_inputs(cc.Grid(10.0)))
    assert out == url
    assert store.current_release(url) == "r0001"
    assert remote.read_text(url, "CURRENT").strip() == "r0001"
    ds = store.open_cube(url)
    assert ds.sizes["time"] == 4 and ds.attrs[cc.STATUS_ATTR] == cc.STATUS_COMPLETE
    report = check_store(url)
    assert report.ok and report.days == 4, report.problems
    total = float(np.asarray(ds[cc.EMISSIONS_VAR].isel(time=1).values, dtype=np.float64).sum())
    nat = float(ds[cc.NATIONAL_VAR].isel(time=1).sum())
    assert total == pytest.approx(nat, rel=1e-6)
    reg = Registry()
    cube = reg.add(url)
    assert cube.release == "r0001" and cube.read_day(dt.date(2024, 3, 2), "power").sum() > 0
    # the CLI's Path would collapse s3:// to s3:/; the request normalises it back
    assert BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 2), 10.0, Path(url), "x").store == url


def test_unpublished_s3_release_is_invisible(s3: str) -> None:
    url = f"{s3}/cubes/never.zarr"
    with pytest.raises(store.StoreError, match="no CURRENT"):
        store.open_cube(url)


# ------------------------------------------------------------------------------------ releases on S3
DAY = dt.date(2024, 3, 1)
GRIDS = (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR, cc.NATIONAL_VAR, cc.NATIONAL_UNC_VAR)


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(cc.Grid(10.0))


@pytest.fixture(scope="module")
def history(s3: str, inputs, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """An s3 store built for 1-3 March and updated through 5 March while a reader polls it, plus
    the same build + update on a local store (the reference)."""
    url = f"{s3}/cubes/upd.zarr"
    build(BuildRequest(DAY, dt.date(2024, 3, 3), 10.0, url, "s3-upd"), inputs=inputs)
    reg = Registry()
    before = reg.add(url)
    seen: list[tuple[str, int, int]] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def reader() -> None:  # a client opening the store over and over while the update runs
        while not stop.is_set():
            try:
                ds = store.open_cube(url)
                seen.append((str(ds.attrs[store.RELEASE_ATTR]), int(ds.sizes["time"]),
                             int(ds[cc.NATIONAL_VAR].sizes["time"])))
                ds.close()
            except Exception as exc:  # noqa: BLE001 - recorded and asserted on
                errors.append(exc)
            time.sleep(0.05)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    first = update(UpdateRequest(url, dt.date(2024, 3, 5)), inputs=inputs)
    time.sleep(0.3)  # let the reader see the new release too
    stop.set()
    thread.join()
    local = tmp_path_factory.mktemp("twin") / "upd.zarr"
    build(BuildRequest(DAY, dt.date(2024, 3, 3), 10.0, local, "s3-upd"), inputs=inputs)
    local_first = update(UpdateRequest(local, dt.date(2024, 3, 5)), inputs=inputs)
    return SimpleNamespace(url=url, first=first, reg=reg, before=before, seen=seen, errors=errors,
                           local=local, local_first=local_first)


@pytest.mark.e2e
def test_update_on_s3_adds_days_as_a_release_equal_to_a_local_update(history: SimpleNamespace) -> None:
    url, res = history.url, history.first
    assert res.release == "r0002" and res.parent == "r0001" and not res.resumed
    assert res.days_added == ("2024-03-04", "2024-03-05") and res.days_revised == ()
    assert remote.read_text(url, "CURRENT").strip() == "r0002"
    report = check_store(url)
    assert report.ok and report.days == 5, report.problems
    assert store.open_cube(url, "r0001").sizes["time"] == 3  # the parent release is intact
    assert history.local_first.release == "r0002" and history.local_first.days_added == res.days_added
    s3_ds, local_ds = store.open_cube(url), store.open_cube(history.local)
    np.testing.assert_array_equal(s3_ds["time"].values, local_ds["time"].values)
    for var in GRIDS:
        np.testing.assert_array_equal(np.asarray(s3_ds[var].values), np.asarray(local_ds[var].values), err_msg=var)
    # unchanged days were copied server-side (byte-identical shards); no bookkeeping is left behind
    old = set(remote.list_keys(url, "releases/r0001"))
    new = set(remote.list_keys(url, "releases/r0002"))
    shard = f"{cc.EMISSIONS_VAR}/c/0/0/0/0"
    assert f"releases/r0002/{shard}" in new
    raw = remote.object_store(url)
    assert bytes(obstore.get(raw, f"releases/r0001/{shard}").bytes()) == bytes(
        obstore.get(raw, f"releases/r0002/{shard}").bytes())
    assert not any("/progress/" in k or k.endswith("plan.json") for k in new | old)
    _assert_layouts_match(f"{url}/releases/r0002", store.release_path(history.local, "r0002"))


def _assert_layouts_match(s3_release: str, local_release: Path | str) -> None:
    """The pyramid, the time-series layout and the release files of an S3 release hold what a local
    store's same release holds (same steps and values; every listed file present with its size and sha256)."""
    import hashlib

    import zarr

    from carbonmap.storage.location import location
    from carbonmap.storage.pyramid import pyramid_location, read_meta
    from carbonmap.storage.release_files import files_location
    from carbonmap.storage.release_files import read_manifest as files_manifest
    from carbonmap.storage.timeseries import TimeseriesStore, timeseries_location

    s3_meta, local_meta = read_meta(pyramid_location(s3_release)), read_meta(pyramid_location(local_release))
    assert s3_meta is not None and local_meta is not None
    assert s3_meta.steps == local_meta.steps and s3_meta.status == cc.STATUS_COMPLETE
    s3_pyr = zarr.open_group(pyramid_location(s3_release).zarr_store(read_only=True), mode="r")
    local_pyr = zarr.open_group(pyramid_location(local_release).zarr_store(read_only=True), mode="r")
    for key in ("month/0/emissions", "year/0/uncertainty"):
        np.testing.assert_array_equal(np.asarray(s3_pyr[key][...]), np.asarray(local_pyr[key][...]), err_msg=key)
    s3_ts = TimeseriesStore(timeseries_location(s3_release))
    local_ts = TimeseriesStore(timeseries_location(location(local_release).resolved()))
    assert s3_ts.times.equals(local_ts.times)
    for var in ("emissions", "sigma_cumsum"):
        every = slice(None)
        np.testing.assert_array_equal(s3_ts.read(var, every, every, every, every),
                                      local_ts.read(var, every, every, every, every), err_msg=var)
    s3_files, local_files = files_manifest(s3_release), files_manifest(local_release)
    assert sorted(s3_files) == sorted(local_files) and s3_files
    where = files_location(s3_release)
    for name, entry in s3_files.items():
        data = where.read_bytes(name)
        assert data is not None and len(data) == entry.size and hashlib.sha256(data).hexdigest() == entry.sha256


def test_s3_readers_see_the_old_or_the_new_release_only(history: SimpleNamespace) -> None:
    assert not history.errors, history.errors[:3]
    assert set(history.seen) <= {("r0001", 3, 3), ("r0002", 5, 5)}, set(history.seen)
    assert ("r0001", 3, 3) in history.seen and history.seen[-1] == ("r0002", 5, 5)
    reg, before = history.reg, history.before
    assert before.release == "r0001" and before.path.endswith("/releases/r0001")
    now = reg.get(before.id)  # the registry picks up the new CURRENT without a restart
    assert now.release == "r0002" and now.end == dt.date(2024, 3, 5)
    pinned = reg.get(before.id, release="r0001")
    np.testing.assert_array_equal(pinned.read_day(dt.date(2024, 3, 2), "power"),
                                  before.read_day(dt.date(2024, 3, 2), "power"))
    assert reg.root(before.id) == history.url
    with pytest.raises(ReleaseNotFound):
        reg.get(before.id, release="r0009")


def test_second_update_on_s3_changes_nothing(history: SimpleNamespace, inputs) -> None:
    again = update(UpdateRequest(history.url, dt.date(2024, 3, 5)), inputs=inputs)
    assert again.release is None and not again.changed and again.parent == "r0002"
    assert store.current_release(history.url) == "r0002"
    assert store.release_ids(history.url) == ["r0001", "r0002"]
    assert remote.list_dirs(history.url, "releases") == ["r0001", "r0001.timeseries", "r0002", "r0002.timeseries"]


def test_history_as_of_and_diff_on_s3(history: SimpleNamespace) -> None:
    url = history.url
    hist = releases.list_releases(url)
    assert [h.id for h in hist] == ["r0002", "r0001"] and hist[0].current and not hist[1].current
    assert hist[0].parent == "r0001" and hist[0].kind == "update" and hist[1].kind == "build"
    assert hist[0].days_added == [["2024-03-04", "2024-03-05"]] and hist[0].days_revised == []
    assert releases.list_releases(Path(url)) == hist  # a CLI Path collapses s3:// to s3:/; still found
    assert releases.release_as_of(url, dt.datetime.now(dt.UTC)) == "r0002"
    assert releases.release_as_of(url, dt.datetime.fromisoformat(hist[1].created)) == "r0001"
    d = releases.diff(url, "r0001", "r0002")
    assert d.days_added == ["2024-03-04", "2024-03-05"] and d.days_revised == [] and len(d.table) == 0


class Crash(Exception):
    """Stands in for a kill after some days were committed."""


@pytest.mark.e2e
def test_interrupted_s3_revision_resumes_sweeps_orphans_and_prunes(history: SimpleNamespace, inputs) -> None:
    url, reg = history.url, history.reg
    dataset = history.before.id
    pinned_old = reg.get(dataset, release="r0001")
    assert pinned_old.release == "r0001"
    # an orphan: a staging prefix some crashed writer left without a plan
    remote.write_text(url, "releases/r0007/zarr.json", "{}")
    remote.write_text(url, f"releases/r0007/{cc.EMISSIONS_VAR}/c/0/0/0/0", "junk")
    gcb = inputs.gcb.copy()
    gcb.loc[(gcb["iso3"] == "DEU") & (gcb["year"] == 2024), "total"] *= 1.10  # a revised inventory
    better = dataclasses.replace(inputs, gcb=gcb)

    def crash(done: int, total: int, msg: str) -> None:
        if msg == "day markers written":
            raise Crash(msg)

    with pytest.raises(Crash):
        update(UpdateRequest(url, dt.date(2024, 3, 5)), progress=crash, inputs=better)
    assert remote.list_keys(url, "releases/r0007") == []  # swept
    assert store.current_release(url) == "r0002" and store.open_cube(url).attrs[store.RELEASE_ATTR] == "r0002"
    assert store.release_ids(url) == ["r0001", "r0002"]  # the staged r0003 is no release yet
    with pytest.raises(store.StoreError, match="no release"):
        store.open_cube(url, "r0003")
    staged = remote.list_keys(url, "releases/r0003")
    assert "releases/r0003/plan.json" in staged and sum("/progress/" in k for k in staged) == 5

    log: list[str] = []
    res = update(UpdateRequest(url, dt.date(2024, 3, 5)), progress=lambda d, t, m: log.append(m), inputs=better)
    assert res.release == "r0003" and res.resumed and res.days_added == () and len(res.days_revised) == 5
    assert any("resuming (5 done)" in m for m in log) and "writing days" not in log  # nothing recomputed
    assert check_store(url).ok
    assert not any("/progress/" in k or k.endswith("plan.json") for k in remote.list_keys(url, "releases/r0003"))
    d = releases.diff(url, "r0002", "r0003")
    assert set(d.table["country"]) == {"DEU"} and d.total_change_t > 0

    assert releases.prune(url, keep=2, settings=get_settings()) == ["r0001"]
    assert [h.id for h in releases.list_releases(url)] == ["r0003", "r0002"]
    assert remote.list_keys(url, "releases/r0001") == [] and store.release_ids(url) == ["r0002", "r0003"]
    assert remote.list_keys(url, "releases/r0001.timeseries") == []  # the pruned release's sidecar went with it
    with pytest.raises(store.StoreError):
        store.open_cube(url, "r0001")
    with pytest.raises(ReleaseNotFound):  # a cached pinned Cube of a pruned release is not served
        reg.get(dataset, release="r0001")
    assert reg.get(dataset).release == "r0003" and reg.get(dataset, release="r0002").release == "r0002"
