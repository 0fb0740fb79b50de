"""What the analysis and pathway routes read: a region's totals, annual history and facilities (no HTTP here).

A region is answered in one of two **scopes**:

- *national*: ISO3 countries in the dataset's national table, ``XIA``/``XIS`` and ``WLD``, from the national
  table (the same numbers as ``GET /regions/{iso3}/emissions``), read once per release and kept in memory;
- *polygon*: admin-1 units, cities, places, drawn polygons and countries missing from the national table, from
  the grid inside the polygon (``api.query_engine.query_geometry``): monthly sums of the whole cube (the
  time-series layout's precomputed months, so a big state never hits the cell-steps guardrail) and, for a
  period that is not the whole cube, one more query for it.  Its *home country* (the catalogue's, or the
  country covering most of a drawn polygon) gives the national context: evidence, data edge, history.

**Annual history**: a country's inventory years (1970 to the last inventory year) come from the national
history table the build wrote into the release (``pipelines.release_tables``; a release without it falls
back to the Global Carbon Budget file in the server's data directory, read once); later complete years come
from the cube.  A sub-national region's own numbers start with the cube; earlier years are **estimated**:
its share of each of its country's sector totals in the cube's complete years (or the whole cube period),
carried back over the country's sector history.

Intervals (90 %) follow the API's rule; across periods, sigmas add linearly (errors are fully correlated
within a country over time).  Inventory years carry the relative interval of the cube's first complete
inventory year (or :data:`INVENTORY_REL_SIGMA`).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from cachetools import LRUCache
from shapely.geometry.base import BaseGeometry

from api import national_regions
from api import regions_query as rq
from api.national_arrays import national_arrays
from api.national_series import KG_PER_T, Z90
from api.query_engine import country_map, query_geometry
from carbonmap import contract as cc
from carbonmap.registry import Cube
from carbonmap.settings import Settings
from carbonmap.storage import tables as rt

INVENTORY_REL_SIGMA = 0.05
"""Relative 1-sigma of an inventory year's level when the cube has no complete inventory year to take it from."""
MODEL_EVIDENCE = "model"
INVENTORY_EVIDENCE = "annual-inventory"
ESTIMATED = "estimated: the region's share of its country's sector totals carried back"


# ----------------------------------------------------------------------------------------------- caches
@dataclass(frozen=True)
class Tables:
    history: pd.DataFrame | None
    sector_history: pd.DataFrame | None
    facilities: pd.DataFrame | None
    power_mix: pd.DataFrame | None
    source: str


@lru_cache(maxsize=2)
def _gcb_fallback(data_dir: Path) -> pd.DataFrame | None:
    """The GCB history from the server's own data directory (once per process), for releases without tables."""
    from ingest.gcb import GCB_FILE, read_gcb

    path = Path(data_dir) / GCB_FILE
    return rt.history_table(read_gcb(path)) if path.is_file() else None


_LOCK = threading.Lock()
_TABLES: LRUCache[tuple[str, str | None], Tables] = LRUCache(maxsize=4)


def tables_of(cube: Cube, settings: Settings) -> Tables:
    """The release's tables (read once per release), or the fallback history for older releases."""
    key = (str(cube.path), cube.release)
    with _LOCK:
        hit = _TABLES.get(key)
    if hit is not None:
        return hit
    hist = rt.read_table(cube.path, rt.HISTORY)
    source = "this release (its table tables/national_history)"
    if hist is None:
        hist = _gcb_fallback(Path(settings.data_dir))
        source = "the server's Global Carbon Budget file (this release has no history table)"
    value = Tables(hist, rt.read_table(cube.path, rt.SECTOR_HISTORY), rt.read_table(cube.path, rt.FACILITIES),
                   rt.read_table(cube.path, rt.POWER_MIX), source)
    with _LOCK:
        _TABLES[key] = value
    return value


# ----------------------------------------------------------------------------------------------- scope
@dataclass(frozen=True)
class Scope:
    kind: str  # "national" or "polygon"
    info: dict[str, str]
    countries: tuple[str, ...]
    """national: the rows summed; polygon: the home country alone (or none)."""
    home: str | None
    geometry: BaseGeometry | None = None
    key: str | None = None


def national_scope(cube: Cube, code: str) -> Scope | None:
    """The national scope of an ISO3 code, XIA/XIS or WLD, or None if the national table lacks it."""
    try:
        region = national_regions.resolve(code, cube.countries, cube.id)
    except national_regions.RegionNotFound:
        return None
    home = region.id if region.type != "world" else None
    return Scope("national", {"id": region.id, "type": region.type, "definition": region.definition},
                 region.countries, home)


def home_country(cube: Cube, geom: BaseGeometry, key: str) -> str | None:
    """The country covering most of a polygon's area on the grid (None: open sea)."""
    w = _weights(cube, geom, key)
    cmap, codes = country_map(cube.grid)
    owners = cmap[w.rows, w.cols]
    area = w.area_fraction * cube.grid.cell_area_m2()[w.rows]
    ok = owners >= 0
    if not ok.any():
        return None
    best = np.bincount(owners[ok], weights=area[ok]).argmax()
    code = str(codes[best])
    return code if code in cube.countries else None


def _weights(cube: Cube, geom: BaseGeometry, key: str) -> rq.CellWeights:
    from api.query_engine import WEIGHTS

    return WEIGHTS.get(geom, cube.grid, key)


def polygon_scope(cube: Cube, geom: BaseGeometry, info: dict[str, str], iso3: str | None, key: str | None = None
                  ) -> Scope:
    key = key or rq.geometry_key(geom)
    home = iso3 if iso3 in cube.countries else home_country(cube, geom, key)
    return Scope("polygon", info, (home,) if home else (), home, geom, key)


# ----------------------------------------------------------------------------------------------- numbers
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


def _rule(e: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(sector est, sector sigma, total est, total sigma) from per-(sector, country) sums, kg; see the module doc."""
    sector_sigma = np.sqrt((s ** 2).sum(axis=1))
    total_sigma = float(np.sqrt((s.sum(axis=0) ** 2).sum()))
    return e.sum(axis=1), sector_sigma, float(e.sum()), total_sigma


def combine_evidence(sector_t: np.ndarray, sector_ev: list[dict[str, float] | None]) -> dict[str, float] | None:
    """The total's evidence: sector shares weighted by the sectors' emissions."""
    acc: dict[str, float] = {}
    tot = 0.0
    for v, e in zip(sector_t, sector_ev, strict=True):
        if e is None or v <= 0:
            continue
        tot += float(v)
        for k, share in e.items():
            acc[k] = acc.get(k, 0.0) + share * float(v)
    return {k: round(v / tot, 6) for k, v in acc.items()} if tot > 0 else None



def _shares(by: np.ndarray | None) -> list[dict[str, float] | None]:
    """Per row of (sector, level) evidence sums, the shares of each level (None where nothing is emitted)."""
    if by is None:
        return [None] * len(cc.SECTORS)
    out: list[dict[str, float] | None] = []
    for row in by:
        tot = row.sum()
        out.append({cc.EVIDENCE_LEVELS[k]: round(float(v / tot), 6) for k, v in enumerate(row) if v > 0}
                   if tot > 0 else None)
    return out


def national_totals(cube: Cube, scope: Scope, start: dt.date, end: dt.date) -> Totals:
    arr = national_arrays(cube)
    i0, i1 = cube.day_index(start), cube.day_index(end) + 1
    e, s, by = arr.sums(arr.cidx(scope.countries), i0, i1)
    est, sig, tot, tsig = _rule(e, s)
    ev = _shares(by)
    return Totals(start, end, i1 - i0, est / KG_PER_T, sig / KG_PER_T, tot / KG_PER_T, tsig / KG_PER_T, ev,
                  combine_evidence(est, ev))


def home_evidence(cube: Cube, home: str | None, start: dt.date, end: dt.date) -> list[dict[str, float] | None]:
    """The home country's evidence shares per sector over a period (what a sub-national region rests on)."""
    arr = national_arrays(cube)
    if home is None or arr.ev is None or home not in arr.countries:
        return [None] * len(cc.SECTORS)
    _, _, by = arr.sums([arr.countries.index(home)], cube.day_index(start), cube.day_index(end) + 1)
    return _shares(by)


def polygon_totals(cube: Cube, settings: Settings, scope: Scope, start: dt.date, end: dt.date,
                   whole: Monthly | None = None) -> Totals:
    """The polygon's totals over [start, end]; ``whole``: its monthly sums of the whole cube, used instead of a
    second query when the period is the whole cube."""
    assert scope.geometry is not None
    if whole is not None and start == cube.start and end == cube.end:
        est, sig = whole.est.sum(axis=0), whole.sector_sigma.sum(axis=0)
        ev = home_evidence(cube, scope.home, start, end)
        lo = None if whole.sector_sigma_lo is None else whole.sector_sigma_lo.sum(axis=0)
        tlo = None if whole.total_sigma_lo is None else float(whole.total_sigma_lo.sum())
        return Totals(start, end, (end - start).days + 1, est, sig, float(est.sum()), float(whole.total_sigma.sum()),
                      ev, combine_evidence(est, ev), lo, tlo)
    res = query_geometry(cube, scope.geometry, start, end, "year", cc.SECTORS, settings, region=None, key=scope.key)
    a = res.arrays
    est = a["sector_estimate"].sum(axis=0)
    sig = ((a["sector_upper"] - a["sector_estimate"]) / Z90).sum(axis=0)
    lo = ((a["sector_estimate"] - a["sector_lower"]) / Z90).sum(axis=0)
    tot = float(a["total_estimate"].sum())
    tsig = float(((a["total_upper"] - a["total_estimate"]) / Z90).sum())
    tlo = float(((a["total_estimate"] - a["total_lower"]) / Z90).sum())
    ev = home_evidence(cube, scope.home, start, end)
    return Totals(start, end, (end - start).days + 1, est, sig, tot, tsig, ev, combine_evidence(est, ev), lo, tlo)


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


def monthly(cube: Cube, settings: Settings, scope: Scope) -> Monthly:
    if scope.kind == "national":
        arr = national_arrays(cube)
        c = arr.cidx(scope.countries)
        sig = arr.m_sig[:, :, c]
        total_sigma = np.sqrt((sig.sum(axis=1) ** 2).sum(axis=1))
        return Monthly(arr.months, np.diff(arr.month_start), arr.m_est[:, :, c].sum(axis=2) / KG_PER_T,
                       total_sigma / KG_PER_T, np.sqrt((sig ** 2).sum(axis=2)) / KG_PER_T)
    assert scope.geometry is not None
    res = query_geometry(cube, scope.geometry, cube.start, cube.end, "month", cc.SECTORS, settings, key=scope.key)
    a = res.arrays
    return Monthly(pd.DatetimeIndex(pd.to_datetime([f"{m}-01" for m in res.labels])),
                   np.array([b[2] for b in res.bounds]), a["sector_estimate"],
                   (a["total_upper"] - a["total_estimate"]) / Z90, (a["sector_upper"] - a["sector_estimate"]) / Z90,
                   (a["total_estimate"] - a["total_lower"]) / Z90, (a["sector_estimate"] - a["sector_lower"]) / Z90)


def complete_years(m: Monthly) -> list[int]:
    """Calendar years the cube covers whole."""
    out = []
    for y in sorted(set(m.months.year)):
        sel = m.months.year == y
        if sel.sum() == 12 and int(m.days[sel].sum()) == (366 if pd.Timestamp(y, 12, 31).dayofyear == 366 else 365):
            out.append(int(y))
    return out


def latest_twelve_months(m: Monthly) -> dict[str, Any] | None:
    """The last 12 whole months and the 12 before them (t CO2), with the change."""
    full = np.array([d == pd.Timestamp(t).days_in_month for t, d in zip(m.months, m.days, strict=True)])
    idx = np.flatnonzero(full)
    if len(idx) < 12:
        return None
    last = idx[-12:]
    cur = float(m.est[last].sum())
    out: dict[str, Any] = {"start": str(m.months[last[0]].date()),
                           "end": str((m.months[last[-1]] + pd.offsets.MonthEnd(0)).date()), "total_t": cur,
                           "previous_total_t": None, "change_pct": None}
    prev = idx[-24:-12]
    if len(idx) >= 24 and prev[-1] + 1 == last[0]:
        p = float(m.est[prev].sum())
        out.update(previous_total_t=p, change_pct=(cur / p - 1) * 100 if p else None)
    return out
