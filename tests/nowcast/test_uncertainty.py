"""Uncertainty rules: intervals to relative sigma, quadrature, aggregation, coverage."""

from __future__ import annotations

import numpy as np
import pytest

from nowcast.uncertainty import (
    PROXY_REL_SIGMA,
    UncertaintyError,
    aggregate_rel_sigma,
    cell_rel_sigma,
    combine_rel_sigma,
    coverage,
    interval_to_rel_sigma,
    rel_sigma_to_interval,
)


def test_interval_round_trip() -> None:
    mean = np.array([10.0, 200.0])
    sig = np.array([0.05, 0.2])
    lo, hi = rel_sigma_to_interval(mean, sig, 0.9)
    np.testing.assert_allclose(interval_to_rel_sigma(lo, hi, 0.9), sig, rtol=1e-12)
    # small sigma: equals the symmetric rule (upper - lower) / (2 z mean)
    lo, hi = 100 * (1 - 1.6448536 * 0.01), 100 * (1 + 1.6448536 * 0.01)
    assert interval_to_rel_sigma(np.array(lo), np.array(hi))[()] == pytest.approx(0.01, rel=1e-3)


def test_bad_intervals_refused() -> None:
    with pytest.raises(UncertaintyError, match="upper >= lower"):
        interval_to_rel_sigma(np.array([2.0]), np.array([1.0]))
    with pytest.raises(UncertaintyError, match="level"):
        interval_to_rel_sigma(np.array([1.0]), np.array([2.0]), level=1.5)


def test_quadrature_and_cells() -> None:
    assert combine_rel_sigma(0.03, 0.04)[()] == pytest.approx(0.05)
    c = cell_rel_sigma(0.05, "power")
    assert c[()] == pytest.approx(np.hypot(0.05, PROXY_REL_SIGMA["power"]))
    with pytest.raises(UncertaintyError, match="unknown sector"):
        cell_rel_sigma(0.05, "cooking")


def test_aggregate_national_part_does_not_average_out() -> None:
    many = np.ones(10_000)
    s = aggregate_rel_sigma(many, 0.05, 0.5)
    assert s == pytest.approx(np.hypot(0.05, 0.5 / 100), rel=1e-9)
    assert aggregate_rel_sigma(np.ones(1), 0.05, 0.5) == pytest.approx(np.hypot(0.05, 0.5))


def test_coverage_counts_inside() -> None:
    assert coverage(np.array([1, 2, 3, 10.0]), np.zeros(4), np.full(4, 5.0)) == 0.75
