"""pipelines/timeseries.write_shard writes shards zarr reads back exactly: the same files (edges, empty chunks
left out) and sizes as zarr's sharding codec (zarr may order the chunks inside differently)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.codecs import ZstdCodec

from pipelines import timeseries as pts


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
