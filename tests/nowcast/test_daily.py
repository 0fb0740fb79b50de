"""Annual -> daily national totals: vectorised Chow-Lin, Denton, pro-rata, nowcast and ragged edge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nowcast.daily import DailyError, annual_to_daily, chow_lin_many, nowcast_totals, ragged_edge_months, year_days
from nowcast.disaggregate import aggregation_matrix, chow_lin, denton_cholette

RNG = np.random.default_rng(7)


def _months(y0: int, y1: int) -> pd.DatetimeIndex:
    return pd.date_range(f"{y0}-01-01", f"{y1}-12-01", freq="MS")


def _seasonal_indicator(months: pd.DatetimeIndex, n: int) -> np.ndarray:
    base = 1.0 + 0.4 * np.cos(2 * np.pi * (months.month.to_numpy() - 1) / 12)[:, None]
    return base * np.exp(RNG.normal(0, 0.05, (len(months), n))) * months.days_in_month.to_numpy()[:, None]


def test_vectorised_chow_lin_equals_statsmodels_version() -> None:
    months = _months(2015, 2024)
    c = aggregation_matrix(months, "YS")
    x = _seasonal_indicator(months, 3)
    y = (c @ x) * np.linspace(1.0, 1.3, 10)[:, None] * 1e9
    for rho in (0.0, 0.5, 0.9):
        ours, got_rho = chow_lin_many(y, x, c, rho_grid=np.array([rho]))
        assert np.all(got_rho == rho)
        for j in range(3):
            ref = chow_lin(y[:, j], x[:, j], ratio=c, rho=rho, add_constant=False)
            np.testing.assert_allclose(ours[:, j], ref.values, rtol=1e-8)
    np.testing.assert_allclose(c @ ours, y, rtol=1e-11)


def test_chow_lin_rho_maximises_the_statsmodels_likelihood() -> None:
    months = _months(2010, 2024)
    c = aggregation_matrix(months, "YS")
    x = _seasonal_indicator(months, 2)
    y = (c @ x) * np.exp(np.cumsum(RNG.normal(0, 0.05, (15, 2)), axis=0))
    grid = np.array([0.0, 0.3, 0.6, 0.9])
    _, rho = chow_lin_many(y, x, c, rho_grid=grid)
    for j in range(2):
        llf = [chow_lin(y[:, j], x[:, j], ratio=c, rho=r, add_constant=False).llf for r in grid]
        assert rho[j] == grid[int(np.argmax(llf))]


def _frame(days: pd.DatetimeIndex, values: np.ndarray, regions: list[str]) -> pd.DataFrame:
    return pd.DataFrame(values, index=days, columns=regions)


@pytest.mark.parametrize("years", [[2024], [2023, 2024], [2019, 2020]])
def test_benchmarks_preserved_in_leap_and_common_years(years: list[int]) -> None:
    hist = pd.date_range("2012-01-01", f"{years[-1]}-12-31", freq="D")
    hdd = np.maximum(15 - 12 * np.sin(2 * np.pi * (hist.dayofyear.to_numpy() - 100) / 365.25), 0)
    ind = 0.35 + 0.65 * (hdd + RNG.uniform(0, 2, len(hist))) / hdd.mean()
    regions = ["AAA", "BBB", "CCC"]
    indicator = _frame(hist, np.column_stack([ind, ind * 1.1, np.ones(len(hist))]), regions)
    ann_years = list(range(2012, years[-1] + 1))
    trend = 1e11 * np.exp(0.02 * np.arange(len(ann_years)) + RNG.normal(0, 0.02, len(ann_years)))
    annual = pd.DataFrame({"AAA": trend, "BBB": 2 * trend, "CCC": trend / 3}, index=ann_years)
    annual.loc[years[0], "CCC"] = 0.0  # an emitter that stops: zeros, no NaN
    out = annual_to_daily(annual, indicator, years, [True, True, False])
    assert out.values.shape == (len(year_days(years)), 3)
    assert np.all(out.values >= 0)
    for y in years:
        sel = out.days.year == y
        assert sel.sum() == (366 if y % 4 == 0 else 365)
        np.testing.assert_allclose(out.values[sel].sum(axis=0), annual.loc[y].to_numpy(), rtol=1e-12, atol=0)
    assert out.methods[0].startswith("Chow-Lin") and out.methods[2] == "pro-rata on the indicator"
    jan, jul = out.days.month == 1, out.days.month == 7
    assert out.values[jan, 0].mean() > 1.5 * out.values[jul, 0].mean()  # follows heating


def test_pro_rata_is_denton_with_pro_rata_months() -> None:
    days = year_days([2024])
    w = np.where(days.dayofweek >= 5, 0.7, 1.1) * (1 + 0.1 * np.cos(2 * np.pi * days.dayofyear.to_numpy() / 366))
    out = annual_to_daily(pd.DataFrame({"AAA": [3.66e10]}, index=[2024]), _frame(days, w[:, None], ["AAA"]),
                          [2024], [False])
    c = aggregation_matrix(days, "MS")
    monthly = 3.66e10 * (c @ w) / w.sum()
    np.testing.assert_allclose(out.values[:, 0], denton_cholette(monthly, w, c), rtol=1e-9)


def test_bad_inputs_are_refused() -> None:
    days = year_days([2024])
    ind = _frame(days, np.ones((len(days), 1)), ["AAA"])
    with pytest.raises(DailyError, match="no annual totals"):
        annual_to_daily(pd.DataFrame({"AAA": [1.0]}, index=[2023]), ind, [2024], [False])
    holes = ind.copy()
    holes.iloc[40] = np.nan
    with pytest.raises(DailyError, match="every target day"):
        annual_to_daily(pd.DataFrame({"AAA": [1.0]}, index=[2024]), holes, [2024], [False])
    with pytest.raises(DailyError, match="consecutive"):
        year_days([2022, 2024])


def test_nowcast_widens_with_the_horizon() -> None:
    years = list(range(1990, 2025))
    hist = pd.DataFrame({"AAA": 100 * np.exp(0.02 * np.arange(35) + RNG.normal(0, 0.02, 35)),
                         "ZZZ": np.zeros(35)}, index=years)
    nt = nowcast_totals(hist, [2025, 2026])
    assert nt.values[0, 0] > 0 and nt.values[1, 0] > 0
    assert 0 < nt.rel_sigma[0, 0] < nt.rel_sigma[1, 0] < 0.5
    assert nt.values[0, 1] == 0 and nt.rel_sigma[0, 1] == 0
    with pytest.raises(DailyError, match="run on"):
        nowcast_totals(hist, [2026])


def test_ragged_edge_follows_the_indicator() -> None:
    months = _months(2019, 2023)
    x = _seasonal_indicator(months, 1)[:, 0]
    y = 2e9 * x * np.exp(RNG.normal(0, 0.01, x.size))
    edge_x = x[:3] * np.array([1.0, 1.3, 0.8])
    mean, rel, method = ragged_edge_months(y, x, edge_x)
    assert mean.shape == (3,) and np.all(rel > 0) and "SARIMAX" in method
    assert mean[1] > mean[0] > mean[2]  # the indicator drives the forecast months
