"""India daily grid data: Grid-India (POSOCO) daily reports and the CEA daily generation report.

Both are transcriptions of the daily PDF reports by Robbie Andrew (CICERO, robbieandrew.github.io/india,
CC BY 4.0); MU (million units) = GWh per day.

- ``POSOCO_data.csv(.gz)`` (Grid-India "Daily Power Supply Position Report"; ``POSOCO_metadata.json``
  documents every column): ``yyyymmdd`` and, for each of ``NR, WR, SR, ER, NER`` (the five grid regions)
  and ``India``, table A ``<R>: EnergyMet, HydroGen, WindGen, SolarGen`` (GWh; plus MW columns that are
  not read) and table G ``<R>: Thermal, Coal, Lignite, Hydro, Nuclear, Gas, RES, Total`` (GWh), then the
  states' energy met (not read).  :func:`read_posoco_daily` -> daily rows, iso3 ``IND``, ``region`` =
  ``""`` (all India) or the grid region code, unit GWh, source ``posoco``:

  ``demand`` = EnergyMet (2013-01-02 on); ``generation_coal`` = Coal + Lignite (2018-11-29 on, as
  CICERO's own ``POSOCO_coal_total_data.csv`` counts coal) and, before that (2017-08-28..2018-11), table
  G's ``Thermal``, which then meant coal + lignite (Total = Thermal + Gas + Hydro + Nuclear + RES on
  those days); ``generation_thermal`` = Thermal as reported (only 2017-08..2018-11: since 2026-05 the
  reports carry a Thermal column of zeros, read as missing); ``generation_gas``, ``generation_nuclear``;
  ``generation_hydro`` = table G Hydro, before 2017-08-28 table A HydroGen (the two agree to <1% on
  3,238 of 3,279 common days); ``generation_wind`` / ``generation_solar`` = table A WindGen / SolarGen;
  ``generation_renewables`` = Hydro + RES (POSOCO's RES excludes large hydro; the sum matches what CM
  Power and Ember call renewables); ``generation_total`` = table G Total.

  The transcriptions have gaps and typos, so implausible values are dropped (never repaired) and
  counted in a log warning and ``attrs["flagged"]``: (1) cells that are not numbers; (2) all-India
  values outside :data:`INDIA_BOUNDS` (installed capacity x 24 h with margin; e.g. nuclear 402 GWh on
  2024-06-22 and lignite 165 GWh on 2024-07-14 are impossible) and regional values below 0 or above
  the all-India bound; (3) all-India energy met more than 25% away from its centred 15-day median
  (Diwali and the 2020 lockdown stay within 15%); (4) a day whose all-India value and the sum of the
  five regions differ by more than 10%: only the all-India value when it strays from its own 15-day
  median by 10 points more than the regional sum does (e.g. all-India lignite 35 GWh against ~85 on
  2018-12-11/12), otherwise that field in all six rows (which region is wrong is unknown).  A file
  whose columns are wrong, whose dates repeat or whose median all-India energy met is not 1,000-10,000
  GWh (units off by 1000) raises :class:`IngestError`.
- ``POSOCO_coal_total_data.csv``: ``yymmdd, Coal, Other`` (from 2018-11-29): CICERO's all-India coal
  (= Coal + Lignite of the daily report) and all other generation.  :func:`read_posoco_coal_total` ->
  ``generation_coal`` and ``generation_total`` (= Coal + Other = the report's Total), source
  ``posoco_coal_total``.
- ``CEA_DGR_data.csv`` (CEA Daily Generation Report, from 2018-04-01; RES section from 2019-07;
  ``CEA_DGR_metadata.json``): ``yyyymmdd, CEA.DGR.COL, LIG, GAS, DIE, HSO, NAP, MFU, THM, NUC, HYD, BHU,
  TOT, WND, SOL, OTH, RES``.  :func:`read_cea_dgr` -> all-India ``generation_coal`` (COL + LIG),
  ``generation_gas``, ``generation_oil`` (DIE + HSO + NAP), ``generation_thermal`` (THM = all of these +
  multi-fuel), ``generation_nuclear``, ``generation_hydro`` (HYD; Bhutan imports BHU are not domestic
  generation and are left out), ``generation_wind``, ``generation_solar``, ``generation_other_renewables``
  (OTH), ``generation_renewables`` (HYD + RES) and ``generation_total`` (THM + NUC + HYD + RES), GWh,
  source ``cea_dgr``; the same bounds rule as POSOCO, and a day whose THM is not the sum of its fuels is
  dropped from the thermal fields.

Publication lags: ``posoco``, ``posoco_coal_total`` and ``cea_dgr`` 2 days (reports appear the next
morning; the transcription follows within a day or two: the shipped POSOCO file ends 2026-08-21, CEA's
conventional section 2026-08-19 and its RES section 2026-08-20).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import check_canonical, finish, register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo, read_csv_checked

log = logging.getLogger(__name__)

SOURCE, SOURCE_COAL, SOURCE_CEA = "posoco", "posoco_coal_total", "cea_dgr"
LAG_DAYS = {s: register_lag(s, 2) for s in (SOURCE, SOURCE_COAL, SOURCE_CEA)}

REGIONS: dict[str, str] = {"NR": "NR", "WR": "WR", "SR": "SR", "ER": "ER", "NER": "NER", "India": ""}
"""File prefix -> ``region`` (``""`` = all India)."""
FIELDS = ("EnergyMet", "HydroGen", "WindGen", "SolarGen", "Thermal", "Coal", "Lignite", "Hydro", "Nuclear",
          "Gas", "RES", "Total")
INDIA_BOUNDS: dict[str, tuple[float, float]] = {
    "EnergyMet": (1_500.0, 8_000.0), "Total": (1_500.0, 9_000.0), "Thermal": (1_000.0, 6_500.0),
    "Coal": (1_000.0, 6_000.0), "Lignite": (0.0, 160.0), "Gas": (0.0, 600.0), "Nuclear": (0.0, 250.0),
    "Hydro": (50.0, 1_200.0), "HydroGen": (50.0, 1_200.0), "RES": (0.0, 3_000.0), "WindGen": (0.0, 1_200.0),
    "SolarGen": (0.0, 2_000.0),
}
"""Plausible all-India daily values, GWh: capacity x 24 h with a margin (lignite ~6.6 GW -> 158 GWh,
nuclear ~8.8 GW -> 211 GWh, gas ~25 GW); energy met was 2,251..6,002 GWh in 2013-2026."""
UNITS_MEDIAN = (1_000.0, 10_000.0)
"""Median all-India daily energy met must lie in this range (GWh); TWh or MWh files fall outside."""
REGION_SUM_TOL = 0.10
SPIKE_TOL, SPIKE_WINDOW = 0.25, 15

CEA_PREFIX = "CEA.DGR."
CEA_FIELDS = ("COL", "LIG", "GAS", "DIE", "HSO", "NAP", "MFU", "THM", "NUC", "HYD", "BHU", "TOT", "WND", "SOL",
              "OTH", "RES")
CEA_BOUNDS: dict[str, tuple[float, float]] = {
    "COL": (1_000.0, 6_000.0), "LIG": (0.0, 160.0), "GAS": (0.0, 600.0), "DIE": (0.0, 50.0), "HSO": (0.0, 50.0),
    "NAP": (0.0, 50.0), "MFU": (0.0, 50.0), "THM": (1_000.0, 6_500.0), "NUC": (0.0, 250.0),
    "HYD": (50.0, 1_200.0), "BHU": (0.0, 150.0), "TOT": (1_500.0, 8_000.0), "WND": (0.0, 1_200.0),
    "SOL": (0.0, 2_000.0), "OTH": (0.0, 300.0), "RES": (0.0, 3_500.0),
}
THERMAL_PARTS = ("COL", "LIG", "GAS", "DIE", "HSO", "NAP", "MFU")
MAX_GWH = 9_000.0

BASE_URL = "https://raw.githubusercontent.com/robbieandrew/robbieandrew.github.io/HEAD/india/data"
"""CICERO's India data folder (also served at https://robbieandrew.github.io/india/data/)."""
POSOCO_FILES = ("POSOCO_data.csv", "POSOCO_coal_total_data.csv")
CEA_FILES = ("CEA_DGR_data.csv",)
POSOCO_FIRST_DAY, CEA_FIRST_DAY = date(2013, 1, 2), date(2018, 4, 1)

INFO = SourceInfo(
    name="posoco",
    title="Grid-India (POSOCO) daily power supply position: demand and generation by fuel, all India and regions",
    kind="activity",
    licence="CC-BY-4.0 (CICERO transcription); Grid-India public reports",
    url="https://robbieandrew.github.io/india/",
    shipped=("electricity/india-daily/POSOCO_data.csv.gz", "electricity/india-daily/POSOCO_metadata.json",
             "electricity/india-daily/POSOCO_coal_total_data.csv"),
    note="2013-01-02..2026-08-21 daily; implausible transcribed values dropped and counted",
)
INFO_CEA = SourceInfo(
    name="cea_dgr",
    title="CEA Daily Generation Report: all-India generation by fuel",
    kind="activity",
    licence="CC-BY-4.0 (CICERO transcription); CEA public reports",
    url="https://robbieandrew.github.io/india/",
    shipped=("electricity/india-daily/CEA_DGR_data.csv", "electricity/india-daily/CEA_DGR_metadata.json"),
    note="2018-04-01..2026-08-20 daily (renewables from 2019-07)",
)


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    return read_csv_checked(path, what, encoding="utf-8-sig", dtype=str)


def _need(raw: pd.DataFrame, cols: Sequence[str], name: str) -> None:
    missing = [c for c in cols if c not in raw.columns]
    if missing:
        more = f" (and {len(missing) - 6} more)" if len(missing) > 6 else ""
        raise IngestError(f"{name} lacks the column(s) {missing[:6]}{more}: not this layout")


def _days(raw: pd.DataFrame, col: str, fmt: str, name: str) -> pd.DatetimeIndex:
    text = raw[col].astype(str).str.strip()
    if fmt == "%y%m%d":
        text = text.str.zfill(6)
    day = pd.to_datetime(text, format=fmt, errors="coerce")
    if day.isna().any():
        i = int(np.flatnonzero(day.isna().to_numpy())[0])
        raise IngestError(f"{name}: row {i + 2} has {col} {raw[col].iloc[i]!r}, not a date")
    if day.duplicated().any():
        raise IngestError(f"{name}: date {day[day.duplicated()].iloc[0].date()} occurs twice")
    return pd.DatetimeIndex(day)


class _Flags:
    """Counts of dropped values by reason, with a few examples."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.examples: list[str] = []

    def drop(self, frame: pd.DataFrame, mask: pd.DataFrame | pd.Series, col: str, reason: str) -> None:
        m = mask.to_numpy(bool) & frame[col].notna().to_numpy() if reason != "not a number" else mask.to_numpy(bool)
        n = int(m.sum())
        if not n:
            return
        self.counts[reason] = self.counts.get(reason, 0) + n
        if len(self.examples) < 12:
            first = frame.index[m][0]
            self.examples.append(f"{first:%Y-%m-%d} {col}: {reason}")
        frame.loc[m, col] = np.nan

    def report(self, name: str, out: pd.DataFrame) -> pd.DataFrame:
        total = sum(self.counts.values())
        if total:
            log.warning("%s: dropped %d implausible value(s): %s; e.g. %s", name, total,
                        ", ".join(f"{k} {v}" for k, v in self.counts.items()), "; ".join(self.examples[:5]))
        out.attrs["flagged"] = total
        out.attrs["flagged_by_reason"] = dict(self.counts)
        out.attrs["flagged_examples"] = list(self.examples)
        return out


def _to_numbers(raw: pd.DataFrame, cols: Sequence[str], index: pd.DatetimeIndex, flags: _Flags) -> pd.DataFrame:
    out = pd.DataFrame(index=index)
    for c in cols:
        text = raw[c].astype("string").str.strip().replace("", pd.NA)
        num = pd.to_numeric(text, errors="coerce")
        out[c] = num.to_numpy(np.float64)
        flags.drop(out, pd.Series((num.isna() & text.notna()).to_numpy(bool), index=index), c, "not a number")
    return out


def _check_units(values: pd.Series, what: str, name: str) -> None:
    v = values.dropna()
    if v.empty:
        raise IngestError(f"{name}: no {what} values")
    lo, hi = UNITS_MEDIAN
    med = float(v.median())
    if not lo <= med <= hi:
        raise IngestError(f"{name}: median {what} is {med:g}, expected {lo:g}..{hi:g} GWh (MU) a day: "
                          f"units off by 1000 (TWh or MWh)?")


def _median(s: pd.Series) -> pd.Series:
    """Centred rolling median over :data:`SPIKE_WINDOW` days (gaps ignored)."""
    return s.rolling(SPIKE_WINDOW, center=True, min_periods=5).median()


def read_posoco_daily(path: Path) -> pd.DataFrame:
    """Grid-India daily report -> canonical daily table (GWh per day; iso3 IND; region "" or NR/WR/SR/ER/NER).

    Variables and the plausibility rules: see the module docstring.  ``attrs["flagged"]`` counts the
    dropped values."""
    path = Path(path)
    name = path.name
    raw = _read_csv(path, "POSOCO daily")
    cols = [f"{r}: {f}" for r in REGIONS for f in FIELDS]
    _need(raw, ["yyyymmdd", *cols], name)
    day = _days(raw, "yyyymmdd", "%Y%m%d", name)
    flags = _Flags()
    x = _to_numbers(raw, cols, day, flags)
    _check_units(x["India: EnergyMet"], "all-India energy met", name)
    # the Thermal column of the reports since 2026-05 is all zeros: not reported
    no_thermal = ~(x["India: Thermal"] > 0)
    for r in REGIONS:
        x.loc[no_thermal.to_numpy(), f"{r}: Thermal"] = np.nan
    for f in FIELDS:
        lo, hi = INDIA_BOUNDS[f]
        col = f"India: {f}"
        flags.drop(x, (x[col] < lo) | (x[col] > hi), col, "outside all-India bounds")
        for r in list(REGIONS)[:-1]:
            c = f"{r}: {f}"
            flags.drop(x, (x[c] < 0) | (x[c] > hi), c, "outside regional bounds")
    em = x["India: EnergyMet"]
    flags.drop(x, (em / _median(em) - 1).abs() > SPIKE_TOL, "India: EnergyMet", "spike against the 15-day median")
    for f in FIELDS:
        parts = x[[f"{r}: {f}" for r in list(REGIONS)[:-1]]]
        total = x[f"India: {f}"]
        ok = parts.notna().all(axis=1) & total.notna() & (total > 0)
        regional = parts.sum(axis=1).where(parts.notna().all(axis=1))
        off = ok & ((regional - total).abs() > REGION_SUM_TOL * total)
        # the all-India value is the odd one when it strays from its own recent level more than the regions do
        india_odd = off & ((total / _median(total) - 1).abs() > (regional / _median(regional) - 1).abs() + 0.10)
        flags.drop(x, india_odd, f"India: {f}", "all India disagrees with its regions")
        for r in REGIONS:
            flags.drop(x, off & ~india_odd, f"{r}: {f}", "regions do not add up to all India")

    rows = []
    for r, region in REGIONS.items():
        g = {f: x[f"{r}: {f}"] for f in FIELDS}
        coal = (g["Coal"] + g["Lignite"]).where(g["Coal"].notna() & g["Lignite"].notna())
        coal = coal.where(coal.notna() | g["Coal"].notna() | g["Lignite"].notna(), g["Thermal"])
        series = {
            "demand": g["EnergyMet"], "generation_coal": coal, "generation_thermal": g["Thermal"],
            "generation_gas": g["Gas"], "generation_nuclear": g["Nuclear"],
            "generation_hydro": g["Hydro"].where(g["Hydro"].notna(), g["HydroGen"]),
            "generation_wind": g["WindGen"], "generation_solar": g["SolarGen"],
            "generation_renewables": g["Hydro"] + g["RES"], "generation_total": g["Total"],
        }
        for var, s in series.items():
            s = s.dropna()
            rows.append(pd.DataFrame({"iso3": "IND", "region": region, "period": s.index, "frequency": "daily",
                                      "variable": var, "value": s.to_numpy(), "unit": "GWh", "source": SOURCE}))
    out = finish(pd.concat(rows, ignore_index=True), name, source=SOURCE,
                 max_value={v: MAX_GWH for v in ("demand", "generation_coal", "generation_total")})
    return flags.report(name, out)


def read_posoco_coal_total(path: Path) -> pd.DataFrame:
    """CICERO's daily all-India coal vs other generation -> ``generation_coal`` and ``generation_total``
    (Coal + Other), GWh per day, source ``posoco_coal_total``."""
    path = Path(path)
    name = path.name
    raw = _read_csv(path, "POSOCO coal total")
    _need(raw, ("yymmdd", "Coal", "Other"), name)
    day = _days(raw, "yymmdd", "%y%m%d", name)
    flags = _Flags()
    x = _to_numbers(raw, ("Coal", "Other"), day, flags)
    _check_units(x["Coal"] + x["Other"], "all-India generation", name)
    lo, hi = INDIA_BOUNDS["Coal"]
    flags.drop(x, (x["Coal"] < lo) | (x["Coal"] > hi), "Coal", "outside all-India bounds")
    flags.drop(x, (x["Other"] < 0) | (x["Other"] > INDIA_BOUNDS["Total"][1]), "Other", "outside all-India bounds")
    rows = [pd.DataFrame({"period": s.index, "variable": v, "value": s.to_numpy()})
            for v, s in (("generation_coal", x["Coal"].dropna()),
                         ("generation_total", (x["Coal"] + x["Other"]).dropna()))]
    df = pd.concat(rows, ignore_index=True).assign(iso3="IND", region="", frequency="daily", unit="GWh",
                                                   source=SOURCE_COAL)
    out = finish(df, name, source=SOURCE_COAL, max_value={"generation_coal": MAX_GWH, "generation_total": MAX_GWH})
    return flags.report(name, out)


def read_cea_dgr(path: Path) -> pd.DataFrame:
    """CEA daily generation report -> canonical all-India daily table (GWh per day, source ``cea_dgr``)."""
    path = Path(path)
    name = path.name
    raw = _read_csv(path, "CEA DGR")
    cols = [CEA_PREFIX + f for f in CEA_FIELDS]
    _need(raw, ["yyyymmdd", *cols], name)
    day = _days(raw, "yyyymmdd", "%Y%m%d", name)
    flags = _Flags()
    x = _to_numbers(raw, cols, day, flags).rename(columns=lambda c: c.removeprefix(CEA_PREFIX))
    _check_units(x["COL"], "daily coal generation", name)
    for f, (lo, hi) in CEA_BOUNDS.items():
        flags.drop(x, (x[f] < lo) | (x[f] > hi), f, "outside all-India bounds")
    parts = x[list(THERMAL_PARTS)].fillna(0.0).sum(axis=1)
    have = x["THM"].notna() & x[["COL", "LIG", "GAS"]].notna().all(axis=1)
    off = have & ((parts - x["THM"]).abs() > np.maximum(0.02 * x["THM"], 1.0))
    for f in (*THERMAL_PARTS, "THM"):
        flags.drop(x, off, f, "thermal is not the sum of its fuels")
    series = {
        "generation_coal": x["COL"] + x["LIG"], "generation_gas": x["GAS"],
        "generation_oil": x["DIE"] + x["HSO"] + x["NAP"], "generation_thermal": x["THM"],
        "generation_nuclear": x["NUC"], "generation_hydro": x["HYD"], "generation_wind": x["WND"],
        "generation_solar": x["SOL"], "generation_other_renewables": x["OTH"],
        "generation_renewables": x["HYD"] + x["RES"], "generation_total": x["THM"] + x["NUC"] + x["HYD"] + x["RES"],
    }
    rows = [pd.DataFrame({"period": s.dropna().index, "variable": v, "value": s.dropna().to_numpy()})
            for v, s in series.items()]
    df = pd.concat(rows, ignore_index=True).assign(iso3="IND", region="", frequency="daily", unit="GWh",
                                                   source=SOURCE_CEA)
    out = finish(df, name, source=SOURCE_CEA, max_value=dict.fromkeys(series, MAX_GWH))
    return flags.report(name, out)


def _kind(path: Path) -> str:
    import gzip

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"India grid file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as f:
            cols = f.readline().strip().replace('"', "").split(",")
    except (OSError, EOFError) as e:
        raise IngestError(f"{path.name} cannot be read: {e}") from e
    if cols[:1] == ["yyyymmdd"] and "India: EnergyMet" in cols:
        return "posoco"
    if cols[:1] == ["yymmdd"]:
        return "coal_total"
    if cols[:1] == ["yyyymmdd"] and any(c.startswith(CEA_PREFIX) for c in cols):
        return "cea"
    raise IngestError(f"{path.name}: not a POSOCO daily, POSOCO coal-total or CEA DGR file; header starts "
                      f"{cols[:4]}")


_READERS = {"posoco": read_posoco_daily, "coal_total": read_posoco_coal_total, "cea": read_cea_dgr}


class POSOCOAdapter(BaseAdapter):
    """Grid-India daily reports (and CICERO's coal/other split) -> canonical daily table (Parquet)."""

    info = INFO
    files: tuple[str, ...] = POSOCO_FILES
    first_day = POSOCO_FIRST_DAY
    kinds: tuple[str, ...] = ("posoco", "coal_total")

    def __init__(self, base_url: str | None = None, urls: Mapping[str, str] | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.base_url = (base_url or BASE_URL).rstrip("/")
        self.urls = dict(urls or {})

    def download(self, start: date, end: date) -> list[Path]:
        """CICERO's files (each holds every day since the series began); cached, sha256 sidecar, retried."""
        from ingest.download import fetch

        if end < start:
            raise IngestError(f"download period is empty: {start} > {end}")
        if end < self.first_day:
            raise IngestError(f"{self.info.name} starts on {self.first_day}; nothing before it")
        return [fetch(self.urls.get(f, f"{self.base_url}/{f}"), source=self.info.name,
                      settings=self.settings) for f in self.files]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        parts = []
        for p in paths:
            kind = _kind(p)
            if kind not in self.kinds:
                raise IngestError(f"{Path(p).name} is a {kind} file, not one of {self.info.name}'s")
            parts.append(_READERS[kind](p))
        if not parts:
            raise IngestError(f"no {self.info.name} files given")
        out = pd.concat(parts, ignore_index=True)
        out.attrs["flagged"] = int(sum(p.attrs.get("flagged", 0) for p in parts))
        self.validate(out)
        return out

    def validate(self, data: pd.DataFrame) -> None:
        check_canonical(data, self.info.name)


class CEADGRAdapter(POSOCOAdapter):
    """CEA daily generation report -> canonical daily table (Parquet)."""

    info = INFO_CEA
    files = CEA_FILES
    first_day = CEA_FIRST_DAY
    kinds = ("cea",)
