"""National daily sector totals from the real shipped inputs: benchmarks, indicators, nowcast."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonmap import contract as cc
from nowcast.baseline import annual_sector_table
from pipelines import store
from pipelines.build import BuildRequest, build
from pipelines.inputs import load_inputs
from pipelines.national import annual_table, national_daily

YEAR = pd.date_range("2024-01-01", "2024-12-31", freq="D")


@pytest.fixture(scope="module")
def inputs():
    return load_inputs()


@pytest.fixture(scope="module")
def nd2024(inputs):
    t0 = time.perf_counter()
    out = national_daily(inputs, YEAR)
    assert time.perf_counter() - t0 < 60, "all regions x 366 days x 7 sectors must take well under a minute"
    return out


def _subset(inputs, codes: list[str], last_year: int | None = None):
    g = inputs.gcb[inputs.gcb["iso3"].isin(codes)]
    if last_year is not None:
        g = g[g["year"] <= last_year]
    return dataclasses.replace(inputs, gcb=g)


def test_every_annual_total_is_preserved(inputs, nd2024) -> None:
    assert inputs.split is not None, "the shipped inputs give a per-year sector split"
    ref = annual_table(inputs, [2024], nd2024.regions)[0]
    got = nd2024.values.sum(axis=0)
    assert got.shape == (len(cc.SECTORS), len(nd2024.regions)) and ref.sum() > 3.5e13
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=0)
    assert np.all(nd2024.values >= 0)
    # and every country's GCB 2024 total, whatever the split
    gcb = inputs.gcb[inputs.gcb["year"] == 2024].set_index("iso3")["total"]
    for code in ("CHN", "USA", "IND", "DEU", "XIA", "XIS"):
        j = nd2024.regions.index(code)
        assert got[:, j].sum() == pytest.approx(gcb[code] * cc.KG_PER_MT, rel=1e-9)


def test_static_shares_still_split_when_no_current_split(inputs) -> None:
    ref = annual_sector_table(inputs.gcb, inputs.shares, [2024], ("DEU", "FRA"))[0]
    got = annual_table(dataclasses.replace(inputs, split=None), [2024], ("DEU", "FRA"))[0]
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_methods_name_indicators_per_sector_and_country(nd2024) -> None:
    m = nd2024.methods
    assert "EIA-930" in m["temporal_power"] and "(USA)" in m["temporal_power"]
    assert "degree-day" in m["temporal_power"] and "elsewhere" in m["temporal_power"]
    assert "Chow-Lin" in m["temporal_residential"] and "HDD" in m["temporal_residential"]
    assert "holidays" in m["temporal_ground_transport"]
    for src in ("EIA-930", "ERA5", "aviation climatology", "shipping climatology"):
        assert src in m["indicator_sources"]
    for sector in cc.SECTORS:
        assert f"temporal_{sector}" in m


def test_daily_series_follow_their_indicators(inputs, nd2024) -> None:
    r = nd2024.regions.index
    s = cc.SECTORS.index
    usa = nd2024.values[:, s("power"), r("USA")]
    demand = inputs.indicators.power_demand["USA"].reindex(YEAR).to_numpy()
    assert np.corrcoef(usa, demand)[0, 1] > 0.95
    deu_res = pd.Series(nd2024.values[:, s("residential"), r("DEU")], index=YEAR)
    assert deu_res["2024-01"].mean() > 2 * deu_res["2024-07"].mean()
    gt = pd.Series(nd2024.values[:, s("ground_transport"), r("DEU")], index=YEAR)
    assert gt["2024-12-25"] < gt["2024-12-18"]  # Christmas vs an ordinary Wednesday
    assert np.all(nd2024.rel_sigma[nd2024.values > 0] > 0)


def test_partial_period_is_a_slice_of_the_year(inputs, nd2024) -> None:
    small = _subset(inputs, ["DEU", "USA", "XIA", "XIS"])
    days = pd.date_range("2024-02-27", "2024-03-02", freq="D")
    part = national_daily(small, days)
    full_idx = [nd2024.regions.index(c) for c in part.regions]
    rows = YEAR.get_indexer(days)
    np.testing.assert_allclose(part.values, nd2024.values[rows][:, :, full_idx], rtol=1e-12)


def test_past_the_inventory_uses_the_nowcast_with_wider_uncertainty(inputs, tmp_path: Path) -> None:
    small = _subset(inputs, ["DEU", "FRA", "USA", "IND", "XIA", "XIS"])
    days = pd.date_range("2024-12-01", "2025-03-31", freq="D")
    nd = national_daily(small, days)
    assert "nowcast" in nd.methods and "UnobservedComponents" in nd.methods["nowcast"]
    dec, jan = days.year == 2024, days.year == 2025
    for j in range(len(nd.regions)):
        for s in range(len(cc.SECTORS)):
            if nd.values[jan, s, j].sum() > 0:
                assert nd.rel_sigma[jan, s, j].min() > nd.rel_sigma[dec, s, j].max()
    store_path = build(BuildRequest(dt.date(2024, 12, 31), dt.date(2025, 1, 2), 10.0, tmp_path / "nc.zarr",
                                    "test-nowcast"), inputs=small)
    ds = store.open_cube(store_path)
    assert "nowcast" in ds.attrs["provenance_methods"]
    unc = ds[cc.NATIONAL_UNC_VAR].sel(country="DEU", sector="residential").values
    assert unc[1] > unc[0]


def test_ragged_edge_uses_observed_indicator_months(inputs) -> None:
    """With the inventory cut at 2022, the 2023 indicator months are a ragged edge for SARIMAX."""
    small = _subset(inputs, ["GBR"], last_year=2022)  # residential modelled (no gas series for GBR)
    days = pd.date_range("2023-01-01", "2023-02-28", freq="D")
    nd = national_daily(small, days)
    assert "ragged edge SARIMAX" in nd.methods["temporal_residential"]
    s = cc.SECTORS.index("residential")
    assert np.all(nd.values[:, s, 0] > 0) and np.all(nd.rel_sigma[:, s, 0] > 0.15)


PRESENT = pd.date_range("2024-01-01", "2026-03-31", freq="D")


@pytest.fixture(scope="module")
def nd_present(inputs):
    return national_daily(inputs, PRESENT)


def _monthly(nd, code: str, sector: str) -> pd.Series:
    j, s = nd.regions.index(code), cc.SECTORS.index(sector)
    return pd.Series(nd.values[:, s, j], index=nd.times).groupby(nd.times.to_period("M")).sum()


def test_evidence_says_what_carries_each_value(nd_present) -> None:
    ev, R = nd_present.evidence, nd_present.regions
    assert ev is not None and ev.shape == nd_present.values.shape
    code = {name: i for i, name in enumerate(cc.EVIDENCE_LEVELS)}
    t = nd_present.times
    chn_power = ev[:, cc.SECTORS.index("power"), R.index("CHN")]
    assert (chn_power == code["monthly-statistics"]).all()  # Carbon Monitor Power reaches 2026-03
    ind_power = ev[:, cc.SECTORS.index("power"), R.index("IND")]
    assert (ind_power[t <= "2026-03-31"] == code["daily-activity"]).mean() > 0.99  # Grid-India daily reports
    chn_ind = ev[:, cc.SECTORS.index("industry"), R.index("CHN")]
    assert (chn_ind[t.year == 2024] == code["monthly-statistics"]).all()  # NBS output to 2024-12
    assert (chn_ind[t.year >= 2025] == code["model"]).all()
    res = ev[:, cc.SECTORS.index("residential"), R.index("DEU")]  # CICERO gas outside power, to 2025
    assert (res[t.year == 2024] == code["monthly-statistics"]).all() and (res[t.year >= 2026] == code["model"]).all()
    fra_ind = ev[:, cc.SECTORS.index("industry"), R.index("FRA")]  # no fuel-based industry series in Europe
    assert (fra_ind[t.year == 2024] == code["annual-inventory"]).all()
    ind_ind = ev[:, cc.SECTORS.index("industry"), R.index("IND")]  # CICERO coal outside power + cement
    assert (ind_ind[t.year == 2024] == code["monthly-statistics"]).all()
    deu_air = ev[:, cc.SECTORS.index("domestic_aviation"), R.index("DEU")]
    assert (deu_air == code["daily-activity"]).all()  # EUROCONTROL to 2026-07
    assert "monthly-statistics through 2026-03-31" in nd_present.data_edge["CHN"]["power"]


def test_past_the_inventory_measured_sectors_follow_the_ratio_method(inputs, nd_present) -> None:
    # 2025 power of a measured country = 2024 power x (2025 activity / 2024 activity), activity = the monthly
    # series the build measured (Carbon Monitor Power generation by fuel x emission factors)
    monthly = inputs.indicators.measured_monthly["power"]["DEU"]
    ratio = monthly["2025"].sum() / monthly["2024"].sum()
    m = _monthly(nd_present, "DEU", "power")
    assert m["2025"].sum() / m["2024"].sum() == pytest.approx(ratio, rel=1e-9)
    # and each measured month carries 2024's emissions per unit of activity
    per_unit = m["2024"].sum() / monthly["2024"].sum()
    np.testing.assert_allclose(m["2025"].to_numpy(), monthly["2025"].to_numpy() * per_unit, rtol=1e-9)


def test_residential_follows_gas_burnt_outside_power(inputs, nd_present) -> None:
    monthly = inputs.indicators.measured_monthly["residential"]["DEU"]
    m = _monthly(nd_present, "DEU", "residential")
    per_unit = m["2024"].sum() / monthly["2024"].sum()   # 2024's emissions per unit of gas outside power
    seen = monthly["2025"].dropna()
    assert len(seen) >= 6
    np.testing.assert_allclose(m[seen.index.to_period("M")].to_numpy(), seen.to_numpy() * per_unit, rtol=1e-9)
    assert m["2024-01"].sum() > 2 * m["2024-07"].sum()   # heating season, as the gas statistics say
    assert "gas" in inputs.indicators.measured_sources["residential"]["DEU"]


def test_intervals_widen_past_the_last_measured_day(nd_present) -> None:
    j, s = nd_present.regions.index("CHN"), cc.SECTORS.index("industry")
    sig = pd.Series(nd_present.rel_sigma[:, s, j], index=nd_present.times)
    assert sig["2025-01-15"] > sig["2024-06-15"]
    assert sig["2026-03-15"] > sig["2025-03-15"]  # further from the 2024-12 data edge


def test_china_shapes_follow_the_statistics(nd_present) -> None:
    power = _monthly(nd_present, "CHN", "power")["2024"]
    assert power.iloc[6:8].mean() > power.iloc[3:5].mean()  # summer cooling peak (Jul-Aug over Apr-May)
    ind = _monthly(nd_present, "CHN", "industry")["2024"]
    days = np.array([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    per_day = ind.to_numpy() / days
    assert per_day[1] < 0.9 * per_day[2]  # the Lunar New Year (2024-02-10) dip in February
    assert np.corrcoef(ind.to_numpy(), power.to_numpy())[0, 1] < 0.99  # industry has its own profile
