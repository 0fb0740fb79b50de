"""Annual national sector totals + daily indicators -> daily national sector totals (pure functions).

The temporal chain of issue 4, vectorised over regions (countries or XIA/XIS) of one sector:

1. **annual -> monthly.**  Where the sector's indicator carries year-to-year information (degree days,
   observed electricity demand), Chow-Lin with AR(1) residuals and no constant
   (:func:`chow_lin_many`), the AR coefficient chosen per region by maximum likelihood of the
   aggregated GLS model over :data:`RHO_GRID`, on the longest run of complete indicator years
   (:data:`CHOW_LIN_MIN_YEARS` at least) ending in the target years.  The GLS algebra is the one
   :func:`nowcast.disaggregate.chow_lin` runs on statsmodels' ``GLS``; here the covariance
   ``C V C'`` and its Cholesky factor are shared by all regions with the same calendar, so one
   region costs a few vector operations (checked equal to the statsmodels version in the tests).
   Regions whose Chow-Lin months would be negative, and sectors whose indicator is a pure
   climatology (weekday/holiday, monthly aviation/shipping), use **pro-rata**: each year is split in
   proportion to the indicator.
2. **monthly -> daily.**  Proportional first-difference Denton-Cholette
   (:func:`nowcast.disaggregate.denton_cholette`) on the daily indicator profile.  For pro-rata
   regions this reduces exactly to ``daily = indicator x annual / sum(indicator over the year)``,
   which is computed directly.
3. **Benchmarks.**  Every complete target year's days sum to its annual total: the chain hits them to
   ~1e-12 and a final per-year proportional correction makes it exact to float64 rounding.  Leap years
   have 366 days; partial periods are cut out of their complete years afterwards.

Past the last inventory year (:func:`nowcast_totals`): statsmodels ``UnobservedComponents``
(:func:`nowcast.models.nowcast_annual`) per region, iterated year by year for longer horizons, the
90% interval becoming a relative 1-sigma (:func:`nowcast.uncertainty.interval_to_rel_sigma`, summed in
quadrature over the horizon); the nowcast annual value is then the provisional benchmark of its year.
On the ragged edge (indicator months inside a nowcast year) :func:`ragged_edge_months` replaces
those months by a SARIMAX forecast with the indicator as exog and its own interval.

Units: annual inputs kg CO2 yr-1; monthly kg CO2 month-1; daily kg CO2 day-1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg as sla

from carbonmap.errors import InvalidInput
from nowcast.disaggregate import DisaggregationError, _v_ct, aggregation_matrix, denton_cholette
from nowcast.models import NowcastError, nowcast_annual, state_space_forecast
from nowcast.uncertainty import interval_to_rel_sigma

RHO_GRID = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99])
"""AR(1) coefficients searched by maximum likelihood in Chow-Lin."""
CHOW_LIN_MIN_YEARS = 3
"""Fewest complete indicator years for Chow-Lin (else pro-rata)."""
CHOW_LIN_METHOD = "Chow-Lin (AR(1) residuals, rho by ML, GLS, no constant) annual->monthly"
PRO_RATA_METHOD = "pro-rata on the indicator"
DENTON_METHOD = "Denton-Cholette (proportional first differences) monthly->daily"


class DailyError(InvalidInput):
    """Inputs to the daily disaggregation are inconsistent (missing years, bad indicator)."""


@dataclass(frozen=True)
class DailyTotals:
    """Daily totals of one sector, ``values`` (day, region) kg CO2 day-1; ``methods`` (region,) names."""

    days: pd.DatetimeIndex
    values: np.ndarray
    methods: tuple[str, ...]
    monthly: pd.DataFrame | None = None
    """Monthly totals (month start x region), kg CO2 month-1, over each Chow-Lin window (else NaN)."""


def year_days(years: Sequence[int]) -> pd.DatetimeIndex:
    """All days of consecutive calendar years (365 or 366 each)."""
    ys = sorted(int(y) for y in years)
    if not ys or ys != list(range(ys[0], ys[-1] + 1)):
        raise DailyError(f"target years must be consecutive, got {ys}")
    return pd.date_range(f"{ys[0]}-01-01", f"{ys[-1]}-12-31", freq="D")


# --------------------------------------------------------------------------- Chow-Lin, many series


def _gls_many(y: np.ndarray, xa: np.ndarray, chol: np.ndarray, logdet: float) -> tuple[np.ndarray, np.ndarray]:
    """beta (N,) and llf (N,) of GLS ``y_i = beta_i xa_i + u``, Var u = L L' shared; y, xa (n_low, N)."""
    wy = sla.solve_triangular(chol, y, lower=True)
    wx = sla.solve_triangular(chol, xa, lower=True)
    sxx = np.einsum("ij,ij->j", wx, wx)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.einsum("ij,ij->j", wx, wy) / sxx
        ssr = np.einsum("ij,ij->j", wy - wx * beta, wy - wx * beta)
        n = y.shape[0]
        # statsmodels GLS.loglike: -n/2 log(SSR) - (1 + log(pi / (n/2))) n/2 - logdet(Sigma)/2
        llf = -n / 2 * np.log(ssr) - (1 + np.log(np.pi / (n / 2))) * n / 2 - 0.5 * logdet
    return beta, np.where(np.isfinite(llf), llf, -np.inf)


def chow_lin_many(y_low: np.ndarray, x_high: np.ndarray, c: np.ndarray,
                  rho_grid: np.ndarray = RHO_GRID) -> tuple[np.ndarray, np.ndarray]:
    """Chow-Lin (no constant) of N series sharing one aggregation matrix.

    y_low (n_low, N) benchmarks (kg CO2 yr-1); x_high (n_high, N) indicators; c (n_low, n_high) from
    :func:`nowcast.disaggregate.aggregation_matrix`.  Returns (values (n_high, N) with
    ``c @ values == y_low`` to ~1e-12, rho (N,)).  Series whose indicator aggregates to zero get NaN.
    """
    y = np.asarray(y_low, dtype=np.float64)
    x = np.asarray(x_high, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    if y.ndim != 2 or x.ndim != 2 or c.shape != (y.shape[0], x.shape[0]) or y.shape[1] != x.shape[1]:
        raise DailyError(f"shapes do not fit: y {y.shape}, x {x.shape}, C {c.shape}")
    if y.shape[0] < 2:
        raise DailyError("Chow-Lin needs at least 2 benchmarks")
    xa = c @ x
    facts = []
    best_llf = np.full(y.shape[1], -np.inf)
    best = np.zeros(y.shape[1], dtype=int)
    for k, rho in enumerate(rho_grid):
        vct = _v_ct(c, float(rho))
        sigma = c @ vct
        sigma = 0.5 * (sigma + sigma.T)
        chol = np.linalg.cholesky(sigma)
        logdet = 2.0 * float(np.log(np.diag(chol)).sum())
        _, llf = _gls_many(y, xa, chol, logdet)
        better = llf > best_llf
        best[better], best_llf[better] = k, llf[better]
        facts.append((vct, chol, logdet))
    values = np.full(x.shape, np.nan)
    for k in np.unique(best):
        cols = np.flatnonzero(best == k)
        vct, chol, logdet = facts[k]
        beta, llf = _gls_many(y[:, cols], xa[:, cols], chol, logdet)
        fit = x[:, cols] * beta
        v = fit + vct @ sla.cho_solve((chol, True), y[:, cols] - c @ fit)
        v = v + vct @ sla.cho_solve((chol, True), y[:, cols] - c @ v)  # refinement: exact benchmarks
        values[:, cols] = np.where(np.isfinite(beta), v, np.nan)
    return values, np.asarray(rho_grid)[best]


# --------------------------------------------------------------------------- annual -> daily


def _full_years(indicator: pd.DataFrame) -> pd.DataFrame:
    """(year, region) True where the indicator has a finite value on every day of the year."""
    idx = pd.DatetimeIndex(indicator.index)
    counts = pd.DataFrame(np.isfinite(indicator.to_numpy(np.float64)), index=idx).groupby(idx.year).sum()
    n_days = np.array([366 if pd.Timestamp(f"{y}-12-31").dayofyear == 366 else 365 for y in counts.index])
    return pd.DataFrame(counts.to_numpy() == n_days[:, None], index=counts.index)


def _complete_years(ok: np.ndarray, years_idx: np.ndarray, last: int) -> list[int]:
    """Longest run of years ending at ``last`` where ``ok`` (year,) holds (benchmark and indicator complete)."""
    pos = {int(y): k for k, y in enumerate(years_idx)}
    run = []
    y = last
    while y in pos and ok[pos[y]]:
        run.append(y)
        y -= 1
    return run[::-1]


def _pro_rata(annual: np.ndarray, ind: np.ndarray, year_of_day: np.ndarray, years: list[int]) -> np.ndarray:
    """daily = indicator x annual / sum(indicator in the year); flat where the indicator sums to 0."""
    out = np.zeros_like(ind)
    for k, y in enumerate(years):
        m = year_of_day == y
        s = ind[m].sum(axis=0)
        flat = s <= 0
        share = np.where(flat[None, :], 1.0 / m.sum(), ind[m] / np.where(flat, 1.0, s)[None, :])
        out[m] = share * annual[k][None, :]
    return out


def annual_to_daily(annual: pd.DataFrame, indicator: pd.DataFrame, years: Sequence[int],
                    chow_lin: np.ndarray | Sequence[bool]) -> DailyTotals:
    """Spread annual totals over the days of ``years`` following a daily indicator.

    annual : index year (int), columns regions, kg CO2 yr-1 (history years feed Chow-Lin).
    indicator : index days (covering every day of ``years``; earlier days for Chow-Lin history),
        columns the same regions, relative activity >= 0, NaN where absent.
    chow_lin : (region,) True where the indicator carries year-to-year information.
    Returns :class:`DailyTotals` on the days of ``years``; each year's days sum to its annual total.
    """
    years = sorted(int(y) for y in years)
    days = year_days(years)
    if list(annual.columns) != list(indicator.columns):
        raise DailyError("annual totals and indicator must have the same region columns in the same order")
    missing = [y for y in years if y not in annual.index]
    if missing:
        raise DailyError(f"no annual totals for {missing}")
    target = annual.loc[years].to_numpy(np.float64)
    if not np.all(np.isfinite(target)) or np.any(target < 0):
        raise DailyError("annual totals of the target years must be finite and >= 0")
    ind_t = indicator.reindex(days).to_numpy(np.float64)
    if not np.all(np.isfinite(ind_t)) or np.any(ind_t < 0):
        bad = sorted({str(indicator.columns[j]) for j in np.flatnonzero(~np.isfinite(ind_t).all(axis=0))})
        raise DailyError(f"the daily indicator must be finite and >= 0 on every target day (regions {bad[:5]})")
    year_of_day = days.year.to_numpy()
    values = _pro_rata(target, ind_t, year_of_day, years)
    n = len(annual.columns)
    methods = [PRO_RATA_METHOD] * n
    monthly_out = None
    want = np.asarray(chow_lin, dtype=bool)
    if want.shape != (n,):
        raise DailyError(f"chow_lin mask has shape {want.shape}, expected ({n},)")
    # group regions by their Chow-Lin window
    windows: dict[tuple[int, int], list[int]] = {}
    if want.any():
        full = _full_years(indicator)
        ok_years = full.reindex(index=annual.index, fill_value=False).to_numpy(bool) \
            & np.isfinite(annual.to_numpy(np.float64))
    for j in np.flatnonzero(want):
        run = _complete_years(ok_years[:, j], annual.index.to_numpy(), years[-1])
        if len(run) >= CHOW_LIN_MIN_YEARS and run[0] <= years[0]:
            windows.setdefault((run[0], run[-1]), []).append(int(j))
    months_all: dict[int, pd.Series] = {}
    for (y0, y1), cols in windows.items():
        wdays = pd.date_range(f"{y0}-01-01", f"{y1}-12-31", freq="D")
        ind_w = indicator.iloc[:, cols].reindex(wdays).to_numpy(np.float64)
        mlabels = wdays.to_period("M")
        months = pd.PeriodIndex(pd.unique(mlabels))
        m_ind = pd.DataFrame(ind_w, index=mlabels).groupby(level=0).sum().to_numpy()
        c = aggregation_matrix(months.to_timestamp(), "YS")
        y_low = annual.loc[list(range(y0, y1 + 1))].iloc[:, cols].to_numpy(np.float64)
        monthly, _ = chow_lin_many(y_low, m_ind, c)
        mt = months.to_timestamp()
        in_target = np.asarray(mt.year.isin(years))
        c_day = aggregation_matrix(days, "MS")
        for q, col in enumerate(int(c_) for c_ in cols):
            mv = monthly[in_target, q]
            if not np.all(np.isfinite(mv)) or np.any(mv < 0):
                continue  # keep pro-rata
            try:
                d = denton_cholette(mv, ind_t[:, col], c_day)
            except DisaggregationError:
                continue
            if np.any(d < 0):
                continue
            values[:, col] = d
            methods[col] = f"{CHOW_LIN_METHOD} over {y0}-{y1} + {DENTON_METHOD}"
            months_all[col] = pd.Series(monthly[:, q], index=mt)
    # exact benchmarks: per-year proportional correction (changes values by ~1e-12 relative at most)
    for k, y in enumerate(years):
        m = year_of_day == y
        s = values[m].sum(axis=0)
        scale = np.where(s > 0, target[k] / np.where(s > 0, s, 1.0), 0.0)
        values[m] *= scale[None, :]
    if months_all:
        monthly_out = pd.DataFrame({annual.columns[j]: s for j, s in months_all.items()})
    return DailyTotals(days, values, tuple(methods), monthly_out)


# --------------------------------------------------------------------------- nowcast past the inventory


@dataclass(frozen=True)
class NowcastTotals:
    """Nowcast annual totals (year, region) kg CO2 yr-1, their relative 1-sigma and method per region."""

    years: tuple[int, ...]
    values: np.ndarray
    rel_sigma: np.ndarray
    methods: tuple[str, ...]


def nowcast_totals(history: pd.DataFrame, years: Sequence[int],
                   exog: dict[str, pd.DataFrame] | None = None) -> NowcastTotals:
    """Nowcast annual totals past the last inventory year, per region.

    history : index year (int), columns regions, totals (any flow unit, e.g. kg CO2 yr-1) up to the
        last inventory year L.  years : L+1, L+2, ... (consecutive).  exog : optional annual
        indicators per region (index year), passed to :func:`nowcast.models.nowcast_annual` (used only
        where they cover the years the model needs).
    The horizon-h value iterates the one-year model on its own previous nowcasts; its relative
    1-sigma is the quadrature sum of the one-year sigmas (a random walk in the growth error).
    Regions with no positive history get 0 and sigma 0.
    """
    years = sorted(int(y) for y in years)
    last = int(history.index.max())
    if years[0] != last + 1 or years != list(range(years[0], years[-1] + 1)):
        raise DailyError(f"nowcast years must run on from the last inventory year {last}: got {years}")
    out = np.zeros((len(years), history.shape[1]))
    sig = np.zeros_like(out)
    methods = []
    for j, region in enumerate(history.columns):
        s = history.iloc[:, j].astype(np.float64).dropna()
        if not (s > 0).any():
            methods.append("zero (no positive inventory values)")
            continue
        ex = exog.get(str(region)) if exog else None
        var = 0.0
        method = ""
        for k, y in enumerate(years):
            try:
                nc = nowcast_annual(s, ex)
            except NowcastError:
                break
            var += float(interval_to_rel_sigma(nc.lower, nc.upper, nc.level)) ** 2
            out[k, j], sig[k, j] = nc.mean, np.sqrt(var)
            method = nc.method
            s = pd.concat([s, pd.Series([nc.mean], index=[y])])
        methods.append(method or "unavailable")
    return NowcastTotals(tuple(years), out, sig, tuple(methods))


def ragged_edge_months(monthly_history: np.ndarray, indicator_history: np.ndarray,
                       indicator_edge: np.ndarray, alpha: float = 0.10) -> tuple[np.ndarray, np.ndarray, str]:
    """SARIMAX forecast of the months past the inventory that already have an indicator.

    monthly_history (n,) kg CO2 month-1 (the Chow-Lin months of the inventory years);
    indicator_history (n,) and indicator_edge (h,) the monthly indicator (positive, any units).
    Model: AR(1) on log emissions with a constant and ``log indicator`` as exog
    (:func:`nowcast.models.state_space_forecast`).  Returns (mean (h,) kg CO2 month-1, relative
    1-sigma (h,) from the ``1 - alpha`` interval, method name).
    """
    y = np.asarray(monthly_history, dtype=np.float64)
    xh = np.asarray(indicator_history, dtype=np.float64)
    xe = np.asarray(indicator_edge, dtype=np.float64)
    if xh.shape != y.shape or np.any(xh <= 0) or np.any(xe <= 0):
        raise DailyError("ragged edge: indicator history must match the months and be positive")
    fc = state_space_forecast(y, xe.size, np.log(xh)[:, None], np.log(xe)[:, None], alpha=alpha)
    return fc.mean, interval_to_rel_sigma(fc.lower, fc.upper, fc.level), fc.method
