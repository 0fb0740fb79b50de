"""Facility point tables: closed plants emit nothing, reported facilities come first, calibrated scaling bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbonmap.settings import get_settings
from ingest import gem_coal, power_plants
from nowcast import facilities as fac
from nowcast.downscale import POWER_RULES, Coverage, Points, sector_weights

DATA = get_settings().data_dir


@pytest.fixture(scope="module")
def jrc() -> pd.DataFrame:
    return power_plants.read_jrc_ppdb(DATA / "point_sources/jrc-ppdb-open-v1.0")


def test_decommissioned_jrc_units_emit_nothing(jrc: pd.DataFrame) -> None:
    pts = fac.jrc_points(jrc, 2024)
    names = " ".join(pts.loc[pts["iso3"] == "FRA", "name"].astype(str)).upper()
    for closed in ("MAXE", "PORCHEVILLE", "ARAMON", "LUCY"):
        assert closed not in names, f"{closed} closed years ago but is still placed"
    # the same units did report CO2 before they closed: the filter, not the data, removes them
    assert jrc[(jrc["iso3"] == "FRA") & jrc["name_p"].str.contains("MAXE", na=False)]["co2_kg_per_yr"].max() > 0
    assert (pts["basis"] == "reported").all() and len(pts) > 100


def test_gem_units_retired_before_the_year_are_not_operating() -> None:
    units = gem_coal.read_gem_coal_units(DATA / "point_sources/gem/gem_gcpt_coal_units_2024-07.csv.gz",
                                         DATA / "point_sources/gem/gem_gcpt_co2_parameters_2024-07.csv")
    op = gem_coal.operating_in(units, 2024)
    fr = op[op["iso3"] == "FRA"]
    assert not fr["plant_name"].str.contains("La Maxe|Lucy", case=False).any()
    pts = fac.coal_points(op, gem_coal.annual_co2_mt(op, 1.0))
    cn = pts[pts["iso3"] == "CHN"]["co2_kg_per_yr"].sum() / 1e9
    assert 4000 < cn < 6500  # > 1,000 GW of Chinese coal at GEM's capacity factor: Gt, not the old 183 GW


def test_gppd_plants_near_any_jrc_unit_are_dropped(jrc: pd.DataFrame) -> None:
    unit = jrc[(jrc["iso3"] == "FRA") & jrc["lat"].notna()].iloc[0]
    est = pd.DataFrame({"iso3": ["FRA", "FRA"], "lon": [unit["lon"] + 0.01, 5.0], "lat": [unit["lat"], 0.0],
                        "co2_kg_per_yr": [1e9, 1e9]})
    out = fac.gppd_points(est, jrc)
    assert len(out) == 1 and out.iloc[0]["lat"] == 0.0


def test_reported_only_countries_keep_only_their_reported_plants() -> None:
    row = {"lon": 0.0, "lat": 0.0, "co2_kg_per_yr": 1e9, "kind": "k", "name": "n"}
    coal = pd.DataFrame([{**row, "iso3": "USA", "basis": "estimated"}, {**row, "iso3": "CHN", "basis": "estimated"}])
    rep = pd.DataFrame([{**row, "iso3": "USA", "basis": "reported", "lon": 5.0}])
    out = fac.power_points(coal, pd.DataFrame(columns=list(fac.POINT_COLUMNS)), rep)
    assert sorted(out["iso3"]) == ["CHN", "USA"]
    assert out[out["iso3"] == "USA"]["basis"].tolist() == ["reported"]


def test_calibration_scales_points_up_at_most_max_scale() -> None:
    n_cells = 4
    cov = Coverage(np.array([0, 0, 1, 1]), np.array([0, 1, 2, 3]), np.ones(4))
    resid = sector_weights(n_cells, 2, cov, np.ones(n_cells), np.ones(n_cells)).matrix
    pts = Points(np.array([0, 1]), np.array([0, 2]), np.array([10.0, 10.0]))
    w = fac.calibrated_plants_first(pts, np.array([15.0, 100.0]), resid, max_scale=2.0)
    col0 = w.matrix[:, 0].toarray().ravel()
    col1 = w.matrix[:, 1].toarray().ravel()
    assert col0[0] == pytest.approx(1.0) and col0[1] == pytest.approx(0.0, abs=1e-12)  # 10 -> 15 fills it
    assert col1[2] == pytest.approx(20.0 / 100.0 + 0.8 * 0.5)  # 10 -> 20 at most, 80 over the residual
    assert POWER_RULES[w.rule[1]] == "plants_then_residual"


def test_capacity_against_generation_flags_missing_and_idle_plants() -> None:
    from nowcast.facilities import capacity_against_generation

    coal = pd.DataFrame({"iso3": ["AAA", "AAA", "BBB"], "capacity_mw": [1000.0, 1000.0, 500.0]})
    gas = pd.DataFrame({"iso3": ["AAA"], "capacity_mw": [100.0]})
    gen = pd.DataFrame({"iso3": ["AAA", "BBB", "CCC"], "coal_twh": [8.76, 0.438, 1.0], "gas_oil_twh": [1.752, 0.0, 2.0]})
    out = capacity_against_generation(coal, gas, gen)
    assert out.loc["AAA", "coal_gw"] == 2.0 and out.loc["AAA", "coal_capacity_factor"] == pytest.approx(0.5)
    assert out.loc["AAA", "gas_oil_capacity_factor"] == pytest.approx(2.0)       # more output than listed plants
    assert out.loc["BBB", "coal_capacity_factor"] == pytest.approx(0.1)          # listed plants barely run
    assert out.loc["CCC", "coal_gw"] == 0 and pd.isna(out.loc["CCC", "coal_capacity_factor"])  # nothing listed
    assert list(out.index) == ["AAA", "CCC", "BBB"]                              # largest coal generation first
