"""nowcast.peak: the annual peak verdict (rule, how sure, the shipped inventory's facts)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.gcb import read_gcb
from nowcast import peak as pk

REPO = Path(__file__).resolve().parents[2]
YEARS = np.arange(2000, 2025)


def verdict(values: np.ndarray, noise: float = 0.01) -> pk.PeakResult:
    return pk.peak_verdict(YEARS[: len(values)], values, np.full(len(values), noise))


def test_rising_peaked_and_flat_series_follow_the_rule():
    rising = 100 * 1.03 ** np.arange(25)
    r = verdict(rising)
    assert r.verdict == "still rising" and r.probability > 0.9 and r.peak_year is None
    assert r.recent_growth == pytest.approx(0.03, abs=1e-9)
    hump = np.r_[100 + 4 * np.arange(13), 148 - 4 * np.arange(1, 13)]  # maximum in 2012, then -3%/yr or so
    r = verdict(hump)
    assert r.verdict == "peaked" and r.peak_year == 2012 and r.probability > 0.9
    assert r.peak_year_range[0] <= 2012 <= r.peak_year_range[1] and r.likelihood in ("very likely", "virtually certain")
    flat = 100 + np.random.default_rng(1).normal(0, 0.3, 25)
    assert verdict(flat).verdict == "plateau"


def test_one_dip_year_or_a_fresh_maximum_is_not_a_peak():
    dip = np.r_[100 * 1.02 ** np.arange(24), 100 * 1.02 ** 23 * 0.92]  # a COVID-like dip in the last year
    assert verdict(dip).verdict != "peaked"
    recent = np.r_[100 * 1.02 ** np.arange(23), 100 * 1.02 ** 23, 100 * 1.02 ** 23 * 0.96]  # max one year ago
    assert verdict(recent).verdict != "peaked"


def test_noise_lowers_how_sure_and_answers_repeat():
    edge = np.r_[100 + np.arange(20), 118.5, 118, 117.5, 117, 116.6]  # ~3% below the max: near the threshold
    quiet, loud = verdict(edge, 0.002), verdict(edge, 0.03)
    assert quiet.probability > loud.probability
    assert verdict(edge, 0.03) == loud  # fixed seed: the same answer every time


def test_short_or_broken_series():
    r = verdict(np.array([1.0, 2, 3, 4]))
    assert r.verdict == "not enough data" and "at least 5" in r.reason
    with pytest.raises(ValueError, match="consecutive"):
        pk.peak_verdict(np.array([2000, 2001, 2003, 2004, 2005]), np.ones(5), np.zeros(5))
    gap = np.r_[np.arange(1.0, 11), 0.0, np.arange(1.0, 4)]  # a year without emissions: only the run after it counts
    r = verdict(gap)
    assert r.verdict == "not enough data" and "there are 3" in r.reason
    assert verdict(np.r_[0.0, 100 * 1.03 ** np.arange(10)]).verdict == "still rising"


def test_verdicts_on_the_shipped_global_carbon_budget():
    g = read_gcb(REPO / "data" / "statistical" / "GCB2025v15_MtCO2_flat.csv")
    g = g[(g["year"] >= 1970) & g["total"].notna()]
    for iso3 in ("DEU", "GBR", "USA"):
        d = g[g["iso3"] == iso3].sort_values("year")
        r = pk.peak_verdict(d["year"].to_numpy(), d["total"].to_numpy() * 1e6, np.full(len(d), pk.INVENTORY_YEAR_NOISE))
        assert r.verdict == "peaked", iso3
        assert r.peak_year == int(d.loc[d["total"].idxmax(), "year"]), iso3  # the file's own maximum
    d = g[g["iso3"] == "IND"].sort_values("year")
    r = pk.peak_verdict(d["year"].to_numpy(), d["total"].to_numpy(), np.full(len(d), pk.INVENTORY_YEAR_NOISE))
    assert r.verdict == "still rising" and r.recent_growth > pk.PLATEAU_RATE
