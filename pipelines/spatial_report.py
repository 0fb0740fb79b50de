"""Write reports/spatial.md and .json: modelled province/state power against held-out statistics (issue #16.8).

    carbonmap spatial-report [--resolution 0.5] [--out reports]

For each country with subnational statistics in data/ (China: NBS thermal generation by province, turned into CO2
with each province's plant fuel mix; USA and India: Ember power-sector CO2 by state), the build's weights are
computed twice on the same grid: with the province level (the shipped model) and without it (the statistics held
out: facilities and population alone place the power sector). Province totals are read from the grid through
the exact coverage of the Natural Earth admin-1 polygons. The held-out run is the honest score of the facility
model; the with-statistics run shows what the first level adds (by construction close to the statistics).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from carbonmap import contract as cc
from nowcast import spatial_validation as sv
from nowcast.baseline import regions_of
from nowcast.subnational import generation_to_co2

if TYPE_CHECKING:
    from carbonmap.settings import Settings


def _province_totals(field: np.ndarray, level: Any) -> pd.Series:
    """Sum of a (cell,) field of one country over each of its provinces, kg CO2 yr-1.

    A cell's emissions are split among the country's provinces by their share of the cell's covered area, so a
    coastal cell (mostly sea) or a border cell gives all of the country's emissions in it to its provinces (by area
    alone, a coastal power station's cell would count only its land fraction)."""
    cov = level.coverage
    covered = np.bincount(cov.cell, weights=cov.fraction, minlength=field.size)
    share = cov.fraction / np.where(covered[cov.cell] > 0, covered[cov.cell], 1.0)
    vals = np.bincount(cov.region, weights=field[cov.cell] * share, minlength=len(level.ids))
    return pd.Series(vals, index=list(level.ids))


def _stats_as_co2(level: Any, stats: pd.Series, power_points: pd.DataFrame, grid: cc.Grid) -> pd.Series:
    """The statistic on the province ids, as CO2 where it is generation (same rule as the build)."""
    s = stats.reindex(list(level.ids)).fillna(0.0)
    if not level.generation:
        return s
    from nowcast.proxies import points_to_cells
    from nowcast.subnational import assign_points

    pts = power_points[power_points["iso3"] == level.country]
    cells = points_to_cells(grid, pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
    ok = cells >= 0
    prov = assign_points(cells[ok], level.coverage, grid.nlat * grid.nlon, grid.shape)
    w = pts["co2_kg_per_yr"].to_numpy(float)[ok]
    coal = pts["kind"].astype(str).str.startswith("coal").to_numpy()[ok]
    n = len(level.ids)
    c = np.bincount(prov[prov >= 0], weights=np.where(coal, w, 0.0)[prov >= 0], minlength=n)
    o = np.bincount(prov[prov >= 0], weights=np.where(coal, 0.0, w)[prov >= 0], minlength=n)
    return pd.Series(generation_to_co2(s.to_numpy(), c, o), index=s.index)


def _capacity_table(inputs: Any, root: Path) -> pd.DataFrame | None:
    """Listed fossil capacity (GEM coal units operating, GPPD gas/oil) against CM Power's fossil generation of the
    newest complete year, for the 45 countries CM Power covers; None without those files.  ``root``: the data dir."""
    from ingest import cm_power, gem_coal
    from nowcast.facilities import capacity_against_generation
    from pipelines.measured_inputs import CM_MONTHLY, find
    from pipelines.spatial_inputs import GEM_COAL, GEM_COAL_PARAMETERS

    cm = find(root, CM_MONTHLY)
    if cm is None or not (root / GEM_COAL).exists():
        return None
    gen = cm_power.read_cm_power_monthly(cm)
    gen = gen[gen["region"] == ""] if "region" in gen.columns else gen
    counts = gen[gen["variable"] == "generation_coal"].groupby(gen["period"].dt.year)["period"].nunique()
    year = int(max(y for y, n in counts.items() if n == 12))
    g = gen[gen["period"].dt.year == year].pivot_table(index="iso3", columns="variable", values="value", aggfunc="sum")
    g = g.loc[[i for i in g.index if i != "EU28"]]  # countries only
    table = pd.DataFrame({"iso3": g.index, "coal_twh": g.get("generation_coal", 0.0).to_numpy(),
                          "gas_oil_twh": (g.get("generation_gas", 0.0) + g.get("generation_oil", 0.0)).to_numpy()})
    units = gem_coal.operating_in(gem_coal.read_gem_coal_units(root / GEM_COAL, root / GEM_COAL_PARAMETERS), year)
    plants = inputs.plants
    out = capacity_against_generation(units, plants[plants["primary_fuel"].isin(["Gas", "Oil"])], table)
    out.attrs["year"] = year
    return out


def run(resolution: float = 0.25, out_dir: Path = Path("reports"), *, settings: Settings) -> dict[str, Any]:
    """Compute the figures, write ``spatial.md`` and ``spatial.json`` under ``out_dir``; returns the figures.
    ``settings``: the caller's (the CLI's), for the data and cache dirs."""
    from carbonmap.atomic import write_text_atomic
    from pipelines.inputs import load_inputs
    from pipelines.weights import build_weights, sector_annual_totals

    t0 = time.perf_counter()
    inputs = load_inputs(settings=settings)
    spatial = inputs.spatial
    if spatial is None or spatial.power_points is None or not spatial.province_stats.get("power"):
        raise ValueError("no subnational statistics or facilities in data/: nothing to validate")
    grid = cc.Grid(resolution)
    regions = regions_of(inputs.gcb)
    held_out = dataclasses.replace(inputs, spatial=dataclasses.replace(spatial, province_stats={}))  # all sectors
    runs = {"held_out": build_weights(held_out, grid, regions), "with_statistics": build_weights(inputs, grid, regions)}
    figures: dict[str, Any] = {"resolution": resolution, "countries": {}, "industry": {}}
    log_ratio: dict[str, pd.Series] = {}
    tables = []
    share_rows = []
    for sector in ("power", "industry"):
        total = sector_annual_totals(inputs, regions, sector)
        for level in spatial.provinces(grid, sector):
            iso3 = level.country
            stats, source = spatial.province_stats[sector][iso3]
            stats_co2 = (_stats_as_co2(level, stats, spatial.power_points, grid) if sector == "power"
                         else stats.reindex(list(level.ids)).fillna(0.0))
            j = regions.index(iso3)
            row: dict[str, Any] = {"statistic": source, "provinces": len(level.ids)}
            for name, w in runs.items():
                field = np.asarray(w.matrices[sector][:, j].toarray()).ravel() * total[j]
                model = _province_totals(field, level)
                row[name] = sv.agreement(model, stats_co2)
                if name == "held_out":
                    share_rows.append(sv.share_table(model, stats_co2, f"{iso3} {sector}"))
                if name == "held_out" and sector == "power":
                    log_ratio[iso3] = sv.log_ratios(model, stats_co2)
                    m, s = model / model.sum(), stats_co2 / stats_co2.sum()
                    tables.append(pd.DataFrame({"country": iso3, "province": level.ids, "model_share": m.to_numpy(),
                                                "statistic_share": s.reindex(level.ids).to_numpy()}))
            figures["countries" if sector == "power" else "industry"][iso3] = row
    loo = sv.leave_one_out(log_ratio)
    for iso3, v in loo.items():
        figures["countries"][iso3]["interval"] = v
    pooled = pd.concat(list(log_ratio.values()))
    figures["province_sigma_log"] = sv.calibrate_sigma(pooled)
    figures["coverage90_leave_one_country_out"] = float(np.mean([v["coverage90"] for v in loo.values()])) if loo \
        else float("nan")
    shares = pd.concat(share_rows, ignore_index=True)
    rule = sv.fit_share_rule(shares)
    loo_sets = sv.leave_one_set_out(shares)
    figures["share_interval_rule"] = {
        "s0": round(rule.s0, 4), "beta": rule.beta, "ref": rule.ref,
        "coverage90_leave_one_set_out": float(np.mean([v["coverage90"] for v in loo_sets.values()])),
        "sets": loo_sets, "n": len(shares)}
    capacity = _capacity_table(inputs, settings.data_dir)
    if capacity is not None:
        figures["capacity_against_generation"] = {
            "year": int(capacity.attrs["year"]),
            "countries": {k: {c: (None if pd.isna(v) else round(float(v), 3)) for c, v in row.items()}
                          for k, row in capacity.iterrows()}}
    figures["seconds"] = round(time.perf_counter() - t0, 1)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / "spatial.json", json.dumps(figures, indent=2))
    write_text_atomic(out_dir / "spatial.md", _markdown(figures, pd.concat(tables, ignore_index=True)))
    return figures


def _markdown(f: dict[str, Any], table: pd.DataFrame) -> str:
    lines = ["# Spatial validation: province and state power (and China's industry) against held-out statistics", "",
             (f"Written by `carbonmap spatial-report --resolution {f['resolution']}` ({f['seconds']} s). Shares of each "
             "country's power-sector CO2 by province/state. *Held out*: the build without the province level "
             "(facilities, then population); *with statistics*: the shipped build (province shares from the "
             "statistics, facilities inside each). Goals of issue #16 (measured at review against independent "
             "inventories, not these statistics): China's provinces rank correlation of power >= 0.9."), "",
             ("| country | statistic | n | held out: Spearman | median abs log ratio | within ±30 % | with statistics: "
             "Spearman | within ±30 % | 90 % interval coverage (sigma from the other countries) |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for iso3, r in f["countries"].items():
        h, w = r["held_out"], r["with_statistics"]
        iv = r.get("interval", {})
        lines.append(f"| {iso3} | {r['statistic']} | {h['n']} | {h['spearman']:.2f} | {h['median_abs_log_ratio']:.2f} | "
                     f"{h['within_30pct']:.0%} | {w['spearman']:.2f} | {w['within_30pct']:.0%} | "
                     f"{iv.get('coverage90', float('nan')):.0%} (σ {iv.get('sigma_from_others', float('nan')):.2f}) |")
    for iso3, r in f.get("industry", {}).items():
        h, w = r["held_out"], r["with_statistics"]
        lines.append(f"| {iso3} industry | {r['statistic']} | {h['n']} | {h['spearman']:.2f} | "
                     f"{h['median_abs_log_ratio']:.2f} | {h['within_30pct']:.0%} | {w['spearman']:.2f} | "
                     f"{w['within_30pct']:.0%} | — |")
    r = f["share_interval_rule"]
    lines += ["", "## Interval rule for regions inside a country (used by region and polygon queries)", "",
              (f"Log 1-sigma of a region's share f of its country's sector: σ(f) = {r['s0']:.3f} x (f / {r['ref']})^-"
               f"{r['beta']:.2f} x (1 - f), so a whole country has the national interval alone and small regions "
               "wider ones. Fitted on the held-out shares of every set below (each set weighted equally): the narrowest "
               "rule covering 90 % of each set. Leave-one-set-out 90 % coverage: "
               f"**{r['coverage90_leave_one_set_out']:.0%}** (goal 85-95 %)."), "",
              "| set | n | s0 from the others | beta | coverage |", "|---|---|---|---|---|"]
    for name, v in r["sets"].items():
        lines.append(f"| {name} | {v['n']} | {v['s0']:.3f} | {v['beta']:.2f} | {v['coverage90']:.0%} |")
    lines.append("")
    for share in (0.3, 0.1, 0.03, 0.01, 0.001):
        sig = r["s0"] * (share / r["ref"]) ** -r["beta"] * (1 - share)
        lines.append(f"- a region holding {share:.1%} of its country's sector: 90 % range x{math.exp(-1.645 * sig):.2f} "
                     f"to x{math.exp(1.645 * sig):.2f}.")
    cap = f.get("capacity_against_generation")
    if cap:
        lines += ["", f"## Listed fossil capacity against fossil generation ({cap['year']})", "",
                  ("GEM coal units operating in the year and WRI GPPD gas/oil plants, beside CM Power's generation "
                   "(`nowcast.facilities.capacity_against_generation`). Implied capacity factor = TWh / (GW x 8.76): "
                   "a coal factor far above 0.85 or a gas/oil factor far above 0.7 means the table misses plants "
                   "(their emissions then go by the proxy inside the country); far below, plants are listed that "
                   "barely run."), "",
                  "| country | coal GW | coal TWh | coal factor | gas+oil GW | gas+oil TWh | gas+oil factor |",
                  "|---|---|---|---|---|---|---|"]

        def fmt(v: float | None) -> str:
            return "—" if v is None else f"{v:,.2f}" if abs(v) < 10 else f"{v:,.0f}"

        for iso3, r in cap["countries"].items():
            lines.append(f"| {iso3} | {fmt(r['coal_gw'])} | {fmt(r['coal_twh'])} | {fmt(r['coal_capacity_factor'])} | "
                         f"{fmt(r['gas_oil_gw'])} | {fmt(r['gas_oil_twh'])} | {fmt(r['gas_oil_capacity_factor'])} |")
    lines += ["", (f"Earlier rule (one σ for all shares): σ = {f['province_sigma_log']:.2f} (1.4826 x median |log "
              "ratio|, power only, pooled); leave-one-country-out 90 % coverage "
              f"{f['coverage90_leave_one_country_out']:.0%}."), "",
              ("With statistics, the shares come from the statistics and would match them exactly on an infinitely fine "
              "grid; what remains is grid cells shared by two provinces (a plant's cell counts for each province by "
              "area). Only the held-out columns test the facility model. Provinces a statistic lacks are left out."), "",
              "## Per province (held out)", "", "| country | province | model share | statistic share |",
              "|---|---|---|---|"]
    for r in table.sort_values(["country", "statistic_share"], ascending=[True, False]).itertuples():
        lines.append(f"| {r.country} | {r.province} | {r.model_share:.3f} | {r.statistic_share:.3f} |")
    return "\n".join(lines) + "\n"
