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
    small = _subset(inputs, ["DEU"], last_year=2022)
    days = pd.date_range("2023-01-01", "2023-02-28", freq="D")
    nd = national_daily(small, days)
    assert "ragged edge SARIMAX" in nd.methods["temporal_residential"]
    s = cc.SECTORS.index("residential")
    assert np.all(nd.values[:, s, 0] > 0) and np.all(nd.rel_sigma[:, s, 0] > 0.15)
