from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from ingest.base import IngestError
from ingest.power_plants import PLANT_COLUMNS, read_gppd_sources, read_jrc_ppdb

GPPD = "point_sources/wri-gppd-v1.3.0/source_databases_csv"
JRC = "point_sources/jrc-ppdb-open-v1.0"


@pytest.fixture(scope="module")
def plants(data_dir: Path) -> pd.DataFrame:
    return read_gppd_sources(data_dir / GPPD)


def test_plant_table(plants: pd.DataFrame) -> None:
    assert tuple(plants.columns) == PLANT_COLUMNS
    assert plants["lat"].between(-90, 90).all() and plants["lon"].between(-180, 180).all()
    assert not plants.duplicated(["source", "plant_id"]).any()
    # national precedence: no multinational rows for countries with a national table
    for iso in ("USA", "BRA", "IND", "AUS"):
        assert set(plants.loc[plants.iso3 == iso, "source"]) == {iso}
    # US plants carry EIA generation up to 2019
    us = plants[plants.iso3 == "USA"]
    assert us["generation_year"].max() == 2019 and us["generation_gwh"].notna().mean() > 0.5
    assert plants.attrs["rows_in"] == 39225  # as stated by the data README


def test_dedup_across_sources(tmp_path: Path, data_dir: Path) -> None:
    src = data_dir / GPPD / "database_GEODB.csv"
    head = src.read_text().splitlines()[0]
    row = "ZZZ,Zland,Alpha Power Station,GEODB0000001,100,10.0,20.0,Coal,,,,,,GEODB,u,GEODB,,2017,,,,,,"
    (tmp_path / "database_GEODB.csv").write_text(head + "\n" + row + "\n")
    cdm_head = (data_dir / GPPD / "database_CDMDB.csv").read_text().splitlines()[0]
    dup = "ZZZ,Zland,Alpha power-station,CDMDB0000001,90,10.001,20.002,Coal,,,,,,CDM,u,CDM,,,,,,"
    other = "ZZZ,Zland,Beta,CDMDB0000002,5,11.0,21.0,Hydro,,,,,,CDM,u,CDM,,,,,,"
    (tmp_path / "database_CDMDB.csv").write_text(cdm_head + "\n" + dup + "\n" + other + "\n")
    out = read_gppd_sources(tmp_path)
    assert sorted(out["plant_id"]) == ["CDMDB0000002", "GEODB0000001"]
    assert out.attrs["dropped_duplicates"] == 1


def test_gppd_bad_input(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no GPPD source tables"):
        read_gppd_sources(tmp_path)
    (tmp_path / "database_ZZZ.csv").write_text("country,name,latitude,longitude\nZZZ,a,1,2\n")
    with pytest.raises(IngestError, match=r"lacks the GPPD column\(s\) \['gppd_idnr', 'capacity_mw'"):
        read_gppd_sources(tmp_path)


def test_jrc_units(data_dir: Path) -> None:
    j = read_jrc_ppdb(data_dir / JRC)
    assert len(j) == 7117
    assert (j["co2_kg_per_yr"].dropna() >= 0).all()
    # reported European power-sector CO2 of the units: several hundred Mt per year
    assert 500e9 < j["co2_kg_per_yr"].sum() < 1000e9
    coal = j[j.fuel == "Fossil Hard coal"]
    assert coal["co2_kg_per_yr"].notna().mean() > 0.5
    assert set(j["iso3"].dropna()) >= {"DEU", "POL", "FRA"}


def test_jrc_bad_input(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(IngestError, match="lacks JRC_OPEN_UNITS.csv"):
        read_jrc_ppdb(tmp_path)
    shutil.copy(data_dir / JRC / "JRC_OPEN_UNITS.csv", tmp_path)
    t = (data_dir / JRC / "JRC_OPEN_TEMPORAL.csv").read_text().splitlines()
    (tmp_path / "JRC_OPEN_TEMPORAL.csv").write_text("\n".join([t[0], t[1], t[1]]) + "\n")
    with pytest.raises(IngestError, match="duplicate year 2015"):
        read_jrc_ppdb(tmp_path)
