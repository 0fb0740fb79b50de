"""Per-year sector split: power from Ember, the rest from the newest inventory, totals conserved."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbonmap.contract import INTERNATIONAL_SECTORS, NATIONAL_SECTORS, SECTORS
from nowcast.sector_split import (
    POWER_SHARE_BOUNDS,
    ember_power_co2,
    generation_power_co2,
    sector_split,
    split_totals,
)


def ember_table(rows: list[tuple[str, int, float, float]]) -> pd.DataFrame:
    out = []
    for iso3, year, demand, intensity in rows:
        for var, val, unit in (("demand", demand, "TWh"), ("power_co2_intensity", intensity, "gCO2/kWh")):
            out.append({"iso3": iso3, "region": "", "period": pd.Timestamp(f"{year}-01-01"), "frequency": "yearly",
                        "variable": var, "value": val, "unit": unit, "source": "ember"})
    return pd.DataFrame(out)


FALLBACK = pd.DataFrame({"power": [0.5, 0.3], "industry": [0.2, 0.3], "ground_transport": [0.2, 0.2],
                         "residential": [0.05, 0.15], "domestic_aviation": [0.05, 0.05]}, index=["AAA", "BBB"])
GCB = pd.DataFrame({"AAA": [100.0, 90.0], "BBB": [50.0, 50.0]}, index=[2023, 2024])


def test_ember_power_is_demand_times_intensity() -> None:
    p = ember_power_co2(ember_table([("AAA", 2024, 200.0, 150.0)]))
    assert p.loc[2024, "AAA"] == pytest.approx(30.0)  # 200 TWh x 150 g/kWh = 30 Mt


def test_power_from_ember_rest_from_inventory_rows_sum_to_one() -> None:
    ep = ember_power_co2(ember_table([("AAA", 2024, 200.0, 150.0), ("AAA", 2023, 200.0, 200.0)]))
    inv = pd.DataFrame({"iso3": ["AAA"] * 4, "year": [2021] * 4,
                        "sector": ["industry", "ground_transport", "residential", "other"],
                        "co2_mt": [10.0, 20.0, 10.0, 10.0]})
    sp = sector_split(GCB, [2023, 2024], FALLBACK, power=[("Ember demand x intensity", ep)], inventories={"INV": inv})
    a24 = sp.for_year(2024).loc["AAA"]
    assert a24["power"] == pytest.approx(30.0 / 90.0)
    # rest: industry 10 + other 10 = 20, transport 20, residential 10, aviation 0 -> of 50
    assert a24["industry"] == pytest.approx((1 - 30 / 90) * 0.4)
    assert a24["domestic_aviation"] == 0.0
    assert sp.for_year(2023).loc["AAA", "power"] == pytest.approx(40.0 / 100.0)
    np.testing.assert_allclose(sp.shares.sum(axis=1).to_numpy(), 1.0, atol=1e-12)
    b = sp.for_year(2024).loc["BBB"]  # no Ember, no inventory row: the fallback shares
    np.testing.assert_allclose(b.to_numpy(), FALLBACK.loc["BBB"].to_numpy(), atol=1e-12)
    assert "Ember" in sp.basis.loc[(2024, "AAA"), "power"] and "INV" in sp.basis.loc[(2024, "AAA"), "rest"]


def test_power_share_is_clipped_and_years_past_ember_carry_its_last_share() -> None:
    ep = ember_power_co2(ember_table([("AAA", 2023, 1000.0, 1000.0)]))  # 1000 Mt > the whole total
    sp = sector_split(GCB, [2023, 2024], FALLBACK, power=[("Ember demand x intensity", ep)])
    assert sp.for_year(2023).loc["AAA", "power"] == pytest.approx(POWER_SHARE_BOUNDS[1])
    assert sp.for_year(2024).loc["AAA", "power"] == pytest.approx(POWER_SHARE_BOUNDS[1])
    assert "share of 2023" in sp.basis.loc[(2024, "AAA"), "power"]


def test_split_totals_conserves_each_country_and_year() -> None:
    sp = sector_split(GCB, [2023, 2024], FALLBACK)
    regions = ("AAA", "BBB", "XIA")
    tot = np.array([[100.0, 50.0, 7.0], [90.0, 50.0, 8.0]])
    out = split_totals(tot, sp, [2023, 2024], regions, {v: k for k, v in INTERNATIONAL_SECTORS.items()})
    np.testing.assert_allclose(out.sum(axis=1), tot, rtol=1e-14)
    assert out[1, SECTORS.index("international_aviation"), 2] == 8.0
    assert out[:, [SECTORS.index(s) for s in NATIONAL_SECTORS], 2].sum() == 0.0


def test_generation_comes_before_ember_and_needs_complete_years() -> None:
    months = pd.date_range("2023-01-01", "2024-06-01", freq="MS")
    gen = pd.DataFrame({"AAA": 2.0}, index=months)  # 24 Mt in 2023, 2024 incomplete
    g = generation_power_co2(gen)
    assert list(g.index) == [2023] and g.loc[2023, "AAA"] == pytest.approx(24.0)
    ep = ember_power_co2(ember_table([("AAA", 2024, 200.0, 150.0)]))
    sp = sector_split(GCB, [2023, 2024], FALLBACK, power=[("generation", g), ("Ember", ep)])
    assert sp.for_year(2023).loc["AAA", "power"] == pytest.approx(0.24)
    assert sp.for_year(2024).loc["AAA", "power"] == pytest.approx(0.24)  # generation's 2023 share carried
    assert sp.basis.loc[(2024, "AAA"), "power"] == "generation (share of 2023)"


def test_counted_flights_replace_the_aviation_proxy_inside_transport() -> None:
    av = pd.DataFrame({"AAA": [1.0]}, index=[2023])  # 1 Mt from counted flights in 2023
    sp = sector_split(GCB, [2023, 2024], FALLBACK, aviation=av)
    a23, a24 = sp.for_year(2023).loc["AAA"], sp.for_year(2024).loc["AAA"]
    assert a23["domestic_aviation"] == pytest.approx(0.01)
    assert a23["ground_transport"] + a23["domestic_aviation"] == pytest.approx(0.25)  # transport unchanged
    assert a24["domestic_aviation"] == pytest.approx(1.0 / 100.0)  # the 2023 share carried forward
    big = pd.DataFrame({"AAA": [90.0]}, index=[2023])
    capped = sector_split(GCB, [2023], FALLBACK, aviation=big).for_year(2023).loc["AAA"]
    assert capped["domestic_aviation"] == pytest.approx(0.125)  # at most half of transport
    assert sp.for_year(2023).loc["BBB", "domestic_aviation"] == pytest.approx(0.05)
