"""EDGAR v7.0 total GHG by country and 5 sectors (the shipped xlsx), its carbonmap sectors, bad inputs, download."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from ingest.activity import PUBLICATION_LAG_DAYS
from ingest.base import IngestError
from ingest.edgar_v7 import (
    FILE,
    SECTOR_SHEET,
    SECTORS_V7,
    SHIPPED,
    TOTAL_SHEET,
    EDGARv7Adapter,
    combustion_vs_gcb,
    edgar_v7_sector_totals,
    read_edgar_v7,
    sector_shares,
)
from ingest.gcb import read_gcb
from ingest.sector_map import DOMESTIC_AVIATION_SHARE_OF_TRANSPORT

KEEP = ("DEU", "FRA", "AIR")


@pytest.fixture(scope="module")
def path(data_dir: Path) -> Path:
    return data_dir / SHIPPED


@pytest.fixture(scope="module")
def ar5(path: Path) -> pd.DataFrame:
    return read_edgar_v7(path, gwp="AR5")


@pytest.fixture(scope="module")
def real_rows(path: Path) -> dict[str, list[list[Any]]]:
    """The real AR5 sheets' title lines, header and the rows of DEU, FRA and AIR."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out = {}
    for sheet, col in ((SECTOR_SHEET.format(gwp="AR5"), 1), (TOTAL_SHEET.format(gwp="AR5"), 0)):
        rows = [list(r) for r in book[sheet].iter_rows(values_only=True)]
        out[sheet] = rows[:5] + [r for r in rows[5:] if r[col] in KEEP]
    book.close()
    return out


def write_cut(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_shipped_workbook(ar5: pd.DataFrame, path: Path) -> None:
    assert list(ar5.columns) == ["iso3", "country", "sector", "year", "ghg_mt_co2eq"]
    assert ar5["iso3"].nunique() == 210 and set(ar5["sector"]) == set(SECTORS_V7)
    assert ar5["year"].min() == 1970 and ar5["year"].max() == 2021
    assert {"XIA", "XIS", "SCG"} <= set(ar5["iso3"]) and not {"AIR", "SEA"} & set(ar5["iso3"])
    v = ar5.set_index(["iso3", "sector", "year"])["ghg_mt_co2eq"]
    assert v[("CHN", "Power Industry", 2021)] == pytest.approx(5575.1517, abs=1e-3)
    assert v[("XIA", "Transport", 2021)] == pytest.approx(393.1338, abs=1e-3)
    assert ar5.attrs["gwp"] == "GWP-100 AR5" and "total GHG" in ar5.attrs["units"]
    ar4 = read_edgar_v7(path, gwp="AR4")
    # the AR4 sheet's sectors add up to its GLOBAL TOTAL row: 50,421 Mt CO2eq in 2021
    assert ar4[ar4.year == 2021]["ghg_mt_co2eq"].sum() == pytest.approx(50_421.139, abs=0.01)
    w4 = ar4.set_index(["iso3", "sector", "year"])["ghg_mt_co2eq"]
    # CH4 weighs 28 under AR5, 25 under AR4: China's "Other sectors" (agriculture, fugitive) differ, power barely
    assert v[("CHN", "Other sectors", 2021)] > 1.1 * w4[("CHN", "Other sectors", 2021)]
    assert v[("CHN", "Power Industry", 2021)] == pytest.approx(w4[("CHN", "Power Industry", 2021)], rel=0.002)
    assert PUBLICATION_LAG_DAYS["edgar_v7"] == 270


def test_combustion_sectors_match_gcb_fossil_co2(ar5: pd.DataFrame, data_dir: Path) -> None:
    gcb = read_gcb(data_dir / "statistical" / "GCB2025v15_MtCO2_flat.csv")
    cmp = combustion_vs_gcb(ar5, gcb, 2021)
    assert abs(cmp.loc["WLD", "rel_diff"]) < 0.02  # -0.7 %: the four combustion sectors are ~ fossil CO2
    assert abs(cmp.loc["CHN", "rel_diff"]) < 0.05
    assert cmp.loc["WLD", "edgar"] == pytest.approx(34_113.4, abs=0.1)


def test_sector_totals_and_shares(ar5: pd.DataFrame) -> None:
    t = edgar_v7_sector_totals(ar5)
    assert list(t.columns) == ["iso3", "year", "sector", "ghg_mt_co2eq"]
    assert not {"XIA", "XIS"} & set(t["iso3"])
    assert set(t["sector"]) == {"power", "industry", "ground_transport", "residential", "domestic_aviation", "other"}
    src = ar5[(ar5.year == 2021) & (ar5.iso3 == "USA")].set_index("sector")["ghg_mt_co2eq"]
    got = t[(t.year == 2021) & (t.iso3 == "USA")].set_index("sector")["ghg_mt_co2eq"]
    assert got.sum() == pytest.approx(src.sum())
    assert got["domestic_aviation"] == pytest.approx(DOMESTIC_AVIATION_SHARE_OF_TRANSPORT * src["Transport"])
    assert got["power"] == pytest.approx(src["Power Industry"]) and got["other"] == pytest.approx(src["Other sectors"])
    s = sector_shares(t, 2021, ["CHN", "USA", "FRA"])
    assert s.sum(axis=1).to_numpy() == pytest.approx([1.0, 1.0, 1.0])
    assert s.loc["CHN", "power"] > 0.3 and s.loc["FRA", "power"] < 0.1  # coal vs nuclear


def test_cut_of_real_rows_reads(real_rows, tmp_path: Path) -> None:
    df = read_edgar_v7(write_cut(tmp_path / FILE, real_rows))
    assert set(df["iso3"]) == {"DEU", "FRA", "XIA"}


def _edit(real_rows, sheet: str, fn) -> dict[str, list[list[Any]]]:
    out = {k: [list(r) for r in v] for k, v in real_rows.items()}
    fn(out[sheet])
    return out


S5, T5 = SECTOR_SHEET.format(gwp="AR5"), TOTAL_SHEET.format(gwp="AR5")


def _set(rows: list[list[Any]], i: int, j: int, v: Any) -> None:
    rows[i][j] = v


@pytest.mark.parametrize("sheet, fn, match", [
    (S5, lambda rs: _set(rs, 5, 0, "Shipping"), r"unknown sector\(s\) \['Shipping'\]"),
    (S5, lambda rs: _set(rs, 6, 10, rs[6][10] * 1.01), r"the sectors of .* add up to .* but the country total"),
    (S5, lambda rs: rs.append(list(rs[5])), r"duplicate row for"),
    (S5, lambda rs: _set(rs, 1, 0, "GHG emissions are expressed in kton CO2eq (GWP-100 AR5)"), r"Mton CO2eq"),
    (S5, lambda rs: _set(rs, 7, 20, -1.0), r"outside 0..20000 Mt CO2eq"),
    (S5, lambda rs: _set(rs, 7, 20, "n/a"), r"non-numeric value in row 8 \(\[.Buildings., .DEU."),
    (S5, lambda rs: _set(rs, 4, 10, None), r"year columns must be 1970, 1971"),
    (T5, lambda rs: rs.pop(), r"no total for"),
])
def test_bad_workbooks_raise_and_write_nothing(real_rows, tmp_path: Path, sheet: str, fn, match: str) -> None:
    src = write_cut(tmp_path / FILE, _edit(real_rows, sheet, fn))
    a, out = EDGARv7Adapter(), tmp_path / "edgar_v7.parquet"
    with pytest.raises(IngestError, match=match):
        a.write(a.read([src]), out, inputs=[src])
    assert not out.exists()


def test_missing_sheet_corrupt_file_and_gwp(real_rows, path: Path, tmp_path: Path) -> None:
    only = write_cut(tmp_path / "one.xlsx", {S5: real_rows[S5]})
    with pytest.raises(IngestError, match="no sheet 'Total GHG by country AR5'"):
        read_edgar_v7(only)
    with pytest.raises(IngestError, match="no sheet 'Total GHG by sector country AR4'"):
        read_edgar_v7(write_cut(tmp_path / "cut.xlsx", real_rows), gwp="AR4")
    cut = tmp_path / "truncated.xlsx"
    cut.write_bytes(path.read_bytes()[:200_000])
    with pytest.raises(IngestError, match="not a readable .xlsx"):
        read_edgar_v7(cut)
    with pytest.raises(IngestError, match="gwp must be one of"):
        read_edgar_v7(path, gwp="AR6")


def test_download_against_local_publisher(publisher, path: Path, tmp_cache: Path, dead_url: str) -> None:
    with pytest.raises(IngestError, match="are you offline"):
        EDGARv7Adapter(url=f"{dead_url}/{FILE}").download(date(2021, 1, 1), date(2021, 12, 31))
    base, routes, hits = publisher
    route = f"/Open-Earth-Foundation/OpenClimate/822037b7/harmonize/data/raw/EDGARv7.0/{FILE}"
    body = path.read_bytes()
    routes[("GET", route)] = lambda q, h, b: (200, "application/octet-stream", body)
    a = EDGARv7Adapter(url=base + route)
    paths = a.download(date(2021, 1, 1), date(2021, 12, 31))
    assert paths[0].name == FILE and paths[0].is_relative_to(tmp_cache / "downloads" / "edgar_v7")
    assert paths[0].read_bytes() == body
    assert a.download(date(2021, 1, 1), date(2021, 12, 31)) == paths and len(hits) == 1
