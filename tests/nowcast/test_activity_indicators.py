"""Sector indicators from measured activity, on the shipped real files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbonmap.settings import get_settings
from ingest import china_monthly, cm_power
from nowcast import activity_indicators as ai

DATA = get_settings().data_dir


@pytest.fixture(scope="module")
def china_daily_coal() -> pd.Series:
    d = cm_power.read_cm_power_china_daily(DATA / "electricity/cm-power/cm_power_china_daily_by_fuel_gwh.csv.gz")
    c = d[d["variable"] == "generation_coal"]
    return c.set_index("period")["value"].sort_index()


def test_spring_festival_dip_and_recovery(china_daily_coal: pd.Series) -> None:
    prof = ai.spring_festival_profile(china_daily_coal)
    assert prof.loc[0] < 0.8 and prof.loc[1:5].max() < 0.8  # the festival week
    assert prof.loc[-20] == pytest.approx(1.0, abs=0.05) and prof.loc[35:40].mean() == pytest.approx(1.0, abs=0.07)
    assert ai.lunar_new_year(2024) == pd.Timestamp("2024-02-10")
    days = pd.date_range("2024-01-01", "2024-03-31")
    f = ai.spring_festival_daily(days, prof)
    assert f[days == "2024-02-10"][0] == pytest.approx(prof.loc[0]) and f[0] == 1.0


def test_combined_january_february_split_by_shape_keeps_the_sum() -> None:
    monthly = pd.Series([np.nan, 200.0, 110.0], index=pd.date_range("2024-01-01", periods=3, freq="MS"))
    shape = pd.Series(1.0, index=pd.date_range("2024-01-01", "2024-03-31"))
    shape["2024-02-08":"2024-02-20"] = 0.5
    out = ai.split_combined_jan_feb(monthly, shape)
    assert out.iloc[0] + out.iloc[1] == pytest.approx(200.0)
    assert out.iloc[0] / 31 > out.iloc[1] / 29  # the holiday sits in February
    absent = ai.split_combined_jan_feb(monthly.dropna(), shape)  # January missing from the index altogether
    assert absent.iloc[0] == pytest.approx(out.iloc[0])


def test_power_index_from_generation_by_fuel() -> None:
    g = cm_power.read_cm_power_monthly(DATA / "electricity/cm-power/cm_power_monthly_by_country_fuel_vs_iea.csv.gz")
    p = ai.power_co2_monthly(g)
    c = g[(g["iso3"] == "CHN") & (g["period"] == "2024-08-01")].set_index("variable")["value"]
    expect = sum(c.get(v, 0.0) * f for v, f in ai.POWER_EF_T_PER_MWH.items())
    assert p.loc["2024-08-01", "CHN"] == pytest.approx(expect)
    assert p.index.max() == pd.Timestamp("2026-03-01")


def test_china_industry_index_weights_steel_and_cement() -> None:
    out = china_monthly.read_china_industry_monthly(DATA / "activity/china-monthly/monthly_industry_stats.csv")
    idx = ai.industry_co2_monthly(out)
    row = out[(out["period"] == "2023-06-01")].set_index("variable")["value"]
    assert idx.loc["2023-06-01", "CHN"] == pytest.approx(
        row["crude_steel"] * ai.INDUSTRY_EF_T_PER_T["crude_steel"] + row["cement"] * ai.INDUSTRY_EF_T_PER_T["cement"])
