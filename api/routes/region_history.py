"""What the analysis and pathway routes read for a region's history, facilities and lever context (no HTTP, no
science here): the release tables and the national table, handed to :mod:`nowcast.region_history`,
:mod:`nowcast.region_facilities` and :func:`nowcast.pathways.region_context`.

See :mod:`api.routes.region_analysis` for the scopes; the facility index is built once per release and app.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from api.national_arrays import national_arrays
from api.routes.region_analysis import Monthly, Scope, Tables, evidence_months, monthly, national_scope
from carbonmap.caches import AppCaches
from carbonmap.registry import Cube
from carbonmap.settings import Settings
from nowcast import region_facilities as rf
from nowcast import region_history as nrh
from nowcast.pathways import RegionContext, region_context
from nowcast.region_history import History

__all__ = ["History", "facilities", "history", "lever_context"]

FACILITY_INDEX_CACHE = "api.analysis.facility_index"
"""Name of the LRU of facility indexes (per (store, release)) in the app's caches."""
FACILITY_INDEX_ITEMS = 8


def _national_history(cube: Cube, caches: AppCaches, scope: Scope, m: Monthly, tables: Tables) -> History:
    inv, sec = nrh.inventory_rows(tables.history, tables.sector_history, scope.countries,
                                  scope.info["type"] == "world")
    return nrh.national_history(inv, sec, m, evidence_months(cube, caches, scope.countries), tables.source)


def history(cube: Cube, settings: Settings, caches: AppCaches, scope: Scope, m: Monthly, tables: Tables) -> History:
    """The scope's annual history (:mod:`nowcast.region_history`); ``m``: its monthly sums over the whole cube.
    A polygon's earlier years are estimated from its home country's monthly sums and history, read here."""
    if scope.kind == "national":
        return _national_history(cube, caches, scope, m, tables)
    home = national_scope(cube, scope.home) if scope.home else None
    hm = nh = None
    if home is not None:
        hm = monthly(cube, settings, caches, home)
        nh = _national_history(cube, caches, home, hm, tables)
    return nrh.polygon_history(m, evidence_months(cube, caches, scope.countries), scope.home, hm, nh)


def facilities(cube: Cube, caches: AppCaches, scope: Scope, tables: Tables, start: dt.date, end: dt.date,
               sector_totals_t: dict[str, float], top: int) -> rf.FacilityAnswer:
    """The region's largest operating facilities over [start, end] and its largest closed ones
    (:func:`nowcast.region_facilities.rank_facilities`)."""
    f = tables.facilities
    if f is None:
        return rf.no_facilities()
    arr = national_arrays(cube, caches)
    ix = caches.memo(FACILITY_INDEX_CACHE, FACILITY_INDEX_ITEMS, (str(cube.path), cube.release),
                     lambda: rf.facility_index(f, arr.countries))
    if scope.kind == "national":
        mask = rf.in_countries(ix, None if scope.info["type"] == "world"
                               else [arr.countries.index(c) for c in scope.countries])
    elif scope.geometry is not None:
        mask = rf.in_polygon(ix, scope.geometry)
    else:
        mask = np.zeros(len(ix.table), bool)
    i0, i1 = cube.day_index(start), cube.day_index(end) + 1
    national_t = arr.sums(slice(None), i0, i1)[0] / 1000.0  # (sector, country) t over the period
    return rf.rank_facilities(ix, mask, national_t, i1 - i0, sector_totals_t, top)


def lever_context(tables: Tables, home: str | None) -> RegionContext:
    """Power mix, grid intensity and industry's process share of the home country (for the levers)."""
    return region_context(tables.power_mix, tables.history, tables.sector_history, home)
