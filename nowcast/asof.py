"""Backtests that respect publication dates (issue #15, point 7): pure tables in, figures out.

:func:`asof_nowcast` nowcasts year Y from what was known on a day D (``as_of``): the annual inventory through
L = Y-1 and the monthly activity series cut to the months published by D (the caller cuts them with
:func:`pipelines.measured_inputs.published_monthly`; a value for a month that ends after D is an error here).
For each country, Mt CO2 yr-1::

    prediction = total[L] x ( sum_s w_s g_s + (1 - sum_s w_s) g_model )

- ``w_s``: sector shares of L (iso3 x sector). The power share is the measured power series itself,
  sum of L's months / total[L], where its 12 months of L are published (clipped to
  :data:`nowcast.sector_split.POWER_SHARE_BOUNDS`), else the build's split of L; the other sectors keep
  the split's proportions.
- ``g_s`` = (sum over the months of Y of the series extended past its data edge by
  :func:`nowcast.measured.extend_monthly`, i.e. the year-to-date growth) / (sum over the months of L).
  A sector is *measured* only when all 12 months of L and at least :data:`MIN_OBSERVED_MONTHS` of Y are
  published by D; otherwise it counts as unmeasured.
- ``g_model``: growth of the annual model alone, :func:`nowcast.backtest.nowcast_table` with
  ``mode="none"`` (no annual indicators: the degree days and demand of a whole year Y are not known on D).

Interval (90%): relative log sigma ``s = sqrt(((1 - W) s_model)^2 + sum_s (w_s s_meas(k_s))^2)``, W = sum w_s,
``s_model`` the annual model's forecast sigma, ``s_meas(k) = sqrt(SIGMA_RATIO^2 + (SIGMA_PER_MONTH k)^2)``
with k the extended (unobserved) months of Y; then ``pred x exp(+-z c s)`` with ONE scale ``c`` calibrated
(:func:`calibrate_scale`) on rolling origins :data:`CALIBRATION_YEARS`, before every scored year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from carbonmap.errors import InvalidInput
from nowcast.backtest import GCB2024_PROJECTION, PSEUDO, TOP_N, nowcast_table, top_emitters, wide_totals
from nowcast.measured import extend_monthly
from nowcast.sector_split import POWER_SHARE_BOUNDS

Z90 = float(norm.ppf(0.95))
MIN_OBSERVED_MONTHS = 1
"""Fewest published months of Y before a sector counts as measured (with none, extend_monthly would carry the
growth of the last 12 months: a guess, not a measurement)."""
SIGMA_RATIO = 0.02
"""Relative 1-sigma of the emissions-per-activity ratio over one year (fuel mix, efficiency), as the build's
``pipelines.national.RATIO_DRIFT_PER_YEAR``."""
SIGMA_PER_MONTH = 0.01
"""Extra relative 1-sigma per extended (unobserved) month of Y, as ``pipelines.national.MODEL_SIGMA_PER_MONTH``."""
CALIBRATION_YEARS = tuple(range(2010, 2016))
"""Rolling origins that calibrate the interval scale: all before every scored year (2016-2024)."""
ROLLING_ASOF_YEARS = tuple(range(2016, 2024))
RELEASE_DAY = (11, 13)
"""(month, day) of a GCB release: origin Y is nowcast as of Y-11-13 (GCB2024 came out on 2024-11-13)."""
NOV_AS_OF = pd.Timestamp("2024-11-13")
MAR_AS_OF = pd.Timestamp("2025-03-01")
EU27 = ("AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL", "ITA",
        "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE")
GCB2024_PROJECTION_EU27 = -3.8
"""GCB2024's projection of EU27 fossil CO2 growth in 2024, percent (press release of 2024-11-13, e.g.
downtoearth.org.in and outlookindia.com reports: "the United States and Europe ... decrease by 0.6 and 3.8 per cent")."""
CN_US_IN = ("CHN", "USA", "IND")
ASOF_GOALS: dict[str, Any] = {
    "asof_nov_top20_growth_mae_pp": 1.0,
    "asof_nov_global_growth_error_pp": 0.3,
    "asof_mar_top20_growth_mae_pp": 0.6,
    "rolling_asof_top20_mape": 2.0,
    "asof_coverage90": (0.85, 0.95),
}
"""Targets of issue #15 point 7 (MAE/MAPE/|error| at most the value; coverage inside the range)."""
MEASURED_SOURCE_KEYS = {"Grid-India": "posoco", "Carbon Monitor Power": "cm_power", "Ember monthly": "ember_monthly",
                        "NBS": "nbs_china_monthly", "PPAC": "india_ppac_oil", "EUROCONTROL": "eurocontrol"}
"""Label prefix of a measured series (:class:`pipelines.measured_inputs.Measured` sources) -> its registered
publication-lag key in :data:`ingest.activity.PUBLICATION_LAG_DAYS` (for the report's lag table)."""


class AsofError(InvalidInput):
    """An as-of input is inconsistent (a month published after the as-of day, no inventory year L)."""


@dataclass(frozen=True)
class AsofInputs:
    """What the as-of tests read (the I/O happens in the caller).

    ``published(as_of)``: sector -> (month x iso3) series as published on that day (power in Mt CO2 month-1;
    the others in any unit: only ratios matter). ``split(L)``: (iso3 x sector) shares of year L.
    ``projection``: GCB's published projection of 2025, Mt CO2 (index region code: CHN, USA, EU27, IND, JPN,
    ROW, XBK; None when absent). ``lags``: rows of the publication-lag table. ``today``: as-of day of the
    2025 nowcast."""

    published: Callable[[pd.Timestamp], dict[str, pd.DataFrame]]
    split: Callable[[int], pd.DataFrame]
    projection: pd.Series | None = None
    lags: list[dict[str, Any]] = field(default_factory=list)
    today: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.today().normalize())


def sector_growth(monthly: pd.Series, year: int, as_of: pd.Timestamp) -> tuple[float, int] | None:
    """(g, months of ``year`` observed) of one measured series, or None when it does not count as measured.

    ``g`` = sum of the extended series over the months of ``year`` / sum over the months of ``year - 1``."""
    s = monthly.dropna()
    s = s[s > 0]
    if s.empty:
        return None
    late = pd.DatetimeIndex(s.index) + pd.offsets.MonthEnd(0) > as_of
    if late.any():
        raise AsofError(f"{monthly.name}: month {pd.DatetimeIndex(s.index)[late][0]:%Y-%m} ends after the as-of day "
                        f"{as_of:%Y-%m-%d}: cut the series to what was published by then")
    months = pd.date_range(f"{year - 1}-01-01", f"{year}-12-01", freq="MS")
    ext = extend_monthly(s, months)
    if ext is None:
        return None
    vals, obs = ext
    n_obs = int(obs[12:].sum())
    if not obs[:12].all() or n_obs < MIN_OBSERVED_MONTHS or not np.isfinite(vals.to_numpy()).all():
        return None
    return float(vals.iloc[12:].sum() / vals.iloc[:12].sum()), n_obs


def power_weights(split: pd.DataFrame, power: pd.DataFrame | None, total_last: pd.Series, last: int
                  ) -> pd.DataFrame:
    """Shares of year ``last`` (iso3 x sector): the power share from the measured power series (Mt month-1) where
    its 12 months of ``last`` are present, the other sectors scaled to keep the split's proportions."""
    w = split.astype(np.float64).copy()
    if power is None or power.empty or "power" not in w.columns:
        return w
    idx = pd.DatetimeIndex(power.index)
    year = power[idx.year == last]
    full = year.notna().sum() == 12
    mt = year.sum()[full]
    lo, hi = POWER_SHARE_BOUNDS
    for c, v in mt.items():
        tot = float(total_last.get(c, np.nan))
        if c not in w.index or not (np.isfinite(tot) and tot > 0 and np.isfinite(v)):
            continue
        p_new = float(np.clip(v / tot, lo, hi))
        rest = 1.0 - float(w.at[c, "power"])
        others = [s for s in w.columns if s != "power"]
        w.loc[c, others] = w.loc[c, others] * ((1.0 - p_new) / rest if rest > 0 else 0.0)
        if rest <= 0:
            w.loc[c, others] = (1.0 - p_new) / len(others)
        w.at[c, "power"] = p_new
    return w


def model_part(history: pd.DataFrame, year: int, countries: list[str]) -> pd.DataFrame:
    """The annual model alone for ``year`` (iso3 rows: last, model, lower, upper; Mt CO2 yr-1) from ``history``
    (year x iso3, Mt): :func:`nowcast.backtest.nowcast_table` without indicators."""
    wide = history.T.sort_index()
    wide.columns = wide.columns.astype(int)
    return nowcast_table(wide, year, countries, mode="none")[["last", "model", "lower", "upper"]]


def asof_nowcast(history: pd.DataFrame, year: int, as_of: pd.Timestamp, measured: dict[str, pd.DataFrame],
                 weights: pd.DataFrame, *, countries: list[str] | None = None, model: pd.DataFrame | None = None,
                 scale: float = 1.0, power_from_series: bool = True) -> pd.DataFrame:
    """Nowcast ``year`` as of ``as_of`` for each country (see the module docstring).

    ``history``: (year x iso3) inventory known on ``as_of``, Mt CO2 yr-1, through ``year - 1``. ``measured``:
    sector -> (month x iso3) series cut to what was published by ``as_of`` (power in Mt month-1 when
    ``power_from_series``). ``weights``: (iso3 x sector) shares of ``year - 1``. ``model``: the result of
    :func:`model_part` when already computed. ``scale``: the calibrated interval scale.
    Returns (iso3 rows) ``pred, lower, upper`` (Mt CO2 yr-1, 90%), ``last``, ``model``, ``model_lower``,
    ``model_upper``, ``measured_share`` (W), ``months_observed`` (w-weighted mean over measured sectors, NaN
    when none), ``sigma_base`` (relative log sigma before ``scale``) and ``measured_sectors``."""
    last = year - 1
    as_of = pd.Timestamp(as_of)
    if last not in history.index:
        raise AsofError(f"the inventory known on {as_of:%Y-%m-%d} has no year {last}")
    if history.index.max() > last:
        raise AsofError(f"the inventory known on {as_of:%Y-%m-%d} must end in {last}, not {history.index.max()}")
    countries = countries if countries is not None else [c for c in history.columns if c != "WLD"]
    mod = model if model is not None else model_part(history, year, countries)
    w = weights
    if power_from_series:
        w = power_weights(weights, measured.get("power"), history.loc[last], last)
    z = Z90
    rows = []
    for iso in countries:
        if iso not in mod.index:
            continue
        m = mod.loc[iso]
        tot = float(m["last"])
        g_model = float(m["model"]) / tot
        s_model = float(np.log(m["upper"] / m["lower"]) / (2 * z))
        growth, var_meas, big_w, n_w, sectors = 0.0, 0.0, 0.0, 0.0, []
        if iso in w.index:
            for sector, table in measured.items():
                ws = float(w.at[iso, sector]) if sector in w.columns else 0.0
                if ws <= 0 or table is None or iso not in table.columns:
                    continue
                res = sector_growth(table[iso].rename(f"{sector}/{iso}"), year, as_of)
                if res is None:
                    continue
                g, n_obs = res
                growth += ws * g
                big_w += ws
                n_w += ws * n_obs
                var_meas += (ws * np.hypot(SIGMA_RATIO, SIGMA_PER_MONTH * (12 - n_obs))) ** 2
                sectors.append(sector)
        growth += (1.0 - big_w) * g_model
        sigma = float(np.sqrt(((1.0 - big_w) * s_model) ** 2 + var_meas))
        pred = tot * growth
        rows.append({"iso3": iso, "last": tot, "pred": pred, "lower": pred * np.exp(-z * scale * sigma),
                     "upper": pred * np.exp(z * scale * sigma), "model": float(m["model"]),
                     "model_lower": float(m["lower"]), "model_upper": float(m["upper"]), "measured_share": big_w,
                     "months_observed": n_w / big_w if big_w > 0 else np.nan, "sigma_base": sigma,
                     "measured_sectors": ",".join(sectors)})
    return pd.DataFrame(rows).set_index("iso3")


def rescale(tab: pd.DataFrame, scale: float) -> pd.DataFrame:
    """``tab`` (from :func:`asof_nowcast`) with its intervals redrawn at another scale."""
    out = tab.copy()
    out["lower"] = out["pred"] * np.exp(-Z90 * scale * out["sigma_base"])
    out["upper"] = out["pred"] * np.exp(Z90 * scale * out["sigma_base"])
    return out


def calibrate_scale(pred: np.ndarray, actual: np.ndarray, sigma_base: np.ndarray, coverage: float = 0.90) -> float:
    """The scale c for which ``coverage`` of the outcomes fall inside pred x exp(+-z c sigma_base)."""
    p, a, s = (np.asarray(x, dtype=np.float64) for x in (pred, actual, sigma_base))
    ok = np.isfinite(p) & np.isfinite(a) & np.isfinite(s) & (p > 0) & (a > 0) & (s > 0)
    if not ok.any():
        raise AsofError("no outcome to calibrate the interval scale on")
    return float(np.quantile(np.abs(np.log(a[ok] / p[ok])) / (Z90 * s[ok]), coverage))


def aggregate_growth(tab: pd.DataFrame, members: list[str] | tuple[str, ...], col: str) -> float:
    """Growth (percent) of the sum of ``members`` (those present) in column ``col`` over their ``last``."""
    t = tab.loc[[c for c in members if c in tab.index]]
    return float((t[col].sum() / t["last"].sum() - 1.0) * 100.0) if len(t) else float("nan")


def _weights(inp: AsofInputs, last: int, countries: list[str]) -> pd.DataFrame:
    return inp.split(last).reindex(countries).dropna(how="all")


def _realised_growth(new: pd.DataFrame, year: int) -> pd.Series:
    return (new[year] / new[year - 1] - 1.0) * 100.0


def growth_table(tab: pd.DataFrame, realised: pd.Series) -> pd.DataFrame:
    """Per country: realised and predicted growth (percent) with the interval and the model-alone baseline."""
    out = pd.DataFrame({"realised_pct": realised.reindex(tab.index)})
    for col in ("pred", "lower", "upper", "model", "model_lower", "model_upper"):
        out[f"{col}_pct"] = (tab[col] / tab["last"] - 1.0) * 100.0
    out["measured_share"] = tab["measured_share"]
    out["months_observed"] = tab["months_observed"]
    out["measured_sectors"] = tab["measured_sectors"]
    return out


def score_2024(tab: pd.DataFrame, new: pd.DataFrame, top: list[str], prefix: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """Figures of one 2024 as-of test against the new vintage's realised growth (tab from the old vintage)."""
    realised = _realised_growth(new, 2024)
    gt = growth_table(tab, realised)
    t20 = gt.loc[[c for c in top if c in gt.index]].dropna(subset=["realised_pct"])
    f: dict[str, Any] = {f"{prefix}_top20_growth_mae_pp": float((t20["pred_pct"] - t20["realised_pct"]).abs().mean()),
                         f"{prefix}_model_top20_growth_mae_pp": float((t20["model_pct"] - t20["realised_pct"]).abs().mean()),
                         f"{prefix}_persistence_top20_growth_mae_pp": float(t20["realised_pct"].abs().mean()),
                         f"{prefix}_top20_n": len(t20),
                         f"{prefix}_top20_measured_share": float(t20["measured_share"].mean())}
    parts = tab.drop(index=["WLD"], errors="ignore")
    r_world = float(realised.get("WLD", np.nan))
    for col, key in (("pred", ""), ("model", "_model")):
        g = aggregate_growth(parts, list(parts.index), col)
        f[f"{prefix}{key}_global_growth_pct"] = g
        f[f"{prefix}{key}_global_growth_error_pp"] = g - r_world
    f[f"{prefix}_persistence_global_growth_error_pp"] = -r_world
    f[f"{prefix}_global_realised_growth_pct"] = r_world
    f[f"{prefix}_global_countries"] = len(parts.drop(index=list(PSEUDO), errors="ignore"))
    regions: dict[str, dict[str, float]] = {}
    for reg, members in [(c, (c,)) for c in CN_US_IN] + [("EU27", EU27)]:
        ms = [c for c in members if c in new.index]
        r = float((new.loc[ms, 2024].sum() / new.loc[ms, 2023].sum() - 1.0) * 100.0) if ms else float("nan")
        proj = GCB2024_PROJECTION[reg][0] if reg in GCB2024_PROJECTION else GCB2024_PROJECTION_EU27
        regions[reg] = {"realised_pct": r, "pred_pct": aggregate_growth(tab, members, "pred"),
                        "model_pct": aggregate_growth(tab, members, "model"), "gcb_projection_pct": proj}
    f[f"{prefix}_regions"] = regions

    def mae(keys: tuple[str, ...], col: str) -> float:
        return float(np.mean([abs(regions[k][col] - regions[k]["realised_pct"]) for k in keys]))

    four = (*CN_US_IN, "EU27")
    f[f"{prefix}_cn_us_in_mae_pp"] = mae(CN_US_IN, "pred_pct")
    f[f"{prefix}_cn_us_in_eu_mae_pp"] = mae(four, "pred_pct")
    f[f"{prefix}_model_cn_us_in_mae_pp"] = mae(CN_US_IN, "model_pct")
    f["gcb_projection_cn_us_in_mae_pp"] = mae(CN_US_IN, "gcb_projection_pct")
    f["gcb_projection_cn_us_in_eu_mae_pp"] = mae(four, "gcb_projection_pct")
    f["gcb_projection_global_growth_pct"] = GCB2024_PROJECTION["WLD"][0]
    f["gcb_projection_global_growth_error_pp"] = GCB2024_PROJECTION["WLD"][0] - r_world
    return f, gt


def _origin(wide: pd.DataFrame, inp: AsofInputs, year: int, top_n: int, scale: float) -> pd.DataFrame:
    """One rolling origin: ``year`` as of its release day, from the years before it (top ``top_n`` of L)."""
    hist = wide[[c for c in wide.columns if c < year]].T
    top = top_emitters(wide, year - 1, top_n)
    as_of = pd.Timestamp(year=year, month=RELEASE_DAY[0], day=RELEASE_DAY[1])
    tab = asof_nowcast(hist, year, as_of, inp.published(as_of), _weights(inp, year - 1, top), countries=top,
                       scale=scale)
    return tab.assign(actual=wide.loc[tab.index, year], year=year)


def rolling_asof(wide: pd.DataFrame, inp: AsofInputs, years: tuple[int, ...], top_n: int, scale: float
                 ) -> pd.DataFrame:
    """Long table of the rolling origins ``years`` (see :func:`_origin`)."""
    return pd.concat([_origin(wide, inp, y, top_n, scale).reset_index() for y in years], ignore_index=True)


def _inside(actual: pd.Series, lower: pd.Series, upper: pd.Series) -> list[bool]:
    ok = actual.notna() & lower.notna() & upper.notna()
    return list(((actual >= lower) & (actual <= upper))[ok])


def nowcast_2025(new: pd.DataFrame, inp: AsofInputs, scale: float, quick: bool) -> pd.DataFrame:
    """carbonmap's 2025 beside GCB 2025's projection: rows per region (Mt and growth vs 2024)."""
    countries = top_emitters(new, 2024, 5) if quick else [c for c in new.index if c != "WLD"]
    hist = new[[c for c in new.columns if c < 2025]].T
    tab = asof_nowcast(hist, 2025, inp.today, inp.published(inp.today), _weights(inp, 2024, countries),
                       countries=countries, scale=scale)
    groups: dict[str, tuple[str, ...]] = {"CHN": ("CHN",), "USA": ("USA",), "EU27": EU27, "IND": ("IND",),
                                          "JPN": ("JPN",), "XBK": ("XIA", "XIS")}
    rows = []
    named = [c for g in groups.values() for c in g]
    if not quick:
        groups["ROW"] = tuple(c for c in tab.index if c not in named)
        groups["WLD"] = tuple(tab.index)
    for reg, members in groups.items():
        ms = [c for c in members if c in tab.index]
        if not ms:
            continue
        t = tab.loc[ms]
        proj = float(inp.projection.get(reg, np.nan)) if inp.projection is not None else float("nan")
        if inp.projection is not None and reg == "WLD":
            proj = float(inp.projection.sum())
        base = float(t["last"].sum())
        rows.append({"region": reg, "mt_2024": base, "carbonmap_mt": float(t["pred"].sum()),
                     "carbonmap_lower_mt": float(t["lower"].sum()), "carbonmap_upper_mt": float(t["upper"].sum()),
                     "carbonmap_growth_pct": (float(t["pred"].sum()) / base - 1) * 100,
                     "model_growth_pct": (float(t["model"].sum()) / base - 1) * 100,
                     "measured_share": float((t["measured_share"] * t["last"]).sum() / base),
                     "gcb_projection_mt": proj, "gcb_projection_growth_pct": (proj / base - 1) * 100})
    return pd.DataFrame(rows)


def run_asof(gcb_old: pd.DataFrame, gcb_new: pd.DataFrame, inp: AsofInputs, quick: bool = False
             ) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The four as-of tests; returns (figures incl. ``asof_goals``, tables for the report).

    ``quick``: top 5 only, calibration 2013-2015, rolling 2021-2023, 2025 for the top 5 (not the published figures)."""
    old, new = wide_totals(gcb_old), wide_totals(gcb_new)
    top_n = 5 if quick else TOP_N
    cal_years = CALIBRATION_YEARS[-3:] if quick else CALIBRATION_YEARS
    cal = rolling_asof(new, inp, cal_years, top_n, 1.0)
    scale = calibrate_scale(cal["pred"], cal["actual"], cal["sigma_base"])
    figs: dict[str, Any] = {"asof_interval_scale": scale, "asof_calibration_years": [min(cal_years), max(cal_years)],
                            "asof_calibration_n": len(cal), "asof_quick": quick,
                            "asof_calibration_coverage90_model_alone": float(np.mean(_inside(
                                cal["actual"], cal["model_lower"], cal["model_upper"])))}
    last = int(old.columns.max())
    if last != 2023:
        raise AsofError(f"the old vintage must end in 2023 (GCB2024), not {last}")
    top = top_emitters(old, 2023)
    countries = [*top[:5], "XIA", "XIS"] if quick else [c for c in old.index if c != "WLD"]
    hist = old.T
    model = model_part(hist, 2024, countries)
    tables: dict[str, pd.DataFrame] = {}
    pooled: list[bool] = []
    for prefix, as_of in (("asof_nov", NOV_AS_OF), ("asof_mar", MAR_AS_OF)):
        tab = asof_nowcast(hist, 2024, as_of, inp.published(as_of), _weights(inp, 2023, countries),
                           countries=countries, model=model, scale=scale)
        f, gt = score_2024(tab, new, top[:5] if quick else top, prefix)
        figs.update(f)
        figs[f"{prefix}_as_of"] = f"{as_of:%Y-%m-%d}"
        tables[prefix] = gt
        t20 = gt.loc[[c for c in top if c in gt.index]]
        pooled += _inside(t20["realised_pct"], t20["lower_pct"], t20["upper_pct"])
        n_all = gt.drop(index=list(PSEUDO), errors="ignore")
        figs[f"{prefix}_coverage90_all_countries"] = float(np.mean(_inside(n_all["realised_pct"], n_all["lower_pct"],
                                                                             n_all["upper_pct"])))
    r_years = ROLLING_ASOF_YEARS[-3:] if quick else ROLLING_ASOF_YEARS
    roll = rolling_asof(new, inp, r_years, top_n, scale)
    tables["rolling_asof"] = roll
    ape = (roll["pred"] / roll["actual"] - 1).abs() * 100
    figs.update({"rolling_asof_years": [min(r_years), max(r_years)], "rolling_asof_n": len(roll),
                 "rolling_asof_top20_mape": float(ape.mean()),
                 "rolling_asof_model_top20_mape": float(((roll["model"] / roll["actual"] - 1).abs() * 100).mean()),
                 "rolling_asof_persistence_top20_mape": float(((roll["last"] / roll["actual"] - 1).abs() * 100).mean()),
                 "rolling_asof_growth_mae_pp": float(((roll["pred"] - roll["actual"]) / roll["last"]).abs().mean() * 100),
                 "rolling_asof_model_growth_mae_pp": float(((roll["model"] - roll["actual"]) / roll["last"]).abs().mean()
                                                           * 100),
                 "rolling_asof_persistence_growth_mae_pp": float(((roll["last"] - roll["actual"]) / roll["last"]).abs().mean()
                                                                 * 100),
                 "rolling_asof_measured_share": float(roll["measured_share"].mean()),
                 "rolling_asof_mape_by_year": {int(k): float(v) for k, v in ape.groupby(roll["year"]).mean().items()},
                 "rolling_asof_measured_share_by_year": {int(k): float(v) for k, v in
                                                        roll.groupby("year")["measured_share"].mean().items()}})
    roll_in = _inside(roll["actual"], roll["lower"], roll["upper"])
    figs["rolling_asof_coverage90"] = float(np.mean(roll_in))
    pooled += roll_in
    figs["asof_coverage90"] = float(np.mean(pooled))
    figs["asof_coverage90_n"] = len(pooled)
    n25 = nowcast_2025(new, inp, scale, quick)
    figs["nowcast_2025"] = n25.to_dict(orient="records")
    figs["nowcast_2025_as_of"] = f"{inp.today:%Y-%m-%d}"
    figs["publication_lags"] = inp.lags
    figs["asof_goals"] = asof_goals(figs)
    return figs, tables


def asof_goals(f: dict[str, Any]) -> dict[str, bool]:
    """Each goal of issue #15 point 7, met or not, computed from the figures."""
    g = ASOF_GOALS
    lo, hi = g["asof_coverage90"]
    gcb = f["gcb_projection_cn_us_in_mae_pp"]
    return {
        "asof_nov_top20_met": bool(f["asof_nov_top20_growth_mae_pp"] <= g["asof_nov_top20_growth_mae_pp"]),
        "asof_nov_global_met": bool(abs(f["asof_nov_global_growth_error_pp"]) <= g["asof_nov_global_growth_error_pp"]),
        "asof_nov_cn_us_in_below_gcb_met": bool(f["asof_nov_cn_us_in_mae_pp"] < gcb),
        "asof_nov_cn_us_in_eu_below_gcb_met": bool(f["asof_nov_cn_us_in_eu_mae_pp"] < gcb),
        "asof_mar_top20_met": bool(f["asof_mar_top20_growth_mae_pp"] <= g["asof_mar_top20_growth_mae_pp"]),
        "rolling_asof_mape_met": bool(f["rolling_asof_top20_mape"] <= g["rolling_asof_top20_mape"]),
        "asof_coverage_met": bool(lo <= f["asof_coverage90"] <= hi),
    }


def lag_table(sources: dict[str, dict[str, str]], lags: dict[str, dict[str, int]], registry: dict[str, int]
              ) -> list[dict[str, Any]]:
    """Rows (source, key, lag days as registered, sectors, countries) from a Measured's labels and lags."""
    rows: dict[str, dict[str, Any]] = {}
    for sector, labels in sources.items():
        for iso, label in labels.items():
            key = next((k for p, k in MEASURED_SOURCE_KEYS.items() if label.startswith(p)), "")
            name = label.split(";")[0]
            r = rows.setdefault(name, {"source": name, "key": key, "lag_days": registry.get(key),
                                       "lag_used_days": lags.get(sector, {}).get(iso), "sectors": set(),
                                       "countries": set()})
            r["sectors"].add(sector)
            r["countries"].add(iso)
    return [{**r, "sectors": sorted(r["sectors"]), "countries": len(r["countries"])} for r in rows.values()]
