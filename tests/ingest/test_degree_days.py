from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from carbonmap.contract import Grid
from carbonmap.settings import get_settings
from ingest.base import IngestError
from ingest.boundaries import Coverage
from ingest.degree_days import (
    cell_degree_days,
    daily_from_monthly,
    era5_country_degree_days,
    expected_degree_days,
    mean_preserving_daily,
    population_weighted_degree_days,
    regrid_population,
    to_indicator_table,
)
from ingest.era5 import GRID_FILE, MONTHLY_FILE, read_era5_monthly_country
from ingest.gpw import read_gpw_ascii

GPW = "population/gpw_v4_population_count_rev11_2020_1_deg.asc"


def _tiny() -> tuple[Grid, Coverage, xr.DataArray]:
    grid = Grid(10.0, 0.0, 0.0, 20.0, 10.0)  # 1 x 2 cells
    # country A: all of cell 0 and half of cell 1; country B: the other half of cell 1
    cov = Coverage(("A", "B"), np.array([0, 0, 1], np.int32), np.array([0, 1, 1], np.int64),
                   np.array([1.0, 0.5, 0.5]), grid)
    t = xr.DataArray(np.array([[[10.0, 24.0]], [[18.0, 18.0]]]), dims=("day", "lat", "lon"),
                     coords={"day": pd.date_range("2024-01-01", periods=2), "lat": grid.lat, "lon": grid.lon})
    return grid, cov, t


def test_population_weighting_by_hand() -> None:
    _, cov, t = _tiny()
    pop = np.array([[100.0, 300.0]])
    dd = population_weighted_degree_days(t, pop, cov)
    # A: weights 100 (cell 0, HDD 8) and 150 (cell 1, HDD 0, CDD 6)
    assert dd["hdd"].sel(country="A").values[0] == pytest.approx(8 * 100 / 250)
    assert dd["cdd"].sel(country="A").values[0] == pytest.approx(6 * 150 / 250)
    assert dd["hdd"].sel(country="B").values[0] == 0 and dd["cdd"].sel(country="B").values[0] == 6
    assert (dd["hdd"].sel(day="2024-01-02") == 0).all()
    # degree days are per cell before averaging: averaging temperatures first would give HDD 0 for A
    assert dd["hdd"].sel(country="A").values[0] > 0
    # no population -> area weights, flagged
    dd0 = population_weighted_degree_days(t, np.array([[0.0, 0.0]]), cov)
    assert list(dd0["weighting"].values) == ["area", "area"]
    assert dd0["hdd"].sel(country="A").values[0] == pytest.approx(8 / 1.5, rel=1e-3)


def test_refuses_mismatched_grids() -> None:
    _, cov, t = _tiny()
    with pytest.raises(IngestError, match="population has shape"):
        population_weighted_degree_days(t, np.ones((2, 2)), cov)
    with pytest.raises(IngestError, match="dims"):
        population_weighted_degree_days(t.transpose("lat", "day", "lon"), np.ones((1, 2)), cov)


def test_regrid_population_conserves(data_dir: Path) -> None:
    pop = read_gpw_ascii(data_dir / GPW)
    fine = regrid_population(pop, Grid(0.5))
    coarse = regrid_population(pop, Grid(2.0))
    assert fine.shape == (360, 720) and coarse.shape == (90, 180)
    assert fine.sum() == pytest.approx(float(pop.sum()), rel=1e-12)
    assert coarse.sum() == pytest.approx(float(pop.sum()), rel=1e-12)
    sub = regrid_population(pop, Grid(0.5, 0.0, 40.0, 10.0, 50.0))
    assert sub.sum() == pytest.approx(float(pop.sel(lat=slice(50, 40), lon=slice(0, 10)).sum()), rel=1e-12)


def test_real_era5_degree_days(data_dir: Path) -> None:
    dd = era5_country_degree_days([data_dir / GRID_FILE], data_dir / GPW, Grid(1.0), settings=get_settings())
    assert dd["hdd"].dims == ("country", "day") and dd.sizes["day"] == 7
    # late March: Germany and Russia heat, India and Brazil cool
    assert float(dd["hdd"].sel(country="DEU").mean()) > 8 and float(dd["cdd"].sel(country="DEU").mean()) < 0.5
    assert float(dd["cdd"].sel(country="IND").mean()) > 5 and float(dd["hdd"].sel(country="IND").mean()) < 1
    assert float(dd["hdd"].sel(country="RUS").mean()) > float(dd["hdd"].sel(country="FRA").mean())
    assert bool((dd["hdd"] >= 0).all()) and bool((dd["cdd"] >= 0).all())
    table = to_indicator_table(dd, source="ERA5 sample")
    assert set(table["indicator"]) == {"hdd", "cdd"} and not table.duplicated(["country", "indicator", "day"]).any()


def test_monthly_to_daily(data_dir: Path) -> None:
    months = pd.date_range("2023-01-01", periods=14, freq="MS")
    mm = np.linspace(-2, 20, 14)
    days, mu = mean_preserving_daily(mm, months)
    got = pd.Series(mu, index=days).groupby(days.to_period("M")).mean().to_numpy()
    np.testing.assert_allclose(got, mm, atol=1e-12)
    assert len(days) == 365 + 31 + 29  # 2024 is a leap year
    h, c = expected_degree_days(np.array([18.0, -50.0, 60.0]), sigma_c=3.0)
    assert h[0] == pytest.approx(3.0 / np.sqrt(2 * np.pi)) and h[1] == pytest.approx(68.0) and c[2] == pytest.approx(42.0)
    # with sigma -> 0 the expectation is the plain degree day
    h0, c0 = expected_degree_days(np.array([10.0, 25.0]), sigma_c=1e-6)
    np.testing.assert_allclose(np.c_[h0, c0], np.c_[cell_degree_days(np.array([10.0, 25.0]))], atol=1e-9)
    m = read_era5_monthly_country(data_dir / MONTHLY_FILE)
    d = daily_from_monthly(m[m["iso3"].isin(["DEU", "IND"])])
    de = d[d["iso3"] == "DEU"].set_index("day")
    assert de.index.min() == pd.Timestamp("2000-01-01") and de.index.max() == pd.Timestamp("2024-12-31")
    assert de.loc["2020-01", "hdd"].mean() > 10 and de.loc["2020-07", "hdd"].mean() < 3
    with pytest.raises(IngestError, match="consecutive"):
        mean_preserving_daily(np.ones(2), pd.DatetimeIndex(["2020-01-01", "2020-03-01"]))
