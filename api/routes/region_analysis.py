"""What the analysis and pathway routes read: a region's scope, totals and months (no HTTP, no science here).

The numbers are computed by the science package (:mod:`nowcast.region_totals`: interval rule, evidence shares,
months; :mod:`nowcast.region_history`; :mod:`nowcast.region_facilities`; :mod:`nowcast.peak`;
:mod:`nowcast.pathways`); this module reads what they need from the release and the app's caches.

A region is answered in one of two **scopes**:

- *national*: ISO3 countries in the dataset's national table, ``XIA``/``XIS`` and ``WLD``, from the national
  table (the same numbers as ``GET /regions/{iso3}/emissions``), read once per release and kept in the app's
  caches;
- *polygon*: admin-1 units, cities, places, drawn polygons and countries missing from the national table, from
  the grid inside the polygon (``api.query_engine.query_geometry``): monthly sums of the whole cube (the
  time-series layout's precomputed months, so a big state never hits the cell-steps guardrail) and, for a
  period that is not the whole cube, one more query for it.  Its *home country* (the catalogue's, or the
  country covering most of a drawn polygon) gives the national context: evidence, data edge, history.

**Annual history** inputs: a country's inventory years come from the national history table the build wrote
into the release (``pipelines.release_tables``; a release without it falls back to the Global Carbon Budget
file in the server's data directory, read once per app); the history itself is assembled by
:mod:`nowcast.region_history` (see there for the rules and intervals).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from api import national_regions
from api import regions_query as rq
from api.national_arrays import national_arrays
from api.query_engine import country_map, query_geometry, region_caches
from carbonmap import contract as cc
from carbonmap.caches import AppCaches
from carbonmap.registry import Cube
from carbonmap.settings import Settings
from carbonmap.storage import tables as rt
from nowcast import region_totals as rtot
from nowcast.region_history import EvidenceMonths
from nowcast.region_totals import Monthly, Totals

__all__ = ["Monthly", "Scope", "Tables", "Totals", "evidence_months", "home_country", "home_evidence", "monthly",
           "national_scope", "national_totals", "polygon_scope", "polygon_totals", "tables_of"]

TABLES_CACHE = "api.analysis.tables"
"""Name of the LRU of release tables (per (store, release)) in the app's caches."""
TABLES_ITEMS = 4
GCB_CACHE = "api.analysis.gcb_fallback"
"""Name of the LRU of the fallback GCB history (per data directory) in the app's caches."""


# ----------------------------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class Tables:
    history: pd.DataFrame | None
    sector_history: pd.DataFrame | None
    facilities: pd.DataFrame | None
    power_mix: pd.DataFrame | None
    source: str


def _gcb_fallback(data_dir: Path) -> pd.DataFrame | None:
    """The GCB history from the server's own data directory, for releases without tables."""
    from ingest.gcb import GCB_FILE, read_gcb

    path = Path(data_dir) / GCB_FILE
    return rt.history_table(read_gcb(path)) if path.is_file() else None


def _read_tables(cube: Cube, settings: Settings, caches: AppCaches) -> Tables:
    hist = rt.read_table(cube.path, rt.HISTORY)
    source = "this release (its table tables/national_history)"
    if hist is None:
        data_dir = Path(settings.data_dir)
        hist = caches.memo(GCB_CACHE, 2, data_dir, lambda: _gcb_fallback(data_dir))
        source = "the server's Global Carbon Budget file (this release has no history table)"
    return Tables(hist, rt.read_table(cube.path, rt.SECTOR_HISTORY), rt.read_table(cube.path, rt.FACILITIES),
                  rt.read_table(cube.path, rt.POWER_MIX), source)


def tables_of(cube: Cube, settings: Settings, caches: AppCaches) -> Tables:
    """The release's tables (read once per release and app), or the fallback history for older releases."""
    return caches.memo(TABLES_CACHE, TABLES_ITEMS, (str(cube.path), cube.release),
                       lambda: _read_tables(cube, settings, caches))


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


def home_country(cube: Cube, settings: Settings, caches: AppCaches, geom: BaseGeometry, key: str) -> str | None:
    """The country covering most of a polygon's area on the grid (None: open sea, or not in the national table)."""
    w = region_caches(caches, settings).weights.get(geom, cube.grid, key)
    cmap, codes = country_map(cube.grid)
    best = rtot.dominant_owner(cmap[w.rows, w.cols], w.area_fraction * cube.grid.cell_area_m2()[w.rows])
    if best is None:
        return None
    code = str(codes[best])
    return code if code in cube.countries else None


def polygon_scope(cube: Cube, settings: Settings, caches: AppCaches, geom: BaseGeometry, info: dict[str, str],
                  iso3: str | None, key: str | None = None) -> Scope:
    key = key or rq.geometry_key(geom)
    home = iso3 if iso3 in cube.countries else home_country(cube, settings, caches, geom, key)
    return Scope("polygon", info, (home,) if home else (), home, geom, key)


# ----------------------------------------------------------------------------------------------- numbers
def national_totals(cube: Cube, caches: AppCaches, scope: Scope, start: dt.date, end: dt.date) -> Totals:
    """The national table's totals of the scope's countries over [start, end]."""
    arr = national_arrays(cube, caches)
    i0, i1 = cube.day_index(start), cube.day_index(end) + 1
    e, s, by = arr.sums(arr.cidx(scope.countries), i0, i1)
    return rtot.country_totals(start, end, i1 - i0, e, s, by)


def home_evidence(cube: Cube, caches: AppCaches, home: str | None, start: dt.date, end: dt.date
                  ) -> list[dict[str, float] | None]:
    """The home country's evidence shares per sector over a period (what a sub-national region rests on)."""
    arr = national_arrays(cube, caches)
    if home is None or arr.ev is None or home not in arr.countries:
        return [None] * len(cc.SECTORS)
    _, _, by = arr.sums([arr.countries.index(home)], cube.day_index(start), cube.day_index(end) + 1)
    return rtot.evidence_shares(by)


def polygon_totals(cube: Cube, settings: Settings, caches: AppCaches, scope: Scope, start: dt.date, end: dt.date,
                   whole: Monthly | None = None) -> Totals:
    """The polygon's totals over [start, end]; ``whole``: its monthly sums of the whole cube, used instead of a
    second query when the period is the whole cube."""
    assert scope.geometry is not None
    ev = home_evidence(cube, caches, scope.home, start, end)
    if whole is not None and start == cube.start and end == cube.end:
        return rtot.totals_of_months(whole, start, end, ev)
    res = query_geometry(cube, scope.geometry, start, end, "year", cc.SECTORS, settings, caches, region=None,
                         key=scope.key)
    a = res.arrays
    return rtot.totals_of_intervals(start, end, a["sector_estimate"], a["sector_upper"], a["sector_lower"],
                                    a["total_estimate"], a["total_upper"], a["total_lower"], ev)


def monthly(cube: Cube, settings: Settings, caches: AppCaches, scope: Scope) -> Monthly:
    """The scope's monthly sums over the whole cube (t CO2)."""
    if scope.kind == "national":
        arr = national_arrays(cube, caches)
        c = arr.cidx(scope.countries)
        return rtot.country_months(arr.months, arr.month_start, arr.m_est[:, :, c], arr.m_sig[:, :, c])
    assert scope.geometry is not None
    res = query_geometry(cube, scope.geometry, cube.start, cube.end, "month", cc.SECTORS, settings, caches,
                         key=scope.key)
    a = res.arrays
    return rtot.months_of_intervals(res.labels, np.array([b[2] for b in res.bounds]), a["sector_estimate"], a["sector_upper"],
                                    a["sector_lower"], a["total_estimate"], a["total_upper"], a["total_lower"])


def evidence_months(cube: Cube, caches: AppCaches, countries: tuple[str, ...]) -> EvidenceMonths:
    """The national table's monthly evidence of ``countries`` summed over sectors and countries, (month, level)."""
    arr = national_arrays(cube, caches)
    if arr.m_ev is None or not countries:
        return EvidenceMonths(arr.months, None)
    return EvidenceMonths(arr.months, arr.m_ev[:, :, arr.cidx(countries)].sum(axis=(1, 2)))
