"""Temporal disaggregation: annual -> monthly (Chow-Lin, Fernandez) and monthly -> daily (Denton-Cholette).

All functions are pure: arrays in, arrays out.  Units pass straight through: if the low-frequency
benchmarks are in kg CO2 per period (e.g. kg CO2 yr-1 summed over a year), the high-frequency result
is in kg CO2 per high-frequency period (e.g. kg CO2 month-1 or kg CO2 day-1) and sums back to them.

The link between frequencies is an explicit aggregation matrix ``C`` of shape ``(n_low, n_high)``:
``C @ x_high == y_low``.  :func:`aggregation_matrix` builds it from real calendars (months of 28-31
days, leap years with 366 days) and keeps only *complete* low-frequency periods, so a partial year at
the end (the ragged edge) carries no benchmark: its high-frequency values are extrapolated by the
regression (Chow-Lin/Fernandez) or by the last benchmark-to-indicator ratio (Denton-Cholette), and
the nowcast (:mod:`nowcast.models`) supplies the level there.

References: Chow & Lin (1971), Fernandez (1981), Denton (1971), Cholette (1984), Dagum & Cholette
(2006) "Benchmarking, temporal distribution and reconciliation methods for time series".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import statsmodels.api as sm
from scipy.optimize import minimize_scalar

from carbonmap.errors import InvalidInput

Agg = Literal["sum", "mean", "first", "last"]
LowFreq = Literal["MS", "YS"]

_PERIOD_CODE = {"MS": "M", "YS": "Y"}


class DisaggregationError(InvalidInput):
    """Inputs to a temporal disaggregation are inconsistent (shapes, empty periods, bad values)."""


# --------------------------------------------------------------------------- aggregation matrices


def low_periods(high_index: pd.DatetimeIndex, low: LowFreq, complete_only: bool = True) -> pd.PeriodIndex:
    """The low-frequency periods (months ``'MS'`` or years ``'YS'``) spanned by ``high_index``.

    With ``complete_only`` only periods whose every high-frequency step lies in ``high_index`` are
    returned (a year needs all 365/366 days, or all 12 months).  dims (n_low,).
    """
    if low not in _PERIOD_CODE:
        raise DisaggregationError(f"low frequency must be 'MS' or 'YS', got {low!r}")
    if not isinstance(high_index, pd.DatetimeIndex) or len(high_index) == 0:
        raise DisaggregationError("high_index must be a non-empty pandas DatetimeIndex")
    if not high_index.is_monotonic_increasing or high_index.has_duplicates:
        raise DisaggregationError("high_index must be strictly increasing")
    high_freq = pd.infer_freq(high_index) if len(high_index) >= 3 else None
    if high_freq is None:
        raise DisaggregationError("high_index must be a regular series (daily 'D' or monthly 'MS') of 3+ steps")
    labels = high_index.to_period(_PERIOD_CODE[low])
    uniq = pd.PeriodIndex(pd.unique(labels))
    if not complete_only:
        return uniq
    counts = pd.Series(1, index=labels).groupby(level=0).sum()
    keep = []
    for p in uniq:
        expected = len(pd.date_range(p.start_time, p.end_time.normalize(), freq=high_freq))
        if counts[p] == expected:
            keep.append(p)
    return pd.PeriodIndex(keep, freq=_PERIOD_CODE[low])


def aggregation_matrix(high_index: pd.DatetimeIndex, low: LowFreq, agg: Agg = "sum",
                       complete_only: bool = True) -> np.ndarray:
    """Aggregation matrix ``C`` with ``C @ x_high = x_low``, dims (n_low, n_high), float64.

    Rows are the low-frequency periods of :func:`low_periods` (complete ones only by default, so a
    partial final year has no row); columns are the steps of ``high_index`` (daily or monthly).
    ``agg='sum'`` puts 1 on each member (flows: kg per period), ``'mean'`` puts 1/len (rates),
    ``'first'``/``'last'`` pick one member (stocks).  Months have their true 28-31 days and leap
    years 366 days because membership comes from the calendar, not from a fixed ratio.
    """
    periods = low_periods(high_index, low, complete_only=complete_only)
    labels = high_index.to_period(_PERIOD_CODE[low])
    c = np.zeros((len(periods), len(high_index)))
    for i, p in enumerate(periods):
        members = np.flatnonzero(labels == p)
        if agg == "sum":
            c[i, members] = 1.0
        elif agg == "mean":
            c[i, members] = 1.0 / members.size
        elif agg == "first":
            c[i, members[0]] = 1.0
        elif agg == "last":
            c[i, members[-1]] = 1.0
        else:
            raise DisaggregationError(f"agg must be sum, mean, first or last, got {agg!r}")
    return c


def regular_aggregation_matrix(n_low: int, ratio: int, n_high: int | None = None, agg: Agg = "sum") -> np.ndarray:
    """Aggregation matrix for a fixed ``ratio`` of high steps per low step, dims (n_low, n_high).

    ``n_high`` may exceed ``n_low * ratio``: the extra columns (the ragged edge) are all zero.
    """
    if ratio < 1 or n_low < 1:
        raise DisaggregationError(f"need n_low >= 1 and ratio >= 1, got {n_low}, {ratio}")
    n_high = n_low * ratio if n_high is None else n_high
    if n_high < n_low * ratio:
        raise DisaggregationError(f"n_high={n_high} is shorter than n_low*ratio={n_low * ratio}")
    block = {"sum": np.ones(ratio), "mean": np.full(ratio, 1.0 / ratio),
             "first": np.eye(ratio)[0], "last": np.eye(ratio)[-1]}.get(agg)
    if block is None:
        raise DisaggregationError(f"agg must be sum, mean, first or last, got {agg!r}")
    c = np.zeros((n_low, n_high))
    for i in range(n_low):
        c[i, i * ratio:(i + 1) * ratio] = block
    return c


def _conversion(y_low: np.ndarray, n_high: int, ratio: int | np.ndarray, agg: Agg) -> np.ndarray:
    if isinstance(ratio, (int, np.integer)):
        c = regular_aggregation_matrix(y_low.size, int(ratio), n_high, agg)
    else:
        c = np.asarray(ratio, dtype=np.float64)
    if c.shape != (y_low.size, n_high):
        raise DisaggregationError(f"aggregation matrix has shape {c.shape}, expected {(y_low.size, n_high)}")
    if np.any(~c.any(axis=1)):
        raise DisaggregationError("a low-frequency period has no high-frequency members")
    return c


# --------------------------------------------------------------------------- regression methods


def _ar1_precision_banded(n: int, rho: float) -> np.ndarray:
    """Upper banded form of Q = D'D for AR(1) innovations (unit innovation variance), (2, n).

    D has first row sqrt(1-rho^2) e_1 and rows e_t - rho e_{t-1}; V = Q^-1 is the stationary AR(1)
    covariance rho^|i-j| / (1 - rho^2).  With rho = 1 and first row e_1, D is Fernandez's random walk.
    """
    diag = np.full(n, 1.0 + rho * rho)
    diag[-1] = 1.0
    # first row: (1 - rho^2) + rho^2 = 1 for stationary AR(1); 1 + 1 = 2 for a random walk from zero
    diag[0] = 2.0 if rho == 1.0 else 1.0
    off = np.full(n, -rho)
    off[0] = 0.0
    return np.vstack([off, diag])


def _v_ct(c: np.ndarray, rho: float) -> np.ndarray:
    """V C' for the AR(1)/random-walk covariance, solved on the tridiagonal precision, (n_high, n_low)."""
    n = c.shape[1]
    if n == 1:
        return c.T / (1.0 - rho * rho if rho < 1.0 else 1.0)
    return sla.solveh_banded(_ar1_precision_banded(n, rho), c.T, lower=False)


@dataclass(frozen=True)
class DisaggregationResult:
    """High-frequency series and the regression behind it.

    ``values`` dims (n_high,), in the benchmarks' units per high-frequency period; ``rho`` the AR(1)
    coefficient of the high-frequency residual (1.0 for Fernandez); ``beta`` the GLS coefficients on
    the indicator columns (constant first when added); ``llf`` the aggregated GLS log-likelihood.
    """

    values: np.ndarray
    rho: float
    beta: np.ndarray
    llf: float
    method: str


def _gls_fit(y: np.ndarray, x: np.ndarray, c: np.ndarray, rho: float):
    vct = _v_ct(c, rho)
    sigma = c @ vct
    sigma = 0.5 * (sigma + sigma.T)
    res = sm.GLS(y, c @ x, sigma=sigma).fit()
    return res, vct, sigma


def _distribute(y: np.ndarray, x: np.ndarray, c: np.ndarray, rho: float, method: str) -> DisaggregationResult:
    res, vct, sigma = _gls_fit(y, x, c, rho)
    beta = np.asarray(res.params, dtype=np.float64)
    fit = x @ beta
    resid = y - c @ fit
    chol = sla.cho_factor(sigma)
    values = fit + vct @ sla.cho_solve(chol, resid)
    # one step of iterative refinement so C @ values == y to machine precision
    values = values + vct @ sla.cho_solve(chol, y - c @ values)
    return DisaggregationResult(values, float(rho), beta, float(res.llf), method)


def _design(x_high: np.ndarray, add_constant: bool) -> np.ndarray:
    x = np.asarray(x_high, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise DisaggregationError("x_high must be a finite (n_high,) or (n_high, k) array")
    if add_constant:
        x = np.column_stack([np.ones(x.shape[0]), x])
    return x


def _low(y_low: np.ndarray) -> np.ndarray:
    y = np.asarray(y_low, dtype=np.float64).ravel()
    if y.size < 1 or not np.all(np.isfinite(y)):
        raise DisaggregationError("y_low must be a non-empty finite array")
    return y


def chow_lin(y_low: np.ndarray, x_high: np.ndarray, agg: Agg = "sum", ratio: int | np.ndarray = 12, *,
             rho: float | None = None, add_constant: bool = True,
             rho_bounds: tuple[float, float] = (0.0, 0.99)) -> DisaggregationResult:
    """Chow-Lin temporal disaggregation with AR(1) residuals, fitted by GLS on the aggregated data.

    Parameters
    ----------
    y_low : (n_low,) benchmarks, e.g. kg CO2 yr-1 for complete years.
    x_high : (n_high,) or (n_high, k) indicators at high frequency (any units; a constant is added).
    agg : how the high-frequency values aggregate to a benchmark (``'sum'`` for flows).
    ratio : high steps per low step (int) or an explicit aggregation matrix (n_low, n_high) from
        :func:`aggregation_matrix`; extra high steps past the last benchmark are extrapolated.
    rho : fixed AR(1) coefficient; ``None`` estimates it by maximum likelihood of the aggregated GLS
        model (statsmodels ``GLS.llf`` over a grid, then bounded Brent refinement).

    Returns a :class:`DisaggregationResult`; ``values`` (n_high,) satisfy ``C @ values == y_low`` to
    ~1e-12 relative.
    """
    y = _low(y_low)
    x = _design(x_high, add_constant)
    c = _conversion(y, x.shape[0], ratio, agg)
    if y.size <= x.shape[1]:
        raise DisaggregationError(f"need more benchmarks ({y.size}) than regressors ({x.shape[1]})")
    if rho is None:
        lo, hi = rho_bounds
        grid = np.linspace(lo, hi, 23)
        llf = [(_gls_fit(y, x, c, r)[0].llf) for r in grid]
        i = int(np.nanargmax(llf))
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        if b > a:
            opt = minimize_scalar(lambda r: -_gls_fit(y, x, c, r)[0].llf, bounds=(a, b), method="bounded",
                                  options={"xatol": 1e-4})
            rho = float(opt.x) if -opt.fun >= llf[i] else float(grid[i])
        else:
            rho = float(grid[i])
    if not -1.0 < rho < 1.0:
        raise DisaggregationError(f"Chow-Lin rho must lie in (-1, 1), got {rho}")
    return _distribute(y, x, c, rho, "chow-lin")


def fernandez(y_low: np.ndarray, x_high: np.ndarray, agg: Agg = "sum", ratio: int | np.ndarray = 12, *,
              add_constant: bool = False) -> DisaggregationResult:
    """Fernandez (1981) disaggregation: random-walk residuals (Chow-Lin with rho = 1), GLS fit.

    Same inputs and units as :func:`chow_lin`.  Without a constant by default (a constant is not
    identified against a random walk started at zero).  ``values`` dims (n_high,).
    """
    y = _low(y_low)
    x = _design(x_high, add_constant)
    c = _conversion(y, x.shape[0], ratio, agg)
    if y.size < x.shape[1]:
        raise DisaggregationError(f"need at least as many benchmarks ({y.size}) as regressors ({x.shape[1]})")
    return _distribute(y, x, c, 1.0, "fernandez")


# --------------------------------------------------------------------------- Denton-Cholette


def denton_cholette(benchmarks: np.ndarray, indicator: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Proportional first-difference Denton-Cholette benchmarking, dims (n_high,).

    Finds ``x`` minimising ``sum_t (x_t/i_t - x_{t-1}/i_{t-1})**2`` subject to ``c @ x == benchmarks``
    (Cholette's variant: no constraint on the first period), i.e. the benchmark-to-indicator ratio
    moves as smoothly as possible.  The result keeps the indicator's day-to-day shape and hits every
    benchmark exactly (to ~1e-12 relative).  High-frequency steps not covered by any row of ``c`` (a
    partial final month or year) get the last ratio carried forward: ``x = i * ratio_last``.

    Parameters
    ----------
    benchmarks : (n_low,) e.g. kg CO2 month-1.
    indicator : (n_high,) non-negative daily profile (any units; only its shape matters).
    c : (n_low, n_high) aggregation matrix (:func:`aggregation_matrix`).
    """
    b = _low(benchmarks)
    ind = np.asarray(indicator, dtype=np.float64).ravel()
    c = np.asarray(c, dtype=np.float64)
    n = ind.size
    if c.shape != (b.size, n):
        raise DisaggregationError(f"aggregation matrix has shape {c.shape}, expected {(b.size, n)}")
    if not np.all(np.isfinite(ind)) or np.any(ind < 0):
        raise DisaggregationError("indicator must be finite and non-negative")
    covered = c @ ind
    bad = (covered <= 0) & (b != 0)
    if np.any(bad):
        raise DisaggregationError(f"indicator is zero over {int(bad.sum())} period(s) with a non-zero benchmark")
    # Work with z = x / i on days with i > 0 (x = 0 where the indicator is 0).
    pos = ind > 0
    idx = np.flatnonzero(pos)
    m = idx.size
    a = sp.csr_matrix(c[:, idx] * ind[idx][None, :])
    if m == 1:
        z = np.array([b.sum() / a.sum()])
    else:
        d = sp.diags([-np.ones(m - 1), np.ones(m - 1)], [0, 1], shape=(m - 1, m))
        kkt = sp.bmat([[2.0 * (d.T @ d), a.T], [a, None]], format="csc")
        rhs = np.concatenate([np.zeros(m), b])
        sol = spla.spsolve(kkt, rhs)
        z = sol[:m]
        # iterative refinement for exact benchmarks
        resid = b - a @ z
        if np.any(np.abs(resid) > 0):
            sol2 = spla.spsolve(kkt, np.concatenate([np.zeros(m), resid]))
            z = z + sol2[:m]
    x = np.zeros(n)
    x[idx] = z * ind[idx]
    return x


def monthly_to_daily(monthly: pd.Series, daily_indicator: pd.Series) -> pd.Series:
    """Denton-Cholette monthly -> daily on calendar months, dims (day,).

    ``monthly`` is indexed by month starts (kg CO2 month-1); ``daily_indicator`` by days.  Months that
    are incomplete in the daily index get no benchmark (ragged edge: last ratio carried forward).
    Returns kg CO2 day-1 indexed like ``daily_indicator``.
    """
    days = pd.DatetimeIndex(daily_indicator.index)
    periods = low_periods(days, "MS")
    c = aggregation_matrix(days, "MS")
    wanted = monthly.index.to_period("M") if isinstance(monthly.index, pd.DatetimeIndex) else monthly.index
    bench = pd.Series(np.asarray(monthly, dtype=np.float64), index=wanted)
    missing = [str(p) for p in periods if p not in bench.index]
    if missing:
        raise DisaggregationError(f"no monthly benchmark for complete month(s) {', '.join(missing[:3])}")
    return pd.Series(denton_cholette(bench.loc[periods].to_numpy(), daily_indicator.to_numpy(), c), index=days)
