"""Has a region's CO2 peaked? A verdict from annual totals, with how sure it is (pure functions, issue #17).

Input: at least :data:`MIN_YEARS` consecutive annual totals (t CO2 yr-1) with an independent relative 1-sigma
per year (the part of a year's error that is not shared with its neighbours: inventory years about
:data:`INVENTORY_YEAR_NOISE`, nowcast years their own interval).  Level errors shared by all years (emission
factors, a region's share of its country carried back) move every year alike and cannot change where the
maximum is, so they are left out.

The rule, applied to the series and to :data:`DRAWS` Monte Carlo draws of it (each year perturbed by its
independent error, a fixed seed so answers repeat):

- **peaked**: the maximum lies at least :data:`MIN_YEARS_SINCE_PEAK` years before the last year, and the mean
  of the last two years is more than :data:`DECLINE` below it;
- **still rising**: otherwise, if the maximum is within the last :data:`MIN_YEARS_SINCE_PEAK` years, the last
  year is within :data:`DECLINE` of it, and the recent trend (Theil-Sen slope of log emissions over the last
  :data:`TREND_YEARS` years) rises faster than :data:`PLATEAU_RATE` per year;
- **plateau**: everything else (no clear decline from the maximum yet, no clear rise either).

The verdict is the one most draws give; ``probability`` is their share ("how sure"), worded with the IPCC's
calibrated language (:func:`likelihood`).  For *peaked*, the peak year is the year of the series' maximum, with
the 5-95 % range of the maximum's year among the draws that peaked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Verdict = Literal["peaked", "plateau", "still rising", "not enough data"]

MIN_YEARS = 5
"""Fewest annual totals a verdict is given on."""
MIN_YEARS_SINCE_PEAK = 2
"""A maximum in the last year or the one before is too recent to call a peak."""
DECLINE = 0.03
"""A peak needs the last two years' mean more than 3 % below the maximum (a single dip year is not one)."""
PLATEAU_RATE = 0.01
"""Recent growth above +1 %/yr is 'still rising'; between the two, a plateau."""
TREND_YEARS = 5
"""Years of the recent trend (Theil-Sen slope of log emissions)."""
INVENTORY_YEAR_NOISE = 0.02
"""Independent 1-sigma of an inventory year (relative): about the size of revisions between Global Carbon
Budget vintages for a country's recent years; the shared level error is larger but moves all years alike."""
DRAWS = 2000
SEED = 20240917


@dataclass(frozen=True)
class PeakResult:
    """The verdict and its evidence.  Emissions in t CO2 yr-1; rates per year (0.01 = 1 %/yr)."""

    verdict: Verdict
    probability: float | None
    likelihood: str | None
    peak_year: int | None
    peak_year_range: tuple[int, int] | None
    peak_t: float | None
    last_year: int | None
    last_t: float | None
    decline_from_peak: float | None
    recent_growth: float | None
    recent_growth_range: tuple[float, float] | None
    shares: dict[str, float] = field(default_factory=dict)
    reason: str = ""

RULE = (f"peaked: the maximum is at least {MIN_YEARS_SINCE_PEAK} years before the last year and the last two "
        f"years' mean is more than {DECLINE:.0%} below it; still rising: the maximum is within the last "
        f"{MIN_YEARS_SINCE_PEAK} years, the last year within {DECLINE:.0%} of it and the {TREND_YEARS}-year "
        f"Theil-Sen trend above +{PLATEAU_RATE:.0%}/yr; plateau: anything else. Applied to {DRAWS} draws of the "
        "series with each year's independent error; the verdict is the most frequent, its share the probability")


def likelihood(p: float) -> str:
    """IPCC calibrated language for a probability."""
    for limit, word in ((0.99, "virtually certain"), (0.9, "very likely"), (0.66, "likely"),
                        (0.33, "about as likely as not")):
        if p >= limit:
            return word
    return "unlikely"


def theil_sen(y: np.ndarray) -> np.ndarray:
    """Median of pairwise slopes along the last axis (per step), for each row of ``y`` (..., n)."""
    n = y.shape[-1]
    i, j = np.triu_indices(n, k=1)
    return np.median((y[..., j] - y[..., i]) / (j - i), axis=-1)


def classify(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Verdict codes (0 peaked, 1 plateau, 2 still rising), the index of the maximum and the recent growth
    (per year) of each row of ``values`` (draws, years), t CO2 yr-1 > 0."""
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[-1]
    k = np.argmax(v, axis=-1)
    vmax = np.take_along_axis(v, k[..., None], axis=-1)[..., 0]
    since = n - 1 - k
    tail = v[..., -2:].mean(axis=-1)
    growth = np.expm1(theil_sen(np.log(np.maximum(v[..., -min(TREND_YEARS, n):], 1e-12))))
    peaked = (since >= MIN_YEARS_SINCE_PEAK) & (tail < (1 - DECLINE) * vmax)
    rising = ~peaked & (since < MIN_YEARS_SINCE_PEAK) & (v[..., -1] >= (1 - DECLINE) * vmax) & (growth > PLATEAU_RATE)
    code = np.where(peaked, 0, np.where(rising, 2, 1))
    return code, k, growth


def peak_verdict(years: np.ndarray, values_t: np.ndarray, rel_sigma: np.ndarray, draws: int = DRAWS,
                 seed: int = SEED) -> PeakResult:
    """The verdict for consecutive ``years`` with totals ``values_t`` (t CO2 yr-1) and independent relative
    1-sigma ``rel_sigma`` per year (see the module doc).  Fewer than :data:`MIN_YEARS` years, or a gap, give
    ``not enough data`` with the reason."""
    yrs = np.asarray(years, dtype=np.int64)
    vals = np.asarray(values_t, dtype=np.float64)
    sig = np.asarray(rel_sigma, dtype=np.float64)
    if not (yrs.shape == vals.shape == sig.shape) or yrs.ndim != 1:
        raise ValueError("years, values_t and rel_sigma must be 1-D arrays of one length")
    if np.any(np.diff(yrs) != 1):
        raise ValueError("years must be consecutive")
    ok = np.isfinite(vals) & (vals > 0)
    if not ok.all():  # years without emissions: the run of positive years that ends with the last one
        last = len(ok) - 1
        while last >= 0 and not ok[last]:
            last -= 1
        first = last
        while first > 0 and ok[first - 1]:
            first -= 1
        keep = slice(first, last + 1) if last >= 0 else slice(0, 0)
        yrs, vals, sig = yrs[keep], vals[keep], sig[keep]
    sig = np.nan_to_num(sig, nan=INVENTORY_YEAR_NOISE)
    if len(yrs) < MIN_YEARS:
        return PeakResult("not enough data", None, None, None, None, None, None, None, None, None, None,
                          reason=f"a peak verdict needs at least {MIN_YEARS} consecutive annual totals above zero; "
                                 f"there are {len(yrs)}")
    rng = np.random.default_rng(seed)
    sample = vals * (1.0 + rng.standard_normal((draws, len(vals))) * np.clip(sig, 0.0, 0.5))
    sample = np.maximum(sample, vals.min() * 1e-3)
    code, k, growth = classify(sample)
    counts = np.bincount(code, minlength=3) / draws
    names: tuple[Verdict, Verdict, Verdict] = ("peaked", "plateau", "still rising")
    best = int(np.argmax(counts))
    verdict = names[best]
    _, k0, g0 = classify(vals[None])
    k_central = int(k0[0])
    peak_year: int | None = None
    peak_range: tuple[int, int] | None = None
    if verdict == "peaked":
        ks = k[code == 0]
        peak_year = int(yrs[k_central])
        peak_range = (int(yrs[int(np.percentile(ks, 5))]), int(yrs[int(np.percentile(ks, 95))]))
    pk = float(vals[k_central])
    return PeakResult(
        verdict=verdict, probability=float(counts[best]), likelihood=likelihood(float(counts[best])),
        peak_year=peak_year, peak_year_range=peak_range, peak_t=pk, last_year=int(yrs[-1]), last_t=float(vals[-1]),
        decline_from_peak=float(1 - vals[-2:].mean() / pk) if pk > 0 else None,
        recent_growth=float(g0[0]),
        recent_growth_range=(float(np.percentile(growth, 5)), float(np.percentile(growth, 95))),
        shares={n: float(c) for n, c in zip(names, counts, strict=True)},
        reason=f"{len(yrs)} annual totals, {int(yrs[0])}-{int(yrs[-1])}; maximum {int(yrs[k_central])}")


def trend_growth(values_t: np.ndarray, years: int = TREND_YEARS) -> float:
    """Recent growth per year (0.01 = 1 %/yr): Theil-Sen slope of log emissions over the last ``years`` values."""
    v = np.asarray(values_t, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)][-years:]
    if len(v) < 2:
        return 0.0
    return float(np.expm1(theil_sen(np.log(v)[None])[0]))
