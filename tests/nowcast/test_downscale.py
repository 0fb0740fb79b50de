"""Mass conservation of the downscaling, as a property over random tiny grids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nowcast.downscale import (
    FALLBACK_LEVELS,
    MIN_COLUMN_WEIGHT,
    POWER_RULES,
    Coverage,
    Points,
    cell_uncertainty,
    downscale,
    downscale_with_uncertainty,
    plants_first_weights,
    sector_weights,
)


@st.composite
def problems(draw: st.DrawFn) -> tuple:
    n_cells = draw(st.integers(4, 40))
    n_regions = draw(st.integers(1, 6))
    n_pairs = draw(st.integers(0, 60))
    region = np.array(draw(st.lists(st.integers(0, n_regions - 1), min_size=n_pairs, max_size=n_pairs)), dtype=np.int64)
    cell = np.array(draw(st.lists(st.integers(0, n_cells - 1), min_size=n_pairs, max_size=n_pairs)), dtype=np.int64)
    frac = np.array(draw(st.lists(st.floats(0, 1), min_size=n_pairs, max_size=n_pairs)))
    proxy = np.array(draw(st.lists(st.floats(0, 1e6), min_size=n_cells, max_size=n_cells)))
    pop = np.array(draw(st.lists(st.floats(0, 1e6), min_size=n_cells, max_size=n_cells)))
    n_pts = draw(st.integers(0, 5))
    pts = Points(np.array(draw(st.lists(st.integers(0, n_regions - 1), min_size=n_pts, max_size=n_pts)), dtype=np.int64),
                 np.array(draw(st.lists(st.integers(0, n_cells - 1), min_size=n_pts, max_size=n_pts)), dtype=np.int64),
                 np.array(draw(st.lists(st.floats(0, 1e3), min_size=n_pts, max_size=n_pts))))
    fb = Points(np.arange(n_regions, dtype=np.int64), np.zeros(n_regions, dtype=np.int64), np.ones(n_regions))
    national = np.array(draw(st.lists(st.floats(0, 1e12), min_size=n_regions, max_size=n_regions)))
    return n_cells, n_regions, Coverage(region, cell, frac), proxy, pop, pts, fb, national


@settings(max_examples=60, deadline=None)
@given(problems())
def test_grid_sum_equals_national_total_for_every_region(p: tuple) -> None:
    n_cells, n_regions, cov, proxy, pop, pts, fb, national = p
    w = sector_weights(n_cells, n_regions, cov, proxy, pop, pts, fb)
    # every region has somewhere to go thanks to the fallback points
    assert np.all(w.level < FALLBACK_LEVELS.index("none"))
    assert_conserves_each_region(w, national)


def test_fallback_order_points_then_proxy_then_population_then_area() -> None:
    cov = Coverage(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), np.array([1.0, 1.0, 1.0, 1.0]))
    proxy = np.array([0.0, 5.0, 0.0, 0.0])
    pop = np.array([0.0, 0.0, 7.0, 0.0])
    pts = Points(np.array([0]), np.array([3]), np.array([2.0]))
    fb = Points(np.array([4]), np.array([0]), np.array([1.0]))
    w = sector_weights(4, 6, cov, proxy, pop, pts, fb)
    assert [FALLBACK_LEVELS[k] for k in w.level] == ["points", "proxy", "population", "area", "fallback_points",
                                                     "none"]
    dense = w.matrix.toarray()
    assert dense[3, 0] == 1.0 and dense[1, 1] == 1.0 and dense[2, 2] == 1.0 and dense[3, 3] == 1.0


def test_border_cell_shared_by_coverage_fraction() -> None:
    # cell 1 is 30% region 0 and 70% region 1; equal proxy everywhere
    cov = Coverage(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2]), np.array([1.0, 0.3, 0.7, 1.0]))
    w = sector_weights(3, 2, cov, np.ones(3), np.ones(3))
    grid = downscale(w.matrix, np.array([130.0, 170.0]))
    np.testing.assert_allclose(grid, [100.0, 30.0 + 70.0, 100.0])


def test_cell_uncertainty_mixes_regions_by_emissions() -> None:
    cov = Coverage(np.array([0, 1]), np.array([0, 0]), np.array([0.5, 0.5]))
    w = sector_weights(2, 2, cov, np.ones(2), np.ones(2))
    u = cell_uncertainty(w.matrix, np.array([100.0, 300.0]), np.array([0.1, 0.2]), 0.0)
    assert u[0] == pytest.approx(0.25 * 0.1 + 0.75 * 0.2, rel=1e-12)
    assert u[1] == 0.0


@settings(max_examples=40, deadline=None)
@given(problems(), st.data())
def test_plants_first_conserves_every_national_total(p: tuple, data: st.DataObject) -> None:
    n_cells, n_regions, cov, proxy, pop, pts, fb, national = p
    resid = sector_weights(n_cells, n_regions, cov, proxy, pop, None, fb)
    annual = np.array(data.draw(st.lists(st.floats(0, 1e6), min_size=n_regions, max_size=n_regions)))
    w = plants_first_weights(pts, annual, resid.matrix)
    np.testing.assert_allclose(np.asarray(w.matrix.sum(axis=0)).ravel(), 1.0, rtol=1e-12)
    grid = downscale(w.matrix, national)
    assert abs(grid.sum() - national.sum()) <= 1e-9 * max(national.sum(), 1.0)
    assert np.all(grid >= 0)
    psum = np.bincount(pts.region, weights=pts.weight, minlength=n_regions)
    for r in range(n_regions):
        rule = POWER_RULES[int(w.rule[r])]
        assert rule == ("no_plants" if psum[r] <= MIN_COLUMN_WEIGHT else
                        "plants_then_residual" if annual[r] > psum[r] else "plants_scaled_down")


def test_plants_get_their_estimate_and_the_residual_goes_over_the_proxy() -> None:
    # region 0: plants 30 + 10 in cells 0 and 1, total 100 -> residual 60 over population (cells 2, 3 as 1:2)
    # region 1: plant 50 in cell 4, total 20 -> scaled down, all on the plant
    # region 2: no plant -> population
    cov = Coverage(np.array([0, 0, 1, 2]), np.array([2, 3, 4, 5]), np.ones(4))
    pop = np.array([0.0, 0.0, 1.0, 2.0, 1.0, 1.0])
    resid = sector_weights(6, 3, cov, pop, pop)
    pts = Points(np.array([0, 0, 1]), np.array([0, 1, 4]), np.array([30.0, 10.0, 50.0]))
    w = plants_first_weights(pts, np.array([100.0, 20.0, 5.0]), resid.matrix)
    grid = downscale(w.matrix, np.array([100.0, 20.0, 5.0]))
    np.testing.assert_allclose(grid, [30.0, 10.0, 20.0, 40.0, 20.0, 5.0], rtol=1e-12)
    assert [POWER_RULES[k] for k in w.rule] == ["plants_then_residual", "plants_scaled_down", "no_plants"]
    np.testing.assert_allclose(w.plant_share, [0.4, 1.0, 0.0])
    # a day at half the annual rate keeps the same split and the total
    np.testing.assert_allclose(downscale(w.matrix, np.array([50.0, 0.0, 0.0])), [15.0, 5.0, 10.0, 20.0, 0, 0])


def test_plants_first_rejects_bad_totals() -> None:
    resid = sector_weights(2, 1, Coverage(np.array([0]), np.array([0]), np.ones(1)), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="one value per region"):
        plants_first_weights(Points.empty(), np.array([1.0, 2.0]), resid.matrix)
    with pytest.raises(ValueError, match=">= 0"):
        plants_first_weights(Points.empty(), np.array([-1.0]), resid.matrix)


def test_fused_downscale_with_uncertainty_equals_the_two_functions() -> None:
    rng = np.random.default_rng(3)
    cov = Coverage(rng.integers(0, 4, 30), rng.integers(0, 20, 30), rng.random(30))
    w = sector_weights(20, 4, cov, rng.random(20), rng.random(20))
    nat, sig = rng.random(4) * 1e9, rng.random(4) * 0.2
    em, unc = downscale_with_uncertainty(w.matrix, nat, sig, 0.3)
    np.testing.assert_allclose(em, downscale(w.matrix, nat), rtol=1e-14)
    np.testing.assert_allclose(unc, cell_uncertainty(w.matrix, nat, sig, 0.3), rtol=1e-14)
    assert np.all(unc[em == 0] == 0) and np.all(unc[em > 0] >= 0.3)


def assert_conserves_each_region(w, national: np.ndarray) -> None:
    """Weights sum to 1 per region, and each region's total alone lands on the grid exactly
    (1e-9 relative, float64) and non-negative."""
    np.testing.assert_allclose(w.column_sums(), 1.0, rtol=1e-12)
    for r in range(len(national)):
        only = np.zeros(len(national))
        only[r] = national[r]
        grid = downscale(w.matrix, only)
        assert abs(grid.sum() - national[r]) <= 1e-9 * max(national[r], 1.0)
        assert np.all(grid >= 0)
