"""Region-query read plans: consecutive days add by slice, shared periods by np.add.at."""

from __future__ import annotations

import numpy as np

from api.query_engine import Piece


def test_period_slice_only_for_consecutive_periods() -> None:
    assert Piece("daily", 10, 14, np.arange(3, 7)).period_slice == slice(3, 7)
    assert Piece("daily", 10, 11, np.array([5])).period_slice == slice(5, 6)
    assert Piece("daily", 0, 31, np.zeros(31, dtype=int)).period_slice is None  # a month of days -> one period
    assert Piece("monthly", 0, 3, np.array([0, 0, 1])).period_slice is None
    assert Piece("daily", 0, 3, np.array([0, 2, 3])).period_slice is None  # a gap
    assert Piece("daily", 0, 3, np.array([2, 1, 0])).period_slice is None  # reversed


def test_slice_add_equals_add_at_for_consecutive_periods() -> None:
    rng = np.random.default_rng(3)
    piece = Piece("daily", 0, 5, np.arange(2, 7))
    values = rng.random((5, 4))
    a, b = np.zeros((9, 4)), np.zeros((9, 4))
    a[piece.period_slice] += values
    np.add.at(b, piece.periods, values)
    assert np.array_equal(a, b)
