"""A region's annual history, its facilities and the context the pathway levers need (no HTTP here).

See :mod:`api.routes.region_analysis` for the scopes and the history rules; facilities come from the release's
facility table (``pipelines.release_tables``): a facility's emissions over a period are its ``share`` of its
country's sector total in that period (what the grid puts at it); closed plants emit nothing.  Inside a
polygon that cuts grid cells the facilities of a sector may add up to more than the polygon's own sector total
(a plant's cell only partly inside): they are then scaled down to that total, and the answer says by how much.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from api.national_arrays import national_arrays
from api.routes.region_analysis import (
    ESTIMATED,
    INVENTORY_EVIDENCE,
    INVENTORY_REL_SIGMA,
    Monthly,
    Scope,
    Tables,
    complete_years,
    monthly,
    national_scope,
)
from carbonmap import contract as cc
from carbonmap.registry import Cube
from carbonmap.settings import Settings
from nowcast.pathways import RegionContext
from nowcast.peak import INVENTORY_YEAR_NOISE

T_PER_MT = 1e6


@dataclass
class History:
    """Consecutive annual totals (t CO2 yr-1) ending in the last complete year of data."""

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


def _year_sums(m: Monthly, years: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(year, sector) totals and (year,) relative 1-sigma of the total (sigmas linear over months)."""
    est = np.stack([m.est[m.months.year == y].sum(axis=0) for y in years]) if years else np.zeros((0, len(cc.SECTORS)))
    sig = np.array([m.total_sigma[m.months.year == y].sum() for y in years])
    tot = est.sum(axis=1) if len(years) else np.zeros(0)
    return est, np.where(tot > 0, sig / np.where(tot > 0, tot, 1.0), np.nan)


def _year_evidence(cube: Cube, countries: tuple[str, ...], years: list[int]) -> list[dict[str, float]]:
    arr = national_arrays(cube)
    if arr.m_ev is None or not countries:
        return [{} for _ in years]
    by_month = arr.m_ev[:, :, arr.cidx(countries)].sum(axis=(1, 2))  # (month, level)
    out = []
    for y in years:
        by = by_month[arr.months.year == y].sum(axis=0)
        out.append({cc.EVIDENCE_LEVELS[k]: round(float(v / by.sum()), 4) for k, v in enumerate(by) if v > 0}
                   if by.sum() > 0 else {})
    return out


def _national_rows(tables: Tables, codes: tuple[str, ...], world: bool) -> tuple[pd.Series, pd.DataFrame | None]:
    """GCB totals (t, index year) and the sector history (t, index year, columns SECTORS) of a national region."""
    h = tables.history
    if h is None:
        return pd.Series(dtype=float), None
    rows = h[h["iso3"] == "WLD"] if world else h[h["iso3"].isin(codes)]
    total = rows.groupby("year")["total"].sum(min_count=1).dropna() * T_PER_MT
    sh = tables.sector_history
    sectors = None
    if sh is not None:
        s = sh if world else sh[sh["iso3"].isin(codes)]
        sectors = s.groupby("year")[list(cc.SECTORS)].sum() * T_PER_MT if len(s) else None
    return total.astype(float), sectors


def national_history(cube: Cube, scope: Scope, m: Monthly, tables: Tables) -> History:
    """Inventory years from the release's history table, later complete years from the cube."""
    world = scope.info["type"] == "world"
    inv, sec = _national_rows(tables, scope.countries, world)
    cube_years = complete_years(m)
    last_inv = int(inv.index.max()) if len(inv) else -1
    own = [y for y in cube_years if y > last_inv]
    est, rel = _year_sums(m, cube_years)
    inv_rel = [r for y, r in zip(cube_years, rel, strict=True) if y <= last_inv and np.isfinite(r)]
    rel_inv = float(inv_rel[0]) if inv_rel else INVENTORY_REL_SIGMA
    years = [int(y) for y in inv.index] + own
    total = np.concatenate([inv.to_numpy(float), [est[cube_years.index(y)].sum() for y in own]])
    rel_level = np.array([rel_inv] * len(inv) + [rel[cube_years.index(y)] for y in own])
    rel_ind = np.array([INVENTORY_YEAR_NOISE] * len(inv)
                       + [max(INVENTORY_YEAR_NOISE, float(np.sqrt(max(r ** 2 - rel_inv ** 2, 0.0))))
                          for r in rel_level[len(inv):]])
    evidence = [{INVENTORY_EVIDENCE: 1.0} for _ in range(len(inv))] + _year_evidence(cube, scope.countries, own)
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
    keep = _consecutive_tail(np.asarray(years)[order])
    return History(np.asarray(years)[order][keep], total[order][keep], rel_level[order][keep], rel_ind[order][keep],
                   [evidence[i] for i in order[keep]],
                   None if sectors is None else {s: v[order][keep] for s, v in sectors.items()},
                   ["inventory" if y <= last_inv else "dataset" for y in np.asarray(years)[order][keep]],
                   f"inventory years from {tables.source}; later complete years from this dataset")


def _consecutive_tail(years: np.ndarray) -> np.ndarray:
    """Indices of the longest run of consecutive years that ends with the last one."""
    if len(years) == 0:
        return np.arange(0)
    start = len(years) - 1
    while start > 0 and years[start] - years[start - 1] == 1:
        start -= 1
    return np.arange(start, len(years))


def polygon_history(cube: Cube, settings: Settings, scope: Scope, m: Monthly, tables: Tables) -> History:
    """The polygon's own complete cube years; earlier years estimated from its home country (module doc)."""
    cube_years = complete_years(m)
    est, rel = _year_sums(m, cube_years)
    home = national_scope(cube, scope.home) if scope.home else None
    pre_years: list[int] = []
    pre_sectors = np.zeros((0, len(cc.SECTORS)))
    rel_inv = INVENTORY_REL_SIGMA
    if home is not None:
        hm = monthly(cube, settings, home)
        nh = national_history(cube, home, hm, tables)
        ref = [y for y in cube_years if y in complete_years(hm)]
        mine = est[[cube_years.index(y) for y in ref]].sum(axis=0) if ref else m.est.sum(axis=0)
        theirs = (np.stack([hm.est[hm.months.year == y].sum(axis=0) for y in ref]).sum(axis=0) if ref
                  else hm.est.sum(axis=0))
        share = np.where(theirs > 0, mine / np.where(theirs > 0, theirs, 1.0), 0.0)
        # sectors the country does not report (the international bunkers a polygon may hold) follow its total
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
    rel_ind = np.concatenate([np.full(len(pre_years), INVENTORY_YEAR_NOISE),
                              [max(INVENTORY_YEAR_NOISE, float(np.sqrt(max(r ** 2 - rel_inv ** 2, 0.0))))
                               for r in rel]])
    evidence = [{ESTIMATED: 1.0} for _ in pre_years] + _year_evidence(cube, scope.countries, cube_years)
    keep = _consecutive_tail(np.asarray(years, dtype=np.int64))
    note = (f"{len(pre_years)} years before {cube_years[0] if cube_years else 'the dataset'} estimated: the region's "
            f"share of each of {scope.home}'s sector totals in the dataset's complete years carried back over "
            f"{scope.home}'s sector history" if pre_years else "the dataset's complete years only")
    return History(np.asarray(years, dtype=np.int64)[keep], total[keep], rel_level[keep], rel_ind[keep],
                   [evidence[i] for i in keep], {s: sectors_arr[keep, k] for k, s in enumerate(cc.SECTORS)},
                   ["estimated" if y in pre_years else "dataset" for y in np.asarray(years)[keep]], note)


def history(cube: Cube, settings: Settings, scope: Scope, m: Monthly, tables: Tables) -> History:
    if scope.kind == "national":
        return national_history(cube, scope, m, tables)
    return polygon_history(cube, settings, scope, m, tables)


# ----------------------------------------------------------------------------------------------- facilities
@dataclass
class FacilityAnswer:
    operating: list[dict[str, Any]]
    closed: list[dict[str, Any]]
    scaled: dict[str, float]
    """Sectors whose facilities were scaled down to the region's sector total, and the factor."""
    available: bool
    note: str


@dataclass(frozen=True)
class FacilityIndex:
    """The facility table as arrays for fast selection (built once per release): country and sector index on the
    cube's axes (-1: not in the national table), lon/lat, share, operating flag, former emissions."""

    table: pd.DataFrame
    country: np.ndarray
    sector: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    share: np.ndarray
    operating: np.ndarray
    former: np.ndarray


_INDEX: dict[int, FacilityIndex] = {}


def facility_index(f: pd.DataFrame, countries: tuple[str, ...]) -> FacilityIndex:
    key = id(f)
    hit = _INDEX.get(key)
    if hit is not None and hit.table is f:
        return hit
    cpos = {c: k for k, c in enumerate(countries)}
    spos = {s: k for k, s in enumerate(cc.SECTORS)}
    value = FacilityIndex(
        f, np.array([cpos.get(c, -1) for c in f["iso3"].astype(str)], dtype=np.int64),
        np.array([spos.get(s, -1) for s in f["sector"].astype(str)], dtype=np.int64),
        f["lon"].to_numpy(np.float64), f["lat"].to_numpy(np.float64), f["share"].to_numpy(np.float64),
        (f["status"].astype(str) == "operating").to_numpy(bool), f["co2_t_per_yr"].to_numpy(np.float64, na_value=np.nan))
    if len(_INDEX) > 8:
        _INDEX.clear()
    _INDEX[key] = value
    return value


def _row(r: Any) -> dict[str, Any]:
    return {"name": str(r["name"]) or "(unnamed)", "sector": str(r["sector"]), "kind": str(r["kind"]),
            "iso3": str(r["iso3"]), "lon": round(float(r["lon"]), 5), "lat": round(float(r["lat"]), 5),
            "basis": str(r["basis"]), "status": str(r["status"])}


def facilities(cube: Cube, scope: Scope, tables: Tables, start: Any, end: Any, sector_totals_t: dict[str, float],
               top: int) -> FacilityAnswer:
    """The region's largest operating facilities over [start, end] and its largest closed ones (module doc)."""
    f = tables.facilities
    if f is None:
        return FacilityAnswer([], [], {}, False, "this release has no facility table (built before it existed, or "
                                                 "by an update that did not write one); rebuild to get it")
    arr = national_arrays(cube)
    ix = facility_index(f, arr.countries)
    if scope.kind == "national":
        mask = (np.ones(len(f), bool) if scope.info["type"] == "world"
                else np.isin(ix.country, [arr.countries.index(c) for c in scope.countries]))
    elif scope.geometry is not None:
        x0, y0, x1, y1 = scope.geometry.bounds
        mask = (ix.lon >= x0) & (ix.lon <= x1) & (ix.lat >= y0) & (ix.lat <= y1)
        pos = np.flatnonzero(mask)
        shapely.prepare(scope.geometry)
        mask[pos] = shapely.contains_xy(scope.geometry, ix.lon[pos], ix.lat[pos])
    else:
        mask = np.zeros(len(f), bool)
    i0, i1 = cube.day_index(start), cube.day_index(end) + 1
    nat_sc = arr.sums(slice(None), i0, i1)[0] / 1000.0  # (sector, country) t over the period
    days = i1 - i0
    op = np.flatnonzero(mask & ix.operating & (ix.share > 0) & (ix.country >= 0) & (ix.sector >= 0))
    emis = ix.share[op] * nat_sc[ix.sector[op], ix.country[op]]
    scaled: dict[str, float] = {}
    for k in np.unique(ix.sector[op]):
        sel = ix.sector[op] == k
        v, limit = float(emis[sel].sum()), sector_totals_t.get(cc.SECTORS[k], 0.0)
        if v > limit * (1 + 1e-9):
            factor = limit / v if v > 0 else 0.0
            scaled[cc.SECTORS[k]] = round(factor, 6)
            emis[sel] *= factor
    order = np.argsort(-emis, kind="stable")[:top]
    per_year = 365.25 / days
    operating = []
    for j in order:
        r = f.iloc[op[j]]
        total = sector_totals_t.get(str(r["sector"]), 0.0)
        e = float(emis[j])
        operating.append({**_row(r), "emissions_t": e, "t_per_year": e * per_year,
                          "share_of_sector": e / total if total > 0 else None, "closed_year": None,
                          "former_t_per_year": None})
    shut = np.flatnonzero(mask & ~ix.operating)
    shut = shut[np.argsort(-np.nan_to_num(ix.former[shut], nan=-1.0), kind="stable")][:top]
    closed = []
    for j in shut:
        r = f.iloc[j]
        closed.append({**_row(r), "emissions_t": 0.0, "t_per_year": 0.0, "share_of_sector": 0.0,
                       "closed_year": None if pd.isna(r["closed_year"]) else int(r["closed_year"]),
                       "former_t_per_year": None if pd.isna(r["co2_t_per_yr"]) else float(r["co2_t_per_yr"])})
    note = ("emissions over the period = the facility's share of its country's sector total (what the grid puts at "
            "it; estimates unless basis says reported)" + (f"; scaled down to the region's sector totals for "
                                                           f"{', '.join(scaled)} (the polygon cuts grid cells)"
                                                           if scaled else ""))
    return FacilityAnswer(operating, closed, scaled, True, note)


def region_context(tables: Tables, home: str | None) -> RegionContext:
    """Power mix, grid intensity and industry's process share of the home country (for the levers)."""
    coal = gas = oil = grid = None
    source = ""
    mix = tables.power_mix
    if mix is not None and home is not None:
        row = mix[mix["iso3"] == home]
        if len(row):
            r = row.iloc[0]
            if pd.notna(r.get("total_twh")) and r.get("total_twh", 0) > 0:
                coal, gas, oil = (float(r[f"{f}_twh"] / r["total_twh"]) for f in ("coal", "gas", "oil"))
                source = f"{home}'s generation in {int(r['year'])} (Carbon Monitor Power)"
            if pd.notna(r.get("grid_t_per_mwh")):
                grid = float(r["grid_t_per_mwh"])
    process = 0.0
    h, sh = tables.history, tables.sector_history
    if h is not None and sh is not None and home is not None:
        last = h[(h["iso3"] == home) & h["total"].notna()].sort_values("year").tail(1)
        srow = sh[(sh["iso3"] == home) & (sh["year"] == (int(last["year"].iloc[0]) if len(last) else -1))]
        if len(last) and len(srow) and float(srow["industry"].iloc[0]) > 0:
            proc = float(np.nansum([last["cement"].iloc[0], last["flaring"].iloc[0]]))
            process = min(1.0, proc / float(srow["industry"].iloc[0]))
    return RegionContext(coal, gas, oil, grid, process, source)
