"""api.national_series: period sums and the correlated-within-country interval rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from api.national_series import Z90, aggregate, interval90, period_codes


def test_period_codes_label_months_and_years_across_boundaries():
    times = pd.date_range("2023-12-30", "2024-02-02", freq="D")
    codes, labels = period_codes(times, "month")
    assert labels == ("2023-12", "2024-01", "2024-02")
    assert np.bincount(codes).tolist() == [2, 31, 2]
    codes, labels = period_codes(times, "year")
    assert labels == ("2023", "2024") and np.bincount(codes).tolist() == [2, 33]
    codes, labels = period_codes(times, "day")
    assert labels[0] == "2023-12-30" and len(labels) == len(times) and (codes == np.arange(len(times))).all()


def test_period_codes_refuse_unknown_freq():
    with pytest.raises(ValueError, match="freq"):
        period_codes(pd.date_range("2024-01-01", periods=3), "week")  # type: ignore[arg-type]


def test_interval_rule_hand_computed():
    """Two days, two sectors, two countries; sigmas add within a country, in quadrature across."""
    times = pd.date_range("2024-01-31", periods=2, freq="D")  # one day in January, one in February
    e = np.zeros((2, 2, 2))
    r = np.zeros((2, 2, 2))
    e[:, 0, 0], r[:, 0, 0] = [1000.0, 3000.0], [0.1, 0.2]   # country 0, sector 0
    e[:, 1, 0], r[:, 1, 0] = [2000.0, 2000.0], [0.5, 0.5]   # country 0, sector 1
    e[:, 0, 1], r[:, 0, 1] = [4000.0, 0.0], [0.25, 0.0]     # country 1, sector 0
    out = aggregate(e, r, times, "year")
    assert out.labels == ("2024",) and out.days.tolist() == [2]
    # t CO2: kg / 1000
    assert out.estimate[0].tolist() == pytest.approx([(1000 + 3000 + 4000) / 1000, 4.0])
    # sector 0: country 0 sigma = 0.1*1000 + 0.2*3000 = 700 kg (days correlated); country 1: 1000 kg
    assert out.sigma[0, 0] == pytest.approx(np.hypot(700.0, 1000.0) / 1000)
    assert out.sigma[0, 1] == pytest.approx(2000.0 / 1000)
    # total: country 0 sigma = 700 + 2000 (sectors correlated); country 1 = 1000; independent countries
    assert out.total_estimate[0] == pytest.approx(12.0)
    assert out.total_sigma[0] == pytest.approx(np.hypot(2700.0, 1000.0) / 1000)
    monthly = aggregate(e, r, times, "month")
    assert monthly.labels == ("2024-01", "2024-02")
    assert monthly.estimate[:, 0].tolist() == pytest.approx([5.0, 3.0])
    assert [d.day for d in monthly.first] == [31, 1] and [d.day for d in monthly.last] == [31, 1]


def test_interval90_is_symmetric_and_clipped_at_zero():
    lo, hi = interval90(np.array([10.0, 1.0]), np.array([1.0, 1.0]))
    assert lo[0] == pytest.approx(10 - Z90) and hi[0] == pytest.approx(10 + Z90)
    assert lo[1] == 0.0 and hi[1] == pytest.approx(1 + Z90)


def test_aggregate_refuses_mismatched_arrays():
    times = pd.date_range("2024-01-01", periods=3)
    with pytest.raises(ValueError, match="matching"):
        aggregate(np.ones((3, 2, 1)), np.ones((3, 2, 2)), times, "day")
    with pytest.raises(ValueError, match="3 days"):
        aggregate(np.ones((4, 2, 1)), np.ones((4, 2, 1)), times, "day")


@settings(max_examples=40, deadline=None)
@given(e=arrays(np.float64, (9, 3, 4), elements=st.floats(0, 1e9)),
       r=arrays(np.float64, (9, 3, 4), elements=st.floats(0, 1)),
       freq=st.sampled_from(["day", "month", "year"]))
def test_sums_are_conserved_and_sigma_bounded(e, r, freq):
    """Whatever the grouping, totals equal the plain sum; the world sigma lies between the
    all-independent and the all-correlated extremes."""
    times = pd.date_range("2024-01-27", periods=9, freq="D")
    out = aggregate(e, r, times, freq)
    assert out.estimate.sum() == pytest.approx(e.sum() / 1000, rel=1e-12, abs=1e-9)
    assert out.total_estimate.sum() == pytest.approx(e.sum() / 1000, rel=1e-12, abs=1e-9)
    assert out.days.sum() == 9
    sig = r * e / 1000
    for p in range(len(out.labels)):
        mask = period_codes(times, freq)[0] == p
        fully_correlated = sig[mask].sum()
        independent = np.sqrt((sig[mask] ** 2).sum())
        assert independent * (1 - 1e-9) - 1e-9 <= out.total_sigma[p] <= fully_correlated * (1 + 1e-9) + 1e-9
