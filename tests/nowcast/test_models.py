"""Nowcast models and baselines on small synthetic series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nowcast.models import (
    NowcastError,
    annual_exog_from_monthly,
    carbon_monitor_ratio,
    linear_trend,
    nowcast_annual,
    persistence,
    state_space_forecast,
)


def _series(growth: float, n: int = 30, noise: float = 0.01, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    g = growth + rng.normal(0, noise, n - 1)
    return pd.Series(100 * np.exp(np.r_[0, np.cumsum(g)]), index=range(1990, 1990 + n))


def test_baselines() -> None:
    y = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], index=range(2000, 2006))
    assert persistence(y) == 6.0
    assert linear_trend(y) == pytest.approx(7.0)
    np.testing.assert_allclose(carbon_monitor_ratio(np.array([10.0, 5.0]), np.array([1.1, 0.0]),
                                                    np.array([1.0, 0.0])), [11.0, 5.0])
    with pytest.raises(NowcastError, match="shapes differ"):
        carbon_monitor_ratio(np.ones(2), np.ones(3), np.ones(2))


def test_nowcast_annual_follows_growth_with_interval() -> None:
    up = nowcast_annual(_series(0.04))
    down = nowcast_annual(_series(-0.03))
    assert up.year == 2020
    assert 1.0 < up.growth_pct < 5.0
    assert -4.0 < down.growth_pct < -0.5
    for nc in (up, down):
        assert nc.lower < nc.mean < nc.upper
        assert nc.level == pytest.approx(0.9)


def test_indicators_enter_as_exog() -> None:
    rng = np.random.default_rng(1)
    years = range(1990, 2021)
    x = pd.Series(np.exp(np.cumsum(rng.normal(0, 0.05, len(years)))), index=years)
    y = pd.Series(100 * x.to_numpy() * np.exp(rng.normal(0, 0.002, len(years))), index=years)
    nc = nowcast_annual(y.loc[:2019], x.to_frame("activity"))
    realised = (y[2020] / y[2019] - 1) * 100
    assert "indicators" in nc.method
    assert abs(nc.growth_pct - realised) < 1.5


def test_short_series_falls_back_to_persistence() -> None:
    nc = nowcast_annual(pd.Series([5.0, 6.0, 7.0], index=[2021, 2022, 2023]))
    assert nc.mean == 7.0 and "persistence" in nc.method
    with pytest.raises(NowcastError):
        nowcast_annual(pd.Series([0.0, np.nan], index=[2022, 2023]))


def test_state_space_forecast_ragged_edge_with_exog() -> None:
    rng = np.random.default_rng(2)
    n, h = 60, 6
    x = 1 + 0.3 * np.sin(np.arange(n + h) * 2 * np.pi / 12)
    y = 50 * x * np.exp(rng.normal(0, 0.01, n + h))
    fc = state_space_forecast(y[:n], h, np.log(x[:n, None]), np.log(x[n:, None]))
    assert fc.mean.shape == (h,)
    assert np.all(fc.lower < fc.mean) and np.all(fc.mean < fc.upper)
    assert np.max(np.abs(fc.mean / y[n:] - 1)) < 0.1
    with pytest.raises(NowcastError, match="both exog"):
        state_space_forecast(y[:n], h, np.log(x[:n, None]), None)


def test_annual_exog_keeps_complete_years() -> None:
    m = pd.DataFrame({"hdd": 1.0}, index=pd.date_range("2022-01-01", "2024-06-01", freq="MS"))
    a = annual_exog_from_monthly(m)
    assert a.index.tolist() == [2022, 2023] and a["hdd"].tolist() == [12.0, 12.0]
