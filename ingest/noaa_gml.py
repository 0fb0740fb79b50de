"""NOAA GML Mauna Loa CO2: daily and monthly means (``co2_daily_mlo.csv``, ``co2_mm_mlo.csv``).

Layouts read (as published at gml.noaa.gov/webdata/ccgg/trends/co2/, with their ``#`` comment headers):

- **daily** ``co2_daily_mlo.csv``: no column header line; ``year,month,day,decimal date,value`` with
  the value in ppm (dry-air mole fraction, X2019 scale).  Missing days are absent; a value of
  -999.99 (NOAA's missing flag) is kept as NaN with ``missing = True``.
  :func:`read_daily` -> ``date, decimal_date, co2_ppm, missing``.
- **monthly** ``co2_mm_mlo.csv``: header line
  ``year,month,decimal date,average,deseasonalized,ndays,sdev,unc``; ``average`` and
  ``deseasonalized`` in ppm.  Negative ``ndays``/``sdev``/``unc`` mean "no information"
  (interpolated NOAA months or SIO data) and become NaN, flagged ``interpolated = True``;
  -99.99 / -999.99 averages are missing.  :func:`read_monthly` -> ``month, decimal_date,
  co2_ppm, deseasonalized_ppm, ndays, sdev_ppm, unc_ppm, interpolated, missing``.

Validation: the comment header must name NOAA GML (a file of another station or gas is refused
by its header), columns and dates must parse, dates strictly increase with no duplicates, and
CO2 lies in :data:`PPM_RANGE` (anything else means wrong units, e.g. ppb or a mole fraction).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo

DAILY_FILE = "ground_station/co2_daily_mlo.csv"
MONTHLY_FILE = "ground_station/co2_mm_mlo.csv"
DAILY_URL = "https://gml.noaa.gov/webdata/ccgg/trends/co2/co2_daily_mlo.csv"
MONTHLY_URL = "https://gml.noaa.gov/webdata/ccgg/trends/co2/co2_mm_mlo.csv"
MISSING = (-999.99, -99.99)
"""NOAA's missing-value flags for CO2 (ppm)."""
PPM_RANGE = (250.0, 600.0)
"""Plausible Mauna Loa CO2 since 1958, ppm; values outside mean wrong units or a wrong file."""
MONTHLY_COLUMNS = ("year", "month", "decimal date", "average", "deseasonalized", "ndays", "sdev", "unc")

DAILY_INFO = SourceInfo(
    name="noaa_gml_daily",
    title="NOAA GML Mauna Loa daily mean CO2 (ppm)",
    kind="activity",
    licence="NOAA GML: freely available, cite Keeling et al. / NOAA GML (public domain, US government)",
    url=DAILY_URL,
    shipped=(DAILY_FILE,),
    note="Dec 2022 - Jul 2023 measured at Maunakea (Mauna Loa volcano eruption), as the header says",
)
MONTHLY_INFO = SourceInfo(
    name="noaa_gml_monthly",
    title="NOAA GML Mauna Loa monthly mean CO2 (ppm)",
    kind="activity",
    licence=DAILY_INFO.licence,
    url=MONTHLY_URL,
    shipped=(MONTHLY_FILE,),
    note="1958-1974 from Scripps (SIO); negative ndays/sdev/unc mean interpolated or unknown",
)


def _split_header(path: Path) -> tuple[list[str], str]:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"NOAA GML file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise IngestError(f"{path.name} is not a text CSV: {e}") from e
    lines = text.splitlines()
    comments = [ln for ln in lines if ln.startswith("#")]
    body = "\n".join(ln for ln in lines if ln.strip() and not ln.startswith("#"))
    if not any("GML" in c or "NOAA" in c for c in comments):
        raise IngestError(f"{path.name} lacks the NOAA GML '#' comment header; is it a NOAA GML trends file?")
    if not body:
        raise IngestError(f"{path.name} has a header but no data rows")
    return comments, body


def _check_ppm(values: pd.Series, name: str) -> None:
    v = values.dropna()
    if v.empty:
        raise IngestError(f"{name}: no CO2 values")
    lo, hi = PPM_RANGE
    if v.min() < lo or v.max() > hi:
        raise IngestError(f"{name}: CO2 must be in ppm ({lo:g}..{hi:g}), found {v.min():g}..{v.max():g}; "
                          f"wrong units or not a Mauna Loa CO2 file?")


def _check_dates(t: pd.Series, name: str) -> None:
    if t.duplicated().any():
        raise IngestError(f"{name}: duplicate date {t[t.duplicated()].iloc[0].date()}")
    if not t.is_monotonic_increasing:
        raise IngestError(f"{name}: dates are not in increasing order")


def read_daily(path: Path) -> pd.DataFrame:
    """Daily means: ``date`` (datetime64), ``decimal_date``, ``co2_ppm`` (NaN if flagged), ``missing``."""
    path = Path(path)
    _, body = _split_header(path)
    first = body.split("\n", 1)[0].split(",")
    if len(first) != 5:
        raise IngestError(f"{path.name}: daily rows must be 'year,month,day,decimal date,value' (5 fields), "
                          f"got {len(first)} fields: {','.join(first)!r}")
    try:
        raw = pd.read_csv(io.StringIO(body), header=None, names=["year", "month", "day", "decimal_date", "value"])
    except (pd.errors.ParserError, ValueError) as e:
        raise IngestError(f"{path.name}: not a 5-column daily CSV ({e})") from e
    num = raw.apply(pd.to_numeric, errors="coerce")
    if num.isna().any().any():
        bad = int(np.flatnonzero(num.isna().any(axis=1).to_numpy())[0])
        raise IngestError(f"{path.name}: non-numeric field in data row {bad + 1}: {raw.iloc[bad].tolist()}")
    t = pd.to_datetime(num[["year", "month", "day"]].astype(int), errors="coerce")
    if t.isna().any():
        raise IngestError(f"{path.name}: invalid date in row {int(np.flatnonzero(t.isna())[0]) + 1}")
    _check_dates(t, path.name)
    missing = num["value"].isin(MISSING) | (num["value"] < 0)
    co2 = num["value"].where(~missing)
    _check_ppm(co2, path.name)
    out = pd.DataFrame({"date": t, "decimal_date": num["decimal_date"], "co2_ppm": co2, "missing": missing})
    out.attrs.update({"units": "ppm", "station": "MLO", "source_file": path.name})
    return out


def read_monthly(path: Path) -> pd.DataFrame:
    """Monthly means with NaN for NOAA's negative 'no information' flags (see module docstring)."""
    path = Path(path)
    _, body = _split_header(path)
    try:
        raw = pd.read_csv(io.StringIO(body))
    except (pd.errors.ParserError, ValueError) as e:
        raise IngestError(f"{path.name}: not a readable monthly CSV ({e})") from e
    cols = [c.strip() for c in raw.columns]
    raw.columns = cols
    missing_cols = [c for c in MONTHLY_COLUMNS if c not in cols]
    if missing_cols:
        raise IngestError(f"{path.name} lacks the column(s) {missing_cols}; found {cols}")
    num = raw[list(MONTHLY_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    if num[["year", "month", "average"]].isna().any().any():
        raise IngestError(f"{path.name}: non-numeric year/month/average values")
    if not num["month"].between(1, 12).all():
        raise IngestError(f"{path.name}: month outside 1..12")
    t = pd.to_datetime(pd.DataFrame({"year": num["year"].astype(int), "month": num["month"].astype(int), "day": 1}))
    _check_dates(t, path.name)
    missing = num["average"].isin(MISSING) | (num["average"] < 0)
    interp = num["ndays"] < 0
    out = pd.DataFrame({
        "month": t, "decimal_date": num["decimal date"],
        "co2_ppm": num["average"].where(~missing),
        "deseasonalized_ppm": num["deseasonalized"].where(num["deseasonalized"] > 0),
        "ndays": num["ndays"].where(~interp),
        "sdev_ppm": num["sdev"].where(num["sdev"] >= 0),
        "unc_ppm": num["unc"].where(num["unc"] >= 0),
        "interpolated": interp, "missing": missing,
    })
    _check_ppm(out["co2_ppm"], path.name)
    _check_ppm(out["deseasonalized_ppm"], path.name)
    out.attrs.update({"units": "ppm", "station": "MLO", "source_file": path.name})
    return out


class NOAAGMLDailyAdapter(BaseAdapter[pd.DataFrame]):
    """``co2_daily_mlo.csv`` -> ``date, decimal_date, co2_ppm, missing`` (ppm)."""

    info = DAILY_INFO

    def download(self, start: date, end: date) -> list[Path]:
        from ingest.download import fetch

        return [fetch(DAILY_URL, source=self.info.name, settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("NOAA GML daily takes exactly one co2_daily_mlo.csv file")
        return read_daily(paths[0])

    def validate(self, data: pd.DataFrame) -> None:
        need = {"date", "co2_ppm", "missing"}
        if not need <= set(data.columns):
            raise IngestError(f"NOAA GML daily table lacks {sorted(need - set(data.columns))}")
        _check_dates(data["date"], "NOAA GML daily table")
        _check_ppm(data["co2_ppm"], "NOAA GML daily table")


class NOAAGMLMonthlyAdapter(BaseAdapter[pd.DataFrame]):
    """``co2_mm_mlo.csv`` -> monthly means (ppm) with interpolation flags."""

    info = MONTHLY_INFO

    def download(self, start: date, end: date) -> list[Path]:
        from ingest.download import fetch

        return [fetch(MONTHLY_URL, source=self.info.name, settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("NOAA GML monthly takes exactly one co2_mm_mlo.csv file")
        return read_monthly(paths[0])

    def validate(self, data: pd.DataFrame) -> None:
        need = {"month", "co2_ppm", "interpolated"}
        if not need <= set(data.columns):
            raise IngestError(f"NOAA GML monthly table lacks {sorted(need - set(data.columns))}")
        _check_dates(data["month"], "NOAA GML monthly table")
        _check_ppm(data["co2_ppm"], "NOAA GML monthly table")
