"""nowcast.region_totals: the interval rule, evidence shares, sector ranking, months and the 12-month change."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from carbonmap import contract as cc
from nowcast import region_totals as rt

S = len(cc.SECTORS)
D0, D1 = dt.date(2024, 1, 1), dt.date(2024, 12, 31)


def test_interval_is_floored_at_zero_and_may_be_asymmetric():
    i = rt.interval90(100.0, 10.0)
    assert (i.lower_t, i.upper_t) == pytest.approx((100 - rt.Z90 * 10, 100 + rt.Z90 * 10))
    assert rt.interval90(10.0, 100.0).lower_t == 0.0
    a = rt.interval90(100.0, 20.0, 5.0)
    assert a.upper_t - 100 == pytest.approx(4 * (100 - a.lower_t))
    assert rt.Z90 == pytest.approx(1.6448536269514722, abs=0)  # the 95th percentile of N(0, 1)


def test_sigmas_add_within_a_country_and_in_quadrature_across_countries():
    e = np.array([[1.0, 2.0], [3.0, 4.0]])  # (sector, country)
    s = np.array([[3.0, 0.0], [4.0, 0.0]])  # one country: its sectors' sigmas add linearly
    est, sig, tot, tsig = rt.combine_sigmas(e, s)
    assert est.tolist() == [3.0, 7.0] and tot == 10.0
    assert sig.tolist() == [3.0, 4.0] and tsig == pytest.approx(7.0)
    _, sig2, _, tsig2 = rt.combine_sigmas(e, np.array([[3.0, 4.0], [0.0, 0.0]]))  # two countries: quadrature
    assert sig2.tolist() == [5.0, 0.0] and tsig2 == pytest.approx(5.0)


def test_evidence_shares_and_the_totals_weighting():
    by = np.zeros((S, len(cc.EVIDENCE_LEVELS)))
    by[0] = [0, 1, 3, 0]  # power: 25 % inventory, 75 % monthly statistics
    by[1] = [2, 0, 0, 0]  # industry: model
    ev = rt.evidence_shares(by)
    assert ev[0] == {"annual-inventory": 0.25, "monthly-statistics": 0.75} and ev[1] == {"model": 1.0}
    assert ev[2] is None and rt.evidence_shares(None) == [None] * S
    sector_t = np.zeros(S)
    sector_t[:2] = [300.0, 100.0]
    total = rt.combine_evidence(sector_t, ev)
    assert total == pytest.approx({"annual-inventory": 0.1875, "monthly-statistics": 0.5625, "model": 0.25})
    assert rt.combine_evidence(np.zeros(S), ev) is None


def test_country_totals_are_in_tonnes():
    e = np.zeros((S, 2))
    e[0] = [1000.0, 3000.0]
    t = rt.country_totals(D0, D1, 366, e, e * 0.1, None)
    assert t.total_t == 4.0 and t.sector_t[0] == 4.0 and t.days == 366
    assert t.sector_sigma[0] == pytest.approx(np.hypot(0.1, 0.3)) and t.total_evidence is None


def test_totals_of_intervals_recover_the_sigmas_and_add_them_over_periods():
    est = np.full((2, S), 10.0)
    up, lo = est + rt.Z90 * 2.0, est - rt.Z90 * 1.0
    tot = est.sum(axis=1)
    t = rt.totals_of_intervals(D0, D1, est, up, lo, tot, tot + rt.Z90 * 5.0, tot - rt.Z90 * 3.0, [None] * S)
    assert t.sector_t.tolist() == [20.0] * S and t.total_t == 20.0 * S
    assert t.sector_sigma == pytest.approx(np.full(S, 4.0)) and t.sector_sigma_lo == pytest.approx(np.full(S, 2.0))
    assert (t.total_sigma, t.total_sigma_lo) == pytest.approx((10.0, 6.0))
    assert t.days == 366


def test_sectors_rank_from_the_largest_with_their_shares():
    v = np.array([1.0, 5.0, 0.0, 4.0, 0.0, 0.0, 0.0])
    r = rt.rank_sectors(v, float(v.sum()))
    assert [x.sector for x in r[:3]] == [cc.SECTORS[1], cc.SECTORS[3], cc.SECTORS[0]]
    assert [x.share for x in r[:3]] == [0.5, 0.4, 0.1] and sum(x.share for x in r) == pytest.approx(1.0)
    assert [x.index for x in r[3:]] == [2, 4, 5, 6]  # ties keep the contract's order
    assert all(x.share == 0.0 for x in rt.rank_sectors(np.zeros(S), 0.0))


def months(start: str, n: int, first_days: int | None = None, value: float = 1.0) -> rt.Monthly:
    m = pd.date_range(start, periods=n, freq="MS")
    days = np.array([t.days_in_month for t in m])
    if first_days is not None:
        days[0] = first_days
    est = np.full((n, S), value)
    return rt.Monthly(m, days, est, np.full(n, 0.1), np.full((n, S), 0.01))


def test_complete_years_need_every_day():
    assert rt.complete_years(months("2023-01-01", 24)) == [2023, 2024]  # 2024 a leap year, 366 days
    assert rt.complete_years(months("2023-01-01", 24, first_days=30)) == [2024]  # 1 January missing
    assert rt.complete_years(months("2023-03-01", 10)) == []


def test_latest_twelve_months_and_the_change():
    m = months("2023-01-01", 25, value=1.0)
    m.est[12:24] *= 1.1  # 2024 10 % above 2023; the last month (January 2025) is cut short
    m.days[-1] = 10
    t = rt.latest_twelve_months(m)
    assert t is not None and (t.start, t.end) == ("2024-01-01", "2024-12-31")
    assert t.total_t == pytest.approx(12 * S * 1.1) and t.previous_total_t == pytest.approx(12 * S)
    assert t.change_pct == pytest.approx(10.0)
    short = rt.latest_twelve_months(months("2024-01-01", 18))
    assert short is not None and short.previous_total_t is None and short.change_pct is None
    assert rt.latest_twelve_months(months("2024-01-01", 11)) is None


def test_country_months_sum_countries_in_quadrature():
    est = np.ones((2, S, 2)) * 1000.0  # (month, sector, country) kg
    sig = np.zeros((2, S, 2))
    sig[:, 0, :] = [300.0, 400.0]
    m = rt.country_months(pd.DatetimeIndex(["2024-01-01", "2024-02-01"]), np.array([0, 31, 60]), est, sig)
    assert m.days.tolist() == [31, 29] and m.est[0, 0] == 2.0
    assert m.sector_sigma[0, 0] == pytest.approx(0.5) and m.total_sigma[0] == pytest.approx(0.5)


def test_dominant_owner_weighs_by_area():
    owners = np.array([0, 1, 1, -1])
    assert rt.dominant_owner(owners, np.array([5.0, 2.0, 2.0, 100.0])) == 0
    assert rt.dominant_owner(owners, np.array([3.0, 2.0, 2.0, 0.0])) == 1
    assert rt.dominant_owner(np.array([-1, -1]), np.ones(2)) is None
