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
    pooled_indicator_beta,
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


def test_short_indicator_fits_over_its_own_span() -> None:
    """An indicator that starts 20 years after the emissions is used (window shrinks), not dropped."""
    rng = np.random.default_rng(3)
    years = range(1980, 2025)
    x = pd.Series(np.exp(np.cumsum(rng.normal(0, 0.05, len(years)))), index=years)
    y = pd.Series(100 * x.to_numpy() * np.exp(rng.normal(0, 0.002, len(years))), index=years)
    short = x.loc[2000:].to_frame("activity")
    nc = nowcast_annual(y.loc[:2023], short)
    assert "indicators" in nc.method and "fitted on 23 years" in nc.method
    assert abs(nc.growth_pct - (y[2024] / y[2023] - 1) * 100) < 1.5
    # too short a span (fewer than min_exog_years growth rates): indicator ignored
    assert "indicators" not in nowcast_annual(y.loc[:2023], x.loc[2018:].to_frame("a")).method


def test_fixed_indicator_beta_adds_its_effect() -> None:
    y = _series(0.0, noise=0.001)
    years = list(y.index) + [int(y.index[-1]) + 1]
    flat = pd.DataFrame({"a": np.ones(len(years))}, index=years)
    jump = flat.copy()
    jump.iloc[-1, 0] = np.exp(0.10)  # +10% log change of the indicator in the nowcast year
    base = nowcast_annual(y, flat, indicator_beta=0.5)
    up = nowcast_annual(y, jump, indicator_beta=0.5)
    assert "pooled indicator effect" in up.method
    assert np.log(up.mean / base.mean) == pytest.approx(0.05, abs=1e-6)
    with pytest.raises(NowcastError, match="indicator_beta has 2 values"):
        nowcast_annual(y, jump, indicator_beta=[0.5, 0.1])


def test_pooled_indicator_beta_recovers_elasticity() -> None:
    rng = np.random.default_rng(5)
    countries, years = [f"C{i}" for i in range(8)], list(range(2001, 2021))
    dx = pd.DataFrame(rng.normal(0, 0.05, (8, 20)), index=countries, columns=years)
    trend = pd.Series(rng.normal(0, 0.03, 8), index=countries)
    g = dx.mul(0.6).add(trend, axis=0) + rng.normal(0, 0.002, (8, 20))
    g.iloc[0, 0] = 0.9  # a break in one series: left out of the fit
    beta, se, n = pooled_indicator_beta(g, dx)
    assert beta == pytest.approx(0.6, abs=0.02) and se < 0.02 and n == 159
    assert pooled_indicator_beta(g.iloc[:1, :5], dx.iloc[:1, :5]) == (0.0, float("inf"), 4)
