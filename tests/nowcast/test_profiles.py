"""Skeleton daily profiles keep annual sums exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmap.contract import SECTORS
from nowcast.profiles import disaggregate_annual, year_days


@pytest.mark.parametrize("year,days", [(2023, 365), (2024, 366)])
def test_year_days_leap(year: int, days: int) -> None:
    assert len(year_days(year)) == days


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(SECTORS), st.sampled_from([2019, 2020, 2024]),
       st.lists(st.floats(0, 1e13, allow_nan=False), min_size=1, max_size=6), st.data())
def test_annual_sums_preserved(sector: str, year: int, annual: list[float], data: st.DataObject) -> None:
    south = np.array(data.draw(st.lists(st.booleans(), min_size=len(annual), max_size=len(annual))))
    days = year_days(year)
    daily = disaggregate_annual(np.array(annual), days, sector, south)
    assert daily.shape == (len(days), len(annual))
    assert np.all(daily >= 0)
    np.testing.assert_allclose(daily.sum(axis=0), annual, rtol=1e-12, atol=1e-6)


def test_weekday_cycle_and_hemispheres() -> None:
    days = year_days(2024)
    d = disaggregate_annual(np.array([365.0, 365.0]), days, "residential", np.array([False, True]))
    jan, jul = days.month == 1, days.month == 7
    assert d[jan, 0].mean() > d[jul, 0].mean()  # northern winter heating
    assert d[jan, 1].mean() < d[jul, 1].mean()  # southern winter is July
    t = disaggregate_annual(np.array([1.0]), days, "ground_transport")[:, 0]
    assert t[days.dayofweek == 6].mean() < t[days.dayofweek == 2].mean()


def test_partial_year_refused() -> None:
    with pytest.raises(ValueError, match="one calendar year"):
        disaggregate_annual(np.array([1.0]), year_days(2024)[:100], "power")
