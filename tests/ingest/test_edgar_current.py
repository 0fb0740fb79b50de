"""The current EDGAR booklet table (GHG_by_sector_and_country) on a format-exact xlsx fixture (values synthetic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from carbonmap.contract import NATIONAL_SECTORS
from ingest.base import IngestError
from ingest.edgar_current import ID_COLUMNS, SECTORS_2024, EDGARCurrentAdapter, read_edgar_current
from ingest.sector_map import DOMESTIC_AVIATION_SHARE_OF_TRANSPORT, mapping_for
from ingest.sector_shares import national_sector_shares

YEARS = list(range(1970, 2024))
COUNTRIES = [("DEU", "Germany"), ("FRA_MCO", "France and Monaco"), ("AIR", "International Aviation"),
             ("EU27", "EU27"), ("GLOBAL TOTAL", "GLOBAL TOTAL")]


def _rows(rng: np.random.Generator) -> list[list[object]]:
    rows: list[list[object]] = []
    for sub in ("CO2", "GWP_100_AR5_CH4"):
        for code, name in COUNTRIES:
            for k, sec in enumerate(SECTORS_2024):
                vals: list[object] = list(np.round(rng.uniform(1, 100, len(YEARS)) * (k + 1), 6))
                if code == "DEU" and sec == "Waste":
                    vals[:5] = [None] * 5  # empty cells, as in the real sheet
                rows.append([sub, sec, code, name, *vals])
    return rows


def write_booklet(path: Path, rows: list[list[object]], sheet: str = "GHG_by_sector_and_country") -> Path:
    wb = openpyxl.Workbook()
    ws0 = wb.active
    ws0.title = "GHG_totals_by_country"
    ws0.append(["EDGAR Country Code", "Country", *YEARS])
    ws = wb.create_sheet(sheet)
    ws.append([*ID_COLUMNS, *YEARS])  # integer year headers, as published
    for r in rows:
        ws.append(r)
    wb.create_sheet("LULUCF_macroregions").append(["Substance", "Sector", "Macro-region", *range(1990, 2024)])
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def booklet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[object]]]:
    rows = _rows(np.random.default_rng(7))
    return write_booklet(tmp_path_factory.mktemp("edgar") / "EDGAR_2024_GHG_booklet_2024.xlsx", rows), rows


def test_reads_co2_country_rows(booklet) -> None:
    path, rows = booklet
    df = read_edgar_current(path)
    assert list(df.columns) == ["code", "name", "sector", "year", "emissions"]
    assert set(df["code"]) == {"DEU", "FRA_MCO", "AIR"}  # aggregates dropped
    assert df.attrs["inventory"] == "edgar_2024" and df.attrs["units"] == "Mt CO2 yr-1"
    src = next(r for r in rows if r[:3] == ["CO2", "Power Industry", "DEU"])
    got = df[(df.code == "DEU") & (df.sector == "Power Industry")].set_index("year")["emissions"]
    assert got[2023] == pytest.approx(src[4 + YEARS.index(2023)]) and got[1970] == pytest.approx(src[4])
    assert len(df[(df.code == "DEU") & (df.sector == "Waste")]) == len(YEARS) - 5


def test_csv_export_and_old_sheet_name(booklet, tmp_path: Path) -> None:
    path, rows = booklet
    csv = tmp_path / "GHG_by_sector_and_country.csv"
    pd.read_excel(path, sheet_name="GHG_by_sector_and_country").to_csv(csv, index=False)
    old = write_booklet(tmp_path / "old.xlsx", rows, sheet="fossil_CO2_by_sector_and_countr")
    ref = read_edgar_current(path)
    pd.testing.assert_frame_equal(read_edgar_current(csv), ref, check_dtype=False)
    pd.testing.assert_frame_equal(read_edgar_current(old), ref)


def test_bad_input(booklet, tmp_path: Path) -> None:
    _, rows = booklet
    cases = [
        ([["CO2", "Shipping", "DEU", "Germany", *[1.0] * len(YEARS)]], r"unknown EDGAR sector\(s\) \['Shipping'\]"),
        ([["CH4", "Waste", "DEU", "Germany", *[1.0] * len(YEARS)]], r"unknown substance\(s\) \['CH4'\]"),
        ([rows[0]], r"duplicate rows for \(DEU, Agriculture, CO2\)"),
        ([["CO2", "Waste", "XXX", "X", "12,5", *[1.0] * (len(YEARS) - 1)]], "non-numeric value '12,5' for XXX Waste 1970"),
        ([["CO2", "Waste", "XXX", "X", 5.0e6, *[1.0] * (len(YEARS) - 1)]], "wrong units"),
    ]
    for i, (extra, msg) in enumerate(cases):
        p = write_booklet(tmp_path / f"bad{i}.xlsx", rows + extra)
        with pytest.raises(IngestError, match=msg):
            read_edgar_current(p)
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    with pytest.raises(IngestError, match="not a readable .xlsx"):
        read_edgar_current(tmp_path / "junk.xlsx")
    p = write_booklet(tmp_path / "nosheet.xlsx", rows, sheet="Sheet9")
    with pytest.raises(IngestError, match="none of the EDGAR sheets"):
        read_edgar_current(p)


def test_sector_map_and_shares(booklet) -> None:
    path, _ = booklet
    df = read_edgar_current(path)
    m = mapping_for("edgar_2024")
    assert set(m) | {"Agriculture", "Waste"} == set(SECTORS_2024)
    s = national_sector_shares(df, inventory="edgar_2024", countries=["DEU", "FRA", "MCO", "NZL"])
    assert list(s.columns) == list(NATIONAL_SECTORS) and np.allclose(s.sum(axis=1), 1.0)
    assert s.attrs["source"]["DEU"] == "edgar_2024" and s.attrs["year"]["DEU"] == 2023
    assert s.attrs["fallback_iso3"] == ["NZL"] and (s.loc["FRA"] == s.loc["MCO"]).all()
    d = df[(df.code == "DEU") & (df.year == 2023)].set_index("sector")["emissions"]
    tot = d.drop(["Agriculture", "Waste"]).sum()
    assert s.loc["DEU", "power"] == pytest.approx(d["Power Industry"] / tot)
    assert s.loc["DEU", "industry"] == pytest.approx(
        (d["Industrial Combustion"] + d["Processes"] + d["Fuel Exploitation"]) / tot)
    assert s.loc["DEU", "domestic_aviation"] == pytest.approx(d["Transport"] * DOMESTIC_AVIATION_SHARE_OF_TRANSPORT / tot)
    with pytest.raises(IngestError, match="not in the 'edgar_v5' sector map"):
        national_sector_shares(df)  # the default inventory does not know the 8 sectors


def test_adapter_writes_parquet(booklet, tmp_path: Path) -> None:
    path, _ = booklet
    a = EDGARCurrentAdapter()
    out = a.write(a.read([path]), tmp_path / "edgar_2024.parquet", inputs=[path])
    assert len(pd.read_parquet(out)) == len(read_edgar_current(path))
