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

from dataclasses import dataclass

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


# ----------------------------------------------------------------------------------------------- share interval rule
SHARE_REF = 0.03
"""Reference share of the rule: ``s0`` is the log-sigma of a region holding 3 % of its country's sector."""
SHARE_FLOOR = 1e-6


@dataclass(frozen=True)
class ShareIntervalRule:
    """Log-scale 1-sigma of a region's modelled share ``f`` of its country's sector total (issue #16.6).

    ``sigma(f) = s0 x (f / 0.03) ** -beta x (1 - f)``: small regions are placed worse (``beta`` > 0), and a
    region holding the whole country has no allocation error (the national interval alone). Dimensionless.
    """

    s0: float
    beta: float
    ref: float = SHARE_REF

    def log_sigma(self, share: np.ndarray | float) -> np.ndarray:
        """Log 1-sigma per region; ``share`` in [0, 1] (clipped), any shape."""
        f = np.clip(np.asarray(share, dtype=np.float64), 0.0, 1.0)
        return self.s0 * (np.maximum(f, SHARE_FLOOR) / self.ref) ** (-self.beta) * (1.0 - f)

    def covered(self, share: np.ndarray, abs_log_ratio: np.ndarray) -> np.ndarray:
        """Whether each statistic lies inside the 90 % interval ``model x exp(+-1.645 sigma(f))``."""
        return np.asarray(abs_log_ratio) <= Z90 * self.log_sigma(share)


def _set_coverage(rule: ShareIntervalRule, table: pd.DataFrame) -> float:
    """Mean over the table's sets (country x sector) of each set's 90 % coverage: every set counts equally."""
    return float(np.mean([rule.covered(g["share"].to_numpy(), g["abs_log_ratio"].to_numpy()).mean()
                          for _, g in table.groupby("set")]))


def fit_share_rule(table: pd.DataFrame, target: float = 0.90) -> ShareIntervalRule:
    """The narrowest rule (mean log width) whose 90 % intervals cover ``target`` of each set, sets weighted equally.

    ``table``: one row per held-out province with columns ``set`` (e.g. 'CHN power'), ``share`` (the model's
    share of its country's sector total) and ``abs_log_ratio`` (|log model share / statistic share|). For each
    ``beta`` on a grid 0..0.6, ``s0`` is found by bisection (coverage rises with ``s0``).
    """
    if table.empty:
        raise ValueError("no held-out provinces to calibrate the share interval rule on")
    best: tuple[float, ShareIntervalRule] | None = None
    for beta in np.round(np.arange(0.0, 0.61, 0.02), 2):
        lo, hi = 1e-3, 10.0
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            if _set_coverage(ShareIntervalRule(mid, float(beta)), table) >= target:
                hi = mid
            else:
                lo = mid
        rule = ShareIntervalRule(float(hi), float(beta))
        width = float(np.log(rule.log_sigma(table["share"].to_numpy())).mean())
        if best is None or width < best[0]:
            best = (width, rule)
    assert best is not None
    return best[1]


def leave_one_set_out(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per set: the rule fitted on the other sets and this set's 90 % coverage under it (honest coverage)."""
    out: dict[str, dict[str, float]] = {}
    for name, g in table.groupby("set"):
        rule = fit_share_rule(table[table["set"] != name])
        out[str(name)] = {"s0": rule.s0, "beta": rule.beta,
                          "coverage90": float(rule.covered(g["share"].to_numpy(), g["abs_log_ratio"].to_numpy()).mean()),
                          "n": len(g)}
    return out


def share_table(model: pd.Series, stats: pd.Series, name: str) -> pd.DataFrame:
    """Held-out rows for :func:`fit_share_rule`: the model's share and |log ratio| per province of one set."""
    m, _ = _shares(model, stats)
    lr = log_ratios(model, stats, SHARE_FLOOR)
    return pd.DataFrame({"set": name, "province": m.index, "share": m.to_numpy(), "abs_log_ratio": np.abs(lr.to_numpy())})


SHARE_RULE = ShareIntervalRule(s0=0.2852, beta=0.26)
"""The rule the API applies, as fitted by ``carbonmap spatial-report`` on the shipped data (reports/spatial.json,
key ``share_interval_rule``; a test keeps the two equal)."""
