"""Sector indicators from measured activity (issue #15, points 3 and 4): pure functions over canonical tables.

Inputs are :mod:`ingest.activity` tables (``iso3, region, period, frequency, variable, value, unit``).
Outputs are wide frames indexed by month start or day, one column per ISO3 code:

- :func:`power_co2_monthly`: power-sector CO2 of each month from generation by fuel x direct combustion
  emission factors (:data:`POWER_EF_T_PER_MWH`), Mt CO2 month-1; a country's index, not its level (the
  level comes from the annual split).
- :func:`power_co2_daily`: the same from daily generation reports (India's Grid-India reports), kt CO2 day-1.
- :func:`industry_co2_monthly`: China's heavy-industry output (crude steel, cement, crude processed) x
  process-route CO2 factors (:data:`INDUSTRY_EF_T_PER_T`), Mt CO2 month-1.
- :func:`spring_festival_profile`: the climatology of China's daily activity around the Lunar New Year,
  from daily thermal generation (dimensionless factor by day offset from New Year's Day).
- :func:`split_combined_jan_feb`: China's statistics publish January and February together; split each such
  total between the two months in proportion to a daily activity profile.
- :func:`flights_daily`: daily IFR flights per state (EUROCONTROL), flights day-1.
- :func:`monthly_to_daily`: spread monthly values over days along a daily shape, month sums preserved.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

POWER_EF_T_PER_MWH: dict[str, float] = {
    "generation_coal": 1.00,
    "generation_gas": 0.40,
    "generation_oil": 0.75,
}
"""Direct combustion CO2 per MWh of electricity generated (t CO2 MWh-1). Assumed values, stated so they can be
checked: IPCC 2006 default fuel factors (coal ~95-101 t/TJ, gas 56.1, oil 74) at typical fleet efficiencies (coal
~35%, gas CCGT/OCGT mix ~50%, oil ~35%). Direct factors count no bioenergy and no upstream emissions (Ember's
life-cycle intensity counts both)."""

INDUSTRY_EF_T_PER_T: dict[str, float] = {
    "crude_steel": 1.85,
    "cement": 0.58,
    "crude_processing": 0.25,
}
"""CO2 per tonne of output that weights China's industrial output series into one index (t CO2 t-1). Assumed,
approximate averages: crude steel 1.85 (a BF-BOF dominated fleet; scrap-EAF steel emits far less), cement 0.58
(clinker ratio ~0.65 x ~0.9 t CO2 per t clinker, process plus fuel), refining 0.25. Only the weights matter:
the annual level of industry comes from the sector split."""


def _wide(table: pd.DataFrame, frequency: str, variables: list[str] | tuple[str, ...]) -> pd.DataFrame:
    t = table[(table["frequency"] == frequency) & (table["region"].fillna("") == "")
              & table["variable"].isin(list(variables))]
    return t.pivot_table(index=["period", "iso3"], columns="variable", values="value", aggfunc="first")


def weighted_index(table: pd.DataFrame, frequency: str, weights: Mapping[str, float],
                   required: tuple[str, ...] = ()) -> pd.DataFrame:
    """sum_v weights[v] x value_v per (period, iso3), dims (period, iso3); NaN where a ``required`` variable
    is missing (other variables missing count as 0, e.g. a country without oil-fired plants)."""
    w = _wide(table, frequency, list(weights))
    if w.empty:
        return pd.DataFrame(dtype=np.float64)
    w = w.reindex(columns=list(weights))
    out = sum(w[v].fillna(0.0) * f for v, f in weights.items())
    assert isinstance(out, pd.Series)
    if required:
        out = out.where(w[list(required)].notna().all(axis=1))
    wide = out.unstack("iso3").sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name="month" if frequency == "monthly" else "day")
    wide.columns.name = None
    return wide.astype(np.float64)


def power_co2_monthly(generation: pd.DataFrame) -> pd.DataFrame:
    """Monthly power CO2 index, Mt CO2 month-1 (TWh x t MWh-1 = Mt), dims (month, iso3).

    ``generation``: monthly generation by fuel, TWh (e.g. Carbon Monitor Power). A month counts only if it
    has coal or gas generation (the fuels that carry the index)."""
    g = generation[generation["unit"] == "TWh"] if "unit" in generation else generation
    out = weighted_index(g, "monthly", POWER_EF_T_PER_MWH)
    if out.empty:
        return out
    return out.where(out > 0)


def ember_power_co2_monthly(overview: pd.DataFrame) -> pd.DataFrame:
    """Monthly power CO2 from Ember's monthly demand (TWh) x intensity (g CO2 kWh-1), Mt CO2 month-1."""
    w = _wide(overview, "monthly", ["demand", "power_co2_intensity"])
    if w.empty or not {"demand", "power_co2_intensity"} <= set(w.columns):
        return pd.DataFrame(dtype=np.float64)
    mt = (w["demand"] * w["power_co2_intensity"] / 1000.0).dropna().unstack("iso3").sort_index()
    mt.index = pd.DatetimeIndex(mt.index, name="month")
    mt.columns.name = None
    return mt.where(mt > 0).astype(np.float64)


def power_co2_daily(daily_generation: pd.DataFrame) -> pd.DataFrame:
    """Daily power CO2 index from daily generation by fuel (GWh), kt CO2 day-1 (GWh x t MWh-1 = kt)."""
    g = daily_generation
    out = weighted_index(g, "daily", POWER_EF_T_PER_MWH, required=("generation_coal",))
    return out.where(out > 0) if not out.empty else out


def industry_co2_monthly(output: pd.DataFrame) -> pd.DataFrame:
    """China-style heavy-industry CO2 index, Mt CO2 month-1 (Mt output x t CO2 t-1), dims (month, iso3).

    ``output``: monthly ``crude_steel``, ``cement``, ``crude_processing`` in Mt. A month needs crude steel
    and cement (the two largest terms)."""
    out = weighted_index(output, "monthly", INDUSTRY_EF_T_PER_T, required=("crude_steel", "cement"))
    return out.where(out > 0) if not out.empty else out


def lunar_new_year(year: int) -> pd.Timestamp:
    """The first day of the Lunar New Year (Spring Festival) in ``year``, from the ``holidays`` calendar."""
    import holidays

    for day, name in holidays.country_holidays("CN", years=year, language="en_US").items():
        festive = "Spring Festival" in name or "Chinese New Year" in name or "Lunar New Year" in name
        if festive and day.month in (1, 2):
            return pd.Timestamp(day)
    raise ValueError(f"the holidays calendar has no Spring Festival in {year}")


SPRING_WINDOW = (-20, 40)
"""Days around Lunar New Year's Day whose activity differs from the baseline (inclusive)."""


def spring_festival_profile(daily: pd.Series, years: list[int] | None = None) -> pd.Series:
    """Mean factor of daily activity by day offset from Lunar New Year's Day (index ``SPRING_WINDOW``).

    ``daily``: a daily activity series (e.g. China's thermal generation, GWh day-1). For each year the
    factor is the day's value over a baseline drawn linearly from the mean of the 20 days before the window
    to the mean of the 20 days after it (so the seasonal drift from winter to spring is not read as the
    holiday); years whose window is not fully observed are skipped. 2020 (the COVID lockdown started at the
    festival) is left out by default.
    """
    s = daily.dropna().sort_index()
    idx = pd.DatetimeIndex(s.index)
    ys = years if years is not None else sorted({int(y) for y in idx.year} - {2020})
    lo, hi = SPRING_WINDOW
    rows = []
    for y in ys:
        d0 = lunar_new_year(y)
        pre = s[(idx >= d0 + pd.Timedelta(days=lo - 20)) & (idx < d0 + pd.Timedelta(days=lo))]
        post = s[(idx > d0 + pd.Timedelta(days=hi)) & (idx <= d0 + pd.Timedelta(days=hi + 20))]
        win = s.reindex(pd.date_range(d0 + pd.Timedelta(days=lo), d0 + pd.Timedelta(days=hi)))
        if len(pre) < 15 or len(post) < 15 or win.isna().any():
            continue
        frac = (np.arange(lo, hi + 1) - (lo - 10.5)) / ((hi + 10.5) - (lo - 10.5))
        base = pre.mean() + frac * (post.mean() - pre.mean())
        rows.append(win.to_numpy() / base)
    if not rows:
        raise ValueError("no year with a complete Spring Festival window in the daily series")
    prof = np.mean(np.vstack(rows), axis=0)
    return pd.Series(prof, index=pd.RangeIndex(lo, hi + 1, name="offset"), name="factor")


def spring_festival_daily(days: pd.DatetimeIndex, profile: pd.Series) -> np.ndarray:
    """Factor per day of ``days`` (1 outside each year's window), dims (day,)."""
    days = pd.DatetimeIndex(days)
    out = np.ones(len(days))
    for y in sorted({int(y) for y in days.year}):
        for yy in (y, y + 1):
            try:
                d0 = lunar_new_year(yy)
            except ValueError:
                continue
            off = (days - d0).days
            m = (off >= profile.index.min()) & (off <= profile.index.max())
            out[m] = profile.reindex(off[m]).to_numpy()
    return out


def split_combined_jan_feb(monthly: pd.Series, shape: pd.Series) -> pd.Series:
    """Split January+February totals published together into the two months by a daily ``shape``.

    ``monthly``: a month-start series where January is NaN (or absent) and February holds January + February; ``shape``:
    a daily activity factor covering those months. Months that are not such pairs are returned unchanged.
    """
    first = pd.Timestamp(monthly.index.min())
    full = pd.date_range(first.replace(month=1, day=1), monthly.index.max(), freq="MS")
    out = monthly.reindex(full).astype(np.float64)  # an absent January counts as missing
    idx = pd.DatetimeIndex(out.index)
    for feb in idx[idx.month == 2]:
        jan = feb - pd.offsets.MonthBegin(1)
        if jan in out.index and np.isnan(out[jan]) and np.isfinite(out[feb]):
            jdays = pd.date_range(jan, feb - pd.Timedelta(days=1))
            fdays = pd.date_range(feb, feb + pd.offsets.MonthEnd(0))
            sj = shape.reindex(jdays).fillna(1.0).sum()
            sf = shape.reindex(fdays).fillna(1.0).sum()
            total = out[feb]
            out[jan] = total * sj / (sj + sf)
            out[feb] = total * sf / (sj + sf)
    return out


def flights_daily(flights: pd.DataFrame, variable: str = "flights_departures") -> pd.DataFrame:
    """Daily flights per state, flights day-1, dims (day, iso3)."""
    t = flights[(flights["frequency"] == "daily") & (flights["variable"] == variable)
                & (flights["region"].fillna("") == "")]
    wide = t.pivot_table(index="period", columns="iso3", values="value", aggfunc="first").sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name="day")
    wide.columns.name = None
    return wide.astype(np.float64)


def monthly_to_daily(monthly: pd.DataFrame, shape: pd.DataFrame) -> pd.DataFrame:
    """Daily values whose month sums equal ``monthly``, distributed along ``shape`` (day, iso3).

    Units: those of ``monthly`` per day. Where ``shape`` lacks a day it counts as 1 (a flat month). Months
    that are NaN stay NaN."""
    if monthly.empty:
        return pd.DataFrame(dtype=np.float64)
    start = pd.Timestamp(monthly.index.min())
    end = pd.Timestamp(monthly.index.max()) + pd.offsets.MonthEnd(0)
    days = pd.date_range(start, end, freq="D")
    sh = shape.reindex(index=days, columns=monthly.columns).fillna(1.0).clip(lower=1e-9)
    month_of_day = days.to_period("M").to_timestamp()
    msum = sh.groupby(month_of_day).transform("sum")
    mval = monthly.reindex(month_of_day).to_numpy()
    out = pd.DataFrame(sh.to_numpy() / msum.to_numpy() * mval, index=days, columns=monthly.columns)
    out.index.name = "day"
    return out


NONPOWER_MIN_SHARE = 0.15
"""A month's non-power remainder of a fuel's CO2 counts only if it is at least this share of the fuel's CO2 (below
it, the difference of two estimates is mostly their error)."""
NONPOWER_MAX_YEARLY_CHANGE = 0.35
"""A country's non-power index is dropped if any complete year differs from the one before by more than this
(industry and residential CO2 do not move so much; such a jump is a statistical break or a bad subtraction)."""


def nonpower_co2_monthly(co2: pd.DataFrame, generation: pd.DataFrame, fuel: str,
                         extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Monthly CO2 of one fuel outside the power sector, Mt CO2 month-1, dims (month, iso3).

    ``co2``: monthly CO2 by fuel (canonical ``co2_<fuel>``, MtCO2, e.g. CICERO from Eurostat or Indian statistics);
    ``generation``: monthly generation by fuel (``generation_<fuel>``, TWh, e.g. Carbon Monitor Power). The power
    sector's part is generation x :data:`POWER_EF_T_PER_MWH`; ``extra`` variables of ``co2`` are added (e.g.
    ``co2_cement``, process CO2). Gas outside power is mostly heating (residential and commercial) in Europe; coal
    outside power plus cement is mostly industry. Months below :data:`NONPOWER_MIN_SHARE` are NaN; countries
    failing :data:`NONPOWER_MAX_YEARLY_CHANGE` are left out.
    """
    var = f"co2_{fuel}"
    c = _wide(co2, "monthly", [var, *extra])
    g = _wide(generation[generation["unit"] == "TWh"] if "unit" in generation else generation, "monthly",
              [f"generation_{fuel}"])
    if c.empty or g.empty or var not in c.columns:
        return pd.DataFrame(dtype=np.float64)
    power = g[f"generation_{fuel}"] * POWER_EF_T_PER_MWH[f"generation_{fuel}"]
    both = c.join(power.rename("power"), how="inner")
    rest = both[var] - both["power"]
    rest = rest.where(rest >= NONPOWER_MIN_SHARE * both[var])
    for e in extra:
        if e in both.columns:
            rest = rest + both[e].fillna(0.0)
    wide = rest.unstack("iso3").sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name="month")
    wide.columns.name = None
    keep = []
    for col in wide.columns:
        s = wide[col]
        yearly = s.groupby(s.index.year).sum(min_count=12).dropna()
        change = (yearly / yearly.shift(1) - 1.0).dropna()
        if len(yearly) and (change.abs() <= NONPOWER_MAX_YEARLY_CHANGE).all() and (yearly > 0).all():
            keep.append(col)
    return wide[keep].astype(np.float64)
