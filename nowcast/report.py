"""Backtest report: ``backtest.md`` (tables), ``backtest.json`` (every figure) and PNG plots.

Thin I/O at the edge of :mod:`nowcast.backtest`; every file is written to a temporary sibling
and renamed, so a reader never sees half a report.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from carbonmap.atomic import write_bytes_atomic
from nowcast.backtest import GOALS

VINTAGE_PNG = "backtest_vintage_growth.png"
ROLLING_PNG = "backtest_rolling_mape.png"
ASOF_PNG = "backtest_asof_growth.png"


def _atomic_write(path: Path, data: bytes) -> None:
    write_bytes_atomic(path, data)


def _save_figure(fig: Any, path: Path) -> None:
    """Lay out, render to PNG bytes and write atomically; closes the figure."""
    import io

    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, dpi=90, format="png")
    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())


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
    _save_figure(fig, path)


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
    _save_figure(fig, path)


def _plot_asof(atabs: dict[str, pd.DataFrame], top: list[str], path: Path) -> None:
    nov, mar = atabs["asof_nov"], atabs["asof_mar"]
    t = [c for c in top if c in nov.index]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    x = np.arange(len(t))
    ax.bar(x - 0.27, nov.loc[t, "realised_pct"], 0.27, label="realised (GCB2025v15)", color="#444")
    for k, (tab, lab, col) in enumerate(((nov, "as of 2024-11-13", "#1f77b4"), (mar, "as of 2025-03-01", "#2ca02c"))):
        r = tab.loc[t]
        err = np.vstack([r["pred_pct"] - r["lower_pct"], r["upper_pct"] - r["pred_pct"]])
        ax.bar(x + 0.27 * k, r["pred_pct"], 0.27, label=lab, color=col)
        ax.errorbar(x + 0.27 * k, r["pred_pct"], yerr=err, fmt="none", ecolor=col, alpha=0.6, capsize=2)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, t, rotation=60)
    ax.set_ylabel("2024 growth, %")
    ax.set_title("2024 nowcast from the data published by each day vs realised growth (90% intervals)")
    ax.legend()
    _save_figure(fig, path)


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


def render_markdown(figs: dict[str, Any], vtab: pd.DataFrame, rtab: pd.DataFrame,
                    atabs: dict[str, pd.DataFrame] | None = None) -> str:
    """The report text (GitHub markdown) from the figures and the per-country tables."""
    g = figs["goals"]
    y = figs["vintage_year"]
    old, new = figs["vintages"]["old"], figs["vintages"]["new"]
    lines = [
        "# carbonmap nowcast backtest",
        "",
        f"Vintage test: GCB{old} (through {y - 1}) -> nowcast {y}, scored on growth against GCB{new}. "
        f"Rolling-origin test within GCB{new}, {figs['rolling_years'][0]}-{figs['rolling_years'][1]}."
        + (" As-of tests (only the data published by each day): 2024 as of 2024-11-13 and 2025-03-01, rolling "
           "origins as of each 13 November, 2025 beside GCB 2025's projection." if "asof_goals" in figs else "")
        + (" **Quick run (top 5, 3 rolling years): not the published figures.**" if figs.get("quick") else "")
        + f" Generated by `carbonmap backtest{' --quick' if figs.get('quick') else ''}`.",
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
        *(asof_goal_rows(figs) if "asof_goals" in figs else []),
        "",
        *(render_asof(figs, atabs) if "asof_goals" in figs and atabs is not None else []),
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


def write_report(figs: dict[str, Any], vtab: pd.DataFrame, rtab: pd.DataFrame, out_dir: Path,
                 atabs: dict[str, pd.DataFrame] | None = None) -> tuple[Path, Path]:
    """Write backtest.md, backtest.json and the PNG plots (two, three with the as-of tables ``atabs``) into
    ``out_dir``; returns (md, json)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _plot_vintage(vtab, figs["top20"], out_dir / VINTAGE_PNG)
    _plot_rolling(figs, out_dir / ROLLING_PNG)
    if atabs is not None:
        _plot_asof(atabs, figs["top20"], out_dir / ASOF_PNG)
    md, js = out_dir / "backtest.md", out_dir / "backtest.json"
    _atomic_write(js, json.dumps(_jsonable(figs), indent=2, sort_keys=True).encode())
    _atomic_write(md, render_markdown(figs, vtab, rtab, atabs).encode())
    return md, js


def asof_goal_rows(f: dict[str, Any]) -> list[str]:
    """The as-of goals (issue #15 point 7) as rows of the goal table; 'met' only from ``f['asof_goals']``."""
    from nowcast.asof import ASOF_GOALS as G

    g = f["asof_goals"]
    gcb = _fmt(f["gcb_projection_cn_us_in_mae_pp"])
    lo, hi = G["asof_coverage90"]
    return [
        (f"| as of {f['asof_nov_as_of']}: 2024 top-20 growth MAE | <= {G['asof_nov_top20_growth_mae_pp']:g} pp "
         f"(persistence {_fmt(f['asof_nov_persistence_top20_growth_mae_pp'])}) | "
         f"{_fmt(f['asof_nov_top20_growth_mae_pp'])} pp | {_fmt(g['asof_nov_top20_met'])} |"),
        (f"| as of {f['asof_nov_as_of']}: 2024 global growth error | <= {G['asof_nov_global_growth_error_pp']:g} pp | "
         f"{_fmt(f['asof_nov_global_growth_error_pp'])} pp | {_fmt(g['asof_nov_global_met'])} |"),
        (f"| as of {f['asof_nov_as_of']}: CHN, USA, IND growth MAE | below GCB2024's projection error {gcb} pp | "
         f"{_fmt(f['asof_nov_cn_us_in_mae_pp'])} pp | {_fmt(g['asof_nov_cn_us_in_below_gcb_met'])} |"),
        (f"| as of {f['asof_nov_as_of']}: CHN, USA, IND, EU27 growth MAE | below GCB2024's projection error "
         f"{gcb} pp (CHN, USA, IND) | {_fmt(f['asof_nov_cn_us_in_eu_mae_pp'])} pp | "
         f"{_fmt(g['asof_nov_cn_us_in_eu_below_gcb_met'])} |"),
        (f"| as of {f['asof_mar_as_of']}: 2024 top-20 growth MAE | <= {G['asof_mar_top20_growth_mae_pp']:g} pp | "
         f"{_fmt(f['asof_mar_top20_growth_mae_pp'])} pp | {_fmt(g['asof_mar_top20_met'])} |"),
        (f"| rolling as of 13 November {f['rolling_asof_years'][0]}-{f['rolling_asof_years'][1]}: top-20 level "
         f"MAPE | <= {G['rolling_asof_top20_mape']:g}% | {_fmt(f['rolling_asof_top20_mape'])}% | "
         f"{_fmt(g['rolling_asof_mape_met'])} |"),
        (f"| as-of 90% interval coverage (tests 1-3 pooled) | {100 * lo:.0f}-{100 * hi:.0f}% | "
         f"{_fmt(100 * f['asof_coverage90'], 1)}% (n={f['asof_coverage90_n']}) | {_fmt(g['asof_coverage_met'])} |"),
    ]


def _pct(x: Any) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:+.2f}"


def _asof_2024(f: dict[str, Any], prefix: str) -> list[str]:
    """Predictor table and region table of one 2024 as-of test."""
    regs = f[f"{prefix}_regions"]
    glob_gcb = _fmt(f["gcb_projection_global_growth_error_pp"])
    out = ["| predictor | top-20 growth MAE, pp | global growth error, pp | CHN+USA+IND MAE, pp | CHN+USA+IND+EU27 MAE, pp |",
           "|---|---|---|---|---|",
           (f"| as-of nowcast (ratio method + model) | {_fmt(f[f'{prefix}_top20_growth_mae_pp'])} | "
            f"{_fmt(f[f'{prefix}_global_growth_error_pp'])} | {_fmt(f[f'{prefix}_cn_us_in_mae_pp'])} | "
            f"{_fmt(f[f'{prefix}_cn_us_in_eu_mae_pp'])} |"),
           (f"| annual model alone (no activity data) | {_fmt(f[f'{prefix}_model_top20_growth_mae_pp'])} | "
            f"{_fmt(f[f'{prefix}_model_global_growth_error_pp'])} | {_fmt(f[f'{prefix}_model_cn_us_in_mae_pp'])} | "
            f"{_fmt(float(np.mean([abs(r['model_pct'] - r['realised_pct']) for r in regs.values()])))} |"),
           (f"| persistence (growth 0) | {_fmt(f[f'{prefix}_persistence_top20_growth_mae_pp'])} | "
            f"{_fmt(f[f'{prefix}_persistence_global_growth_error_pp'])} | "
            f"{_fmt(float(np.mean([abs(regs[k]['realised_pct']) for k in ('CHN', 'USA', 'IND')])))} | "
            f"{_fmt(float(np.mean([abs(r['realised_pct']) for r in regs.values()])))} |"),
           (f"| GCB2024's projection (published 2024-11-13) | n/a | {glob_gcb} | "
            f"{_fmt(f['gcb_projection_cn_us_in_mae_pp'])} | {_fmt(f['gcb_projection_cn_us_in_eu_mae_pp'])} |"),
           "",
           "| region | realised (GCB2025v15), % | as-of nowcast, % | model alone, % | GCB2024 projection, % |",
           "|---|---|---|---|---|",
           (f"| World (countries + bunkers) | {_pct(f[f'{prefix}_global_realised_growth_pct'])} | "
            f"{_pct(f[f'{prefix}_global_growth_pct'])} | {_pct(f[f'{prefix}_model_global_growth_pct'])} | "
            f"{_pct(f['gcb_projection_global_growth_pct'])} |")]
    for k, r in regs.items():
        out.append(f"| {k} | {_pct(r['realised_pct'])} | {_pct(r['pred_pct'])} | {_pct(r['model_pct'])} | "
                   f"{_pct(r['gcb_projection_pct'])} |")
    return out + [""]


def render_asof(f: dict[str, Any], atabs: dict[str, pd.DataFrame]) -> list[str]:
    """The as-of section of the report (issue #15 point 7): method, lags, the four tests and their baselines."""
    from nowcast.asof import MIN_OBSERVED_MONTHS, SIGMA_PER_MONTH, SIGMA_RATIO

    cal = f["asof_calibration_years"]
    lines = [
        "## As-of tests: only what was published by each day",
        "",
        ("Each nowcast uses the annual inventory known on its day and the monthly activity series cut to the months "
         "published by then (month end + the source's registered publication lag). For each country, prediction = "
         "total(Y-1) x (sum over measured sectors of w_s g_s + (1 - sum w_s) g_model): g_s is the ratio of the "
         "sector's activity in Y (months past the data edge carried at the year-to-date growth, as the build does: "
         "`nowcast.measured.extend_monthly`) to its activity in Y-1; g_model is the annual model alone (no annual "
         "indicators: a whole year's degree days are not known in November). A sector counts as measured when all "
         f"12 months of Y-1 and at least {MIN_OBSERVED_MONTHS} month of Y are published. Weights: the power share of "
         "Y-1 from the measured power series itself (sum of its months / the inventory total), else the build's "
         "per-year split of Y-1; the other sectors' shares come from the current split "
         "(`pipelines.measured_inputs.load_split`)."),
        "",
        ("90% interval: relative sigma sqrt(((1 - W) s_model)^2 + sum_s (w_s s_s)^2), s_model the annual model's, "
         f"s_s = sqrt({SIGMA_RATIO:g}^2 + ({SIGMA_PER_MONTH:g} x extended months)^2), times ONE scale "
         f"{_fmt(f['asof_interval_scale'], 3)} calibrated to 90% on the rolling origins {cal[0]}-{cal[1]} as of each "
         f"13 November (n={f['asof_calibration_n']}, before every scored year; the model's own interval covered "
         f"{_fmt(100 * f['asof_calibration_coverage90_model_alone'], 1)}% there)."),
        "",
        ("**Look-ahead the tests cannot avoid.** (1) Only two GCB vintages ship: the rolling origins take GCB2025v15 "
         "values up to Y-1, so revisions of earlier years made after Y-11-13 are known to them. (2) The activity "
         "files are today's vintages: later revisions of a published month are used as if published on time. (3) "
         "The non-power sector weights come from the current split (EDGAR v7.0 2021, CEADs 2019 for China, counted "
         "flights), partly published after the earlier origins: a look-ahead on weights only. Not a look-ahead: the "
         "realised values are GCB2025v15's and nothing is tuned on a scored year."),
        "",
        "### Publication lags of the sources used",
        "",
        "| source | registry key | lag, days after the month ends | sectors | countries |",
        "|---|---|---|---|---|",
    ]
    for r in f.get("publication_lags", []):
        lines.append(f"| {r['source']} | `{r['key']}` | {r['lag_days']} | {', '.join(r['sectors'])} | {r['countries']} |")
    lines += [
        ("| GCB national inventory (annual) | - | year Y-1 published with the budget in November of Y (origins as of "
         "13 November, GCB2024's release day) | all | all |"),
        "",
        ("China's NBS publishes January together with February (applied). Lags from "
         "`ingest.activity.PUBLICATION_LAG_DAYS`, registered by each adapter."),
        "",
    ]
    for prefix, title in (("asof_nov", "Test 1: 2024 as of"), ("asof_mar", "Test 2: 2024 as of")):
        lines += [f"### {title} {f[f'{prefix}_as_of']}", "",
                  (f"Inventory GCB2024v17 (through 2023); growth scored against GCB2025v15. Mean measured share of the "
                   f"top {f[f'{prefix}_top20_n']}: {_fmt(100 * f[f'{prefix}_top20_measured_share'], 1)}%; world = {f[f'{prefix}_global_countries']} "
                   f"countries + XIA + XIS."), ""]
        lines += _asof_2024(f, prefix)
    nov, mar = atabs["asof_nov"], atabs["asof_mar"]
    lines += [f"![as-of growth]({ASOF_PNG})", "",
              "Top emitters (growth, %; months observed = months of 2024 published, weighted over the measured sectors):",
              "",
              ("| iso3 | realised | as of Nov | 90% interval | as of Mar | model alone | measured share | months "
               "observed (Nov/Mar) | measured sectors |"), "|---|---|---|---|---|---|---|---|---|"]
    for iso in [c for c in f["top20"] if c in nov.index]:
        r, m = nov.loc[iso], mar.loc[iso]
        lines.append(f"| {iso} | {_pct(r['realised_pct'])} | {_pct(r['pred_pct'])} | {_fmt(r['lower_pct'], 1)} .. "
                     f"{_fmt(r['upper_pct'], 1)} | {_pct(m['pred_pct'])} | {_pct(r['model_pct'])} | "
                     f"{_fmt(r['measured_share'])} | {_fmt(r['months_observed'], 1)}/{_fmt(m['months_observed'], 1)} | "
                     f"{r['measured_sectors'] or '-'} |")
    ry = f["rolling_asof_years"]
    lines += ["", f"### Test 3: rolling origins {ry[0]}-{ry[1]}, each year as of its 13 November (n={f['rolling_asof_n']})",
              "",
              "| predictor | top-20 level MAPE, % | growth MAE, pp |", "|---|---|---|",
              f"| as-of nowcast | {_fmt(f['rolling_asof_top20_mape'])} | {_fmt(f['rolling_asof_growth_mae_pp'])} |",
              (f"| annual model alone | {_fmt(f['rolling_asof_model_top20_mape'])} | "
               f"{_fmt(f['rolling_asof_model_growth_mae_pp'])} |"),
              (f"| persistence | {_fmt(f['rolling_asof_persistence_top20_mape'])} | "
               f"{_fmt(f['rolling_asof_persistence_growth_mae_pp'])} |"),
              "", "| year | as-of MAPE, % | model alone, % | persistence, % | mean measured share |", "|---|---|---|---|---|"]
    roll = atabs["rolling_asof"]
    for yr, grp in roll.groupby("year"):
        a = grp["actual"]
        lines.append(f"| {yr} | {_fmt(((grp['pred'] / a - 1).abs() * 100).mean())} | "
                     f"{_fmt(((grp['model'] / a - 1).abs() * 100).mean())} | "
                     f"{_fmt(((grp['last'] / a - 1).abs() * 100).mean())} | {_fmt(grp['measured_share'].mean())} |")
    lines += ["", (f"Before 2019-2020 few series cover a whole year Y-1 (Carbon Monitor Power starts in 2019; China's "
                   f"industry and India's fuel sales go back further), so those origins are mostly the model. Rolling "
                   f"90% coverage {_fmt(100 * f['rolling_asof_coverage90'], 1)}%."), ""]
    lines += [f"### Test 4: 2025 as of {f['nowcast_2025_as_of']} beside GCB 2025's projection", "",
              ("A comparison with a published estimate, not a truth: GCB 2025's projection for 2025 (released "
               "2025-11-13) is itself a nowcast. carbonmap's inventory is GCB2025v15 (through 2024) plus every shipped "
               "monthly series; growth vs 2024 of GCB2025v15 (the projection file's own 2024 row has the same values). "
               "Interval bounds of aggregates are sums of country bounds (full correlation assumed)."), "",
              ("| region | 2024, Mt | carbonmap 2025, Mt | 90% interval, Mt | carbonmap growth, % | model alone, % | "
               "measured share | GCB 2025 projection, Mt | GCB growth, % |"), "|---|---|---|---|---|---|---|---|---|"]
    names = {"XBK": "Bunkers (XIA + XIS)", "ROW": "Rest of world", "WLD": "World"}
    for r in f["nowcast_2025"]:
        lines.append(f"| {names.get(r['region'], r['region'])} | {r['mt_2024']:.0f} | {r['carbonmap_mt']:.0f} | "
                     f"{r['carbonmap_lower_mt']:.0f} .. {r['carbonmap_upper_mt']:.0f} | "
                     f"{_pct(r['carbonmap_growth_pct'])} | {_pct(r['model_growth_pct'])} | {_fmt(r['measured_share'])} | "
                     f"{_fmt(r['gcb_projection_mt'], 0)} | {_pct(r['gcb_projection_growth_pct'])} |")
    lines += ["", (f"As-of 90% interval coverage, pooled over the top 20 of tests 1 and 2 and the rolling origins: "
                   f"{_fmt(100 * f['asof_coverage90'], 1)}% (n={f['asof_coverage90_n']}); over every country of test 1: "
                   f"{_fmt(100 * f['asof_nov_coverage90_all_countries'], 1)}%, test 2: "
                   f"{_fmt(100 * f['asof_mar_coverage90_all_countries'], 1)}%."), ""]
    return lines
