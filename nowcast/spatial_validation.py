"""Agreement of modelled province/state totals with held-out subnational statistics (pure, issue #16.8).

Inputs are two Series over the same provinces: the model's sector totals (built WITHOUT the statistics being
scored) and the statistics. Both are turned into shares of their sum, so units and national-level differences
drop out: the test is where the model puts a country's emissions.

- :func:`agreement`: Spearman rank correlation, median |log ratio| of the shares, share of provinces within
  +-30 %, and the emission-weighted versions of the last two.
- :func:`calibrate_sigma`: a robust log-scale sigma of province shares (1.4826 x median |log ratio|), the rule of
  the province interval; :func:`coverage90` the share of provinces whose statistic falls inside the 90 %
  interval ``model x exp(+-1.645 sigma)``. The report calibrates on all countries but one and scores the one left
  out (leave-one-country-out), so no country's coverage is measured on its own calibration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

Z90 = 1.6448536269514722
WITHIN = 0.30
"""+-30 %: a province's modelled share is 'within' when it lies between 1/1.3 and 1.3 of the statistic's."""


def _shares(model: pd.Series, stats: pd.Series) -> tuple[pd.Series, pd.Series]:
    idx = model.index.intersection(stats.index)
    m = model.reindex(idx).astype(float).clip(lower=0.0)
    s = stats.reindex(idx).astype(float).clip(lower=0.0)
    keep = (s > 0) & (m >= 0)
    m, s = m[keep], s[keep]
    if m.sum() <= 0 or s.sum() <= 0:
        raise ValueError("model and statistics need positive totals over common provinces")
    return m / m.sum(), s / s.sum()


def log_ratios(model: pd.Series, stats: pd.Series, floor: float = 1e-6) -> pd.Series:
    """log(model share / statistic share) per province (model shares floored at ``floor``)."""
    m, s = _shares(model, stats)
    return np.log(np.maximum(m, floor) / s)


def agreement(model: pd.Series, stats: pd.Series) -> dict[str, float]:
    """Rank correlation and ratio statistics of province shares (see the module docstring)."""
    m, s = _shares(model, stats)
    lr = log_ratios(model, stats)
    within = np.abs(lr) <= np.log1p(WITHIN)
    rho = float(spearmanr(m.to_numpy(), s.to_numpy()).statistic) if len(m) > 2 else float("nan")
    return {
        "n": len(m),
        "spearman": rho,
        "median_abs_log_ratio": float(np.median(np.abs(lr))),
        "within_30pct": float(within.mean()),
        "weighted_within_30pct": float((within * s).sum()),
        "weighted_abs_log_ratio": float((np.abs(lr) * s).sum()),
    }


def calibrate_sigma(log_ratio: pd.Series | np.ndarray) -> float:
    """Robust sigma of log share errors: 1.4826 x median |log ratio| (the normal's MAD scale)."""
    x = np.abs(np.asarray(log_ratio, dtype=np.float64))
    if x.size == 0:
        raise ValueError("no log ratios to calibrate on")
    return float(1.4826 * np.median(x))


def coverage90(log_ratio: pd.Series | np.ndarray, sigma: float) -> float:
    """Share of provinces whose statistic lies inside model x exp(+-1.645 sigma)."""
    x = np.abs(np.asarray(log_ratio, dtype=np.float64))
    return float((x <= Z90 * sigma).mean()) if x.size else float("nan")


def leave_one_out(log_ratio_by_country: dict[str, pd.Series]) -> dict[str, dict[str, float]]:
    """Per country: sigma calibrated on the other countries and this country's 90 % coverage with it."""
    out = {}
    for c, lr in log_ratio_by_country.items():
        others = [v for k, v in log_ratio_by_country.items() if k != c]
        if not others:
            continue
        sigma = calibrate_sigma(pd.concat(others))
        out[c] = {"sigma_from_others": sigma, "coverage90": coverage90(lr, sigma)}
    return out
