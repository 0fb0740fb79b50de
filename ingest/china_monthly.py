"""China's monthly NBS statistics (Wind exports) -> the canonical activity table (ingest/activity.py).

Files read (real layouts, as published in energyandcleanair/china_co2@4043449a:inst/csv/ and
KowComical/CM_China_Database@e2474f99:data/Power/craw/):

- ``monthly_industry_stats.csv`` (Wind export of NBS "Output: ...: YTD" series; header rows ``Wind``,
  ``Name``, ``Frequency``, ``Unit``, ``ID``, ``Time Period``, ``Source``, ``Update``; then ``YYYY-MM`` rows
  with numbers like ``"7,436.00 "``).  :func:`read_china_industry_monthly` keeps raw coal, pig iron, crude
  steel and cement (``10000 tons`` = 万吨 -> Mt, x 0.01).  The file's power columns repeat
  ``power_generation_by_type.csv`` and are read from there.
- ``power_generation_by_type.csv`` (same layout plus a ``Country`` row): electricity production,
  thermal, hydro, nuclear, solar, wind (``100 million kwh`` = 亿千瓦时 -> TWh, x 0.1) ->
  ``generation_total``, ``generation_thermal``, ``generation_<fuel>``.  Also
  :func:`read_china_industry_monthly`.
- ``apparent_consumption_of_fossils.csv`` (same layout plus ``Table Name``): NBS crude processing
  (``ton`` -> Mt, x 1e-6) via :func:`read_china_industry_monthly`; ``coal_consumption`` = domestic
  steam-coal consumption (all sectors) + coking-coal consumption (Wind/CCTD, monthly values, not YTD;
  ``10000 tons`` -> Mt; 2023: 4,633 Mt) via :func:`read_china_apparent_consumption`.  The file's Wind
  "Apparent Consumption: ...: YTD" series of natural gas, gasoline, kerosene and diesel are **not read**:
  they are not usable YTD series (gas 2022-01/02 = 152/267 x 10^8 m3 then 944 in March, i.e. a 68 bcm
  "March"; gasoline's 2023-02 repeats 2022-02; kerosene's YTD falls in 2022-09; diesel's YTD missing in
  2024-11), so differencing them gives false months.
- ``nbs_province_thermal_power_monthly_火电当月.csv`` (``name,date,data``; NBS 分省月度 A03010H01, 亿千瓦时)
  and optionally its year-to-date twin ``..._ytd_火电累计.csv`` (A03010H02):
  :func:`read_china_province_thermal_monthly`, ``region`` = ISO 3166-2 code (:data:`PROVINCE_CODES`).

**Year-to-date series.**  NBS publishes cumulative year-to-date (YTD) totals.  Monthly values are
``YTD[m] - YTD[m-1]`` within a year.  NBS publishes January and February together (no January YTD since
2016, and never for some series); where January is missing and February's YTD exists, the Jan+Feb total
is split between the two months in proportion to their days (31 : 28 or 29).  The canonical table has no
flag column, so :func:`combined_jan_feb` tells afterwards which (variable, region, year) were split: a
split pair has exactly equal per-day values, which reported months practically never have (to 1e-9).
``0.00`` in a Wind export means "no data" and is dropped (never a zero).  A month whose YTD cannot be
differenced (previous month missing, or the series starts mid-year) is left out.  Where the YTD falls
from one month to the next (NBS revising a month, e.g. raw coal 2012-11/12), both months are left out
(which one is wrong cannot be told); they are listed in ``attrs["dropped"]``.  December YTD often carries
NBS's annual revision, so December values can jump (e.g. hydro 2002-2005); they are kept as published.
Annual sums of the monthly values equal the December YTD wherever no month was dropped.

In the provincial monthly (当月) file January and February are ``0.0`` (NBS publishes no single month
there); they are treated as missing and, when the YTD file is given, filled from February's YTD split by
days as above.  Other months come from the monthly file itself (it differs from the YTD differences by
less than 1 亿kWh in most cells, at most 86 亿kWh (陕西 2019-11): NBS revisions).

**Publication lags** (days after the end of a month, conservative):

- ``nbs_china_monthly`` 20: NBS releases industrial output and generation around the 15th-17th of the next
  month (Wind "Update" 2025-01-17/21 for December 2024).  **January** comes only with February, in mid
  March (~48 days): use :func:`nbs_published_by`, which applies that rule.
- ``china_apparent_consumption`` 40: Wind's coal consumption (CCTD) comes ~36 days after the month
  (Update 2025-02-05 for December 2024).
- ``nbs_china_province_monthly`` 30: NBS provincial monthly data appear on data.stats.gov.cn some days
  after the national release.

Licence: NBS statistics are public; these files are Wind terminal exports inside a GPL-3.0 repository
(energyandcleanair/china_co2); the provincial files come from KowComical/CM_China_Database (no licence
file).  Cite NBS (National Bureau of Statistics of China) as the publisher.
"""

from __future__ import annotations

import csv
import gzip
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import PUBLICATION_LAG_DAYS, finish, period_end, register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo

ISO3 = "CHN"
DIR = "activity/china-monthly"
CHINA_CO2_RAW = "https://raw.githubusercontent.com/energyandcleanair/china_co2/4043449a/inst/csv/"
CM_CHINA_RAW = "https://raw.githubusercontent.com/KowComical/CM_China_Database/e2474f99/data/Power/craw/"
LAG_NBS = register_lag("nbs_china_monthly", 20)
LAG_APPARENT = register_lag("china_apparent_consumption", 40)
LAG_PROVINCE = register_lag("nbs_china_province_monthly", 30)
JANUARY_WITH_FEBRUARY = ("nbs_china_monthly", "china_apparent_consumption", "nbs_china_province_monthly")
"""Sources whose January is released together with February."""


@dataclass(frozen=True)
class Series:
    """One Wind column: its exact name, the unit the file must state, the factor to ``unit``."""

    column: str
    file_unit: str
    factor: float
    unit: str
    ytd: bool = True


INDUSTRY: dict[str, Series] = {
    "raw_coal": Series("Output: Raw Coal: YTD", "10000 tons", 0.01, "Mt"),
    "pig_iron": Series("Output: Pig Irons: YTD", "10000 tons", 0.01, "Mt"),
    "crude_steel": Series("Output: Crude Steels: YTD", "10000 tons", 0.01, "Mt"),
    "cement": Series("Output: Cement: YTD", "10000 tons", 0.01, "Mt"),
}
POWER: dict[str, Series] = {
    "generation_total": Series("China: Output: Electricity Production: YTD", "100 million kwh", 0.1, "TWh"),
    "generation_thermal": Series("China: Output: Thermal Power: YTD", "100 million kwh", 0.1, "TWh"),
    "generation_hydro": Series("China: Output: Hydropower: YTD", "100 million kwh", 0.1, "TWh"),
    "generation_nuclear": Series("China: Output: Nuclear Power: YTD", "100 million kwh", 0.1, "TWh"),
    "generation_solar": Series("China: Output: Solar: YTD", "100 million kwh", 0.1, "TWh"),
    "generation_wind": Series("China: Output: Wind Power: YTD", "100 million kwh", 0.1, "TWh"),
}
CRUDE: dict[str, Series] = {
    "crude_processing": Series("China: Output: Processing of Petroleum: YTD", "ton", 1e-6, "Mt"),
}
COAL_PARTS = (Series("Consumption: Steam Coal: Domestic: Total", "10000 tons", 0.01, "Mt", ytd=False),
              Series("Consumption: Coking Coal", "10000 tons", 0.01, "Mt", ytd=False))
"""``coal_consumption`` = steam coal (domestic, all sectors) + coking coal, where both exist."""

MAX_MONTHLY = {"raw_coal": 500.0, "pig_iron": 120.0, "crude_steel": 150.0, "cement": 300.0,
               "crude_processing": 80.0, "generation_total": 1200.0, "generation_thermal": 900.0,
               "generation_hydro": 300.0, "generation_nuclear": 100.0, "generation_solar": 200.0,
               "generation_wind": 200.0, "coal_consumption": 700.0}
"""Upper bounds of one month for China (units as above): a 10x unit slip fails."""
MAX_PROVINCE_TWH = 100.0

PROVINCE_CODES: dict[str, str] = {
    "北京市": "CN-BJ", "天津市": "CN-TJ", "河北省": "CN-HE", "山西省": "CN-SX", "内蒙古自治区": "CN-NM",
    "辽宁省": "CN-LN", "吉林省": "CN-JL", "黑龙江省": "CN-HL", "上海市": "CN-SH", "江苏省": "CN-JS",
    "浙江省": "CN-ZJ", "安徽省": "CN-AH", "福建省": "CN-FJ", "江西省": "CN-JX", "山东省": "CN-SD",
    "河南省": "CN-HA", "湖北省": "CN-HB", "湖南省": "CN-HN", "广东省": "CN-GD", "广西壮族自治区": "CN-GX",
    "海南省": "CN-HI", "重庆市": "CN-CQ", "四川省": "CN-SC", "贵州省": "CN-GZ", "云南省": "CN-YN",
    "西藏自治区": "CN-XZ", "陕西省": "CN-SN", "甘肃省": "CN-GS", "青海省": "CN-QH", "宁夏回族自治区": "CN-NX",
    "新疆维吾尔自治区": "CN-XJ", "台湾省": "CN-TW", "香港特别行政区": "CN-HK", "澳门特别行政区": "CN-MO",
}
"""Chinese province names as NBS writes them -> ISO 3166-2:CN codes (same as Natural Earth's iso_3166_2)."""

_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
_HEADER_KEYS = {"Wind", "Country", "Table Name", "Name", "Frequency", "Unit", "ID", "Time Period", "Source",
                "Update"}


@dataclass
class WindTable:
    """A parsed Wind export: ``values`` (PeriodIndex of every month in the span x column names, NaN = no
    data) and each column's ``unit`` and ``source`` as stated in the header rows."""

    values: pd.DataFrame
    unit: dict[str, str]
    source: dict[str, str]
    name: str


def _number(cell: str, where: str) -> float:
    s = cell.replace(",", "").strip()
    if s == "":
        return np.nan
    try:
        return float(s)
    except ValueError:
        raise IngestError(f"{where}: {cell!r} is not a number") from None


def read_wind_export(path: Path) -> WindTable:
    """Parse a Wind terminal CSV export (header rows, then ``YYYY-MM`` rows); 0.00 and blanks -> NaN."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"Wind export not found: {path}")
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except (UnicodeDecodeError, OSError) as e:
        raise IngestError(f"{path.name} is not UTF-8 text: {e}") from e
    header = {r[0].strip(): r for r in rows if r and r[0].strip() in _HEADER_KEYS}
    if "Name" not in header or "Unit" not in header:
        raise IngestError(f"{path.name} is not a Wind export: no 'Name' and 'Unit' header rows")
    names = [c.strip() for c in header["Name"][1:]]
    while names and names[-1] == "":
        names.pop()
    ncol = len(names)
    data = [r for r in rows if r and _MONTH_RE.match(r[0].strip())]
    odd = [r[0] for r in rows if r and r[0].strip() and r[0].strip() not in _HEADER_KEYS
           and not _MONTH_RE.match(r[0].strip())]
    if odd:
        raise IngestError(f"{path.name}: row label {odd[0]!r} is neither a header nor a YYYY-MM month")
    if not data:
        raise IngestError(f"{path.name}: no YYYY-MM data rows")
    months, cells = [], []
    for r in data:
        if len(r) < ncol + 1:
            raise IngestError(f"{path.name}: row {r[0]} has {len(r) - 1} values for {ncol} columns "
                              f"(truncated file?)")
        months.append(r[0].strip())
        cells.append([_number(c, f"{path.name} {r[0]}") for c in r[1:ncol + 1]])
    index = pd.PeriodIndex(months, freq="M")
    if index.has_duplicates:
        raise IngestError(f"{path.name}: month {index[index.duplicated()][0]} appears twice")
    values = pd.DataFrame(cells, index=index, columns=names).sort_index()
    values = values.reindex(pd.period_range(values.index.min(), values.index.max(), freq="M"))
    values = values.where(values != 0.0)
    get = {k: [c.strip() for c in v[1:ncol + 1]] for k, v in header.items()}
    return WindTable(values, dict(zip(names, get["Unit"], strict=True)),
                     dict(zip(names, get.get("Source", [""] * ncol), strict=True)), path.name)


def ytd_to_monthly(ytd: pd.Series) -> tuple[pd.Series, list[int], list[pd.Period]]:
    """Monthly values from a year-to-date series on a complete monthly PeriodIndex (NaN = missing).

    Returns (monthly, years whose Jan+Feb were split by days, months dropped because the YTD fell)."""
    out = pd.Series(np.nan, index=ytd.index, dtype=np.float64)
    split: list[int] = []
    dropped: list[pd.Period] = []
    for year in sorted(set(ytd.index.year)):
        y = ytd[ytd.index.year == year]
        val = {p.month: v for p, v in y.items() if np.isfinite(v)}
        mon: dict[int, float] = {}
        if 1 in val:
            mon[1] = val[1]
        elif 2 in val:
            feb_days = pd.Period(f"{year}-02", freq="M").days_in_month
            mon[1] = val[2] * 31 / (31 + feb_days)
            mon[2] = val[2] * feb_days / (31 + feb_days)
            split.append(year)
        for m in range(2, 13):
            if m in val and m - 1 in val and m not in mon:
                mon[m] = val[m] - val[m - 1]
        for m in sorted(mon):
            if mon[m] < 0:
                for bad in (m - 1, m):
                    if mon.pop(bad, None) is not None:
                        dropped.append(pd.Period(year=year, month=bad, freq="M"))
        for m, v in mon.items():
            out[pd.Period(year=year, month=m, freq="M")] = v
    return out, split, sorted(set(dropped))


def _long(table: WindTable, spec: dict[str, Series], source: str) -> pd.DataFrame:
    """Monthly long rows of the columns in ``spec`` (unit-checked, converted)."""
    frames = []
    dropped: list[str] = []
    for var, s in spec.items():
        if s.column not in table.values.columns:
            raise IngestError(f"{table.name} lacks the column {s.column!r}")
        if table.unit[s.column] != s.file_unit:
            raise IngestError(f"{table.name}: {s.column!r} is in {table.unit[s.column]!r}, expected "
                              f"{s.file_unit!r}")
        if s.ytd:
            monthly, _, drop = ytd_to_monthly(table.values[s.column])
            dropped += [f"{var} {p}" for p in drop]
        else:
            monthly = table.values[s.column]
        frames.append(pd.DataFrame({"period": monthly.index.to_timestamp(), "variable": var,
                                    "value": monthly.to_numpy() * s.factor, "unit": s.unit}))
    df = pd.concat(frames, ignore_index=True).dropna(subset=["value"])
    df = df.assign(iso3=ISO3, region="", frequency="monthly", source=source)
    df.attrs["dropped"] = dropped
    return df


def _finish(df: pd.DataFrame, name: str, source: str) -> pd.DataFrame:
    dropped = df.attrs.get("dropped", [])
    out = finish(df, name, source=source, max_value=MAX_MONTHLY)
    out.attrs["dropped"] = dropped
    return out


def read_china_industry_monthly(path: Path) -> pd.DataFrame:
    """NBS monthly output -> canonical table (iso3 CHN): from ``monthly_industry_stats.csv`` raw_coal,
    pig_iron, crude_steel, cement (Mt); from ``power_generation_by_type.csv`` generation_total,
    generation_thermal/hydro/nuclear/solar/wind (TWh); from ``apparent_consumption_of_fossils.csv``
    crude_processing (Mt).  Source ``nbs_china_monthly``; told apart by their columns."""
    table = read_wind_export(path)
    cols = set(table.values.columns)
    if INDUSTRY["crude_steel"].column in cols:
        spec = INDUSTRY
    elif POWER["generation_thermal"].column in cols:
        spec = POWER
    elif CRUDE["crude_processing"].column in cols:
        spec = CRUDE
    else:
        raise IngestError(f"{table.name}: none of the NBS output columns (crude steel, thermal power, "
                          f"processing of petroleum) found")
    return _finish(_long(table, spec, "nbs_china_monthly"), table.name, "nbs_china_monthly")


def read_china_apparent_consumption(path: Path) -> pd.DataFrame:
    """``apparent_consumption_of_fossils.csv`` -> ``coal_consumption`` (steam coal + coking coal, Mt per
    month, only months with both); source ``china_apparent_consumption``."""
    table = read_wind_export(path)
    coal = _long(table, {"steam": COAL_PARTS[0], "coking": COAL_PARTS[1]}, "china_apparent_consumption")
    wide = coal.pivot_table(index="period", columns="variable", values="value")
    total = wide.reindex(columns=["steam", "coking"]).sum(axis=1, min_count=2).dropna()
    rows = pd.DataFrame({"period": total.index, "variable": "coal_consumption", "value": total.to_numpy(),
                         "unit": "Mt", "iso3": ISO3, "region": "", "frequency": "monthly",
                         "source": "china_apparent_consumption"})
    return _finish(rows, table.name, "china_apparent_consumption")


def _read_province(path: Path) -> pd.DataFrame:
    """``name,date,data`` -> province x month (PeriodIndex) in 亿千瓦时."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"NBS provincial file not found: {path}")
    try:
        raw = pd.read_csv(path, encoding="utf-8-sig", dtype={"name": str, "date": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    if list(raw.columns) != ["name", "date", "data"]:
        raise IngestError(f"{path.name}: expected the columns name,date,data; found {list(raw.columns)}")
    unknown = sorted(set(raw["name"].dropna()) - set(PROVINCE_CODES))
    if unknown or raw["name"].isna().any():
        raise IngestError(f"{path.name}: unknown province name(s) {unknown or ['(empty)']}")
    when = pd.to_datetime(raw["date"], format="%Y年%m月", errors="coerce")
    if when.isna().any():
        raise IngestError(f"{path.name}: date {raw.loc[when.isna(), 'date'].iloc[0]!r} is not like 2022年3月")
    value = pd.to_numeric(raw["data"], errors="coerce")
    if value.isna().any():
        raise IngestError(f"{path.name}: non-numeric data for {raw.loc[value.isna(), 'name'].iloc[0]}")
    df = pd.DataFrame({"name": raw["name"], "period": when.dt.to_period("M"), "value": value})
    if df.duplicated(["name", "period"]).any():
        r = df[df.duplicated(["name", "period"])].iloc[0]
        raise IngestError(f"{path.name}: duplicate {r['name']} {r['period']}")
    wide = df.pivot(index="period", columns="name", values="value").sort_index()
    return wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq="M"))


def read_china_province_thermal_monthly(path: Path, ytd_path: Path | None = None) -> pd.DataFrame:
    """NBS provincial monthly thermal generation (当月, 亿kWh) -> generation_thermal in TWh per province
    (region = ISO 3166-2:CN).  January/February (published as 0.0) come from ``ytd_path`` (累计) if given."""
    monthly = _read_province(path)
    monthly = monthly.where(~((monthly == 0.0) & (monthly.index.month <= 2)[:, None]))
    if ytd_path is not None:
        ytd = _read_province(ytd_path).replace(0.0, np.nan)
        for prov in ytd.columns:
            derived, _, _ = ytd_to_monthly(ytd[prov])
            jf = derived[derived.index.month <= 2].dropna()
            if prov not in monthly.columns:
                monthly[prov] = np.nan
            monthly = monthly.reindex(monthly.index.union(jf.index))
            fill = monthly.loc[jf.index, prov].isna()
            monthly.loc[jf.index[fill.to_numpy()], prov] = jf[fill.to_numpy()].to_numpy()
    long = monthly.stack().rename("value").reset_index()
    long.columns = ["period", "name", "value"]
    df = pd.DataFrame({"iso3": ISO3, "region": long["name"].map(PROVINCE_CODES),
                       "period": long["period"].dt.to_timestamp(), "frequency": "monthly",
                       "variable": "generation_thermal", "value": long["value"] * 0.1, "unit": "TWh",
                       "source": "nbs_china_province_monthly"})
    return finish(df, Path(path).name, source="nbs_china_province_monthly",
                  max_value={"generation_thermal": MAX_PROVINCE_TWH})


def combined_jan_feb(df: pd.DataFrame) -> pd.DataFrame:
    """``iso3, region, variable, year`` of every January/February pair of ``df`` that was split from a
    combined Jan+Feb total (equal per-day values to 1e-9, which reported months never have)."""
    m = df[(df["frequency"] == "monthly") & df["period"].dt.month.isin([1, 2])]
    m = m.assign(year=m["period"].dt.year, month=m["period"].dt.month)
    wide = m.pivot_table(index=["iso3", "region", "variable", "year"], columns="month", values="value")
    if wide.empty or not {1, 2} <= set(wide.columns):
        return pd.DataFrame(columns=["iso3", "region", "variable", "year"])
    wide = wide.dropna(subset=[1, 2])
    years = wide.index.get_level_values("year")
    feb_days = np.where((years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0)), 29, 28)
    split = np.isclose(wide[1].to_numpy() / 31, wide[2].to_numpy() / feb_days, rtol=1e-9, atol=0.0)
    return wide[split].index.to_frame(index=False)


def nbs_published_by(table: pd.DataFrame, as_of: pd.Timestamp | str) -> pd.DataFrame:
    """Rows published by ``as_of``: period end + lag, except that January of the sources in
    :data:`JANUARY_WITH_FEBRUARY` counts as released with February (end of February + lag)."""
    if table.empty:
        return table
    lags = table["source"].map(PUBLICATION_LAG_DAYS)
    if lags.isna().any():
        raise IngestError(f"no publication lag recorded for {sorted(table.loc[lags.isna(), 'source'].unique())}")
    end = period_end(table["period"], table["frequency"])
    jan = (table["frequency"] == "monthly") & (table["period"].dt.month == 1) & \
        table["source"].isin(JANUARY_WITH_FEBRUARY)
    end = end.where(~jan, table["period"] + pd.offsets.MonthEnd(2))
    keep = end + pd.to_timedelta(lags.astype(int), unit="D") <= pd.Timestamp(as_of)
    return table.loc[keep.to_numpy()]


class _ChinaAdapter(BaseAdapter):
    """Shared download: the carrier repository's raw files at the pinned commit (cached, retried)."""

    files: tuple[tuple[str, str], ...] = ()
    """(base URL, file name) pairs fetched by :meth:`download`."""

    def __init__(self, base_url: str | None = None, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.base_url = base_url
        """Overrides every base URL (a mirror, or a local test server)."""

    def download(self, start: date, end: date) -> list[Path]:
        from ingest.download import fetch

        out = []
        for base, name in self.files:
            root = (self.base_url.rstrip("/") + "/") if self.base_url else base
            out.append(fetch(root + urllib.parse.quote(name), source=self.info.name,
                             settings=self.settings, filename=name))
        return out

    def validate(self, data: pd.DataFrame) -> None:
        finish(data, self.info.name, source=self.info.name, max_value=MAX_MONTHLY)


NBS_INFO = SourceInfo(
    name="nbs_china_monthly",
    title="China NBS monthly output: crude steel, pig iron, cement, raw coal, crude processing, power by type",
    kind="activity",
    licence="NBS statistics (public); Wind exports inside a GPL-3.0 repository (energyandcleanair/china_co2)",
    url="https://data.stats.gov.cn/english/easyquery.htm?cn=A01",
    shipped=(f"{DIR}/monthly_industry_stats.csv", f"{DIR}/power_generation_by_type.csv",
             f"{DIR}/apparent_consumption_of_fossils.csv"),
    note="publisher NBS; carried by energyandcleanair/china_co2@4043449a:inst/csv/ (Wind exports); "
         "YTD differenced, Jan+Feb split by days (combined_jan_feb)",
)
APPARENT_INFO = SourceInfo(
    name="china_apparent_consumption",
    title="China monthly coal consumption: domestic steam coal + coking coal (Wind/CCTD)",
    kind="activity",
    licence="Wind/NBS/customs statistics; Wind export inside a GPL-3.0 repository (energyandcleanair/china_co2)",
    url="https://github.com/energyandcleanair/china_co2",
    shipped=(f"{DIR}/apparent_consumption_of_fossils.csv",),
    note="from the Wind export 'apparent consumption of fossils'; its gas/oil YTD series are not read",
)
PROVINCE_INFO = SourceInfo(
    name="nbs_china_province_monthly",
    title="China NBS provincial monthly thermal power generation (分省月度 火力发电量)",
    kind="activity",
    licence="NBS statistics (public); carried by KowComical/CM_China_Database (no licence file)",
    url="https://data.stats.gov.cn/easyquery.htm?cn=E0101",
    shipped=(f"{DIR}/nbs_province_thermal_power_monthly_火电当月.csv",
             f"{DIR}/nbs_province_thermal_power_ytd_火电累计.csv"),
    note="31 provinces, 2019-01..2023-02 (Jan/Feb split from the YTD file)",
)


class NBSChinaMonthlyAdapter(_ChinaAdapter):
    """NBS national monthly output and generation -> canonical table (source ``nbs_china_monthly``)."""

    info = NBS_INFO
    files = ((CHINA_CO2_RAW, "monthly_industry_stats.csv"), (CHINA_CO2_RAW, "power_generation_by_type.csv"),
             (CHINA_CO2_RAW, "apparent_consumption_of_fossils.csv"))

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if not paths:
            raise IngestError("no NBS monthly files given")
        out = pd.concat([read_china_industry_monthly(p) for p in paths], ignore_index=True)
        self.validate(out)
        return out


class ChinaApparentConsumptionAdapter(_ChinaAdapter):
    """Wind's apparent consumption of fossil fuels in China -> canonical table."""

    info = APPARENT_INFO
    files = ((CHINA_CO2_RAW, "apparent_consumption_of_fossils.csv"),)

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("give exactly one apparent_consumption_of_fossils.csv")
        return read_china_apparent_consumption(paths[0])


class NBSChinaProvinceAdapter(_ChinaAdapter):
    """NBS provincial monthly thermal generation; pass the 当月 file and optionally the 累计 (YTD) file."""

    info = PROVINCE_INFO
    files = ((CM_CHINA_RAW, "火电当月.csv"), (CM_CHINA_RAW, "火电累计.csv"))

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        monthly = [Path(p) for p in paths if "当月" in Path(p).name or "monthly" in Path(p).name.lower()]
        ytd = [Path(p) for p in paths if "累计" in Path(p).name or "ytd" in Path(p).name.lower()]
        if len(monthly) != 1 or len(ytd) > 1 or len(monthly) + len(ytd) != len(paths):
            raise IngestError("give one provincial monthly file (name with 当月/monthly) and at most one "
                              "year-to-date file (name with 累计/ytd)")
        return read_china_province_thermal_monthly(monthly[0], ytd[0] if ytd else None)

    def validate(self, data: pd.DataFrame) -> None:
        finish(data, self.info.name, source=self.info.name, max_value={"generation_thermal": MAX_PROVINCE_TWH})
