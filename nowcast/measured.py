"""Measured activity series -> a region's daily indicator over the target days, with its evidence (pure).

A sector of a region is *measured* when a monthly statistic (or a daily report) covers every month of the
target years up to its data edge. :func:`measured_indicator` then builds the daily indicator the temporal
chain spreads the annual totals along:

1. months up to the edge take the measured values (evidence ``monthly-statistics``); days covered by a
   daily report take the report's shape inside the month (evidence ``daily-activity``);
2. months past the edge take the same month of the year before times the year-to-date ratio of the
   months already observed in that year (1 where none is), so the series runs on without a jump
   (evidence: whatever the annual level rests on, decided by the caller);
3. inside each month the days follow ``shape`` (a temperature/calendar model) unless a daily report
   covers them; month sums are preserved exactly.

:func:`ratio_annual` is the Carbon Monitor ratio method for years past the inventory: a year's total is the
last inventory year's total times the ratio of the indicator's sums, so every measured month equals the
last inventory year's emissions per unit of indicator times the month's activity.

Units: the indicator's own (Mt or kt CO2, GWh, flights); only ratios within a region matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonmap.contract import EVIDENCE_LEVELS

MONTHLY = EVIDENCE_LEVELS.index("monthly-statistics")
DAILY = EVIDENCE_LEVELS.index("daily-activity")
UNMEASURED = -1


@dataclass(frozen=True)
class MeasuredSeries:
    """A region's daily indicator on the target days, dims (day,), and what carries each day."""

    daily: np.ndarray
    """Indicator value per target day (> 0), in the series' units per day."""
    code: np.ndarray
    """Evidence code per target day: ``daily-activity``, ``monthly-statistics`` or -1 (past the data edge)."""
    observed_until: pd.Timestamp
    """Last day covered by measured data."""
    source: str


def _months(days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return pd.date_range(days[0].replace(day=1), days[-1], freq="MS")


def extend_monthly(monthly: pd.Series, months: pd.DatetimeIndex) -> tuple[pd.Series, np.ndarray] | None:
    """``monthly`` (month start -> value > 0) on ``months``, filled past its last value (see module doc).

    Returns (values, observed mask) or None when a month before the data edge is missing (the series does
    not cover the target months, so the region is not measured)."""
    m = monthly.dropna()
    m = m[m > 0]
    if m.empty:
        return None
    m.index = pd.DatetimeIndex(m.index)
    last = m.index.max()
    inside = months[months <= last]
    if len(inside) and not inside.isin(m.index).all():
        return None
    if months[0] < m.index.min():
        return None
    full = pd.date_range(min(m.index.min(), months[0]), max(last, months[-1]), freq="MS")
    vals = m.reindex(full)
    observed = vals.notna().to_numpy()
    ratio = 1.0
    for t in full[full > last]:
        prev = t - pd.DateOffset(years=1)
        base = vals.get(prev, np.nan)
        if not np.isfinite(base):
            return None
        year_obs = [x for x in m.index if x.year == t.year]
        if year_obs:  # year-to-date growth of the observed months of this year
            num = sum(m[x] for x in year_obs)
            den = sum(vals.get(x - pd.DateOffset(years=1), np.nan) for x in year_obs)
            ratio = num / den if np.isfinite(den) and den > 0 else 1.0
        elif t.month == 1:  # a year with no data carries the growth of the last observed 12 months
            last12 = vals[(vals.index > last - pd.DateOffset(years=1)) & (vals.index <= last)].sum()
            prev12 = vals[(vals.index > last - pd.DateOffset(years=2))
                          & (vals.index <= last - pd.DateOffset(years=1))].sum()
            ratio = float(last12 / prev12) if prev12 > 0 and np.isfinite(last12) else 1.0
        vals[t] = base * ratio
    out = vals.reindex(months)
    obs = pd.Series(observed, index=full).reindex(months).to_numpy(bool)
    return out, obs


def measured_indicator(days: pd.DatetimeIndex, monthly: pd.Series, shape: np.ndarray, source: str,
                       daily: pd.Series | None = None) -> MeasuredSeries | None:
    """Daily indicator of one region on ``days`` from a monthly series and a within-month ``shape`` (day,).

    ``daily`` (optional): a measured daily series whose shape replaces ``shape`` on the days it covers (its
    level is ignored; month sums come from ``monthly``). None when ``monthly`` does not cover ``days``."""
    days = pd.DatetimeIndex(days)
    months = _months(days)
    ext = extend_monthly(monthly, months)
    if ext is None:
        return None
    mvals, mobs = ext
    sh = np.clip(np.asarray(shape, dtype=np.float64), 1e-9, None)
    code = np.full(len(days), UNMEASURED, dtype=np.int8)
    month_of_day = days.to_period("M").to_timestamp()
    pos = months.get_indexer(month_of_day)
    code[mobs[pos]] = MONTHLY
    if daily is not None:
        d = daily.reindex(days).to_numpy(np.float64)
        have = np.isfinite(d) & (d > 0)
        if have.any():
            # inside a month with report gaps, the model days are brought to the report days' mean level
            # (units differ), keeping the model's relative shape
            f = pd.DataFrame({"m": pos, "rep": np.where(have, d, np.nan), "mod": np.where(have, np.nan, sh)})
            rep_mean = f.groupby("m")["rep"].transform("mean").to_numpy()
            mod_mean = f.groupby("m")["mod"].transform("mean").to_numpy()
            scale = np.where(np.isfinite(rep_mean) & np.isfinite(mod_mean) & (mod_mean > 0),
                             rep_mean / np.where(mod_mean > 0, mod_mean, 1.0), 1.0)
            sh = np.where(have, d, sh * scale)
            code[have & (code == MONTHLY)] = DAILY
    frame = pd.DataFrame({"sh": sh, "m": pos})
    msum = frame.groupby("m")["sh"].transform("sum").to_numpy()
    values = sh / msum * mvals.to_numpy()[pos]
    last_obs = months[mobs].max() if mobs.any() else None
    if last_obs is None:
        return None
    until = last_obs + pd.offsets.MonthEnd(0)
    if daily is not None and (code == DAILY).any():
        until = max(until, days[code == DAILY].max())
    return MeasuredSeries(values, code, pd.Timestamp(until), source)


def daily_as_monthly(daily: pd.Series, min_days: int = 25) -> pd.Series:
    """Month sums of a daily series, scaled up for missing days; months with fewer than ``min_days`` days of
    data are NaN (a report's gaps must not read as a fall in activity)."""
    s = daily.dropna()
    s = s[s > 0]
    if s.empty:
        return pd.Series(dtype=np.float64)
    idx = pd.DatetimeIndex(s.index)
    g = s.groupby(idx.to_period("M"))
    n = g.count()
    total = g.sum()
    dim = pd.Series([p.days_in_month for p in total.index], index=total.index)
    out = (total / n * dim).where(n >= min_days)
    out.index = out.index.to_timestamp()
    return out


def ratio_annual(last_total: float, indicator: np.ndarray, year_of_day: np.ndarray, year: int,
                 last_year: int) -> float:
    """Carbon Monitor ratio: ``last_total x sum(indicator in year) / sum(indicator in last_year)``."""
    den = float(indicator[year_of_day == last_year].sum())
    if den <= 0:
        raise ValueError(f"the indicator has no activity in {last_year}")
    return last_total * float(indicator[year_of_day == year].sum()) / den


def splice(primary: pd.Series, secondary: pd.Series, overlap_months: int = 12) -> pd.Series:
    """``primary`` extended back in time with ``secondary``, scaled on their overlap (month -> value > 0).

    The scale is sum(primary) / sum(secondary) over the first ``overlap_months`` months both have; without such an
    overlap the primary is returned unchanged. Only months before the primary's first are taken from the secondary,
    so the primary's own values are never altered."""
    p = primary.dropna()
    s = secondary.dropna()
    p, s = p[p > 0], s[s > 0]
    if p.empty or s.empty:
        return primary
    both = p.index.intersection(s.index).sort_values()[:overlap_months]
    if len(both) < overlap_months:
        return primary
    scale = float(p[both].sum() / s[both].sum())
    early = s[s.index < p.index.min()] * scale
    out = pd.concat([early, p]).sort_index()
    out.index.name = primary.index.name
    return out
