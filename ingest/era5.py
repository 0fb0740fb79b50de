"""ERA5 2 m temperature in its shipped forms, and station temperatures.

Readers (pure I/O + validation, no science):

- :func:`read_era5_grid` — ERA5 single-level NetCDF (variable ``t2m`` or ``2m_temperature``, dims
  ``(time, latitude, longitude)``, K, longitudes 0..360 or -180..180) -> ``t2m(time, lat, lon)`` in
  **degC**, longitudes -180..180 ascending, latitudes descending (north-up), grid *points* as published.
- :func:`daily_mean` — UTC-day mean of the sub-daily samples, dims ``(day, lat, lon)``, degC, with
  ``n_samples(day)`` (the shipped 1° sample has 3-4 irregular samples a day, not 24).
- :func:`to_grid` — bilinear interpolation of a point field onto the cell centres of a carbonmap
  :class:`~carbonmap.contract.Grid` (longitude treated as periodic), so it can meet population and
  country coverage on the same grid.
- :func:`read_era5_monthly_country` — area-mean monthly country CSV
  (``Date,Country,cdd_sum_avg,cdd_sum_sum,avg_temp,avg_max_temp,avg_min_temp``, degC) -> long table
  ``iso3, month, tmean_c, tmax_c, tmin_c, cdd_month``.
- :func:`read_era5_daily_national` — sparklab ``weighted_area_raster_<ISO>_0_t2m_daily_<year>.csv``
  (``date,ID_0,NAME_0,t2m`` in degC) -> ``iso3, day, tmean_c``.
- :func:`read_station_temperature` — priceT station CSVs (wide daily mean in degF, one column per
  station id, plus the station metadata CSV) -> ``station, name, country, lat, lon, day, tmean_c``.

The canonical output (:class:`ERA5Adapter`) is ``t2m(day, lat, lon)`` daily means in a Zarr store;
degree days per country are computed by :mod:`ingest.degree_days`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.country_names import NAME_TO_ISO3

GRID_FILE = "temperature/era5-t2m-global-1deg-2026-03-25_31.nc"
MONTHLY_FILE = "temperature/era5-monthly-country-temperature-cdd-2000-2024.csv"
DAILY_DIR = "temperature/era5-daily-national"
STATION_FILE = "temperature/priceT_us_ca_225stations_daily_tmean_F_2017-2021.csv"
STATION_META_FILE = "temperature/priceT_us_ca_225stations_meta.csv"

T_MIN_C, T_MAX_C = -95.0, 65.0
"""Plausible 2 m temperature range, degC; values outside mean wrong units or corrupt data."""

MONTHLY_NAME_ALIASES: dict[str, str | None] = {
    "Antarctica": "ATA", "East Timor": "TLS", "Falkland Islands": "FLK",
    "French Southern and Antarctic Lands": "ATF", "Greenland": "GRL", "New Caledonia": "NCL",
    "Palestine": "PSE", "Puerto Rico": "PRI", "Republic of Serbia": "SRB", "Taiwan": "TWN",
    "The Bahamas": "BHS", "United Republic of Tanzania": "TZA", "Western Sahara": "ESH", "eSwatini": "SWZ",
    # Natural Earth break-away units: GCB (and carbonmap) report the whole country; their area
    # means cannot be merged without areas, so they are dropped (the parent country's row stays).
    "Northern Cyprus": None, "Somaliland": None,
}
"""Names of the monthly ERA5 CSV that :data:`ingest.country_names.NAME_TO_ISO3` lacks (None = dropped)."""

GRID_INFO = SourceInfo(
    name="era5",
    title="ERA5 hourly 2 m temperature on single levels (ECMWF / Copernicus C3S)",
    kind="activity",
    licence="CC-BY-4.0 (contains modified Copernicus Climate Change Service information)",
    url="https://cds.climate.copernicus.eu/datasets/reanalysis-era5-single-levels",
    shipped=(GRID_FILE,),
    note="shipped: global 1 degree sample, 24 irregular time steps 25-31 March 2026",
)
MONTHLY_INFO = SourceInfo(
    name="era5_country_monthly",
    title="ERA5 monthly country-mean temperature and CDD (ClimateDriversElectricityDemand)",
    kind="activity",
    licence="derived from ERA5 (CC-BY-4.0); no repository licence seen",
    url=("https://raw.githubusercontent.com/charlottecockburn1/ClimateDriversElectricityDemand/"
         "492779fa/Temporary_FinalDatasets/monthly_cdd.csv"),
    shipped=(MONTHLY_FILE,),
)
DAILY_INFO = SourceInfo(
    name="era5_country_daily",
    title="ERA5 daily area-weighted national 2 m temperature (sparklabnyc)",
    kind="activity",
    licence="derived from ERA5 (CC-BY-4.0); no repository licence seen",
    url="https://github.com/sparklabnyc/ERA5-grids-into-national-subnational-boundaries-Worldwide",
    shipped=(f"{DAILY_DIR}/weighted_area_raster_USA_0_t2m_daily_2019.csv",
             f"{DAILY_DIR}/weighted_area_raster_DEU_0_t2m_daily_2021.csv"),
)
STATION_INFO = SourceInfo(
    name="temperature_stations",
    title="Daily mean temperature at 225 US/Canadian stations (NOAA NCEI via R package priceT)",
    kind="activity",
    licence="NOAA data (public); package GPL-3",
    url="https://github.com/leowangzexian/priceT",
    shipped=(STATION_FILE, STATION_META_FILE),
)


def _check_range(values: np.ndarray, what: str, source: str) -> None:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size and (v.min() < T_MIN_C or v.max() > T_MAX_C):
        raise IngestError(f"{source}: {what} spans {v.min():.1f}..{v.max():.1f} degC, outside the plausible "
                          f"{T_MIN_C}..{T_MAX_C} degC; are the units right (K vs degC vs degF)?")


def kelvin_or_celsius_to_celsius(values: xr.DataArray, source: str = "input") -> xr.DataArray:
    """degC from a field whose ``units`` attribute is K or degC (``C``, ``degC``, ``celsius``)."""
    units = str(values.attrs.get("units", "")).strip()
    if units in ("K", "kelvin", "Kelvin"):
        out = values - 273.15
    elif units.lower() in ("degc", "c", "celsius", "deg_c", "degrees_celsius", "°c"):
        out = values.copy()
    else:
        raise IngestError(f"{source}: temperature units must be K or degC, got {units!r}")
    out.attrs = {**values.attrs, "units": "degC"}
    return out


def read_era5_grid(path: Path) -> xr.DataArray:
    """2 m temperature, degC, dims (time, lat, lon), lon -180..180 ascending, lat descending (points)."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"ERA5 file not found: {path}")
    try:
        ds = xr.open_dataset(path, engine="netcdf4")
    except (OSError, ValueError) as e:
        raise IngestError(f"{path.name} is not a readable NetCDF file: {e}") from e
    with ds:
        name = next((n for n in ("t2m", "2m_temperature", "VAR_2T") if n in ds.data_vars), None)
        if name is None:
            raise IngestError(f"{path.name} has no 2 m temperature variable (t2m); found {list(ds.data_vars)}")
        da = ds[name].load()
    ren = {k: v for k, v in (("latitude", "lat"), ("longitude", "lon"), ("valid_time", "time")) if k in da.dims}
    da = da.rename(ren)
    if set(da.dims) != {"time", "lat", "lon"}:
        raise IngestError(f"{path.name}: t2m must have dims (time, latitude, longitude), got {da.dims}")
    da = da.transpose("time", "lat", "lon")
    t = pd.DatetimeIndex(da["time"].values)
    if t.has_duplicates:
        raise IngestError(f"{path.name}: duplicate time steps, e.g. {t[t.duplicated()][0]}")
    if not t.is_monotonic_increasing:
        raise IngestError(f"{path.name}: time steps are not in increasing order")
    lon = da["lon"].values.astype(np.float64)
    if lon.min() < -180 - 1e-9 or lon.max() > 360 + 1e-9 or np.any(np.diff(np.sort(lon)) <= 0):
        raise IngestError(f"{path.name}: longitudes must be unique and within 0..360 or -180..180")
    da = da.assign_coords(lon=((lon + 180.0) % 360.0) - 180.0).sortby("lon")
    da = da.sortby("lat", ascending=False)
    out = kelvin_or_celsius_to_celsius(da, path.name).astype(np.float32)
    _check_range(out.values, "t2m", path.name)
    out.name = "t2m"
    out.attrs.update({"long_name": "2 metre temperature", "units": "degC", "source_file": path.name})
    return out


def daily_mean(t: xr.DataArray) -> xr.DataArray:
    """Mean of the samples in each UTC day, degC, dims (day, lat, lon); coord ``n_samples(day)``."""
    if "time" not in t.dims:
        raise IngestError("temperature must have a 'time' dim")
    day = pd.DatetimeIndex(t["time"].values).normalize()
    g = t.assign_coords(day=("time", day)).groupby("day")
    out = g.mean("time")
    n = xr.DataArray(np.bincount(pd.factorize(day, sort=True)[0]), dims="day")
    out = out.assign_coords(n_samples=n)
    out.attrs = {**t.attrs, "cell_methods": "time: mean within days (UTC)"}
    return out.rename("t2m")


def to_grid(points: xr.DataArray, grid: Grid) -> xr.DataArray:
    """Bilinear interpolation of a (…, lat, lon) point field onto ``grid`` cell centres.

    Longitude is periodic: the field is padded by one column on each side before interpolating, so
    cell centres between the last and the first longitude are interpolated, not NaN.  Latitudes
    beyond the first/last point take the nearest row (ERA5 includes the poles, so this never bites).
    """
    lon = points["lon"].values
    step = float(np.median(np.diff(lon)))
    if abs((lon[-1] - lon[0]) + step - 360.0) < 1e-6:  # global in longitude: wrap
        left = points.isel(lon=[-1]).assign_coords(lon=[lon[-1] - 360.0])
        right = points.isel(lon=[0]).assign_coords(lon=[lon[0] + 360.0])
        points = xr.concat([left, points, right], dim="lon")
    src = points.sortby("lat")
    out = src.interp(lat=np.clip(grid.lat, src.lat.values.min(), src.lat.values.max()), lon=grid.lon,
                     method="linear")
    out = out.assign_coords(lat=grid.lat, lon=grid.lon)
    if bool(out.isnull().all()):
        raise IngestError("the temperature field does not cover the target grid")
    out.attrs = {**points.attrs, "regrid": f"bilinear to the {grid.resolution} degree grid cell centres"}
    return out


_MONTHLY_COLUMNS = ("Date", "Country", "cdd_sum_avg", "cdd_sum_sum", "avg_temp", "avg_max_temp", "avg_min_temp")


def monthly_iso3(name: str, source: str) -> str | None:
    """ISO3 of a monthly-CSV country name (None = dropped, see :data:`MONTHLY_NAME_ALIASES`)."""
    if name in MONTHLY_NAME_ALIASES:
        return MONTHLY_NAME_ALIASES[name]
    try:
        return NAME_TO_ISO3[name.strip()]
    except KeyError:
        raise IngestError(f"{source}: unknown country name {name!r}; add it to MONTHLY_NAME_ALIASES") from None


def read_era5_monthly_country(path: Path) -> pd.DataFrame:
    """Monthly country-mean temperatures: ``iso3, month, tmean_c, tmax_c, tmin_c, cdd_month``.

    ``month`` is the first day of the month (datetime64); temperatures in degC are area means over the
    country (not population weighted); ``cdd_month`` is the source's ``cdd_sum_avg`` (degC day month-1,
    area mean; the source does not state its base temperature, so carbonmap does not rely on it).
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"ERA5 monthly country file not found: {path}")
    try:
        raw = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    missing = [c for c in _MONTHLY_COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(f"{path.name} lacks the column(s) {missing}; found {list(raw.columns)}")
    month = pd.to_datetime(raw["Date"], format="%m/%d/%y", errors="coerce")
    if month.isna().any():
        raise IngestError(f"{path.name}: date {raw['Date'][month.isna()].iloc[0]!r} is not M/D/YY")
    if (month.dt.day != 1).any():
        raise IngestError(f"{path.name}: monthly rows must be dated on the 1st, got {month[month.dt.day != 1].iloc[0]}")
    names = raw["Country"].astype(str)
    codes = {n: monthly_iso3(n, path.name) for n in names.unique()}
    df = pd.DataFrame({"iso3": names.map(codes), "month": month,
                       "tmean_c": pd.to_numeric(raw["avg_temp"], errors="coerce"),
                       "tmax_c": pd.to_numeric(raw["avg_max_temp"], errors="coerce"),
                       "tmin_c": pd.to_numeric(raw["avg_min_temp"], errors="coerce"),
                       "cdd_month": pd.to_numeric(raw["cdd_sum_avg"], errors="coerce")})
    df = df[df["iso3"].notna()].copy()
    for c in ("tmean_c", "tmax_c", "tmin_c"):
        if df[c].isna().any():
            r = df[df[c].isna()].iloc[0]
            raise IngestError(f"{path.name}: missing or non-numeric {c} for {r['iso3']} {r['month']:%Y-%m}")
        _check_range(df[c].to_numpy(), c, path.name)
    bad = (df["tmin_c"] > df["tmean_c"] + 1e-6) | (df["tmean_c"] > df["tmax_c"] + 1e-6)
    if bad.any():
        r = df[bad].iloc[0]
        raise IngestError(f"{path.name}: min <= mean <= max fails for {r['iso3']} {r['month']:%Y-%m}")
    dup = df.duplicated(["iso3", "month"], keep=False)
    if dup.any():
        r = df[dup].iloc[0]
        raise IngestError(f"{path.name}: duplicate month {r['month']:%Y-%m} for {r['iso3']}")
    df = df.sort_values(["iso3", "month"]).reset_index(drop=True)
    df.attrs.update({"units": "degC", "weighting": "area mean over the country", "source_file": path.name})
    return df


_DAILY_NAME_RE = re.compile(r"weighted_area_raster_([A-Z]{3})_0_t2m_daily_", re.IGNORECASE)


def read_era5_daily_national(paths: Sequence[Path]) -> pd.DataFrame:
    """Daily national area-weighted 2 m temperature: ``iso3, day, tmean_c`` (degC), sorted, no duplicates."""
    frames = []
    for p in map(Path, paths):
        if not p.is_file():
            raise IngestError(f"ERA5 daily national file not found: {p}")
        m = _DAILY_NAME_RE.search(p.name)
        if not m:
            raise IngestError(f"cannot tell the country from the file name {p.name!r}; expected "
                              f"weighted_area_raster_<ISO3>_0_t2m_daily_<year>.csv")
        try:
            raw = pd.read_csv(p)
        except (pd.errors.ParserError, UnicodeDecodeError) as e:
            raise IngestError(f"{p.name} is not a readable CSV: {e}") from e
        need = ("date", "t2m")
        if any(c not in raw.columns for c in need):
            raise IngestError(f"{p.name} lacks the column(s) {[c for c in need if c not in raw.columns]}")
        day = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
        if day.isna().any():
            raise IngestError(f"{p.name}: date {raw['date'][day.isna()].iloc[0]!r} is not YYYY-MM-DD")
        t = pd.to_numeric(raw["t2m"], errors="coerce")
        if t.isna().any():
            raise IngestError(f"{p.name}: t2m is missing or not numeric on {day[t.isna()].iloc[0]:%Y-%m-%d}")
        _check_range(t.to_numpy(), "t2m", p.name)
        frames.append(pd.DataFrame({"iso3": m.group(1).upper(), "day": day, "tmean_c": t.astype(np.float64)}))
    if not frames:
        raise IngestError("no ERA5 daily national files given")
    df = pd.concat(frames, ignore_index=True)
    dup = df.duplicated(["iso3", "day"], keep=False)
    if dup.any():
        r = df[dup].iloc[0]
        raise IngestError(f"duplicate date {r['day']:%Y-%m-%d} for {r['iso3']} across the daily files")
    df = df.sort_values(["iso3", "day"]).reset_index(drop=True)
    df.attrs.update({"units": "degC", "weighting": "area-weighted national mean"})
    return df


def read_station_temperature(path: Path, meta_path: Path) -> pd.DataFrame:
    """Station daily mean temperature in degC (from degF), long: ``station, name, country, lat, lon, day, tmean_c``."""
    path, meta_path = Path(path), Path(meta_path)
    for p in (path, meta_path):
        if not p.is_file():
            raise IngestError(f"station file not found: {p}")
    meta = pd.read_csv(meta_path, dtype={"id": str}, skipinitialspace=True)
    need = ("id", "name", "country", "latitude", "longitude")
    if any(c not in meta.columns for c in need):
        raise IngestError(f"{meta_path.name} lacks the column(s) {[c for c in need if c not in meta.columns]}")
    wide = pd.read_csv(path, dtype={"date": str})
    if "date" not in wide.columns:
        raise IngestError(f"{path.name} lacks the 'date' column")
    day = pd.to_datetime(wide["date"], format="%Y-%m-%d", errors="coerce")
    if day.isna().any():
        raise IngestError(f"{path.name}: date {wide['date'][day.isna()].iloc[0]!r} is not YYYY-MM-DD")
    if day.duplicated().any():
        raise IngestError(f"{path.name}: duplicate date {day[day.duplicated()].iloc[0]:%Y-%m-%d}")
    stations = [c for c in wide.columns if c != "date"]
    unknown = sorted(set(stations) - set(meta["id"]))
    if unknown:
        raise IngestError(f"{path.name}: station(s) {unknown[:5]} are not in {meta_path.name}")
    vals_f = wide[stations].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    vals_c = (vals_f - 32.0) * 5.0 / 9.0
    _check_range(vals_c, "daily mean temperature (converted from degF)", path.name)
    long = pd.DataFrame({"station": np.repeat(np.array(stations, dtype=object), len(day)),
                         "day": np.tile(day.to_numpy(), len(stations)),
                         "tmean_c": vals_c.T.ravel()})
    m = meta.set_index("id")
    long["name"] = long["station"].map(m["name"])
    long["country"] = long["station"].map(m["country"])
    long["lat"] = long["station"].map(m["latitude"]).astype(np.float64)
    long["lon"] = long["station"].map(m["longitude"]).astype(np.float64)
    long = long.dropna(subset=["tmean_c"])[["station", "name", "country", "lat", "lon", "day", "tmean_c"]]
    long = long.sort_values(["station", "day"]).reset_index(drop=True)
    long.attrs.update({"units": "degC", "converted_from": "degF"})
    return long


class ERA5Adapter(BaseAdapter[xr.DataArray]):
    """ERA5 NetCDF -> ``t2m(day, lat, lon)`` daily means, degC, Zarr.

    ``download`` fetches one day per file through the CDS API, which needs a (free) CDS account and
    its API key; without it, it raises an IngestError saying so.
    """

    info = GRID_INFO

    def download(self, start: date, end: date) -> list[Path]:
        """Hourly 2 m temperature NetCDF per month from the CDS API; needs the ``cds_api_key`` setting."""
        from ingest.era5_cds import download_era5

        return download_era5(start, end, settings=self.settings)

    def read(self, paths: Sequence[Path]) -> xr.DataArray:
        if not paths:
            raise IngestError("ERA5 needs at least one NetCDF file")
        parts = [read_era5_grid(p) for p in paths]
        t = xr.concat(parts, dim="time") if len(parts) > 1 else parts[0]
        if pd.DatetimeIndex(t["time"].values).has_duplicates:
            raise IngestError("the ERA5 files overlap in time (duplicate time steps)")
        return daily_mean(t.sortby("time"))


class _CSVDownload(BaseAdapter[pd.DataFrame]):
    """Download of a CSV published at a fixed raw URL (``info.url``), via the shared cache."""

    def download(self, start: date, end: date) -> list[Path]:
        from ingest.download import fetch

        return [fetch(self.info.url, source=self.info.name, settings=self.settings)]


class ERA5MonthlyCountryAdapter(_CSVDownload):
    info = MONTHLY_INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("the monthly ERA5 country table is one CSV file")
        return read_era5_monthly_country(paths[0])


class ERA5DailyNationalAdapter(BaseAdapter[pd.DataFrame]):
    info = DAILY_INFO

    def download(self, start: date, end: date) -> list[Path]:
        from ingest.download import fetch

        base = ("https://raw.githubusercontent.com/sparklabnyc/ERA5-grids-into-national-subnational-boundaries-"
                "Worldwide/main/output/t2m/weighted_area_raster_{iso}_0_t2m_daily_{year}.csv")
        return [fetch(base.format(iso=iso, year=y), source=self.info.name, settings=self.settings)
                for iso in ("USA", "DEU") for y in range(start.year, end.year + 1)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        return read_era5_daily_national(paths)


class StationTemperatureAdapter(BaseAdapter[pd.DataFrame]):
    info = STATION_INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        ps = sorted(map(Path, paths), key=lambda p: "meta" in p.name)
        if len(ps) != 2 or "meta" not in ps[1].name:
            raise IngestError("station temperature takes the daily CSV and the *_meta.csv file")
        return read_station_temperature(ps[0], ps[1])
