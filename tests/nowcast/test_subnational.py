"""Provinces as the first level: shares kept, points inside their province, generation turned into CO2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nowcast.downscale import Coverage, Points
from nowcast.subnational import (
    ProvinceLevel,
    SubnationalError,
    assign_points,
    country_column,
    generation_to_co2,
    shares_from_stats,
)

# a 2 x 4 grid: province A covers the left half, B the right half; cell 3 is half A, half B
N_CELLS, SHAPE = 8, (2, 4)
COV = Coverage(region=np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]), cell=np.array([0, 1, 4, 5, 3, 2, 3, 6, 7, 2]),
               fraction=np.array([1, 1, 1, 1, 0.4, 1, 0.6, 1, 1, 0.0]))


def level(shares: list[float], generation: bool = False) -> ProvinceLevel:
    return ProvinceLevel("AAA", ("P-A", "P-B"), COV, np.array(shares), "test", generation)


def test_province_totals_follow_their_shares_and_the_column_sums_to_one() -> None:
    pts = Points(np.array([0, 0]), np.array([0, 7]), np.array([30.0, 10.0]))  # one plant in A, one in B
    col = country_column(level([0.25, 0.75]), pts, np.ones(N_CELLS), 100.0, N_CELLS, SHAPE)
    assert col.sum() == pytest.approx(1.0)
    # A's 25 on its plant (30 would overfill: scaled down); B's plant 10 x 2 = 20, its other 55 over B's cells
    assert col[0] == pytest.approx(0.25)
    assert col[[1, 4, 5]].sum() == pytest.approx(0.0, abs=1e-12)  # A is all on its plant
    # B: its plant doubled (20 of 75), the other 55 over B's cells by coverage (cells 2, 3 (0.6), 6, 7)
    per = 0.55 / 3.6
    np.testing.assert_allclose(col[[2, 3, 6, 7]], [per, 0.6 * per, per, 0.20 + per], rtol=1e-9)


def test_points_outside_every_province_go_to_the_nearest() -> None:
    cov = Coverage(np.array([0, 1]), np.array([0, 7]), np.array([1.0, 1.0]))
    assert assign_points(np.array([1, 6]), cov, N_CELLS, SHAPE).tolist() == [0, 1]


def test_generation_becomes_co2_with_the_plant_mix() -> None:
    # same generation, one province all coal, the other all gas: CO2 ratio = EF ratio
    co2 = generation_to_co2(np.array([100.0, 100.0]), np.array([50.0, 0.0]), np.array([0.0, 20.0]))
    assert co2[0] / co2[1] == pytest.approx(1.0 / 0.42)
    # a province without plants takes the national mix
    co2 = generation_to_co2(np.array([100.0, 100.0]), np.array([50.0, 0.0]), np.array([0.0, 0.0]))
    assert co2[1] == pytest.approx(co2[0])


def test_bad_statistics_are_refused() -> None:
    with pytest.raises(SubnationalError):
        shares_from_stats(pd.Series({"X": 1.0}), ("P-A", "P-B"))
    assert shares_from_stats(pd.Series({"P-A": 1.0, "P-B": 3.0, "Z": 9.0}), ("P-A", "P-B")).tolist() == [0.25, 0.75]
    with pytest.raises(SubnationalError):
        country_column(level([0.5, 0.6]), Points.empty(), np.ones(N_CELLS), 1.0, N_CELLS, SHAPE)
