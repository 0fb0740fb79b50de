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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from carbonmap import contract as cc
from nowcast import indicators as ni
from nowcast.activity_indicators import spring_festival_daily
from nowcast.baseline import NATIONAL_REL_SIGMA, annual_sector_table, regions_of
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
from nowcast.measured import UNMEASURED, MeasuredSeries, measured_indicator, ratio_annual
from nowcast.profiles import shape as skeleton_shape
from nowcast.sector_split import split_totals
from nowcast.uncertainty import DAILY_PROFILE_REL_SIGMA
from pipelines.indicators import DailyIndicators, empty_indicators, extend_with_climatology
from pipelines.inputs import BuildInputs

HISTORY_START = 2000
"""First year of the Chow-Lin history (the shipped ERA5 monthly temperatures start in 2000)."""
RAGGED_EDGE_MIN_MONTHS = 36
"""Fewest Chow-Lin months of history before the ragged-edge SARIMAX is fitted."""
SKELETON_SOURCE = "skeleton weekday x seasonal cosine (no ERA5 temperature for the country)"
RATIO_DRIFT_PER_YEAR = 0.02
"""Relative 1-sigma per year past the inventory of the emissions-per-activity ratio (fuel mix, efficiency)
that the Carbon Monitor ratio method holds at its last inventory value."""
MODEL_SIGMA_PER_MONTH = 0.01
"""Extra relative 1-sigma per month between a modelled day and the region's last measured data."""
EVIDENCE_MODEL = cc.EVIDENCE_LEVELS.index("model")
EVIDENCE_INVENTORY = cc.EVIDENCE_LEVELS.index("annual-inventory")
FESTIVAL_SECTORS = ("power", "industry")
"""Sectors whose modelled daily shape in China carries the Lunar New Year climatology."""


@dataclass(frozen=True)
class NationalDaily:
    """Daily national totals, (time, sector, region) kg CO2 day-1, and their relative 1-sigma."""

    times: pd.DatetimeIndex
    regions: tuple[str, ...]
    values: np.ndarray
    rel_sigma: np.ndarray
    methods: dict[str, str]
    evidence: np.ndarray | None = None
    """(time, sector, region) int8 codes of :data:`carbonmap.contract.EVIDENCE_LEVELS` (-1: no emissions)."""
    data_edge: dict[str, dict[str, str]] = field(default_factory=dict)
    """region -> sector -> 'evidence through YYYY-MM-DD (source)': where measured data end."""


@dataclass(frozen=True)
class SectorIndicator:
    """One sector's daily indicator, ``values`` (day, region) >= 0 (NaN where absent), per-region source."""

    values: pd.DataFrame
    chow_lin: np.ndarray
    sources: tuple[str, ...]
    observed_until: dict[str, pd.Timestamp]
    """Per region, the last day of *observed* (not climatological) indicator data (Chow-Lin regions)."""
    measured: dict[str, MeasuredSeries] = field(default_factory=dict)
    """Regions whose indicator is a measured activity series (pro-rata, ratio method past the inventory)."""


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
    festival = spring_festival_daily(target_days, ind.spring_festival) if ind.spring_festival is not None else None
    indus = pd.DataFrame(1.0, index=target_days, columns=list(regions))
    i_src = []
    for r in regions:
        if r in cc.INTERNATIONAL_SECTORS.values():
            i_src.append("flat (international pseudo-region)")
            continue
        try:
            prof, src = ni.industry_calendar_profile(target_days, r, festival if r == "CHN" else None)
        except (TypeError, KeyError, AttributeError):  # a holidays-package calendar that fails to build
            w = np.asarray(ni.INDUSTRY_WEEKDAY)[target_days.dayofweek]
            prof, src = w / w.mean(), "industry calendar: working days"
        indus[r] = prof
        i_src.append(src)
    out["industry"] = SectorIndicator(indus, np.zeros(n, bool), tuple(i_src), {})
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
    return apply_measured(out, ind, regions, target_days, festival)


def apply_measured(out: dict[str, SectorIndicator], ind: DailyIndicators, regions: tuple[str, ...],
                   target_days: pd.DatetimeIndex, festival: np.ndarray | None) -> dict[str, SectorIndicator]:
    """Replace the modelled indicator of every region with a measured series covering the target days.

    The model's daily shape stays inside each month (times the Lunar New Year climatology for China's
    power); measured daily reports replace it on the days they cover (:func:`nowcast.measured.measured_indicator`).
    """
    res = dict(out)
    for sector, monthly in ind.measured_monthly.items():
        if sector not in res or monthly.empty:
            continue
        si = res[sector]
        reports = ind.measured_daily.get(sector)
        labels = ind.measured_sources.get(sector, {})
        vals = si.values.copy()
        cl = si.chow_lin.copy()
        src = list(si.sources)
        observed = dict(si.observed_until)
        measured: dict[str, MeasuredSeries] = {}
        for j, r in enumerate(regions):
            if r not in monthly.columns:
                continue
            shape = vals[r].reindex(target_days).to_numpy(np.float64)
            if not np.all(np.isfinite(shape)) or shape.max() <= 0:
                shape = np.ones(len(target_days))
            if festival is not None and r == "CHN" and sector == "power":
                shape = shape * festival
            rep = reports[r] if reports is not None and r in reports.columns else None
            label = labels.get(r, f"measured {sector} activity")
            ms = measured_indicator(target_days, monthly[r], shape, label, rep)
            if ms is None:
                continue
            vals.loc[target_days, r] = ms.daily
            cl[j] = False
            src[j] = label
            observed.pop(r, None)
            measured[r] = ms
        res[sector] = SectorIndicator(vals, cl, tuple(src), observed, measured)
    return res


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


def annual_table(inputs: BuildInputs, years: list[int], regions: tuple[str, ...]) -> np.ndarray:
    """(year, sector, region) kg CO2 yr-1 of inventory years: GCB totals split per year when the build has a
    current sector split (:mod:`nowcast.sector_split`), else by the static inventory shares."""
    if inputs.split is None:
        return annual_sector_table(inputs.gcb, inputs.shares, years, regions)
    wide = inputs.gcb.pivot_table(index="year", columns="iso3", values="total", aggfunc="first")
    tot = wide.reindex(index=years, columns=list(regions)).fillna(0.0).to_numpy(np.float64) * cc.KG_PER_MT
    intl = {code: sector for sector, code in cc.INTERNATIONAL_SECTORS.items()}
    return split_totals(tot, inputs.split, years, regions, intl)


def _evidence(si: SectorIndicator, regions: tuple[str, ...], days: pd.DatetimeIndex, last_inv: int,
              annual_pos: np.ndarray) -> np.ndarray:
    """(day, region) evidence codes of one sector (see :data:`carbonmap.contract.EVIDENCE_LEVELS`)."""
    base = np.where(days.year.to_numpy() <= last_inv, EVIDENCE_INVENTORY, EVIDENCE_MODEL).astype(np.int8)
    ev = np.repeat(base[:, None], len(regions), axis=1)
    for j, r in enumerate(regions):
        ms = si.measured.get(r)
        if ms is not None:
            ev[:, j] = np.where(ms.code != UNMEASURED, ms.code, base)
        elif r in si.observed_until and si.chow_lin[j] and si.sources[j].startswith("EIA-930"):
            # the observed daily demand of the US carries the days it covers (degree days are not activity)
            obs = days <= si.observed_until[r]
            ev[obs, j] = np.maximum(ev[obs, j], cc.EVIDENCE_LEVELS.index("daily-activity"))
    ev[:, ~annual_pos] = cc.EVIDENCE_NO_DATA
    return ev


def _months_since(days: pd.DatetimeIndex, edge: pd.Timestamp) -> np.ndarray:
    """Months (30.44 days) from ``edge`` to each day, 0 on or before it."""
    return np.clip((days - edge).days.to_numpy() / 30.44, 0.0, None)


def national_daily(inputs: BuildInputs, times: pd.DatetimeIndex) -> NationalDaily:
    """National daily sector totals for ``times`` (any span of whole or partial years), kg CO2 day-1.

    Inventory years: the GCB total, split by sector (per year from current data where the build has it),
    spread over the days along each sector's indicator. Years past the inventory: regions whose sector is
    measured take the Carbon Monitor ratio method (:func:`nowcast.measured.ratio_annual`) in every year with
    measured months; the rest take the statsmodels nowcast of the annual total, split like the last
    inventory year. Returns the values, their relative 1-sigma, the evidence of each value and the methods.
    """
    regions = regions_of(inputs.gcb)
    ind = inputs.indicators or empty_indicators()
    last_inv = int(inputs.gcb.loc[inputs.gcb["total"].notna(), "year"].max())
    years = list(range(int(times.year.min()), int(times.year.max()) + 1))
    if years[0] > last_inv:  # the ratio method needs the last inventory year beside the nowcast years
        years = list(range(last_inv, years[-1] + 1))
    now_years = [y for y in years if y > last_inv]
    hist0 = min(HISTORY_START, years[0])
    inv_years = list(range(hist0, min(last_inv, years[-1]) + 1))
    annual = annual_table(inputs, inv_years, regions)  # (year, sector, region)
    nc_sigma = np.zeros((len(now_years), len(cc.SECTORS), len(regions)))
    methods: dict[str, str] = {
        "baseline": ("GCB national totals split by sector per year from current data: "
                     + inputs.split.summary() if inputs.split is not None else
                     "GCB national totals x inventory sector shares (EDGAR v5, CAIT where EDGAR lacks a country)"),
        "temporal": f"annual -> monthly: measured monthly statistics where they exist (pro-rata), else "
                    f"{CHOW_LIN_METHOD} where the indicator varies between years, else {PRO_RATA_METHOD}; "
                    f"monthly -> daily: measured daily reports where they exist, else {DENTON_METHOD}; annual "
                    f"totals preserved exactly",
    }
    if now_years:
        wide = inputs.gcb.pivot_table(index="year", columns="iso3", values="total", aggfunc="first")
        hist = wide.reindex(columns=list(regions)).loc[:last_inv]
        nt = nowcast_totals(hist, now_years)
        last_split = annual[inv_years.index(last_inv)]
        with np.errstate(divide="ignore", invalid="ignore"):
            last_share = np.where(last_split.sum(axis=0) > 0, last_split / last_split.sum(axis=0), 0.0)
        annual = np.concatenate([annual, (nt.values * cc.KG_PER_MT)[:, None, :] * last_share[None, :, :]])
        nc_sigma[:] = nt.rel_sigma[:, None, :]
        counts = pd.Series(nt.methods).value_counts()
        methods["nowcast"] = (f"years {now_years[0]}-{now_years[-1]} past the last inventory year {last_inv}: "
                              "measured sectors by the Carbon Monitor ratio method (last inventory year's emissions "
                              "per unit of activity x this year's activity); the others by "
                              + "; ".join(f"{m} ({k} regions)" for m, k in counts.items())
                              + ", split like the last inventory year; its 90% interval -> relative 1-sigma, "
                              "summed in quadrature over the horizon")
    all_years = inv_years + now_years
    hist_days = pd.date_range(f"{hist0}-01-01", f"{years[-1]}-12-31", freq="D")
    target_days = year_days(years)
    south = {r: inputs.south.get(r, False) for r in regions}
    sec_ind = sector_indicators(ind, regions, south, hist_days, target_days)

    values = np.zeros((len(target_days), len(cc.SECTORS), len(regions)))
    sigma = np.zeros_like(values)
    evidence = np.full(values.shape, cc.EVIDENCE_NO_DATA, dtype=np.int8)
    doy_year = target_days.year.to_numpy()
    sources: set[str] = set()
    edges: dict[str, dict[str, str]] = defaultdict(dict)
    inv_end = pd.Timestamp(f"{last_inv}-12-31")
    for s, sector in enumerate(cc.SECTORS):
        si = sec_ind[sector]
        ann = pd.DataFrame(annual[:, s, :], index=all_years, columns=list(regions))
        ratio_regions: set[str] = set()
        for r, ms in si.measured.items():
            j = regions.index(r)
            for y in now_years:
                in_year = doy_year == y
                if not (ms.code[in_year] != UNMEASURED).any() or ann.at[last_inv, r] <= 0:
                    continue
                ann.at[y, r] = ratio_annual(float(ann.at[last_inv, r]), ms.daily, doy_year, y, last_inv)
                ratio_regions.add(r)
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
        annual_pos = ann.loc[years].to_numpy().max(axis=0) > 0
        ev = _evidence(si, regions, target_days, last_inv, annual_pos)
        for j, r in enumerate(regions):
            msr = si.measured.get(r)
            if msr is not None:
                ms = msr
                past = doy_year > last_inv
                if r in ratio_regions:  # ratio months: drift of the activity-to-emissions ratio
                    yrs = np.clip(doy_year - last_inv, 0, None)
                    extra[:, j] = np.where(past, RATIO_DRIFT_PER_YEAR * yrs, 0.0)
                after = _months_since(target_days, ms.observed_until) * MODEL_SIGMA_PER_MONTH
                extra[:, j] = np.hypot(extra[:, j], np.where(ms.code == UNMEASURED, after, 0.0))
                if annual_pos[j]:
                    edges[r][sector] = (f"{cc.evidence_label(int(ms.code[ms.code != UNMEASURED].max()))} through "
                                        f"{ms.observed_until:%Y-%m-%d} ({ms.source}); after that, a model")
            elif now_years:
                extra[:, j] = np.hypot(extra[:, j], _months_since(target_days, inv_end) * MODEL_SIGMA_PER_MONTH)
        values[:, s, :] = vals
        evidence[:, s, :] = ev
        sigma[:, s, :] = np.sqrt(NATIONAL_REL_SIGMA[sector] ** 2 + DAILY_PROFILE_REL_SIGMA[sector] ** 2 + extra ** 2)
        labels = {}
        for j, r in enumerate(regions):
            if annual[:, s, j].max() <= 0:
                continue
            meth = dt_.methods[j].split(" over ")[0].replace(f" + {DENTON_METHOD}", "")
            labels[r] = f"{si.sources[j]} -> {meth}" + (f"; ragged edge {edge[r]}" if r in edge else "") + (
                "; ratio method past the inventory" if r in ratio_regions else "")
            sources.add(si.sources[j].split(" [")[0])
        methods[f"temporal_{sector}"] = _summary(labels)
    take = target_days.get_indexer(times)
    if (take < 0).any():
        raise ValueError("times must be calendar days")
    values, sigma, evidence = values[take], sigma[take], evidence[take]
    methods["indicator_sources"] = " | ".join(sorted(sources))
    methods["uncertainty_national"] = ("relative 1-sigma = sqrt(inventory sector error^2 + one-day profile error^2"
                                       + (" + nowcast or ratio-drift error^2" if now_years else "")
                                       + f" + ({MODEL_SIGMA_PER_MONTH:g} x months since the last measured data)^2)")
    methods["evidence"] = ("evidence(time, sector, country): " + ", ".join(cc.EVIDENCE_LEVELS)
                           + " (see the data edge of each country in carbonmap_data_edge)")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        bt, bs, br = (int(x[0]) for x in np.nonzero(bad))
        raise ValueError(f"national emissions must be finite and >= 0; {regions[br]} {cc.SECTORS[bs]} on "
                         f"{times[bt]:%Y-%m-%d} is {values[bt, bs, br]!r}: check the inventory input")
    sigma = np.where(values > 0, sigma, 0.0)
    evidence = np.where(values > 0, evidence, cc.EVIDENCE_NO_DATA).astype(np.int8)
    return NationalDaily(times, tuple(regions), values, sigma, methods, evidence, dict(edges))
