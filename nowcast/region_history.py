"""A region's annual history and its peak verdict (pure functions, issue #18): national inventory years, the
dataset's complete years, and for a region inside a country the earlier years estimated from its country.

Inputs are what the API has read from a release: the national history tables (t CO2 in Mt columns, as
``carbonmap.storage.tables`` holds them), the region's :class:`nowcast.region_totals.Monthly` sums and the
national table's monthly evidence.  No file or store is read here.

**A country, a group or the world** (:func:`national_history`): its inventory years (1970 to the last inventory
year) from the history table; later complete years from the dataset.  Inventory years carry the relative
interval of the dataset's first complete inventory year (or :data:`INVENTORY_REL_SIGMA`); the part of a year's
error independent of other years is :data:`nowcast.peak.INVENTORY_YEAR_NOISE` for inventory years and, for the
dataset's years, what their own interval adds above the inventory's (at least that noise).

**A region inside a country** (:func:`polygon_history`): its own complete dataset years; earlier years are
*estimated*: its share of each of its country's sector totals in the dataset's complete years (or the whole
dataset period) carried back over the country's sector history.  Sectors the country does not report (the
international bunkers a polygon may hold) follow the country's total.

Either history is the longest run of consecutive years that ends with the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from carbonmap import contract as cc
from nowcast import peak as pk
from nowcast.peak import INVENTORY_YEAR_NOISE
from nowcast.region_totals import Z90, Monthly, complete_years

INVENTORY_REL_SIGMA = 0.05
"""Relative 1-sigma of an inventory year's level when the data have no complete inventory year to take it from."""
INVENTORY_EVIDENCE = "annual-inventory"
ESTIMATED = "estimated: the region's share of its country's sector totals carried back"
T_PER_MT = 1e6


@dataclass
class History:
    """Consecutive annual totals (t CO2 yr-1) ending in the last complete year of data: ``years``, ``total_t``,
    ``rel_level``, ``rel_independent`` (year,), ``sectors`` per sector (year,) t CO2 yr-1."""

    years: np.ndarray
    total_t: np.ndarray
    rel_level: np.ndarray
    """Relative 1-sigma of each year's level (the 90 % interval is +-1.645 of it)."""
    rel_independent: np.ndarray
    """The part of it not shared with other years (what the peak test perturbs)."""
    evidence: list[dict[str, float]]
    sectors: dict[str, np.ndarray] | None
    basis: list[str] = field(default_factory=list)
    """Per year: 'inventory', 'dataset' or 'estimated'."""
    note: str = ""

    @property
    def now_year(self) -> int:
        return int(self.years[-1])

    def interval90(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) of each year's 90 % interval, (year,) t CO2 yr-1 (the lower floored at zero)."""
        half = Z90 * self.rel_level * self.total_t
        return np.maximum(self.total_t - half, 0.0), self.total_t + half


@dataclass(frozen=True)
class EvidenceMonths:
    """The national table's evidence of a region's countries by month: ``months`` (month,) first days and
    ``by_level`` (month, level) emissions per evidence level (any unit; None: the release has no evidence, or the
    region no country)."""

    months: pd.DatetimeIndex
    by_level: np.ndarray | None


def year_sums(m: Monthly, years: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(year, sector) totals, t CO2 yr-1, and (year,) relative 1-sigma of the total (sigmas linear over months;
    NaN for a year without emissions)."""
    est = np.stack([m.est[m.months.year == y].sum(axis=0) for y in years]) if years else np.zeros((0, len(cc.SECTORS)))
    sig = np.array([m.total_sigma[m.months.year == y].sum() for y in years])
    tot = est.sum(axis=1) if len(years) else np.zeros(0)
    return est, np.where(tot > 0, sig / np.where(tot > 0, tot, 1.0), np.nan)


def year_evidence(ev: EvidenceMonths, years: list[int]) -> list[dict[str, float]]:
    """Per year, the shares of each evidence level (rounded to 4 digits; {} without evidence)."""
    if ev.by_level is None:
        return [{} for _ in years]
    out = []
    for y in years:
        by = ev.by_level[ev.months.year == y].sum(axis=0)
        out.append({cc.EVIDENCE_LEVELS[k]: round(float(v / by.sum()), 4) for k, v in enumerate(by) if v > 0}
                   if by.sum() > 0 else {})
    return out


def inventory_rows(history: pd.DataFrame | None, sector_history: pd.DataFrame | None, codes: tuple[str, ...],
                   world: bool) -> tuple[pd.Series, pd.DataFrame | None]:
    """A national region's inventory totals (t CO2 yr-1, index year) and sector history (t CO2 yr-1, index year,
    columns SECTORS), summed over ``codes`` (``world``: the history's WLD rows and every sector-history row);
    ``history``/``sector_history`` in Mt CO2 as the release tables hold them."""
    if history is None:
        return pd.Series(dtype=float), None
    rows = history[history["iso3"] == "WLD"] if world else history[history["iso3"].isin(codes)]
    total = rows.groupby("year")["total"].sum(min_count=1).dropna() * T_PER_MT
    sectors = None
    if sector_history is not None:
        s = sector_history if world else sector_history[sector_history["iso3"].isin(codes)]
        sectors = s.groupby("year")[list(cc.SECTORS)].sum() * T_PER_MT if len(s) else None
    return total.astype(float), sectors


def consecutive_tail(years: np.ndarray) -> np.ndarray:
    """Indices of the longest run of consecutive years that ends with the last one."""
    if len(years) == 0:
        return np.arange(0)
    start = len(years) - 1
    while start > 0 and years[start] - years[start - 1] == 1:
        start -= 1
    return np.arange(start, len(years))


def _independent(rel: np.ndarray | list[float], rel_inv: float) -> list[float]:
    """The independent relative 1-sigma of dataset years: what their interval adds above the inventory's."""
    return [max(INVENTORY_YEAR_NOISE, float(np.sqrt(max(r ** 2 - rel_inv ** 2, 0.0)))) for r in rel]


def national_history(inventory_t: pd.Series, sector_inventory_t: pd.DataFrame | None, m: Monthly,
                     evidence: EvidenceMonths, source: str) -> History:
    """Inventory years from ``inventory_t`` (t CO2 yr-1, index year) and ``sector_inventory_t`` (see
    :func:`inventory_rows`), later complete years from ``m`` (the region's monthly sums); ``source`` names where
    the inventory came from (for the note).  See the module doc."""
    inv, sec = inventory_t, sector_inventory_t
    cube_years = complete_years(m)
    last_inv = int(inv.index.max()) if len(inv) else -1
    own = [y for y in cube_years if y > last_inv]
    est, rel = year_sums(m, cube_years)
    inv_rel = [r for y, r in zip(cube_years, rel, strict=True) if y <= last_inv and np.isfinite(r)]
    rel_inv = float(inv_rel[0]) if inv_rel else INVENTORY_REL_SIGMA
    years = [int(y) for y in inv.index] + own
    total = np.concatenate([inv.to_numpy(float), [est[cube_years.index(y)].sum() for y in own]])
    rel_level = np.array([rel_inv] * len(inv) + [rel[cube_years.index(y)] for y in own])
    rel_ind = np.array([INVENTORY_YEAR_NOISE] * len(inv) + _independent(rel_level[len(inv):], rel_inv))
    ev = [{INVENTORY_EVIDENCE: 1.0} for _ in range(len(inv))] + year_evidence(evidence, own)
    sectors = None
    if sec is not None:
        sec = sec.reindex(index=[y for y in years if y <= last_inv]).fillna(0.0)
        sectors = {s: np.concatenate([sec[s].to_numpy(float), [est[cube_years.index(y), k] for y in own]])
                   for k, s in enumerate(cc.SECTORS)}
    elif len(years):
        mix = est.sum(axis=0) if len(cube_years) else m.est.sum(axis=0)
        mix = mix / mix.sum() if mix.sum() > 0 else np.full(len(cc.SECTORS), 1 / len(cc.SECTORS))
        sectors = {s: total * mix[k] for k, s in enumerate(cc.SECTORS)}
    order = np.argsort(years)
    keep = consecutive_tail(np.asarray(years)[order])
    return History(np.asarray(years)[order][keep], total[order][keep], rel_level[order][keep], rel_ind[order][keep],
                   [ev[i] for i in order[keep]],
                   None if sectors is None else {s: v[order][keep] for s, v in sectors.items()},
                   ["inventory" if y <= last_inv else "dataset" for y in np.asarray(years)[order][keep]],
                   f"inventory years from {source}; later complete years from this dataset")


def polygon_history(m: Monthly, evidence: EvidenceMonths, home: str | None, home_monthly: Monthly | None,
                    home_history: History | None) -> History:
    """A region inside a country: its own complete years from ``m``; earlier years estimated from its ``home``
    country's monthly sums ``home_monthly`` and :func:`national_history` ``home_history`` (both None: open sea or
    a country outside the national table, no earlier years).  See the module doc."""
    cube_years = complete_years(m)
    est, rel = year_sums(m, cube_years)
    pre_years: list[int] = []
    pre_sectors = np.zeros((0, len(cc.SECTORS)))
    rel_inv = INVENTORY_REL_SIGMA
    if home_monthly is not None and home_history is not None:
        hm, nh = home_monthly, home_history
        ref = [y for y in cube_years if y in complete_years(hm)]
        mine = est[[cube_years.index(y) for y in ref]].sum(axis=0) if ref else m.est.sum(axis=0)
        theirs = (np.stack([hm.est[hm.months.year == y].sum(axis=0) for y in ref]).sum(axis=0) if ref
                  else hm.est.sum(axis=0))
        share = np.where(theirs > 0, mine / np.where(theirs > 0, theirs, 1.0), 0.0)
        follow = (theirs <= 0) & (mine > 0)
        first_own = cube_years[0] if cube_years else int(nh.years[-1]) + 1
        sel = nh.years < first_own
        pre_years = [int(y) for y in nh.years[sel]]
        if nh.sectors is not None:
            pre_sectors = np.stack([nh.sectors[s][sel] for s in cc.SECTORS], axis=1) * share[None, :]
            if follow.any() and theirs.sum() > 0:
                pre_sectors[:, follow] = nh.total_t[sel][:, None] * (mine[follow] / theirs.sum())[None, :]
        rel_inv = float(nh.rel_level[sel][0]) if sel.any() else rel_inv
    years = pre_years + cube_years
    sectors_arr = np.concatenate([pre_sectors, est], axis=0) if len(years) else np.zeros((0, len(cc.SECTORS)))
    total = sectors_arr.sum(axis=1)
    rel_level = np.concatenate([np.full(len(pre_years), rel_inv), rel])
    rel_ind = np.concatenate([np.full(len(pre_years), INVENTORY_YEAR_NOISE), _independent(rel, rel_inv)])
    ev = [{ESTIMATED: 1.0} for _ in pre_years] + year_evidence(evidence, cube_years)
    keep = consecutive_tail(np.asarray(years, dtype=np.int64))
    note = (f"{len(pre_years)} years before {cube_years[0] if cube_years else 'the dataset'} estimated: the region's "
            f"share of each of {home}'s sector totals in the dataset's complete years carried back over "
            f"{home}'s sector history" if pre_years else "the dataset's complete years only")
    return History(np.asarray(years, dtype=np.int64)[keep], total[keep], rel_level[keep], rel_ind[keep],
                   [ev[i] for i in keep], {s: sectors_arr[keep, k] for k, s in enumerate(cc.SECTORS)},
                   ["estimated" if y in pre_years else "dataset" for y in np.asarray(years)[keep]], note)


def history_peak(h: History) -> pk.PeakResult:
    """The peak verdict (:func:`nowcast.peak.peak_verdict`) of a history's annual totals, perturbed by each year's
    independent error ('not enough data' for an empty history)."""
    if len(h.years):
        return pk.peak_verdict(h.years, h.total_t, h.rel_independent)
    return pk.peak_verdict(np.zeros(0), np.zeros(0), np.zeros(0))
