"""CEADs China CO2 inventory 1997-2019 (the shipped xlsx), its carbonmap sectors, bad inputs, download."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from ingest.activity import COLUMNS, PUBLICATION_LAG_DAYS
from ingest.base import IngestError
from ingest.ceads import (
    CARBONMAP_SECTORS,
    FILE,
    FUELS,
    SECTORS,
    SHIPPED,
    URL,
    CEADsAdapter,
    carbonmap_sector,
    ceads_canonical,
    ceads_sector_totals,
    read_ceads_china,
)


@pytest.fixture(scope="module")
def path(data_dir: Path) -> Path:
    return data_dir / SHIPPED


@pytest.fixture(scope="module")
def table(path: Path) -> pd.DataFrame:
    return read_ceads_china(path)


@pytest.fixture(scope="module")
def sheet_2019(path: Path) -> list[list[Any]]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = [list(r) for r in book["2019"].iter_rows(values_only=True)]
    book.close()
    return rows


def write_cut(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "NOTE"
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_shipped_workbook(table: pd.DataFrame) -> None:
    assert list(table.columns) == ["year", "ipcc_sector", "fuel", "co2_mt"]
    assert len(table) == 23 * 47 * 18 and table["year"].min() == 1997 and table["year"].max() == 2019
    assert set(table["fuel"]) == {*FUELS, "Process"} and table["ipcc_sector"].nunique() == 47
    tot = table.groupby("year")["co2_mt"].sum()
    assert tot[2019] == pytest.approx(9794.756, abs=1e-3) and tot[1997] == pytest.approx(2923.856, abs=1e-3)
    v = table.set_index(["year", "ipcc_sector", "fuel"])["co2_mt"]
    power = "Production and Supply of Electric Power, Steam and Hot Water"
    assert v[(2019, power, "Raw Coal")] == pytest.approx(4134.31, abs=0.01)
    process = table[(table.fuel == "Process") & (table.co2_mt > 0)]
    assert set(process["ipcc_sector"]) == {"Nonmetal Mineral Products"}  # cement only
    assert v[(2019, "Nonmetal Mineral Products", "Process")] == pytest.approx(681.26, abs=0.01)
    assert table.attrs["units"] == "Mt CO2 yr-1" and PUBLICATION_LAG_DAYS["ceads"] == 730


def test_sector_totals(table: pd.DataFrame) -> None:
    t = ceads_sector_totals(table)
    assert list(t.columns) == ["year", "sector", "co2_mt"] and set(t["sector"]) == set(CARBONMAP_SECTORS)
    w = t.pivot(index="year", columns="sector", values="co2_mt")
    assert w.sum(axis=1).to_numpy() == pytest.approx(table.groupby("year")["co2_mt"].sum().to_numpy())
    v = table.set_index(["year", "ipcc_sector", "fuel"])["co2_mt"]
    transport = "Transportation, Storage, Post and Telecommunication Services"
    assert w.loc[2019, "domestic_aviation"] == pytest.approx(v[(2019, transport, "Kerosene")])
    assert w.loc[2019, "power"] == pytest.approx(4641.96, abs=0.01)
    households = sum(v[(2019, s, f)] for s in ("Urban", "Rural", "Others", "Wholesale, Retail Trade and Catering Services")
                     for f in ("Gasoline", "Diesel Oil"))
    assert w.loc[2019, "ground_transport"] == pytest.approx(
        table[(table.year == 2019) & (table.ipcc_sector == transport)]["co2_mt"].sum()
        - v[(2019, transport, "Kerosene")] + households)
    assert 0.45 < w.loc[2019, "power"] / w.loc[2019].sum() < 0.5  # 47.4 %


def test_mapping_of_every_cell() -> None:
    assert carbonmap_sector("Nonmetal Mineral Products", "Process") == "industry"
    assert carbonmap_sector("Urban", "Gasoline") == "ground_transport"
    assert carbonmap_sector("Urban", "Natural Gas") == "residential"
    assert carbonmap_sector("Transportation, Storage, Post and Telecommunication Services", "Fuel Oil") == "ground_transport"
    assert carbonmap_sector("Construction", "Diesel Oil") == "industry"
    assert {carbonmap_sector(s, f) for s in SECTORS for f in (*FUELS, "Process")} == set(CARBONMAP_SECTORS)
    with pytest.raises(IngestError, match="unknown CEADs sector"):
        carbonmap_sector("Space travel", "Kerosene")


def test_canonical(table: pd.DataFrame) -> None:
    c = ceads_canonical(ceads_sector_totals(table))
    assert tuple(c.columns) == COLUMNS and (c["iso3"] == "CHN").all() and len(c) == 23 * 6
    assert set(c["variable"]) == {"co2_power", "co2_industry", "co2_ground_transport", "co2_residential",
                                  "co2_domestic_aviation", "co2_other_sectors"}
    assert (c["unit"] == "MtCO2").all() and (c["frequency"] == "yearly").all()


def test_real_sheet_reads(sheet_2019, tmp_path: Path) -> None:
    df = read_ceads_china(write_cut(tmp_path / FILE, {"2019": sheet_2019}))
    assert set(df["year"]) == {2019} and df["co2_mt"].sum() == pytest.approx(9794.756, abs=1e-3)


def _set(rows: list[list[Any]], i: int, j: int, v: Any) -> list[list[Any]]:
    rows[i][j] = v
    return rows


@pytest.mark.parametrize("fn, match", [
    (lambda rs: _set(rs, 1, 5, "kt CO2"), r"every column must be in 'Mt CO2'"),
    (lambda rs: _set(rs, 10, 1, rs[10][1] + 5.0), r"Other Minerals Mining .* Scope 1 Total"),
    (lambda rs: _set(_set(rs, 10, 1, rs[10][1] + 5.0), 10, 22, rs[10][22] + 5.0), r"47 sectors add up"),
    (lambda rs: _set(rs, 12, 3, None), r"row 13, column 'Other Washed Coal' is None, not a number"),
    (lambda rs: _set(rs, 12, 19, 1.0), r"Scope 2 / Other Energy columns are not 0"),
    (lambda rs: _set(rs, 12, 3, -1.0), r"negative value"),
    (lambda rs: rs[:40], r"rows, expected 51 \(truncated\?\)"),
    (lambda rs: _set(rs, 20, 0, "Toys"), r"row 21 is 'Toys', expected the sector 'Furniture Manufacturing'"),
    (lambda rs: _set(rs, 0, 10, "Petrol"), r"the header must be"),
    (lambda rs: [[v * 1000 if isinstance(v, float) else v for v in r] for r in rs], r"outside 1000..20000 Mt CO2"),
])
def test_bad_sheets_raise_and_write_nothing(sheet_2019, tmp_path: Path, fn, match: str) -> None:
    src = write_cut(tmp_path / FILE, {"2019": fn([list(r) for r in sheet_2019])})
    a, out = CEADsAdapter(), tmp_path / "ceads.parquet"
    with pytest.raises(IngestError, match=match):
        a.write(a.read([src]), out, inputs=[src])
    assert not out.exists()


def test_no_year_sheet_and_corrupt_file(path: Path, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no year sheets"):
        read_ceads_china(write_cut(tmp_path / "x.xlsx", {"sum": [[None, "Raw Coal"]]}))
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(path.read_bytes()[:50_000])
    with pytest.raises(IngestError, match="not a readable .xlsx"):
        read_ceads_china(cut)


def test_validate_catches_duplicates(table: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "dup.parquet"
    with pytest.raises(IngestError, match="duplicate"):
        CEADsAdapter().write(pd.concat([table, table.head(1)], ignore_index=True), out)
    assert not out.exists()


def test_download_against_local_publisher(publisher, path: Path, tmp_cache: Path, dead_url: str) -> None:
    with pytest.raises(IngestError, match="are you offline"):
        CEADsAdapter(url=f"{dead_url}/x.xlsx").download(date(2019, 1, 1), date(2019, 12, 31))
    base, routes, hits = publisher
    route = f"/Open-Earth-Foundation/OpenClimate/822037b7/harmonize/data/raw/CEADS_china/{FILE}"
    body = path.read_bytes()
    routes[("GET", route)] = lambda q, h, b: (200, "application/octet-stream", body)
    quoted = "/Open-Earth-Foundation/OpenClimate/822037b7/harmonize/data/raw/CEADS_china/" \
             "China_CO2_Inventory_1997-2019_%28IPCC_Sectoral_Emissions%29.xlsx"
    assert URL.endswith(quoted)  # the published name has parentheses: the default URL quotes them
    a = CEADsAdapter(url=base + quoted)
    paths = a.download(date(2019, 1, 1), date(2019, 12, 31))
    assert paths[0].name == FILE and paths[0].is_relative_to(tmp_cache / "downloads" / "ceads")
    assert len(a.read(paths)) == 23 * 47 * 18 and len(hits) == 1
