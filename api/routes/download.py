"""``GET /download/{dataset}``: a subset of a cube as CF NetCDF, Cloud-Optimized GeoTIFF or tidy CSV,
daily or aggregated (``aggregate=month``: monthly MEAN, kg CO2 day-1 cell-1; ``year``: annual TOTAL, kg CO2
cell-1; their uncertainty is the emission-weighted mean daily relative 1-sigma, i.e. fully correlated days).

Bounded memory: the store is read in blocks of days (<= :data:`READ_BLOCK_VALUES` values, at least one day),
the next block prefetched while this one is written; aggregates accumulate one period (float64) at a time,
or come straight from the map pyramid's monthly/annual means when it holds exactly the selected days.
NetCDF/GeoTIFF need a seekable file: written to a temp file, then streamed and deleted; CSV is a generator.

Limits, checked before anything is read (a 422 states both and the alternatives at absolute URLs: the
release files and the Zarr store over HTTP): values written (cells x steps x sectors,
``max_download_values``, default :data:`DEFAULT_MAX_DOWNLOAD_VALUES`) and values read (cells x days x
sectors, ``max_download_read_values``, default :data:`DEFAULT_MAX_READ_VALUES`); both can also be set with
``CARBONMAP_MAX_DOWNLOAD_VALUES`` / ``CARBONMAP_MAX_DOWNLOAD_READ_VALUES``.  Every NetCDF carries the CF/ACDD
metadata of :mod:`carbonmap.cf_metadata` (bounds, cell area, crs, evidence, provenance, release id).
"""

import contextlib
import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import zarr
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import Dependency, cube_from_dataset_path, get_settings
from carbonmap import cf_metadata as cf
from carbonmap import contract as cc
from carbonmap.errors import TooLarge
from carbonmap.http_policy import release_headers
from carbonmap.problems import problem_responses
from carbonmap.registry import Cube
from carbonmap.settings import Settings

DEFAULT_MAX_DOWNLOAD_VALUES: int = Settings.model_fields["max_download_values"].default
"""Output values (cells x steps x sectors) of one download: a global 0.25 degree month, daily, 7 sectors is
225 M; ``max_download_values`` in the settings (``CARBONMAP_MAX_DOWNLOAD_VALUES``) overrides it."""
DEFAULT_MAX_READ_VALUES: int = Settings.model_fields["max_download_read_values"].default
"""Values read (cells x days x sectors) by one download: a global 0.25 degree leap year of 7 sectors is
2.66 G (monthly means or annual totals, about 40 s on 2 cores); ``max_download_read_values`` overrides it."""
READ_BLOCK_VALUES = 8_000_000
"""Values per variable read at once (days are grouped up to this; a bigger single day is read whole)."""
MEDIA = {"netcdf": "application/x-netcdf", "geotiff": "image/tiff; application=geotiff; profile=cloud-optimized",
         "csv": "text/csv; charset=utf-8"}
EXT = {"netcdf": "nc", "geotiff": "tif", "csv": "csv"}
BLOCK = 1 << 20
Aggregate = Literal["day", "month", "year"]
RESOLUTION = {"day": "P1D", "month": "P1M", "year": "P1Y"}


@dataclass(frozen=True)
class Step:
    """One output time step: its first day and the day after its last (UTC dates) and a label."""

    start: dt.date
    stop: dt.date
    label: str


@dataclass(frozen=True)
class Subset:
    """What to cut: rows/cols of the cube grid, the day indices, sector indices and the aggregation."""

    cube: Cube
    rows: slice
    cols: slice
    grid: cc.Grid
    times: pd.DatetimeIndex
    time_slice: slice
    sectors: tuple[str, ...]
    sector_idx: list[int]
    aggregate: Aggregate = "day"

    @property
    def n_values(self) -> int:
        """Output values: cells x steps x sectors."""
        return self.grid.nlat * self.grid.nlon * len(self.steps) * len(self.sectors)

    @property
    def n_read(self) -> int:
        """Values read per variable: cells x days x sectors."""
        return self.grid.nlat * self.grid.nlon * len(self.times) * len(self.sectors)

    @property
    def steps(self) -> list[Step]:
        days = [t.date() for t in self.times]
        if self.aggregate == "day":
            return [Step(d, d + dt.timedelta(days=1), d.isoformat()) for d in days]
        key = (lambda d: (d.year, d.month)) if self.aggregate == "month" else (lambda d: (d.year, 0))
        out: list[Step] = []
        for d in days:
            k = key(d)
            label = f"{k[0]:04d}-{k[1]:02d}" if self.aggregate == "month" else f"{k[0]:04d}"
            if out and out[-1].label == label:
                out[-1] = Step(out[-1].start, d + dt.timedelta(days=1), label)
            else:
                out.append(Step(d, d + dt.timedelta(days=1), label))
        return out

    def _arrays(self) -> tuple[Any, Any]:
        group = zarr.open_group(store=self.cube.zarr_store, mode="r", zarr_format=3)
        return group[cc.EMISSIONS_VAR], group[cc.UNCERTAINTY_VAR]

    def _runs(self) -> list[slice]:
        """The sector indices as runs of consecutive indices (zarr reads a basic slice many times faster than
        an orthogonal list selection: 0.05 s against 0.67 s for a global 0.25 degree day)."""
        runs: list[slice] = []
        for i in self.sector_idx:
            if runs and runs[-1].stop == i:
                runs[-1] = slice(runs[-1].start, i + 1)
            else:
                runs.append(slice(i, i + 1))
        return runs

    def _read(self, array: Any, times: slice) -> np.ndarray:
        parts = [np.asarray(array[times, run, self.rows, self.cols], dtype=np.float32) for run in self._runs()]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def blocks(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(first day index in the subset, emissions, uncertainty) blocks, dims (day, sector, lat, lon), float32;
        the next block is read in a background thread while the caller writes this one (2 blocks in memory)."""
        with ThreadPoolExecutor(1, thread_name_prefix="carbonmap-dl") as pool:
            it = self._blocks()
            nxt = pool.submit(next, it, None)
            while (block := nxt.result()) is not None:
                nxt = pool.submit(next, it, None)
                yield block

    def _blocks(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        em, un = self._arrays()
        per_day = max(1, self.grid.nlat * self.grid.nlon * len(self.sectors))
        n = max(1, min(32, READ_BLOCK_VALUES // per_day))
        t0 = self.time_slice.start
        for k in range(0, len(self.times), n):
            times = slice(t0 + k, t0 + min(k + n, len(self.times)))
            yield k, self._read(em, times), self._read(un, times)

    def pyramid(self) -> Any | None:
        """The cube's map pyramid when it holds exactly these monthly/annual means: a local, complete pyramid of
        this cube version whose month/year steps cover the same days as the selection's steps (whole periods,
        or the cube's partial edge periods).  None otherwise (the days are then read and aggregated)."""
        if self.aggregate == "day" or not isinstance(self.cube.path, FsPath):
            return None
        from carbonmap.storage.pyramid import cube_version_of, open_pyramid

        try:
            pyr = open_pyramid(self.cube.path, cube_version_of(self.cube.attrs))
        except (OSError, ValueError, KeyError, TypeError):  # unreadable: read the days instead
            return None
        if pyr is None or pyr.grids[0] != self.cube.grid:
            return None
        for step in self.steps:
            i = pyr.step_index(self.aggregate, step.label)
            if i is None or pyr.meta.n_days[self.aggregate][i] != (step.stop - step.start).days:
                return None
        return pyr

    def _pyramid_steps(self, pyr: Any, steps: list[Step]) -> Iterator[tuple[Step, np.ndarray, np.ndarray]]:
        """Monthly means (kg day-1) / annual totals (kg) from the pyramid's level-0 means: density
        kg km-2 day-1 x cell area km2 (x days for a total); its uncertainty is aggregated by the same rule."""
        from carbonmap.storage.pyramid import LAYERS, area_km2

        em_arr = pyr.array(self.aggregate, 0, cc.EMISSIONS_VAR)
        un_arr = pyr.array(self.aggregate, 0, cc.UNCERTAINTY_VAR)
        area = area_km2(self.cube.grid)[self.rows][:, None]
        layers = [LAYERS.index(name) for name in self.sectors]
        secs = [cc.SECTORS.index(name) for name in self.sectors]
        for step in steps:
            i = pyr.step_index(self.aggregate, step.label)
            dens = np.stack([np.asarray(em_arr[i, k, self.rows, self.cols]) for k in layers])
            value = dens.astype(np.float64) * area
            if self.aggregate == "year":
                value *= (step.stop - step.start).days
            un = np.stack([np.asarray(un_arr[i, k, self.rows, self.cols], dtype=np.float32) for k in secs])
            yield step, value.astype(np.float32), un

    def iter_steps(self) -> Iterator[tuple[Step, np.ndarray, np.ndarray]]:
        """(step, emissions, uncertainty) per output step, dims (sector, lat, lon), float32: daily values, or
        the monthly mean (kg day-1) / annual total (kg) and its emission-weighted relative 1-sigma."""
        steps = self.steps
        pyr = self.pyramid()
        if pyr is not None:
            yield from self._pyramid_steps(pyr, steps)
            return
        if self.aggregate == "day":
            for k0, em, un in self.blocks():
                for i in range(em.shape[0]):
                    yield steps[k0 + i], em[i], un[i]
            return
        shape = (len(self.sectors), self.grid.nlat, self.grid.nlon)
        total, weighted = np.zeros(shape), np.zeros(shape)
        s, n_days = 0, 0
        for k0, em, un in self.blocks():
            for i in range(em.shape[0]):
                total += em[i]  # float64 += float32: no temporary
                np.multiply(em[i], un[i], out=un[i])
                weighted += un[i]
                n_days += 1
                step = steps[s]
                if self.times[k0 + i].date() + dt.timedelta(days=1) == step.stop:
                    value = total / n_days if self.aggregate == "month" else total
                    with np.errstate(invalid="ignore", divide="ignore"):
                        rel = np.where(total > 0, weighted / np.where(total > 0, total, 1.0), 0.0)
                    yield step, value.astype(np.float32), rel.astype(np.float32)
                    total[...] = 0.0
                    weighted[...] = 0.0
                    s, n_days = s + 1, 0


def parse_bbox(text: str | None, grid: cc.Grid) -> cc.Grid:
    if not text:
        return grid
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise cc.ContractError(f"bbox {text!r} must be four numbers west,south,east,north in degrees, "
                               "e.g. 5,47,15,55") from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise cc.ContractError(f"bbox {text!r} must satisfy -180 <= west < east <= 180 and -90 <= south < north <= 90 "
                               "(split a box crossing the antimeridian into two downloads)")
    return grid.subset(w, s, e, n)


def alternatives(cube: Cube, base_url: str) -> str:
    """Where whole releases and whole cubes are, at absolute URLs."""
    base = base_url.rstrip("/")
    release = cube.release or "<release>"
    zarr_url = f"{base}/zarr/{cube.id}" + (f"/releases/{cube.release}" if cube.release else "")
    return (f"for bulk data use the release files at {base}/datasets/{cube.id}/releases/{release}/files "
            f"(per-month daily NetCDF, monthly-mean and annual-total grids; release ids at {base}/datasets/"
            f"{cube.id}/releases), or read the store lazily with xarray.open_zarr('{zarr_url}')")


def make_subset(cube: Cube, bbox: str | None, start: dt.date | None, end: dt.date | None, sectors: str | None,
                max_values: int, *, aggregate: Aggregate = "day", max_read: int = DEFAULT_MAX_READ_VALUES,
                base_url: str = "") -> Subset:
    sub = parse_bbox(bbox, cube.grid)
    rows, cols = cube.grid.slices_of(sub)
    start, end = cube.check_period(start, end)
    ts = cube.period_slice(start, end)
    names = cc.parse_sectors(sectors)
    subset = Subset(cube, rows, cols, sub, cube.times[ts], ts, names, cube.sector_indices(names), aggregate)
    size = (f"{sub.nlat} x {sub.nlon} cells x {len(subset.times)} days x {len(names)} sectors")
    limits = (f"this server's limits are {max_values:,} values written per download (cells x time steps x "
              f"sectors) and {max_read:,} values read (cells x days x sectors); memory stays bounded by one day "
              "of the grid either way")
    if subset.n_values > max_values:
        what = (f"{size} = {subset.n_values:,} values" if aggregate == "day" else
                f"{sub.nlat} x {sub.nlon} cells x {len(subset.steps)} {aggregate}s x {len(names)} sectors = "
                f"{subset.n_values:,} values")
        raise TooLarge(
            f"this download holds {what}, more than allowed: {limits}. Shrink the bbox, the period or the sectors, "
            f"or aggregate (aggregate=month for monthly means, aggregate=year for annual totals); "
            f"{alternatives(cube, base_url)}")
    if subset.n_read > max_read and subset.pyramid() is None:  # the pyramid reads one field per step
        raise TooLarge(
            f"this download reads {size} = {subset.n_read:,} values, more than allowed: {limits}. Shrink the "
            f"bbox, the period or the sectors (split it into several downloads); {alternatives(cube, base_url)}")
    return subset


def csv_rows(subset: Subset) -> Iterator[bytes]:
    """Tidy CSV, one row per (step, sector, cell) with emissions != 0; step by step.  Daily: the columns
    ``dataset,date,sector,lat,lon,emissions_kg,uncertainty_rel``; aggregated: ``date`` is the period's first
    day, plus ``period`` and ``days``, and ``emissions_kg_per_day`` (monthly mean) or ``emissions_kg``
    (annual total)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    value = "emissions_kg_per_day" if subset.aggregate == "month" else "emissions_kg"
    head = ["dataset", "date", "sector", "lat", "lon", value, "uncertainty_rel"]
    w.writerow(head if subset.aggregate == "day" else [*head[:2], "period", "days", *head[2:]])
    yield buf.getvalue().encode()
    lat, lon = subset.grid.lat, subset.grid.lon
    for step, em, un in subset.iter_steps():
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        lead = [subset.cube.id, step.start.isoformat()]
        if subset.aggregate != "day":
            lead += [step.label, str((step.stop - step.start).days)]
        for s, name in enumerate(subset.sectors):
            ii, jj = np.nonzero(em[s] != 0)
            for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
                w.writerow([*lead, name, f"{lat[i]:.6g}", f"{lon[j]:.6g}", repr(float(em[s, i, j])),
                            repr(float(un[s, i, j]))])
        yield buf.getvalue().encode()


def write_netcdf(subset: Subset, path: FsPath) -> None:
    """CF-1.10/ACDD-1.3 NetCDF4 written step by step (unlimited time), with bounds, cell area, crs, the
    evidence table (daily downloads) and the dataset's attributes (:mod:`carbonmap.cf_metadata`)."""
    import netCDF4

    steps = subset.steps
    meta = cf.skeleton(subset.grid, [(s.start, s.stop) for s in steps], release_id=subset.cube.release,
                       dataset_attrs=subset.cube.attrs, resolution=RESOLUTION[subset.aggregate])
    cube = subset.cube
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        attrs = dict(meta.attrs)
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        source = "" if subset.aggregate == "day" else (
            ", from the pyramid's precomputed means" if subset.pyramid() is not None else ", from the daily grids")
        attrs["history"] = (f"{attrs.get('history', '')}\n{stamp} subset by carbonmap /download "
                            f"(aggregate={subset.aggregate}{source})").strip()
        if subset.aggregate == "day" and cc.EVIDENCE_VAR in cube.ds:
            attrs["carbonmap_data_edge"] = cf._text(cube.attrs.get("carbonmap_data_edge") or {})
        nc.setncatts(attrs)
        nc.createDimension("time", None)
        nc.createDimension("sector", len(subset.sectors))
        nc.createDimension("lat", subset.grid.nlat)
        nc.createDimension("lon", subset.grid.nlon)
        nc.createDimension(cf.BOUNDS_DIM, 2)
        t = nc.createVariable("time", "i4", ("time",))
        t.setncatts({**cf.coordinate_attrs("time"), "units": "days since 1970-01-01",
                     "calendar": "proleptic_gregorian", "bounds": "time_bnds",
                     "long_name": "start of the UTC day" if subset.aggregate == "day" else "start of the period"})
        tb = nc.createVariable("time_bnds", "i4", ("time", cf.BOUNDS_DIM))
        for name in ("lat", "lon"):
            v = nc.createVariable(name, "f8", (name,))
            v.setncatts(cf.coordinate_attrs(name))
            v[:] = meta[name].values
        for name in ("lat_bnds", "lon_bnds", "cell_area", "crs"):
            var = meta[name]
            v = nc.createVariable(name, var.dtype.str[1:], [str(d) for d in var.dims], zlib=name == "cell_area",
                                  complevel=1)
            v.setncatts(var.attrs)
            v[...] = var.values
        sec = nc.createVariable("sector", str, ("sector",))
        sec.setncatts(cf.coordinate_attrs("sector"))
        for k, name in enumerate(subset.sectors):
            sec[k] = name
        chunks = (1, 1, min(subset.grid.nlat, 450), min(subset.grid.nlon, 450))
        em_attrs, un_attrs = cf.aggregate_attrs(subset.aggregate)
        out = {}
        for var_name, var_attrs in ((cc.EMISSIONS_VAR, em_attrs), (cc.UNCERTAINTY_VAR, un_attrs)):
            v = nc.createVariable(var_name, "f4", ("time", "sector", "lat", "lon"), zlib=True, complevel=1,
                                  chunksizes=chunks)
            v.setncatts({**var_attrs, **cf.gridded_variable_attrs(), "coordinates": "sector"})
            out[var_name] = v
        ev = ev_src = None
        if subset.aggregate == "day" and cc.EVIDENCE_VAR in cube.ds:  # what carries each national value
            countries = [str(c) for c in cube.ds["country"].values]
            nc.createDimension("country", len(countries))
            cv = nc.createVariable("country", str, ("country",))
            cv.setncatts(cf.coordinate_attrs("country"))
            for k, name in enumerate(countries):
                cv[k] = name
            ev = nc.createVariable(cc.EVIDENCE_VAR, "i1", ("time", "sector", "country"), zlib=True,
                                   fill_value=np.int8(cc.EVIDENCE_NO_DATA))
            ev.setncatts({**cf.evidence_attrs(), "coordinates": "sector country"})
            ev_src = np.nan_to_num(np.asarray(cube.ds[cc.EVIDENCE_VAR].isel(time=subset.time_slice,
                                                                            sector=subset.sector_idx).values,
                                              dtype=np.float64), nan=cc.EVIDENCE_NO_DATA).astype(np.int8)
        epoch = dt.date(1970, 1, 1)
        for k, (step, e, u) in enumerate(subset.iter_steps()):
            t[k] = (step.start - epoch).days
            tb[k, :] = [(step.start - epoch).days, (step.stop - epoch).days]
            out[cc.EMISSIONS_VAR][k] = e
            out[cc.UNCERTAINTY_VAR][k] = u
            if ev is not None and ev_src is not None:
                ev[k] = ev_src[k]


def write_geotiff(subset: Subset, path: FsPath) -> None:
    """A Cloud-Optimized GeoTIFF with one band per (step, sector), described per band: kg CO2 day-1 cell-1
    (daily values and monthly means) or kg CO2 cell-1 (annual totals)."""
    import rasterio
    from rasterio.shutil import copy as rio_copy
    from rasterio.transform import Affine

    n_bands = len(subset.steps) * len(subset.sectors)
    units = cf.aggregate_attrs(subset.aggregate)[0]["units"]
    profile = {"driver": "GTiff", "height": subset.grid.nlat, "width": subset.grid.nlon, "count": n_bands,
               "dtype": "float32", "crs": "EPSG:4326", "transform": Affine(*subset.grid.transform),
               "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate", "BIGTIFF": "IF_SAFER"}
    tmp = path.with_suffix(".plain.tif")
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.update_tags(units=f"{units} (CO2 per grid cell)", dataset=subset.cube.id, aggregate=subset.aggregate,
                            license=str(subset.cube.attrs.get("license", "")),
                            source=str(subset.cube.attrs.get("source", "")),
                            carbonmap_release=str(subset.cube.release or ""))
            band = 1
            for step, e, _ in subset.iter_steps():
                for s, name in enumerate(subset.sectors):
                    dst.write(e[s], band)
                    dst.set_band_description(band, f"{step.label} {name}")
                    dst.update_tags(band, date=step.start.isoformat(), period=step.label, sector=name, units=units)
                    band += 1
        rio_copy(tmp, path, driver="COG", compress="DEFLATE", blocksize=256, overview_resampling="average")
    finally:
        tmp.unlink(missing_ok=True)


def _stream_file(path: FsPath) -> Iterator[bytes]:
    try:
        with open(path, "rb") as f:
            while block := f.read(BLOCK):
                yield block
    finally:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()


DESCRIPTION = f"""
A subset of a dataset: `bbox=west,south,east,north` (degrees, snapped outward to the grid), `start`/`end`
(inclusive) and `sectors`, as `format=netcdf` (CF-1.10/ACDD-1.3 NetCDF4: `emissions`, `uncertainty` (relative
1-sigma), time bounds, `lat_bnds`/`lon_bnds`, `cell_area` (m2), a `crs` grid mapping, the evidence table
(daily), licence, provenance (`provenance_inputs`, `provenance_proxies`) and the release id (`version`)),
`format=geotiff` (a Cloud-Optimized GeoTIFF, one float32 band per step and sector, described like
`2024-03-01 power` or `2024-03 power`, EPSG:4326) or `format=csv` (one row per step, sector and non-zero cell).

`aggregate=day` (default): kg CO2 day-1 cell-1 per UTC day. `aggregate=month`: the monthly **mean** of the
daily values, kg CO2 day-1 cell-1. `aggregate=year`: the annual **total**, kg CO2 cell-1. Partial months/years
cover the selected days only (`time_bnds`). A global year of monthly means or annual totals is one request.

`release=r0002` (or `as_of=`) cuts a past release; the file name, the metadata (`version`) and the
`X-Carbonmap-Release` header name the release read.

Streamed with bounded memory (one day of the grid at a time). Limits: {DEFAULT_MAX_DOWNLOAD_VALUES:,} values
written (cells x steps x sectors) and {DEFAULT_MAX_READ_VALUES:,} values read (cells x days x sectors) by
default; a larger request is refused with 422 saying how to shrink it and where the release files
(`/datasets/{{id}}/releases/{{release}}/files`) and the Zarr store over HTTP (`/zarr/{{dataset}}`) are.
"""


@dataclass
class DownloadFactory:
    cube_dependency: Callable[..., Cube] = cube_from_dataset_path
    settings_dependency: Dependency[Settings] = get_settings
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["downloads"]))

    def __post_init__(self) -> None:
        @self.router.get(
            "/download/{dataset}", summary="Download a subset as NetCDF, Cloud-Optimized GeoTIFF or CSV",
            description=DESCRIPTION,
            responses={200: {"content": {MEDIA["netcdf"]: {}, "image/tiff": {}, "text/csv": {"example":
                             "dataset,date,sector,lat,lon,emissions_kg,uncertainty_rel\n"
                             "demo-2024,2024-03-01,power,52.55,13.35,81234.5,0.12\n"}}},
                       **problem_responses(
                           e404=("dataset-not-found", "unknown dataset 'demo-2023'; served datasets: demo-2024"),
                           e422=("query-too-large", ("this download holds 3600 x 7200 cells x 366 days x 7 sectors "
                                                    "= ... values, more than allowed: ...; for bulk data use the "
                                                    "release files at https://host/datasets/demo-2024/releases/"
                                                    "r0001/files ...")))})
        def download(
            request: Request,
            cube: Annotated[Cube, Depends(self.cube_dependency)],
            settings: Annotated[Settings, Depends(self.settings_dependency)],
            bbox: Annotated[str | None, Query(description="west,south,east,north in degrees; default the whole grid",
                                              openapi_examples={"germany": {"summary": "Germany",
                                                                            "value": "5,47,15,55"}})] = None,
            start: Annotated[dt.date | None, Query(description="first day, inclusive", openapi_examples={
                "mar": {"summary": "1 March 2024", "value": "2024-03-01"}})] = None,
            end: Annotated[dt.date | None, Query(description="last day, inclusive", openapi_examples={
                "mar": {"summary": "7 March 2024", "value": "2024-03-07"}})] = None,
            sectors: Annotated[str | None, Query(description="comma-separated sectors; default all 7",
                                                 openapi_examples={"power": {"summary": "power",
                                                                             "value": "power"}})] = None,
            format: Annotated[Literal["netcdf", "geotiff", "csv"], Query(description="file format", openapi_examples={
                "cog": {"summary": "Cloud-Optimized GeoTIFF", "value": "geotiff"}})] = "netcdf",
            aggregate: Annotated[Aggregate, Query(description="day: daily kg day-1; month: monthly mean kg day-1; "
                                                  "year: annual total kg", openapi_examples={
                "year": {"summary": "annual totals", "value": "year"}})] = "day",
        ) -> StreamingResponse:
            subset = make_subset(cube, bbox, start, end, sectors,
                                 settings.max_download_values,
                                 aggregate=aggregate,
                                 max_read=settings.max_download_read_values,
                                 base_url=str(request.base_url))
            tag = f"_{cube.release}" if cube.release else ""
            agg = "" if aggregate == "day" else f"_{aggregate}ly".replace("dayly", "daily")
            name = f"{cube.id}{tag}_{subset.times[0].date()}_{subset.times[-1].date()}{agg}.{EXT[format]}"
            headers = {"Content-Disposition": f'attachment; filename="{name}"', **release_headers(cube)}
            if format == "csv":
                return StreamingResponse(csv_rows(subset), media_type=MEDIA["csv"], headers=headers)
            folder = FsPath(tempfile.mkdtemp(prefix="carbonmap-dl-"))
            path = folder / name
            try:
                (write_netcdf if format == "netcdf" else write_geotiff)(subset, path)
            except BaseException:
                path.unlink(missing_ok=True)
                os.rmdir(folder) if folder.exists() and not any(folder.iterdir()) else None
                raise
            headers["Content-Length"] = str(path.stat().st_size)
            return StreamingResponse(_stream_file(path), media_type=MEDIA[format], headers=headers)
