"""Cube stores on disk: create the template, write days, seal atomically.

A build writes into ``<store>.building`` and only a sealed store (status attribute
``complete``) is moved to its final path, so a failed build never leaves a store that
looks complete.  Layout (Zarr v3, one group):

- ``emissions``/``uncertainty`` (time, sector, lat, lon) float32, map chunks
  (1, 1, 45 deg, 45 deg) inside one shard per day (all sectors, whole grid), zstd 3;
- ``national_emissions`` (time, sector, country) float64 kg CO2 day-1;
- ``national_uncertainty`` (time, sector, country) float32 relative 1-sigma.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
import zarr
from zarr.codecs import ZstdCodec

from carbonmap import contract as cc


class StoreError(RuntimeError):
    """A cube store is missing, unfinished or does not follow the contract."""


def building_path(final: Path) -> Path:
    """Where a build writes before it is sealed and moved to ``final``."""
    return final.with_name(final.name + ".building")


def template(grid: cc.Grid, times: pd.DatetimeIndex, countries: Sequence[str],
             sectors: Sequence[str] = cc.SECTORS) -> xr.Dataset:
    """A lazy all-zero dataset with the contract's dims, coords and variable attrs."""
    nt, ns, nc = len(times), len(sectors), len(countries)
    map_chunks = (1, ns, grid.nlat, grid.nlon)
    coords = {
        "time": ("time", times.values.astype("datetime64[ns]"), cc.coord_attrs()["time"]),
        "sector": ("sector", np.array(list(sectors), dtype=object), cc.coord_attrs()["sector"]),
        "lat": ("lat", grid.lat, cc.coord_attrs()["lat"]),
        "lon": ("lon", grid.lon, cc.coord_attrs()["lon"]),
        "country": ("country", np.array(list(countries), dtype=object), cc.coord_attrs()["country"]),
    }
    dims4 = ("time", "sector", "lat", "lon")
    dims3 = ("time", "sector", "country")
    data = {
        cc.EMISSIONS_VAR: (dims4, da.zeros((nt, ns, grid.nlat, grid.nlon), chunks=map_chunks,
                                            dtype=cc.EMISSIONS_DTYPE), cc.emissions_attrs()),
        cc.UNCERTAINTY_VAR: (dims4, da.zeros((nt, ns, grid.nlat, grid.nlon), chunks=map_chunks,
                                              dtype=np.float32), cc.uncertainty_attrs()),
        cc.NATIONAL_VAR: (dims3, da.zeros((nt, ns, nc), chunks=(nt, ns, nc), dtype=cc.NATIONAL_DTYPE),
                          cc.national_attrs()),
        cc.NATIONAL_UNC_VAR: (dims3, da.zeros((nt, ns, nc), chunks=(nt, ns, nc), dtype=np.float32),
                              {**cc.uncertainty_attrs(), "long_name": "relative 1-sigma of national totals"}),
    }
    return xr.Dataset(data, coords=coords)


def encoding(grid: cc.Grid, n_sectors: int = len(cc.SECTORS)) -> dict[str, dict[str, Any]]:
    """Zarr encodings: map chunks in day shards for the grids, one chunk for the national table."""
    zstd = [ZstdCodec(level=3)]
    grid_enc = {"chunks": grid.map_chunks(), "shards": grid.map_shards(n_sectors), "compressors": zstd,
                "fill_value": 0.0}
    return {
        cc.EMISSIONS_VAR: dict(grid_enc),
        cc.UNCERTAINTY_VAR: dict(grid_enc),
        cc.NATIONAL_VAR: {"compressors": zstd},
        cc.NATIONAL_UNC_VAR: {"compressors": zstd},
        "time": {"units": "days since 1970-01-01", "calendar": "proleptic_gregorian", "dtype": "int32"},
    }


def create(path: Path, grid: cc.Grid, times: pd.DatetimeIndex, countries: Sequence[str],
           attrs: dict[str, Any]) -> None:
    """Write the metadata and coordinates of an empty cube at ``path`` (replacing it)."""
    if path.exists():
        shutil.rmtree(path)
    ds = template(grid, times, countries)
    ds.attrs.update(_jsonable(attrs))
    ds.attrs[cc.STATUS_ATTR] = cc.STATUS_BUILDING
    ds.to_zarr(path, mode="w", compute=False, zarr_format=3, consolidated=False, encoding=encoding(grid))


def write_day(path: Path, index: int, emissions: np.ndarray, uncertainty: np.ndarray) -> None:
    """Write one day, all sectors: arrays (sector, lat, lon), kg CO2 day-1 cell-1 and relative 1-sigma."""
    group = zarr.open_group(path, mode="r+")
    group[cc.EMISSIONS_VAR][index] = emissions.astype(cc.EMISSIONS_DTYPE, copy=False)
    group[cc.UNCERTAINTY_VAR][index] = uncertainty.astype(np.float32, copy=False)


def write_national(path: Path, national: np.ndarray, national_unc: np.ndarray) -> None:
    """Write the national table, arrays (time, sector, country), kg CO2 day-1 and relative 1-sigma."""
    group = zarr.open_group(path, mode="r+")
    group[cc.NATIONAL_VAR][...] = national.astype(cc.NATIONAL_DTYPE, copy=False)
    group[cc.NATIONAL_UNC_VAR][...] = national_unc.astype(np.float32, copy=False)


def seal(path: Path, final: Path, extra_attrs: dict[str, Any] | None = None) -> Path:
    """Mark a finished build complete, consolidate metadata and move it to ``final`` atomically."""
    group = zarr.open_group(path, mode="r+")
    if extra_attrs:
        group.attrs.update(_jsonable(extra_attrs))
    group.attrs[cc.STATUS_ATTR] = cc.STATUS_COMPLETE
    zarr.consolidate_metadata(str(path))
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    path.rename(final)
    if old.exists():
        shutil.rmtree(old)
    return final


def open_cube(path: Path) -> xr.Dataset:
    """Open a sealed cube without Dask (numpy-backed lazy arrays); refuse unfinished stores."""
    path = Path(path)
    if not (path / "zarr.json").exists():
        raise StoreError(f"no carbonmap cube at {path} (no zarr.json); build one with `carbonmap build`")
    try:
        meta = json.loads((path / "zarr.json").read_text())
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read the cube metadata at {path}: {exc}") from exc
    attrs = meta.get("attributes", {})
    if attrs.get(cc.STATUS_ATTR) != cc.STATUS_COMPLETE:
        raise StoreError(f"the cube at {path} is not complete (status {attrs.get(cc.STATUS_ATTR)!r}); "
                         "re-run the build")
    if "carbonmap_dataset_id" not in attrs:
        raise StoreError(f"{path} was not built by carbonmap (no carbonmap_dataset_id)")
    return xr.open_zarr(path, chunks=None, consolidated=True, zarr_format=3)


def _jsonable(value: Any) -> Any:
    """Attributes as plain JSON types (tuples -> lists, numpy scalars -> Python)."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
