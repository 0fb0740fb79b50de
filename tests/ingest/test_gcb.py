from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingest.base import IngestError
from ingest.canonical import read_parquet_provenance
from ingest.gcb import GCBAdapter, global_check, national_totals, read_gcb, read_vintages

GCB25 = "statistical/GCB2025v15_MtCO2_flat.csv"
GCB24 = "statistical/GCB2024v17_MtCO2_flat.csv"


@pytest.fixture(scope="module")
def gcb25(data_dir: Path) -> pd.DataFrame:
    return read_gcb(data_dir / GCB25)


def test_columns_and_vintage(gcb25: pd.DataFrame, data_dir: Path) -> None:
    assert list(gcb25.columns) == ["iso3", "country", "m49", "year", "total", "coal", "oil", "gas", "cement",
                                   "flaring", "other", "per_capita"]
    assert gcb25.attrs["vintage"] == "2025v15"
    assert read_gcb(data_dir / GCB24).attrs["vintage"] == "2024v17"


def test_global_2024_and_closure(gcb25: pd.DataFrame) -> None:
    glob, parts = global_check(gcb25, 2024)
    assert glob == pytest.approx(38598.6, abs=0.05)
    assert parts == pytest.approx(glob, rel=1e-4)


def test_closure_2023_previous_vintage(data_dir: Path) -> None:
    d = read_gcb(data_dir / GCB24)
    glob, parts = global_check(d, 2023)
    assert glob > 37000 and parts == pytest.approx(glob, rel=1e-4)


def test_keeps_pseudo_countries_drops_no_iso(gcb25: pd.DataFrame) -> None:
    codes = set(gcb25["iso3"])
    assert {"WLD", "XIA", "XIS", "USA", "CHN"} <= codes
    assert "Kuwaiti Oil Fires" not in set(gcb25["country"])
    assert not gcb25.duplicated(["iso3", "year"]).any()
    tot = national_totals(gcb25, 2024)
    assert "WLD" not in tot.index and tot["XIA"] > 0


def _write(tmp_path: Path, text: str, name: str = "GCB2025v15_MtCO2_flat.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


HEADER = '"Country","ISO 3166-1 alpha-3","UN M49","Year","Total","Coal","Oil","Gas","Cement","Flaring","Other","Per Capita"\n'


def test_missing_column(tmp_path: Path) -> None:
    p = _write(tmp_path, '"Country","ISO 3166-1 alpha-3","UN M49","Year","Coal"\n"A","AAA",1,2000,1\n')
    with pytest.raises(IngestError, match="lacks the GCB column"):
        read_gcb(p)


def test_duplicate_rows(tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + '"A","AAA",1,2000,1,1,,,,,,1\n"A","AAA",1,2000,2,2,,,,,,1\n')
    with pytest.raises(IngestError, match=r"duplicate rows for \(AAA, 2000\)"):
        read_gcb(p)


def test_non_numeric_and_units(tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + '"A","AAA",1,2000,abc,1,,,,,,1\n')
    with pytest.raises(IngestError, match="non-numeric value 'abc'"):
        read_gcb(p)
    p = _write(tmp_path, HEADER + '"A","AAA",1,2000,99999999,1,,,,,,1\n')
    with pytest.raises(IngestError, match="are the units MtCO2"):
        read_gcb(p)


def test_no_iso_entity_recent_emissions_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + '"Kuwaiti Oil Fires",,416,2020,5,,,,,,,\n')
    with pytest.raises(IngestError, match="no ISO code but emits"):
        read_gcb(p)


def test_vintage_from_name(tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + '"A","AAA",1,2000,1,1,,,,,,1\n', name="emissions.csv")
    with pytest.raises(IngestError, match="cannot tell the GCB vintage"):
        read_gcb(p)


def test_vintages_side_by_side_written_atomically(data_dir: Path, tmp_path: Path, tmp_cache: Path) -> None:
    both = read_vintages([data_dir / GCB25, data_dir / GCB24])
    assert set(both["vintage"]) == {"2025v15", "2024v17"}
    a = GCBAdapter()
    out = a.write(both, tmp_path / "inventories.parquet", inputs=[data_dir / GCB25, data_dir / GCB24])
    back = pd.read_parquet(out)
    assert len(back) == len(both)
    v23 = back[(back.year == 2023) & (back.iso3 == "USA")].set_index("vintage")["total"]
    assert v23["2025v15"] != v23["2024v17"]  # the revision is visible
    prov = read_parquet_provenance(out)
    assert prov["license"] == "CC-BY-4.0" and len(prov["inputs"]) == 2
    assert all(len(i["sha256"]) == 64 for i in prov["inputs"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
