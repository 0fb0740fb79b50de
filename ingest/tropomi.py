"""TROPOMI (Sentinel-5P) L2 NO2 swaths: reader, QA filter, and binning of orbits to daily grids.

Product layout read (S5P L2__NO2___, KNMI processor 1.x/2.x, NetCDF-4 with groups):

- ``/PRODUCT``: dims ``time`` (1), ``scanline``, ``ground_pixel``, ``corner`` (4); variables
  ``latitude``/``longitude`` (time, scanline, ground_pixel) float32 degrees,
  ``qa_value`` (same dims) **uint8 with scale_factor 0.01** and ``_FillValue`` 255 (0..1 once scaled),
  ``nitrogendioxide_tropospheric_column`` float32 ``mol m-2`` (``_FillValue`` 9.96921e36, attribute
  ``multiplication_factor_to_convert_to_molecules_percm2`` 6.02214e19) and its ``_precision``,
  ``delta_time`` (time, scanline) ms since ``time_reference``;
- ``/PRODUCT/SUPPORT_DATA/GEOLOCATIONS``: ``latitude_bounds``/``longitude_bounds``
  (time, scanline, ground_pixel, corner) — read when asked for (not needed for centre binning).

:func:`read_tropomi_l2` returns the pixels as 1-D arrays (:class:`Swath`); :func:`qa_filter` keeps
``qa_value >= 0.75`` (KNMI's recommendation for tropospheric NO2) and finite columns.

Binning (:func:`bin_sum_count`, :func:`bin_mean`): each valid pixel centre falls in exactly one
cell of a :class:`~carbonmap.contract.Grid` (cells are half-open [edge, next edge), the last row/col
also takes its far edge, as ``scipy.stats.binned_statistic_2d`` does); the cell value is the mean of
its pixels, computed as ``np.bincount(cell, weights=value) / np.bincount(cell)``.  This is an
average of all pixels, not nearest sampling.  Daily grids sum these (sum, count) pairs over the
orbits of a UTC day (by pixel time), so the daily mean weights every pixel equally.

Streaming (:func:`daily_sum_count_dask`, :func:`write_daily_zarr`): one ``dask.delayed`` task per
orbit file returns a sparse (cell, sum, count) partial; partials of a day are tree-reduced; one day
at a time is densified and written, so memory stays bounded by ~ a few grids, not by the year.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.binning import bin_mean_fast, cell_index

NO2_VAR = "nitrogendioxide_tropospheric_column"
NO2_UNITS = "mol m-2"
QA_MIN = 0.75
"""Minimum qa_value kept (KNMI PUM: 0.75 for tropospheric NO2; 0.5 for total columns)."""
MOLEC_CM2_PER_MOL_M2 = 6.02214e19
HEADER_FILE = ("satellite/no2/S5P_OFFL_L2__NO2____20200303T013547_20200303T031717_12367_01_010302_"
               "20200306T053815.nc")

INFO = SourceInfo(
    name="tropomi",
    title="Sentinel-5P TROPOMI L2 NO2 tropospheric column (KNMI/ESA, OFFL)",
    kind="satellite",
    licence="Copernicus Sentinel data, free and open (file attribute: 'No conditions apply')",
    url="https://dataspace.copernicus.eu (collection SENTINEL-5P, product type L2__NO2___)",
    shipped=(HEADER_FILE,),
    real=False,
    note="shipped file is the real header only (PRODUCT empty); pixels come from tests/ingest/fixture_gen/tropomi.py "
         "and are marked synthetic",
)

_NAME_RE = re.compile(r"S5P_(OFFL|NRTI|RPRO)_L2__NO2____(\d{8}T\d{6})_(\d{8}T\d{6})_(\d{5})_")


@dataclass(frozen=True)
class Swath:
    """Pixels of one orbit as flat arrays (scanline-major), degrees and mol m-2.

    ``qa`` is the scaled qa_value (0..1, NaN where fill); ``no2`` NaN where fill; ``time`` the UTC
    time of each pixel's scanline (datetime64[ms]); ``shape`` is (scanline, ground_pixel).
    """

    lat: np.ndarray
    lon: np.ndarray
    no2: np.ndarray
    qa: np.ndarray
    time: np.ndarray
    shape: tuple[int, int]
    synthetic: bool
    source_file: str


def _var(group, name: str, path: Path):  # netCDF4.Variable
    if name not in group.variables:
        raise IngestError(f"{path.name}: variable {group.path}/{name} is missing; is this a TROPOMI L2 NO2 file "
                          f"with pixels? (the shipped real header has an empty PRODUCT group)")
    return group.variables[name]


_HDF5_LOCK = threading.Lock()
"""The HDF5 library under netCDF4 is not thread-safe: one file is read at a time per process
(binning, the expensive part, runs outside the lock)."""


def read_tropomi_l2(path: Path, bounds: bool = False) -> Swath | tuple[Swath, np.ndarray, np.ndarray]:
    """Read the pixels of one L2 NO2 file; with ``bounds=True`` also (lat_bounds, lon_bounds) (n, 4)."""
    with _HDF5_LOCK:
        return _read_tropomi_l2(path, bounds)


def _read_tropomi_l2(path: Path, bounds: bool) -> Swath | tuple[Swath, np.ndarray, np.ndarray]:
    import netCDF4

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"TROPOMI file not found: {path}")
    try:
        nc = netCDF4.Dataset(path, "r")
    except OSError as e:
        raise IngestError(f"{path.name} is not a readable NetCDF-4 file: {e}") from e
    with nc:
        if "PRODUCT" not in nc.groups:
            raise IngestError(f"{path.name} has no PRODUCT group; not a TROPOMI L2 product")
        prod = nc["PRODUCT"]
        nc.set_auto_maskandscale(True)
        no2v = _var(prod, NO2_VAR, path)
        units = getattr(no2v, "units", None)
        if units != NO2_UNITS:
            raise IngestError(f"{path.name}: {NO2_VAR} has units {units!r}, expected {NO2_UNITS!r}")
        qav = _var(prod, "qa_value", path)
        if qav.dtype != np.uint8 or not np.isclose(getattr(qav, "scale_factor", np.nan), 0.01):
            raise IngestError(f"{path.name}: qa_value must be uint8 with scale_factor 0.01 as in the real product")
        dims = no2v.dimensions
        if dims[-2:] != ("scanline", "ground_pixel"):
            raise IngestError(f"{path.name}: {NO2_VAR} dims are {dims}, expected (time, scanline, ground_pixel)")

        def flat(v) -> np.ndarray:
            a = v[0] if v.ndim == 3 else v[:]
            return np.ma.filled(np.ma.asarray(a).astype(np.float64), np.nan)

        no2 = flat(no2v)
        qa = flat(qav)
        lat = flat(_var(prod, "latitude", path))
        lon = flat(_var(prod, "longitude", path))
        shape = no2.shape
        if lat.shape != shape or lon.shape != shape or qa.shape != shape:
            raise IngestError(f"{path.name}: latitude/longitude/qa_value do not have the shape {shape} of {NO2_VAR}")
        if np.nanmin(lat) < -90 or np.nanmax(lat) > 90 or np.nanmin(lon) < -180 or np.nanmax(lon) > 180:
            raise IngestError(f"{path.name}: latitude/longitude outside -90..90 / -180..180")
        if np.nanmin(qa) < 0 or np.nanmax(qa) > 1.0 + 1e-9:
            raise IngestError(f"{path.name}: qa_value outside 0..1 after scaling")
        tref = datetime.strptime(str(nc.getncattr("time_reference")), "%Y-%m-%dT%H:%M:%SZ")
        dt_ms = np.ma.filled(_var(prod, "delta_time", path)[0], 0).astype("int64")
        t_scan = np.datetime64(tref, "ms") + dt_ms.astype("timedelta64[ms]")
        synthetic = "carbonmap_synthetic" in nc.ncattrs() and str(nc.getncattr("carbonmap_synthetic")) == "true"
        swath = Swath(lat.ravel(), lon.ravel(), no2.ravel(), qa.ravel(), np.repeat(t_scan, shape[1]), shape,
                      synthetic, path.name)
        if not bounds:
            return swath
        geo = nc["PRODUCT/SUPPORT_DATA/GEOLOCATIONS"]
        latb = np.asarray(_var(geo, "latitude_bounds", path)[0], dtype=np.float64).reshape(-1, 4)
        lonb = np.asarray(_var(geo, "longitude_bounds", path)[0], dtype=np.float64).reshape(-1, 4)
        return swath, latb, lonb


def qa_filter(swath: Swath, qa_min: float = QA_MIN) -> np.ndarray:
    """Boolean mask (n,) of pixels kept: qa_value >= qa_min, finite column and coordinates."""
    return (swath.qa >= qa_min - 1e-9) & np.isfinite(swath.no2) & np.isfinite(swath.lat) & np.isfinite(swath.lon)


def grid_edges(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(lat edges ascending, lon edges ascending), degrees, sizes nlat+1 and nlon+1."""
    r = grid.resolution
    return grid.south + np.arange(grid.nlat + 1) * r, grid.west + np.arange(grid.nlon + 1) * r


def _axis_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each x in ascending ``edges`` ([e_i, e_i+1), last bin closed); -1 outside.

    One multiply and a truncation give the bin; the few values within 1e-6 of a bin edge (in units
    of the bin width) are re-binned with ``np.searchsorted`` on the edge array, so the result equals
    ``np.digitize`` on the same edges exactly (as scipy's binned_statistic_2d uses them).
    """
    n = edges.size - 1
    e0, e1 = float(edges[0]), float(edges[-1])
    q = np.subtract(x, e0)
    q *= n / (e1 - e0)
    i = q.astype(np.int64)
    q -= i  # fractional part
    sus = np.flatnonzero((q < 1e-6) | (q > 1.0 - 1e-6))
    if sus.size:
        i[sus] = np.searchsorted(edges, x[sus], side="right") - 1
    np.minimum(i, n - 1, out=i)  # x == last edge belongs to the last bin
    if x.size and (x.min() < e0 or x.max() > e1):
        i[(x < e0) | (x > e1)] = -1
    return i


CHUNK = 1 << 15
"""Pixels per block when computing cell indices: temporaries stay in the CPU cache."""


def cell_of(lat: np.ndarray, lon: np.ndarray, grid: Grid, n_threads: int = 1) -> np.ndarray:
    """Flat cell index ``row * nlon + col`` (row 0 = north) of each point; -1 off the grid or NaN.

    Delegates to :func:`ingest.binning.cell_index` (blocked, optionally threaded).
    """
    return cell_index(lat, lon, grid, n_threads)


def bin_sum_count(lat: np.ndarray, lon: np.ndarray, values: np.ndarray, grid: Grid,
                  n_threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Dense (sum, count) per cell, dims (lat, lon) north-up, of the finite values; float64 and int64."""
    cell = cell_of(lat, lon, grid, n_threads)
    v = np.asarray(values, dtype=np.float64)
    if (cell.size and cell.min() < 0) or not np.isfinite(v.sum()):
        ok = (cell >= 0) & np.isfinite(v)
        cell, v = cell[ok], v[ok]
    n = grid.nlat * grid.nlon
    s = np.bincount(cell, weights=v, minlength=n)
    c = np.bincount(cell, minlength=n)
    return s.reshape(grid.shape), c.reshape(grid.shape)


def mean_from(sum_: np.ndarray, count: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """sum / count, NaN where count == 0 (float64); ``inplace=True`` overwrites ``sum_`` (saves a grid copy)."""
    out = sum_ if inplace else np.array(sum_, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(out, count, out=out)  # 0 / 0 -> NaN
    return out


def bin_mean(lat: np.ndarray, lon: np.ndarray, values: np.ndarray, grid: Grid) -> np.ndarray:
    """Mean of the values per cell, NaN where no pixel, dims (lat, lon) north-up."""
    return bin_mean_fast(lat, lon, values, grid)


def bin_mean_threads(lat: np.ndarray, lon: np.ndarray, values: np.ndarray, grid: Grid,
                     n_threads: int = 2) -> np.ndarray:
    """:func:`bin_mean` with the cell indices computed on ``n_threads`` threads (the sums hold the GIL)."""
    return bin_mean_fast(lat, lon, values, grid, n_threads=n_threads)


@dataclass(frozen=True)
class Partial:
    """Sparse (cell, sum, count) of the valid pixels of some orbits on one grid, per UTC day."""

    day: np.ndarray  # (k,) datetime64[D]
    cell: np.ndarray  # (k,) int64
    sum: np.ndarray  # (k,) float64, mol m-2
    count: np.ndarray  # (k,) int64


def orbit_partial(path: Path, grid: Grid, qa_min: float = QA_MIN) -> Partial:
    """Read one orbit, QA-filter, and bin to (day, cell) sums and counts (sparse)."""
    sw = read_tropomi_l2(path)
    assert isinstance(sw, Swath)
    keep = qa_filter(sw, qa_min)
    cell = cell_of(sw.lat[keep], sw.lon[keep], grid)
    day = sw.time[keep].astype("datetime64[D]")
    ok = cell >= 0
    cell, day, v = cell[ok], day[ok], sw.no2[keep][ok]
    return _compact(day, cell, v, np.ones(v.size, dtype=np.int64))


def _compact(day: np.ndarray, cell: np.ndarray, s: np.ndarray, c: np.ndarray) -> Partial:
    if day.size == 0:
        return Partial(day.astype("datetime64[D]"), cell.astype(np.int64), s.astype(np.float64), c.astype(np.int64))
    dkey = day.astype("int64")
    key = dkey * (1 << 32) + cell
    uk, inv = np.unique(key, return_inverse=True)
    return Partial((uk >> 32).astype("datetime64[D]"), (uk & ((1 << 32) - 1)).astype(np.int64),
                   np.bincount(inv, weights=s), np.bincount(inv, weights=c).astype(np.int64))


def merge_partials(*parts: Partial) -> Partial:
    """Sum partials (same grid)."""
    return _compact(np.concatenate([p.day for p in parts]), np.concatenate([p.cell for p in parts]),
                    np.concatenate([p.sum for p in parts]), np.concatenate([p.count for p in parts]))


def daily_sum_count_dask(paths: Sequence[Path], grid: Grid, qa_min: float = QA_MIN,
                         scheduler: str | None = None) -> Partial:
    """All orbits -> one merged sparse Partial, one dask.delayed task per file, tree-reduced pairwise."""
    import dask

    if not paths:
        raise IngestError("no TROPOMI files given")
    level = [dask.delayed(orbit_partial)(Path(p), grid, qa_min) for p in paths]
    while len(level) > 1:
        level = [dask.delayed(merge_partials)(*level[i:i + 2]) for i in range(0, len(level), 2)]
    (out,) = dask.compute(level[0], scheduler=scheduler)
    return out


def partial_to_dataset(part: Partial, grid: Grid, days: Iterable[np.datetime64] | None = None) -> xr.Dataset:
    """Dense daily grids: ``no2(day, lat, lon)`` mean (mol m-2, NaN = no valid pixel), ``n_pixels``."""
    ds = np.unique(part.day) if days is None else np.asarray(list(days), dtype="datetime64[D]")
    no2 = np.full((len(ds), *grid.shape), np.nan, dtype=np.float32)
    cnt = np.zeros((len(ds), *grid.shape), dtype=np.int32)
    for i, d in enumerate(ds):
        m = part.day == d
        s = np.zeros(grid.nlat * grid.nlon)
        c = np.zeros(grid.nlat * grid.nlon, dtype=np.int64)
        s[part.cell[m]] = part.sum[m]
        c[part.cell[m]] = part.count[m]
        no2[i] = mean_from(s, c).reshape(grid.shape)
        cnt[i] = c.reshape(grid.shape)
    return _dataset(no2, cnt, ds, grid)


def _dataset(no2: np.ndarray, cnt: np.ndarray, days: np.ndarray, grid: Grid) -> xr.Dataset:
    coords = {"day": days.astype("datetime64[ns]"), "lat": grid.lat, "lon": grid.lon}
    return xr.Dataset(
        {"no2": (("day", "lat", "lon"), no2, {
            "units": NO2_UNITS, "standard_name": "troposphere_mole_content_of_nitrogen_dioxide",
            "long_name": "daily mean TROPOMI tropospheric NO2 column of pixels with qa_value >= 0.75",
            "cell_methods": "time: mean (UTC day) area: mean (pixel centres in cell)",
            "multiplication_factor_to_convert_to_molecules_percm2": MOLEC_CM2_PER_MOL_M2}),
         "n_pixels": (("day", "lat", "lon"), cnt, {"units": "1", "long_name": "number of valid pixels averaged"})},
        coords=coords, attrs={"qa_min": QA_MIN, **grid.to_attrs()})


def orbit_day(path: Path) -> date:
    """UTC start day of an orbit from its official file name."""
    m = _NAME_RE.search(Path(path).name)
    if not m:
        raise IngestError(f"{Path(path).name!r} is not a TROPOMI L2 NO2 file name (S5P_OFFL_L2__NO2____<start>_...)")
    return datetime.strptime(m.group(2), "%Y%m%dT%H%M%S").date()


def write_daily_zarr(paths: Sequence[Path], grid: Grid, out_path: Path, provenance: dict | None = None,
                     scheduler: str | None = None) -> Path:
    """Stream many orbits to ``no2(day, lat, lon)`` in Zarr, one start-day group of files at a time; atomic.

    Orbits are grouped by the day in their file name plus the previous day's group (an orbit that
    starts before midnight carries pixels of the next day), so each day is complete when written and
    at most two days of sparse partials plus one dense day are in memory.
    """
    import json

    out_path = Path(out_path)
    if out_path.suffix != ".zarr":
        raise IngestError(f"a grid must be written to a .zarr path, got {out_path}")
    by_day: dict[date, list[Path]] = {}
    for p in paths:
        by_day.setdefault(orbit_day(p), []).append(Path(p))
    if not by_day:
        raise IngestError("no TROPOMI files given")
    tmp = out_path.with_name(f".{out_path.name}.tmp-{uuid.uuid4().hex[:8]}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    carry: Partial | None = None
    first = True
    synthetic = any(read_synthetic_flag(p) for p in paths)
    try:
        days = sorted(by_day)
        for i, d in enumerate(days):
            part = daily_sum_count_dask(by_day[d], grid, scheduler=scheduler)
            if carry is not None:
                part = merge_partials(carry, part)
            nxt = days[i + 1] if i + 1 < len(days) else None
            done_until = np.datetime64(d, "D") if nxt is not None else np.datetime64("9999-12-31", "D")
            ready = part.day <= done_until
            keep = Partial(part.day[ready], part.cell[ready], part.sum[ready], part.count[ready])
            carry = Partial(part.day[~ready], part.cell[~ready], part.sum[~ready], part.count[~ready])
            if keep.day.size == 0:
                continue
            ds = partial_to_dataset(keep, grid)
            if first:
                ds.attrs.update({"provenance": json.dumps(provenance or {}, default=str),
                                 "synthetic": str(synthetic).lower()})
                ds.to_zarr(tmp, mode="w", consolidated=False, zarr_format=3)
                first = False
            else:
                ds.to_zarr(tmp, append_dim="day", consolidated=False, zarr_format=3)
        if first:
            raise IngestError("no valid TROPOMI pixels (qa_value >= 0.75) fell on the grid")
        if out_path.exists():
            old = out_path.with_name(f".{out_path.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(out_path, old)
            os.replace(tmp, out_path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_path


def read_synthetic_flag(path: Path) -> bool:
    """True if the file says its pixels are synthetic (``carbonmap_synthetic = "true"``)."""
    import netCDF4

    with _HDF5_LOCK, netCDF4.Dataset(path) as nc:
        return str(getattr(nc, "carbonmap_synthetic", "false")) == "true"


class TropomiAdapter(BaseAdapter[xr.Dataset]):
    """TROPOMI L2 NO2 orbits -> daily ``no2(day, lat, lon)`` at 0.1 degree (``satellite.zarr``)."""

    info = INFO
    grid = Grid(0.1)

    def download(self, start: date, end: date) -> list[Path]:
        """The OFFL L2 NO2 orbits of the period from the CDSE OData API; needs the ``cdse_token`` setting."""
        from ingest.tropomi_cdse import download_tropomi

        return download_tropomi(start, end, settings=self.settings)

    def read(self, paths: Sequence[Path]) -> xr.Dataset:
        part = daily_sum_count_dask(list(paths), self.grid)
        if part.day.size == 0:
            raise IngestError("no valid TROPOMI pixels (qa_value >= 0.75) fell on the grid")
        ds = partial_to_dataset(part, self.grid)
        ds.attrs["synthetic"] = str(any(read_synthetic_flag(p) for p in paths)).lower()
        return ds

    def write(self, data: xr.Dataset, out_path: Path, inputs: Sequence[Path] = ()) -> Path:
        """Stream the input orbits (``inputs``) straight to Zarr, day by day, instead of the in-memory data."""
        if inputs:
            return write_daily_zarr(list(inputs), self.grid, out_path, self.provenance(inputs))
        return super().write(data, out_path, inputs)

