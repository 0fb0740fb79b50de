"""Daily activity indicator profiles per sector (pure functions).

Every profile is a dimensionless relative activity, dims (day,), normalised to mean 1 over the
days given, with no negative values; it is used as a *shape* (Denton-Cholette turns it into kg CO2
day-1 that sum to the monthly benchmarks).  Each function returns ``(profile, source)`` where
``source`` is a short string for the dataset's provenance metadata saying what the shape came from.

Assumed climatologies (weekday factors, monthly aviation/shipping factors, heating/cooling
sensitivities) are module constants, stated here so the metadata can cite them:

- ground transport: weekday factors from typical road-traffic counts (Fri highest, Sun lowest);
  public holidays (``holidays`` package) take the Sunday factor.
- residential: a temperature-independent base share (cooking, hot water) plus a part proportional
  to heating degree days (base 18 degC).
- power: the observed daily demand/generation when given (EIA-930 for the USA, ENTSO-E in
  Europe); otherwise the documented fallback weekday x (1 + heating/cooling sensitivity x degree days).
- industry: its own calendar model (working-day factors, public holidays, the Lunar New Year in China),
  rescaled monthly to measured production where present (:mod:`nowcast.measured`).
- aviation/shipping: monthly climatologies until track data exist.
"""

from __future__ import annotations

import datetime as dt
import math

import holidays
import numpy as np
import pandas as pd

from carbonmap.errors import InvalidInput

Profile = tuple[np.ndarray, str]

GROUND_WEEKDAY = (1.02, 1.03, 1.03, 1.04, 1.06, 0.88, 0.74)
"""Road-traffic factors Monday..Sunday (relative; holidays take Sunday's)."""
POWER_WEEKDAY = (1.00, 1.01, 1.01, 1.01, 0.99, 0.92, 0.87)
"""Electricity demand factors Monday..Sunday for the fallback power profile."""
POWER_HDD_SENSITIVITY = 0.010
"""Fallback power: relative demand increase per heating degree day (degC day)."""
POWER_CDD_SENSITIVITY = 0.025
"""Fallback power: relative demand increase per cooling degree day (degC day)."""
RESIDENTIAL_BASE_SHARE = 0.35
"""Share of residential CO2 that does not depend on temperature (cooking, hot water)."""
HDD_BASE_C = 18.0
CDD_BASE_C = 22.0
AVIATION_MONTHLY = (0.90, 0.85, 0.97, 0.98, 1.01, 1.05, 1.12, 1.12, 1.02, 1.02, 0.95, 1.01)
"""Aviation activity by month (Jan..Dec), typical passenger-traffic seasonality (northern summer peak)."""
INDUSTRY_WEEKDAY = (1.00, 1.00, 1.00, 1.00, 0.99, 0.90, 0.84)
"""Industrial activity factors Monday..Sunday (continuous processes run every day; batch plants slow at
weekends); public holidays take Sunday's. A calendar model, used where no daily industrial data exist."""
SHIPPING_MONTHLY = (0.99, 0.95, 1.00, 1.00, 1.01, 1.00, 1.01, 1.01, 1.00, 1.02, 1.01, 1.00)
"""International shipping activity by month, nearly flat (bunker sales seasonality)."""


class IndicatorError(InvalidInput):
    """An indicator input is malformed (wrong length, negative activity, unknown country)."""


def _days(days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    if not isinstance(days, pd.DatetimeIndex) or len(days) == 0:
        raise IndicatorError("days must be a non-empty pandas DatetimeIndex of calendar days")
    return days.normalize()


def _normalise(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise IndicatorError("a profile must be finite and non-negative")
    mean = p.mean()
    if mean <= 0:
        raise IndicatorError("a profile must have positive mean")
    return p / mean


def _aligned(values: np.ndarray, days: pd.DatetimeIndex, what: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size != len(days):
        raise IndicatorError(f"{what} has {v.size} values for {len(days)} days")
    if not np.all(np.isfinite(v)):
        raise IndicatorError(f"{what} contains missing or infinite values")
    return v


def holiday_mask(days: pd.DatetimeIndex, iso3: str) -> tuple[np.ndarray, bool]:
    """Boolean (day,) mask of public holidays in country ``iso3`` and whether the country is known."""
    days = _days(days)
    years = sorted(set(days.year))
    try:
        cal = holidays.country_holidays(iso3.upper(), years=years)
    except NotImplementedError:
        return np.zeros(len(days), dtype=bool), False
    dates: list[dt.date] = [d.date() for d in days]
    return np.array([d in cal for d in dates], dtype=bool), True


def ground_transport_profile(days: pd.DatetimeIndex, iso3: str,
                             weekday: tuple[float, ...] = GROUND_WEEKDAY) -> Profile:
    """Ground transport: weekday factors, public holidays at the Sunday factor.  (day,), mean 1."""
    days = _days(days)
    if len(weekday) != 7:
        raise IndicatorError("weekday factors need 7 values, Monday..Sunday")
    w = np.asarray(weekday, dtype=np.float64)[days.dayofweek]
    mask, known = holiday_mask(days, iso3)
    w = np.where(mask, weekday[6], w)
    src = (f"weekday factors + public holidays of {iso3.upper()} (holidays {holidays.__version__})" if known
           else f"weekday factors only (no public-holiday calendar for {iso3.upper()})")
    return _normalise(w), src


def degree_days(tmean_c: np.ndarray, heat_base_c: float = HDD_BASE_C,
                cool_base_c: float = CDD_BASE_C) -> tuple[np.ndarray, np.ndarray]:
    """Daily heating and cooling degree days (degC day) from daily mean temperature (degC), (day,) each."""
    t = np.asarray(tmean_c, dtype=np.float64)
    return np.maximum(heat_base_c - t, 0.0), np.maximum(t - cool_base_c, 0.0)


def monthly_degree_days(tmean_c: np.ndarray, days_in_month: np.ndarray, base_c: float, heating: bool = True,
                        sigma_c: float = 4.0) -> np.ndarray:
    """Monthly degree days (degC month) from the monthly mean temperature (Thom's method), (month,).

    Daily temperatures within a month are taken as normal with standard deviation ``sigma_c``
    around the monthly mean, so months near the base temperature still accrue degree days.
    """
    t = np.asarray(tmean_c, dtype=np.float64)
    n = np.asarray(days_in_month, dtype=np.float64)
    z = (base_c - t) / sigma_c if heating else (t - base_c) / sigma_c
    phi = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))
    return n * sigma_c * (z * cdf + phi)


def residential_profile(hdd: np.ndarray, days: pd.DatetimeIndex,
                        base_share: float = RESIDENTIAL_BASE_SHARE) -> Profile:
    """Residential: ``base_share + (1 - base_share) * HDD / mean(HDD)``, (day,), mean 1.

    ``hdd`` is population-weighted heating degree days (degC day), dims (day,).  Where a country has
    no heating degree days at all (tropics) the profile is flat.
    """
    days = _days(days)
    h = _aligned(hdd, days, "hdd")
    if np.any(h < 0):
        raise IndicatorError("heating degree days cannot be negative")
    if h.mean() <= 0:
        return np.ones(len(days)), "flat (no heating degree days)"
    return _normalise(base_share + (1.0 - base_share) * h / h.mean()), \
        f"population-weighted HDD (base {HDD_BASE_C} degC), {base_share:.0%} temperature-independent"


def power_profile(days: pd.DatetimeIndex, demand: np.ndarray | None = None, *, hdd: np.ndarray | None = None,
                  cdd: np.ndarray | None = None, demand_source: str = "EIA-930 daily demand") -> Profile:
    """Power: observed daily demand/generation (MWh day-1) when given, else the documented fallback.

    Fallback: ``POWER_WEEKDAY[dow] * (1 + POWER_HDD_SENSITIVITY*HDD + POWER_CDD_SENSITIVITY*CDD)``
    (weekday and seasonal from degree days; flat seasonal part when no temperature is given).
    Returns (day,), mean 1.
    """
    days = _days(days)
    if demand is not None:
        d = _aligned(demand, days, "demand")
        if np.any(d < 0):
            raise IndicatorError("electricity demand cannot be negative")
        return _normalise(d), demand_source
    w = np.asarray(POWER_WEEKDAY)[days.dayofweek]
    seasonal: np.ndarray = np.ones(len(days))
    src = "fallback: weekday factors"
    if hdd is not None or cdd is not None:
        h = _aligned(hdd, days, "hdd") if hdd is not None else 0.0
        c = _aligned(cdd, days, "cdd") if cdd is not None else 0.0
        seasonal = np.asarray(1.0 + POWER_HDD_SENSITIVITY * h + POWER_CDD_SENSITIVITY * c, dtype=np.float64)
        src = "fallback: weekday factors x degree-day seasonality (HDD+CDD)"
    return _normalise(w * seasonal), src


def industry_profile(power: np.ndarray, days: pd.DatetimeIndex,
                     monthly_production: pd.Series | None = None) -> Profile:
    """Industry: the power profile's daily shape, optionally rescaled to monthly production.

    ``monthly_production`` (index: month starts, any units, e.g. an industrial production index)
    sets each month's mean level; within the month the days follow ``power``.  (day,), mean 1.
    """
    days = _days(days)
    p = _aligned(power, days, "power profile")
    if monthly_production is None:
        return _normalise(p), "daily shape of the power profile"
    months = days.to_period("M")
    prod = pd.Series(np.asarray(monthly_production, dtype=np.float64),
                     index=pd.DatetimeIndex(monthly_production.index).to_period("M"))
    missing = sorted({str(m) for m in months if m not in prod.index})
    if missing:
        raise IndicatorError(f"no monthly production for {', '.join(missing[:3])}")
    s = pd.Series(p, index=days)
    month_mean = s.groupby(months).transform("mean").to_numpy()
    level = prod.reindex(months).to_numpy()
    return _normalise(p / month_mean * level), "monthly production shaped daily by the power profile"


def industry_calendar_profile(days: pd.DatetimeIndex, iso3: str,
                              festival: np.ndarray | None = None) -> Profile:
    """Industry: working-day factors, public holidays at Sunday's factor, times an optional festival factor
    (day,) such as China's Lunar New Year climatology. (day,), mean 1. Never the power profile."""
    days = _days(days)
    w = np.asarray(INDUSTRY_WEEKDAY, dtype=np.float64)[days.dayofweek]
    mask, known = holiday_mask(days, iso3)
    w = np.where(mask, INDUSTRY_WEEKDAY[6], w)
    src = "industry calendar: working days" + (" + public holidays" if known else "")
    if festival is not None:
        w = w * _aligned(festival, days, "festival factor")
        src += " + Lunar New Year climatology (China daily thermal generation 2019-2023)"
    return _normalise(w), src


def _monthly(days: pd.DatetimeIndex, table: tuple[float, ...]) -> np.ndarray:
    if len(table) != 12:
        raise IndicatorError("a monthly profile needs 12 values")
    return np.asarray(table, dtype=np.float64)[days.month - 1]


def aviation_profile(days: pd.DatetimeIndex, table: tuple[float, ...] = AVIATION_MONTHLY) -> Profile:
    """Domestic and international aviation: monthly climatology, constant within a month.  (day,), mean 1."""
    return _normalise(_monthly(_days(days), table)), "monthly aviation climatology (assumed; no track data)"


def shipping_profile(days: pd.DatetimeIndex, table: tuple[float, ...] = SHIPPING_MONTHLY) -> Profile:
    """International shipping: monthly climatology, constant within a month.  (day,), mean 1."""
    return _normalise(_monthly(_days(days), table)), "monthly shipping climatology (assumed; no AIS data)"


def daily_from_hourly(hourly: pd.Series) -> pd.Series:
    """Sum an hourly series (e.g. MW, one value per hour) to complete UTC days (MWh day-1).

    Days with fewer than 24 hourly values are dropped rather than under-counted.
    """
    if not isinstance(hourly.index, pd.DatetimeIndex):
        raise IndicatorError("hourly series needs a DatetimeIndex")
    g = hourly.groupby(hourly.index.normalize())
    out = g.sum(min_count=1)
    return out[g.count() == 24]
