"""``GET /download/{dataset}``: a subset of a cube as CF NetCDF, Cloud-Optimized GeoTIFF or tidy CSV.

The subset (bbox snapped outward to the grid, days, sectors) is checked against the server's limit
(``max_download_values``, default 50 million values) *before* anything is read, so a large request gets
a 422 that says how to shrink it, never a timeout.  Output is streamed: CSV row by row, day by day;
NetCDF and GeoTIFF are written day by day into a temporary file that is streamed and then deleted.
"""


import csv
import datetime as dt
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from api.deps import Dependency, cube_from_dataset_path, get_settings, release_headers
from api.problems import QueryTooLarge, problem_responses
from carbonmap import contract as cc
from carbonmap.registry import Cube
from carbonmap.settings import Settings

DEFAULT_MAX_DOWNLOAD_VALUES = 50_000_000
"""cells x days x sectors one download may hold when the lead has not added ``max_download_values``."""
FORMATS = ("netcdf", "geotiff", "csv")
MEDIA = {"netcdf": "application/x-netcdf", "geotiff": "image/tiff; application=geotiff; profile=cloud-optimized",
         "csv": "text/csv; charset=utf-8"}
EXT = {"netcdf": "nc", "geotiff": "tif", "csv": "csv"}
BLOCK = 1 << 20


@dataclass(frozen=True)
class Subset:
    """What to cut: rows/cols of the cube grid, the day indices and sector indices."""

    cube: Cube
    rows: slice
    cols: slice
    grid: cc.Grid
    times: pd.DatetimeIndex
    time_slice: slice
    sectors: tuple[str, ...]
    sector_idx: list[int]

    @property
    def n_values(self) -> int:
        return self.grid.nlat * self.grid.nlon * len(self.times) * len(self.sectors)

    def day(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(emissions, uncertainty) of the k-th day of the subset, dims (sector, lat, lon)."""
        t = self.time_slice.start + k
        ds = self.cube.ds
        em = ds[cc.EMISSIONS_VAR].isel(time=t, sector=self.sector_idx, lat=self.rows, lon=self.cols).values
        un = ds[cc.UNCERTAINTY_VAR].isel(time=t, sector=self.sector_idx, lat=self.rows, lon=self.cols).values
        return np.asarray(em, dtype=np.float32), np.asarray(un, dtype=np.float32)


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


def make_subset(cube: Cube, bbox: str | None, start: dt.date | None, end: dt.date | None, sectors: str | None,
                max_values: int) -> Subset:
    sub = parse_bbox(bbox, cube.grid)
    rows, cols = cube.grid.slices_of(sub)
    start, end = cube.check_period(start, end)
    ts = cube.period_slice(start, end)
    names = cc.parse_sectors(sectors)
    subset = Subset(cube, rows, cols, sub, cube.times[ts], ts, names, cube.sector_indices(names))
    if subset.n_values > max_values:
        raise QueryTooLarge(
            f"this download holds {sub.nlat} x {sub.nlon} cells x {len(subset.times)} days x {len(names)} sectors = "
            f"{subset.n_values:,} values, more than this server's limit of {max_values:,}; shrink the bbox, the "
            "period or the sectors, or read the store directly with xarray.open_zarr('<server>/zarr/<dataset>')")
    return subset


def csv_rows(subset: Subset) -> Iterator[bytes]:
    """Tidy CSV, one row per (day, sector, cell) with emissions > 0 or any uncertainty; day by day."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["dataset", "date", "sector", "lat", "lon", "emissions_kg", "uncertainty_rel"])
    yield buf.getvalue().encode()
    lat, lon = subset.grid.lat, subset.grid.lon
    for k, day in enumerate(subset.times):
        em, un = subset.day(k)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        d = day.date().isoformat()
        for s, name in enumerate(subset.sectors):
            ii, jj = np.nonzero(em[s] != 0)
            for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
                w.writerow([subset.cube.id, d, name, f"{lat[i]:.6g}", f"{lon[j]:.6g}", repr(float(em[s, i, j])),
                            repr(float(un[s, i, j]))])
        yield buf.getvalue().encode()


def write_netcdf(subset: Subset, path: FsPath) -> None:
    """CF-1.10 NetCDF4 written day by day (unlimited time) with the cube's attributes and coordinates."""
    import netCDF4

    cube = subset.cube
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        attrs = {k: v for k, v in cube.attrs.items() if isinstance(v, (str, int, float)) and not k.startswith("_")}
        attrs.update({"Conventions": "CF-1.10, ACDD-1.3",
                      "history": f"{attrs.get('history', '')}\n{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')} "
                                 f"subset by carbonmap /download".strip(),
                      "geospatial_lat_min": subset.grid.south, "geospatial_lat_max": subset.grid.north,
                      "geospatial_lon_min": subset.grid.west, "geospatial_lon_max": subset.grid.east,
                      "time_coverage_start": str(subset.times[0].date()),
                      "time_coverage_end": str(subset.times[-1].date())})
        nc.setncatts(attrs)
        nc.createDimension("time", None)
        nc.createDimension("sector", len(subset.sectors))
        nc.createDimension("lat", subset.grid.nlat)
        nc.createDimension("lon", subset.grid.nlon)
        nc.createDimension("nv", 2)
        ca = cc.coord_attrs()
        t = nc.createVariable("time", "i4", ("time",))
        t.setncatts({**ca["time"], "units": "days since 1970-01-01", "calendar": "proleptic_gregorian",
                     "bounds": "time_bnds"})
        tb = nc.createVariable("time_bnds", "i4", ("time", "nv"))
        for name, values in (("lat", subset.grid.lat), ("lon", subset.grid.lon)):
            v = nc.createVariable(name, "f8", (name,))
            v.setncatts(ca[name])
            v[:] = values
        sec = nc.createVariable("sector", str, ("sector",))
        sec.setncatts({"long_name": "emission sector"})
        for k, name in enumerate(subset.sectors):
            sec[k] = name
        em = nc.createVariable(cc.EMISSIONS_VAR, "f4", ("time", "sector", "lat", "lon"), zlib=True, complevel=4,
                               chunksizes=(1, 1, min(subset.grid.nlat, 450), min(subset.grid.nlon, 450)))
        em.setncatts({**cc.emissions_attrs(), "coordinates": "sector"})
        un = nc.createVariable(cc.UNCERTAINTY_VAR, "f4", ("time", "sector", "lat", "lon"), zlib=True, complevel=4,
                               chunksizes=(1, 1, min(subset.grid.nlat, 450), min(subset.grid.nlon, 450)))
        un.setncatts({**cc.uncertainty_attrs(), "coordinates": "sector"})
        ev = None
        if cc.EVIDENCE_VAR in cube.ds:  # what carries each national value, and where measured data end
            countries = [str(c) for c in cube.ds["country"].values]
            nc.createDimension("country", len(countries))
            cv = nc.createVariable("country", str, ("country",))
            cv.setncatts(ca["country"])
            for k, name in enumerate(countries):
                cv[k] = name
            ev = nc.createVariable(cc.EVIDENCE_VAR, "i1", ("time", "sector", "country"), zlib=True,
                                   fill_value=cc.EVIDENCE_NO_DATA)
            ev.setncatts({**cc.evidence_attrs(), "coordinates": "sector country"})
            nc.setncattr("carbonmap_data_edge", json.dumps(cube.attrs.get("carbonmap_data_edge") or {}))
        epoch = dt.date(1970, 1, 1)
        for k, day in enumerate(subset.times):
            e, u = subset.day(k)
            d = (day.date() - epoch).days  # days since 1970-01-01
            t[k] = d
            tb[k, :] = [d, d + 1]
            em[k] = e
            un[k] = u
            if ev is not None:
                ev[k] = np.asarray(cube.ds[cc.EVIDENCE_VAR].isel(time=subset.time_slice.start + k,
                                                                 sector=subset.sector_idx).values, dtype=np.int8)


def write_geotiff(subset: Subset, path: FsPath) -> None:
    """A Cloud-Optimized GeoTIFF with one band per (day, sector), kg CO2 day-1 cell-1, described per band."""
    import rasterio
    from rasterio.shutil import copy as rio_copy
    from rasterio.transform import Affine

    n_bands = len(subset.times) * len(subset.sectors)
    profile = {"driver": "GTiff", "height": subset.grid.nlat, "width": subset.grid.nlon, "count": n_bands,
               "dtype": "float32", "crs": "EPSG:4326", "transform": Affine(*subset.grid.transform),
               "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate", "BIGTIFF": "IF_SAFER"}
    tmp = path.with_suffix(".plain.tif")
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.update_tags(units="kg CO2 day-1 cell-1", dataset=subset.cube.id,
                            license=str(subset.cube.attrs.get("license", "")),
                            source=str(subset.cube.attrs.get("source", "")),
                            carbonmap_release=str(subset.cube.release or ""))
            band = 1
            for k, day in enumerate(subset.times):
                e, _ = subset.day(k)
                for s, name in enumerate(subset.sectors):
                    dst.write(e[s], band)
                    dst.set_band_description(band, f"{day.date().isoformat()} {name}")
                    dst.update_tags(band, date=day.date().isoformat(), sector=name, units="kg day-1")
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
        try:
            path.parent.rmdir()
        except OSError:
            pass


DESCRIPTION = """
A subset of a dataset: `bbox=west,south,east,north` (degrees, snapped outward to the grid), `start`/`end`
(inclusive) and `sectors`, as

- `format=netcdf`: CF-1.10 NetCDF4 with `emissions` (kg CO2 day-1 cell-1) and `uncertainty` (relative 1-sigma),
  time bounds, the dataset's ACDD attributes, licence and provenance;
- `format=geotiff`: a Cloud-Optimized GeoTIFF, one float32 band per day and sector (band descriptions like
  `2024-03-01 power`), kg CO2 day-1 cell-1, EPSG:4326;
- `format=csv`: tidy CSV, one row per day, sector and non-zero cell.

`release=r0002` (or `as_of=`) cuts a past release of the dataset; the file name, the NetCDF/GeoTIFF
metadata (`carbonmap_release`) and the `X-Carbonmap-Release` header name the release read.

Streamed. A subset larger than the server's limit (cells x days x sectors) is refused with 422 saying how to
shrink it; for whole cubes read the Zarr store over HTTP (`/zarr/{dataset}`).
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
                           e422=("query-too-large", ("this download holds 1800 x 3600 cells x 366 days x 7 sectors = "
                                                    "... values, more than this server's limit; shrink the bbox")))})
        def download(
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
        ) -> StreamingResponse:
            limit = int(getattr(settings, "max_download_values", DEFAULT_MAX_DOWNLOAD_VALUES))
            subset = make_subset(cube, bbox, start, end, sectors, limit)
            tag = f"_{cube.release}" if cube.release else ""
            name = f"{cube.id}{tag}_{subset.times[0].date()}_{subset.times[-1].date()}.{EXT[format]}"
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
