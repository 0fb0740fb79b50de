"""Carbon Monitor Power (CM Power): monthly generation by country and fuel, China daily, data sources.

Files (Carbon Monitor Power, Zhu Deng / Kow et al.; published through the KowComical GitHub repositories):

- ``cm_power_monthly_by_country_fuel_vs_iea.csv`` (upstream ``data/data_for_scatter_plot.csv`` of
  KowComical/CM_Power_Website): columns ``year, month, country, type, value, iea``; one row per
  (country, month, type), ``value`` = CM Power generation, ``iea`` = IEA Monthly Electricity Statistics
  for the same cell, both TWh per month.  ``type`` is one of :data:`TYPES`; in the file ``fossil = coal +
  gas + oil``, ``renewables = hydro + wind + solar + other`` and ``total = fossil + nuclear +
  renewables`` (to rounding; checked for ``value``).  ``other`` is CM Power's "other sources"
  (biomass, geothermal, ...) and is counted inside ``renewables``.
  :func:`read_cm_power_monthly` -> canonical table of the CM values (source ``cm_power``);
  :func:`read_cm_power_iea` -> the IEA values (source ``cm_power_iea``).
  Countries are named in English; ISO3 via :mod:`ingest.country_names`; the aggregate ``EU27&UK``
  (EU-27 plus the United Kingdom) is kept as ``iso3 = "EU28"`` (not ``EU27``: it includes the UK).
- ``cm_power_china_daily_by_fuel_gwh.csv`` (KowComical/CM_China_Database ``CM_Power_gwh - temp.csv``):
  ``country, date, sector, value, timestamp``; China only, ``date`` as ``dd/mm/YYYY``, ``value`` GWh per
  day, ``timestamp`` Unix seconds of the same day (checked against ``date``, which catches a month/day
  swap).  The daily values are CEC monthly totals spread over days (e.g. 30 and 31 January 2021 are
  identical), so use them for monthly sums, not for day-to-day variation.  :func:`read_cm_power_china_daily`
  -> canonical daily table (source ``cm_power_china_daily``, GWh).
- ``cm_power_data_sources_by_country.csv`` (``data/data_description.csv``): per country the data
  provider, URL, continent, time resolution, update frequency, whether sub-national data exist and the
  start date.  :func:`read_cm_power_sources` (a table) and :func:`source_notes` (iso3 -> one line).

Publication lags (:func:`ingest.activity.register_lag`): ``cm_power`` 45 days: the data-sources file
lists an hourly or daily *update* for most countries (ENTSO-E, EIA, BMRS, ONS, ...), but a *monthly*
update for China (CEC), Japan (OCCTO), Mexico, Canada, New Zealand and a few small systems, so a month is
complete for every country about six weeks after it ends (CEC releases a month in the middle of the next).
``cm_power_iea`` 105 days: the monthly file only carries months that IEA has published; the upstream
``iea_compare_metadata.json`` showed CM Power data to 2026-07-13 while the IEA comparison ended in
2026-03 (about 104 days after the end of March).  ``cm_power_china_daily`` 45 days (CEC monthly data).
Note that the shipped monthly file ends in the last IEA month (2026-03), although CM Power itself runs
closer to real time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import finish, register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo, need_columns, read_csv_checked
from ingest.country_names import NAME_TO_ISO3

SOURCE = "cm_power"
SOURCE_IEA = "cm_power_iea"
SOURCE_CHINA = "cm_power_china_daily"
LAG_DAYS = register_lag(SOURCE, 45)
LAG_DAYS_IEA = register_lag(SOURCE_IEA, 105)
LAG_DAYS_CHINA = register_lag(SOURCE_CHINA, 45)

MONTHLY_COLUMNS = ("year", "month", "country", "type", "value", "iea")
CHINA_COLUMNS = ("country", "date", "sector", "value", "timestamp")
SOURCES_COLUMNS = ("country", "source", "source_url", "continent", "resolution", "update_frequency",
                   "region_data", "starting_date")

TYPES: dict[str, str] = {
    "coal": "generation_coal", "gas": "generation_gas", "oil": "generation_oil",
    "fossil": "generation_fossil", "nuclear": "generation_nuclear", "hydro": "generation_hydro",
    "wind": "generation_wind", "solar": "generation_solar", "other": "generation_other",
    "renewables": "generation_renewables", "total": "generation_total",
}
"""The file's ``type`` -> canonical variable (TWh per month)."""
SUMS: dict[str, tuple[str, ...]] = {"fossil": ("coal", "gas", "oil"),
                                    "renewables": ("hydro", "wind", "solar", "other"),
                                    "total": ("fossil", "nuclear", "renewables")}
"""Aggregates of the monthly file and their parts (checked on CM values; tolerance :data:`SUM_TOL_TWH`)."""
SUM_TOL_TWH = 0.05
CHINA_SECTORS: dict[str, str] = {
    "Coal": "generation_coal", "Gas": "generation_gas", "Oil": "generation_oil",
    "Nuclear": "generation_nuclear", "Hydroelectricity": "generation_hydro", "Solar": "generation_solar",
    "Wind": "generation_wind", "Other sources": "generation_other",
}
AGGREGATES: dict[str, str] = {"EU27&UK": "EU28"}
"""Aggregate names -> the code kept in ``iso3`` (EU28 = EU-27 + United Kingdom)."""
EXTRA_NAMES: dict[str, str] = {"Bosnia & Herz": "BIH", "Bosnia And Herz.": "BIH", "Taiwan": "TWN"}
"""Spellings of the CM Power files that :mod:`ingest.country_names` does not know."""

MAX_MONTHLY_TWH = 1500.0
"""No country (China ~1,000 TWh in its biggest month) generates more than this in a month; larger = GWh."""
MAX_DAILY_GWH = 40_000.0
"""China's daily generation from one fuel stays far below this (coal peaks near 20,000 GWh)."""
CHINA_COAL_MEDIAN_GWH = (5_000.0, 30_000.0)
"""Range of the median daily coal generation of China, GWh: outside it the file is in other units."""

BASE_URL = "https://raw.githubusercontent.com/KowComical/CM_Power_Website/master/data"
URLS: dict[str, str] = {
    "monthly": f"{BASE_URL}/data_for_scatter_plot.csv",
    "sources": f"{BASE_URL}/data_description.csv",
    "china_daily": "https://raw.githubusercontent.com/KowComical/CM_China_Database/HEAD/CM_Power_gwh%20-%20temp.csv",
}
"""Publisher URLs (the CM Power website repository publishes these files; ``master`` is its branch)."""
CHINA_FILENAME = "cm_power_china_daily_by_fuel_gwh.csv"
CHINA_LAST_DAY = date(2023, 2, 28)
"""The China daily file stopped being updated after this day."""

INFO = SourceInfo(
    name="cm_power",
    title="Carbon Monitor Power: monthly generation by country and fuel (with IEA), China daily by fuel",
    kind="activity",
    licence="CC-BY-4.0 (Carbon Monitor data as stated by the project; no licence file in the repository)",
    url="https://kowcomical.github.io/CM_Power_Website/",
    shipped=("electricity/cm-power/cm_power_monthly_by_country_fuel_vs_iea.csv.gz",
             "electricity/cm-power/cm_power_china_daily_by_fuel_gwh.csv.gz",
             "electricity/cm-power/cm_power_data_sources_by_country.csv"),
    note="45 countries incl. the EU27&UK aggregate (kept as EU28), 2019-01..2026-03; IEA values as cm_power_iea",
)
INFO_IEA = SourceInfo(
    name="cm_power_iea",
    title="IEA Monthly Electricity Statistics by country and fuel, as carried in the CM Power comparison file",
    kind="statistical",
    licence="IEA Monthly Electricity Statistics terms (free with attribution); carried in the CM Power file",
    url="https://www.iea.org/data-and-statistics/data-product/monthly-electricity-statistics",
    shipped=("electricity/cm-power/cm_power_monthly_by_country_fuel_vs_iea.csv.gz",),
    note="the `iea` column of the CM Power comparison file, TWh per month",
)


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    return read_csv_checked(path, what, encoding="utf-8-sig")


_need = need_columns


def country_iso3(name: str, *, source: str = "CM Power") -> str:
    """ISO3 of a CM Power country name (``EU27&UK`` -> ``EU28``); IngestError for an unknown name."""
    name = str(name).strip()
    code = AGGREGATES.get(name) or EXTRA_NAMES.get(name) or NAME_TO_ISO3.get(name)
    if code is None:
        raise IngestError(f"{source}: unknown country name {name!r}; add it to ingest/cm_power.py EXTRA_NAMES")
    return code


def _monthly_raw(path: Path) -> pd.DataFrame:
    """The monthly comparison file, checked: columns, year/month, types, numbers, duplicates, sums."""
    path = Path(path)
    raw = _read_csv(path, "CM Power monthly")
    name = path.name
    _need(raw, MONTHLY_COLUMNS, name)
    year = pd.to_numeric(raw["year"], errors="coerce")
    month = pd.to_numeric(raw["month"], errors="coerce")
    bad = year.isna() | month.isna() | ~year.between(2000, 2100) | ~month.between(1, 12)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise IngestError(f"{name}: row {i + 2} has no valid year/month ({raw['year'].iloc[i]!r}, "
                          f"{raw['month'].iloc[i]!r})")
    unknown = sorted(set(raw["type"].astype(str)) - set(TYPES))
    if unknown:
        raise IngestError(f"{name}: unknown type(s) {unknown}; expected {sorted(TYPES)}")
    for col in ("value", "iea"):
        num = pd.to_numeric(raw[col], errors="coerce")
        text = num.isna() & raw[col].notna()
        if text.any():
            i = int(np.flatnonzero(text.to_numpy())[0])
            raise IngestError(f"{name}: non-numeric {col} {raw[col].iloc[i]!r} in row {i + 2}")
        raw[col] = num
    big = raw["value"] > MAX_MONTHLY_TWH
    if big.any():
        r = raw[big].iloc[0]
        raise IngestError(f"{name}: {r['type']} {r['value']:g} for {r['country']} {int(r['year'])}-{int(r['month']):02d} "
                          f"exceeds {MAX_MONTHLY_TWH:g} TWh: wrong units (GWh?)")
    raw["period"] = pd.to_datetime({"year": year.astype(int), "month": month.astype(int), "day": 1})
    raw["iso3"] = [country_iso3(c, source=name) for c in raw["country"].astype(str)]
    dup = raw.duplicated(["iso3", "period", "type"])
    if dup.any():
        r = raw[dup].iloc[0]
        raise IngestError(f"{name}: duplicate {r['type']} for {r['country']} {r['period']:%Y-%m}")
    _check_sums(raw, name)
    return raw


def _check_sums(raw: pd.DataFrame, name: str) -> None:
    """CM values: fossil, renewables and total must equal the sum of their parts (to rounding)."""
    wide = raw.pivot_table(index=["country", "period"], columns="type", values="value", aggfunc="first")
    for agg, parts in SUMS.items():
        if agg not in wide.columns or not set(parts) <= set(wide.columns):
            continue
        have = wide[[agg, *parts]].dropna()
        diff = (have[agg] - have[list(parts)].sum(axis=1)).abs()
        bad = diff > np.maximum(SUM_TOL_TWH, 0.005 * have[agg].abs())
        if bad.any():
            (country, period), d = bad[bad].index[0], float(diff[bad].iloc[0])
            raise IngestError(f"{name}: {agg} of {country} {period:%Y-%m} differs from {' + '.join(parts)} "
                              f"by {d:.2f} TWh: shifted or corrupted rows?")


def _monthly_table(raw: pd.DataFrame, column: str, name: str, source: str) -> pd.DataFrame:
    df = pd.DataFrame({"iso3": raw["iso3"], "region": "", "period": raw["period"], "frequency": "monthly",
                       "variable": raw["type"].map(TYPES), "value": raw[column], "unit": "TWh", "source": source})
    return finish(df, name, source=source, max_value=dict.fromkeys(TYPES.values(), MAX_MONTHLY_TWH))


def read_cm_power_monthly(path: Path) -> pd.DataFrame:
    """CM Power monthly generation by country and fuel -> canonical table (TWh per month, source ``cm_power``).

    Dims: iso3 (44 countries + ``EU28``) x month x variable (:data:`TYPES`)."""
    path = Path(path)
    return _monthly_table(_monthly_raw(path), "value", path.name, SOURCE)


def read_cm_power_iea(path: Path) -> pd.DataFrame:
    """The IEA Monthly Electricity Statistics values of the same file (``iea`` column; TWh per month,
    source ``cm_power_iea``); same dims as :func:`read_cm_power_monthly`, empty cells dropped."""
    path = Path(path)
    return _monthly_table(_monthly_raw(path), "iea", path.name, SOURCE_IEA)


def monthly_coverage(table: pd.DataFrame) -> pd.DataFrame:
    """Per iso3: first and last month with a ``generation_total`` value and the number of such months."""
    t = table[table["variable"] == "generation_total"]
    g = t.groupby("iso3")["period"]
    return pd.DataFrame({"first": g.min(), "last": g.max(), "months": g.nunique()}).reset_index()


def read_cm_power_china_daily(path: Path) -> pd.DataFrame:
    """China daily generation by fuel -> canonical daily table (iso3 CHN, GWh per day,
    source ``cm_power_china_daily``).  Dims: day x variable (:data:`CHINA_SECTORS`)."""
    path = Path(path)
    name = path.name
    raw = _read_csv(path, "CM Power China daily")
    _need(raw, CHINA_COLUMNS, name)
    others = sorted(set(raw["country"].astype(str)) - {"China"})
    if others:
        raise IngestError(f"{name}: expected China only, found {others}")
    day = pd.to_datetime(raw["date"], format="%d/%m/%Y", errors="coerce")
    if day.isna().any():
        i = int(np.flatnonzero(day.isna().to_numpy())[0])
        raise IngestError(f"{name}: row {i + 2} has date {raw['date'].iloc[i]!r}, expected dd/mm/YYYY")
    ts = pd.to_datetime(pd.to_numeric(raw["timestamp"], errors="coerce"), unit="s", errors="coerce")
    off = ts.isna() | (ts.dt.normalize() != day)
    if off.any():
        i = int(np.flatnonzero(off.to_numpy())[0])
        raise IngestError(f"{name}: row {i + 2}: date {raw['date'].iloc[i]} and timestamp "
                          f"{raw['timestamp'].iloc[i]!r} name different days (day/month swapped?)")
    unknown = sorted(set(raw["sector"].astype(str)) - set(CHINA_SECTORS))
    if unknown:
        raise IngestError(f"{name}: unknown sector(s) {unknown}; expected {sorted(CHINA_SECTORS)}")
    value = pd.to_numeric(raw["value"], errors="coerce")
    if (value.isna() & raw["value"].notna()).any():
        raise IngestError(f"{name}: non-numeric generation values")
    coal = value[raw["sector"] == "Coal"]
    if not coal.empty:
        lo, hi = CHINA_COAL_MEDIAN_GWH
        med = float(coal.median())
        if not lo <= med <= hi:
            raise IngestError(f"{name}: median daily coal generation {med:g} is outside {lo:g}..{hi:g} GWh: "
                              f"the file is not in GWh per day (TWh or MWh?)")
    df = pd.DataFrame({"iso3": "CHN", "region": "", "period": day, "frequency": "daily",
                       "variable": raw["sector"].map(CHINA_SECTORS), "value": value, "unit": "GWh",
                       "source": SOURCE_CHINA})
    return finish(df, name, source=SOURCE_CHINA, max_value=dict.fromkeys(CHINA_SECTORS.values(), MAX_DAILY_GWH))


def read_cm_power_sources(path: Path) -> pd.DataFrame:
    """The per-country data-sources table: ``iso3`` added, ``starting_date`` as Timestamp."""
    path = Path(path)
    raw = _read_csv(path, "CM Power data sources")
    _need(raw, SOURCES_COLUMNS, path.name)
    out = raw[list(SOURCES_COLUMNS)].copy()
    out.insert(1, "iso3", [country_iso3(c, source=path.name) for c in out["country"].astype(str)])
    out["starting_date"] = pd.to_datetime(out["starting_date"], format="%Y-%m-%d", errors="coerce")
    if out["starting_date"].isna().any():
        raise IngestError(f"{path.name}: starting_date must be YYYY-MM-DD in every row")
    if out["iso3"].duplicated().any():
        raise IngestError(f"{path.name}: duplicate country {out.loc[out['iso3'].duplicated(), 'country'].iloc[0]!r}")
    return out


def source_notes(path: Path) -> dict[str, str]:
    """iso3 -> one line: provider, resolution, update frequency, start date (from the data-sources file)."""
    t = read_cm_power_sources(path)
    return {r.iso3: f"{r.source} ({r.resolution} data, updated {str(r.update_frequency).lower()}, "
                    f"since {r.starting_date:%Y-%m-%d})" for r in t.itertuples()}


def _kind(path: Path) -> str:
    """Which CM Power file ``path`` is, from its header line."""
    import gzip

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"CM Power file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as f:
            head = f.readline().strip().replace('"', "")
    except (OSError, EOFError) as e:
        raise IngestError(f"{path.name} cannot be read: {e}") from e
    cols = head.split(",")
    if cols[:6] == list(MONTHLY_COLUMNS):
        return "monthly"
    if cols[:5] == list(CHINA_COLUMNS):
        return "china_daily"
    if cols[:1] == ["country"] and "resolution" in cols:
        return "sources"
    raise IngestError(f"{path.name}: not a CM Power file (monthly vs IEA, China daily or data sources); "
                      f"header {head[:120]!r}")


def _concat(parts: list[pd.DataFrame], what: str) -> pd.DataFrame:
    if not parts:
        raise IngestError(f"no {what} time-series file given")
    out = pd.concat(parts, ignore_index=True)
    key = ["iso3", "region", "period", "frequency", "variable", "source"]
    if out.duplicated(key).any():
        r = out[out.duplicated(key)].iloc[0]
        raise IngestError(f"{what}: duplicate {r['variable']} for {r['iso3']} {r['period'].date()} "
                          f"(overlapping files?)")
    return out


class CMPowerAdapter(BaseAdapter):
    """CM Power monthly (CM values) and China daily -> canonical activity table (Parquet)."""

    info = INFO

    def __init__(self, urls: Mapping[str, str] | None = None, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.urls = {**URLS, **(urls or {})}

    def download(self, start: date, end: date) -> list[Path]:
        """The monthly comparison file and the data-sources table; the China daily file too when the
        period starts before it ends (2023-02-28).  One file per kind holds all periods; cached, retried."""
        from ingest.download import fetch

        if end < start:
            raise IngestError(f"download period is empty: {start} > {end}")
        out = [fetch(self.urls["monthly"], source=self.info.name, settings=self.settings),
               fetch(self.urls["sources"], source=self.info.name, settings=self.settings)]
        if start <= CHINA_LAST_DAY:
            out.append(fetch(self.urls["china_daily"], source=self.info.name,
                             settings=self.settings, filename=CHINA_FILENAME))
        return out

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        """All given files, told apart by their header; the data-sources table is metadata and skipped."""
        parts = []
        for p in paths:
            kind = _kind(p)
            if kind == "monthly":
                parts.append(read_cm_power_monthly(p))
            elif kind == "china_daily":
                parts.append(read_cm_power_china_daily(p))
        out = _concat(parts, "CM Power")
        self.validate(out)
        return out

    def validate(self, data: pd.DataFrame) -> None:
        missing = {"iso3", "region", "period", "frequency", "variable", "value", "unit", "source"} - set(data.columns)
        if missing:
            raise IngestError(f"CM Power table lacks {sorted(missing)}")
        if data.empty:
            raise IngestError("CM Power table is empty")


class CMPowerIEAAdapter(CMPowerAdapter):
    """The IEA values of the CM Power comparison file -> canonical table (source ``cm_power_iea``)."""

    info = INFO_IEA

    def download(self, start: date, end: date) -> list[Path]:
        from ingest.download import fetch

        if end < start:
            raise IngestError(f"download period is empty: {start} > {end}")
        return [fetch(self.urls["monthly"], source=self.info.name, settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        parts = [read_cm_power_iea(p) for p in paths if _kind(p) == "monthly"]
        out = _concat(parts, "CM Power IEA")
        self.validate(out)
        return out
