"""NASA FIRMS MODIS Collection 6.1 active fires (CSV) -> daily gridded fire counts and FRP.

Layout read (FIRMS "MODIS_C6_1_Global_24h.csv" / archive CSV, one row per fire pixel):
``latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,confidence,version,bright_t31,frp,daynight``

- ``latitude``/``longitude``: pixel centre, degrees (WGS84);
- ``brightness``/``bright_t31``: brightness temperature of bands 21/22 and 31, K;
- ``scan``/``track``: pixel size, km (1.0..4.8 for MODIS);
- ``acq_date`` ``YYYY-MM-DD`` and ``acq_time`` ``HHMM`` (UTC);
- ``satellite``: ``T`` (Terra) or ``A`` (Aqua) (``Terra``/``Aqua`` in archive files);
- ``confidence``: 0..100 (%) for MODIS;
- ``frp``: fire radiative power, MW;  ``daynight``: ``D`` or ``N``.

:func:`read_firms_csv` validates and returns the detections (``time`` = UTC acquisition time);
:func:`grid_daily` bins them to ``fire_count(day, lat, lon)`` (detections per cell per UTC day) and
``frp(day, lat, lon)`` (sum of FRP, MW) on a :class:`~carbonmap.contract.Grid` (default 0.1 degree,
cells half-open as :meth:`Grid.cell_index`).  Detections below ``min_confidence`` (default
:data:`MIN_CONFIDENCE` = 30, FIRMS' boundary between "low" and "nominal") are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import BaseAdapter, IngestError, SourceInfo

SHIPPED = "satellite/modis-firms/MODIS_C6_1_Global_24h.csv"
COLUMNS = ("latitude", "longitude", "brightness", "scan", "track", "acq_date", "acq_time", "satellite",
           "confidence", "version", "bright_t31", "frp", "daynight")
MIN_CONFIDENCE = 30
"""MODIS confidence (%) kept by default: FIRMS calls 0-29 low, 30-79 nominal, 80-100 high."""
NRT_URL = "https://firms.modaps.eosdis.nasa.gov/data/active_fire/modis-c6.1/csv/MODIS_C6_1_Global_{window}.csv"
"""FIRMS' public rolling files (window ``24h``, ``48h`` or ``7d``); older days need the area API and a MAP_KEY."""
AREA_API = "https://firms.modaps.eosdis.nasa.gov/api/area/csv/{key}/MODIS_NRT/world/{days}/{date}"

INFO = SourceInfo(
    name="firms",
    title="NASA FIRMS MODIS C6.1 active fire detections (CSV)",
    kind="satellite",
    licence="NASA FIRMS, public (cite NASA FIRMS / LANCE); no licence seen in the source repository",
    url="https://firms.modaps.eosdis.nasa.gov/active_fire/",
    shipped=(SHIPPED,),
    note="2023-08-01/02, 36,555 detections; gridded to daily fire counts and FRP",
)


def read_firms_csv(path: Path) -> pd.DataFrame:
    """Validated detections: the published columns plus ``time`` (UTC datetime64)."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"FIRMS file not found: {path}")
    try:
        raw = pd.read_csv(path, dtype={"acq_time": str, "acq_date": str, "version": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(f"{path.name} lacks the FIRMS MODIS column(s) {missing}; found {list(raw.columns)}")
    if raw.empty:
        raise IngestError(f"{path.name} has no detections")
    num_cols = ["latitude", "longitude", "brightness", "scan", "track", "confidence", "bright_t31", "frp"]
    num = raw[num_cols].apply(pd.to_numeric, errors="coerce")
    if num.isna().any().any():
        col = num.columns[num.isna().any()][0]
        row = int(np.flatnonzero(num[col].isna().to_numpy())[0])
        raise IngestError(f"{path.name}: non-numeric {col} in data row {row + 1}: {raw[col].iloc[row]!r} "
                          f"(is this a VIIRS file? its confidence is l/n/h)")
    checks = {
        "latitude": (-90.0, 90.0), "longitude": (-180.0, 180.0), "confidence": (0.0, 100.0),
        "brightness": (200.0, 600.0), "bright_t31": (150.0, 450.0), "scan": (0.5, 6.0), "track": (0.5, 6.0),
        "frp": (-1.0, 50000.0),
    }
    for col, (lo, hi) in checks.items():
        v = num[col]
        if v.min() < lo or v.max() > hi:
            raise IngestError(f"{path.name}: {col} must lie in {lo:g}..{hi:g}, found {v.min():g}..{v.max():g}"
                              + (" (temperatures in K expected)" if "bright" in col else ""))
    hhmm = raw["acq_time"].astype(str).str.zfill(4)
    t = pd.to_datetime(raw["acq_date"].astype(str) + " " + hhmm, format="%Y-%m-%d %H%M", errors="coerce")
    if t.isna().any():
        i = int(np.flatnonzero(t.isna().to_numpy())[0])
        raise IngestError(f"{path.name}: acq_date/acq_time {raw['acq_date'].iloc[i]!r} {raw['acq_time'].iloc[i]!r} "
                          f"is not YYYY-MM-DD HHMM")
    sat = raw["satellite"].astype(str).str.strip().replace({"Terra": "T", "Aqua": "A"})
    if not sat.isin(["T", "A"]).all():
        raise IngestError(f"{path.name}: satellite must be T/Terra or A/Aqua, found {sorted(set(sat) - {'T', 'A'})}")
    dn = raw["daynight"].astype(str).str.strip()
    if not dn.isin(["D", "N"]).all():
        raise IngestError(f"{path.name}: daynight must be D or N")
    out = num.assign(time=t, satellite=sat, daynight=dn, version=raw["version"].astype(str))
    key = ["latitude", "longitude", "time", "satellite"]
    if out.duplicated(key).any():
        raise IngestError(f"{path.name}: duplicate detections (same place, time and satellite)")
    out.attrs.update({"source_file": path.name, "units": "frp: MW; brightness: K; scan/track: km"})
    return out


def grid_daily(fires: pd.DataFrame, grid: Grid | None = None, min_confidence: float = MIN_CONFIDENCE) -> xr.Dataset:
    """``fire_count(day, lat, lon)`` (int32, detections) and ``frp(day, lat, lon)`` (float32, MW summed)."""
    grid = grid or Grid(0.1)
    f = fires[fires["confidence"] >= min_confidence]
    if f.empty:
        raise IngestError(f"no FIRMS detections with confidence >= {min_confidence}")
    row, col = grid.cell_index(f["longitude"].to_numpy(), f["latitude"].to_numpy())
    ok = row >= 0
    day = f["time"].dt.normalize().to_numpy()[ok]
    days, di = np.unique(day, return_inverse=True)
    ncell = grid.nlat * grid.nlon
    flat = di * ncell + row[ok] * grid.nlon + col[ok]
    size = len(days) * ncell
    count = np.bincount(flat, minlength=size).astype(np.int32).reshape(len(days), *grid.shape)
    frp = np.bincount(flat, weights=f["frp"].to_numpy()[ok], minlength=size).astype(np.float32)
    frp = frp.reshape(len(days), *grid.shape)
    coords = {"day": days.astype("datetime64[ns]"), "lat": grid.lat, "lon": grid.lon}
    return xr.Dataset(
        {"fire_count": (("day", "lat", "lon"), count, {"units": "1", "long_name": "MODIS active fire detections",
                                                       "cell_methods": "time: sum (UTC day) area: sum"}),
         "frp": (("day", "lat", "lon"), frp, {"units": "MW", "long_name": "summed fire radiative power",
                                              "cell_methods": "time: sum (UTC day) area: sum"})},
        coords=coords, attrs={"min_confidence": float(min_confidence), **grid.to_attrs()})


class FIRMSAdapter(BaseAdapter[xr.Dataset]):
    """FIRMS MODIS CSV -> daily ``fire_count``/``frp`` grids at 0.1 degree (Zarr)."""

    info = INFO
    grid = Grid(0.1)

    def download(self, start: date, end: date) -> list[Path]:
        """The public rolling 24h/48h/7d file if ``start`` is within a week and no MAP_KEY is set; else the
        area API (:func:`ingest.firms_api.download_firms`, <= 10-day calls, needs ``Settings.firms_map_key``)."""
        from ingest.download import fetch
        from ingest.firms_api import download_firms

        age = (date.today() - start).days
        if age > 7 or self.settings.firms_map_key is not None:
            return download_firms(start, end, settings=self.settings)
        window = "24h" if age <= 1 else "48h" if age <= 2 else "7d"
        name = f"MODIS_C6_1_Global_{window}_{date.today().isoformat()}.csv"
        return [fetch(NRT_URL.format(window=window), source=self.info.name, settings=self.settings, filename=name)]

    def read(self, paths: Sequence[Path]) -> xr.Dataset:
        if not paths:
            raise IngestError("no FIRMS files given")
        frames = [read_firms_csv(p) for p in paths]
        fires = pd.concat(frames, ignore_index=True).drop_duplicates(["latitude", "longitude", "time", "satellite"])
        return grid_daily(fires, self.grid)

    def validate(self, data: xr.Dataset) -> None:
        for v in ("fire_count", "frp"):
            if v not in data:
                raise IngestError(f"FIRMS grid lacks {v!r}")
        if pd.Index(data["day"].values).has_duplicates:
            raise IngestError("FIRMS grid has duplicate days")
        if data["frp"].attrs.get("units") != "MW":
            raise IngestError(f"FIRMS frp must be in MW, got {data['frp'].attrs.get('units')!r}")

