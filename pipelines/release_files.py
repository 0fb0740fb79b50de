"""Release artifacts: whole-release downloads written when a release is published (issue #19).

The manifest format and the read side (listing, serving) are :mod:`carbonmap.storage.release_files`.

:func:`write_release_files` writes into ``<release>/files/`` of a sealed (not yet published) cube:
``<dataset>_<YYYY-MM>_daily_<rid>.nc`` (the month's daily ``emissions``, kg CO2 day-1 cell-1, and ``uncertainty``,
relative 1-sigma, dims (time, sector, lat, lon); CF NetCDF4, float32, zlib 1 + shuffle, chunks of a day x a sector x
a 45 degree tile, so ocean tiles compress to almost nothing); ``..._<YYYY-MM>_monthly-mean_<rid>.nc|.tif`` (mean
daily emissions, kg CO2 day-1 cell-1; the Cloud Optimized GeoTIFF has 8 bands, ``total`` then the 7 sectors);
``..._<YYYY>_annual-total_<rid>.nc|.tif`` (sum over the year's days the release covers, kg CO2 cell-1; a partial
year says so in ``time_coverage_*`` and ``carbonmap_days``); ``..._national-daily_<rid>.csv.gz|.parquet`` (one
row per date, country and sector: t CO2 day-1, relative 1-sigma, evidence label).

``<rid>`` is the release that *wrote* the file: an update hard-links every file whose months did not change from
its parent (same name, same bytes).  ``files.json`` lists each file with size, sha256, media type, kind and period;
it is rewritten atomically after every file, so an interrupted run resumes (a file whose entry and sha256 match is
not written again).  Memory: one day (2 x 7 x nlat x nlon float32) plus a float64 monthly sum; one (Dask) task per
month.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from carbonmap import contract as cc
from carbonmap.atomic import atomic_path, write_bytes_atomic, write_text_atomic
from carbonmap.progress import ProgressFn, no_progress
from carbonmap.storage.location import Location, location
from carbonmap.storage.release_files import (
    COG,
    CSV_GZ,
    FILES_MANIFEST,
    KINDS,
    NETCDF,
    PARQUET,
    FileEntry,
    files_location,
    read_manifest,
)
from pipelines import store

if TYPE_CHECKING:
    from carbonmap.settings import Settings

_LOCK = threading.Lock()  # HDF5 is not thread-safe: one NetCDF writer per process (Dask thread workers take turns)
def _head(cube: Path | str) -> tuple[pd.DatetimeIndex, cc.Grid, dict[str, Any]]:
    """The time axis, grid and attributes of a sealed cube (a local path or an object-store URL)."""
    with xr.open_zarr(location(cube).zarr_store(read_only=True), chunks=None, consolidated=True, zarr_format=3) as head:
        return (pd.DatetimeIndex(head["time"].values), cc.Grid.from_coords(head["lat"].values, head["lon"].values),
                dict(head.attrs))


def _cf(ds: xr.Dataset, release_id: str, attrs: Mapping[str, Any], extra: Mapping[str, Any]) -> xr.Dataset:
    """CF/ACDD metadata of every NetCDF written here (bounds, cell area, crs, provenance, the release id), by
    :func:`carbonmap.cf_metadata.apply_cf`; ``extra`` are this file's own attributes (kind, days, coverage)."""
    from carbonmap.cf_metadata import apply_cf

    merged = {**attrs, **extra}
    out: xr.Dataset = apply_cf(ds, release_id=release_id, dataset_attrs=merged)
    return out


def _grid_coords(grid: cc.Grid) -> dict[str, Any]:
    ca = cc.coord_attrs()
    return {"sector": ("sector", np.array(cc.SECTORS, dtype=object), ca["sector"]),
            "lat": ("lat", grid.lat, ca["lat"]), "lon": ("lon", grid.lon, ca["lon"])}


def _tile(grid: cc.Grid) -> tuple[int, int]:
    """NetCDF chunk (lat, lon): a 45 degree tile (whole-ocean tiles compress to a few bytes)."""
    n = max(1, round(45.0 / grid.resolution))
    return (min(grid.nlat, n), min(grid.nlon, n))


def deflate_chunk(values: np.ndarray, level: int = 1) -> bytes:
    """One chunk as HDF5's ``shuffle`` + ``deflate`` filters store it: the float32 bytes regrouped by
    significance (all first bytes, then all second bytes...), then a zlib stream, made by ISA-L (a zlib
    reader reads it; ~4x faster than zlib at level 1)."""
    from isal import isal_zlib

    raw = np.ascontiguousarray(values, dtype="<f4").view(np.uint8).reshape(-1, 4).T.tobytes()
    return bytes(isal_zlib.compress(raw, level))


def write_daily_month(cube: Path | str, out: Path, month: str, release_id: str) -> np.ndarray:
    """Write the daily NetCDF of ``month`` (``YYYY-MM``) from the sealed cube at ``cube`` to ``out``.

    netCDF4 writes the metadata and defines the two grids (chunks of a day x a sector x a 45 degree tile,
    shuffle + zlib); the chunks are then written one day at a time, compressed here by
    :func:`deflate_chunk` and stored with HDF5's direct chunk write (h5py), the bytes the filter
    pipeline would store (tests read them back with netCDF4 and xarray); hand-written because it is measured
    faster than netCDF4's own writer (a 0.25 degree month 7.8 s -> 3.0 s; benchmark ``bench/build.py`` with release
    files).  Returns the month's float64 sum
    of emissions, dims (sector, lat, lon), kg CO2 cell-1 (the mean grid is that over the number of days)."""
    import dask.array as da
    import h5py
    import netCDF4
    import zarr

    from carbonmap.storage import shards

    times, grid, attrs = _head(cube)
    idx = np.flatnonzero(times.to_period("M") == pd.Period(month, "M"))
    if not len(idx):
        raise ValueError(f"the cube at {cube} has no days in {month}")
    shape = (len(idx), len(cc.SECTORS), grid.nlat, grid.nlon)
    dims = ("time", "sector", "lat", "lon")
    placeholder = da.zeros(shape, chunks=(1, len(cc.SECTORS), grid.nlat, grid.nlon), dtype=np.float32)  # never computed
    ds = xr.Dataset({cc.EMISSIONS_VAR: (dims, placeholder, cc.emissions_attrs()),
                     cc.UNCERTAINTY_VAR: (dims, placeholder, cc.uncertainty_attrs())},
                    coords={"time": ("time", times[idx].values, cc.coord_attrs()["time"]), **_grid_coords(grid)})
    ds = _cf(ds, release_id, attrs, {"carbonmap_release": release_id, "carbonmap_file_kind": "daily",
                                     "carbonmap_days": len(idx)})
    big = {v: dict(ds[v].attrs) for v in (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR)}
    enc = {"time": {"units": "days since 1970-01-01", "calendar": "proleptic_gregorian", "dtype": "int32"}}
    total = np.zeros((len(cc.SECTORS), grid.nlat, grid.nlon))
    cy, cx = _tile(grid)
    with atomic_path(out) as tmp:
        # metadata, coordinates and the small CF variables (closed again), then the two grids one day at a time
        ds.drop_vars(list(big)).to_netcdf(tmp, engine="netcdf4", encoding=enc)
        with netCDF4.Dataset(tmp, "a") as nc:
            for name, var_attrs in big.items():
                v = nc.createVariable(name, "f4", dims, zlib=True, complevel=1, shuffle=True,
                                      chunksizes=(1, 1, cy, cx), fill_value=False)
                v.setncatts({k: (json.dumps(a) if isinstance(a, dict) else a) for k, a in var_attrs.items()})
        group = zarr.open_group(location(cube).zarr_store(read_only=True), mode="r")
        with h5py.File(tmp, "r+") as h5:
            for name in big:
                arr, dset = shards.ShardedArray(store.array(group, name)), h5[name]
                for k, t in enumerate(idx):
                    day = np.asarray(arr.read_step(int(t)), dtype=np.float32)
                    if name == cc.EMISSIONS_VAR:
                        total += day
                    for s_i in range(len(cc.SECTORS)):
                        for y0 in range(0, grid.nlat, cy):
                            for x0 in range(0, grid.nlon, cx):
                                tile = np.zeros((cy, cx), np.float32)  # edge tiles padded, as HDF5 stores them
                                part = day[s_i, y0:y0 + cy, x0:x0 + cx]
                                tile[:part.shape[0], :part.shape[1]] = part
                                dset.id.write_direct_chunk((k, s_i, y0, x0), deflate_chunk(tile))
    return total


def _write_grids(values: np.ndarray, grid: cc.Grid, attrs: Mapping[str, Any], todo: list[Target], out: Path,
                 rid: str, *, first: str, last: str, days: int) -> list[FileEntry]:
    """The NetCDF and COG targets ``todo`` of one (sector, lat, lon) grid: a monthly mean (kg CO2 day-1 cell-1)
    or an annual total (kg CO2 cell-1)."""
    done = []
    for t in todo:
        if t.media_type == NETCDF:  # CF NetCDF, float32, zlib 1 + shuffle
            mean = t.kind == "monthly-mean"
            ds = xr.Dataset({cc.EMISSIONS_VAR: (("sector", "lat", "lon"), values.astype(np.float32), {
                "units": cc.EMISSIONS_UNITS if mean else "kg", "coverage_content_type": "modelResult",
                "long_name": "mean daily fossil CO2 emissions per grid cell" if mean else
                f"fossil CO2 emissions per grid cell, total of {first} to {last}",
                "cell_methods": f"time: {'mean' if mean else 'sum'} area: sum"})}, coords=_grid_coords(grid))
            ds.attrs["time_coverage_resolution"] = "P1M" if mean else "P1Y"
            ds = _cf(ds, rid, attrs, {"time_coverage_start": first, "time_coverage_end": last, "carbonmap_days": days,
                                      "carbonmap_release": rid, "carbonmap_file_kind": t.kind})
            with atomic_path(out / t.name) as tmp:
                ds.to_netcdf(tmp, engine="netcdf4", encoding={cc.EMISSIONS_VAR: {
                    "zlib": True, "complevel": 1, "shuffle": True, "dtype": "float32",
                    "chunksizes": (1, *_tile(grid)), "_FillValue": None}})
        else:
            write_cog(values, grid, out / t.name, f"{attrs.get('carbonmap_dataset_id')} release {rid}: "
                                                  f"{t.description} ({days} days, {first} to {last})")
        done.append(_entry(out / t.name, t, rid))
    return done


def write_cog(values: np.ndarray, grid: cc.Grid, out: Path, description: str) -> None:
    """A Cloud Optimized GeoTIFF (EPSG:4326) of ``values`` (sector, lat, lon): band 1 the total, then the
    sectors; float32, DEFLATE with the floating-point predictor, 512 px tiles, averaged overviews."""
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile
    from rasterio.transform import Affine

    bands = np.concatenate([values.sum(axis=0, keepdims=True), values]).astype(np.float32)
    names = (cc.TOTAL, *cc.SECTORS)
    profile = {"driver": "GTiff", "height": grid.nlat, "width": grid.nlon, "count": len(names),
               "dtype": "float32", "crs": "EPSG:4326", "transform": Affine(*grid.transform)}
    with atomic_path(out) as tmp, MemoryFile() as mem:  # GDAL's COG driver copies from a finished GeoTIFF
        with mem.open(**profile) as dst:
            dst.write(bands)
            for i, n in enumerate(names, start=1):
                dst.set_band_description(i, n)
            dst.update_tags(DESCRIPTION=description)
        with mem.open() as src:
            rasterio.shutil.copy(src, str(tmp), driver="COG", COMPRESS="DEFLATE", LEVEL=1, PREDICTOR="YES",
                                 BLOCKSIZE=512, OVERVIEW_RESAMPLING="AVERAGE")


# ------------------------------------------------------------------------------------------- the national table
def national_table(cube: Path | str) -> pd.DataFrame:
    """The national daily table of a cube as tidy rows: date, country, sector, emissions_t (t CO2 day-1),
    uncertainty (relative 1-sigma), evidence (label); rows of a sector a country does not have are left out."""
    with xr.open_zarr(location(cube).zarr_store(read_only=True), chunks=None, consolidated=True,
                      zarr_format=3) as ds:
        times = pd.DatetimeIndex(ds["time"].values)
        countries = [str(c) for c in ds["country"].values]
        v = np.asarray(ds[cc.NATIONAL_VAR].values, dtype=np.float64) / 1000.0
        s = np.asarray(ds[cc.NATIONAL_UNC_VAR].values, dtype=np.float64)
        e = (np.asarray(ds[cc.EVIDENCE_VAR].values, dtype=np.int8) if cc.EVIDENCE_VAR in ds
             else np.full(v.shape, cc.EVIDENCE_NO_DATA, dtype=np.int8))
    t, k, c = np.nonzero((v != 0) | (e != cc.EVIDENCE_NO_DATA))
    labels = np.array([cc.evidence_label(i) for i in range(-1, len(cc.EVIDENCE_LEVELS))], dtype=object)
    return pd.DataFrame({
        "date": pd.Categorical(times.strftime("%Y-%m-%d")[t]),
        "country": pd.Categorical(np.asarray(countries, dtype=object)[c]),
        "sector": pd.Categorical(np.asarray(cc.SECTORS, dtype=object)[k]),
        "emissions_t": v[t, k, c], "uncertainty": s[t, k, c].astype(np.float32),
        "evidence": pd.Categorical(labels[e[t, k, c].astype(np.int64) + 1])})


def write_national(table: pd.DataFrame, csv_out: Path, parquet_out: Path) -> None:
    """The table as gzipped CSV (deterministic bytes: no gzip timestamp) and as Parquet (zstd)."""
    text = table.to_csv(index=False, lineterminator="\n", float_format="%.10g").encode()
    write_bytes_atomic(csv_out, gzip.compress(text, compresslevel=3, mtime=0))
    with atomic_path(parquet_out) as tmp:
        table.to_parquet(tmp, index=False, compression="zstd")


# ------------------------------------------------------------------------------------------------- planning
@dataclass(frozen=True)
class Target:
    """A file to write: its name, kind, period, media type and description."""

    name: str
    kind: str
    period: str
    media_type: str
    description: str


def targets(dataset_id: str, rid: str, times: pd.DatetimeIndex, *, daily_months: int = 0,
            kinds: Iterable[str] = KINDS) -> list[Target]:
    """Every file a release of ``times`` gets: daily NetCDF for the last ``daily_months`` months (0: all),
    monthly means and annual totals (NetCDF + COG), the national table (CSV + Parquet); ``rid`` in each name."""
    kinds = set(kinds)
    unknown = kinds - set(KINDS)
    if unknown:
        raise ValueError(f"unknown release file kind(s) {sorted(unknown)}; known: {', '.join(KINDS)}")
    months = [str(p) for p in sorted(set(times.to_period("M")))]
    years = sorted({m[:4] for m in months})
    out: list[Target] = []
    if "daily" in kinds:
        for m in months[-daily_months:] if daily_months else months:
            out.append(Target(f"{dataset_id}_{m}_daily_{rid}.nc", "daily", m, NETCDF,
                              f"daily emissions (kg CO2 day-1 cell-1) and relative 1-sigma of {m}, all sectors"))
    if kinds & {"monthly-mean", "annual-total"}:
        for m in months:
            d = f"mean daily emissions of {m}, kg CO2 day-1 cell-1"
            out.append(Target(f"{dataset_id}_{m}_monthly-mean_{rid}.nc", "monthly-mean", m, NETCDF, d + ", by sector"))
            out.append(Target(f"{dataset_id}_{m}_monthly-mean_{rid}.tif", "monthly-mean", m, COG,
                              d + "; bands: total, then the 7 sectors"))
    if "annual-total" in kinds:
        for y in years:
            d = f"total emissions of {y} (days covered), kg CO2 cell-1"
            out.append(Target(f"{dataset_id}_{y}_annual-total_{rid}.nc", "annual-total", y, NETCDF, d + ", by sector"))
            out.append(Target(f"{dataset_id}_{y}_annual-total_{rid}.tif", "annual-total", y, COG,
                              d + "; bands: total, then the 7 sectors"))
    if "national-daily" in kinds:
        span = f"{times[0]:%Y-%m-%d}/{times[-1]:%Y-%m-%d}"
        d = "national daily emissions by sector (t CO2 day-1), relative 1-sigma and evidence, one row per " \
            "date, country, sector"
        out.append(Target(f"{dataset_id}_national-daily_{rid}.csv.gz", "national-daily", span, CSV_GZ, d))
        out.append(Target(f"{dataset_id}_national-daily_{rid}.parquet", "national-daily", span, PARQUET, d))
    return out


# ------------------------------------------------------------------------------------------------ writing
_Key = tuple[str, str, str]


def _entry(path: Path, t: Target, rid: str) -> FileEntry:
    return FileEntry(t.name, path.stat().st_size, cc.sha256_file(path), t.media_type, t.kind, t.period, rid,
                     t.description)


def _month_task(cube: str, out: str, month: str, rid: str, todo: list[dict[str, str]]) -> list[dict[str, Any]]:
    """One month's files (a Dask task): the daily NetCDF if asked, then the monthly-mean NetCDF and COG."""
    with _LOCK:
        cube_p, out_p = cube, Path(out)
        ts = [Target(**t) for t in todo]
        daily = [t for t in ts if t.kind == "daily"]
        done: list[dict[str, Any]] = []
        total: np.ndarray | None = None
        if daily:
            total = write_daily_month(cube_p, out_p / daily[0].name, month, rid)
            done.append(_entry(out_p / daily[0].name, daily[0], rid).to_json())
        means = [t for t in ts if t.kind == "monthly-mean"]
        if means:
            times, grid, attrs = _head(cube_p)
            days = times[times.to_period("M") == pd.Period(month, "M")]
            mean = total / len(days) if total is not None else _pyramid_mean(cube_p, month, attrs)
            if mean is None:
                mean = month_sum(cube_p, month) / len(days)
            done += [e.to_json() for e in _write_grids(mean, grid, attrs, means, out_p, rid, first=f"{days[0]:%Y-%m-%d}",
                                                       last=f"{days[-1]:%Y-%m-%d}", days=len(days))]
        return done


def _pyramid_mean(cube: Path | str, month: str, attrs: Mapping[str, Any]) -> np.ndarray | None:
    """The month's mean daily emissions (sector, lat, lon), kg CO2 day-1 cell-1, from the release's map pyramid
    (its level-0 month step: the mean density of the month's days, x cell area); None without a pyramid."""
    from carbonmap.storage import pyramid

    pyr = pyramid.open_pyramid(cube, pyramid.cube_version_of(dict(attrs)))
    step = pyr.step_index("month", month) if pyr is not None else None
    if pyr is None or step is None:
        return None
    density = pyr.field("month", 0, cc.EMISSIONS_VAR, step)[1:]  # drop the total layer
    return density.astype(np.float64) * pyramid.area_km2(pyr.grids[0])[None, :, None]


def month_sum(cube: Path | str, month: str) -> np.ndarray:
    """Sum of a month's daily emissions (sector, lat, lon), float64 kg CO2 cell-1, read one day at a time."""
    import zarr

    idx = np.flatnonzero(_head(cube)[0].to_period("M") == pd.Period(month, "M"))
    em = store.array(zarr.open_group(location(cube).zarr_store(read_only=True), mode="r"), cc.EMISSIONS_VAR)
    total = np.zeros(em.shape[1:])
    for t in idx:
        total += np.asarray(em[int(t)], dtype=np.float64)
    return total


def _annual(cube: Path | str, out: Path, year: str, rid: str, todo: list[Target], means: list[Path]) -> list[FileEntry]:
    """The annual totals of ``year`` from the year's monthly-mean NetCDFs (mean x days, summed in float64)."""
    total: np.ndarray | None = None
    days = 0
    first, last = "", ""
    for p in sorted(means):
        with xr.open_dataset(p, engine="netcdf4") as m:
            n = int(m.attrs["carbonmap_days"])
            block = np.asarray(m[cc.EMISSIONS_VAR].values, dtype=np.float64) * n
            first = first or str(m.attrs["time_coverage_start"])
            last = str(m.attrs["time_coverage_end"])
        total = block if total is None else total + block
        days += n
    if total is None:
        raise ValueError(f"no monthly means of {year} to sum")
    _, grid, attrs = _head(cube)
    return _write_grids(total, grid, attrs, todo, out, rid, first=first, last=last, days=days)


def _save(out: Path, dataset_id: str, rid: str, entries: Mapping[_Key, FileEntry], order: list[_Key]) -> None:
    files = [entries[k].to_json() for k in order if k in entries]
    write_text_atomic(out / FILES_MANIFEST, json.dumps({"dataset": dataset_id, "release": rid, "files": files},
                                                       indent=1))


def _unchanged(t: Target, changed: set[str] | None) -> bool:
    """Whether no day of the file's period changed (``changed``: the changed months; None: all changed)."""
    if changed is None or t.kind == "national-daily":
        return changed is not None and not changed
    return not any(m.startswith(t.period) for m in changed)


def write_release_files(cube: Path | str, release_id: str, *, parent: Path | str | None = None,
                        changed_days: Iterable[dt.date] | None = None, daily_months: int = 0,
                        kinds: Iterable[str] = KINDS, client: Any = None,
                        progress: ProgressFn | None = None) -> list[FileEntry]:
    """Write the release files of the sealed cube ``cube`` (release ``release_id``) into ``cube/files``.

    ``parent`` (an update's parent release directory) with ``changed_days``: files of months (years) with no
    changed day are hard-linked (server-side copies on object storage) from the parent's files, the others
    written.  Files already in this release's manifest with a matching sha256 (an interrupted run) are kept.
    ``client``: a Dask client to run the months on (one task per month); None runs them here.  On object
    storage the files are written in a local temporary directory and uploaded, the manifest last
    (:meth:`carbonmap.storage.location.Location.workdir`).  Returns the manifest's entries, in order."""
    cube_loc = location(cube).resolved()
    with files_location(cube_loc).workdir(last=FILES_MANIFEST) as out:
        return _write_release_files(cube_loc, out, release_id, parent=parent, changed_days=changed_days,
                                    daily_months=daily_months, kinds=kinds, client=client, progress=progress)


def _write_release_files(cube_loc: Location, out: Path, release_id: str, *, parent: Path | str | None,
                         changed_days: Iterable[dt.date] | None, daily_months: int, kinds: Iterable[str],
                         client: Any, progress: ProgressFn | None) -> list[FileEntry]:
    say = progress or no_progress
    cube = cube_loc.target
    dest = files_location(cube_loc)
    times, _, cube_attrs = _head(cube)
    dataset_id = str(cube_attrs["carbonmap_dataset_id"])
    wanted = targets(dataset_id, release_id, times, daily_months=daily_months, kinds=kinds)
    order = [(t.kind, t.period, t.media_type) for t in wanted]
    changed = None if changed_days is None else {f"{pd.Timestamp(d):%Y-%m}" for d in changed_days}
    from_parent = {(e.kind, e.period, e.media_type): e for e in read_manifest(parent).values()} \
        if parent is not None else {}
    resumed = {(e.kind, e.period, e.media_type): e for e in read_manifest(cube_loc).values()}
    entries: dict[_Key, FileEntry] = {}
    copied: set[str] = set()  # taken from the parent: in ``dest``, not necessarily in ``out``
    for t, k in zip(wanted, order, strict=True):
        old = from_parent.get(k)
        if old is not None and _unchanged(t, changed) and parent is not None:
            src = files_location(parent)
            if src.size(old.name) == old.size:
                if dest.size(old.name) != old.size:
                    src.copy_object(old.name, dest, old.name)
                entries[k] = old
                copied.add(old.name)
                continue
        mine = resumed.get(k)
        if mine is not None and mine.name == t.name and (out / t.name).is_file() \
                and cc.sha256_file(out / t.name) == mine.sha256:
            entries[k] = mine
    todo = [t for t, k in zip(wanted, order, strict=True) if k not in entries]
    total, label = len(wanted), "release files"
    say(len(entries), total, label)

    def record(new: Iterable[FileEntry]) -> None:
        for e in new:
            entries[(e.kind, e.period, e.media_type)] = e
        _save(out, dataset_id, release_id, entries, order)
        say(len(entries), total, label)

    month_todo: dict[str, list[dict[str, str]]] = {}
    for t in todo:
        if t.kind in ("daily", "monthly-mean"):
            month_todo.setdefault(t.period, []).append(asdict(t))
    jobs = [(str(cube), str(out), m, release_id, ts) for m, ts in sorted(month_todo.items())]
    if client is not None and jobs:
        from distributed import as_completed

        futures = [client.submit(_month_task, *j, pure=False) for j in jobs]
        for fut in as_completed(futures):
            record(FileEntry(**e) for e in fut.result())
    else:
        for j in jobs:
            record(FileEntry(**e) for e in _month_task(*j))
    for year in sorted({t.period for t in todo if t.kind == "annual-total"}):
        means = [out / entries[k].name for k in order if k[0] == "monthly-mean" and k[2] == NETCDF
                 and k[1].startswith(year) and k in entries]
        for p in means:  # a parent's file copied server-side: fetched to read it here
            if not p.exists():
                dest.download(p.name, p)
        record(_annual(cube, out, year, release_id, [t for t in todo if t.kind == "annual-total" and t.period == year],
                       means))
    national = [t for t in todo if t.kind == "national-daily"]
    if national:
        csv_t = next(t for t in national if t.media_type == CSV_GZ)
        pq_t = next(t for t in national if t.media_type == PARQUET)
        write_national(national_table(cube), out / csv_t.name, out / pq_t.name)
        record([_entry(out / csv_t.name, csv_t, release_id), _entry(out / pq_t.name, pq_t, release_id)])
    _save(out, dataset_id, release_id, entries, order)
    keep = {e.name for e in entries.values()} | {FILES_MANIFEST}
    for p in out.iterdir():  # leftovers of an interrupted run with another plan: never listed, so never served
        if p.name not in keep or (p.name in copied and out != dest.local_path):
            p.unlink()  # (a parent's file fetched for the annual sums is already in the store)
    return [entries[k] for k in order]


def for_release(cube: store.Target, release_id: str, *, client: Any = None, progress: ProgressFn | None = None,
                parent: store.Target | None = None, changed_days: Iterable[dt.date] | None = None,
                settings: Settings) -> list[str]:
    """The release-files step of a publish (``store.seal``'s ``before_publish``), as the Settings ask
    (``release_files_kinds``, ``release_daily_months``), on a local or an object store.  Returns the step's name
    for the release manifest's ``layouts``, or [].  ``settings``: the build's or update's (its request's)."""
    if not settings.release_files_kinds:
        return []
    write_release_files(cube, release_id, parent=parent,
                        changed_days=changed_days if parent is not None else None,
                        daily_months=settings.release_daily_months, kinds=settings.release_files_kinds,
                        client=client, progress=progress)
    return ["release_files.write_release_files"]
