"""VIIRS night lights as GeoTIFF (NASA Black Marble VNP46A2 tiles, EOG annual VNL composites) -> radiance grids.

Layouts read (single-band GeoTIFF, EPSG:4326, north-up, 15 arc-second pixels = 1/240 degree):

- **Black Marble VNP46A2** (daily, a GeoTIFF export of the HDF-EOS5 band
  ``Gap_Filled_DNB_BRDF-Corrected_NTL`` of one 10 x 10 degree tile ``hXXvYY``, 2400 x 2400 pixels,
  upper-left corner at lon -180 + 10 h, lat 90 - 10 v): **uint16**, ``nodata = 65535`` (fill),
  **scale factor 0.1**, offset 0, units nW cm-2 sr-1.  The scale is taken from the band's GDAL scale
  (``src.scales``), else from a ``scale_factor`` tag, else the product's documented 0.1.
- **EOG annual VNL v2 composites** (``VNL_v2*_npp_<year>_global_vcmslcfg_*.average_masked.dat.tif``):
  **float32** radiance in nW cm-2 sr-1, scale 1, extent lon -180..180, lat -65..75; a declared
  nodata value (if any) and negative values are treated as missing.

:func:`read_night_lights` validates the CRS (EPSG:4326 only), the geotransform (north-up, no
rotation, 1/240 degree pixels), dtype/nodata/scale, and returns ``radiance(lat, lon)`` float32 in
nW cm-2 sr-1 with NaN for fill.  :func:`to_grid` averages it onto a carbonmap
:class:`~carbonmap.contract.Grid` (mean radiance of the valid pixels whose centres fall in a cell).

**Raw VNP46A2 tiles** as LAADS delivers them (``VNP46A2.AYYYYDDD.hXXvYY.001.<production>.h5``, HDF-EOS5;
layout in ``tests/ingest/fixture_gen/viirs.py``) are read by :func:`read_vnp46a2_h5`: the layer
``HDFEOS/GRIDS/VNP_Grid_DNB/Data Fields/DNB_BRDF-Corrected_NTL`` (uint16, ``_FillValue`` 65535 ->
missing, ``value * scale_factor + add_offset``, units nW/(cm2 sr)) **masked by
Mandatory_Quality_Flag**: 0 (high-quality persistent) and 1 (high-quality ephemeral) are kept, 2
(poor quality, cloud contamination) and 255 (no retrieval) dropped, as the Black Marble User Guide
defines them.  The tile must be 2400 x 2400 pixels of 15 arc-seconds; its bounds come from the root
attributes ``West/East/North/SouthBoundingCoord`` (else the grid group's, else StructMetadata.0's
corners) and must match the ``hXXvYY`` of the name.  :func:`to_grid` averages onto a carbonmap grid
with exact area weights (:func:`ingest.hdfeos.area_mean`); the h5 path adds a ``time`` dim (the
day of the tile) and ``radiance_valid_fraction``.

Many tiles and days **stream through Dask**: ``VIIRSAdapter.read`` checks every tile's header
(:func:`scan_vnp46a2_h5`, no pixels) and returns a dask-backed ``radiance(time, lat, lon)`` built from
one task per tile (:func:`tile_sums`: read, mask, area sums on the target cells the tile overlaps) and
one task per day (:func:`mosaic_day`): tiles of one day **mosaic** by adding their sums, so a cell
straddling two tiles is the area-weighted mean of the valid pixels of both.  ``VIIRSAdapter.write``
streams the days to Zarr chunk by chunk; a tile that fails raises IngestError naming it and nothing
is written.

No VIIRS GeoTIFF ships in ``data/`` (only the NASA city-lights *picture*, read by
:mod:`ingest.night_lights` as a labelled proxy); ``tests/ingest/fixture_gen/viirs.py::make_vnp46a2_fixture`` writes a tile in the
exact VNP46A2 layout with SYNTHETIC radiances (tag ``carbonmap_synthetic=true``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from carbonmap.contract import ContractError, Grid
from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.hdfeos import (
    TIME_CHUNK_DAYS,
    area_mean,
    area_sums,
    attr,
    is_hdfeos,
    mean_fraction,
    open_hdf5,
    read_array,
    read_struct_metadata,
    require,
    stack_days,
    time_chunk,
)

PIXEL_DEG = 1.0 / 240.0
"""15 arc-seconds, the VIIRS DNB L3 grid spacing."""
VNP46A2_BAND = "Gap_Filled_DNB_BRDF-Corrected_NTL"
VNP46A2_FILL = 65535
VNP46A2_SCALE = 0.1
RADIANCE_UNITS = "nW cm-2 sr-1"
MAX_RADIANCE = 1.0e5
"""nW cm-2 sr-1; larger values mean an unscaled or wrong band (gas flares peak near 1e4)."""
H5_GRID = "HDFEOS/GRIDS/VNP_Grid_DNB"
H5_BAND = "DNB_BRDF-Corrected_NTL"
H5_QF = "Mandatory_Quality_Flag"
QF_KEEP = (0, 1)
"""Mandatory_Quality_Flag values kept: 0 high-quality persistent, 1 high-quality ephemeral lights."""
TILE_PIXELS = 2400
H5_UNITS = ("nW/(cm2 sr)", "nW/(cm2.sr)", "nW/cm2/sr", "nW cm-2 sr-1", "nW_per_cm2_per_sr", "nWatts/(cm^2 sr)")
LAADS_URL = ("https://ladsweb.modaps.eosdis.nasa.gov/archive/allData/5000/VNP46A2/{year}/{doy:03d}/"
             "VNP46A2.A{year}{doy:03d}.h{h:02d}v{v:02d}.001.<production time>.h5")

INFO = SourceInfo(
    name="viirs",
    title="VIIRS DNB night lights (NASA Black Marble VNP46A2 .h5 tiles or GeoTIFF exports / EOG annual VNL v2)",
    kind="satellite",
    licence="NASA Black Marble: public (LAADS DAAC); EOG VNL: CC-BY-4.0 (Elvidge et al. 2021)",
    url="https://blackmarble.gsfc.nasa.gov/",
    shipped=(),
    real=False,
    note="nothing ships; readers (raw VNP46A2 .h5 tiles and GeoTIFF exports) tested on format-exact SYNTHETIC "
         "tiles (tests/ingest/fixture_gen/viirs.py: make_vnp46a2_h5, make_vnp46a2_fixture)",
)

_TILE_RE = re.compile(r"\.h(\d{2})v(\d{2})\.")
_DAY_RE = re.compile(r"VNP46A2\.A(\d{4})(\d{3})\.")


def tile_origin(h: int, v: int) -> tuple[float, float]:
    """(west, north) of Black Marble tile hXXvYY, degrees."""
    if not (0 <= h < 36 and 0 <= v < 18):
        raise IngestError(f"Black Marble tile h{h:02d}v{v:02d} does not exist (h 0..35, v 0..17)")
    return -180.0 + 10.0 * h, 90.0 - 10.0 * v


def _scale_of(src, tags: dict[str, str]) -> float:
    s = float(src.scales[0]) if src.scales else 1.0
    if s != 1.0:
        return s
    for k, v in tags.items():
        if k.lower().endswith("scale_factor"):
            try:
                return float(v)
            except ValueError:
                raise IngestError(f"scale_factor tag {v!r} is not a number") from None
    return VNP46A2_SCALE if src.dtypes[0] == "uint16" else 1.0


def read_night_lights(path: Path) -> xr.DataArray:
    """``radiance(lat, lon)`` float32, nW cm-2 sr-1, NaN = fill; lat descending (north-up)."""
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"night-lights file not found: {path}")
    try:
        src = rasterio.open(path)
    except RasterioIOError as e:
        raise IngestError(f"{path.name} is not a readable GeoTIFF: {e}") from e
    with src:
        if src.count != 1:
            raise IngestError(f"{path.name}: expected one band (radiance), found {src.count}")
        if src.crs is None or src.crs.to_epsg() != 4326:
            raise IngestError(f"{path.name}: CRS is {src.crs.to_string() if src.crs else None!r}; VIIRS DNB grids are "
                              f"EPSG:4326 (reproject first)")
        t = src.transform
        if t.b != 0 or t.d != 0 or t.e >= 0:
            raise IngestError(f"{path.name}: the geotransform must be north-up without rotation")
        if not (np.isclose(t.a, PIXEL_DEG, rtol=1e-6) and np.isclose(-t.e, PIXEL_DEG, rtol=1e-6)):
            raise IngestError(f"{path.name}: pixels are {t.a:.6g} x {-t.e:.6g} degrees; VIIRS DNB L3 pixels are 15 "
                              f"arc-seconds ({PIXEL_DEG:.9f} degrees)")
        dtype = src.dtypes[0]
        if dtype not in ("uint16", "float32", "float64"):
            raise IngestError(f"{path.name}: dtype {dtype}; VNP46A2 is uint16, VNL composites float32")
        tags = {**src.tags(), **src.tags(1)}
        scale = _scale_of(src, tags)
        offset = float(src.offsets[0]) if src.offsets else 0.0
        nodata = src.nodata
        if dtype == "uint16" and nodata is None:
            nodata = VNP46A2_FILL
        raw = src.read(1)
        desc = (src.descriptions[0] if src.descriptions else None) or tags.get("long_name", "")
        west, north = t.c, t.f
        h, w = src.height, src.width
        synthetic = tags.get("carbonmap_synthetic", "false") == "true"
    fill = np.zeros(raw.shape, dtype=bool) if nodata is None else (raw == nodata)
    if np.issubdtype(raw.dtype, np.floating):
        fill |= ~np.isfinite(raw)
    rad = raw.astype(np.float32) * np.float32(scale) + np.float32(offset)
    rad[fill] = np.nan
    if dtype != "uint16":
        rad[rad < 0] = np.nan
    valid = rad[np.isfinite(rad)]
    if valid.size and valid.max() > MAX_RADIANCE:
        raise IngestError(f"{path.name}: radiance up to {valid.max():.3g} {RADIANCE_UNITS}; wrong scale factor "
                          f"({scale}) or not a radiance band")
    lat = north - (np.arange(h) + 0.5) * PIXEL_DEG
    lon = west + (np.arange(w) + 0.5) * PIXEL_DEG
    if lat.min() < -90 or lat.max() > 90 or lon.min() < -180 or lon.max() > 180:
        raise IngestError(f"{path.name}: extent falls outside lon -180..180 / lat -90..90")
    return xr.DataArray(
        rad, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="radiance",
        attrs={"units": RADIANCE_UNITS, "long_name": "VIIRS DNB night-time radiance", "source_band": desc,
               "scale_factor_applied": scale, "nodata": -1 if nodata is None else nodata,
               "source_file": path.name, "synthetic": str(synthetic).lower()})


def _tile_bounds(h5, path: Path) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a VNP46A2 tile: root attributes, else grid group, else StructMetadata."""
    keys = ("WestBoundingCoord", "SouthBoundingCoord", "EastBoundingCoord", "NorthBoundingCoord")
    for obj in (h5, h5[H5_GRID]):
        vals = [attr(obj, k) for k in keys]
        if all(v is not None for v in vals):
            try:
                west, south, east, north = (float(v) for v in vals)
                return west, south, east, north
            except (TypeError, ValueError):
                raise IngestError(f"{path.name}: unreadable tile bounds {vals}") from None
    sm = read_struct_metadata(h5, path.name).get("VNP_Grid_DNB")
    if sm is None:
        raise IngestError(f"{path.name}: no tile bounds (no WestBoundingCoord.. attributes, no VNP_Grid_DNB in "
                          f"StructMetadata.0)")
    return sm.bounds_deg()


def _tile_day(h5, path: Path) -> pd.Timestamp:
    m = _DAY_RE.search(path.name)
    if m:
        return pd.Timestamp(int(m.group(1)), 1, 1) + pd.Timedelta(days=int(m.group(2)) - 1)
    d = attr(h5, "RangeBeginningDate")
    if d:
        try:
            return pd.Timestamp(str(d)[:10])
        except ValueError:
            pass
    raise IngestError(f"{path.name}: no date (no AYYYYDDD in the name, no RangeBeginningDate attribute)")


@dataclass(frozen=True)
class TileHeader:
    """What the header of one VNP46A2 tile says (checked; no pixels read)."""

    path: Path
    day: pd.Timestamp
    bounds: tuple[float, float, float, float]
    """(west, south, east, north), degrees."""
    band: str
    fill: int
    scale: float
    offset: float
    synthetic: bool


def _h5_header(h5: Any, path: Path, band: str) -> tuple[TileHeader, Any, Any]:
    """Layout, dtype, units, bounds and date checks of an open tile -> (header, band dataset, flag dataset)."""
    require(h5, H5_GRID, path.name, "VNP46A2")
    fields = require(h5, f"{H5_GRID}/Data Fields", path.name, "VNP46A2")
    for name in (band, H5_QF):
        if name not in fields:
            raise IngestError(f"{path.name}: no {name} in {H5_GRID}/Data Fields (found {sorted(fields)})")
    ds, qf = fields[band], fields[H5_QF]
    if ds.shape != (TILE_PIXELS, TILE_PIXELS) or qf.shape != ds.shape:
        raise IngestError(f"{path.name}: {band} is {ds.shape}, {H5_QF} {qf.shape}; a VNP46A2 tile is "
                          f"{TILE_PIXELS} x {TILE_PIXELS} pixels of 15 arc-seconds")
    if ds.dtype != np.uint16:
        raise IngestError(f"{path.name}: {band} is {ds.dtype}; collection-001 VNP46A2 radiances are uint16")
    units = str(attr(ds, "units", attr(ds, "Units", ""))).strip()
    if units not in H5_UNITS:
        raise IngestError(f"{path.name}: {band} has units {units!r}; expected nW/(cm2 sr)")
    west, south, east, north = _tile_bounds(h5, path)
    if not (np.isclose((east - west) / TILE_PIXELS, PIXEL_DEG) and np.isclose((north - south) / TILE_PIXELS,
                                                                                PIXEL_DEG)):
        raise IngestError(f"{path.name}: tile bounds {(west, south, east, north)} are not 10 x 10 degrees")
    m = _TILE_RE.search(path.name)
    if m:
        w0, n0 = tile_origin(int(m.group(1)), int(m.group(2)))
        if not (np.isclose(w0, west) and np.isclose(n0, north)):
            raise IngestError(f"{path.name}: the name says tile h{m.group(1)}v{m.group(2)} (west {w0}, north {n0}) "
                              f"but the bounds attributes say west {west}, north {north}")
    try:
        fill = int(attr(ds, "_FillValue", ds.fillvalue))
        scale = float(attr(ds, "scale_factor", VNP46A2_SCALE))
        offset = float(attr(ds, "add_offset", 0.0))
    except (TypeError, ValueError) as exc:
        raise IngestError(f"{path.name}: unreadable _FillValue/scale_factor/add_offset of {band}: {exc}") from exc
    head = TileHeader(path=path, day=_tile_day(h5, path), bounds=(west, south, east, north), band=band, fill=fill,
                      scale=scale, offset=offset, synthetic=str(attr(h5, "carbonmap_synthetic", "false")) == "true")
    return head, ds, qf


def scan_vnp46a2_h5(path: Path, band: str = H5_BAND) -> TileHeader:
    """Check the header of one raw VNP46A2 tile (layout, dtype, units, bounds, date) without reading pixels."""
    path = Path(path)
    with open_hdf5(path, "VNP46A2") as h5:
        return _h5_header(h5, path, band)[0]


def read_vnp46a2_h5(path: Path, band: str = H5_BAND) -> xr.DataArray:
    """One raw VNP46A2 tile -> ``radiance(time=1, lat=2400, lon=2400)`` float32 nW cm-2 sr-1, north-up,
    NaN where fill or Mandatory_Quality_Flag is not 0/1."""
    path = Path(path)
    with open_hdf5(path, "VNP46A2") as h5:
        head, ds, qf = _h5_header(h5, path, band)
        raw = read_array(ds, path.name)
        flag = read_array(qf, path.name)
    west, south, east, north = head.bounds
    keep = np.isin(flag, QF_KEEP) & (raw != np.uint16(head.fill))
    rad = np.where(keep, raw.astype(np.float32) * np.float32(head.scale) + np.float32(head.offset),
                   np.float32(np.nan))
    valid = rad[keep]
    if valid.size and float(valid.max()) > MAX_RADIANCE:
        raise IngestError(f"{path.name}: radiance up to {valid.max():.3g} {RADIANCE_UNITS}; wrong scale_factor "
                          f"({head.scale})")
    lat = north - (np.arange(TILE_PIXELS) + 0.5) * PIXEL_DEG
    lon = west + (np.arange(TILE_PIXELS) + 0.5) * PIXEL_DEG
    return xr.DataArray(
        rad[None], dims=("time", "lat", "lon"), coords={"time": [head.day.to_datetime64()], "lat": lat, "lon": lon},
        name="radiance",
        attrs={"units": RADIANCE_UNITS, "long_name": "VIIRS DNB night-time radiance (BRDF-corrected, MQF 0/1)",
               "source_band": band, "quality_kept": "Mandatory_Quality_Flag in (0, 1)",
               "scale_factor_applied": head.scale, "nodata": head.fill, "source_file": path.name,
               "synthetic": str(head.synthetic).lower(), "tile_bounds": [west, south, east, north]})


def tile_sums(path: Path, band: str, sub: Grid) -> np.ndarray:
    """The Dask task of one tile: :func:`ingest.hdfeos.area_sums` of its valid pixels on ``sub`` (the cells of
    the target grid that the tile overlaps), float64 ``(2, nlat, nlon)`` = [radiance x area, valid area] (sr).

    Any failure (a corrupt chunk, a wrong scale) is an :class:`IngestError` naming the file.
    """
    path = Path(path)
    try:
        rad = read_vnp46a2_h5(path, band)
        lat_edges, lon_edges = _pixel_edges(rad)
        v = rad.values[0]
        num, den = area_sums(v, np.isfinite(v), lat_edges, lon_edges, sub)
    except IngestError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise IngestError(f"{path.name}: cannot be read as a VNP46A2 tile: {exc}") from exc
    return np.stack([num, den])


def mosaic_day(parts: Sequence[np.ndarray], subs: Sequence[Grid], grid: Grid) -> np.ndarray:
    """The Dask task of one day: the tiles' :func:`tile_sums` added on ``grid`` -> float32
    ``(2, 1, nlat, nlon)`` = [radiance (nW cm-2 sr-1), valid fraction (1)].

    A cell covered by several tiles gets ``sum(radiance x area) / sum(valid area)`` over all of them:
    the area-weighted mean of every valid pixel in the cell, whichever tile it comes from.
    """
    num = np.zeros(grid.shape)
    den = np.zeros(grid.shape)
    for part, sub in zip(parts, subs, strict=True):
        rows, cols = grid.slices_of(sub)
        num[rows, cols] += part[0]
        den[rows, cols] += part[1]
    mean, frac = mean_fraction(num, den, grid)
    return np.stack([mean, frac]).astype(np.float32)[:, None]


def _pixel_edges(radiance: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    lat = radiance["lat"].values.astype(np.float64)
    lon = radiance["lon"].values.astype(np.float64)
    # the step from the ends, not from neighbours (lat[1] - lat[0] loses 12 digits to cancellation)
    dlat = (lat[-1] - lat[0]) / (lat.size - 1) if lat.size > 1 else -PIXEL_DEG
    dlon = (lon[-1] - lon[0]) / (lon.size - 1) if lon.size > 1 else PIXEL_DEG
    lat_edges = lat[0] - dlat / 2 + np.arange(lat.size + 1) * dlat
    lon_edges = lon[0] - dlon / 2 + np.arange(lon.size + 1) * dlon
    return lat_edges, lon_edges


def to_grid(radiance: xr.DataArray, grid: Grid, *, with_fraction: bool = False) -> xr.DataArray | xr.Dataset:
    """Area-weighted mean radiance of the valid pixels per cell of ``grid`` (NaN where none), float32.

    ``radiance`` has dims (lat, lon) or (time, lat, lon); the result keeps them.  With ``with_fraction``
    a Dataset with ``radiance`` and ``radiance_valid_fraction`` (valid area / cell area) is returned.
    """
    lat_edges, lon_edges = _pixel_edges(radiance)
    stack = radiance.values if "time" in radiance.dims else radiance.values[None]
    means, fracs = [], []
    for v in stack:
        m, f = area_mean(v, np.isfinite(v), lat_edges, lon_edges, grid)
        means.append(m.astype(np.float32))
        fracs.append(f.astype(np.float32))
    coords: dict = {"lat": grid.lat, "lon": grid.lon}
    dims: tuple[str, ...] = ("lat", "lon")
    mean, frac = np.stack(means), np.stack(fracs)
    if "time" in radiance.dims:
        coords["time"] = radiance["time"].values
        dims = ("time", "lat", "lon")
    else:
        mean, frac = mean[0], frac[0]
    attrs = {k: v for k, v in radiance.attrs.items() if k != "tile_bounds"}
    out = xr.DataArray(mean, dims=dims, coords=coords, name="radiance",
                       attrs={**attrs, "cell_methods": "area: mean (area-weighted, valid pixels)",
                              **grid.to_attrs()})
    if not with_fraction:
        return out
    return xr.Dataset({"radiance": out, "radiance_valid_fraction": xr.DataArray(
        frac, dims=dims, coords=coords, attrs={"units": "1", "long_name": "valid pixel area / cell area"})})


class VIIRSAdapter(BaseAdapter[xr.Dataset]):
    """VIIRS GeoTIFF tile(s) -> mean radiance on a 0.1 degree grid over their extent (Zarr)."""

    info = INFO
    resolution = 0.1

    bounding_box: tuple[float, float, float, float] | None = None
    """(west, south, east, north) of the tiles to download; None = every tile (about 300 per day)."""
    grid: Grid | None = None
    """Target grid of raw .h5 tiles; None = the :attr:`resolution` grid over the union of the tiles."""
    time_chunk_days: int = TIME_CHUNK_DAYS
    """Most days per dask/Zarr time chunk of raw tiles (fewer on big grids, see :func:`ingest.hdfeos.time_chunk`)."""

    def download(self, start: date, end: date) -> list[Path]:
        """VNP46A2 tiles (HDF5 ``.h5``, named like LAADS_URL) found in NASA CMR, fetched from LAADS DAAC with
        ``Settings.earthdata_token``, checksum-checked, cached; :meth:`read` takes them as they are."""
        from ingest.earthdata import VNP46A2, download_collection

        return download_collection(VNP46A2, start, end, source=self.info.name,
                                   settings=self.settings, bounding_box=self.bounding_box)

    def read(self, paths: Sequence[Path]) -> xr.Dataset:
        if not paths:
            raise IngestError("no VIIRS GeoTIFF files given")
        h5s = [Path(p) for p in paths if is_hdfeos(Path(p))]
        if h5s:
            if len(h5s) != len(paths):
                raise IngestError("give either raw VNP46A2 .h5 tiles or GeoTIFFs, not both")
            return self._read_h5(h5s)
        grids = []
        for p in paths:
            rad = read_night_lights(p)
            r = self.resolution
            w, e = float(rad.lon.min()) - PIXEL_DEG / 2, float(rad.lon.max()) + PIXEL_DEG / 2
            s, n = float(rad.lat.min()) - PIXEL_DEG / 2, float(rad.lat.max()) + PIXEL_DEG / 2
            grids.append(to_grid(rad, Grid(r).subset(w, s, e, n)))
        ds = xr.combine_by_coords([g.to_dataset() for g in grids], combine_attrs="drop_conflicts")
        assert isinstance(ds, xr.Dataset)
        ds = ds.sortby("lat", ascending=False)
        ds.attrs["synthetic"] = str(any(g.attrs.get("synthetic") == "true" for g in grids)).lower()
        return ds

    def _read_h5(self, paths: Sequence[Path]) -> xr.Dataset:
        """Raw tiles of one or many days -> a dask-backed ``radiance(time, lat, lon)`` (+ valid fraction).

        Every header is checked here; pixels are read by one Dask task per tile (:func:`tile_sums`, on
        the target cells it overlaps) and mosaicked by one task per day (:func:`mosaic_day`) when the
        data are computed, i.e. by :meth:`write` chunk by chunk, so many tiles and days never sit in
        memory together.  The target grid is :attr:`grid`, else the :attr:`resolution` grid over all tiles.
        """
        import dask
        from dask.base import tokenize

        heads = [scan_vnp46a2_h5(p) for p in paths]
        seen: dict[tuple[pd.Timestamp, tuple[float, ...]], Path] = {}
        for h in heads:
            key = (h.day, tuple(round(b, 6) for b in h.bounds))
            if key in seen:
                raise IngestError(f"VIIRS: the same tile and day given twice: {seen[key].name} and {h.path.name}")
            seen[key] = h.path
        grid = self.grid or Grid(self.resolution).subset(
            min(h.bounds[0] for h in heads), min(h.bounds[1] for h in heads),
            max(h.bounds[2] for h in heads), max(h.bounds[3] for h in heads))
        subs: dict[Path, Grid] = {}
        for h in heads:
            try:
                subs[h.path] = grid.subset(*h.bounds)
            except ContractError:
                raise IngestError(f"{h.path.name}: tile {h.bounds} lies outside the target grid {grid.bounds}") from None
        days = sorted({h.day for h in heads})
        token = tokenize([str(h.path) for h in heads], grid)
        day_tasks = []
        for d in days:
            tiles = [h for h in heads if h.day == d]
            parts = [dask.delayed(tile_sums, pure=True)(h.path, h.band, subs[h.path],
                                                        dask_key_name=f"vnp46a2-tile-{h.path.name}-{token}")
                     for h in tiles]
            day_tasks.append(dask.delayed(mosaic_day, pure=True)(parts, [subs[h.path] for h in tiles], grid,
                                                                 dask_key_name=f"vnp46a2-day-{d:%Y%j}-{token}"))
        rad, frac = stack_days(day_tasks, 2, grid, time_chunk(grid, self.time_chunk_days))
        synthetic = str(any(h.synthetic for h in heads)).lower()
        attrs: dict[str, Any] = {
            "units": RADIANCE_UNITS, "long_name": "VIIRS DNB night-time radiance (BRDF-corrected, MQF 0/1)",
            "source_band": ",".join(sorted({h.band for h in heads})), "quality_kept": "Mandatory_Quality_Flag in (0, 1)",
            "synthetic": synthetic, "cell_methods": "area: mean (area-weighted, valid pixels of all tiles)",
            **grid.to_attrs()}
        if len(heads) == 1:
            attrs["source_file"] = heads[0].path.name
        coords = {"time": np.array([d.to_datetime64() for d in days], dtype="datetime64[ns]"),
                  "lat": grid.lat, "lon": grid.lon}
        dims = ("time", "lat", "lon")
        return xr.Dataset({"radiance": xr.DataArray(rad, dims=dims, coords=coords, attrs=attrs),
                           "radiance_valid_fraction": xr.DataArray(frac, dims=dims, coords=coords, attrs={
                               "units": "1", "long_name": "valid pixel area / cell area"})},
                          attrs={"synthetic": synthetic})

    def validate(self, data: xr.Dataset) -> None:
        if "radiance" not in data or data["radiance"].attrs.get("units") != RADIANCE_UNITS:
            raise IngestError(f"VIIRS dataset must hold radiance in {RADIANCE_UNITS}")
        if tuple(data["radiance"].dims) not in (("lat", "lon"), ("time", "lat", "lon")):
            raise IngestError(f"VIIRS radiance dims must be (lat, lon) or (time, lat, lon), got {data['radiance'].dims}")
