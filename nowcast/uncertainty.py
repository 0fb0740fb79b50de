"""Uncertainty: prediction intervals -> relative 1-sigma, and how national and proxy errors combine.

All uncertainties here are *relative* 1-sigma (standard deviation / estimate, dimensionless), the
``uncertainty`` variable of the cube contract.

Rules (documented for the dataset metadata):

1. **Interval -> sigma.**  The nowcast models work on log emissions, so a two-sided interval at
   coverage ``level`` maps to ``sigma_rel = (ln(upper) - ln(lower)) / (2 z)`` with
   ``z = Phi^-1((1 + level) / 2)`` (1.645 for 90%).  For small sigma this equals the usual
   (upper - lower) / (2 z mean).
2. **Combining independent relative errors in quadrature.**  A cell value is a product
   ``E_cell = E_national x w_cell / sum(w)``; for independent multiplicative errors the relative
   variances add (first order): ``sigma_cell = sqrt(sigma_national^2 + sigma_proxy^2)``.  The same rule
   adds the inventory error of the baseline year, the nowcast error of later years and the daily
   profile error of a single day.
3. **Summing cells or days.**  Errors that share the national term are fully correlated; proxy
   errors of different cells are independent.  :func:`aggregate_rel_sigma` applies that to a sum.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from carbonmap.errors import InvalidInput
from nowcast.proxies import PROXY_REL_SIGMA  # the one table of proxy errors (the build's)

__all__ = ["PROXY_REL_SIGMA", "UncertaintyError", "aggregate_rel_sigma", "cell_rel_sigma", "combine_rel_sigma", "coverage",
           "interval_to_rel_sigma", "rel_sigma_to_interval"]

DAILY_PROFILE_REL_SIGMA: dict[str, float] = {
    "power": 0.05,
    "industry": 0.08,
    "ground_transport": 0.08,
    "residential": 0.15,
    "domestic_aviation": 0.10,
    "international_aviation": 0.10,
    "international_shipping": 0.10,
}
"""Assumed relative 1-sigma of one day's share of its month (the daily profile error) by sector."""


class UncertaintyError(InvalidInput):
    """Uncertainty inputs are inconsistent (upper below lower, non-positive values, bad level)."""


def interval_to_rel_sigma(lower: ArrayLike, upper: ArrayLike, level: float = 0.9) -> np.ndarray:
    """Relative 1-sigma from a log-symmetric prediction interval (rule 1), same shape as inputs.

    ``lower`` and ``upper`` are the interval bounds (positive, any flow unit); ``level`` its coverage.
    """
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    if not 0.0 < level < 1.0:
        raise UncertaintyError(f"interval level must lie in (0, 1), got {level}")
    if np.any(lo <= 0) or np.any(hi < lo):
        raise UncertaintyError("interval bounds must be positive with upper >= lower")
    z = norm.ppf(0.5 + level / 2.0)
    return (np.log(hi) - np.log(lo)) / (2.0 * z)


def rel_sigma_to_interval(mean: np.ndarray, rel_sigma: np.ndarray, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`interval_to_rel_sigma`: (lower, upper) of a log-normal interval around ``mean``."""
    m = np.asarray(mean, dtype=np.float64)
    s = np.asarray(rel_sigma, dtype=np.float64)
    z = norm.ppf(0.5 + level / 2.0)
    return m * np.exp(-z * s), m * np.exp(z * s)


def combine_rel_sigma(*rel_sigmas: np.ndarray | float) -> np.ndarray:
    """Independent relative errors combined in quadrature (rule 2); broadcasts its inputs."""
    if not rel_sigmas:
        raise UncertaintyError("give at least one relative sigma")
    arrs = [np.asarray(r, dtype=np.float64) for r in rel_sigmas]
    for a in arrs:
        if np.any(a < 0) or not np.all(np.isfinite(a)):
            raise UncertaintyError("relative sigmas must be finite and non-negative")
    return np.sqrt(sum(a * a for a in arrs))


def cell_rel_sigma(national_rel: np.ndarray | float, sector: str, proxy_rel: np.ndarray | float | None = None
                   ) -> np.ndarray:
    """Per-cell relative 1-sigma = sqrt(national^2 + proxy^2) (rule 2).

    ``proxy_rel`` defaults to :data:`PROXY_REL_SIGMA` for the sector; pass an array (lat, lon) for a
    cell-varying proxy error.
    """
    if proxy_rel is None:
        if sector not in PROXY_REL_SIGMA:
            raise UncertaintyError(f"no proxy error for unknown sector {sector!r}")
        proxy_rel = PROXY_REL_SIGMA[sector]
    return combine_rel_sigma(national_rel, proxy_rel)


def aggregate_rel_sigma(values: np.ndarray, national_rel: float, proxy_rel: np.ndarray | float) -> float:
    """Relative 1-sigma of ``values.sum()`` (rule 3): national part correlated, proxy parts independent.

    ``values`` are the cell (or day) estimates being summed (kg), ``proxy_rel`` their own relative
    proxy errors.  ``sigma^2 = (national_rel * S)^2 + sum((proxy_rel_i * v_i)^2)``, divided by ``S``.
    """
    v = np.asarray(values, dtype=np.float64)
    total = v.sum()
    if total <= 0:
        return 0.0
    p = np.broadcast_to(np.asarray(proxy_rel, dtype=np.float64), v.shape)
    var = (national_rel * total) ** 2 + np.sum((p * v) ** 2)
    return float(np.sqrt(var) / total)


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of outcomes inside their intervals (dimensionless, 0..1); NaNs are ignored."""
    a, lo, hi = (np.asarray(x, dtype=np.float64) for x in (actual, lower, upper))
    ok = np.isfinite(a) & np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        raise UncertaintyError("no finite outcomes to score coverage on")
    return float(np.mean((a[ok] >= lo[ok]) & (a[ok] <= hi[ok])))
