"""EIA-930 hourly electricity data: cleaned demand per interconnection, generation by fuel per BA, CO2.

Layouts read:

- **Cleaned hourly demand** (Ruggles et al. 2020, ``CONUS.csv``, ``EASTERN_IC.csv``, ``WESTERN_IC.csv``,
  ``TEXAS_IC.csv``): ``date_time,raw demand (MW),cleaned demand (MW)``, one row per UTC hour
  (the hour-ending convention of EIA-930).  :func:`read_cleaned_demand` -> long
  ``region, hour, demand_mw``; :func:`daily_demand` -> ``region, day, demand_mwh, n_hours``.
- **Generation by fuel** (gridemissions ``E_raw_<start>_<end>.csv``): wide, ``period`` as
  ``YYYY-MM-DDTHH`` (UTC) and one column per ``E_<BA>_<CODE>`` in MWh per hour, where CODE is a fuel
  (``COL`` coal, ``GAS`` natural gas, ``OIL`` petroleum, ``NUC``, ``SUN``, ``WAT``, ``WND``, ``OTH``),
  ``NG`` *net generation* (all fuels — not natural gas, in this layout), ``D`` demand, ``TI`` total
  interchange, or ``<BA>-<BA>_ID`` interchange.  :func:`read_generation_by_fuel` -> long
  ``ba, hour, fuel, mwh`` for the fuel codes only.
- **CO2** (gridemissions ``CO2_<start>_<end>.csv``): ``CO2_<BA>_NG`` = kg CO2 per hour of the BA's
  net generation.  :func:`read_gridemissions_co2`.

Emission factors (:data:`EMISSION_FACTORS_KG_PER_MWH`): kg CO2 per MWh generated, the set used by
gridemissions (de Chalendar, Taggart and Benson 2019, PNAS 116:25497) to build the shipped CO2
files: coal 1000, natural gas 469, oil 840, other 439; non-fossil sources carry small life-cycle
values (nuclear 16, solar 46, hydro 4, wind 12).  carbonmap's fossil CO2
(:func:`daily_fossil`) uses only COL, GAS and OIL (:data:`FOSSIL_FUELS`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo

DEMAND_DIR = "point_sources/eia930-cleaned-hourly-demand"
GEN_DIR = "electricity/eia930-generation-by-fuel"
DEMAND_REGIONS = ("CONUS", "EASTERN_IC", "WESTERN_IC", "TEXAS_IC")

FUEL_CODES = ("COL", "GAS", "OIL", "NUC", "SUN", "WAT", "WND", "OTH")
FOSSIL_FUELS = ("COL", "GAS", "OIL")
EMISSION_FACTORS_KG_PER_MWH: dict[str, float] = {
    "COL": 1000.0, "GAS": 469.0, "OIL": 840.0, "OTH": 439.0,
    "NUC": 16.0, "SUN": 46.0, "WAT": 4.0, "WND": 12.0,
}
"""kg CO2 per MWh generated, by EIA-930 fuel code (gridemissions' factors; see the module docstring)."""
MAX_BA_MW = 250_000.0
"""MWh per hour: no balancing authority generates more from one fuel (PJM peaks near 150 GW in total);
larger raw values are reporting spikes and are dropped (counted in ``attrs['n_spikes_dropped']``)."""

DEMAND_INFO = SourceInfo(
    name="eia930_demand",
    title="EIA-930 cleaned hourly electricity demand (Ruggles et al. 2020)",
    kind="activity",
    licence="CC-BY-4.0",
    url="https://github.com/truggles/EIA_Cleaned_Hourly_Electricity_Demand_Data",
    shipped=tuple(f"{DEMAND_DIR}/{r}.csv" for r in DEMAND_REGIONS),
)
GEN_INFO = SourceInfo(
    name="eia930",
    title="EIA-930 hourly generation by fuel per balancing authority (gridemissions layout)",
    kind="activity",
    licence="EIA public data; gridemissions MIT",
    url="https://www.eia.gov/electricity/gridmonitor/",
    shipped=(f"{GEN_DIR}/E_raw_2021-07-10_2021-07-20.csv", f"{GEN_DIR}/E_raw_2023-06-10_2023-06-20.csv",
             f"{GEN_DIR}/CO2_2021-07-10_2021-07-20.csv", f"{GEN_DIR}/CO2_2023-06-10_2023-06-20.csv"),
    note="fuel CO2 from documented emission factors; checked against gridemissions' CO2 files",
)
SIX_MONTH_URL = "https://www.eia.gov/electricity/gridmonitor/sixMonthFiles/EIA930_BALANCE_{year}_{half}.csv"
"""EIA's published six-month BALANCE files (``half`` is ``Jan_Jun`` or ``Jul_Dec``)."""
DEMAND_URL = ("https://raw.githubusercontent.com/truggles/EIA_Cleaned_Hourly_Electricity_Demand_Data/"
              "b80145df/data/release_2020_Oct/regions/{region}.csv")


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{what} file not found: {path}")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e


def _hours(values: pd.Series, fmt: str, name: str) -> pd.DatetimeIndex:
    t = pd.to_datetime(values, format=fmt, errors="coerce")
    if t.isna().any():
        raise IngestError(f"{name}: time {values[t.isna()].iloc[0]!r} does not match {fmt}")
    t = pd.DatetimeIndex(t)
    if t.has_duplicates:
        raise IngestError(f"{name}: duplicate hour {t[t.duplicated()][0]}")
    if not t.is_monotonic_increasing:
        raise IngestError(f"{name}: hours are not in increasing order")
    return t


def read_cleaned_demand(paths: Sequence[Path]) -> pd.DataFrame:
    """Cleaned hourly demand, long ``region, hour, demand_mw`` (MW = MWh per hour), UTC hours."""
    frames = []
    for p in map(Path, paths):
        raw = _read_csv(p, "EIA-930 demand")
        need = ("date_time", "cleaned demand (MW)")
        if any(c not in raw.columns for c in need):
            raise IngestError(f"{p.name} lacks the column(s) {[c for c in need if c not in raw.columns]}; "
                              f"found {list(raw.columns)}")
        hour = _hours(raw["date_time"], "%Y-%m-%d %H:%M:%S", p.name)
        d = pd.to_numeric(raw["cleaned demand (MW)"], errors="coerce")
        if d.isna().any():
            raise IngestError(f"{p.name}: cleaned demand missing or non-numeric at {hour[d.isna().to_numpy()][0]}")
        if (d < 0).any() or (d > 1e6).any():
            raise IngestError(f"{p.name}: cleaned demand must lie in 0..1e6 MW, found {d.min()}..{d.max()}")
        frames.append(pd.DataFrame({"region": p.stem, "hour": hour, "demand_mw": d.astype(np.float64)}))
    if not frames:
        raise IngestError("no EIA-930 demand files given")
    out = pd.concat(frames, ignore_index=True)
    if out.duplicated(["region", "hour"]).any():
        raise IngestError("the same demand region was given twice")
    out.attrs["units"] = "MW (hourly mean) = MWh per hour"
    return out


def daily_demand(hourly: pd.DataFrame) -> pd.DataFrame:
    """UTC-day sums of hourly demand: ``region, day, demand_mwh, n_hours`` (24 on complete days)."""
    h = hourly.assign(day=hourly["hour"].dt.normalize())
    g = h.groupby(["region", "day"], sort=True)["demand_mw"]
    out = pd.DataFrame({"demand_mwh": g.sum(), "n_hours": g.size()}).reset_index()
    out.attrs["units"] = "MWh day-1"
    return out


_E_COL = re.compile(r"^E_([A-Z0-9]+)_([A-Z]+)$")


def read_generation_by_fuel(path: Path) -> pd.DataFrame:
    """Hourly generation by fuel per BA, long ``ba, hour, fuel, mwh`` (MWh per UTC hour); NaN rows dropped."""
    path = Path(path)
    raw = _read_csv(path, "EIA-930 generation")
    if "period" not in raw.columns:
        raise IngestError(f"{path.name} lacks the 'period' column; is it a gridemissions E_*.csv file?")
    hour = _hours(raw["period"], "%Y-%m-%dT%H", path.name)
    cols = [(c, m.group(1), m.group(2)) for c in raw.columns if (m := _E_COL.match(c)) and m.group(2) in FUEL_CODES]
    if not cols:
        raise IngestError(f"{path.name} has no E_<BA>_<fuel> columns for fuels {FUEL_CODES}")
    vals = raw[[c for c, _, _ in cols]].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    finite = vals[np.isfinite(vals)]
    if finite.size and np.median(np.abs(finite)) > MAX_BA_MW / 10:
        raise IngestError(f"{path.name}: the median generation is {np.median(np.abs(finite)):.0f} MWh per hour "
                          f"per BA and fuel; are the units MWh?")
    # raw EIA-930 carries isolated reporting spikes (e.g. 3.6 TWh in one hour); they are dropped, counted
    spikes = np.abs(np.nan_to_num(vals)) > MAX_BA_MW
    vals = np.where(spikes, np.nan, vals)
    long = pd.DataFrame({"ba": np.repeat([b for _, b, _ in cols], len(hour)),
                         "hour": np.tile(hour.to_numpy(), len(cols)),
                         "fuel": np.repeat([f for _, _, f in cols], len(hour)),
                         "mwh": vals.T.ravel()})
    long = long.dropna(subset=["mwh"]).sort_values(["ba", "fuel", "hour"]).reset_index(drop=True)
    long.attrs.update({"units": "MWh h-1", "source_file": path.name, "n_spikes_dropped": int(spikes.sum()),
                       "spike_threshold_mwh": MAX_BA_MW})
    return long


def co2_kg(generation: pd.DataFrame, factors: dict[str, float] | None = None,
           fuels: Sequence[str] | None = None) -> pd.DataFrame:
    """Add ``co2_kg`` = mwh x factor (kg CO2) to a generation table; rows of other fuels dropped.

    Negative generation (EIA reports net generation; storage and station use make small negatives)
    is kept as reported for non-fossil fuels and clipped at 0 for fossil fuels.
    """
    f = dict(EMISSION_FACTORS_KG_PER_MWH if factors is None else factors)
    keep = list(fuels) if fuels is not None else list(f)
    unknown = [x for x in keep if x not in f]
    if unknown:
        raise IngestError(f"no emission factor for fuel(s) {unknown}")
    g = generation[generation["fuel"].isin(keep)].copy()
    mwh = np.where(g["fuel"].isin(FOSSIL_FUELS), g["mwh"].clip(lower=0), g["mwh"])
    g["co2_kg"] = mwh * g["fuel"].map(f).to_numpy(np.float64)
    return g


def hourly_co2_per_ba(generation: pd.DataFrame, factors: dict[str, float] | None = None,
                      fuels: Sequence[str] | None = None) -> pd.DataFrame:
    """kg CO2 per BA and UTC hour, wide (hour x ba)."""
    g = co2_kg(generation, factors, fuels)
    return g.pivot_table(index="hour", columns="ba", values="co2_kg", aggfunc="sum").sort_index()


def daily_fossil(generation: pd.DataFrame, factors: dict[str, float] | None = None) -> pd.DataFrame:
    """Daily fossil generation and CO2 per BA: ``ba, day, fossil_mwh, co2_kg, n_hours``.

    Uses COL, GAS, OIL only; ``n_hours`` is the number of UTC hours with data (24 = complete day).
    Partial days (the first/last of a window) are kept and flagged by ``n_hours``.
    """
    g = co2_kg(generation, factors, FOSSIL_FUELS)
    g["day"] = g["hour"].dt.normalize()
    g["mwh"] = g["mwh"].clip(lower=0)
    out = g.groupby(["ba", "day"], sort=True).agg(fossil_mwh=("mwh", "sum"), co2_kg=("co2_kg", "sum"),
                                                  n_hours=("hour", "nunique")).reset_index()
    out.attrs.update({"units": "MWh day-1, kg CO2 day-1", "fuels": list(FOSSIL_FUELS),
                      "emission_factors_kg_per_mwh": {k: EMISSION_FACTORS_KG_PER_MWH[k] for k in FOSSIL_FUELS}})
    return out


def us_total(daily: pd.DataFrame, value_cols: Sequence[str] = ("fossil_mwh", "co2_kg")) -> pd.DataFrame:
    """Sum over BAs per day: ``day, <value_cols>, n_bas`` (the US-wide EIA-930 daily indicator)."""
    g = daily.groupby("day", sort=True)
    out = g[list(value_cols)].sum()
    out["n_bas"] = g["ba"].nunique()
    return out.reset_index()


def read_gridemissions_co2(path: Path) -> pd.DataFrame:
    """Shipped gridemissions CO2 of net generation per BA: wide (hour x ba), kg CO2 per hour."""
    path = Path(path)
    raw = _read_csv(path, "gridemissions CO2")
    if "period" not in raw.columns:
        raise IngestError(f"{path.name} lacks the 'period' column")
    hour = _hours(raw["period"], "%Y-%m-%d %H:%M:%S", path.name)
    cols = {c: m.group(1) for c in raw.columns if (m := re.match(r"^CO2_([A-Z0-9]+)_NG$", c))}
    if not cols:
        raise IngestError(f"{path.name} has no CO2_<BA>_NG columns")
    out = raw[list(cols)].apply(pd.to_numeric, errors="coerce").rename(columns=cols)
    out.index = hour
    out.index.name = "hour"
    return out


def compare_with_gridemissions(generation: pd.DataFrame, co2_ref: pd.DataFrame) -> pd.DataFrame:
    """Per BA: our CO2 (all fuels, gridemissions factors) vs the shipped CO2 over the common hours.

    Returns ``ba, ours_kg, ref_kg, ratio`` for BAs with positive reference CO2.
    """
    ours = hourly_co2_per_ba(generation)
    hours = ours.index.intersection(co2_ref.index)
    bas = sorted(set(ours.columns) & set(co2_ref.columns))
    o = ours.loc[hours, bas].fillna(0).sum()
    r = co2_ref.loc[hours, bas].fillna(0).sum()
    df = pd.DataFrame({"ours_kg": o, "ref_kg": r})
    df = df[df["ref_kg"] > 0]
    df["ratio"] = df["ours_kg"] / df["ref_kg"]
    return df.rename_axis("ba").reset_index()


class EIA930DemandAdapter(BaseAdapter[pd.DataFrame]):
    """Cleaned hourly demand CSVs -> daily demand per interconnection (``region, day, demand_mwh, n_hours``)."""

    info = DEMAND_INFO

    def download(self, start: date, end: date) -> list[Path]:
        from ingest.download import fetch

        return [fetch(DEMAND_URL.format(region=r), source=self.info.name,
                      settings=self.settings) for r in DEMAND_REGIONS]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        return daily_demand(read_cleaned_demand(paths))


class EIA930Adapter(BaseAdapter[pd.DataFrame]):
    """Generation by fuel -> daily fossil generation and CO2 per BA (``ba, day, fossil_mwh, co2_kg, n_hours``)."""

    info = GEN_INFO

    def download(self, start: date, end: date) -> list[Path]:
        """EIA's six-month BALANCE files covering the period (real URL pattern; cached, retried)."""
        from ingest.download import fetch

        out = []
        for y in range(start.year, end.year + 1):
            for half, (m0, m1) in (("Jan_Jun", (1, 6)), ("Jul_Dec", (7, 12))):
                if date(y, m1, 28) < start.replace(day=1) or date(y, m0, 1) > end:
                    continue
                out.append(fetch(SIX_MONTH_URL.format(year=y, half=half), source=self.info.name,
                                 settings=self.settings))
        return out

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        frames = [daily_fossil(read_generation_by_fuel(p)) for p in paths if Path(p).name.startswith("E_")]
        if not frames:
            raise IngestError("EIA-930 needs gridemissions E_*.csv generation files")
        out = pd.concat(frames, ignore_index=True)
        # windows may share a partial boundary day: keep the most complete record
        out = out.sort_values("n_hours").drop_duplicates(["ba", "day"], keep="last")
        return out.sort_values(["ba", "day"]).reset_index(drop=True)

    def validate(self, data: pd.DataFrame) -> None:
        need = {"ba", "day", "fossil_mwh", "co2_kg", "n_hours"}
        if not need <= set(data.columns):
            raise IngestError(f"EIA-930 table lacks {sorted(need - set(data.columns))}")
        if data.duplicated(["ba", "day"]).any():
            raise IngestError("EIA-930 table has duplicate (ba, day) rows")
