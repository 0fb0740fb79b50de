"""National daily sector totals for a period: inventory (or nowcast) annual totals x daily indicators.

For each sector the daily indicator of every region is assembled from :class:`BuildInputs.indicators`
(see :mod:`pipelines.indicators`), then :func:`nowcast.daily.annual_to_daily` spreads the annual
totals over the days (Chow-Lin annual->monthly where the indicator varies from year to year,
Denton-Cholette monthly->daily, pro-rata otherwise).  Sector indicators:

- power: EIA-930 daily demand for the USA while it covers the period; elsewhere (and for the USA past
  it) the documented fallback of :func:`nowcast.indicators.power_profile` (weekday x degree days);
  the skeleton weekday x seasonal cosine where a country has no ERA5 temperature;
- industry: the daily shape of the power indicator (no monthly production data ships), pro-rata;
- residential: :func:`nowcast.indicators.residential_profile` from heating degree days (Chow-Lin);
- ground transport: weekday factors and public holidays (``holidays``), pro-rata;
- aviation and shipping: monthly climatologies, pro-rata.

Years past the last inventory year take the statsmodels nowcast of each region's total
(:func:`nowcast.daily.nowcast_totals`) as a provisional benchmark; the indicators run on with the
mean of the last 5 years for each calendar day once their data end; months of a nowcast year that
have observed indicators (the ragged edge) come from a SARIMAX forecast with the indicator as exog.

Relative 1-sigma of one day's national sector total = quadrature sum of the inventory sector error
(:data:`nowcast.baseline.NATIONAL_REL_SIGMA`), the nowcast error (past the inventory) and the
one-day profile error (:data:`nowcast.uncertainty.DAILY_PROFILE_REL_SIGMA`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonmap import contract as cc
from nowcast import indicators as ni
from nowcast.baseline import NATIONAL_REL_SIGMA, annual_sector_table, regions_of, split_by_shares
from nowcast.daily import (
    CHOW_LIN_METHOD,
    DENTON_METHOD,
    PRO_RATA_METHOD,
    DailyError,
    annual_to_daily,
    nowcast_totals,
    ragged_edge_months,
    year_days,
)
from nowcast.profiles import shape as skeleton_shape
from nowcast.uncertainty import DAILY_PROFILE_REL_SIGMA
from pipelines.indicators import DailyIndicators, empty_indicators, extend_with_climatology
from pipelines.inputs import BuildInputs

HISTORY_START = 2000
"""First year of the Chow-Lin history (the shipped ERA5 monthly temperatures start in 2000)."""
RAGGED_EDGE_MIN_MONTHS = 36
"""Fewest Chow-Lin months of history before the ragged-edge SARIMAX is fitted."""
SKELETON_SOURCE = "skeleton weekday x seasonal cosine (no ERA5 temperature for the country)"
INDUSTRY_SOURCE = "daily shape of the power indicator (no monthly production data)"


@dataclass(frozen=True)
class NationalDaily:
    """Daily national totals, (time, sector, region) kg CO2 day-1, and their relative 1-sigma."""

    times: pd.DatetimeIndex
    regions: tuple[str, ...]
    values: np.ndarray
    rel_sigma: np.ndarray
    methods: dict[str, str]


@dataclass(frozen=True)
class SectorIndicator:
    """One sector's daily indicator, ``values`` (day, region) >= 0 (NaN where absent), per-region source."""

    values: pd.DataFrame
    chow_lin: np.ndarray
    sources: tuple[str, ...]
    observed_until: dict[str, pd.Timestamp]
    """Per region, the last day of *observed* (not climatological) indicator data (Chow-Lin regions)."""


def _summary(labels: dict[str, str]) -> str:
    """'label A (USA); label B (n regions, the rest)' — the commonest label last, without its list."""
    groups: dict[str, list[str]] = defaultdict(list)
    for region, lab in labels.items():
        groups[lab].append(region)
    order = sorted(groups, key=lambda k: len(groups[k]))
    parts = []
    for k, lab in enumerate(order):
        rs = sorted(groups[lab])
        if k == len(order) - 1 and len(order) > 1:
            parts.append(f"{lab} elsewhere ({len(rs)} regions)")
        elif len(rs) <= 12:
            parts.append(f"{lab} ({', '.join(rs)})")
        else:
            parts.append(f"{lab} ({len(rs)} regions: {', '.join(rs[:12])}, ...)")
    return "; ".join(parts)


def _degree_days(ind: DailyIndicators, days: pd.DatetimeIndex, regions: tuple[str, ...]
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp | None]:
    end = days[-1]
    last = ind.last_day("hdd")
    hdd = extend_with_climatology(ind.hdd, end).reindex(index=days, columns=list(regions))
    cdd = extend_with_climatology(ind.cdd, end).reindex(index=days, columns=list(regions))
    return hdd, cdd, last


def sector_indicators(ind: DailyIndicators, regions: tuple[str, ...], south: dict[str, bool],
                      hist_days: pd.DatetimeIndex, target_days: pd.DatetimeIndex) -> dict[str, SectorIndicator]:
    """Daily indicator of every sector and region: Chow-Lin sectors on ``hist_days``, the others on ``target_days``."""
    hdd, cdd, dd_last = _degree_days(ind, hist_days, regions)
    tmask = hist_days.isin(target_days)
    out: dict[str, SectorIndicator] = {}
    n = len(regions)
    power = pd.DataFrame(np.nan, index=hist_days, columns=list(regions))
    res = power.copy()
    p_src, r_src = [""] * n, [""] * n
    p_cl, r_cl = np.zeros(n, bool), np.zeros(n, bool)
    p_obs: dict[str, pd.Timestamp] = {}
    r_obs: dict[str, pd.Timestamp] = {}
    demand_last = ind.last_day("power_demand")
    for j, r in enumerate(regions):
        sh = south.get(r, False)
        h = hdd[r].to_numpy()
        c = cdd[r].to_numpy()
        ok = np.isfinite(h) & np.isfinite(c)
        dem = ind.power_demand[r].reindex(hist_days).to_numpy(np.float64) if r in ind.power_demand else None
        if dem is not None and np.all(np.isfinite(dem[tmask])):
            power[r] = dem
            p_src[j], p_cl[j] = ind.sources.get("power_demand", "observed daily demand"), True
            p_obs[r] = demand_last
        elif ok[tmask].all():
            prof, src = ni.power_profile(hist_days[ok], hdd=h[ok], cdd=c[ok])
            power.loc[hist_days[ok], r] = prof
            p_src[j], p_cl[j] = f"{src}; {ind.sources.get('hdd', 'degree days')}", True
            p_obs[r] = dd_last
        else:
            power.loc[target_days, r] = skeleton_shape(target_days, "power", sh)
            p_src[j] = SKELETON_SOURCE
        if ok[tmask].all() and h[ok].mean() > 0:
            prof, src = ni.residential_profile(h[ok], hist_days[ok])
            src = src.replace("population-weighted HDD", "HDD")  # the shipped ERA5 table is an area mean
            res.loc[hist_days[ok], r] = prof
            r_src[j], r_cl[j] = f"{src}; {ind.sources.get('hdd', 'degree days')}", True
            r_obs[r] = dd_last
        elif ok[tmask].all():
            res.loc[target_days, r] = 1.0
            r_src[j] = "flat (no heating degree days)"
        else:
            res.loc[target_days, r] = skeleton_shape(target_days, "residential", sh)
            r_src[j] = SKELETON_SOURCE
    out["power"] = SectorIndicator(power, p_cl, tuple(p_src), p_obs)
    out["residential"] = SectorIndicator(res, r_cl, tuple(r_src), r_obs)
    ind_vals = power.loc[target_days].copy()
    out["industry"] = SectorIndicator(ind_vals, np.zeros(n, bool),
                                      tuple(INDUSTRY_SOURCE + f" [{s.split(';')[0]}]" for s in p_src), {})
    gt = pd.DataFrame(1.0, index=target_days, columns=list(regions))
    g_src = []
    for r in regions:
        if r in cc.INTERNATIONAL_SECTORS.values():
            g_src.append("flat (international pseudo-region)")
            continue
        try:
            prof, src = ni.ground_transport_profile(target_days, r)
        except (TypeError, KeyError, AttributeError):  # a holidays-package calendar that fails to build
            w = np.asarray(ni.GROUND_WEEKDAY)[target_days.dayofweek]
            prof, src = w / w.mean(), f"weekday factors only (the holidays calendar of {r} failed to build)"
        gt[r] = prof
        g_src.append("weekday factors + national public holidays (holidays package)" if "holidays of" in src
                     else "weekday factors only (no public-holiday calendar)")
    out["ground_transport"] = SectorIndicator(gt, np.zeros(n, bool), tuple(g_src), {})
    av, av_src = ni.aviation_profile(target_days)
    sp, sp_src = ni.shipping_profile(target_days)
    for sector, (prof, src) in (("domestic_aviation", (av, av_src)), ("international_aviation", (av, av_src)),
                                ("international_shipping", (sp, sp_src))):
        out[sector] = SectorIndicator(pd.DataFrame(np.repeat(prof[:, None], n, axis=1), index=target_days,
                                                   columns=list(regions)), np.zeros(n, bool), (src,) * n, {})
    return out


def _ragged_edge(values: np.ndarray, sigma_extra: np.ndarray, monthly: pd.DataFrame, indicator: pd.DataFrame,
                 observed_until: dict[str, pd.Timestamp], regions: tuple[str, ...], days: pd.DatetimeIndex,
                 last_inv: int) -> dict[str, str]:
    """Replace observed-indicator months of nowcast years by a SARIMAX forecast (in place)."""
    done: dict[str, str] = {}
    for r in monthly.columns:
        last_obs = observed_until.get(r)
        if last_obs is None or last_obs.year <= last_inv:
            continue
        m = monthly[r].dropna()
        hist = m[m.index.year <= last_inv]
        edge_months = pd.date_range(f"{last_inv + 1}-01-01", last_obs, freq="MS")
        edge_months = edge_months[(edge_months + pd.offsets.MonthEnd(0)) <= last_obs]
        edge_months = edge_months[edge_months.year.isin(days.year.unique())]
        if len(hist) < RAGGED_EDGE_MIN_MONTHS or len(edge_months) == 0 or (hist <= 0).any():
            continue
        col = indicator[r]
        msum = col.groupby(pd.DatetimeIndex(col.index).to_period("M")).sum(min_count=1)
        xh = msum.reindex(hist.index.to_period("M")).to_numpy(np.float64)
        xe = msum.reindex(edge_months.to_period("M")).to_numpy(np.float64)
        try:
            mean, rel, method = ragged_edge_months(hist.to_numpy(), xh, xe)
        except (DailyError, ValueError):
            continue
        j = regions.index(r)
        for k, mstart in enumerate(edge_months):
            sel = (days.year == mstart.year) & (days.month == mstart.month)
            s = values[sel, j].sum()
            if s > 0 and np.isfinite(mean[k]):
                values[sel, j] *= mean[k] / s
                sigma_extra[sel, j] = rel[k]
        done[r] = f"{method} on log monthly emissions, {len(edge_months)} month(s) to {last_obs:%Y-%m-%d}"
    return done


def national_daily(inputs: BuildInputs, times: pd.DatetimeIndex) -> NationalDaily:
    """National daily sector totals for ``times`` (any span of whole or partial years)."""
    regions = regions_of(inputs.gcb)
    ind = inputs.indicators or empty_indicators()
    last_inv = int(inputs.gcb.loc[inputs.gcb["total"].notna(), "year"].max())
    years = list(range(int(times.year.min()), int(times.year.max()) + 1))
    now_years = [y for y in years if y > last_inv]
    hist0 = min(HISTORY_START, years[0])
    inv_years = list(range(hist0, min(last_inv, years[-1]) + 1))
    annual = annual_sector_table(inputs.gcb, inputs.shares, inv_years, regions)  # (year, sector, region)
    nc_sigma = np.zeros((len(now_years), len(cc.SECTORS), len(regions)))
    methods: dict[str, str] = {
        "baseline": "GCB national totals x inventory sector shares (EDGAR v5, CAIT where EDGAR lacks a country)",
        "temporal": f"annual -> monthly: {CHOW_LIN_METHOD} where the indicator varies between years, else "
                    f"{PRO_RATA_METHOD}; monthly -> daily: {DENTON_METHOD}; annual totals preserved exactly",
    }
    if now_years:
        wide = inputs.gcb.pivot_table(index="year", columns="iso3", values="total", aggfunc="first")
        hist = wide.reindex(columns=list(regions)).loc[:last_inv]
        nt = nowcast_totals(hist, now_years)
        annual = np.concatenate([annual, split_by_shares(nt.values * cc.KG_PER_MT, inputs.shares, regions)])
        nc_sigma[:] = nt.rel_sigma[:, None, :]
        counts = pd.Series(nt.methods).value_counts()
        methods["nowcast"] = (f"years {now_years[0]}-{now_years[-1]} past the last inventory year {last_inv}: "
                              + "; ".join(f"{m} ({k} regions)" for m, k in counts.items())
                              + "; the nowcast annual total is the provisional benchmark; its 90% interval -> "
                              "relative 1-sigma, summed in quadrature over the horizon")
    all_years = inv_years + now_years
    hist_days = pd.date_range(f"{hist0}-01-01", f"{years[-1]}-12-31", freq="D")
    target_days = year_days(years)
    south = {r: inputs.south.get(r, False) for r in regions}
    sec_ind = sector_indicators(ind, regions, south, hist_days, target_days)

    values = np.zeros((len(target_days), len(cc.SECTORS), len(regions)))
    sigma = np.zeros_like(values)
    doy_year = target_days.year.to_numpy()
    sources: set[str] = set()
    for s, sector in enumerate(cc.SECTORS):
        si = sec_ind[sector]
        ann = pd.DataFrame(annual[:, s, :], index=all_years, columns=list(regions))
        try:
            dt_ = annual_to_daily(ann, si.values, years, si.chow_lin)
        except DailyError as e:
            raise ValueError(f"{sector}: {e}") from e
        vals = dt_.values.copy()
        extra = np.zeros_like(vals)
        for k, y in enumerate(now_years):
            extra[doy_year == y] = nc_sigma[k, s][None, :]
        edge = {}
        if now_years and dt_.monthly is not None:
            edge = _ragged_edge(vals, extra, dt_.monthly, si.values, si.observed_until, regions, target_days, last_inv)
        values[:, s, :] = vals
        sigma[:, s, :] = np.sqrt(NATIONAL_REL_SIGMA[sector] ** 2 + DAILY_PROFILE_REL_SIGMA[sector] ** 2 + extra ** 2)
        labels = {}
        for j, r in enumerate(regions):
            if annual[:, s, j].max() <= 0:
                continue
            meth = dt_.methods[j].split(" over ")[0].replace(f" + {DENTON_METHOD}", "")
            labels[r] = f"{si.sources[j]} -> {meth}" + (f"; ragged edge {edge[r]}" if r in edge else "")
            sources.add(si.sources[j].split(" [")[0])
        methods[f"temporal_{sector}"] = _summary(labels)
    take = target_days.get_indexer(times)
    if (take < 0).any():
        raise ValueError("times must be calendar days")
    values, sigma = values[take], sigma[take]
    methods["indicator_sources"] = " | ".join(sorted(sources))
    methods["uncertainty_national"] = ("relative 1-sigma = sqrt(inventory sector error^2 + one-day profile error^2"
                                       + (" + nowcast error^2" if now_years else "") + ")")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        t, s, r = (int(x[0]) for x in np.nonzero(bad))
        raise ValueError(f"national emissions must be finite and >= 0; {regions[r]} {cc.SECTORS[s]} on "
                         f"{times[t]:%Y-%m-%d} is {values[t, s, r]!r}: check the inventory input")
    sigma = np.where(values > 0, sigma, 0.0)
    return NationalDaily(times, tuple(regions), values, sigma, methods)
