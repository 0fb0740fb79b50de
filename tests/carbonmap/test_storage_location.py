"""carbonmap/storage/location.py: one store interface, two homes. Every behaviour the stores rely on is checked on a
local directory and on an S3 prefix (moto's S3 server on loopback), with the same assertions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zarr

from carbonmap.storage import shards
from carbonmap.storage.location import Location, location
from tests.s3_server import moto_s3


@pytest.fixture(scope="module")
def bucket() -> Iterator[str]:
    with moto_s3("carbonmap-location") as (url, _env):
        yield url


@pytest.fixture(params=["local", "s3"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    if request.param == "local":
        return location(tmp_path / "store")
    return location(f"{request.getfixturevalue('bucket')}/{tmp_path.name}/store")


def test_the_factory_is_the_only_place_that_tells(tmp_path: Path) -> None:
    assert location(tmp_path).local_path == tmp_path and location(tmp_path).can_rename
    s3 = location("s3://b/p/x.zarr")
    assert s3.local_path is None and not s3.can_rename and s3.concurrent_reads > 1 and s3.name == "x.zarr"
    assert location(Path("s3://b/p")).url == "s3://b/p"  # a CLI Path collapses s3:// to s3:/; normalised back
    assert location(s3) is s3


def test_objects_bytes_ranges_and_listings(root: Location) -> None:
    assert root.read_bytes("a/b.bin") is None and root.size("a/b.bin") is None and not root.exists("a/b.bin")
    root.write_parts("a/b.bin", [b"0123", b"456789"])
    root.write_text("a/c.json", '{"x": 1}')
    root.child("d").write_bytes("e.bin", b"xyz")
    assert root.read_bytes("a/b.bin") == b"0123456789" and root.read_text("a/c.json") == '{"x": 1}'
    assert root.size("a/b.bin") == 10 and root.exists("a/b.bin")
    assert root.read_suffix("a/b.bin", 3) == (10, b"789") and root.read_suffix("nope", 3) is None
    assert root.read_ranges("a/b.bin", [(0, 2), (5, 3)]) == [b"01", b"567"]
    assert b"".join(root.iter_range("a/b.bin", 2, 9)) == b"2345678"
    size, version = root.stat("a/b.bin") or (0, "")
    assert size == 10 and version
    assert sorted(root.list_keys()) == ["a/b.bin", "a/c.json", "d/e.bin"] and root.list_dirs() == ["a", "d"]
    root.delete("a/c.json")
    assert root.list_keys() == ["a/b.bin", "d/e.bin"]
    assert root.stat("../outside") is None  # a client-given key never leaves the location


def test_tree_copies_moves_and_staging(root: Location) -> None:
    src = root.child("src")
    src.write_bytes("x/1.bin", b"one")
    dest = root.child("dest")
    src.copy_tree_to(dest)
    assert dest.read_bytes("x/1.bin") == b"one" and src.read_bytes("x/1.bin") == b"one"
    src.copy_object("x/1.bin", dest, "y/2.bin")
    assert dest.read_bytes("y/2.bin") == b"one"
    final = root.child("tree")
    final.write_bytes("old.bin", b"old")
    with final.staged() as tmp:
        tmp.write_bytes("new.bin", b"new")
    assert final.list_keys() == ["new.bin"]  # replaced whole (renamed in, or rewritten in place)
    with pytest.raises(RuntimeError), final.staged() as tmp:
        tmp.write_bytes("half.bin", b"?")
        raise RuntimeError("a writer died")
    if final.can_rename:  # a file system never shows the half tree; object storage stages in place, unpublished
        assert final.list_keys() == ["new.bin"]
    dest.delete_tree()
    assert dest.list_keys() == []


def test_a_workdir_lands_its_files_manifest_last(root: Location, tmp_path: Path) -> None:
    files = root.child("files")
    with files.workdir(last="files.json") as out:
        (out / "a.nc").write_bytes(b"netcdf")
        (out / "files.json").write_text('["a.nc"]')
    assert files.read_bytes("a.nc") == b"netcdf" and files.read_text("files.json") == '["a.nc"]'
    with pytest.raises(RuntimeError), files.workdir(last="files.json") as out:
        (out / "b.nc").write_bytes(b"half")
        raise RuntimeError("the writer died")
    assert files.size("b.nc") is None or files.can_rename  # object storage uploads nothing of a failed run
    got = tmp_path / "got.nc"
    files.download("a.nc", got)
    assert got.read_bytes() == b"netcdf"


def test_release_pointer_and_current(root: Location) -> None:
    assert root.pointer() is None
    rel = root.releases_root().child("r0001")
    rel.write_text("release.json", "{}")
    root.set_pointer("r0001")
    assert root.pointer() == "r0001"
    here = root.current()
    assert here is not None and here.resolved().exists("release.json")
    root.releases_root().child("r0002").write_text("release.json", "{}")
    root.set_pointer("r0002")
    assert root.pointer() == "r0002" and sorted(root.releases_root().list_dirs()) == ["r0001", "r0002"]


def test_the_shard_reader_and_writer_work_on_both(root: Location) -> None:
    from zarr.codecs import ZstdCodec

    arr = zarr.create_array(root.zarr_store(), name="v", shape=(3, 10, 12), chunks=(1, 4, 4), shards=(1, 8, 12),
                            dtype="f4", compressors=[ZstdCodec(level=3)], fill_value=0.0)
    values = np.arange(3 * 10 * 12, dtype="f4").reshape(3, 10, 12)
    sharded = shards.ShardedArray(arr)
    assert sharded.layout is not None and sharded.layout.directory == root.child("v")
    for t in range(3):
        shards.write_shard(sharded.layout.directory, (t, 0, 0), values[t:t + 1, :8], (1, 4, 4), (1, 8, 12), 3)
        shards.write_shard(sharded.layout.directory, (t, 1, 0), values[t:t + 1, 8:], (1, 4, 4), (1, 8, 12), 3)
    np.testing.assert_array_equal(np.asarray(arr[...]), values)  # zarr reads what the fast writer wrote
    box = (slice(0, 3), slice(3, 9), slice(2, 11))
    np.testing.assert_array_equal(sharded.read(box), values[box])
    np.testing.assert_array_equal(sharded.read(box), values[box])  # again: the shard indexes from the cache
    assert 0 < len(sharded._indexes) <= 6
