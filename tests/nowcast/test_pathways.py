"""nowcast.pathways: target validation, the gap to the path, the sector roadmap and the levers."""

from __future__ import annotations

import numpy as np
import pytest

from nowcast import pathways as pw

DATA = (1970, 2025)


def parse(**kw: object) -> pw.Target | None:
    args = {"peak_year": None, "target_year": None, "cut_pct": None, "base_year": None}
    args.update(kw)
    return pw.parse_target(args["peak_year"], args["target_year"], args["cut_pct"], args["base_year"], DATA, 2026)


def test_targets_are_validated_and_say_what_is_missing():
    assert parse() is None
    assert parse(peak_year=2028) == pw.Target("peak", 2028)
    assert parse(target_year=2030, cut_pct=50, base_year=2005) == pw.Target("cut", 2030, 50.0, 2005)
    with pytest.raises(pw.TargetError, match="missing: base_year"):
        parse(target_year=2030, cut_pct=50)
    with pytest.raises(pw.TargetError, match="missing: target_year, base_year"):
        parse(cut_pct=50)
    with pytest.raises(pw.TargetError, match="not both"):
        parse(peak_year=2028, target_year=2030)
    with pytest.raises(pw.TargetError, match="not in the future"):
        parse(target_year=2024, cut_pct=50, base_year=2005)
    with pytest.raises(pw.TargetError, match="in the past"):
        parse(peak_year=2020)
    with pytest.raises(pw.TargetError, match=r"outside this region's data \(1970-2025\)"):
        parse(target_year=2030, cut_pct=50, base_year=1960)
    with pytest.raises(pw.TargetError, match="between 0 and 100"):
        parse(target_year=2030, cut_pct=150, base_year=2005)
    assert pw.parse_target(None, 2030, 40, 1960, DATA, 2026, base_given=True) == pw.Target("cut", 2030, 40.0, 1960)


def test_cut_target_gap_and_rate():
    years = np.arange(2005, 2026)
    totals = np.linspace(200.0, 150.0, len(years))  # falling 2.5 a year
    a = pw.assess_target(pw.Target("cut", 2035, 50.0, 2005), years, totals, None)
    assert a.target_t == pytest.approx(100.0)  # 50% cut means half the base, not 150%
    assert a.path_t_now == pytest.approx(200 - 100 * 20 / 30)
    assert a.gap_t == pytest.approx(150 - a.path_t_now) and a.gap_t > 0
    assert a.required_annual_change == pytest.approx((100 / 150) ** (1 / 10) - 1)
    assert not a.on_track and not a.met
    base_now = pw.assess_target(pw.Target("cut", 2035, 50.0, 2025), years, totals, None)
    assert not base_now.on_track  # base year = now is no longer 'on track' by construction


def test_peak_target_slows_growth_linearly():
    years = np.arange(2015, 2026)
    totals = 100 * 1.04 ** np.arange(len(years))
    a = pw.assess_target(pw.Target("peak", 2030), years, totals, None)
    assert a.trend_growth == pytest.approx(0.04, rel=1e-9)
    assert a.required_slowdown_pp_per_year == pytest.approx(0.04 / 5)
    assert a.required_annual_change == pytest.approx(0.04 * (1 - 1 / 5))
    path = pw.peak_path(totals[-1], 0.04, 2025, 2030)
    assert path[-1] == pytest.approx(a.target_t) and np.all(np.diff(path) >= 0) and path[-1] / path[-2] == 1.0
    assert a.gap_at_target_year_t > 0 and not a.on_track
    done = pw.assess_target(pw.Target("peak", 2030), years, totals, peaked_year=2007)
    assert done.met and done.on_track


SECTORS_NOW = {"power": 40.0, "industry": 30.0, "ground_transport": 20.0, "residential": 10.0}


def test_pathway_reaches_the_target_sector_by_sector():
    growth = {"power": 0.02, "industry": 0.0, "ground_transport": 0.01, "residential": -0.01}
    target = pw.Target("cut", 2035, 50.0, 2005)
    p = pw.pathway(target, 2025, SECTORS_NOW, growth, 60.0, {}, pw.RegionContext())
    assert p.years == list(range(2025, 2036))
    assert p.total[0] == pytest.approx(100.0) and p.total[-1] == pytest.approx(60.0)
    assert p.reaches_target and p.implied_peak_year == 2025
    sums = np.sum([p.sectors[s] for s in SECTORS_NOW], axis=0)
    assert np.allclose(sums, p.total)
    for s, now in SECTORS_NOW.items():
        assert p.required_annual_change[s] == pytest.approx((p.sectors[s][-1] / now) ** 0.1 - 1)
    assert p.cumulative_t == pytest.approx(sum(p.total[1:]))
    assert p.gap_to_trend_t == pytest.approx(p.trend_total[-1] - 60.0)
    hist = pw.pathway(target, 2025, SECTORS_NOW, growth, 60.0, {}, pw.RegionContext(),
                      np.arange(2015, 2026), np.r_[np.full(10, 90.0), 100.0])
    assert hist.implied_peak_year == 2025


def test_levers_have_their_documented_effects():
    ctx = pw.RegionContext(coal_share=0.6, gas_share=0.2, oil_share=0.0, grid_t_per_mwh=0.65,
                           process_share_industry=0.25)
    trend = {"power": 40.0, "industry": 30.0, "ground_transport": 20.0, "residential": 10.0}
    eff = {e.lever: e for e in pw.lever_effects({"coal_share_power": 30, "industry_energy_intensity_pct": -20,
                                                 "electric_share_road": 50, "building_heat_demand_pct": -25},
                                                ctx, trend)}
    i0 = 0.6 * pw.EF_T_PER_MWH["coal"] + 0.2 * pw.EF_T_PER_MWH["gas"]
    f_power = 1 + (0.3 - 0.6) * pw.EF_T_PER_MWH["coal"] / i0
    assert eff["coal_share_power"].sector_factor["power"] == pytest.approx(f_power)
    assert eff["industry_energy_intensity_pct"].sector_factor["industry"] == pytest.approx(0.75 * 0.8 + 0.25)
    assert eff["electric_share_road"].sector_factor["ground_transport"] == pytest.approx(1 - pw.ROAD_SHARE * 0.5)
    assert eff["electric_share_road"].added_power_t == pytest.approx(
        pw.ROAD_SHARE * 0.5 * 20 / pw.EF_ROAD_FUEL * pw.EV_ENERGY_RATIO * 0.65 * f_power)
    assert eff["building_heat_demand_pct"].sector_factor["residential"] == pytest.approx(1 - pw.HEAT_SHARE * 0.25)
    with pytest.raises(pw.TargetError, match="at most 80%"):
        pw.lever_effects({"coal_share_power": 90}, ctx, trend)
    with pytest.raises(pw.TargetError, match="between 0 and 100"):
        pw.lever_effects({"electric_share_road": 120}, ctx, trend)
    with pytest.raises(pw.TargetError, match="electricity mix"):
        pw.lever_effects({"coal_share_power": 10}, pw.RegionContext(), trend)
    p0 = pw.pathway(pw.Target("cut", 2035, 0.0, 2025), 2025, trend, {}, 100.0, {}, ctx)
    p1 = pw.pathway(pw.Target("cut", 2035, 0.0, 2025), 2025, trend, {}, 100.0, {"building_heat_demand_pct": -50}, ctx)
    assert p1.sectors["residential"][-1] == pytest.approx(10 * (1 - 0.4)) and p1.total[-1] < p0.total[-1]
    assert p1.sectors["residential"][5] == pytest.approx(10 * (1 - 0.4 * 0.5))  # phased in linearly
