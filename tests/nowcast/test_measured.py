"""Measured series -> daily indicators: month sums kept, edges extended by year-to-date growth, evidence codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbonmap.contract import EVIDENCE_LEVELS
from nowcast.measured import (
    DAILY,
    MONTHLY,
    UNMEASURED,
    daily_as_monthly,
    extend_monthly,
    measured_indicator,
    ratio_annual,
    splice,
)


def monthly_series(start: str, end: str, seed: int = 0) -> pd.Series:
    months = pd.date_range(start, end, freq="MS")
    rng = np.random.default_rng(seed)
    return pd.Series(100 + rng.uniform(-10, 10, len(months)), index=months)


def test_codes_are_the_contract_levels() -> None:
    assert EVIDENCE_LEVELS[MONTHLY] == "monthly-statistics" and EVIDENCE_LEVELS[DAILY] == "daily-activity"


def test_month_sums_are_the_measured_values_and_days_follow_the_shape() -> None:
    days = pd.date_range("2024-01-01", "2024-12-31")
    m = monthly_series("2023-01-01", "2024-12-01")
    shape = 1 + 0.3 * (days.dayofweek < 5)
    ms = measured_indicator(days, m, shape, "test")
    assert ms is not None
    sums = pd.Series(ms.daily, index=days).groupby(days.to_period("M")).sum()
    np.testing.assert_allclose(sums.to_numpy(), m["2024"].to_numpy(), rtol=1e-12)
    jan = ms.daily[:31]
    assert jan[0] / jan[5] == pytest.approx(1.3)  # Monday vs Saturday
    assert (ms.code == MONTHLY).all()
    assert ms.observed_until == pd.Timestamp("2024-12-31")


def test_past_the_edge_the_same_month_grows_by_the_year_to_date_ratio() -> None:
    months = pd.date_range("2024-01-01", "2025-03-01", freq="MS")
    m = pd.Series(100.0, index=months)
    m["2025-01-01":] = 110.0  # 10 % up on the year so far
    out = extend_monthly(m, pd.date_range("2025-01-01", "2025-12-01", freq="MS"))
    assert out is not None
    vals, obs = out
    assert obs[:3].all() and not obs[3:].any()
    np.testing.assert_allclose(vals.to_numpy()[3:], 110.0)


def test_a_year_without_data_carries_the_last_twelve_months_growth() -> None:
    months = pd.date_range("2023-01-01", "2024-12-01", freq="MS")
    m = pd.Series(np.where(months.year == 2024, 105.0, 100.0), index=months)
    vals, obs = extend_monthly(m, pd.date_range("2025-01-01", "2025-12-01", freq="MS"))  # type: ignore[misc]
    np.testing.assert_allclose(vals.to_numpy(), 105.0 * 1.05)
    assert not obs.any()


def test_a_gap_before_the_edge_means_not_measured() -> None:
    m = monthly_series("2023-01-01", "2024-12-01").drop(pd.Timestamp("2024-05-01"))
    assert measured_indicator(pd.date_range("2024-01-01", "2024-12-31"), m, np.ones(366), "x") is None
    late = monthly_series("2024-03-01", "2024-12-01")
    assert measured_indicator(pd.date_range("2024-01-01", "2024-12-31"), late, np.ones(366), "x") is None


def test_daily_reports_shape_their_days_and_mark_them_daily() -> None:
    days = pd.date_range("2024-01-01", "2024-03-31")
    m = monthly_series("2024-01-01", "2024-03-01")
    rep = pd.Series(np.arange(len(days), dtype=float) + 1000.0, index=days).iloc[:45]  # covers to 14 Feb
    ms = measured_indicator(days, m, np.ones(len(days)), "x", rep)
    assert ms is not None
    assert (ms.code[:45] == DAILY).all() and (ms.code[45:] == MONTHLY).all()
    assert ms.daily[1] / ms.daily[0] == pytest.approx(1001 / 1000)
    sums = pd.Series(ms.daily, index=days).groupby(days.to_period("M")).sum()
    np.testing.assert_allclose(sums.to_numpy(), m.to_numpy(), rtol=1e-12)
    assert ms.observed_until == pd.Timestamp("2024-03-31")


def test_past_the_data_the_code_is_unmeasured() -> None:
    days = pd.date_range("2024-01-01", "2025-06-30")
    ms = measured_indicator(days, monthly_series("2023-01-01", "2025-02-01"), np.ones(len(days)), "x")
    assert ms is not None
    assert (ms.code[days <= "2025-02-28"] == MONTHLY).all() and (ms.code[days > "2025-02-28"] == UNMEASURED).all()


def test_daily_as_monthly_refuses_thin_months() -> None:
    days = pd.date_range("2024-01-01", "2024-02-29")
    s = pd.Series(10.0, index=days)
    s[days.month == 2] = np.nan
    s.iloc[31:41] = 10.0  # 10 days of February
    out = daily_as_monthly(s)
    assert out.iloc[0] == pytest.approx(310.0)
    assert np.isnan(out.iloc[1])


def test_ratio_annual_is_last_total_times_activity_ratio() -> None:
    year = np.array([2024] * 3 + [2025] * 3)
    ind = np.array([1.0, 1.0, 2.0, 1.0, 2.0, 2.0])
    assert ratio_annual(400.0, ind, year, 2025, 2024) == pytest.approx(500.0)
    with pytest.raises(ValueError):
        ratio_annual(400.0, np.zeros(6), year, 2025, 2024)


def test_splice_extends_back_scaled_on_the_overlap_and_keeps_the_primary() -> None:
    months = pd.date_range("2016-01-01", "2020-12-01", freq="MS")
    secondary = pd.Series(50.0, index=months)
    primary = pd.Series(100.0, index=months[months >= "2019-01-01"])
    primary.iloc[3] = 130.0
    out = splice(primary, secondary)
    np.testing.assert_allclose(out[out.index < "2019-01-01"].to_numpy(), 50.0 * (100.0 * 11 + 130.0) / (50.0 * 12))
    pd.testing.assert_series_equal(out[out.index >= "2019-01-01"], primary, check_freq=False, check_names=False)
    short = splice(primary.iloc[:6], secondary)  # less than 12 months of overlap: unchanged
    pd.testing.assert_series_equal(short, primary.iloc[:6])
