"""India's monthly oil, gas and coal statistics (CICERO compilations) -> the canonical activity table.

Files (robbieandrew/robbieandrew.github.io@0cf3c5b6:india/data/, shipped under ``activity/india-monthly/``):

- ``India_monthly_data.csv`` (``yyyymm`` + 211 series) with ``India_monthly_metadata.json`` (``fields``:
  ``name``, ``title``, ``units``, ``organisation``, ``source``, ``URI``).  Oil:
  :func:`read_india_oil_monthly` takes PPAC's consumption of petroleum products ``PET.HSD.CON`` ->
  ``diesel``, ``PET.MSP.CON`` -> ``petrol``, ``PET.ATF.CON`` -> ``jet_fuel`` (the metadata title says
  "Avgas", but PPAC's series is ATF, aviation turbine fuel: ~700 kt a month), ``PET.LPG.CON`` -> ``lpg``.
  Gas: :func:`read_india_gas_monthly` takes ``GAS.CON.TOT`` -> ``natural_gas``.  Units are read from the
  metadata (``thousands of tonnes`` -> kt; ``millions of tonnes`` -> x 1000; ``million standard cubic
  metres`` -> bcm, x 0.001); a file without its metadata json next to it (``..._data.csv`` ->
  ``..._metadata.json``) is refused.
- ``monthly_petrcons_tonnes_data.csv`` (``YYYYMM, Diesel, Petrol, All others``; no metadata): Diesel and
  Petrol in **Mt** despite the name (equal to PET.HSD.CON / PET.MSP.CON / 1000 within 5e-4) -> kt.
- ``india_monthly_gas_data.csv`` + ``india_monthly_gas_metadata.json``: the gas columns of the main file.
- ``monthly_coal_full_data.csv`` (``YYYYMM``, "National coal production", "Lignite production", "CIL
  production", "SCCL production", "Net Imports", "Power station stocks", "Consumption: All stations",
  "CIL despatches"; Mt, no metadata; they equal the main file's Coal Controller / CEA series whose metadata
  say "millions of tonnes"): :func:`read_india_coal_monthly` -> ``raw_coal`` (hard coal production, lignite
  excluded) and ``coal_consumption_power`` (coal consumed at all utility power stations, CEA; ~80% of
  India's coal use; not total consumption).

Months are ``YYYYMM``; files run to the current month with empty cells for unpublished months: empty
cells are dropped, never zero-filled.  Indian fiscal years start in April (series often start in April).

**Publication lags** (conservative; at the commit, ~22 August 2026, oil ran to July 2026, gas and coal to
June 2026): ``india_ppac_oil`` 30 (PPAC's provisional consumption comes within ~3 weeks),
``india_ppac_gas`` 55 and ``india_coal`` 55 (power-station consumption from CEA ~7 weeks).

Licence: CC BY 4.0 (CICERO compilation); PPAC, Ministry of Coal, Coal Controller's Organisation and CEA data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import finish, register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo, read_csv_checked

ISO3 = "IND"
DIR = "activity/india-monthly"
RAW = "https://raw.githubusercontent.com/robbieandrew/robbieandrew.github.io/0cf3c5b6/india/data/"
OIL_SOURCE, GAS_SOURCE, COAL_SOURCE = "india_ppac_oil", "india_ppac_gas", "india_coal"
LAG_OIL = register_lag(OIL_SOURCE, 30)
LAG_GAS = register_lag(GAS_SOURCE, 55)
LAG_COAL = register_lag(COAL_SOURCE, 55)

OIL_SERIES = {"PET.HSD.CON": "diesel", "PET.MSP.CON": "petrol", "PET.ATF.CON": "jet_fuel", "PET.LPG.CON": "lpg"}
GAS_SERIES = {"GAS.CON.TOT": "natural_gas"}
PETRCONS_SERIES = {"Diesel": "diesel", "Petrol": "petrol"}
COAL_SERIES = {"National coal production": "raw_coal", "Consumption: All stations": "coal_consumption_power"}
UNIT_FACTORS: dict[str, tuple[str, float]] = {
    "thousands of tonnes": ("kt", 1.0),
    "millions of tonnes": ("kt", 1000.0),
    "million standard cubic metres": ("bcm", 1e-3),
}
"""Metadata ``units`` -> (canonical unit, factor) for the oil and gas series."""
RANGE = {"diesel": (1000.0, 20_000.0), "petrol": (200.0, 10_000.0), "jet_fuel": (50.0, 3000.0),
         "lpg": (100.0, 6000.0), "natural_gas": (1.0, 20.0), "raw_coal": (10.0, 300.0),
         "coal_consumption_power": (10.0, 300.0)}
"""Plausible median of a month for India (canonical units): a kt/Mt or mmscm/bcm slip fails."""


def _read_csv(path: Path) -> pd.DataFrame:
    return read_csv_checked(path, "India monthly", dtype=str, keep_default_na=False)


def metadata_path(path: Path) -> Path:
    """``India_monthly_data.csv`` -> ``India_monthly_metadata.json`` (same folder)."""
    name = Path(path).name.removesuffix(".gz")
    if not name.endswith("_data.csv"):
        raise IngestError(f"{name}: cannot tell its metadata file (expected a name ending in _data.csv)")
    return Path(path).with_name(name.removesuffix("_data.csv") + "_metadata.json")


def read_metadata(path: Path) -> dict[str, dict[str, str]]:
    """CICERO metadata json -> ``{series name: field dict}``."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"metadata file not found: {path} (the units of the data file are read from it)")
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))["fields"]
        return {f["name"]: f for f in fields}
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise IngestError(f"{path.name} is not CICERO metadata (a json with 'fields'): {e}") from e


def _long(raw: pd.DataFrame, name: str, month_col: str, series: dict[str, tuple[str, str, float]],
          source: str) -> pd.DataFrame:
    """``series``: file column -> (variable, unit, factor).  Checks months, numbers and plausible ranges."""
    ym = raw[month_col].str.strip()
    period = pd.to_datetime(ym, format="%Y%m", errors="coerce")
    bad = period.isna() | ~ym.str.fullmatch(r"\d{6}")
    if bad.any():
        raise IngestError(f"{name}: month {ym[bad].iloc[0]!r} is not YYYYMM")
    if period.duplicated().any():
        raise IngestError(f"{name}: month {ym[period.duplicated()].iloc[0]} appears twice")
    frames = []
    for col, (var, unit, factor) in series.items():
        text = raw[col].str.strip()
        value = pd.to_numeric(text.replace("", None), errors="coerce")
        nonnum = value.isna() & (text != "")
        if nonnum.any():
            raise IngestError(f"{name}: {col} {text[nonnum].iloc[0]!r} in {ym[nonnum].iloc[0]} is not a number")
        value = value * factor
        lo, hi = RANGE[var]
        med = value.median()
        if pd.notna(med) and not lo <= med <= hi:
            raise IngestError(f"{name}: {col} has a monthly median of {med:g} {unit}, outside {lo:g}..{hi:g}: "
                              f"wrong units?")
        frames.append(pd.DataFrame({"period": period, "variable": var, "value": value, "unit": unit}))
    df = pd.concat(frames, ignore_index=True).assign(iso3=ISO3, region="", frequency="monthly", source=source)
    return finish(df, name, source=source, max_value={v: hi * 3 for v, (_, hi) in RANGE.items()})


def _need(raw: pd.DataFrame, cols: Sequence[str], name: str) -> None:
    missing = [c for c in cols if c not in raw.columns]
    if missing:
        raise IngestError(f"{name} lacks the column(s) {missing}")


def _with_metadata(path: Path, raw: pd.DataFrame, names: dict[str, str], metadata: Path | None
                   ) -> dict[str, tuple[str, str, float]]:
    meta = read_metadata(metadata or metadata_path(path))
    out = {}
    for col, var in names.items():
        if col not in meta:
            raise IngestError(f"{Path(path).name}: the metadata has no entry for {col}")
        units = str(meta[col].get("units", "")).strip().lower()
        if units not in UNIT_FACTORS:
            raise IngestError(f"{Path(path).name}: {col} is in {units!r}; expected one of {sorted(UNIT_FACTORS)}")
        unit, factor = UNIT_FACTORS[units]
        out[col] = (var, unit, factor)
    return out


def read_india_oil_monthly(path: Path, metadata: Path | None = None) -> pd.DataFrame:
    """Diesel, petrol, jet_fuel (ATF), lpg consumption in kt per month (India_monthly_data.csv with its
    metadata), or diesel and petrol from monthly_petrcons_tonnes_data.csv (Mt -> kt)."""
    path = Path(path)
    raw = _read_csv(path)
    if "PET.HSD.CON" in raw.columns:
        _need(raw, ["yyyymm", *OIL_SERIES], path.name)
        return _long(raw, path.name, "yyyymm", _with_metadata(path, raw, OIL_SERIES, metadata), OIL_SOURCE)
    if list(raw.columns) == ["YYYYMM", "Diesel", "Petrol", "All others"]:
        series = {c: (v, "kt", 1000.0) for c, v in PETRCONS_SERIES.items()}
        return _long(raw, path.name, "YYYYMM", series, OIL_SOURCE)
    raise IngestError(f"{path.name}: neither India_monthly_data (PET.*.CON) nor monthly_petrcons layout; "
                      f"columns {list(raw.columns)[:6]}")


def read_india_gas_monthly(path: Path, metadata: Path | None = None) -> pd.DataFrame:
    """Natural gas consumption (GAS.CON.TOT, bcm per month) from india_monthly_gas_data.csv or
    India_monthly_data.csv, units from the metadata json."""
    path = Path(path)
    raw = _read_csv(path)
    month = "YYYYMM" if "YYYYMM" in raw.columns else "yyyymm"
    _need(raw, [month, *GAS_SERIES], path.name)
    return _long(raw, path.name, month, _with_metadata(path, raw, GAS_SERIES, metadata), GAS_SOURCE)


def read_india_coal_monthly(path: Path) -> pd.DataFrame:
    """monthly_coal_full_data.csv -> raw_coal (hard coal production) and coal_consumption_power (Mt)."""
    path = Path(path)
    raw = _read_csv(path)
    _need(raw, ["YYYYMM", *COAL_SERIES], path.name)
    series = {c: (v, "Mt", 1.0) for c, v in COAL_SERIES.items()}
    return _long(raw, path.name, "YYYYMM", series, COAL_SOURCE)


class _IndiaAdapter(BaseAdapter):
    files: tuple[str, ...] = ()

    def __init__(self, base_url: str = RAW, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.base_url = base_url.rstrip("/") + "/"

    def download(self, start: date, end: date) -> list[Path]:
        """The data file(s) and metadata at the pinned commit (cached, sha256 sidecar, retried)."""
        from ingest.download import fetch

        return [fetch(self.base_url + f, source=self.info.name, settings=self.settings) for f in self.files]

    def _data(self, paths: Sequence[Path]) -> Path:
        data = [Path(p) for p in paths if not str(p).endswith(".json")]
        if len(data) != 1:
            raise IngestError(f"give exactly one {self.info.name} data file (and its metadata json)")
        return data[0]

    def validate(self, data: pd.DataFrame) -> None:
        finish(data, self.info.name, source=self.info.name, max_value={v: hi * 3 for v, (_, hi) in RANGE.items()})


def _info(name: str, title: str, shipped: tuple[str, ...], note: str) -> SourceInfo:
    return SourceInfo(name=name, title=title, kind="activity",
                      licence="CC-BY-4.0 (CICERO compilation); Indian official statistics",
                      url="https://robbieandrew.github.io/india/", shipped=shipped, note=note)


class IndiaOilAdapter(_IndiaAdapter):
    """PPAC consumption of diesel, petrol, ATF and LPG (kt per month)."""

    info = _info(OIL_SOURCE, "India monthly consumption of petroleum products (PPAC, via CICERO)",
                 (f"{DIR}/India_monthly_data.csv", f"{DIR}/India_monthly_metadata.json",
                  f"{DIR}/monthly_petrcons_tonnes_data.csv"),
                 "publisher PPAC (Petroleum Planning & Analysis Cell); robbieandrew.github.io@0cf3c5b6:india/data/")
    files = ("India_monthly_data.csv", "India_monthly_metadata.json")

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        return read_india_oil_monthly(self._data(paths))


class IndiaGasAdapter(_IndiaAdapter):
    """PPAC natural gas consumption (bcm per month)."""

    info = _info(GAS_SOURCE, "India monthly natural gas consumption (PPAC, via CICERO)",
                 (f"{DIR}/india_monthly_gas_data.csv", f"{DIR}/india_monthly_gas_metadata.json"),
                 "publisher PPAC; robbieandrew.github.io@0cf3c5b6:india/data/india_monthly_gas_data.csv")
    files = ("india_monthly_gas_data.csv", "india_monthly_gas_metadata.json")

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        return read_india_gas_monthly(self._data(paths))


class IndiaCoalAdapter(_IndiaAdapter):
    """Coal production and power-station coal consumption (Mt per month)."""

    info = _info(COAL_SOURCE, "India monthly coal production and power-station coal consumption (via CICERO)",
                 (f"{DIR}/monthly_coal_full_data.csv",),
                 "publishers Ministry of Coal / Coal Controller's Organisation (production), CEA (consumption)")
    files = ("monthly_coal_full_data.csv",)

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        return read_india_coal_monthly(self._data(paths))
