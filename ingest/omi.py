"""OMI OMNO2d L3 NO2 grids (0.25 degree) -> canonical satellite Zarr ``(time, lat, lon)`` with anomalies.

Files read (NetCDF-3 or NetCDF-4/HDF5, one variable on a regular lat/lon grid, any lat order):

- the **monthly means** ``romania_OMI-Aura_L3-OMNO2d_monthly.nc`` (written by R ncdf4/raster):
  variable ``no2(time, latitude, longitude)`` float32, ``units = "10^15molec/cm2"``,
  ``_FillValue = -3.4e38``, ``grid_mapping = "crs"`` with ``crs:proj4 = "+proj=longlat +datum=WGS84 ..."``,
  ``time`` in ``days since 1970-1-1`` (first of each month), latitudes descending;
- the **2015-2019 monthly climatology** ``romania_OMI-Aura_L3-OMNO2d_ymonmean_2015_2019.nc4`` (CDO
  ``ymonmean`` of the GES DISC OMNO2d files): variable ``ColumnAmountNO2CloudScreened(time, lat, lon)``
  with OMNO2d's own name and attributes, ``units = "molec/cm2"``, ``_FillValue = -1.2676506e30``,
  ``time`` in CDO's absolute ``day as %Y%m%d.%f`` (the last day of each month of 2019), latitudes
  ascending, ``HDFEOS_GRIDS_ColumnAmountNO2.Projection = "Geographic"``.

Variables recognised (first found): ``ColumnAmountNO2TropCloudScreened``, ``ColumnAmountNO2Trop``,
``ColumnAmountNO2CloudScreened``, ``ColumnAmountNO2``, ``no2``.

Units: ``molec/cm2`` (and spellings) or ``10^15molec/cm2``.  The R export labels its values
``10^15molec/cm2`` but stores them in molec cm-2 (values ~4e15, the same as the climatology); so a
``10^15`` label on values > 1e10 is read as molec cm-2 (recorded in ``attrs['units_note']``).  Values
are converted to **mol m-2** (TROPOMI's unit: molec cm-2 / 6.02214e19) and must then lie in
:data:`MOL_M2_RANGE` (typical NO2 columns), else the units are wrong.

**Daily granules** as GES DISC delivers them (``OMI-Aura_L3-OMNO2d_YYYYmMMDD_v003-<production>.he5``,
HDF-EOS5; layout in ``tests/ingest/fixture_gen/omi.py``) are read by :func:`read_omno2d_he5`: the
**cloud-screened tropospheric column** ``HDFEOS/GRIDS/ColumnAmountNO2/Data Fields/
ColumnAmountNO2TropCloudScreened`` (float32, ``_FillValue``/``MissingValue`` -1.2676506e30 -> missing,
``value * ScaleFactor + Offset``), checked against the grid attributes (``Projection`` Geographic,
``GridSpacing`` x ``NumberOfLongitudesInGrid``/``NumberOfLatitudesInGrid`` = ``GridSpan``, 1440 x 720)
and StructMetadata.0 (row 0 = south), dated by ``FILE_ATTRIBUTES`` ``GranuleYear/Month/Day`` (and
the file name, which must agree).  :func:`to_grid` averages it onto any carbonmap grid by exact
area weighting of the valid 0.25 degree cells (:func:`ingest.hdfeos.area_mean`), and adds
``no2_valid_fraction`` (valid area / cell area).  Negative tropospheric columns (retrieval noise)
are kept: dropping them would bias clean-area means high.  With a climatology file, each granule's
field is the climatology's own (the shipped one is ``ColumnAmountNO2CloudScreened``, the total
column), so that the anomaly compares like with like, on the climatology's grid.

Many daily granules (a year: 366 x 1440 x 720 float32) **stream through Dask**: ``OMIAdapter.read``
checks every header (:func:`scan_omno2d_he5`, no pixels) and returns a dask-backed dataset built
from one task per granule (:func:`granule_on_grid`: read, check the values, regrid; its output is one
day on the target grid), chunked ``time_chunk_days`` days at a time; ``OMIAdapter.write`` streams it
to Zarr chunk by chunk (:func:`ingest.canonical.write_zarr_atomic`).  A granule that fails while
streaming raises :class:`~ingest.base.IngestError` with its file name and nothing is written.

Caveat: the monthly file's ``long_name`` says "Tropospheric Cloud Screened NO2" while the climatology is
OMNO2d's *total* cloud-screened column; their magnitudes over the box agree (Jan 2020 box mean
3.79e15 vs the Jan climatology 3.63e15 molec cm-2), so both are read as the same quantity and the
anomaly is ``no2 - no2_climatology`` of the same calendar month (``no2_anomaly_relative`` = ratio - 1).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.hdfeos import (
    TIME_CHUNK_DAYS,
    area_mean,
    attr,
    is_hdfeos,
    open_hdf5,
    read_array,
    read_struct_metadata,
    require,
    stack_days,
    time_chunk,
)

MONTHLY_FILE = "satellite/no2/romania_OMI-Aura_L3-OMNO2d_monthly.nc"
CLIMATOLOGY_FILE = "satellite/no2/romania_OMI-Aura_L3-OMNO2d_ymonmean_2015_2019.nc4"
VARIABLES = ("ColumnAmountNO2TropCloudScreened", "ColumnAmountNO2Trop", "ColumnAmountNO2CloudScreened",
             "ColumnAmountNO2", "no2")
MOLEC_CM2_PER_MOL_M2 = 6.02214e19
MOL_M2_RANGE = (1e13 / MOLEC_CM2_PER_MOL_M2, 1e18 / MOLEC_CM2_PER_MOL_M2)
"""Plausible OMI NO2 column values (1e13..1e18 molec cm-2), as mol m-2."""
_UNIT_SCALE = {"molec/cm2": 1.0, "molec cm-2": 1.0, "molecules/cm2": 1.0, "molecules cm-2": 1.0, "cm^-2": 1.0,
               "10^15molec/cm2": 1e15, "10^15 molec/cm2": 1e15, "1e15 molec cm-2": 1e15}
GES_DISC_URL = ("https://acdisc.gesdisc.eosdis.nasa.gov/data/Aura_OMI_Level3/OMNO2d.003/{year}/"
                "OMI-Aura_L3-OMNO2d_{year}m{month:02d}{day:02d}_v003-<production time>.he5")

HE5_GRID = "HDFEOS/GRIDS/ColumnAmountNO2"
HE5_FIELD = "ColumnAmountNO2TropCloudScreened"
"""The field read from a daily granule: tropospheric column, cloud fraction < 30 %."""
HE5_FIELDS = ("ColumnAmountNO2TropCloudScreened", "ColumnAmountNO2Trop", "ColumnAmountNO2CloudScreened",
              "ColumnAmountNO2")
HE5_SHAPE = (720, 1440)
HE5_RES = 0.25
_HE5_NAME = re.compile(r"OMNO2d_(\d{4})m(\d{2})(\d{2})_")

INFO = SourceInfo(
    name="omi",
    title="OMI/Aura OMNO2d L3 NO2 column, 0.25 degree (NASA GES DISC), monthly + 2015-2019 climatology",
    kind="satellite",
    licence="NASA GES DISC data, public (no restrictions; cite Krotkov et al., OMNO2d v003)",
    url="https://disc.gsfc.nasa.gov/datasets/OMNO2d_003/summary",
    shipped=(MONTHLY_FILE, CLIMATOLOGY_FILE),
    note="Romania box (18.5-31 E, 41.5-51 N), Jan-Jul 2020; anomaly vs the 2015-2019 climatology",
)


def _open(path: Path) -> xr.Dataset:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"OMI file not found: {path}")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:3] == b"CDF":  # netCDF-3: libnetcdf zero-fills a truncated file silently; scipy's reader does not
        from scipy.io import netcdf_file

        try:
            with netcdf_file(path, "r", mmap=False) as nc3:
                for v in nc3.variables.values():
                    v[...]
        except (ValueError, TypeError, OSError, IndexError) as e:
            raise IngestError(f"{path.name} is not a readable NetCDF file (truncated or corrupt): {e}") from e
    try:
        return xr.open_dataset(path, decode_times=False, mask_and_scale=True, engine="netcdf4")
    except (OSError, ValueError, RuntimeError) as e:
        raise IngestError(f"{path.name} is not a readable NetCDF file: {e}") from e


def _check_crs(ds: xr.Dataset, var: xr.DataArray, name: str) -> None:
    gm = var.attrs.get("grid_mapping")
    texts = []
    if gm and gm in ds.variables:
        texts += [str(ds[gm].attrs.get(k, "")) for k in ("proj4", "crs_wkt", "spatial_ref", "grid_mapping_name")]
    texts.append(str(var.attrs.get("proj4", "")))
    texts += [str(v) for k, v in ds.attrs.items() if k.endswith(".Projection")]
    texts = [t for t in texts if t]
    ok = ("longlat", "latlong", "latitude_longitude", "Geographic", "GEOGCS", "EPSG:4326")
    bad = [t for t in texts if not any(o in t for o in ok)]
    if bad:
        raise IngestError(f"{name}: the grid is not geographic lat/lon (CRS says {bad[0][:80]!r}); "
                          f"OMNO2d is on a 0.25 degree EPSG:4326 grid")


def _coord(ds: xr.Dataset, names: Sequence[str], name: str) -> str:
    for n in names:
        if n in ds.coords or n in ds.variables:
            return n
    raise IngestError(f"{name}: no {names[0]} coordinate (looked for {list(names)})")


def _snap(values: np.ndarray, res: float, name: str, axis: str) -> np.ndarray:
    k = np.round((values - res / 2) / res)
    snapped = k * res + res / 2
    if np.abs(snapped - values).max() > 1e-3 * res:
        raise IngestError(f"{name}: {axis} centres are not on a regular {res} degree lattice")
    return np.round(snapped, 9)


def _months(ds: xr.Dataset, tname: str, name: str) -> pd.DatetimeIndex:
    t = ds[tname]
    units = str(t.attrs.get("units", ""))
    vals = np.asarray(t.values, dtype=np.float64)
    if units.startswith("day as %Y%m%d"):
        s = pd.Series(np.floor(vals).astype(np.int64).astype(str))
        dt = pd.to_datetime(s, format="%Y%m%d", errors="coerce")
    elif " since " in units:
        step, origin = units.split(" since ", 1)
        unit = {"days": "D", "day": "D", "hours": "h", "seconds": "s"}.get(step.strip())
        if unit is None:
            raise IngestError(f"{name}: time units {units!r} not understood")
        dt = pd.Series(pd.Timestamp(origin.strip()) + pd.to_timedelta(vals, unit=unit))
    else:
        raise IngestError(f"{name}: time units {units!r} not understood")
    if dt.isna().any():
        raise IngestError(f"{name}: unreadable time values")
    return pd.DatetimeIndex(dt).to_period("M").to_timestamp()


def read_omno2d(path: Path) -> xr.DataArray:
    """One OMNO2d grid file -> ``no2(time, lat, lon)`` in mol m-2 (float32), lat descending, month-start times."""
    path = Path(path)
    ds = _open(path)
    with ds:
        var_name = next((v for v in VARIABLES if v in ds.data_vars), None)
        if var_name is None:
            raise IngestError(f"{path.name}: none of the OMNO2d variables {list(VARIABLES)}; found {list(ds.data_vars)}")
        var = ds[var_name]
        _check_crs(ds, var, path.name)
        lat_n = _coord(ds, ("lat", "latitude"), path.name)
        lon_n = _coord(ds, ("lon", "longitude"), path.name)
        t_n = _coord(ds, ("time",), path.name)
        if set(var.dims) != {t_n, lat_n, lon_n}:
            raise IngestError(f"{path.name}: {var_name} has dims {var.dims}, expected (time, lat, lon)")
        units = str(var.attrs.get("units", "")).strip()
        if units not in _UNIT_SCALE:
            raise IngestError(f"{path.name}: {var_name} has units {units!r}; expected one of {sorted(_UNIT_SCALE)}")
        data = var.transpose(t_n, lat_n, lon_n).to_numpy().astype(np.float64)
        finite = data[np.isfinite(data)]
        if finite.size == 0:
            raise IngestError(f"{path.name}: {var_name} holds no valid values")
        scale = _UNIT_SCALE[units]
        note = ""
        if scale != 1.0 and np.median(finite) > 1e10:
            scale, note = 1.0, f"labelled {units!r} but stored in molec cm-2 (values ~{np.median(finite):.2g})"
        mol = data * scale / MOLEC_CM2_PER_MOL_M2
        med = float(np.nanmedian(mol))
        if not MOL_M2_RANGE[0] <= med <= MOL_M2_RANGE[1]:
            raise IngestError(f"{path.name}: median NO2 column {med:.3g} mol m-2 is implausible; wrong units?")
        lat = np.asarray(ds[lat_n].values, dtype=np.float64)
        lon = np.asarray(ds[lon_n].values, dtype=np.float64)
        if lat.size < 2 or lon.size < 2:
            raise IngestError(f"{path.name}: need at least 2 x 2 cells")
        res = round(float(abs(lon[1] - lon[0])), 4)
        lat, lon = _snap(lat, res, path.name, "latitude"), _snap(lon, res, path.name, "longitude")
        months = _months(ds, t_n, path.name)
        long_name = str(var.attrs.get("long_name") or var.attrs.get("title") or var_name)
    if months.has_duplicates:
        raise IngestError(f"{path.name}: duplicate month {months[months.duplicated()][0]:%Y-%m}")
    order = np.argsort(-lat)
    mol, lat = mol[:, order, :], lat[order]
    lon_order = np.argsort(lon)
    mol, lon = mol[:, :, lon_order], lon[lon_order]
    grid = Grid.from_coords(lat, lon)
    if not math.isclose(grid.resolution, res):
        raise IngestError(f"{path.name}: irregular grid")
    return xr.DataArray(
        mol.astype(np.float32), dims=("time", "lat", "lon"),
        coords={"time": months.to_numpy(), "lat": grid.lat, "lon": grid.lon}, name="no2",
        attrs={"units": "mol m-2", "long_name": f"OMI OMNO2d NO2 column ({long_name})", "source_variable": var_name,
               "source_units": units, "units_note": note, "source_file": path.name,
               "multiplication_factor_to_convert_to_molecules_percm2": MOLEC_CM2_PER_MOL_M2, **grid.to_attrs()})


def _day_of(h5, path: Path) -> pd.Timestamp:
    fa = h5.get("HDFEOS/ADDITIONAL/FILE_ATTRIBUTES", None)
    from_attrs = None
    if fa is not None and all(attr(fa, k) is not None for k in ("GranuleYear", "GranuleMonth", "GranuleDay")):
        try:
            from_attrs = pd.Timestamp(int(attr(fa, "GranuleYear")), int(attr(fa, "GranuleMonth")),
                                      int(attr(fa, "GranuleDay")))
        except (TypeError, ValueError) as e:
            raise IngestError(f"{path.name}: unreadable GranuleYear/Month/Day: {e}") from e
    m = _HE5_NAME.search(path.name)
    from_name = pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    if from_attrs is not None and from_name is not None and from_attrs != from_name:
        raise IngestError(f"{path.name}: the name says {from_name:%Y-%m-%d} but FILE_ATTRIBUTES say "
                          f"{from_attrs:%Y-%m-%d}")
    day = from_attrs if from_attrs is not None else from_name
    if day is None:
        raise IngestError(f"{path.name}: no date (no FILE_ATTRIBUTES GranuleYear/Month/Day and no "
                          f"OMNO2d_YYYYmMMDD in the name)")
    return day


def _parse_pair(text: str, n: int, what: str, name: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in str(text).strip().strip("()").split(","))
    except ValueError:
        vals = ()
    if len(vals) != n:
        raise IngestError(f"{name}: grid attribute {what}={text!r} is not {n} numbers")
    return vals


@dataclass(frozen=True)
class GranuleHeader:
    """What the header of one daily OMNO2d granule says (checked; no pixels read)."""

    path: Path
    day: pd.Timestamp
    field: str
    title: str
    units: str
    synthetic: bool


@dataclass(frozen=True)
class _He5Field:
    header: GranuleHeader
    dataset: Any  # h5py.Dataset, valid while the file is open
    north_up: bool
    fills: tuple[float, ...]
    scale: float
    offset: float


def _he5_header(h5: Any, path: Path, field: str) -> _He5Field:
    """Structure, grid, units and date checks of an open granule; IngestError naming the file."""
    grid = require(h5, HE5_GRID, path.name, "OMNO2d")
    fields = require(h5, f"{HE5_GRID}/Data Fields", path.name, "OMNO2d")
    if field not in fields:
        raise IngestError(f"{path.name}: no {field} in {HE5_GRID}/Data Fields (found {sorted(fields)}); "
                          f"OMNO2d v003 granules have it")
    ds = fields[field]
    proj = str(attr(grid, "Projection", ""))
    if proj and proj.lower() != "geographic":
        raise IngestError(f"{path.name}: Projection={proj!r}; OMNO2d is on a Geographic 0.25 degree grid")
    nlon, nlat = attr(grid, "NumberOfLongitudesInGrid"), attr(grid, "NumberOfLatitudesInGrid")
    if nlon is None or nlat is None:
        raise IngestError(f"{path.name}: {HE5_GRID} lacks NumberOfLongitudesInGrid/NumberOfLatitudesInGrid")
    dy, dx = _parse_pair(attr(grid, "GridSpacing", ""), 2, "GridSpacing", path.name)
    w, e, s, n = _parse_pair(attr(grid, "GridSpan", ""), 4, "GridSpan", path.name)
    if (int(nlat), int(nlon)) != HE5_SHAPE or not (math.isclose(dx, HE5_RES) and math.isclose(dy, HE5_RES)):
        raise IngestError(f"{path.name}: grid is {nlat} x {nlon} cells of {dy} x {dx} degrees; OMNO2d is "
                          f"{HE5_SHAPE[0]} x {HE5_SHAPE[1]} cells of {HE5_RES} degree")
    if not (math.isclose(dx * int(nlon), e - w) and math.isclose(dy * int(nlat), n - s)):
        raise IngestError(f"{path.name}: GridSpacing x cells does not span GridSpan {(w, e, s, n)}")
    if ds.shape != (int(nlat), int(nlon)):
        raise IngestError(f"{path.name}: {field} has shape {ds.shape} but the grid attributes say "
                          f"{int(nlat)} x {int(nlon)} (YDim, XDim)")
    if ds.dtype.kind != "f":
        raise IngestError(f"{path.name}: {field} is {ds.dtype}; OMNO2d fields are float32")
    north_up = False  # OMI L3 grids: origin at lower left (row 0 = -89.875)
    sm = read_struct_metadata(h5, path.name).get("ColumnAmountNO2")
    if sm is not None:
        if (sm.ydim, sm.xdim) != ds.shape:
            raise IngestError(f"{path.name}: StructMetadata.0 says YDim={sm.ydim}, XDim={sm.xdim} but {field} "
                              f"is {ds.shape}")
        north_up = sm.north_up
    units = str(attr(ds, "Units", attr(ds, "units", ""))).strip()
    if units not in _UNIT_SCALE:
        raise IngestError(f"{path.name}: {field} has Units {units!r}; expected molec/cm2")
    fills = tuple(float(v) for v in (attr(ds, "_FillValue"), attr(ds, "MissingValue"), ds.fillvalue)
                  if v is not None)
    try:
        scale = float(attr(ds, "ScaleFactor", 1.0))
        offset = float(attr(ds, "Offset", 0.0))
    except (TypeError, ValueError) as exc:
        raise IngestError(f"{path.name}: unreadable ScaleFactor/Offset of {field}: {exc}") from exc
    header = GranuleHeader(path=path, day=_day_of(h5, path), field=field, title=str(attr(ds, "Title", field)),
                           units=units, synthetic=str(attr(h5, "carbonmap_synthetic", "false")) == "true")
    return _He5Field(header, ds, north_up, fills, scale, offset)


def scan_omno2d_he5(path: Path, field: str = HE5_FIELD) -> GranuleHeader:
    """Check the header of one daily granule (layout, grid, units, date) without reading its pixels."""
    path = Path(path)
    with open_hdf5(path, "OMI OMNO2d") as h5:
        return _he5_header(h5, path, field).header


def read_omno2d_he5(path: Path, field: str = HE5_FIELD) -> xr.DataArray:
    """One daily OMNO2d granule -> ``no2(time=1, lat=720, lon=1440)`` mol m-2 float64, north-up, NaN = fill."""
    path = Path(path)
    with open_hdf5(path, "OMI OMNO2d") as h5:
        f = _he5_header(h5, path, field)
        raw = read_array(f.dataset, path.name).astype(np.float64)
    head = f.header
    bad = ~np.isfinite(raw)
    for fv in f.fills:
        bad |= np.isclose(raw, fv, rtol=1e-6)
    molec = np.where(bad, np.nan, raw * f.scale + f.offset) * _UNIT_SCALE[head.units]
    mol = molec / MOLEC_CM2_PER_MOL_M2
    if not np.isfinite(mol).any():
        raise IngestError(f"{path.name}: {field} holds no valid values")
    med = float(np.nanmedian(np.abs(mol)))
    if not MOL_M2_RANGE[0] <= med <= MOL_M2_RANGE[1]:
        raise IngestError(f"{path.name}: median |NO2 column| {med:.3g} mol m-2 is implausible; wrong units or "
                          f"ScaleFactor?")
    if not f.north_up:
        mol = mol[::-1]
    g = Grid(HE5_RES)
    return xr.DataArray(
        mol[None], dims=("time", "lat", "lon"),
        coords={"time": [head.day.to_datetime64()], "lat": g.lat, "lon": g.lon}, name="no2",
        attrs={"units": "mol m-2", "long_name": f"OMI OMNO2d NO2 column ({head.title})", "source_variable": field,
               "source_units": head.units, "source_file": path.name, "synthetic": str(head.synthetic).lower(),
               "multiplication_factor_to_convert_to_molecules_percm2": MOLEC_CM2_PER_MOL_M2, **g.to_attrs()})


def granule_on_grid(path: Path, field: str, grid: Grid) -> np.ndarray:
    """The Dask task of one granule: ``[no2, no2_valid_fraction]`` of that day on ``grid``, float32
    ``(2, 1, nlat, nlon)`` (mol m-2 and 1), i.e. :func:`to_grid` of :func:`read_omno2d_he5`.

    Any failure (a corrupt chunk, implausible values) is an :class:`IngestError` naming the file.
    """
    path = Path(path)
    try:
        day = to_grid(read_omno2d_he5(path, field), grid)
    except IngestError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise IngestError(f"{path.name}: cannot be read as an OMNO2d granule: {exc}") from exc
    return np.stack([day["no2"].values, day["no2_valid_fraction"].values]).astype(np.float32, copy=False)


def to_grid(no2: xr.DataArray, grid: Grid) -> xr.Dataset:
    """``no2(time, lat, lon)`` on a regular lat/lon grid -> area-weighted mean on ``grid`` (float32), plus
    ``no2_valid_fraction`` (valid source area / cell area, 1)."""
    src = Grid.from_coords(no2["lat"].values, no2["lon"].values)
    r = src.resolution
    lat_edges = src.north - np.arange(src.nlat + 1) * r
    lon_edges = src.west + np.arange(src.nlon + 1) * r
    means, fracs = [], []
    for t in range(no2.sizes["time"]):
        v = no2.isel(time=t).values
        m, f = area_mean(v, np.isfinite(v), lat_edges, lon_edges, grid)
        means.append(m.astype(np.float32))
        fracs.append(f.astype(np.float32))
    coords = {"time": no2["time"].values, "lat": grid.lat, "lon": grid.lon}
    attrs = {k: v for k, v in no2.attrs.items() if not k.startswith("grid_")}
    out = xr.Dataset({
        "no2": xr.DataArray(np.stack(means), dims=("time", "lat", "lon"), coords=coords,
                            attrs={**attrs, "cell_methods": "area: mean (area-weighted, valid cells)",
                                   **grid.to_attrs()}),
        "no2_valid_fraction": xr.DataArray(np.stack(fracs), dims=("time", "lat", "lon"), coords=coords,
                                           attrs={"units": "1", "long_name": "valid source area / cell area"}),
    })
    return out


def with_anomaly(monthly: xr.DataArray, climatology: xr.DataArray) -> xr.Dataset:
    """``no2``, ``no2_climatology`` (same calendar month), ``no2_anomaly`` (mol m-2), ``no2_anomaly_relative`` (1)."""
    if monthly.sizes["lat"] != climatology.sizes["lat"] or monthly.sizes["lon"] != climatology.sizes["lon"] or \
            not (np.allclose(monthly["lat"], climatology["lat"]) and np.allclose(monthly["lon"], climatology["lon"])):
        raise IngestError("the OMI monthly file and the climatology are on different grids")
    cmonths = pd.DatetimeIndex(climatology["time"].values).month
    if cmonths.has_duplicates:
        raise IngestError("the OMI climatology has a calendar month twice")
    need = pd.DatetimeIndex(monthly["time"].values).month
    missing = sorted(set(need) - set(cmonths))
    if missing:
        raise IngestError(f"the OMI climatology lacks calendar month(s) {missing}")
    src = climatology.assign_coords(time=cmonths)
    lazy = monthly.chunks is not None
    if lazy:  # a year of days: pick the calendar month per day lazily, chunk by chunk, like the data
        src = src.chunk({"time": 1, "lat": -1, "lon": -1})
    clim = src.sel(time=need).assign_coords(time=monthly["time"].values)
    clim = clim.assign_coords(lat=monthly["lat"], lon=monthly["lon"])
    if lazy:
        clim = clim.chunk(dict(monthly.chunksizes))
    anom = (monthly - clim).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = (monthly / clim - 1).astype(np.float32)
    ds = xr.Dataset({
        "no2": monthly,
        "no2_climatology": clim.assign_attrs({**climatology.attrs, "long_name": "2015-2019 mean of the calendar month"}),
        "no2_anomaly": anom.assign_attrs({"units": "mol m-2", "long_name": "no2 - no2_climatology"}),
        "no2_anomaly_relative": rel.assign_attrs({"units": "1", "long_name": "no2 / no2_climatology - 1"}),
    })
    return ds


def _is_climatology(path: Path) -> bool:
    n = Path(path).name.lower()
    return "ymonmean" in n or "climatology" in n


class OMIAdapter(BaseAdapter[xr.Dataset]):
    """OMNO2d monthly file(s) [+ a climatology file] -> ``no2(time, lat, lon)`` (+ anomaly) in mol m-2 (Zarr)."""

    info = INFO

    grid: Grid | None = None
    """Target grid of daily .he5 granules; None = OMNO2d's own global 0.25 degree grid (or, with a
    climatology file, the climatology's grid)."""
    time_chunk_days: int = TIME_CHUNK_DAYS
    """Most days per dask/Zarr time chunk of daily granules (fewer on big grids, see :func:`ingest.hdfeos.time_chunk`)."""

    def download(self, start: date, end: date) -> list[Path]:
        """Daily OMNO2d granules (HDF-EOS5 ``.he5``, named like GES_DISC_URL) found in NASA CMR, fetched from
        GES DISC with ``Settings.earthdata_token``, MD5-checked, cached."""
        from ingest.earthdata import OMNO2D, download_collection

        return download_collection(OMNO2D, start, end, source=self.info.name, settings=self.settings)

    def read(self, paths: Sequence[Path]) -> xr.Dataset:
        clim_paths = [Path(p) for p in paths if _is_climatology(p)]
        obs_paths = [Path(p) for p in paths if not _is_climatology(p)]
        if not obs_paths:
            raise IngestError("no OMI monthly file given (climatology files are recognised by 'ymonmean' in the name)")
        if len(clim_paths) > 1:
            raise IngestError("give at most one OMI climatology file")
        daily = [p for p in obs_paths if is_hdfeos(p)]
        if daily:
            if len(daily) != len(obs_paths):
                raise IngestError("give either daily OMNO2d .he5 granules or monthly files, not both")
            return self._read_daily(daily, clim_paths[0] if clim_paths else None)
        obs = xr.concat([read_omno2d(p) for p in obs_paths], dim="time")
        if pd.Index(obs["time"].values).has_duplicates:
            raise IngestError("OMI: the monthly files overlap (duplicate month)")
        obs = obs.sortby("time")
        if not clim_paths:
            return obs.to_dataset()
        return with_anomaly(obs, read_omno2d(clim_paths[0]))

    def _read_daily(self, paths: Sequence[Path], clim_path: Path | None) -> xr.Dataset:
        """Daily granules -> a dask-backed ``no2(time, lat, lon)`` (+ ``no2_valid_fraction``, + anomaly).

        Every header is checked here (layout, grid, units, date; one granule per day); the pixels are
        read by one Dask task per granule (:func:`granule_on_grid`) when the data are computed, i.e. by
        :meth:`write` chunk by chunk (:data:`time_chunk_days` days at a time), so a year of granules
        never sits in memory.  A granule whose pixels fail (corrupt chunk, implausible values) raises
        :class:`IngestError` naming it at that point, and :meth:`write` then writes nothing.
        """
        import dask
        from dask.base import tokenize

        clim = read_omno2d(clim_path) if clim_path is not None else None
        grid = self.grid or (Grid.from_coords(clim["lat"].values, clim["lon"].values) if clim is not None
                             else Grid(HE5_RES))
        # the anomaly compares like with like: read the climatology's own OMNO2d field from each granule
        field = str(clim.attrs.get("source_variable")) if clim is not None else HE5_FIELD
        if field not in HE5_FIELDS:
            field = HE5_FIELD
        heads = sorted((scan_omno2d_he5(p, field) for p in paths), key=lambda h: h.day)
        for a, b in itertools.pairwise(heads):
            if a.day == b.day:
                raise IngestError(f"OMI: two granules of the same day {a.day:%Y-%m-%d}: {a.path.name} and "
                                  f"{b.path.name}")
        token = tokenize([str(h.path) for h in heads], field, grid)
        tasks = [dask.delayed(granule_on_grid, pure=True)(h.path, field, grid,
                                                          dask_key_name=f"omno2d-granule-{h.day:%Y%m%d}-{token}")
                 for h in heads]
        no2, frac = stack_days(tasks, 2, grid, time_chunk(grid, self.time_chunk_days))
        synthetic = str(any(h.synthetic for h in heads)).lower()
        titles = {h.title for h in heads}
        attrs: dict[str, Any] = {
            "units": "mol m-2",
            "long_name": f"OMI OMNO2d NO2 column ({titles.pop() if len(titles) == 1 else field})",
            "source_variable": field, "source_units": ",".join(sorted({h.units for h in heads})),
            "synthetic": synthetic, "multiplication_factor_to_convert_to_molecules_percm2": MOLEC_CM2_PER_MOL_M2,
            "cell_methods": "area: mean (area-weighted, valid cells)", **grid.to_attrs()}
        if len(heads) == 1:
            attrs["source_file"] = heads[0].path.name
        coords = {"time": np.array([h.day.to_datetime64() for h in heads], dtype="datetime64[ns]"),
                  "lat": grid.lat, "lon": grid.lon}
        dims = ("time", "lat", "lon")
        ds = xr.Dataset({"no2": xr.DataArray(no2, dims=dims, coords=coords, attrs=attrs),
                         "no2_valid_fraction": xr.DataArray(frac, dims=dims, coords=coords, attrs={
                             "units": "1", "long_name": "valid source area / cell area"})},
                        attrs={"synthetic": synthetic})
        if clim is None:
            return ds
        out = with_anomaly(ds["no2"], clim)
        out["no2_valid_fraction"] = ds["no2_valid_fraction"]
        out.attrs.update(ds.attrs)
        return out

    def validate(self, data: xr.Dataset) -> None:
        if "no2" not in data or data["no2"].attrs.get("units") != "mol m-2":
            raise IngestError("OMI dataset must hold no2 in mol m-2")
        if tuple(data["no2"].dims) != ("time", "lat", "lon"):
            raise IngestError(f"OMI no2 dims must be (time, lat, lon), got {data['no2'].dims}")
        if pd.Index(data["time"].values).has_duplicates:
            raise IngestError("OMI dataset has duplicate times")
