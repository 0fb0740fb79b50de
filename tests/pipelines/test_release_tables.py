"""pipelines.release_tables: the history, facility and power-mix tables a build writes into its release."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import zarr

from carbonmap.storage import tables
from ingest.gcb import read_gcb
from pipelines import release_tables as rt

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"


def test_the_build_writes_its_tables_into_the_release(real_cube: Path):
    group = zarr.open_group(str(real_cube), mode="r")
    assert set(group["tables"].array_keys()) >= {rt.HISTORY, rt.SECTOR_HISTORY, rt.FACILITIES, rt.POWER_MIX}
    assert tables.read_table(real_cube, "no_such_table") is None
    hist = tables.read_table(real_cube, rt.HISTORY)
    gcb = read_gcb(DATA / "statistical" / "GCB2025v15_MtCO2_flat.csv")
    want = gcb[(gcb["iso3"] == "DEU") & (gcb["year"] == 1990)]["total"].iloc[0]
    assert hist[(hist["iso3"] == "DEU") & (hist["year"] == 1990)]["total"].iloc[0] == pytest.approx(want)
    assert hist["year"].min() == rt.HISTORY_FIRST_YEAR and hist["year"].max() == gcb.loc[gcb["total"].notna(), "year"].max()
    sec = tables.read_table(real_cube, rt.SECTOR_HISTORY)
    deu = sec[sec["iso3"] == "DEU"].set_index("year")
    total = hist[hist["iso3"] == "DEU"].set_index("year")["total"]
    assert deu[["power", "industry", "ground_transport", "residential", "domestic_aviation"]].sum(axis=1).to_numpy() \
        == pytest.approx(total.reindex(deu.index).to_numpy(), rel=1e-9)


def test_facility_shares_closed_plants_and_sectors(real_cube: Path):
    f = tables.read_table(real_cube, rt.FACILITIES)
    assert list(f.columns) == list(rt.FACILITY_COLUMNS)
    assert set(f["status"]) <= {"operating", "closed", "mothballed"}
    assert set(f["sector"]) == {"power", "industry", "domestic_aviation"}
    op = f[f["status"] == "operating"]
    assert (op.groupby(["iso3", "sector"])["share"].sum() <= 1 + 1e-9).all()
    shut = f[f["status"] != "operating"]
    assert len(shut) and (shut["share"] == 0).all()
    assert (shut["closed_year"].dropna() <= 2024).all()
    # GEM lists retired coal units in the USA: they are in the table as closed power plants
    assert len(shut[(shut["iso3"] == "USA") & (shut["kind"] == "coal unit (GEM)")]) > 0
    # and GEM's retired and mothballed steel and cement plants are listed as closed industry, emitting nothing
    for kind in ("iron and steel plant (GEM)", "cement plant (GEM)"):
        k = shut[shut["kind"] == kind]
        assert len(k) > 20 and set(k["sector"]) == {"industry"} and set(k["status"]) == {"closed", "mothballed"}
        assert (k.loc[k["status"] == "mothballed", "co2_t_per_yr"].dropna() > 0).all()


def test_placed_shares_follow_the_plants_first_rule():
    pts = pd.DataFrame({"iso3": ["A", "A", "B", "B"], "co2_kg_per_yr": [30.0, 10.0, 5.0, 5.0]})
    s = rt.placed_shares(pts, {"A": 20.0, "B": 100.0}, 2.0)
    assert s[:2].sum() == pytest.approx(1.0) and s[0] / s[1] == pytest.approx(3.0)  # points exceed the total
    assert s[2:].sum() == pytest.approx(2 * 10 / 100)  # scaled up at most 2x, the rest to the proxy
    assert rt._plant_name(["Tuoketuo power station Unit 1", "Tuoketuo power station Unit 2"]) == "Tuoketuo power station"


def test_a_facility_never_gets_more_than_its_grid_cell():
    import scipy.sparse as sp

    matrix = sp.csc_matrix(np.array([[0.1, 0.0], [0.6, 0.0], [0.3, 1.0]]))  # (cell, region) columns sum to 1
    shares = np.array([0.5, 0.2, 0.3, 0.9])
    raw = np.array([10.0, 30.0, 10.0, 5.0])
    out = rt.cell_capped(shares, raw, np.array([0, 0, 0, 1]), np.array([0, 0, 2, 2]), matrix)
    # cell 0 holds 0.1 of region 0: its two plants split it 1:3; cell 2 holds 0.3 (plant 3 keeps 0.3); region 1: 0.9
    assert out == pytest.approx([0.025, 0.075, 0.3, 0.9])
    assert rt.cell_capped(shares, raw, np.array([0, -1, 0, 1]), np.array([1, 1, -1, 2]), matrix)[1:3].tolist() == [0, 0]


def test_power_mix_is_the_carbon_monitor_year(real_cube: Path):
    mix = tables.read_table(real_cube, rt.POWER_MIX).set_index("iso3")
    raw = pd.read_csv(DATA / "electricity" / "cm-power" / "cm_power_monthly_by_country_fuel_vs_iea.csv.gz",
                      encoding="utf-8-sig")
    year = int(mix.loc["CHN", "year"])
    chn = raw[(raw["country"] == "China") & (raw["year"] == year)]
    assert chn["month"].nunique() == 12
    coal, total = (chn[chn["type"] == t]["value"].sum() for t in ("coal", "total"))
    assert mix.loc["CHN", "coal_twh"] == pytest.approx(coal) and mix.loc["CHN", "total_twh"] == pytest.approx(total)
    assert 0.2 < mix.loc["CHN", "grid_t_per_mwh"] < 1.0 and np.isfinite(mix.loc["DEU", "coal_twh"])
