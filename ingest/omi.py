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

Caveat: the monthly file's ``long_name`` says "Tropospheric Cloud Screened NO2" while the climatology is
OMNO2d's *total* cloud-screened column; their magnitudes over the box agree (Jan 2020 box mean
3.79e15 vs the Jan climatology 3.63e15 molec cm-2), so both are read as the same quantity and the
anomaly is ``no2 - no2_climatology`` of the same calendar month (``no2_anomaly_relative`` = ratio - 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import BaseAdapter, IngestError, SourceInfo

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
    clim = climatology.assign_coords(time=cmonths).sel(time=need).assign_coords(time=monthly["time"].values)
    clim = clim.assign_coords(lat=monthly["lat"], lon=monthly["lon"])
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


class OMIAdapter(BaseAdapter):
    """OMNO2d monthly file(s) [+ a climatology file] -> ``no2(time, lat, lon)`` (+ anomaly) in mol m-2 (Zarr)."""

    info = INFO

    def download(self, start: date, end: date) -> list[Path]:
        """Daily OMNO2d granules (HDF-EOS5 ``.he5``, named like GES_DISC_URL) found in NASA CMR, fetched from
        GES DISC with ``Settings.earthdata_token``, MD5-checked, cached."""
        from ingest.earthdata import OMNO2D, download_collection

        return download_collection(OMNO2D, start, end, source=self.info.name)

    def read(self, paths: Sequence[Path]) -> xr.Dataset:
        clim_paths = [Path(p) for p in paths if _is_climatology(p)]
        obs_paths = [Path(p) for p in paths if not _is_climatology(p)]
        if not obs_paths:
            raise IngestError("no OMI monthly file given (climatology files are recognised by 'ymonmean' in the name)")
        if len(clim_paths) > 1:
            raise IngestError("give at most one OMI climatology file")
        obs = xr.concat([read_omno2d(p) for p in obs_paths], dim="time")
        if pd.Index(obs["time"].values).has_duplicates:
            raise IngestError("OMI: the monthly files overlap (duplicate month)")
        obs = obs.sortby("time")
        if not clim_paths:
            return obs.to_dataset()
        return with_anomaly(obs, read_omno2d(clim_paths[0]))

    def validate(self, data: xr.Dataset) -> None:  # type: ignore[override]
        if "no2" not in data or data["no2"].attrs.get("units") != "mol m-2":
            raise IngestError("OMI dataset must hold no2 in mol m-2")
        if tuple(data["no2"].dims) != ("time", "lat", "lon"):
            raise IngestError(f"OMI no2 dims must be (time, lat, lon), got {data['no2'].dims}")
        if pd.Index(data["time"].values).has_duplicates:
            raise IngestError("OMI dataset has duplicate months")
