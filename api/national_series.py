"""Region totals from the national table: sums per period and sector with a 90% interval.

Pure functions, arrays in and arrays out.  Inputs are the cube's ``national_emissions``
(kg CO2 day-1) and ``national_uncertainty`` (relative 1-sigma), dims (time, sector, country).

The interval rule (documented in the API):

- the 1-sigma of one country, sector and day is ``relative sigma x emissions``;
- within one country, errors are **fully correlated** across days and across sectors
  (they come from the same national inventory and the same temporal/sector split), so
  their sigmas add linearly;
- errors of different countries (and of the XIA/XIS international bunkers) are
  **independent**, so their sigmas add in quadrature;
- the 90% interval is ``estimate +- 1.6449 sigma`` (normal), with the lower bound
  clipped at 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from carbonmap.errors import InvalidInput

Freq = Literal["day", "month", "year"]

Z90 = 1.6448536269514722
"""Two-sided 90% quantile of the standard normal, norm.ppf(0.95)."""

KG_PER_T = 1000.0

_PANDAS_FREQ = {"day": "D", "month": "M", "year": "Y"}
_LABEL_FORMAT = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


@dataclass(frozen=True)
class PeriodTotals:
    """Totals per period, in t CO2 per period.

    ``estimate``/``sigma`` dims (period, sector); ``total_estimate``/``total_sigma`` dims (period,)
    for the sum of the given sectors.  ``first``/``last`` are the first and last day of each
    period inside the query window; ``days`` how many days each period holds there.
    """

    labels: tuple[str, ...]
    first: tuple[pd.Timestamp, ...]
    last: tuple[pd.Timestamp, ...]
    days: np.ndarray
    estimate: np.ndarray
    sigma: np.ndarray
    total_estimate: np.ndarray
    total_sigma: np.ndarray


def interval90(estimate: ArrayLike, sigma: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) of the 90% interval, same units and dims as ``estimate``; lower clipped at 0."""
    estimate = np.asarray(estimate, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    return np.maximum(estimate - Z90 * sigma, 0.0), estimate + Z90 * sigma


def period_codes(times: pd.DatetimeIndex, freq: Freq) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer period index of each day, dims (time,), and each period's label ('2024-03', ...)."""
    if freq not in _PANDAS_FREQ:
        raise InvalidInput(f"freq must be one of day, month, year, got {freq!r}")
    periods = times.to_period(_PANDAS_FREQ[freq])
    codes, uniques = pd.factorize(periods, sort=True)
    labels = tuple(p.start_time.strftime(_LABEL_FORMAT[freq]) for p in uniques)
    return codes.astype(np.int64), labels


def aggregate(national_kg: np.ndarray, relative_sigma: np.ndarray, times: pd.DatetimeIndex,
              freq: Freq) -> PeriodTotals:
    """Sum national daily totals over periods, countries and sectors with the module's interval rule.

    ``national_kg``: kg CO2 day-1, dims (time, sector, country); ``relative_sigma`` the same
    dims, dimensionless.  Returns t CO2 per period.
    """
    e = np.asarray(national_kg, dtype=np.float64)
    r = np.asarray(relative_sigma, dtype=np.float64)
    if e.ndim != 3 or e.shape != r.shape or e.shape[0] != len(times):
        raise ValueError(f"expected matching (time, sector, country) arrays over {len(times)} days, "
                         f"got {e.shape} and {r.shape}")
    codes, labels = period_codes(times, freq)
    n_periods = len(labels)
    sigma_abs = np.abs(r) * np.abs(e)
    # (period, sector, country): sums over days; sigmas add linearly (correlated within a country)
    est_psc = np.zeros((n_periods,) + e.shape[1:])
    sig_psc = np.zeros_like(est_psc)
    np.add.at(est_psc, codes, e)
    np.add.at(sig_psc, codes, sigma_abs)
    estimate = est_psc.sum(axis=2)
    sigma = np.sqrt((sig_psc**2).sum(axis=2))  # countries independent
    total_estimate = est_psc.sum(axis=(1, 2))
    total_sigma = np.sqrt((sig_psc.sum(axis=1) ** 2).sum(axis=1))  # sectors correlated within a country
    days = np.bincount(codes, minlength=n_periods)
    first = tuple(times[codes == p][0] for p in range(n_periods))
    last = tuple(times[codes == p][-1] for p in range(n_periods))
    return PeriodTotals(labels, first, last, days, estimate / KG_PER_T, sigma / KG_PER_T,
                        total_estimate / KG_PER_T, total_sigma / KG_PER_T)


def evidence_shares(national_kg: np.ndarray, evidence: np.ndarray, times: pd.DatetimeIndex, freq: Freq,
                    n_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Share of each period's emissions that rests on each evidence level (dimensionless, sums to 1).

    ``national_kg`` kg CO2 day-1 and ``evidence`` int codes (-1 = none), both dims (time, sector, country).
    Returns (per sector: dims (period, sector, level); total over sectors: dims (period, level)); NaN where a
    period has no emissions."""
    codes, labels = period_codes(times, freq)
    n_p = len(labels)
    x = np.asarray(national_kg, dtype=np.float64)
    ev = np.asarray(evidence)
    by = np.zeros((n_p, x.shape[1], n_levels))
    for level in range(n_levels):
        w = np.where(ev == level, x, 0.0).sum(axis=2)  # (time, sector)
        np.add.at(by[:, :, level], codes, w)
    tot = by.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_sector = by / by.sum(axis=2, keepdims=True)
        total = tot / tot.sum(axis=1, keepdims=True)
    return per_sector, total
