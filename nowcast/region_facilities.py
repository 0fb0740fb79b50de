"""The largest facilities of a region over a period, consistent with its sector totals (pure functions, #18).

Input: the release's facility table (``pipelines.release_tables``: one row per facility with its country
``iso3``, ``sector``, ``lon``/``lat``, ``share`` of its country's sector total, ``status``, ``co2_t_per_yr``,
``closed_year``, ``name``, ``kind``, ``basis``) and the national table's (sector, country) totals over the
period, t CO2.  No file or store is read here.

A facility's emissions over a period are its ``share`` of its country's sector total in that period (what the
grid puts at it); closed and mothballed plants emit nothing and are listed apart, largest former emitters first.
Inside a polygon that cuts grid cells the facilities of a sector may add up to more than the polygon's own sector
total (a plant's cell only partly inside): they are then scaled down to that total, and the answer says by how
much.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from carbonmap import contract as cc

NO_TABLE = ("this release has no facility table (built before it existed, or by an update that did not write one); "
            "rebuild to get it")
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class FacilityIndex:
    """The facility table as arrays for fast selection (built once per release): (facility,) country and sector
    index on the national table's axes (-1: not in it), lon/lat (degrees), share of the country's sector total
    (0..1), operating flag, former emissions (t CO2 yr-1, NaN unknown)."""

    table: pd.DataFrame
    country: np.ndarray
    sector: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    share: np.ndarray
    operating: np.ndarray
    former: np.ndarray


@dataclass(frozen=True)
class RankedFacility:
    """One facility of the answer; emissions in t CO2 over the period, rates in t CO2 yr-1."""

    name: str
    sector: str
    kind: str
    iso3: str
    lon: float
    lat: float
    basis: str
    status: str
    emissions_t: float
    t_per_year: float
    share_of_sector: float | None
    closed_year: int | None
    former_t_per_year: float | None


@dataclass(frozen=True)
class FacilityAnswer:
    operating: list[RankedFacility]
    closed: list[RankedFacility]
    scaled: dict[str, float]
    """Sectors whose facilities were scaled down to the region's sector total, and the factor."""
    available: bool
    note: str


def facility_index(table: pd.DataFrame, countries: tuple[str, ...]) -> FacilityIndex:
    """Index the facility table on the national table's ``countries`` and :data:`carbonmap.contract.SECTORS`."""
    cpos = {c: k for k, c in enumerate(countries)}
    spos = {s: k for k, s in enumerate(cc.SECTORS)}
    f = table
    return FacilityIndex(
        f, np.array([cpos.get(c, -1) for c in f["iso3"].astype(str)], dtype=np.int64),
        np.array([spos.get(s, -1) for s in f["sector"].astype(str)], dtype=np.int64),
        f["lon"].to_numpy(np.float64), f["lat"].to_numpy(np.float64), f["share"].to_numpy(np.float64),
        (f["status"].astype(str) == "operating").to_numpy(bool), f["co2_t_per_yr"].to_numpy(np.float64, na_value=np.nan))


def in_countries(ix: FacilityIndex, country_idx: list[int] | None) -> np.ndarray:
    """(facility,) mask of the facilities in the countries at ``country_idx`` (None: every facility, the world)."""
    if country_idx is None:
        return np.ones(len(ix.table), bool)
    return np.isin(ix.country, country_idx)


def in_polygon(ix: FacilityIndex, geometry: BaseGeometry) -> np.ndarray:
    """(facility,) mask of the facilities inside ``geometry`` (lon/lat degrees)."""
    x0, y0, x1, y1 = geometry.bounds
    mask = (ix.lon >= x0) & (ix.lon <= x1) & (ix.lat >= y0) & (ix.lat <= y1)
    pos = np.flatnonzero(mask)
    shapely.prepare(geometry)
    mask[pos] = shapely.contains_xy(geometry, ix.lon[pos], ix.lat[pos])
    return mask


def _row(r: Any) -> dict[str, Any]:
    return {"name": str(r["name"]) or "(unnamed)", "sector": str(r["sector"]), "kind": str(r["kind"]),
            "iso3": str(r["iso3"]), "lon": round(float(r["lon"]), 5), "lat": round(float(r["lat"]), 5),
            "basis": str(r["basis"]), "status": str(r["status"])}


def rank_facilities(ix: FacilityIndex, mask: np.ndarray, national_t: np.ndarray, days: int,
                    sector_totals_t: dict[str, float], top: int) -> FacilityAnswer:
    """The ``top`` largest operating facilities selected by ``mask`` (facility,) over a period of ``days`` days,
    and the ``top`` largest closed ones (module doc).  ``national_t``: (sector, country) national totals over the
    period, t CO2; ``sector_totals_t``: the region's own sector totals over the period, t CO2 (facilities are
    scaled down to them)."""
    f = ix.table
    op = np.flatnonzero(mask & ix.operating & (ix.share > 0) & (ix.country >= 0) & (ix.sector >= 0))
    emis = ix.share[op] * national_t[ix.sector[op], ix.country[op]]
    scaled: dict[str, float] = {}
    for k in np.unique(ix.sector[op]):
        sel = ix.sector[op] == k
        v, limit = float(emis[sel].sum()), sector_totals_t.get(cc.SECTORS[k], 0.0)
        if v > limit * (1 + 1e-9):
            factor = limit / v if v > 0 else 0.0
            scaled[cc.SECTORS[k]] = round(factor, 6)
            emis[sel] *= factor
    order = np.argsort(-emis, kind="stable")[:top]
    per_year = DAYS_PER_YEAR / days
    operating = []
    for j in order:
        r = f.iloc[op[j]]
        total = sector_totals_t.get(str(r["sector"]), 0.0)
        e = float(emis[j])
        operating.append(RankedFacility(**_row(r), emissions_t=e, t_per_year=e * per_year,
                                        share_of_sector=e / total if total > 0 else None, closed_year=None,
                                        former_t_per_year=None))
    shut = np.flatnonzero(mask & ~ix.operating)
    shut = shut[np.argsort(-np.nan_to_num(ix.former[shut], nan=-1.0), kind="stable")][:top]
    closed = []
    for j in shut:
        r = f.iloc[j]
        closed.append(RankedFacility(
            **_row(r), emissions_t=0.0, t_per_year=0.0, share_of_sector=0.0,
            closed_year=None if pd.isna(r["closed_year"]) else int(r["closed_year"]),
            former_t_per_year=None if pd.isna(r["co2_t_per_yr"]) else float(r["co2_t_per_yr"])))
    note = ("emissions over the period = the facility's share of its country's sector total (what the grid puts at "
            "it; estimates unless basis says reported)" + (f"; scaled down to the region's sector totals for "
                                                           f"{', '.join(scaled)} (the polygon cuts grid cells)"
                                                           if scaled else ""))
    return FacilityAnswer(operating, closed, scaled, True, note)


def no_facilities() -> FacilityAnswer:
    """The answer of a release without a facility table."""
    return FacilityAnswer([], [], {}, False, NO_TABLE)
