"""Release layout of cube stores: seal publishes immutable releases behind an atomic symlink."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import zarr

from carbonmap import contract as cc
from carbonmap.settings import get_settings
from pipelines import locks, store
from tests.conftest import write_synthetic_cube


def test_seal_publishes_a_release_behind_a_symlink(tmp_path: Path) -> None:
    path = write_synthetic_cube(tmp_path / "c.zarr", days=3)
    assert path.is_symlink() and store.current_release(path) == "r0001"
    manifest = json.loads((store.releases_dir(path) / "r0001" / store.MANIFEST).read_text())
    assert manifest["id"] == "r0001" and manifest["parent"] is None and manifest["dataset_id"] == "synthetic-test"
    ds = store.open_cube(path)
    assert ds.attrs[store.RELEASE_ATTR] == "r0001" and ds.sizes["time"] == 3
    assert not store.building_path(path).exists()


def test_second_seal_is_a_new_release_and_the_old_one_stays_readable(tmp_path: Path) -> None:
    path = write_synthetic_cube(tmp_path / "c.zarr", days=3)
    write_synthetic_cube(tmp_path / "c.zarr", days=5)
    assert store.current_release(path) == "r0002"
    assert store.read_manifest(store.releases_dir(path) / "r0002")["parent"] == "r0001"
    assert store.open_cube(path).sizes["time"] == 5
    assert store.open_cube(path, release="r0001").sizes["time"] == 3
    assert store.release_ids(path) == ["r0001", "r0002"]


@pytest.mark.parametrize("bad", ["../r0001", "r1", "r0001/../../etc", "/etc/passwd", "", "R0001", "r0001 "])
def test_release_ids_cannot_name_other_paths(tmp_path: Path, bad: str) -> None:
    path = write_synthetic_cube(tmp_path / "c.zarr", days=2)
    with pytest.raises(store.StoreError, match="release"):
        store.open_cube(path, release=bad)


def test_unknown_release_names_the_known_ones(tmp_path: Path) -> None:
    path = write_synthetic_cube(tmp_path / "c.zarr", days=2)
    with pytest.raises(store.StoreError, match="r0001"):
        store.open_cube(path, release="r0042")


def test_rewriting_a_hard_linked_shard_never_changes_the_older_release(tmp_path: Path) -> None:
    """zarr's local store writes temp + rename, which is what makes hard-linked releases safe."""
    path = write_synthetic_cube(tmp_path / "c.zarr", days=2)
    old = store.releases_dir(path) / "r0001"
    copy = tmp_path / "copy.zarr"
    for root, _dirs, files in os.walk(old):
        rel = Path(root).relative_to(old)
        (copy / rel).mkdir(parents=True, exist_ok=True)
        for f in files:
            os.link(Path(root) / f, copy / rel / f)
    shard = Path(cc.EMISSIONS_VAR) / "c" / "1" / "0" / "0" / "0"
    assert os.stat(old / shard).st_ino == os.stat(copy / shard).st_ino
    before = np.asarray(zarr.open_group(old, mode="r")[cc.EMISSIONS_VAR][1])
    g = zarr.open_group(copy, mode="r+")
    g[cc.EMISSIONS_VAR][1] = np.full(before.shape, 7.0, dtype=np.float32)
    assert os.stat(old / shard).st_ino != os.stat(copy / shard).st_ino
    np.testing.assert_array_equal(np.asarray(zarr.open_group(old, mode="r")[cc.EMISSIONS_VAR][1]), before)


def test_writer_lock_admits_one_writer(tmp_path: Path) -> None:
    path = tmp_path / "c.zarr"
    with store.writer_lock(path, settings=get_settings()):
        err: list[Exception] = []

        def other() -> None:
            try:
                with store.writer_lock(path, settings=get_settings()):
                    pass
            except locks.LockHeld as exc:
                err.append(exc)

        # flock is per open file description, so a second open in another thread conflicts
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert err and "another build or update" in str(err[0])
    with store.writer_lock(path, settings=get_settings()):  # released afterwards
        pass


def test_legacy_directory_store_is_migrated_on_seal(tmp_path: Path) -> None:
    path = tmp_path / "c.zarr"
    path.mkdir()
    (path / "zarr.json").write_text("{}")
    write_synthetic_cube(path, days=2)
    assert path.is_symlink() and store.open_cube(path).sizes["time"] == 2
    assert not path.with_name("c.zarr.old").exists()


def test_unfinished_staging_is_never_opened(tmp_path: Path) -> None:
    path = write_synthetic_cube(tmp_path / "c.zarr", days=2)
    staging = store.releases_dir(path) / "r0002.building"
    staging.mkdir()
    assert store.release_ids(path) == ["r0001"]
    with pytest.raises(store.StoreError):
        store.open_cube(path, release="r0002")
