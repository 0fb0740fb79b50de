"""EDGAR 0.1 degree sector grid maps (NetCDF) -> kg CO2 per cell per day on a carbonmap Grid.

Layouts read (one sector, one year, one substance per file; global 1800 x 3600 cells of 0.1 degree,
cell-centre coordinates ``lat``/``lon``):

- **v8.0 / 2024 "emi" files** (``v8.0_FT2022_GHG_CO2_2022_ENE_emi.nc``,
  ``EDGAR_2024_GHG_CO2_2022_ENE_emi.nc``): variable ``emissions(lat, lon)`` with ``units = "Tonnes"``
  (Mg of the substance per cell per year) and attributes ``substance``, ``year``, ``long_name``
  (the sector); ``lat`` -89.95..89.95, ``lon`` -179.95..179.95, both ascending.
- **v8.0 / 2024 "flx" files** (``..._flx.nc``): variable ``fluxes(lat, lon)`` in ``kg m-2 s-1``.
- **v6.0 / v7.0 files** (``v6.0_CO2_excl_short-cycle_org_C_2018_ENE.0.1x0.1.nc``): variable
  ``emi_co2(lat, lon)`` in ``kg m-2 s-1``; ``lon`` 0.05..359.95 (shifted to -180..180 here).

Conversion (:func:`to_daily_kg`): fluxes x cell area (:meth:`Grid.cell_area_m2`, sphere of radius
6,371,008.8 m) x 86,400 s; annual masses x 1,000 kg/Mg / days in the year.  The result is the
year's mean day, ``emissions(lat, lon)`` in kg CO2 day-1 cell-1 on ``Grid(0.1)`` (north-up), plus the
EDGAR sector code (from the file name) in ``attrs['edgar_sector']``.

No EDGAR grid ships in ``data/``: ``tests/ingest/fixture_gen/edgar_grid.py`` writes files in these exact
layouts with SYNTHETIC values (global attribute ``carbonmap_synthetic = "true"``).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from carbonmap.contract import EMISSIONS_DTYPE, Grid, emissions_attrs
from ingest.base import BaseAdapter, IngestError, SourceInfo

GRID = Grid(0.1)
SECONDS_PER_DAY = 86_400.0
KG_PER_MG = 1_000.0
FLUX_UNITS = ("kg m-2 s-1", "kg/m2/s", "kg m-2 s-1 ")
MASS_UNITS = ("Tonnes", "tonnes", "Mg", "t")
VARIABLES = ("emissions", "fluxes", "emi_co2")
URL_V8 = ("https://jeodpp.jrc.ec.europa.eu/ftp/jrc-opendata/EDGAR/datasets/v80_FT2022_GHG/CO2/{sector}/"
          "emi_nc/v8.0_FT2022_GHG_CO2_{year}_{sector}_emi_nc.zip")
"""The real v8.0 download pattern (a zip holding ``v8.0_FT2022_GHG_CO2_<year>_<sector>_emi.nc``)."""
SECTORS_V8 = ("ENE", "REF_TRF", "IND", "TRO", "TNR_Aviation_CDS", "TNR_Aviation_CRS", "TNR_Aviation_LTO",
              "TNR_Aviation_SPS", "TNR_Other", "TNR_Ship", "RCO", "PRO_FFF", "NMM", "CHE", "IRO", "NFE", "NEU",
              "PRU_SOL", "AGS", "SWD_INC")
"""EDGAR v8 sector codes (CO2) as they appear in file names."""
MAX_CELL_KG_PER_DAY = 5.0e8
"""No 0.1 degree cell emits more than this (the largest plants emit ~1e8 kg CO2 a day)."""

INFO = SourceInfo(
    name="edgar_grid",
    title="EDGAR 0.1 degree sector grid maps of fossil CO2 (JRC, v6-v8/2024 NetCDF)",
    kind="spatial_prior",
    licence="CC-BY-4.0 (EC-JRC EDGAR)",
    url="https://edgar.jrc.ec.europa.eu/dataset_ghg80",
    shipped=(),
    real=False,
    note="no grid ships; reader tested on format-exact SYNTHETIC fixtures (tests/ingest/fixture_gen/edgar_grid.py)",
)

_NAME_RE = re.compile(r".*_(\d{4})_([A-Za-z0-9_]+?)(?:_emi|_flx|\.0\.1x0\.1)")


def parse_name(path: Path) -> tuple[int | None, str | None]:
    """(year, sector) from an EDGAR grid file name, or (None, None)."""
    m = _NAME_RE.search(Path(path).name)
    return (int(m.group(1)), m.group(2)) if m else (None, None)


def _open(path: Path) -> xr.Dataset:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"EDGAR grid file not found: {path}")
    try:
        return xr.open_dataset(path, engine="netcdf4", mask_and_scale=True)
    except (OSError, ValueError, RuntimeError) as e:
        raise IngestError(f"{path.name} is not a readable NetCDF file (corrupt or truncated?): {e}") from e


def _grid_of(lat: np.ndarray, lon: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Row/column orders that put the file's cells onto GRID (north-up, -180..180)."""
    if lat.size != GRID.nlat or lon.size != GRID.nlon:
        raise IngestError(f"{name}: an EDGAR 0.1 degree grid has {GRID.nlat} x {GRID.nlon} cells, found "
                          f"{lat.size} x {lon.size}")
    lon = np.where(lon > 180.0, lon - 360.0, lon)
    lat_order, lon_order = np.argsort(-lat), np.argsort(lon)
    if not (np.allclose(lat[lat_order], GRID.lat, atol=1e-4) and np.allclose(lon[lon_order], GRID.lon, atol=1e-4)):
        raise IngestError(f"{name}: coordinates are not the 0.1 degree cell centres (lat +-89.95, lon +-179.95 or "
                          f"0.05..359.95); wrong CRS or grid?")
    return lat_order, lon_order


def to_daily_kg(values: np.ndarray, units: str, year: int, grid: Grid = GRID) -> np.ndarray:
    """kg CO2 day-1 cell-1 (float64, dims (lat, lon) north-up) from a flux (kg m-2 s-1) or a mass (Mg yr-1) grid."""
    if units in FLUX_UNITS:
        return values * grid.cell_area_m2()[:, None] * SECONDS_PER_DAY
    if units in MASS_UNITS:
        days = 366 if calendar.isleap(year) else 365
        return values * KG_PER_MG / days
    raise IngestError(f"EDGAR units {units!r} not understood; expected 'kg m-2 s-1' (flx, v6/v7) or 'Tonnes' (emi)")


def read_edgar_grid(path: Path, year: int | None = None) -> xr.DataArray:
    """One EDGAR sector grid file -> ``emissions(lat, lon)``, kg CO2 day-1 cell-1 (float32), on Grid(0.1)."""
    path = Path(path)
    name_year, sector = parse_name(path)
    ds = _open(path)
    with ds:
        var = next((v for v in VARIABLES if v in ds.data_vars), None)
        if var is None:
            raise IngestError(f"{path.name}: none of the EDGAR variables {list(VARIABLES)}; found {list(ds.data_vars)}")
        da = ds[var]
        lat_n = next((n for n in ("lat", "latitude") if n in da.dims), None)
        lon_n = next((n for n in ("lon", "longitude") if n in da.dims), None)
        if lat_n is None or lon_n is None or da.ndim != 2:
            raise IngestError(f"{path.name}: {var} has dims {da.dims}, expected (lat, lon)")
        units = str(da.attrs.get("units", "")).strip()
        if units not in FLUX_UNITS + MASS_UNITS:
            raise IngestError(f"{path.name}: {var} has units {units!r}; expected 'kg m-2 s-1' or 'Tonnes'")
        substance = str(da.attrs.get("substance", "CO2"))
        if "CO2" not in substance.upper() or "BIO" in substance.upper():
            raise IngestError(f"{path.name}: substance is {substance!r}, not fossil CO2")
        y = year or (int(da.attrs["year"]) if "year" in da.attrs else name_year)
        if y is None:
            raise IngestError(f"{path.name}: no year in the file or its name; pass year=")
        lat_order, lon_order = _grid_of(np.asarray(ds[lat_n].values, np.float64),
                                        np.asarray(ds[lon_n].values, np.float64), path.name)
        raw = da.transpose(lat_n, lon_n).to_numpy().astype(np.float64)[lat_order][:, lon_order]
        synthetic = str(ds.attrs.get("carbonmap_synthetic", "false")) == "true"
        long_name = str(da.attrs.get("long_name", ""))
    raw = np.nan_to_num(raw, nan=0.0)
    if (raw < 0).any():
        raise IngestError(f"{path.name}: negative emissions ({raw.min():g} {units})")
    kg = to_daily_kg(raw, units, y)
    if kg.max() > MAX_CELL_KG_PER_DAY:
        raise IngestError(f"{path.name}: a cell emits {kg.max():.3g} kg CO2 a day; units {units!r} must be wrong")
    attrs = {**emissions_attrs(), "long_name": "EDGAR fossil CO2 per grid cell per day (mean day of the year)",
             "cell_methods": "time: mean (1 day of the year's mean) area: sum", "edgar_sector": sector or long_name,
             "edgar_sector_long_name": long_name, "year": y, "source_variable": var, "source_units": units,
             "source_file": path.name, "synthetic": str(synthetic).lower(), **GRID.to_attrs()}
    return xr.DataArray(kg.astype(EMISSIONS_DTYPE), dims=("lat", "lon"), coords={"lat": GRID.lat, "lon": GRID.lon},
                        name="emissions", attrs=attrs)


class EDGARGridAdapter(BaseAdapter[xr.Dataset]):
    """EDGAR sector grid files -> ``emissions(sector, lat, lon)`` kg CO2 day-1 cell-1 (Zarr; one year)."""

    info = INFO

    def download(self, start: date, end: date) -> list[Path]:
        """The v8.0 CO2 'emi' zips of every sector and year in the period; extracted next to the cache copy."""
        import zipfile

        from ingest.download import fetch

        out = []
        for y in range(start.year, end.year + 1):
            for s in SECTORS_V8:
                z = fetch(URL_V8.format(year=y, sector=s), source=self.info.name, settings=self.settings)
                try:
                    with zipfile.ZipFile(z) as zf:
                        for n in zf.namelist():
                            if n.endswith(".nc"):
                                zf.extract(n, z.parent)
                                out.append(z.parent / n)
                except zipfile.BadZipFile as e:
                    raise IngestError(f"{z.name} is not a valid zip ({e}); delete it from the cache and retry") from e
        return out

    def read(self, paths: Sequence[Path]) -> xr.Dataset:
        if not paths:
            raise IngestError("no EDGAR grid files given")
        das = [read_edgar_grid(p) for p in paths]
        years = {d.attrs["year"] for d in das}
        if len(years) != 1:
            raise IngestError(f"EDGAR grid files of several years {sorted(years)}; ingest one year at a time")
        sectors = [d.attrs["edgar_sector"] for d in das]
        if len(set(sectors)) != len(sectors):
            raise IngestError(f"EDGAR: duplicate sector among {sectors}")
        out = xr.concat([d.expand_dims(sector=[s]) for d, s in zip(das, sectors, strict=True)], dim="sector")
        out.attrs = {k: v for k, v in das[0].attrs.items() if k not in ("edgar_sector", "edgar_sector_long_name",
                                                                         "source_file")}
        ds = out.to_dataset()
        ds.attrs.update({"year": int(next(iter(years))),
                         "synthetic": str(any(d.attrs["synthetic"] == "true" for d in das)).lower()})
        return ds

    def validate(self, data: xr.Dataset) -> None:
        if "emissions" not in data or data["emissions"].attrs.get("units") != "kg day-1":
            raise IngestError("EDGAR grid dataset must hold emissions in kg day-1")
        if pd.Index(data["sector"].values).has_duplicates:
            raise IngestError("EDGAR grid dataset has duplicate sectors")
