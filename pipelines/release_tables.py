"""Small tables a build writes into its release, so analysis answers are pinned to that release (issue #17).

Written by :func:`write_tables` into the release's Zarr group ``tables/`` (each table's Parquet bytes as a uint8
array), read by the API with :func:`read_table`:

- ``national_history``: the national annual inventory the build used (Global Carbon Budget), one row per
  (iso3, year) from :data:`HISTORY_FIRST_YEAR` to the last inventory year: ``total, coal, oil, gas, cement,
  flaring, other`` in Mt CO2 yr-1 (GCB's pseudo-countries WLD, XIA, XIS included);
- ``national_sector_history``: the same totals split into the cube's 7 sectors the way the build splits
  inventory years (:func:`pipelines.national.annual_table`), Mt CO2 yr-1; years before the first year of the
  build's per-year split take that year's shares (column ``split`` says which);
- ``facilities``: the point sources the build placed (:mod:`nowcast.facilities` power and industry points,
  airports for domestic aviation) plus the closed ones it left out (GEM coal units, iron and steel plants and
  cement plants retired or mothballed,
  JRC-PPDB fossil units decommissioned), one row per plant: ``sector, iso3, lon, lat, name, kind, basis,
  status, closed_year, co2_t_per_yr, share``.  ``co2_t_per_yr`` is the facility's own estimate or report
  (t CO2 yr-1; for a closed plant what it emitted, or was estimated to emit, while running; NaN for airports);
  ``share`` the fraction of its country's sector total the grid puts at it (0 when closed), from the build's
  plants-first rule: ``share = co2 x min(1 / P, s / T)`` with ``P`` the country's points, ``T`` its sector
  total of the last inventory year and ``s`` the largest scale-up (:data:`nowcast.facilities.MAX_POINT_SCALE`
  for power, 1 for industry), capped by what the grid puts in the facility's cell (:func:`cell_capped`: the
  build's sub-national levels scale plants per province); airports ``departures / country sum``.  So a
  facility's emissions over any period are ``share x`` the national sector total of that period, never more than
  its grid cell holds, and the shares of a country's facilities add up to at most 1;
- ``power_mix``: each country's electricity generation by fuel in its latest complete year of Carbon Monitor
  Power (``coal, gas, oil, fossil, total`` TWh, 45 countries) and its grid CO2 intensity from Ember's monthly
  overview (demand-weighted over the latest complete year, t CO2 MWh-1, ~90 countries): what the pathway
  levers of :mod:`nowcast.pathways` start from.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from carbonmap import contract as cc
from carbonmap.storage.tables import (
    FACILITIES,
    HISTORY,
    HISTORY_FIRST_YEAR,
    POWER_MIX,
    SECTOR_HISTORY,
    TABLES_DIR,
    history_table,
)

if TYPE_CHECKING:
    from carbonmap.settings import Settings

FACILITY_COLUMNS = ("sector", "iso3", "lon", "lat", "name", "kind", "basis", "status", "closed_year",
                    "co2_t_per_yr", "share")
KG_PER_T = 1000.0


def sector_history_table(inputs: Any, regions: tuple[str, ...], first_year: int = HISTORY_FIRST_YEAR
                         ) -> pd.DataFrame:
    """(iso3, year) rows with the 7 sectors in Mt CO2 yr-1, split like the build's inventory years."""
    from pipelines.national import annual_table

    gcb = inputs.gcb
    last = int(gcb.loc[gcb["total"].notna(), "year"].max())
    split_years = sorted({int(y) for y in inputs.split.shares.index.get_level_values("year")}) \
        if inputs.split is not None else list(range(first_year, last + 1))
    first_split = max(first_year, min(split_years))
    covered = [y for y in range(first_split, last + 1)]
    table = annual_table(inputs, covered, regions)  # (year, sector, region) kg yr-1
    early = list(range(first_year, first_split))
    if early:
        wide = gcb.pivot_table(index="year", columns="iso3", values="total", aggfunc="first")
        tot = wide.reindex(index=early, columns=list(regions)).fillna(0.0).to_numpy(np.float64) * cc.KG_PER_MT
        first = table[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(first.sum(axis=0) > 0, first / first.sum(axis=0), 0.0)  # (sector, region)
        table = np.concatenate([tot[:, None, :] * shares[None], table], axis=0)
    years = early + covered
    rows = []
    for k, y in enumerate(years):
        block = pd.DataFrame(table[k].T / cc.KG_PER_MT, columns=list(cc.SECTORS))
        block.insert(0, "year", y)
        block.insert(0, "iso3", list(regions))
        block["split"] = "first split year carried back" if y < first_split else "build's split of the year"
        rows.append(block)
    out = pd.concat(rows, ignore_index=True)
    out["year"] = out["year"].astype(np.int16)
    return out.sort_values(["iso3", "year"]).reset_index(drop=True)


def _plant_name(names: list[str]) -> str:
    """The plant's name from its units' names: their common prefix without a trailing unit number."""
    if len(set(names)) == 1:
        return names[0]
    prefix = re.sub(r"(\s+(units?|blocks?|#|no\.?))?[\s\d#-]*$", "", os.path.commonprefix(names), flags=re.IGNORECASE)
    return prefix.strip(" -,") or names[0]


def _plant_level(points: pd.DataFrame) -> pd.DataFrame:
    """Units at the same place of the same kind and country as one plant (names: their common prefix)."""
    if points.empty:
        return points
    key = [points["iso3"], points["kind"], points["lon"].round(4), points["lat"].round(4)]
    agg = points.groupby(key, sort=False).agg(
        sector=("sector", "first"), iso3=("iso3", "first"), lon=("lon", "mean"), lat=("lat", "mean"),
        kind=("kind", "first"), basis=("basis", "first"), status=("status", "first"),
        closed_year=("closed_year", "max"), co2_t_per_yr=("co2_t_per_yr", lambda v: v.sum(min_count=1)),
        share=("share", "sum"),
        name=("name", lambda s: _plant_name([str(v) for v in s])))
    return agg.reset_index(drop=True)


def placed_shares(points: pd.DataFrame, totals_kg: dict[str, float], max_scale: float) -> np.ndarray:
    """Each point's share of its country's sector total as the plants-first rule places it (see module doc).

    ``points``: iso3, co2_kg_per_yr; ``totals_kg``: iso3 -> the sector's total of the inventory year, kg yr-1."""
    p = points["co2_kg_per_yr"].to_numpy(np.float64)
    psum = points.groupby("iso3")["co2_kg_per_yr"].transform("sum").to_numpy(np.float64)
    total = points["iso3"].map(totals_kg).astype(float).fillna(0.0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(psum > 0, p * np.minimum(1.0 / psum, np.where(total > 0, max_scale / total, np.inf)), 0.0)
    return np.nan_to_num(share)


def _closed_points(data_dir: Path, year: int, jrc: pd.DataFrame | None) -> pd.DataFrame:
    """GEM coal units retired (by ``year``) or mothballed, and JRC-PPDB units decommissioned or mothballed."""
    from nowcast.facilities import COAL_CAPACITY_FACTOR, JRC_INACTIVE
    from pipelines.spatial_inputs import GEM_COAL, GEM_COAL_PARAMETERS

    frames = []
    if (data_dir / GEM_COAL).exists():
        from ingest import gem_coal

        u = gem_coal.read_gem_coal_units(data_dir / GEM_COAL, data_dir / GEM_COAL_PARAMETERS)
        ret = u["retired_year"]
        closed = (u["status"] == "retired") & (ret.isna() | (ret <= year)).fillna(True).astype(bool)
        moth = u["status"] == "mothballed"
        c = u[closed | moth]
        frames.append(pd.DataFrame({
            "sector": "power", "iso3": c["iso3"].astype(str), "lon": c["lon"], "lat": c["lat"],
            "name": c["plant_name"].astype(str) + " " + c["unit_name"].astype(str), "kind": "coal unit (GEM)",
            "basis": "status (GEM, July 2024)", "status": np.where(c["status"] == "retired", "closed", "mothballed"),
            "closed_year": c["retired_year"].where(c["status"] == "retired").astype("Float64"),
            "co2_t_per_yr": gem_coal.annual_co2_mt(c, COAL_CAPACITY_FACTOR).to_numpy(float) * 1e6}))
    if jrc is not None and len(jrc):
        fossil = jrc["fuel"].astype(str).str.startswith("Fossil") if "fuel" in jrc else True
        j = jrc[jrc["lat"].notna() & jrc["lon"].notna() & jrc["iso3"].notna() & fossil]
        dec = pd.to_numeric(j["year_decommissioned"], errors="coerce").astype(np.float64).to_numpy()
        off = j["status"].isin(JRC_INACTIVE).to_numpy(bool) | (np.nan_to_num(dec, nan=np.inf) <= year)
        c = j[off]
        status = np.where(c["status"].astype(str).str.upper() == "MOTHBALLED", "mothballed", "closed")
        frames.append(pd.DataFrame({
            "sector": "power", "iso3": c["iso3"].astype(str), "lon": c["lon"], "lat": c["lat"],
            "name": c["name_p"].astype(str), "kind": "power unit (JRC-PPDB)", "basis": "status (JRC-PPDB-OPEN)",
            "status": status, "closed_year": pd.to_numeric(c["year_decommissioned"], errors="coerce").astype("Float64"),
            "co2_t_per_yr": c["co2_kg_per_yr"].to_numpy(float) / KG_PER_T}))
    frames += _closed_industry(data_dir)
    if not frames:
        return pd.DataFrame(columns=list(FACILITY_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    out["share"] = 0.0
    return out


def _closed_industry(data_dir: Path) -> list[pd.DataFrame]:
    """GEM iron and steel plants and cement plants retired or mothballed (status as of the tracker's release), with
    what they would emit running at the same utilisation as the operating ones (t CO2 yr-1; NaN where GEM gives no
    capacity for the status, e.g. a retired steel plant)."""
    from nowcast.activity_indicators import INDUSTRY_EF_T_PER_T
    from nowcast.facilities import CEMENT_T_CO2_PER_T, CEMENT_UTILISATION, STEEL_UTILISATION
    from pipelines.spatial_inputs import GEM_CEMENT, GEM_STEEL_PLANTS, GEM_STEEL_UNITS

    frames = []
    closed_status = {"retired": "closed", "mothballed": "mothballed"}
    if (data_dir / GEM_STEEL_PLANTS).exists() and (data_dir / GEM_STEEL_UNITS).exists():
        from ingest import gem_steel

        p = gem_steel.read_gem_steel_plants(data_dir / GEM_STEEL_PLANTS, data_dir / GEM_STEEL_UNITS)
        c = p[p["status"].isin(list(closed_status))]
        cap = c["mothballed_crude_steel_capacity_mtpa"].where(c["status"] == "mothballed")
        frames.append(pd.DataFrame({
            "sector": "industry", "iso3": c["iso3"].astype(str), "lon": c["lon"], "lat": c["lat"],
            "name": c["plant_name"].astype(str), "kind": "iron and steel plant (GEM)", "basis": "status (GEM GIST)",
            "status": c["status"].astype(str).map(closed_status), "closed_year": pd.array([pd.NA] * len(c), "Float64"),
            "co2_t_per_yr": (cap.astype(float) * 1e6 * STEEL_UTILISATION * INDUSTRY_EF_T_PER_T["crude_steel"]
                             ).where(cap > 0).to_numpy(float)}))
    if (data_dir / GEM_CEMENT).exists():
        from ingest import gem_cement

        p = gem_cement.read_gem_cement_plants(data_dir / GEM_CEMENT)
        c = p[p["status"].isin(list(closed_status))]
        cap = c["clinker_capacity_mtpa"].where(c["clinker_capacity_mtpa"] > 0, c["cement_capacity_mtpa"]).astype(float)
        frames.append(pd.DataFrame({
            "sector": "industry", "iso3": c["iso3"].astype(str), "lon": c["lon"], "lat": c["lat"],
            "name": c["name"].astype(str), "kind": "cement plant (GEM)", "basis": "status (GEM GCCT)",
            "status": c["status"].astype(str).map(closed_status), "closed_year": pd.array([pd.NA] * len(c), "Float64"),
            "co2_t_per_yr": (cap * 1e6 * CEMENT_UTILISATION * CEMENT_T_CO2_PER_T).where(cap > 0).to_numpy(float)}))
    return frames


def _snapped(inputs: Any, grid: cc.Grid, regions: tuple[str, ...], region: np.ndarray, cells: np.ndarray
             ) -> np.ndarray:
    """The cells the build put the points in: a coastal or border point moved into its country's nearest covered
    cell (:func:`pipelines.weights.snap_into_region`, on the same country coverage)."""
    from nowcast.downscale import Coverage
    from pipelines.weights import snap_into_region

    cov = inputs.coverage(grid)
    remap = np.array([{r: i for i, r in enumerate(regions)}.get(i, -1) for i in cov.ids], dtype=np.int64)
    reg = remap[cov.region]
    keep = reg >= 0
    ok = (region >= 0) & (cells >= 0)
    out = cells.copy()
    out[ok] = snap_into_region(grid, region[ok], cells[ok], Coverage(reg[keep], cov.cell[keep].astype(np.int64),
                                                                      cov.fraction[keep]))
    return out


def cell_capped(shares: np.ndarray, raw: np.ndarray, region: np.ndarray, cells: np.ndarray, matrix: Any
                ) -> np.ndarray:
    """``shares`` capped so that no facility gets more than its grid cell holds: at most the cell's weight in its
    country's column of ``matrix`` (cell, region), split between the cell's facilities by their own estimates.

    Provinces-first countries (the build's sub-national levels) scale plants per province; the cap keeps every
    facility consistent with what the grid really puts in its cell whatever the placement rule."""
    ok = (cells >= 0) & (region >= 0)
    out = np.where(ok, shares, 0.0)
    if not ok.any():
        return out
    m = matrix.tocsc() if hasattr(matrix, "tocsc") else matrix
    w = np.zeros(len(shares))
    w[ok] = np.asarray(m[cells[ok], region[ok]]).ravel()
    key = pd.MultiIndex.from_arrays([cells, region])
    cell_raw = pd.Series(np.where(ok, raw, 0.0)).groupby(key).transform("sum").to_numpy()
    cap = np.where(cell_raw > 0, w * raw / np.where(cell_raw > 0, cell_raw, 1.0), 0.0)
    return np.minimum(out, cap)


def facility_table(inputs: Any, regions: tuple[str, ...], data_dir: Path, weights: Any = None,
                   grid: cc.Grid | None = None) -> pd.DataFrame | None:
    """The facilities the build placed, plus the closed ones (see the module doc); None without facility inputs.

    ``weights``/``grid``: the build's downscaling weights (``matrices[sector]`` (cell, region)) and grid; when
    given, each share is capped by what the grid puts in the facility's cell (:func:`cell_capped`)."""
    from nowcast.facilities import MAX_POINT_SCALE
    from pipelines.weights import sector_annual_totals

    spatial = getattr(inputs, "spatial", None)
    if spatial is None or (spatial.power_points is None and spatial.industry_points is None):
        return None
    frames = []
    for sector, pts, scale in (("power", spatial.power_points, MAX_POINT_SCALE),
                               ("industry", spatial.industry_points, 1.0)):
        if pts is None or pts.empty:
            continue
        pts = pts[pts["iso3"].isin(regions)].reset_index(drop=True)
        totals = dict(zip(regions, sector_annual_totals(inputs, regions, sector), strict=True))
        share = placed_shares(pts, totals, scale)
        if weights is not None and grid is not None and sector in getattr(weights, "matrices", {}):
            from nowcast.proxies import points_to_cells

            index = {r: i for i, r in enumerate(regions)}
            cells = np.asarray(points_to_cells(grid, pts["lon"].to_numpy(float), pts["lat"].to_numpy(float)))
            region = np.array([index.get(str(c), -1) for c in pts["iso3"]], dtype=np.int64)
            cells = _snapped(inputs, grid, regions, region, cells)
            share = cell_capped(share, pts["co2_kg_per_yr"].to_numpy(float), region, cells,
                                weights.matrices[sector])
        frames.append(pd.DataFrame({
            "sector": sector, "iso3": pts["iso3"].astype(str), "lon": pts["lon"], "lat": pts["lat"],
            "name": pts["name"].astype(str), "kind": pts["kind"].astype(str), "basis": pts["basis"].astype(str),
            "status": "operating", "closed_year": pd.Series(pd.NA, index=pts.index, dtype="Float64"),
            "co2_t_per_yr": pts["co2_kg_per_yr"].to_numpy(float) / KG_PER_T,
            "share": share}))
    air = spatial.airports
    if air is not None and len(air):
        a = air[air["iso3"].isin(regions) & (air["departures_domestic"] > 0)]
        dep = a["departures_domestic"].to_numpy(float)
        frames.append(pd.DataFrame({
            "sector": "domestic_aviation", "iso3": a["iso3"].astype(str).to_numpy(), "lon": a["lon"].to_numpy(),
            "lat": a["lat"].to_numpy(), "name": a["name"].astype(str).to_numpy() if "name" in a else "",
            "kind": "airport (scheduled domestic departures)", "basis": "traffic share",
            "status": "operating", "closed_year": pd.array([pd.NA] * len(a), dtype="Float64"),
            "co2_t_per_yr": np.nan,
            "share": dep / a.groupby("iso3")["departures_domestic"].transform("sum").to_numpy(float)}))
    frames.append(_closed_points(Path(data_dir), spatial.year, getattr(inputs, "jrc_plants", None)))
    out = pd.concat([f for f in frames if len(f)], ignore_index=True)
    out = _plant_level(out[list(FACILITY_COLUMNS)])[list(FACILITY_COLUMNS)]
    out["closed_year"] = pd.to_numeric(out["closed_year"], errors="coerce").astype("Float64")
    return out.sort_values(["iso3", "sector", "share"], ascending=[True, True, False]).reset_index(drop=True)


def _complete_years(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of each country's latest calendar year with 12 months (long table: iso3, period, variable, value)."""
    d = df.assign(year=df["period"].dt.year)
    months = d.groupby(["iso3", "year"])["period"].nunique()
    full = months[months == 12].reset_index().groupby("iso3")["year"].max()
    return d[d["year"] == d["iso3"].map(full)]


def power_mix_table(data_dir: Path) -> pd.DataFrame | None:
    """See the module doc; None when neither file ships."""
    from pipelines.measured_inputs import CM_MONTHLY, EMBER_MONTHLY, find

    frames = []
    p = find(data_dir, CM_MONTHLY)
    if p is not None:
        from ingest import cm_power

        gen = _complete_years(cm_power.read_cm_power_monthly(p))
        wide = gen.pivot_table(index=["iso3", "year"], columns="variable", values="value", aggfunc="sum")
        cols = {f"generation_{f}": f"{f}_twh" for f in ("coal", "gas", "oil", "fossil", "total")}
        mix = wide.reindex(columns=list(cols)).rename(columns=cols).reset_index()
        frames.append(mix[mix["iso3"].str.len() == 3])
    p = find(data_dir, EMBER_MONTHLY)
    if p is not None:
        from ingest import ember_api

        ov = _complete_years(ember_api.read_ember_overview(p))
        w = ov.pivot_table(index=["iso3", "year", "period"], columns="variable", values="value").reset_index()
        w["co2"] = w["demand"] * w["power_co2_intensity"]
        g = w.groupby("iso3").agg(intensity_year=("year", "first"), co2=("co2", "sum"), demand=("demand", "sum"))
        g["grid_t_per_mwh"] = g["co2"] / g["demand"] / 1000.0
        frames.append(g[["intensity_year", "grid_t_per_mwh"]].reset_index())
    if not frames:
        return None
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on="iso3", how="outer")
    return out.sort_values("iso3").reset_index(drop=True)


def release_tables(inputs: Any, regions: tuple[str, ...], weights: Any = None, grid: cc.Grid | None = None, *,
                   settings: Settings) -> dict[str, pd.DataFrame]:
    """All tables of :mod:`this module <pipelines.release_tables>` for a build's inputs, regions and (optional)
    downscaling weights on ``grid`` (facility shares are then capped by their cells, :func:`cell_capped`);
    ``settings``: the build's (closed facilities and power mix are read from its ``data_dir``)."""
    out = {HISTORY: history_table(inputs.gcb)}
    try:
        out[SECTOR_HISTORY] = sector_history_table(inputs, regions)
    except (KeyError, ValueError) as exc:  # a test build's minimal inputs: history by fuel only
        out[SECTOR_HISTORY + ".skipped"] = pd.DataFrame({"reason": [str(exc)]})
    data_dir = settings.data_dir
    fac = facility_table(inputs, regions, data_dir, weights, grid)
    if fac is not None:
        out[FACILITIES] = fac
    mix = power_mix_table(data_dir) if getattr(inputs, "spatial", None) is not None else None
    if mix is not None:
        out[POWER_MIX] = mix
    return {k: v for k, v in out.items() if not k.endswith(".skipped")}


def write_tables(target: str | Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write ``tables`` into the cube at ``target`` (a staged release, local or object store): each table's Parquet
    bytes as a 1-D uint8 Zarr array ``tables/<name>`` (one uncompressed chunk; attribute ``format: parquet``), so
    the release stays one Zarr hierarchy that every Zarr tool (and ``/zarr/``) can read."""
    if not tables:
        return
    import zarr

    from pipelines import store

    root = zarr.open_group(store=store.zarr_store(target), mode="r+")
    group = root.require_group(TABLES_DIR)
    group.attrs["description"] = ("tables the build used, as Parquet bytes (pipelines.release_tables): "
                                  + ", ".join(sorted(tables)))
    for name, df in tables.items():
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        data = np.frombuffer(buf.getvalue(), dtype=np.uint8)
        arr = group.create_array(name, shape=data.shape, chunks=data.shape, dtype="uint8", compressors=None,
                                 overwrite=True, attributes={"format": "parquet", "rows": len(df),
                                                             "columns": [str(c) for c in df.columns]})
        arr[:] = data

