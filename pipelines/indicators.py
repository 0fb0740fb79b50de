"""Per-country daily activity indicators for a build, assembled from the ingest readers.

Thin I/O at the edge (:func:`load_daily_indicators`) plus pure reshaping:

- **degree days** (all ERA5 countries, 2000-01-01 .. 2024-12-31 with the shipped file): the ERA5
  monthly country-mean temperature (:func:`ingest.era5.read_era5_monthly_country`, *area* means) is
  made daily by :func:`ingest.degree_days.mean_preserving_daily` and turned into expected heating
  degree days (base :data:`nowcast.indicators.HDD_BASE_C` = 18 degC) and cooling degree days (base
  :data:`nowcast.indicators.CDD_BASE_C` = 22 degC) by :func:`ingest.degree_days.expected_degree_days`
  (the same method as :func:`ingest.degree_days.daily_from_monthly`, vectorised over countries),
  degC day day-1, dims (day, country);
- **electricity demand** (USA only, 2020-01-01 .. 2024-12-31): EIA-930 cleaned hourly demand of the
  contiguous US (``CONUS``, :mod:`ingest.eia930`) summed to complete UTC days, MWh day-1;
- **fossil power generation** (every country Ember covers, monthly): Ember's monthly long-format
  release read by :func:`ingest.ember.read_ember`, coal + gas + other fossil
  (:func:`ingest.ember.fossil_generation`), MWh month-1, dims (month, country).  Optional: read only
  when :data:`EMBER_MONTHLY_FILE` exists.  **It does not ship** (only Ember's EU-aggregate yearly
  file and a one-month German sample do), so the shipped build and backtest have no Ember countries.

:func:`annual_indicator_table` sums complete years into the table :func:`nowcast.backtest.run_backtest`
takes (index ``(iso3, year)``, columns ``hdd``, ``cdd``, ``power_demand``, ``power_fossil``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap.errors import InvalidInput
from ingest import degree_days, eia930, ember, era5
from nowcast.indicators import CDD_BASE_C, HDD_BASE_C

ERA5_MONTHLY_FILE = era5.MONTHLY_FILE
EIA_DEMAND_FILE = f"{eia930.DEMAND_DIR}/CONUS.csv"
US_DEMAND_REGION = "CONUS"
EMBER_MONTHLY_FILE = "electricity/ember-monthly-generation.csv"
"""Where Ember's ``monthly_full_release_long_format.csv`` goes (optional; not shipped)."""

HDD_SOURCE = ("ERA5 monthly country-mean 2 m temperature (area mean, ClimateDriversElectricityDemand) -> daily "
              f"by mean-preserving interpolation -> expected HDD base {HDD_BASE_C:g} degC (sigma "
              f"{degree_days.DAILY_SIGMA_C:g} degC)")
CDD_SOURCE = HDD_SOURCE.replace(f"HDD base {HDD_BASE_C:g}", f"CDD base {CDD_BASE_C:g}")
DEMAND_SOURCE = "EIA-930 cleaned hourly demand, contiguous US (Ruggles et al. 2020), summed to UTC days"
FOSSIL_SOURCE = "Ember monthly electricity generation, coal + gas + other fossil (MWh month-1)"


class IndicatorInputError(InvalidInput):
    """The indicator inputs are inconsistent (gaps in months, duplicate days, unknown indicator)."""


@dataclass(frozen=True)
class DailyIndicators:
    """Daily indicators per country, each a DataFrame indexed by day with one column per ISO3 code.

    ``hdd``/``cdd``: degC day day-1 (no NaN inside a country's coverage); ``power_demand``: MWh day-1
    (complete UTC days only); ``power_fossil_monthly``: fossil generation, MWh month-1, indexed by
    month start (empty unless Ember's monthly file is present).  ``sources`` names where each came from (for dataset metadata);
    ``weighting`` states how degree days were averaged over a country.
    """

    hdd: pd.DataFrame
    cdd: pd.DataFrame
    power_demand: pd.DataFrame
    sources: dict[str, str] = field(default_factory=dict)
    weighting: str = "area mean over the country"
    power_fossil_monthly: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(index=pd.DatetimeIndex([], name="month")))
    measured_monthly: dict[str, pd.DataFrame] = field(default_factory=dict)
    """sector -> (month start, iso3) measured monthly activity, in the index units of
    :mod:`nowcast.activity_indicators` (Mt CO2 month-1 for power and industry, kt for fuels, flights)."""
    measured_daily: dict[str, pd.DataFrame] = field(default_factory=dict)
    """sector -> (day, iso3) measured daily reports: their shape sets the days inside a measured month."""
    measured_sources: dict[str, dict[str, str]] = field(default_factory=dict)
    """sector -> iso3 -> what the measured series is (for the dataset's metadata)."""
    spring_festival: pd.Series | None = None
    """Factor by day offset from Lunar New Year's Day (:func:`nowcast.activity_indicators.spring_festival_profile`)."""

    def last_day(self, name: str) -> pd.Timestamp | None:
        """Last day with data of indicator ``name`` (``hdd``, ``cdd`` or ``power_demand``)."""
        df = self._get(name)
        return None if df.empty else pd.Timestamp(df.dropna(how="all").index.max())

    def _get(self, name: str) -> pd.DataFrame:
        if name not in ("hdd", "cdd", "power_demand"):
            raise IndicatorInputError(f"unknown indicator {name!r}; known: hdd, cdd, power_demand")
        return getattr(self, name)

    def series(self, name: str, iso3: str, days: pd.DatetimeIndex) -> np.ndarray | None:
        """Indicator ``name`` of ``iso3`` on ``days``, dims (day,); None unless every day has a value."""
        df = self._get(name)
        if iso3 not in df.columns:
            return None
        v = df[iso3].reindex(days).to_numpy(np.float64)
        return v if np.all(np.isfinite(v)) else None


def empty_indicators() -> DailyIndicators:
    """No indicators at all (every sector then uses its documented fallback)."""
    e = pd.DataFrame(index=pd.DatetimeIndex([], name="day"))
    return DailyIndicators(e, e, e, {})


def degree_days_from_monthly(monthly: pd.DataFrame, sigma_c: float = degree_days.DAILY_SIGMA_C
                             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(HDD base 18, CDD base 22) per day and country from monthly means, degC day day-1, (day, iso3).

    ``monthly``: :func:`ingest.era5.read_era5_monthly_country` (``iso3, month, tmean_c``).  Each
    country's months must be consecutive.
    """
    need = {"iso3", "month", "tmean_c"}
    if not need <= set(monthly.columns):
        raise IndicatorInputError(f"monthly temperature table lacks {sorted(need - set(monthly.columns))}")
    cols: dict[str, pd.Series] = {}
    for iso, g in monthly.sort_values("month").groupby("iso3", sort=True):
        try:
            days, mu = degree_days.mean_preserving_daily(g["tmean_c"].to_numpy(), pd.DatetimeIndex(g["month"]))
        except ValueError as e:
            raise IndicatorInputError(f"monthly temperatures of {iso}: {e}") from e
        cols[str(iso)] = pd.Series(mu, index=days)
    mu_all = pd.DataFrame(cols).sort_index()
    mu_all.index.name = "day"
    t = mu_all.to_numpy(np.float64)
    hdd, _ = degree_days.expected_degree_days(t, sigma_c, HDD_BASE_C)
    _, cdd = degree_days.expected_degree_days(t, sigma_c, CDD_BASE_C)
    return (pd.DataFrame(hdd, index=mu_all.index, columns=mu_all.columns),
            pd.DataFrame(cdd, index=mu_all.index, columns=mu_all.columns))


def us_daily_demand(daily: pd.DataFrame, region: str = US_DEMAND_REGION) -> pd.DataFrame:
    """Complete-day demand of ``region`` as a (day, ['USA']) frame, MWh day-1.

    ``daily``: :func:`ingest.eia930.daily_demand` (``region, day, demand_mwh, n_hours``).
    """
    d = daily[(daily["region"] == region) & (daily["n_hours"] == 24)]
    if d.empty:
        raise IndicatorInputError(f"no complete days of EIA-930 demand for region {region}")
    s = d.set_index("day")["demand_mwh"].astype(np.float64).sort_index()
    out = s.to_frame("USA")
    out.index = pd.DatetimeIndex(out.index, name="day")
    return out


def monthly_fossil_generation(table: pd.DataFrame, iso2_to_iso3: dict[str, str] | None = None) -> pd.DataFrame:
    """Fossil generation per month and country from an Ember table, MWh month-1, dims (month, iso3).

    ``table``: :func:`ingest.ember.read_ember` output (``area, period, frequency, fuel,
    generation_mwh``).  Areas that are 2-letter codes (CREA's extract) are mapped by ``iso2_to_iso3``;
    then only monthly rows of 3-letter country codes are kept (Ember's regional aggregates such as
    ``EU`` or ``World`` have other names); months are month starts.
    """
    need = {"area", "period", "frequency", "fuel", "generation_mwh"}
    if not need <= set(table.columns):
        raise IndicatorInputError(f"Ember table lacks {sorted(need - set(table.columns))}")
    area = table["area"].astype(str)
    if iso2_to_iso3:
        area = area.map(lambda a: iso2_to_iso3.get(a, a))
    table = table.assign(area=area)
    t = table[(table["frequency"] == "monthly") & table["area"].str.fullmatch(r"[A-Z]{3}")]
    if t.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="month"))
    f = ember.fossil_generation(t)
    out = f.pivot_table(index="period", columns="area", values="fossil_mwh", aggfunc="sum").sort_index()
    out.index = pd.DatetimeIndex(out.index, name="month")
    out.columns.name = None
    return out.astype(np.float64)


def _iso2_to_iso3(root: Path) -> dict[str, str]:
    """ISO alpha-2 -> the ids GCB uses (Natural Earth ``ISO_A2`` -> ``ADM0_A3``), for CREA's Ember extract."""
    import json

    path = root / "boundaries" / "ne_110m_admin_0_countries.json"
    if not path.exists():
        return {}
    feats = json.loads(path.read_text(encoding="utf-8"))["features"]
    out = {"FR": "FRA", "NO": "NOR", "XK": "KSV"}  # Natural Earth gives these ISO_A2 = -99
    for f in feats:
        a2, a3 = f["properties"].get("ISO_A2"), f["properties"].get("ADM0_A3")
        if isinstance(a2, str) and len(a2) == 2 and a2 != "-9" and isinstance(a3, str):
            out[a2] = a3
    return out


def load_daily_indicators(data_dir: Path,
                          record: Callable[[object, Path, str], Path] | None = None) -> DailyIndicators:
    """Read the shipped indicator files through the ingest readers.

    ``record(info, path, role)`` (optional) is called for each file so the build can list it in its
    provenance; it must return the path.
    """
    root = Path(data_dir)
    rec = record or (lambda info, p, role: p)
    paths = {}
    for key, rel in (("era5", ERA5_MONTHLY_FILE), ("eia", EIA_DEMAND_FILE)):
        p = root / rel
        if not p.exists():
            raise FileNotFoundError(f"missing indicator file {p}; it ships in data/ with the repository")
        paths[key] = p
    monthly = era5.read_era5_monthly_country(
        rec(era5.MONTHLY_INFO, paths["era5"], "daily indicator: heating/cooling degree days"))
    hdd, cdd = degree_days_from_monthly(monthly)
    demand = us_daily_demand(eia930.daily_demand(eia930.read_cleaned_demand(
        [rec(eia930.DEMAND_INFO, paths["eia"], "daily indicator: US electricity demand (power)")])))
    sources = {"hdd": HDD_SOURCE, "cdd": CDD_SOURCE, "power_demand": DEMAND_SOURCE + " (USA)"}
    fossil = pd.DataFrame(index=pd.DatetimeIndex([], name="month"))
    ember_path = root / EMBER_MONTHLY_FILE
    if ember_path.exists():
        fossil = monthly_fossil_generation(ember.read_ember(
            rec(ember.INFO, ember_path, "indicator: fossil power generation (Ember, monthly)")), _iso2_to_iso3(root))
        sources["power_fossil"] = FOSSIL_SOURCE + f" ({len(fossil.columns)} countries)"
    return DailyIndicators(hdd, cdd, demand, sources, power_fossil_monthly=fossil)


def annual_indicator_table(ind: DailyIndicators) -> pd.DataFrame:
    """Complete-year sums: index (iso3, year), columns ``hdd``, ``cdd`` (degC day yr-1), ``power_demand``
    (MWh yr-1, NaN where absent), ``power_fossil`` (Ember fossil generation, MWh yr-1, complete years
    only).  The table :func:`nowcast.backtest.run_backtest` takes."""
    parts = []
    for name in ("hdd", "cdd", "power_demand"):
        df = ind._get(name)
        if df.empty:
            continue
        idx = pd.DatetimeIndex(df.index)
        g = df.groupby(idx.year)
        sums = g.sum(min_count=1)
        full = g.count()
        days_in_year = pd.Series([366 if pd.Timestamp(f"{y}-12-31").dayofyear == 366 else 365 for y in sums.index],
                                 index=sums.index)
        sums = sums.where(full.eq(days_in_year, axis=0))
        long = sums.stack().rename(name)
        long.index = long.index.set_names(["year", "iso3"])
        parts.append(long.reorder_levels(["iso3", "year"]))
    fossil = annual_fossil_generation(ind.power_fossil_monthly)
    if not fossil.empty:
        parts.append(fossil)
    cols = ["hdd", "cdd", "power_demand", "power_fossil"]
    if not parts:
        return pd.DataFrame(columns=cols, index=pd.MultiIndex.from_arrays([[], []], names=["iso3", "year"]))
    out = pd.concat(parts, axis=1).sort_index()
    out.index = out.index.set_levels(out.index.levels[1].astype(int), level=1)
    for c in cols:
        if c not in out:
            out[c] = np.nan
    return out[cols]


def annual_fossil_generation(monthly: pd.DataFrame) -> pd.Series:
    """Complete-year (12 months) sums of monthly fossil generation: Series ``power_fossil`` (MWh yr-1),
    index (iso3, year).  ``monthly``: (month start, iso3) MWh month-1, NaN where absent."""
    if monthly.empty:
        return pd.Series(dtype=np.float64, name="power_fossil")
    idx = pd.DatetimeIndex(monthly.index)
    g = monthly.groupby(idx.year)
    sums = g.sum(min_count=1).where(g.count() == 12)
    long = sums.stack().rename("power_fossil")
    long.index = long.index.set_names(["year", "iso3"])
    return long.reorder_levels(["iso3", "year"]).sort_index()


def extend_with_climatology(df: pd.DataFrame, end: pd.Timestamp, n_years: int = 5) -> pd.DataFrame:
    """Extend a (day, country) indicator to ``end`` with the mean of the same calendar day over the last
    ``n_years`` complete years (29 February takes the 28 February mean).  Observed days are kept."""
    if df.empty:
        return df
    last = pd.Timestamp(df.index.max())
    if last >= end:
        return df
    idx = pd.DatetimeIndex(df.index)
    last_full = last.year if last == pd.Timestamp(f"{last.year}-12-31") else last.year - 1
    hist = df[(idx.year > last_full - n_years) & (idx.year <= last_full)]
    if hist.empty:
        raise IndicatorInputError("no complete year of the indicator to build a climatology from")
    hidx = pd.DatetimeIndex(hist.index)
    key = hidx.month * 100 + np.minimum(hidx.day, np.where(hidx.month == 2, 28, 31))
    clim = hist.groupby(np.asarray(key)).mean()
    new_days = pd.date_range(last + pd.Timedelta(days=1), end, freq="D")
    nkey = new_days.month * 100 + np.minimum(new_days.day, np.where(new_days.month == 2, 28, 31))
    ext = clim.reindex(np.asarray(nkey))
    ext.index = new_days
    out = pd.concat([df, ext])
    out.index.name = df.index.name
    return out
