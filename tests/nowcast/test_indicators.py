"""Daily indicator profiles: shapes, holidays, fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nowcast.indicators import (
    GROUND_WEEKDAY,
    IndicatorError,
    aviation_profile,
    daily_from_hourly,
    degree_days,
    ground_transport_profile,
    holiday_mask,
    industry_profile,
    monthly_degree_days,
    power_profile,
    residential_profile,
    shipping_profile,
)

DAYS = pd.date_range("2024-01-01", "2024-12-31")


def test_holidays_mark_christmas_in_germany() -> None:
    mask, known = holiday_mask(DAYS, "DEU")
    assert known
    assert mask[DAYS.get_loc(pd.Timestamp("2024-12-25"))]
    assert not mask[DAYS.get_loc(pd.Timestamp("2024-12-23"))]
    prof, src = ground_transport_profile(DAYS, "DEU")
    assert len(prof) == 366 and prof.mean() == pytest.approx(1.0)
    xmas, monday = prof[DAYS.get_loc(pd.Timestamp("2024-12-25"))], prof[DAYS.get_loc(pd.Timestamp("2024-12-16"))]
    assert xmas / monday == pytest.approx(GROUND_WEEKDAY[6] / GROUND_WEEKDAY[0])
    assert "DEU" in src and "holidays" in src


def test_unknown_country_falls_back_to_weekdays() -> None:
    prof, src = ground_transport_profile(DAYS, "XXX")
    assert "weekday factors only" in src
    assert np.allclose(prof[DAYS.dayofweek == 6], prof[DAYS.dayofweek == 6][0])


def test_residential_follows_hdd_and_flat_without() -> None:
    t = 10 - 12 * np.cos(2 * np.pi * (DAYS.dayofyear.to_numpy() - 15) / 366)
    hdd, cdd = degree_days(t)
    assert np.all(hdd >= 0) and np.all(cdd >= 0)
    prof, _src = residential_profile(hdd, DAYS)
    assert prof.mean() == pytest.approx(1.0)
    assert prof[15] > 2 * prof[200]  # January far above July
    assert prof.min() > 0  # the temperature-independent base stays
    flat, src2 = residential_profile(np.zeros(len(DAYS)), DAYS)
    assert np.allclose(flat, 1.0) and "flat" in src2
    with pytest.raises(IndicatorError, match="365 values for 366 days"):
        residential_profile(hdd[:365], DAYS)


def test_power_uses_demand_or_documented_fallback() -> None:
    demand = np.linspace(9e6, 11e6, len(DAYS))
    prof, src = power_profile(DAYS, demand, demand_source="EIA-930 CONUS")
    assert np.allclose(prof, demand / demand.mean()) and src == "EIA-930 CONUS"
    prof2, src2 = power_profile(DAYS, hdd=np.full(len(DAYS), 5.0), cdd=np.zeros(len(DAYS)))
    assert "fallback" in src2 and "HDD+CDD" in src2
    assert prof2[DAYS.dayofweek == 6].mean() < prof2[DAYS.dayofweek == 1].mean()
    with pytest.raises(IndicatorError, match="negative"):
        power_profile(DAYS, -demand)


def test_industry_monthly_production_sets_month_levels() -> None:
    power, _ = power_profile(DAYS)
    prod = pd.Series(np.r_[np.ones(6), 2 * np.ones(6)], index=pd.date_range("2024-01-01", periods=12, freq="MS"))
    prof, src = industry_profile(power, DAYS, prod)
    s = pd.Series(prof, index=DAYS)
    assert s["2024-08"].mean() / s["2024-03"].mean() == pytest.approx(2.0)
    assert "production" in src
    with pytest.raises(IndicatorError, match="no monthly production"):
        industry_profile(power, DAYS, prod.iloc[:6])


def test_aviation_and_shipping_are_monthly() -> None:
    av, _ = aviation_profile(DAYS)
    sh, _ = shipping_profile(DAYS)
    for p in (av, sh):
        s = pd.Series(p, index=DAYS)
        assert s.groupby(s.index.month).nunique().max() == 1
        assert p.mean() == pytest.approx(1.0)
    assert av[DAYS.month == 7][0] > av[DAYS.month == 2][0]


def test_monthly_degree_days_near_base_and_far() -> None:
    cold = monthly_degree_days(np.array([-10.0]), np.array([31]), 18.0)
    assert cold[0] == pytest.approx(31 * 28.0, rel=1e-6)  # far below base: plain difference
    near = monthly_degree_days(np.array([18.0]), np.array([30]), 18.0)
    assert 0 < near[0] < 30 * 4.0  # still some heating days at the base temperature
    cool = monthly_degree_days(np.array([30.0]), np.array([31]), 22.0, heating=False)
    assert cool[0] == pytest.approx(31 * 8.0, rel=1e-2)  # 2 sigma from base: nearly the plain difference


def test_daily_from_hourly_drops_incomplete_days() -> None:
    idx = pd.date_range("2024-01-01", periods=50, freq="h")
    d = daily_from_hourly(pd.Series(1.0, index=idx))
    assert d.tolist() == [24.0, 24.0]
