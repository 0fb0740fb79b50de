"""Whole-shard writes and region reads of Zarr v3 sharded arrays (local or S3), without zarr's per-chunk overhead.

Hand-written next to zarr because it is measured faster: benchmarks ``bench/build.py`` (``day_product_s_0p1``),
``bench/regions.py`` (``country_period_cold_ms``) and ``bench/load.py`` (tile reads).

carbonmap's grids (the cube's day shards, the pyramid's steps, the time-series layout's blocks) are
Zarr v3 arrays with one codec set: ``sharding_indexed`` with inner chunks ``bytes`` (little endian) +
``zstd`` (no checksum), the index ``bytes`` + ``crc32c`` at the end, fill value 0, ``/``-separated
``c/`` keys.  zarr reads and writes them correctly but spends ~1 ms of Python per inner chunk
(measured: a 0.25 degree cube day, 224 chunks, reads in 0.16 s through zarr and in 0.05 s here;
writing a pyramid day's three levels 0.16 s through zarr); the derived layouts touch every chunk of
the cube, so that overhead was most of their cost.

:func:`write_shard` writes one whole shard in exactly the bytes zarr's ``ShardingCodec`` writes
(tests compare files with zarr's); :func:`read_region` reads any box of an array by decoding only
the inner chunks it overlaps.  Both work on a local directory; :func:`layout_of` says whether an
opened ``zarr.Array`` is local and stored this way, and :class:`ShardedArray` wraps an array so callers use the
fast path when it applies and zarr otherwise (e.g. on object storage).  zstd releases the GIL, so threads overlap.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from cachetools import LRUCache

from carbonmap.errors import StorageError
from carbonmap.storage.location import Location, location, of_zarr_store

_EMPTY = np.uint64(2**64 - 1)
_INDEX_TAIL = 4  # the crc32c of the index


class ShardFormatError(StorageError):
    """A shard file is not what its array's metadata says (truncated or corrupt index)."""


@dataclass(frozen=True)
class ShardLayout:
    """How a sharded array is stored: ``shape``, ``dtype``, inner ``chunks``, ``shard`` shape and zstd ``level``;
    ``directory`` is the array's :class:`~carbonmap.storage.location.Location` (a local directory or an
    object-store prefix)."""

    directory: Location
    shape: tuple[int, ...]
    dtype: np.dtype
    chunks: tuple[int, ...]
    shard: tuple[int, ...]
    level: int

    @property
    def chunks_per_shard(self) -> tuple[int, ...]:
        return tuple(s // c for s, c in zip(self.shard, self.chunks, strict=True))


def layout_of(arr: Any) -> ShardLayout | None:
    """The :class:`ShardLayout` of a ``zarr.Array`` stored with carbonmap's codec set in a local directory or an
    S3 prefix; None for anything else (other stores, other codecs), which callers read and write through zarr."""
    root = of_zarr_store(getattr(arr, "store", None))
    if root is None:
        return None
    meta = arr.metadata.to_dict()
    codecs = meta.get("codecs", ())
    if len(codecs) != 1 or codecs[0].get("name") != "sharding_indexed":
        return None
    conf = codecs[0].get("configuration", {})
    inner = list(conf.get("codecs", ()))
    ok = ([c.get("name") for c in inner] == ["bytes", "zstd"]
          and inner[0].get("configuration", {}).get("endian") == "little"
          and not inner[1].get("configuration", {}).get("checksum", False)
          and [c.get("name") for c in conf.get("index_codecs", ())] == ["bytes", "crc32c"]
          and conf.get("index_location", "end") == "end" and meta.get("fill_value") == 0.0
          and meta.get("chunk_key_encoding") == {"name": "default", "configuration": {"separator": "/"}})
    if not ok:
        return None
    dtype = np.dtype(arr.dtype)
    if dtype.kind != "f":
        return None
    return ShardLayout(root.child(arr.path) if arr.path else root, tuple(arr.shape), dtype.newbyteorder("<"),
                       tuple(conf["chunk_shape"]), tuple(arr.shards or arr.chunks),
                       int(inner[1].get("configuration", {}).get("level", 0)))


class ShardedArray:
    """A zarr array read and written the fast way when it can be: boxes through :func:`read_region` and whole
    steps through :func:`write_step` when it is in carbonmap's codec set on a local disk or S3 (:func:`layout_of`),
    through zarr otherwise.  The one place callers choose between the two."""

    INDEXES_KEPT = 4096
    """Shard indexes kept per array (16 bytes per inner chunk each): a shard read again skips its index read,
    half the requests of a cold read on object storage."""

    def __init__(self, array: Any) -> None:
        self.array = array
        self.layout = layout_of(array)
        self._indexes: LRUCache[str, tuple[int, bytes]] = LRUCache(maxsize=self.INDEXES_KEPT)

    def read(self, box: tuple[slice, ...]) -> np.ndarray:
        """The box ``box`` (one slice per axis) as a numpy array."""
        return np.asarray(self.array[box] if self.layout is None else read_region(self.layout, box, self._indexes))

    def read_step(self, index: int) -> np.ndarray:
        """Index ``index`` of the first axis, every other axis whole."""
        return self.read((slice(index, index + 1),) + (slice(None),) * (len(self.array.shape) - 1))[0]

    def write_step(self, index: int, values: np.ndarray) -> None:
        """Write index ``index`` of the first axis (arrays whose shards hold one step, see :func:`write_step`)."""
        if self.layout is None:
            self.array[index] = values
        else:
            write_step(self.layout, index, values)
            self._indexes.pop(shard_key((index,) + (0,) * (len(self.layout.shape) - 1)), None)


def shard_key(key: tuple[int, ...]) -> str:
    """The object key of shard ``key`` inside its array (zarr's default ``c/``-keys)."""
    return "/".join(("c", *map(str, key)))


def write_shard(array_dir: Location | Path, key: tuple[int, ...], data: np.ndarray, chunks: tuple[int, ...],
                shard: tuple[int, ...], level: int = 3) -> int:
    """Write one whole shard of a Zarr v3 array (sharding codec: inner chunks ``bytes`` + ``zstd``, index
    ``bytes`` + ``crc32c`` at the end, default ``c/`` keys) straight to its file; returns chunks stored.

    ``data``: the shard's cells inside the array (smaller than ``shard`` at the array's edges).  This is
    the byte layout zarr's ``ShardingCodec`` writes (zarr reads it back; tests check every value), minus
    its per-chunk buffer copies, which made zarr spend ~0.6 s of CPU per 232 MB shard even without a
    compressor.  All-zero chunks (the fill value) are left out, as zarr does; an all-empty shard removes
    the file.  The file is replaced atomically (a new inode: a hard-linked parent's file is never changed)."""
    import google_crc32c
    from numcodecs import Zstd

    codec = Zstd(level=level)
    grid = tuple(s // c for s, c in zip(shard, chunks, strict=True))
    index = np.full((int(np.prod(grid)), 2), _EMPTY, dtype="<u8")
    parts: list[bytes] = []
    offset = 0
    for n, pos in enumerate(np.ndindex(*grid)):
        sel = tuple(slice(p * c, min(d, (p + 1) * c)) for p, c, d in zip(pos, chunks, data.shape, strict=True))
        if any(x.start >= x.stop for x in sel):
            continue
        sub = data[sel]
        if not sub.any():
            continue
        if sub.shape != chunks:
            full = np.zeros(chunks, dtype=data.dtype)
            full[tuple(slice(0, k) for k in sub.shape)] = sub
            sub = full
        blob = codec.encode(np.ascontiguousarray(sub, dtype=sub.dtype.newbyteorder("<")))
        index[n] = (offset, len(blob))
        parts.append(bytes(blob))
        offset += len(blob)
    where, name = location(array_dir), shard_key(key)
    if not parts:
        where.delete(name)
        return 0
    raw = index.tobytes()
    where.write_parts(name, [*parts, raw, np.uint32(google_crc32c.value(raw)).astype("<u4").tobytes()])
    return len(parts)


def write_step(layout: ShardLayout, index: int, data: np.ndarray) -> int:
    """Write ``data`` as index ``index`` of the first axis of an array whose shards span one step and
    every other axis whole (``shard == (1, *shape[1:] rounded up to chunks)``); returns chunks stored."""
    if layout.shard[0] != 1 or any(-(-n // s) != 1 for n, s in zip(layout.shape[1:], layout.shard[1:], strict=True)):
        raise ValueError(f"write_step needs one shard per step, not shards {layout.shard} of {layout.shape}")
    values = np.asarray(data, dtype=layout.dtype)  # the array's dtype: the bytes are written as they are
    if values.shape != layout.shape[1:]:
        raise ValueError(f"a step of {layout.directory} has shape {layout.shape[1:]}, not {values.shape}")
    return write_shard(layout.directory, (index,) + (0,) * (len(layout.shape) - 1), values[None],
                       layout.chunks, layout.shard, layout.level)


def read_region(layout: ShardLayout, sel: tuple[slice, ...],
                indexes: MutableMapping[str, tuple[int, bytes]] | None = None) -> np.ndarray:
    """The box ``sel`` (one slice per axis, steps of 1) of the array, decoding only the inner chunks it
    overlaps; missing shards and chunks read as the fill value, 0.  ``indexes``: shard key -> (size, index tail)
    already read (filled here; for arrays that do not change while they are read, as a sealed release)."""
    from numcodecs import Zstd

    codec = Zstd()
    box = [s.indices(n)[:2] for s, n in zip(sel, layout.shape, strict=True)]
    out = np.zeros(tuple(max(0, b - a) for a, b in box), dtype=layout.dtype.newbyteorder("="))
    if out.size == 0:
        return out
    cps = layout.chunks_per_shard
    n_chunks = math.prod(cps)
    index_bytes = 16 * n_chunks
    shard_ranges = [range(a // s, (b - 1) // s + 1) for (a, b), s in zip(box, layout.shard, strict=True)]
    where = layout.directory

    def fetch(key: tuple[int, ...]) -> tuple[tuple[int, ...], list[tuple[tuple[int, ...], int]], list[bytes]]:
        """One shard's overlapping inner chunks: (shard key, [(chunk position, length)], their bytes)."""
        name = shard_key(key)
        tail = indexes.get(name) if indexes is not None else None
        if tail is None:
            tail = where.read_suffix(name, index_bytes + _INDEX_TAIL)
            if tail is None:
                return key, [], []
            if indexes is not None:
                indexes[name] = tail
        size, raw_index = tail
        if size < index_bytes + _INDEX_TAIL:
            raise ShardFormatError(f"{where}/{name} is shorter than its shard index ({size} bytes)")
        index = np.frombuffer(raw_index[:index_bytes], dtype="<u8").reshape(*cps, 2)
        origin = [k * s for k, s in zip(key, layout.shard, strict=True)]
        # inner chunks of this shard that overlap the box
        ranges = [range(max(a, o) // c - o // c, (min(b, o + s) - 1) // c - o // c + 1)
                  for (a, b), o, c, s in zip(box, origin, layout.chunks, layout.shard, strict=True)]
        wanted: list[tuple[tuple[int, ...], int, int]] = []
        for pos in np.ndindex(*(len(r) for r in ranges)):
            cpos = tuple(r[i] for r, i in zip(ranges, pos, strict=True))
            offset, length = index[cpos]
            if offset != _EMPTY:
                wanted.append((cpos, int(offset), int(length)))
        blobs = where.read_ranges(name, [(o, n) for _, o, n in wanted])  # one batch: one request on S3
        return key, [(c, n) for c, _, n in wanted], blobs

    keys = [tuple(r[i] for r, i in zip(shard_ranges, skey, strict=True))
            for skey in np.ndindex(*(len(r) for r in shard_ranges))]
    fetched = where.map_reads(fetch, keys)  # object storage: the round trips overlap
    for key, chunks_of, blobs in fetched:
        origin = [k * s for k, s in zip(key, layout.shard, strict=True)]
        for (cpos, length), raw in zip(chunks_of, blobs, strict=True):
            if len(raw) != length:
                raise ShardFormatError(f"{where}/{shard_key(key)}: chunk {cpos} runs past the end of the file")
            chunk = np.frombuffer(codec.decode(raw), dtype=layout.dtype).reshape(layout.chunks)
            lo = [o + p * c for o, p, c in zip(origin, cpos, layout.chunks, strict=True)]
            src, dst = [], []
            for (a, b), start, c in zip(box, lo, layout.chunks, strict=True):
                s0, s1 = max(a, start), min(b, start + c)
                src.append(slice(s0 - start, s1 - start))
                dst.append(slice(s0 - a, s1 - a))
            out[tuple(dst)] = chunk[tuple(src)]
    return out
