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


def _canon(rows: list[tuple[str, str, str, float]], unit: str) -> pd.DataFrame:
    return pd.DataFrame([{"iso3": c, "region": "", "period": pd.Timestamp(p), "frequency": "monthly", "variable": v,
                          "value": x, "unit": unit, "source": "test"} for c, p, v, x in rows])


def test_nonpower_co2_subtracts_power_and_screens_noise():
    months = pd.date_range("2022-01-01", "2023-12-01", freq="MS")
    co2, gen = [], []
    for m in months:
        heat = 3.0 if m.month in (1, 2, 12) else 1.0
        co2 += [("AAA", m, "co2_gas", 2.0 + heat), ("AAA", m, "co2_cement", 0.5), ("AAA", m, "co2_coal", 4.0),
                ("BBB", m, "co2_gas", 1.0)]
        gen += [("AAA", m, "generation_gas", 5.0), ("AAA", m, "generation_coal", 3.0),
                ("BBB", m, "generation_gas", 2.4)]   # BBB burns 0.96 of its 1.0 Mt of gas in power
    c, g = _canon(co2, "MtCO2"), _canon(gen, "TWh")
    gas = ai.nonpower_co2_monthly(c, g, "gas")
    # AAA: gas CO2 minus 5 TWh x 0.40 t/MWh of power; BBB's remainder (4 %) is below the 15 % floor: left out
    assert list(gas.columns) == ["AAA"]
    assert gas.loc["2023-01-01", "AAA"] == pytest.approx(5.0 - 2.0)
    assert gas.loc["2023-07-01", "AAA"] == pytest.approx(3.0 - 2.0)
    ind = ai.nonpower_co2_monthly(c, g, "coal", ("co2_cement",))
    assert ind.loc["2023-05-01", "AAA"] == pytest.approx(4.0 - 3.0 + 0.5)
    # a statistical break (non-power coal triples in 2023) drops the country rather than feed a fake trend
    broken = c.assign(value=np.where((c["variable"] == "co2_coal") & (c["period"].dt.year == 2023), 6.0, c["value"]))
    assert "AAA" not in ai.nonpower_co2_monthly(broken, g, "coal").columns
