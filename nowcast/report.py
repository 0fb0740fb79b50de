"""Backtest report: ``backtest.md`` (tables), ``backtest.json`` (every figure) and PNG plots.

Thin I/O at the edge of :mod:`nowcast.backtest`; every file is written to a temporary sibling
and renamed, so a reader never sees half a report.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from nowcast.backtest import GOALS

VINTAGE_PNG = "backtest_vintage_growth.png"
ROLLING_PNG = "backtest_rolling_mape.png"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _fmt(x: Any, nd: int = 2) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, bool):
        return "met" if x else "**not met**"
    if isinstance(x, (int, np.integer)):
        return str(x)
    return f"{x:.{nd}f}"


def _plot_vintage(vtab: pd.DataFrame, top: list[str], path: Path) -> None:
    t = vtab.loc[[c for c in top if c in vtab.index]]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    x = np.arange(len(t))
    ax.bar(x - 0.2, t["realised_growth_pct"], 0.4, label="realised (new vintage)", color="#444")
    ax.bar(x + 0.2, t["model_growth_pct"], 0.4, label="nowcast", color="#1f77b4")
    err = np.vstack([t["model_growth_pct"] - t["lower_growth_pct"], t["upper_growth_pct"] - t["model_growth_pct"]])
    ax.errorbar(x + 0.2, t["model_growth_pct"], yerr=err, fmt="none", ecolor="#1f77b4", alpha=0.6, capsize=2)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, list(t.index), rotation=60)
    ax.set_ylabel("growth, %")
    ax.set_title("Vintage test: nowcast vs realised growth, top emitters (90% intervals)")
    ax.legend()
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)


def _plot_rolling(figs: dict[str, Any], path: Path) -> None:
    m, p = figs["rolling_mape_by_year"], figs["rolling_persistence_mape_by_year"]
    years = sorted(m)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(years, [m[y] for y in years], "o-", label="nowcast")
    ax.plot(years, [p[y] for y in years], "s--", label="persistence")
    ax.set_xlabel("nowcast year")
    ax.set_ylabel("top-20 level MAPE, %")
    ax.set_title("Rolling-origin test")
    ax.legend()
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)


MODE_TEXT = {
    "none": "nothing (time-series model alone)",
    "window": "state-space exog fitted country by country over the indicator's span",
    "pooled": "one pooled elasticity of emissions to the activity index (country fixed effects, OLS on the "
              "years before each nowcast year), the local level fitted to the growth net of that effect",
}


def _mode_text(figs: dict[str, Any]) -> str:
    mode = figs.get("indicator_mode", "none")
    text = MODE_TEXT.get(mode, mode)
    b = figs.get("pooled_beta")
    if mode == "pooled" and b:
        text += f" (elasticity over all years before the last rolling year {_fmt(b['beta'])} +/- {_fmt(b['se'])}, n={b['n']})"
    return text


def _mode_lines(figs: dict[str, Any]) -> list[str]:
    """How the indicator mode was chosen, and every mode's scores (not used for the choice)."""
    sel = figs.get("indicator_mode_selection") or {}
    mape = sel.get("mape") or {}
    out: list[str] = []
    if mape:
        yrs = sel["years"]
        out += [(f"Indicator mode chosen on rolling origins {yrs[0]}-{yrs[1]} only (top-{sel['top_n']} MAPE: "
                 + ", ".join(f"{m} {_fmt(v)}%" for m, v in mape.items())
                 + f"); chosen: **{figs['indicator_mode']}**. In those years the window mode has too few "
                 "indicator years to fit and equals none."), ""]
    scores = figs.get("mode_scores")
    if scores:
        out += ["Every mode on the scored tests (shown for transparency; the choice above does not use them):", "",
                ("| indicator mode | vintage top-20 growth MAE, pp | global growth error, pp | rolling top-20 MAPE, % "
                 "| vintage coverage, % | rolling coverage, % |"), "|---|---|---|---|---|---|"]
        for m, v in scores.items():
            out.append(f"| {m}{' (chosen)' if m == figs.get('indicator_mode') else ''} | "
                       f"{_fmt(v['top20_growth_mae_pp'])} | {_fmt(v['global_growth_error_pp'])} | "
                       f"{_fmt(v['rolling_top20_mape'])} | {_fmt(100 * (v['vintage_coverage90'] or 0), 1)} | "
                       f"{_fmt(100 * (v['rolling_coverage90'] or 0), 1)} |")
        out.append("")
    return out


def render_markdown(figs: dict[str, Any], vtab: pd.DataFrame, rtab: pd.DataFrame) -> str:
    """The report text (GitHub markdown) from the figures and the per-country tables."""
    g = figs["goals"]
    y = figs["vintage_year"]
    old, new = figs["vintages"]["old"], figs["vintages"]["new"]
    lines = [
        "# carbonmap nowcast backtest",
        "",
        f"Vintage test: GCB{old} (through {y - 1}) -> nowcast {y}, scored on growth against GCB{new}. "
        f"Rolling-origin test within GCB{new}, {figs['rolling_years'][0]}-{figs['rolling_years'][1]}."
        + (" **Quick run (top 5, 3 rolling years): not the published figures.**" if figs.get("quick") else ""),
        "",
        ("Model: statsmodels UnobservedComponents (local level) on annual log growth, damped x0.6, "
        "chosen on rolling origins 1995-2009 only; 90% intervals from the state-space forecast variance. "
        f"Indicators used: {', '.join(figs['indicators']) or 'none (time-series model alone)'}; "
        f"they enter as {_mode_text(figs)}."),
        "",
        *_mode_lines(figs),
        "## Goals",
        "",
        "| goal | target | result | |",
        "|---|---|---|---|",
        (f"| vintage top-20 growth MAE | <= 1.5 pp | {_fmt(figs['top20_growth_mae_pp'])} pp | "
        f"{_fmt(g['vintage_top20_mae_met'])} |"),
        (f"| ... below persistence | >= 40% | {_fmt(100 * (g['improvement_vs_persistence'] or 0), 1)}% | "
        f"{_fmt(g['vintage_vs_persistence_met'])} |"),
        (f"| global growth error | <= 0.5 pp | {_fmt(figs['global_growth_error_pp'])} pp | "
        f"{_fmt(g['global_growth_met'])} |"),
        f"| rolling top-20 MAPE | <= 2% | {_fmt(figs['rolling_top20_mape'])}% | {_fmt(g['rolling_mape_met'])} |",
        (f"| ... below persistence | >= 30% | {_fmt(100 * (g['rolling_improvement_vs_persistence'] or 0), 1)}% | "
        f"{_fmt(g['rolling_vs_persistence_met'])} |"),
        (f"| 90% interval coverage | 85-95% | {_fmt(100 * figs['coverage90'], 1)}% (n={figs['coverage90_n']}) | "
        f"{_fmt(g['coverage_met'])} |"),
        "",
        f"## Vintage test ({y})",
        "",
        "| predictor | top-20 growth MAE, pp | global growth error, pp |",
        "|---|---|---|",
        f"| nowcast (state space) | {_fmt(figs['top20_growth_mae_pp'])} | {_fmt(figs['global_growth_error_pp'])} |",
        (f"| persistence | {_fmt(figs['persistence_top20_growth_mae_pp'])} | "
        f"{_fmt(figs['persistence_global_growth_error_pp'])} |"),
        f"| 5-year linear trend | {_fmt(figs['trend5_top20_growth_mae_pp'])} | {_fmt(figs['trend5_global_growth_error_pp'])} |",
        f"| Carbon Monitor ratio (n={figs['cm_ratio_top20_n']}) | {_fmt(figs['cm_ratio_top20_growth_mae_pp'])} | n/a |",
        f"| *reference: told the realised world growth* | {_fmt(figs.get('oracle_world_top20_growth_mae_pp'))} | 0 (given) |",
        "",
        (f"Global realised growth {_fmt(figs['global_realised_growth_pct'])}%; nowcast bottom-up "
        f"{_fmt(figs['global_model_growth_pct'])}%, direct on the Global series "
        f"{_fmt(figs.get('global_direct_growth_pct'))}%. Interval coverage over all "
        f"{figs['vintage_coverage90_n']} entities: {_fmt(100 * (figs['vintage_coverage90'] or 0), 1)}%."),
        "",
        "### Published anchor: GCB2024 projection for 2024, scored the same way",
        "",
        "| region | GCB2024 projection, % | realised (new vintage), % | projection error, pp | nowcast, % | nowcast error, pp |",
        "|---|---|---|---|---|---|",
    ]
    for iso, a in figs["gcb2024_projection"].items():
        lines.append(f"| {iso} | {_fmt(a['projection_pct'], 1)} | {_fmt(a['realised_pct'])} | "
                     f"{_fmt(a['projection_error_pp'])} | {_fmt(a['model_growth_pct'])} | {_fmt(a['model_error_pp'])} |")
    lines += [
        "",
        (f"Mean absolute error over CHN, USA, IND: GCB2024 projection {_fmt(figs['gcb2024_projection_country_mae_pp'])} pp, "
        f"nowcast {_fmt(figs['model_same_countries_mae_pp'])} pp."),
        "",
        f"![vintage]({VINTAGE_PNG})",
        "",
        "### Top emitters",
        "",
        "| iso3 | realised, % | nowcast, % | 90% interval, % | persistence err, pp | trend5, % | CM ratio, % |",
        "|---|---|---|---|---|---|---|",
    ]
    for iso in figs["top20"]:
        r = vtab.loc[iso]
        lines.append(f"| {iso} | {_fmt(r['realised_growth_pct'])} | {_fmt(r['model_growth_pct'])} | "
                     f"{_fmt(r['lower_growth_pct'], 1)} .. {_fmt(r['upper_growth_pct'], 1)} | "
                     f"{_fmt(-r['realised_growth_pct'])} | {_fmt(r['trend5_growth_pct'])} | {_fmt(r['cm_ratio_growth_pct'])} |")
    lines += [
        "",
        f"## Rolling-origin test ({figs['rolling_years'][0]}-{figs['rolling_years'][1]}, n={figs['rolling_n']})",
        "",
        "| predictor | top-20 level MAPE, % | growth MAE, pp |",
        "|---|---|---|",
        f"| nowcast (state space) | {_fmt(figs['rolling_top20_mape'])} | {_fmt(figs['rolling_model_growth_mae_pp'])} |",
        f"| persistence | {_fmt(figs['rolling_persistence_top20_mape'])} | {_fmt(figs['rolling_persistence_growth_mae_pp'])} |",
        f"| 5-year linear trend | {_fmt(figs['rolling_trend5_top20_mape'])} | {_fmt(figs['rolling_trend5_growth_mae_pp'])} |",
        (f"| Carbon Monitor ratio (n={figs['rolling_cm_ratio_n']}) | {_fmt(figs['rolling_cm_ratio_top20_mape'])} | "
        f"{_fmt(figs['rolling_cm_ratio_growth_mae_pp'])} |"),
        (f"| *reference: told the realised world growth* | {_fmt(figs.get('rolling_oracle_world_top20_mape'))} | "
        f"{_fmt(figs.get('rolling_oracle_world_growth_mae_pp'))} |"),
        "",
        ("The reference rows are not forecasts: every country is given the world's realised growth of the "
         f"year it predicts. They score {_fmt(figs.get('rolling_oracle_world_top20_mape'))}% here (goal <= "
         f"{GOALS['rolling_top20_mape']:g}%) and {_fmt(figs.get('oracle_world_top20_growth_mae_pp'))} pp in "
         f"the vintage test (goal <= {GOALS['top20_growth_mae_pp']:g} pp). What they miss is the part of a "
         "country's year that is its own (weather, hydro and nuclear output, fuel switching, industry), which "
         "only in-year national activity data (monthly fuel use, power generation by fuel, industrial output) "
         "can see; the shipped inputs have such data for the USA only (EIA-930), plus temperatures for 177 "
         "countries."),
        "",
        (f"Without 2020 (COVID): nowcast {_fmt(figs['rolling_top20_mape_excl_2020'])}%, persistence "
        f"{_fmt(figs['rolling_persistence_top20_mape_excl_2020'])}%. "
        f"Rolling 90% interval coverage {_fmt(100 * figs['rolling_coverage90'], 1)}%."),
        "",
        f"![rolling]({ROLLING_PNG})",
        "",
        "| year | nowcast MAPE, % | persistence MAPE, % |",
        "|---|---|---|",
    ]
    for yr in sorted(figs["rolling_mape_by_year"]):
        lines.append(f"| {yr} | {_fmt(figs['rolling_mape_by_year'][yr])} | "
                     f"{_fmt(figs['rolling_persistence_mape_by_year'][yr])} |")
    lines += ["", f"Run time {figs['seconds']:.1f} s.", ""]
    return "\n".join(lines)


def write_report(figs: dict[str, Any], vtab: pd.DataFrame, rtab: pd.DataFrame, out_dir: Path) -> tuple[Path, Path]:
    """Write backtest.md, backtest.json and the two PNG plots into ``out_dir``; returns (md, json)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _plot_vintage(vtab, figs["top20"], out_dir / VINTAGE_PNG)
    _plot_rolling(figs, out_dir / ROLLING_PNG)
    md, js = out_dir / "backtest.md", out_dir / "backtest.json"
    _atomic_write(js, json.dumps(_jsonable(figs), indent=2, sort_keys=True).encode())
    _atomic_write(md, render_markdown(figs, vtab, rtab).encode())
    return md, js
