"""A region's totals over a period: intervals, evidence shares, sector ranking, months (pure functions, #18).

What ``GET /regions/{id}/analysis`` answers first ("the total, its sectors"), computed from arrays the API has
already read (the release's national table, or the grid's sums inside a polygon); no file or store is read here.

**Interval rule** (the API's): within a country errors are fully correlated across days, sectors and cells
(1-sigmas add), different countries are independent (quadrature); across periods sigmas add linearly.  The
90 % interval is ``estimate +- Z90 sigma`` (:data:`Z90`), the lower bound floored at zero; a region inside a
country carries an asymmetric (log-normal) allocation term, so its lower 1-sigma may differ from the upper one.

Units: t CO2 unless a name says kg; dims in each docstring (``sector`` runs over
:data:`carbonmap.contract.SECTORS`, ``country`` over the countries summed, ``level`` over
:data:`carbonmap.contract.EVIDENCE_LEVELS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from carbonmap import contract as cc

Z90 = 1.6448536269514722
"""The standard normal's 95th percentile: a 90 % interval is +-Z90 sigma (the API's ``national_series.Z90``)."""
KG_PER_T = 1000.0


@dataclass
class Totals:
    """One period's totals, t CO2: per sector (sector,) estimate and 1-sigma, the total's, and evidence shares."""

    start: dt.date
    end: dt.date
    days: int
    sector_t: np.ndarray
    sector_sigma: np.ndarray
    total_t: float
    total_sigma: float
    sector_evidence: list[dict[str, float] | None] = field(default_factory=list)
    total_evidence: dict[str, float] | None = None
    sector_sigma_lo: np.ndarray | None = None
    """Lower-side 1-sigmas where the interval is asymmetric (a region inside a country: the allocation term is
    log-normal); None = the same as ``sector_sigma``."""
    total_sigma_lo: float | None = None


@dataclass
class Monthly:
    """Monthly sums over the whole cube (t CO2): ``est`` and ``sector_sigma`` (month, sector), ``total_sigma``
    (month,) 1-sigma, and each month's first day and number of days in the cube."""

    months: pd.DatetimeIndex
    days: np.ndarray
    est: np.ndarray
    total_sigma: np.ndarray
    sector_sigma: np.ndarray
    total_sigma_lo: np.ndarray | None = None
    """Lower-side 1-sigmas (asymmetric intervals of regions inside a country); None = symmetric."""
    sector_sigma_lo: np.ndarray | None = None


@dataclass(frozen=True)
class Interval:
    """A 90 % interval, t CO2 (``lower_t`` floored at zero)."""

    estimate_t: float
    lower_t: float
    upper_t: float


@dataclass(frozen=True)
class RankedSector:
    """A sector's place in the region's ranking: its index on :data:`carbonmap.contract.SECTORS` and its share of
    the region's total over the period (0..1; 0 when the region emitted nothing)."""

    index: int
    sector: str
    share: float


@dataclass(frozen=True)
class LatestTwelveMonths:
    """The last 12 whole months of the data and the 12 before them (t CO2), with the change in %."""

    start: str
    end: str
    total_t: float
    previous_total_t: float | None = None
    change_pct: float | None = None


# ----------------------------------------------------------------------------------------------- intervals
def interval90(estimate_t: float, sigma_t: float, sigma_lo_t: float | None = None) -> Interval:
    """The 90 % interval of an estimate (t CO2) with 1-sigma ``sigma_t`` (upper side) and ``sigma_lo_t`` (lower
    side; None = symmetric); the lower bound never goes below zero."""
    lo = sigma_t if sigma_lo_t is None else sigma_lo_t
    return Interval(float(estimate_t), max(float(estimate_t - Z90 * lo), 0.0), float(estimate_t + Z90 * sigma_t))


def combine_sigmas(e_kg: np.ndarray, s_kg: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(sector estimate (sector,), sector 1-sigma (sector,), total estimate, total 1-sigma), kg, from per-(sector,
    country) sums ``e_kg`` and 1-sigmas ``s_kg``: countries in quadrature, sectors of one country linearly."""
    sector_sigma = np.sqrt((s_kg ** 2).sum(axis=1))
    total_sigma = float(np.sqrt((s_kg.sum(axis=0) ** 2).sum()))
    return e_kg.sum(axis=1), sector_sigma, float(e_kg.sum()), total_sigma


def sigma_from_bounds(estimate: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(upper 1-sigma, lower 1-sigma) of 90 % intervals given as bounds (any shape, one unit)."""
    return (upper - estimate) / Z90, (estimate - lower) / Z90


# ----------------------------------------------------------------------------------------------- evidence
def evidence_shares(by_level: np.ndarray | None) -> list[dict[str, float] | None]:
    """Per sector, the share of each evidence level (rounded to 6 digits; None where nothing is emitted), from
    (sector, level) sums of emissions (any unit); ``None`` in: no evidence in the release."""
    if by_level is None:
        return [None] * len(cc.SECTORS)
    out: list[dict[str, float] | None] = []
    for row in by_level:
        tot = row.sum()
        out.append({cc.EVIDENCE_LEVELS[k]: round(float(v / tot), 6) for k, v in enumerate(row) if v > 0}
                   if tot > 0 else None)
    return out


def combine_evidence(sector_t: np.ndarray, sector_ev: list[dict[str, float] | None]) -> dict[str, float] | None:
    """The total's evidence shares: the sectors' shares weighted by their emissions ``sector_t`` (sector,)."""
    acc: dict[str, float] = {}
    tot = 0.0
    for v, e in zip(sector_t, sector_ev, strict=True):
        if e is None or v <= 0:
            continue
        tot += float(v)
        for k, share in e.items():
            acc[k] = acc.get(k, 0.0) + share * float(v)
    return {k: round(v / tot, 6) for k, v in acc.items()} if tot > 0 else None


# ----------------------------------------------------------------------------------------------- totals
def country_totals(start: dt.date, end: dt.date, days: int, e_kg: np.ndarray, s_kg: np.ndarray,
                   by_level: np.ndarray | None) -> Totals:
    """The totals of countries summed from the national table: ``e_kg``/``s_kg`` (sector, country) emissions and
    1-sigma sums over the period (kg), ``by_level`` (sector, level) evidence sums (kg) or None."""
    est, sig, tot, tsig = combine_sigmas(e_kg, s_kg)
    ev = evidence_shares(by_level)
    return Totals(start, end, days, est / KG_PER_T, sig / KG_PER_T, tot / KG_PER_T, tsig / KG_PER_T, ev,
                  combine_evidence(est, ev))


def totals_of_months(m: Monthly, start: dt.date, end: dt.date, evidence: list[dict[str, float] | None]) -> Totals:
    """The totals of all of ``m``'s months (the whole cube, ``start``..``end``), with the sectors' ``evidence``."""
    est, sig = m.est.sum(axis=0), m.sector_sigma.sum(axis=0)
    lo = None if m.sector_sigma_lo is None else m.sector_sigma_lo.sum(axis=0)
    tlo = None if m.total_sigma_lo is None else float(m.total_sigma_lo.sum())
    return Totals(start, end, (end - start).days + 1, est, sig, float(est.sum()), float(m.total_sigma.sum()),
                  evidence, combine_evidence(est, evidence), lo, tlo)


def totals_of_intervals(start: dt.date, end: dt.date, sector_est: np.ndarray, sector_upper: np.ndarray,
                        sector_lower: np.ndarray, total_est: np.ndarray, total_upper: np.ndarray,
                        total_lower: np.ndarray, evidence: list[dict[str, float] | None]) -> Totals:
    """The totals over ``start``..``end`` of periods given as 90 % intervals (t CO2): ``sector_*`` (period,
    sector), ``total_*`` (period,); sigmas add linearly across periods."""
    est = sector_est.sum(axis=0)
    sig, lo = (x.sum(axis=0) for x in sigma_from_bounds(sector_est, sector_upper, sector_lower))
    tsig, tlo = (float(x.sum()) for x in sigma_from_bounds(total_est, total_upper, total_lower))
    return Totals(start, end, (end - start).days + 1, est, sig, float(total_est.sum()), tsig, evidence,
                  combine_evidence(est, evidence), lo, tlo)


def rank_sectors(sector_t: np.ndarray, total_t: float) -> list[RankedSector]:
    """Sectors from the largest emitter down (stable for ties), each with its share of ``total_t``; ``sector_t``
    (sector,) t CO2 over the period."""
    order = sorted(range(len(cc.SECTORS)), key=lambda k: -sector_t[k])
    return [RankedSector(k, cc.SECTORS[k], float(sector_t[k] / total_t) if total_t > 0 else 0.0) for k in order]


# ----------------------------------------------------------------------------------------------- months
def country_months(months: pd.DatetimeIndex, month_start: np.ndarray, m_est_kg: np.ndarray, m_sig_kg: np.ndarray
                   ) -> Monthly:
    """The monthly sums of countries from the national table's monthly arrays: ``m_est_kg``/``m_sig_kg`` (month,
    sector, country) kg of the countries summed; ``month_start`` (month + 1,) day index of each month's start."""
    total_sigma = np.sqrt((m_sig_kg.sum(axis=1) ** 2).sum(axis=1))
    return Monthly(months, np.diff(month_start), m_est_kg.sum(axis=2) / KG_PER_T, total_sigma / KG_PER_T,
                   np.sqrt((m_sig_kg ** 2).sum(axis=2)) / KG_PER_T)


def months_of_intervals(labels: Sequence[str], days: np.ndarray, sector_est: np.ndarray, sector_upper: np.ndarray,
                        sector_lower: np.ndarray, total_est: np.ndarray, total_upper: np.ndarray,
                        total_lower: np.ndarray) -> Monthly:
    """Monthly sums from monthly 90 % intervals (t CO2): ``labels`` 'YYYY-MM', ``days`` (month,) days in the cube,
    ``sector_*`` (month, sector), ``total_*`` (month,)."""
    sig, lo = sigma_from_bounds(sector_est, sector_upper, sector_lower)
    tsig, tlo = sigma_from_bounds(total_est, total_upper, total_lower)
    return Monthly(pd.DatetimeIndex(pd.to_datetime([f"{m}-01" for m in labels])), np.asarray(days), sector_est,
                   tsig, sig, tlo, lo)


def complete_years(m: Monthly) -> list[int]:
    """Calendar years ``m`` covers whole (12 months and every day)."""
    out = []
    for y in sorted(set(m.months.year)):
        sel = m.months.year == y
        if sel.sum() == 12 and int(m.days[sel].sum()) == (366 if pd.Timestamp(y, 12, 31).dayofyear == 366 else 365):
            out.append(int(y))
    return out


def latest_twelve_months(m: Monthly) -> LatestTwelveMonths | None:
    """The last 12 whole months and the 12 before them (when they run straight on), t CO2; None with fewer than
    12 whole months."""
    full = np.array([d == pd.Timestamp(t).days_in_month for t, d in zip(m.months, m.days, strict=True)])
    idx = np.flatnonzero(full)
    if len(idx) < 12:
        return None
    last = idx[-12:]
    cur = float(m.est[last].sum())
    start, end = str(m.months[last[0]].date()), str((m.months[last[-1]] + pd.offsets.MonthEnd(0)).date())
    prev = idx[-24:-12]
    if len(idx) >= 24 and prev[-1] + 1 == last[0]:
        p = float(m.est[prev].sum())
        return LatestTwelveMonths(start, end, cur, p, (cur / p - 1) * 100 if p else None)
    return LatestTwelveMonths(start, end, cur)


def dominant_owner(owners: np.ndarray, area_m2: np.ndarray) -> int | None:
    """The owner code (>= 0) holding most of the area: ``owners`` (cell,) code of each covered cell (-1: none),
    ``area_m2`` (cell,) area of the cell inside the region, m2; None when no cell has an owner."""
    ok = owners >= 0
    if not ok.any():
        return None
    return int(np.bincount(owners[ok], weights=area_m2[ok]).argmax())
