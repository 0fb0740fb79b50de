"""Backtest of the annual national nowcast against later GCB data (pure tables in, dict out).

Two tests (issue 4):

- **Vintage test**: from the old vintage (e.g. GCB2024v17, data through 2023) plus the target year's
  indicators, nowcast the next year for every country and score the predicted growth
  (prediction / old-vintage last year - 1) against the realised growth in the new vintage
  (new[Y] / new[Y-1] - 1), in percentage points.  Growth, not levels: levels get revised between
  vintages.  Top 20 = the 20 largest emitters in the old vintage's last year (WLD, XIA, XIS excluded).
- **Rolling-origin test** within the new vintage: for each year 2010-2023, nowcast from the years
  before it; score level MAPE and growth error over that origin's top 20.

Every score is reported for the model and the baselines (persistence, 5-year linear trend, and the
Carbon Monitor ratio method where indicators exist), plus the published GCB2024 projection for 2024.
The as-of tests of issue #15 point 7 (only the data published by each day) are :mod:`nowcast.asof`, run by
:func:`run_backtest` when given ``asof`` inputs.

Inputs are :func:`ingest.gcb.read_gcb` tables (``iso3, year, total`` in Mt CO2 yr-1).  Optional
``indicators``: index (iso3, year), columns among ``hdd``, ``cdd`` (degC day yr-1),
``power_demand`` (MWh yr-1, EIA-930) and ``power_fossil`` (fossil generation, MWh yr-1, Ember);
optional ``shares``: index iso3, columns NATIONAL_SECTORS (sum 1).

How the indicators enter the model (``indicator_mode``): ``none``; ``window`` (country-by-country
state-space exog over the indicator's span, :func:`nowcast.models.nowcast_annual`); ``pooled`` (one
elasticity for all countries from years before the nowcast year,
:func:`nowcast.models.pooled_indicator_beta`).  ``auto`` picks the mode with the lowest top-20 MAPE
on the rolling origins :data:`SELECTION_YEARS` (2002-2009, before every scored year; the ERA5 degree
days start in 2000 so no earlier origin has indicator changes).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonmap.errors import InvalidInput
from nowcast.indicators import POWER_CDD_SENSITIVITY, POWER_HDD_SENSITIVITY, RESIDENTIAL_BASE_SHARE
from nowcast.models import (
    AnnualNowcast,
    carbon_monitor_ratio,
    linear_trend,
    nowcast_annual,
    persistence,
    pooled_indicator_beta,
)
from nowcast.uncertainty import coverage

PSEUDO = ("WLD", "XIA", "XIS")
TOP_N = 20
ROLLING_YEARS = tuple(range(2010, 2024))
GCB2024_PROJECTION: dict[str, tuple[float, float]] = {
    "WLD": (0.8, 1.3),
    "CHN": (0.2, 1.0),
    "USA": (-0.6, -0.3),
    "IND": (4.6, 4.3),
}
"""GCB2024's published projection for 2024 and the realised growth as published (percent)."""
GOALS: dict[str, Any] = {
    "top20_growth_mae_pp": 1.5,
    "improvement_vs_persistence": 0.40,
    "global_growth_error_pp": 0.5,
    "rolling_top20_mape": 2.0,
    "rolling_improvement_vs_persistence": 0.30,
    "coverage90": (0.85, 0.95),
}


class BacktestError(InvalidInput):
    """The GCB tables cannot be backtested (missing columns, no overlapping years)."""


def wide_totals(gcb: pd.DataFrame) -> pd.DataFrame:
    """GCB long table -> wide (iso3 x year) of ``total`` Mt CO2 yr-1."""
    need = {"iso3", "year", "total"}
    if not need <= set(gcb.columns):
        raise BacktestError(f"GCB table lacks columns {sorted(need - set(gcb.columns))}")
    return gcb.pivot_table(index="iso3", columns="year", values="total", aggfunc="first").sort_index()


def top_emitters(wide: pd.DataFrame, year: int, n: int = TOP_N) -> list[str]:
    """The ``n`` largest emitters in ``year`` (WLD, XIA, XIS excluded), largest first."""
    if year not in wide.columns:
        raise BacktestError(f"year {year} is not in the GCB table")
    s = wide[year].drop(list(PSEUDO), errors="ignore").dropna()
    return list(s.sort_values(ascending=False).head(n).index)


def sector_activity(ind: pd.DataFrame) -> pd.DataFrame:
    """Annual sector activity indices from annual indicators, index like ``ind``, dimensionless.

    residential = base share + (1 - base share) * HDD / country-mean HDD; power = observed fossil
    generation (``power_fossil``) when the country has it, else observed demand (``power_demand``),
    else the documented fallback 1 + k_h * HDD/365 + k_c * CDD/365 (mean-day degree days).
    Columns: ``power``, ``residential`` (NaN where the inputs are missing).
    """
    out = pd.DataFrame(index=ind.index)
    if "hdd" in ind:
        mean_hdd = ind["hdd"].groupby(level=0).transform("mean")
        out["residential"] = np.where(mean_hdd > 0, RESIDENTIAL_BASE_SHARE
                                      + (1 - RESIDENTIAL_BASE_SHARE) * ind["hdd"] / mean_hdd.where(mean_hdd > 0), 1.0)
    fallback = None
    if "hdd" in ind or "cdd" in ind:
        h = ind.get("hdd", 0.0)
        c = ind.get("cdd", 0.0)
        fallback = 1.0 + POWER_HDD_SENSITIVITY * h / 365.0 + POWER_CDD_SENSITIVITY * c / 365.0
    power = pd.Series(np.nan, index=ind.index) if fallback is None else pd.Series(fallback, index=ind.index)
    # observed power, best first: fossil generation (Ember) > demand (EIA-930) > the degree-day fallback.
    # Scale-free: only year-on-year ratios are used, and per country one source throughout.
    for col in ("power_demand", "power_fossil"):
        if col in ind and ind[col].notna().any():
            has = ind[col].groupby(level=0).transform(lambda s: s.notna().any()).astype(bool)
            power = power.where(~has, ind[col])
    if power.notna().any():
        out["power"] = power
    return out


def _activity_index(activity: pd.DataFrame, shares: pd.Series | None) -> pd.Series:
    """One country's emission-weighted activity index by year, sum_s share_s * a_s / mean(a_s)."""
    cols = [c for c in activity.columns if activity[c].notna().any()]
    if not cols:
        return pd.Series(dtype="float64")
    rel = activity[cols] / activity[cols].mean()
    w = pd.Series({c: float(shares[c]) if shares is not None and c in shares else 0.2 for c in cols})
    rest = max(0.0, 1.0 - float(w.sum()))
    return rest + (rel * w).sum(axis=1, min_count=len(cols))


def _cm_ratio(last: float, year: int, activity: pd.DataFrame | None, shares: pd.Series | None) -> float:
    """Carbon Monitor ratio nowcast of ``year`` from ``year-1``: sector baseline x activity ratio."""
    if activity is None or year not in activity.index or (year - 1) not in activity.index:
        return float("nan")
    cols = [c for c in activity.columns if np.isfinite(activity.loc[year, c]) and np.isfinite(activity.loc[year - 1, c])]
    if not cols:
        return float("nan")
    sh = shares if shares is not None else pd.Series({c: 0.2 for c in cols})
    base = np.array([last * float(sh.get(c, 0.0)) for c in cols])
    est = carbon_monitor_ratio(base, activity.loc[year, cols].to_numpy(float), activity.loc[year - 1, cols].to_numpy(float))
    return float(last - base.sum() + est.sum())


def activity_indices(indicators: pd.DataFrame | None, shares: pd.DataFrame | None
                     ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Per country: the sector activity table (year x sector) and the emission-weighted activity index.

    Returns ``(activity by iso3, index)`` where ``index`` is (iso3 x year), dimensionless (NaN where
    absent).  Computed once per backtest (the indicator table covers every country).
    """
    if indicators is None or indicators.empty:
        return {}, pd.DataFrame()
    act_all = sector_activity(indicators)
    acts: dict[str, pd.DataFrame] = {}
    rows: dict[str, pd.Series] = {}
    for iso, act in act_all.groupby(level=0, sort=True):
        act = act.droplevel(0)
        act.index = act.index.astype(int)
        acts[str(iso)] = act
        sh = shares.loc[iso] if shares is not None and iso in shares.index else None
        idx = _activity_index(act, sh)
        if len(idx):
            rows[str(iso)] = idx
    return acts, pd.DataFrame(rows).T.sort_index()


def indicator_changes(index: pd.DataFrame) -> pd.DataFrame:
    """Log change of the activity index, (iso3 x year), dimensionless (NaN where either year is absent)."""
    if index.empty:
        return index
    v = index.where(index > 0)
    return np.log(v).T.diff().T


def log_growth(wide: pd.DataFrame) -> pd.DataFrame:
    """Log growth of annual totals, (iso3 x year), NaN where either year is missing or non-positive."""
    v = wide.where(wide > 0)
    return np.log(v).T.diff().T


INDICATOR_MODES = ("none", "window", "pooled")
SELECTION_YEARS = tuple(range(2002, 2010))
"""Rolling origins used to choose the indicator mode (all before the first scored year, 2010)."""


def pooled_beta_before(wide: pd.DataFrame, dx: pd.DataFrame, year: int) -> tuple[float, float, int]:
    """:func:`nowcast.models.pooled_indicator_beta` over every country (pseudo-regions excluded) and the
    years before ``year`` only."""
    g = log_growth(wide.drop(index=list(PSEUDO), errors="ignore"))
    cols = [c for c in g.columns if c < year and c in dx.columns]
    if not cols:
        return 0.0, float("inf"), 0
    rows = [r for r in g.index if r in dx.index]
    return pooled_indicator_beta(g.loc[rows, cols], dx.loc[rows, cols])


def nowcast_table(wide: pd.DataFrame, year: int, countries: list[str], indicators: pd.DataFrame | None = None,
                  shares: pd.DataFrame | None = None, *, mode: str = "pooled",
                  prepared: tuple[dict[str, pd.DataFrame], pd.DataFrame] | None = None) -> pd.DataFrame:
    """Nowcast ``year`` for each country from the years before it; one row per country.

    ``mode`` is how indicators enter the model (see the module docstring); ``prepared`` is the result of
    :func:`activity_indices` (computed here when not given).  Columns (Mt CO2 yr-1): ``last`` (year-1
    value), ``model``, ``lower``, ``upper`` (90%), ``persistence``, ``trend5``, ``cm_ratio`` (NaN
    without indicators), and ``method``.
    """
    if mode not in INDICATOR_MODES:
        raise BacktestError(f"unknown indicator mode {mode!r}; known: {', '.join(INDICATOR_MODES)}")
    acts, index = prepared if prepared is not None else activity_indices(indicators, shares)
    beta = None
    if mode == "pooled" and not index.empty:
        beta = pooled_beta_before(wide, indicator_changes(index), year)[0]
    rows = []
    for iso in countries:
        if iso not in wide.index:
            continue
        hist = wide.loc[iso, [c for c in wide.columns if c < year]].dropna()
        hist = hist[hist > 0]
        if hist.empty or hist.index.max() != year - 1:
            continue
        act = acts.get(iso)
        sh = shares.loc[iso] if shares is not None and iso in shares.index else None
        exog = None
        if mode != "none" and iso in index.index:
            e = index.loc[iso].dropna()
            if {year - 1, year} <= set(e.index.astype(int)):
                exog = e.to_frame("activity_index")
                exog.index = exog.index.astype(int)
        nc: AnnualNowcast = nowcast_annual(hist, exog, indicator_beta=beta if exog is not None else None)
        rows.append({"iso3": iso, "last": nc.last_value, "model": nc.mean, "lower": nc.lower, "upper": nc.upper,
                     "persistence": persistence(hist), "trend5": linear_trend(hist, 5),
                     "cm_ratio": _cm_ratio(nc.last_value, year, act, sh), "method": nc.method})
    return pd.DataFrame(rows).set_index("iso3") if rows else pd.DataFrame(
        columns=["last", "model", "lower", "upper", "persistence", "trend5", "cm_ratio", "method"])


def select_indicator_mode(wide: pd.DataFrame, indicators: pd.DataFrame | None, shares: pd.DataFrame | None,
                          years: tuple[int, ...] = SELECTION_YEARS, top_n: int = TOP_N,
                          prepared: tuple[dict[str, pd.DataFrame], pd.DataFrame] | None = None
                          ) -> tuple[str, dict[str, float]]:
    """Choose the indicator mode by top-``top_n`` level MAPE (%) on rolling origins ``years``.

    Honest selection: call it with origins before every year that will be scored.  Returns
    ``(mode, {mode: MAPE})``; ``none`` without indicators (or when no origin can be scored).
    """
    prepared = prepared if prepared is not None else activity_indices(indicators, shares)
    if prepared[1].empty:
        return "none", {}
    scores: dict[str, float] = {}
    for m in INDICATOR_MODES:
        ape = []
        for y in years:
            if y not in wide.columns or y - 1 not in wide.columns:
                continue
            top = top_emitters(wide, y - 1, top_n)
            tab = nowcast_table(wide, y, top, mode=m, shares=shares, prepared=prepared)
            ape += list((tab["model"] / wide.loc[tab.index, y] - 1.0).abs() * 100.0)
        if ape:
            scores[m] = float(np.mean(ape))
    if not scores:
        return "none", {}
    return min(scores, key=lambda k: (round(scores[k], 6), INDICATOR_MODES.index(k))), scores


PREDICTORS = ("model", "persistence", "trend5", "cm_ratio")


def world_growth_oracle(last: pd.Series, world_last: float, world_actual: float) -> pd.Series:
    """A reference, not a forecast: every country grows like the realised world total that year.

    ``last``: each country's year Y-1 emissions (Mt CO2 yr-1, dims (iso3,)); ``world_last``,
    ``world_actual``: the world total in Y-1 and the realised Y.  Returns year Y "predictions" in Mt CO2
    yr-1.  It is told the one number a global annual model would most like to know; what it still gets
    wrong is the country-specific part of the year, which only in-year national activity data can see.
    """
    if not (np.isfinite(world_last) and world_last > 0 and np.isfinite(world_actual)):
        raise BacktestError("the world series has no usable Y-1 and Y values for the oracle reference")
    return last * (world_actual / world_last)


def _growth_pct(pred: pd.Series, last: pd.Series) -> pd.Series:
    return (pred / last - 1.0) * 100.0


def vintage_test(gcb_old: pd.DataFrame, gcb_new: pd.DataFrame, indicators: pd.DataFrame | None = None,
                 shares: pd.DataFrame | None = None, quick: bool = False, *, mode: str = "pooled",
                 prepared: tuple[dict[str, pd.DataFrame], pd.DataFrame] | None = None
                 ) -> tuple[dict[str, Any], pd.DataFrame]:
    """Nowcast year Y = old vintage's last year + 1; score growth against the new vintage.

    ``mode``/``prepared``: as in :func:`nowcast_table`.  Returns (figures, per-country table with
    predicted and realised growth in percent).
    """
    old, new = wide_totals(gcb_old), wide_totals(gcb_new)
    last_year = int(old.columns.max())
    year = last_year + 1
    if year not in new.columns or last_year not in new.columns:
        raise BacktestError(f"the new vintage has no {last_year}->{year} growth to score against")
    top = top_emitters(old, last_year)
    if quick:
        top = top[:5]
        countries = [*top, "XIA", "XIS", "WLD"]
    else:
        countries = [c for c in old.index if c != "WLD"] + ["WLD"]
    tab = nowcast_table(old, year, countries, indicators, shares, mode=mode, prepared=prepared)
    realised = (new[year] / new[last_year] - 1.0) * 100.0
    out = pd.DataFrame({"realised_growth_pct": realised.reindex(tab.index)})
    for p in PREDICTORS:
        out[f"{p}_growth_pct"] = _growth_pct(tab[p], tab["last"])
    out["lower_growth_pct"] = _growth_pct(tab["lower"], tab["last"])
    out["upper_growth_pct"] = _growth_pct(tab["upper"], tab["last"])
    out["method"] = tab["method"]

    nat = out.drop(index=list(PSEUDO), errors="ignore").dropna(subset=["realised_growth_pct"])
    t20 = nat.loc[[c for c in top if c in nat.index]]
    figs: dict[str, Any] = {"vintage_year": year, "n_countries": len(nat), "top20": list(t20.index)}
    for p in PREDICTORS:
        err = (t20[f"{p}_growth_pct"] - t20["realised_growth_pct"]).abs()
        key = "top20_growth_mae_pp" if p == "model" else f"{p}_top20_growth_mae_pp"
        figs[key] = float(err.mean()) if err.notna().any() else None
        figs[f"{p}_top20_n"] = int(err.notna().sum())
    if "WLD" in realised.index and np.isfinite(realised["WLD"]):
        figs["oracle_world_top20_growth_mae_pp"] = float((t20["realised_growth_pct"] - realised["WLD"]).abs().mean())

    # global: bottom-up (sum of all nowcast parts, as growth applied to the old WLD) and direct (WLD series)
    parts = tab.drop(index=["WLD"], errors="ignore")
    realised_global = float(realised.get("WLD", np.nan))
    figs["global_realised_growth_pct"] = realised_global
    for p in ("model", "persistence", "trend5"):
        g = float((parts[p].sum() / parts["last"].sum() - 1.0) * 100.0)
        figs[f"global_{p}_growth_pct"] = g
        err = g - realised_global
        figs["global_growth_error_pp" if p == "model" else f"{p}_global_growth_error_pp"] = float(err)
    if "WLD" in out.index:
        figs["global_direct_growth_pct"] = float(out.loc["WLD", "model_growth_pct"])
        figs["global_direct_growth_error_pp"] = float(out.loc["WLD", "model_growth_pct"] - realised_global)

    cov = out.dropna(subset=["realised_growth_pct"])
    inside = (cov["realised_growth_pct"] >= cov["lower_growth_pct"]) & (cov["realised_growth_pct"] <= cov["upper_growth_pct"])
    figs["vintage_coverage90"] = float(inside.mean()) if len(cov) else None
    figs["vintage_coverage90_n"] = len(cov)

    # the published anchor, scored the same way against the realised growth in the new vintage
    anchor = {}
    for iso, (proj, published_realised) in GCB2024_PROJECTION.items():
        r = float(realised.get(iso, np.nan))
        ours = float(out.loc[iso, "model_growth_pct"]) if iso in out.index else float("nan")
        if iso == "WLD":
            ours = figs["global_model_growth_pct"]
        anchor[iso] = {"projection_pct": proj, "published_realised_pct": published_realised, "realised_pct": r,
                       "projection_error_pp": proj - r, "model_growth_pct": ours, "model_error_pp": ours - r}
    figs["gcb2024_projection"] = anchor
    ctry = [k for k in anchor if k != "WLD"]
    figs["gcb2024_projection_country_mae_pp"] = float(np.mean([abs(anchor[k]["projection_error_pp"]) for k in ctry]))
    figs["model_same_countries_mae_pp"] = float(np.nanmean([abs(anchor[k]["model_error_pp"]) for k in ctry]))
    return figs, out


def rolling_test(gcb: pd.DataFrame, years: tuple[int, ...] = ROLLING_YEARS, indicators: pd.DataFrame | None = None,
                 shares: pd.DataFrame | None = None, top_n: int = TOP_N, *, mode: str = "pooled",
                 prepared: tuple[dict[str, pd.DataFrame], pd.DataFrame] | None = None
                 ) -> tuple[dict[str, Any], pd.DataFrame]:
    """Rolling-origin test within one vintage: nowcast each year from the years before it.

    ``mode``/``prepared``: as in :func:`nowcast_table` (the pooled elasticity of each origin uses
    only the years before it).

    Returns (figures, long table: year, iso3, actual, last, each predictor, lower, upper).
    """
    wide = wide_totals(gcb)
    prepared = prepared if prepared is not None else activity_indices(indicators, shares)
    frames = []
    for y in years:
        if y not in wide.columns or y - 1 not in wide.columns:
            raise BacktestError(f"rolling year {y} (or {y - 1}) is not in the GCB table")
        top = top_emitters(wide, y - 1, top_n)
        tab = nowcast_table(wide, y, top, indicators, shares, mode=mode, prepared=prepared)
        tab["actual"] = wide.loc[tab.index, y]
        tab["year"] = y
        w_last, w_now = (float(wide.loc["WLD", c]) if "WLD" in wide.index else np.nan for c in (y - 1, y))
        # a reference row only: a year without a usable world total leaves it out (NaN), the scores stand
        tab["oracle_world"] = (world_growth_oracle(tab["last"], w_last, w_now)
                               if np.isfinite(w_last) and w_last > 0 and np.isfinite(w_now) else np.nan)
        frames.append(tab.reset_index())
    long = pd.concat(frames, ignore_index=True)
    figs: dict[str, Any] = {"rolling_years": [int(min(years)), int(max(years))], "rolling_n": len(long)}
    for p in PREDICTORS:
        ape = ((long[p] / long["actual"] - 1.0).abs() * 100.0)
        gerr = ((long[p] / long["last"]) - (long["actual"] / long["last"])).abs() * 100.0
        key = "rolling_top20_mape" if p == "model" else f"rolling_{p}_top20_mape"
        figs[key] = float(ape.mean()) if ape.notna().any() else None
        figs[f"rolling_{p}_growth_mae_pp"] = float(gerr.mean()) if gerr.notna().any() else None
        figs[f"rolling_{p}_n"] = int(ape.notna().sum())
    figs["rolling_coverage90"] = coverage(long["actual"], long["lower"], long["upper"])
    by_year = long.assign(ape=(long["model"] / long["actual"] - 1).abs() * 100,
                          ape_p=(long["persistence"] / long["actual"] - 1).abs() * 100)
    figs["rolling_mape_by_year"] = {int(k): float(v) for k, v in by_year.groupby("year")["ape"].mean().items()}
    figs["rolling_persistence_mape_by_year"] = {int(k): float(v)
                                                for k, v in by_year.groupby("year")["ape_p"].mean().items()}
    if long["oracle_world"].notna().any():
        figs["rolling_oracle_world_top20_mape"] = float(((long["oracle_world"] / long["actual"] - 1.0).abs()
                                                         * 100.0).mean())
        figs["rolling_oracle_world_growth_mae_pp"] = float(((long["oracle_world"] - long["actual"]) / long["last"]
                                                            ).abs().mean() * 100.0)
    ex2020 = by_year[by_year["year"] != 2020]
    figs["rolling_top20_mape_excl_2020"] = float(ex2020["ape"].mean()) if len(ex2020) else None
    figs["rolling_persistence_top20_mape_excl_2020"] = float(ex2020["ape_p"].mean()) if len(ex2020) else None
    return figs, long


def _goals(f: dict[str, Any]) -> dict[str, Any]:
    def ratio(a: Any, b: Any) -> float | None:
        return None if a is None or b in (None, 0) else 1.0 - a / b
    imp = ratio(f.get("top20_growth_mae_pp"), f.get("persistence_top20_growth_mae_pp"))
    rimp = ratio(f.get("rolling_top20_mape"), f.get("rolling_persistence_top20_mape"))
    cov = f.get("coverage90")
    lo, hi = GOALS["coverage90"]
    return {
        "improvement_vs_persistence": imp,
        "rolling_improvement_vs_persistence": rimp,
        "vintage_top20_mae_met": bool(f["top20_growth_mae_pp"] <= GOALS["top20_growth_mae_pp"]),
        "vintage_vs_persistence_met": bool(imp is not None and imp >= GOALS["improvement_vs_persistence"]),
        "global_growth_met": bool(abs(f["global_growth_error_pp"]) <= GOALS["global_growth_error_pp"]),
        "rolling_mape_met": bool(f["rolling_top20_mape"] <= GOALS["rolling_top20_mape"]),
        "rolling_vs_persistence_met": bool(rimp is not None and rimp >= GOALS["rolling_improvement_vs_persistence"]),
        "coverage_met": bool(cov is not None and lo <= cov <= hi),
    }


def run_backtest(gcb_old: pd.DataFrame, gcb_new: pd.DataFrame, out_dir: Path, *,
                 indicators: pd.DataFrame | None = None, shares: pd.DataFrame | None = None,
                 quick: bool = False, mode: str = "auto", asof: Any = None) -> dict[str, Any]:
    """Run both tests (and the as-of tests of :mod:`nowcast.asof` when ``asof`` inputs are given) and write ``out_dir/backtest.md``, ``out_dir/backtest.json`` and PNG plots.

    ``quick`` (for tests) scores the top 5 only, selects on 2007-2009 and rolls over 2021-2023.
    ``mode``: how indicators enter the model, one of :data:`INDICATOR_MODES` or ``auto`` (chosen by
    :func:`select_indicator_mode` on :data:`SELECTION_YEARS` of the new vintage, before every scored
    year).  Outside quick runs every mode is also scored (``mode_scores``, for transparency; the choice
    does not look at them).  Returns every figure (the JSON's content).  Files are written atomically.
    """
    from nowcast.report import write_report

    t0 = time.perf_counter()
    prepared = activity_indices(indicators, shares)
    top_n = 5 if quick else TOP_N
    sel_years = (2007, 2008, 2009) if quick else SELECTION_YEARS
    if mode == "auto":
        mode, sel = select_indicator_mode(wide_totals(gcb_new), indicators, shares, sel_years, top_n, prepared)
    elif mode in INDICATOR_MODES:
        sel = {}
    else:
        raise BacktestError(f"unknown indicator mode {mode!r}; known: auto, {', '.join(INDICATOR_MODES)}")
    years = (2021, 2022, 2023) if quick else ROLLING_YEARS
    vfigs, vtab = vintage_test(gcb_old, gcb_new, indicators, shares, quick=quick, mode=mode, prepared=prepared)
    rfigs, rtab = rolling_test(gcb_new, years, indicators, shares, top_n=top_n, mode=mode, prepared=prepared)
    figs: dict[str, Any] = {**vfigs, **rfigs}
    figs["indicator_mode"] = mode
    figs["indicator_mode_selection"] = {"years": [int(min(sel_years)), int(max(sel_years))], "top_n": top_n,
                                        "mape": sel}
    if not prepared[1].empty:
        w = wide_totals(gcb_new)
        figs["pooled_beta"] = dict(zip(("beta", "se", "n"), pooled_beta_before(
            w, indicator_changes(prepared[1]), int(max(years)) + 1), strict=True))
    if not quick:
        scores = {}
        for m in INDICATOR_MODES:
            if m == mode:
                vf, rf = vfigs, rfigs
            else:
                vf, _ = vintage_test(gcb_old, gcb_new, indicators, shares, mode=m, prepared=prepared)
                rf, _ = rolling_test(gcb_new, years, indicators, shares, mode=m, prepared=prepared)
            scores[m] = {k: (vf | rf).get(k) for k in ("top20_growth_mae_pp", "global_growth_error_pp",
                                                       "rolling_top20_mape", "vintage_coverage90",
                                                       "rolling_coverage90")}
        figs["mode_scores"] = scores
    pooled_in = []
    v = vtab.dropna(subset=["realised_growth_pct"])
    pooled_in += list((v["realised_growth_pct"] >= v["lower_growth_pct"]) & (v["realised_growth_pct"] <= v["upper_growth_pct"]))
    pooled_in += list((rtab["actual"] >= rtab["lower"]) & (rtab["actual"] <= rtab["upper"]))
    figs["coverage90"] = float(np.mean(pooled_in))
    figs["coverage90_n"] = len(pooled_in)
    figs["goals"] = _goals(figs)
    atabs = None
    if asof is not None:
        from nowcast.asof import run_asof

        afigs, atabs = run_asof(gcb_old, gcb_new, asof, quick=quick)
        figs.update(afigs)
        figs["goals"].update(afigs["asof_goals"])
    figs["quick"] = quick
    figs["vintages"] = {"old": gcb_old.attrs.get("vintage"), "new": gcb_new.attrs.get("vintage")}
    figs["indicators"] = sorted(c for c in indicators.columns if indicators[c].notna().any()) if indicators is not None else []
    figs["seconds"] = time.perf_counter() - t0
    write_report(figs, vtab, rtab, Path(out_dir), atabs)
    return figs
