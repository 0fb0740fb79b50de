"""Daily indicators assembled from the shipped ERA5 monthly temperatures and EIA-930 demand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingest.degree_days import daily_from_monthly
from ingest.era5 import read_era5_monthly_country
from pipelines.indicators import (
    ERA5_MONTHLY_FILE,
    annual_indicator_table,
    extend_with_climatology,
    load_daily_indicators,
)

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def ind():
    return load_daily_indicators(DATA)


def test_degree_days_and_demand_cover_the_shipped_periods(ind) -> None:
    assert ind.hdd.index[0] == pd.Timestamp("2000-01-01") and ind.last_day("hdd") == pd.Timestamp("2024-12-31")
    assert ind.hdd.shape[1] >= 170 and not ind.hdd.isna().any().any()
    deu = ind.hdd["DEU"]
    assert deu["2024-01"].mean() > 5 * deu["2024-07"].mean()
    assert ind.cdd["IND"]["2024-05"].mean() > ind.cdd["IND"]["2024-01"].mean()
    assert list(ind.power_demand.columns) == ["USA"]
    assert ind.last_day("power_demand") == pd.Timestamp("2024-12-31")
    assert len(ind.power_demand) == 1827  # 2020-01-01..2024-12-31, complete UTC days
    assert set(ind.sources) == {"hdd", "cdd", "power_demand"}


def test_same_hdd_as_the_ingest_daily_from_monthly(ind) -> None:
    monthly = read_era5_monthly_country(DATA / ERA5_MONTHLY_FILE)
    ref = daily_from_monthly(monthly[monthly["iso3"] == "FRA"])
    np.testing.assert_allclose(ind.hdd["FRA"].to_numpy(), ref["hdd"].to_numpy(), rtol=1e-12)


def test_annual_table_sums_complete_years(ind) -> None:
    tab = annual_indicator_table(ind)
    assert tab.index.names == ["iso3", "year"]
    assert tab.loc[("DEU", 2024), "hdd"] == pytest.approx(ind.hdd["DEU"]["2024"].sum(), rel=1e-12)
    us = tab.loc["USA", "power_demand"].dropna()
    assert list(us.index) == [2020, 2021, 2022, 2023, 2024]
    assert 3.5e9 < us.loc[2024] < 4.5e9  # MWh: the contiguous US uses about 4,000 TWh a year


def test_climatology_extends_past_the_data(ind) -> None:
    ext = extend_with_climatology(ind.hdd[["DEU"]], pd.Timestamp("2025-03-31"))
    assert ext.index[-1] == pd.Timestamp("2025-03-31") and not ext.isna().any().any()
    jan15 = [ind.hdd.at[pd.Timestamp(f"{y}-01-15"), "DEU"] for y in range(2020, 2025)]
    assert ext.at[pd.Timestamp("2025-01-15"), "DEU"] == pytest.approx(np.mean(jan15))
    pd.testing.assert_frame_equal(ext.loc[:"2024-12-31"], ind.hdd[["DEU"]], check_freq=False)
