"""carbonmap/storage/shards.write_shard writes shards zarr reads back exactly: the same files (edges, empty chunks
left out) and sizes as zarr's sharding codec (zarr may order the chunks inside differently)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.codecs import ZstdCodec

from carbonmap.storage import shards as pts


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_write_shard_equals_zarr(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(5)
    shape, chunks, shard = (40, 3, 50, 70), (4, 3, 10, 20), (32, 3, 40, 40)  # edge shards are partial
    data: np.ndarray = rng.uniform(0, 1e6, size=shape).astype(dtype)
    data[:, :, 10:20, 0:20] = 0.0  # whole all-zero chunks: left out
    data[:, :, 40:, 40:] = 0.0  # a whole all-zero shard (the last row x last column): no file
    group = zarr.open_group(tmp_path / "g.zarr", mode="w")
    arrays = [group.create_array(name, shape=shape, dtype=dtype, chunks=chunks, shards=shard,
                                 compressors=[ZstdCodec(level=3)], fill_value=0.0) for name in ("zarr", "ours")]
    arrays[0][...] = data
    for key in np.ndindex(*(-(-n // s) for n, s in zip(shape, shard, strict=True))):
        sel = tuple(slice(k * s, min(n, (k + 1) * s)) for k, s, n in zip(key, shard, shape, strict=True))
        pts.write_shard(tmp_path / "g.zarr" / "ours", key, data[sel], chunks, shard)
    files = {p.relative_to(tmp_path / "g.zarr" / "zarr") for p in (tmp_path / "g.zarr" / "zarr" / "c").rglob("*")
             if p.is_file()}
    ours = {p.relative_to(tmp_path / "g.zarr" / "ours") for p in (tmp_path / "g.zarr" / "ours" / "c").rglob("*")
            if p.is_file()}
    assert files == ours and Path("c/1/0/1/1") not in ours
    for rel in files:
        assert (tmp_path / "g.zarr" / "ours" / rel).stat().st_size == (tmp_path / "g.zarr" / "zarr" / rel).stat().st_size
    np.testing.assert_array_equal(arrays[1][...], data)


def test_an_emptied_shard_is_removed_not_rewritten_in_place(tmp_path: Path) -> None:
    group = zarr.open_group(tmp_path / "g.zarr", mode="w")
    group.create_array("a", shape=(4, 4), dtype=np.float32, chunks=(2, 2), shards=(4, 4),
                       compressors=[ZstdCodec(level=3)], fill_value=0.0)
    assert pts.write_shard(tmp_path / "g.zarr" / "a", (0, 0), np.ones((4, 4), np.float32), (2, 2), (4, 4)) == 4
    path = tmp_path / "g.zarr" / "a" / "c" / "0" / "0"
    linked = tmp_path / "parent-copy"
    linked.hardlink_to(path)
    pts.write_shard(tmp_path / "g.zarr" / "a", (0, 0), np.full((4, 4), 2.0, np.float32), (2, 2), (4, 4))
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "g.zarr" / "a")[...], 2.0)
    assert np.frombuffer(linked.read_bytes(), dtype=np.uint8).size > 0  # the linked file kept its content
    assert path.stat().st_ino != linked.stat().st_ino
    assert pts.write_shard(tmp_path / "g.zarr" / "a", (0, 0), np.zeros((4, 4), np.float32), (2, 2), (4, 4)) == 0
    assert not path.exists() and linked.exists()


def _sharded(tmp_path: Path, shape: tuple[int, ...], chunks: tuple[int, ...], shard: tuple[int, ...],
             dtype: type = np.float32, level: int = 3) -> zarr.Array:
    group = zarr.open_group(tmp_path / "r.zarr", mode="a")
    return group.create_array(f"a{len(list(group.array_keys()))}", shape=shape, dtype=dtype, chunks=chunks,
                              shards=shard, compressors=[ZstdCodec(level=level)], fill_value=0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_read_region_equals_zarr_for_any_box(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(11)
    arr = _sharded(tmp_path, (9, 3, 50, 70), (1, 1, 16, 16), (3, 3, 32, 48), dtype)
    data = rng.uniform(0, 1e3, size=arr.shape).astype(dtype)
    data[:, :, :16, :16] = 0.0  # empty chunks
    data[6:] = 0.0  # empty shards: no files
    arr[...] = data
    layout = pts.layout_of(arr)
    assert layout is not None and layout.level == 3 and layout.chunks == (1, 1, 16, 16)
    boxes = [(slice(None),) * 4, (slice(2, 3), slice(1, 2), slice(0, 1), slice(69, 70)),
             (slice(0, 9), slice(0, 3), slice(15, 33), slice(40, 61)), (slice(5, 8), slice(2, 3), slice(30, 50),
                                                                        slice(0, 70))]
    for _ in range(20):
        lo = [int(rng.integers(0, n)) for n in arr.shape]
        boxes.append(tuple(slice(a, int(rng.integers(a + 1, n + 1))) for a, n in zip(lo, arr.shape, strict=True)))
    for box in boxes:
        got = pts.read_region(layout, box)
        np.testing.assert_array_equal(got, data[box])
        assert got.dtype == np.dtype(dtype)


def test_write_step_writes_what_zarr_reads_and_casts_to_the_array_dtype(tmp_path: Path) -> None:
    arr = _sharded(tmp_path, (4, 2, 30, 40), (1, 1, 16, 16), (1, 2, 32, 48), level=1)
    layout = pts.layout_of(arr)
    assert layout is not None and layout.level == 1
    values = np.random.default_rng(2).uniform(0, 5, size=(2, 30, 40))  # float64 into a float32 array
    pts.write_step(layout, 2, values)
    np.testing.assert_array_equal(arr[2], values.astype(np.float32))
    np.testing.assert_array_equal(arr[1], 0.0)
    with pytest.raises(ValueError, match="has shape"):
        pts.write_step(layout, 0, values[:, :10])


def test_layout_of_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    group = zarr.open_group(tmp_path / "o.zarr", mode="w")
    plain = group.create_array("plain", shape=(4, 4), dtype=np.float32, chunks=(2, 2), fill_value=0.0)
    nonzero_fill = group.create_array("fill", shape=(4, 4), dtype=np.float32, chunks=(2, 2), shards=(4, 4),
                                      compressors=[ZstdCodec(level=3)], fill_value=1.0)
    ints = group.create_array("ints", shape=(4, 4), dtype=np.int8, chunks=(2, 2), shards=(4, 4),
                              compressors=[ZstdCodec(level=3)], fill_value=0)
    assert pts.layout_of(plain) is None and pts.layout_of(nonzero_fill) is None and pts.layout_of(ints) is None
    in_memory = zarr.create_array(zarr.storage.MemoryStore(), shape=(4,), dtype="f4", chunks=(2,), shards=(4,),
                                  compressors=[ZstdCodec(level=3)], fill_value=0.0)
    assert pts.layout_of(in_memory) is None  # not a local directory: callers use zarr


def test_a_truncated_shard_is_an_error_not_zeros(tmp_path: Path) -> None:
    arr = _sharded(tmp_path, (2, 8, 8), (1, 4, 4), (1, 8, 8))
    arr[...] = 1.0
    layout = pts.layout_of(arr)
    assert layout is not None
    assert layout.directory.local_path is not None
    path = layout.directory.local_path / pts.shard_key((0, 0, 0))
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(pts.ShardFormatError, match="shorter than its shard index"):
        pts.read_region(layout, (slice(0, 1), slice(None), slice(None)))
    np.testing.assert_array_equal(pts.read_region(layout, (slice(1, 2), slice(None), slice(None))), 1.0)
