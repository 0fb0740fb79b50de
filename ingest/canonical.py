"""Atomic writers of canonical ingest outputs (Parquet tables, Zarr grids) with provenance.

Nothing half-written: each writer writes next to the target under a temporary name and renames
it into place only when the write finished.  Provenance goes into the Parquet schema metadata
(key ``carbonmap_provenance``, JSON) or the Zarr group attributes (``provenance``).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr

from carbonmap.atomic import atomic_path
from ingest.base import IngestError

PROVENANCE_KEY = "carbonmap_provenance"


def _tmp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")


def write_parquet_atomic(df: pd.DataFrame, path: Path, provenance: dict[str, Any] | None = None) -> Path:
    """Write ``df`` (index kept) to ``path`` with ``provenance`` in the schema metadata; atomic."""
    path = Path(path)
    if path.suffix != ".parquet":
        raise IngestError(f"a table must be written to a .parquet path, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=not isinstance(df.index, pd.RangeIndex))
    meta = dict(table.schema.metadata or {})
    meta[PROVENANCE_KEY.encode()] = json.dumps(provenance or {}, default=str).encode()
    return write_table_atomic(table.replace_schema_metadata(meta), path)


def write_table_atomic(table: pa.Table, path: Path) -> Path:
    """Write an Arrow table as Parquet to ``path`` via a temporary sibling and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def read_parquet_provenance(path: Path) -> dict[str, Any]:
    """The provenance dict stored by :func:`write_parquet_atomic`."""
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(PROVENANCE_KEY.encode())
    return json.loads(raw) if raw else {}


def is_lazy(ds: xr.Dataset) -> bool:
    """True if any data variable of ``ds`` is dask-backed."""
    return any(v.chunks is not None for v in ds.data_vars.values())


def write_zarr_atomic(ds: xr.Dataset, path: Path, provenance: dict[str, Any] | None = None,
                      n_threads: int | None = None) -> Path:
    """Write ``ds`` as a Zarr v3 store at ``path`` with ``attrs['provenance']`` (JSON); atomic rename.

    A dask-backed ``ds`` (many granules streamed one task per file) is written chunk by chunk, Zarr
    chunks = its dask chunks, so memory is bounded by a few chunks, not by the number of files.  It is
    computed on a private pool of ``n_threads`` threads (default: CPU count, at most 4) that is drained
    before the temporary store is removed on an error (an IngestError of one file): dask re-raises the
    first task error while other tasks still run, and a late chunk write must not recreate a partial
    store.  An existing ``path`` is left as it was on any error."""
    import dask

    path = Path(path)
    if path.suffix != ".zarr":
        raise IngestError(f"a grid must be written to a .zarr path, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = ds.copy()
    ds.attrs = {**ds.attrs, "provenance": json.dumps(provenance or {}, default=str)}
    tmp = _tmp_sibling(path)
    try:
        if is_lazy(ds):
            encoding = {name: {"chunks": tuple(int(c[0]) for c in v.chunks)}
                        for name, v in ds.data_vars.items() if v.chunks is not None}
            pool = ThreadPoolExecutor(max_workers=n_threads or max(1, min(4, os.cpu_count() or 1)))
            try:
                job = ds.to_zarr(tmp, mode="w", consolidated=False, zarr_format=3, encoding=encoding, compute=False)
                dask.compute(job, scheduler="threads", pool=pool)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        else:
            ds.to_zarr(tmp, mode="w", consolidated=False, zarr_format=3)
        if path.exists():
            old = _tmp_sibling(path)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path
