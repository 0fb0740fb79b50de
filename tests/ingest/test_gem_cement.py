"""GEM Global Cement and Concrete Tracker (June 2025): plants with cement and clinker capacity."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.base import IngestError
from ingest.canonical import read_parquet_provenance
from ingest.gem_cement import DIR, PLANT_COLUMNS, PLANTS_FILE, GEMCementAdapter, read_gem_cement_plants
from ingest.gem_common import DroppedRowsWarning


@pytest.fixture(scope="module")
def plants(data_dir: Path) -> pd.DataFrame:
    with pytest.warns(DroppedRowsWarning, match="dropped 2 row"):
        return read_gem_cement_plants(data_dir / DIR / PLANTS_FILE)


def raw(data_dir: Path, n: int | None = 300) -> pd.DataFrame:
    df = pd.read_csv(data_dir / DIR / PLANTS_FILE, dtype=str, keep_default_na=False)
    return df if n is None else df.head(n).copy()


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def test_schema_and_file_facts(plants: pd.DataFrame) -> None:
    assert tuple(plants.columns) == PLANT_COLUMNS
    # shared README: 3,517 plants; two have no coordinates in the published file (Mali, Tajikistan)
    assert plants.attrs["rows_in"] == 3517 and len(plants) == 3515
    assert plants.attrs["dropped_no_coords"] == ["P100000127586", "P100000127742"]
    gem_operating = (plants["status"] == "operating") & ~plants["retirement_announced"]
    assert gem_operating.sum() == 3174  # shared README: 3,174 operating
    assert plants.loc[gem_operating, "cement_capacity_mtpa"].sum() == pytest.approx(5165.24542)  # 5.17 Gt/yr
    chn = plants[plants["iso3"] == "CHN"]
    assert len(chn) == 1094
    assert chn.loc[chn["status"] == "operating", "cement_capacity_mtpa"].sum() == pytest.approx(1772.0)  # 1.77 Gt
    assert plants.attrs["cement_capacity_not_numeric"] == {">0": 325, "unknown": 57, "missing": 29}
    assert set(plants["plant_type"]) == {"integrated", "grinding", "clinker only", "unknown"}
    assert str(plants["start_year"].dtype) == "Int64" and plants.attrs["start_date_unreadable"] == 2
    first = plants.iloc[0]
    assert (first["plant_id"], first["iso3"], first["status"], first["start_year"]) == (
        "P100000126214", "ARG", "retired", 1919)
    assert first["lat"] == pytest.approx(-36.938645) and first["lon"] == pytest.approx(-60.165115)


def test_write_parquet(plants: pd.DataFrame, tmp_path: Path, data_dir: Path) -> None:
    out = GEMCementAdapter().write(plants, tmp_path / "cement.parquet", inputs=[data_dir / DIR / PLANTS_FILE])
    back = pd.read_parquet(out)
    assert len(back) == 3515 and read_parquet_provenance(out)["license"] == "CC-BY-4.0"
    with pytest.raises(IngestError, match="lacks the column"):
        GEMCementAdapter().write(plants.drop(columns=["clinker_capacity_mtpa"]), tmp_path / "bad.parquet")
    assert not (tmp_path / "bad.parquet").exists()


@pytest.mark.parametrize(("spoil", "match"), [
    (lambda d: d.drop(columns=["Coordinates"]), r"lacks the column\(s\) \['Coordinates'\]"),
    (lambda d: d.assign(**{"Cement Capacity (millions metric tonnes per annum)": "1500"}),
     "Mt/yr cement per plant.*factor of 1000"),
    (lambda d: d.assign(**{"Clinker Capacity (millions metric tonnes per annum)": "0.0012"}),
     "Mt/yr clinker per plant"),
    (lambda d: pd.concat([d, d.tail(1)]), "plant id .* occurs more than once"),
    (lambda d: d.assign(Coordinates=d["Coordinates"].str.replace(r"^(-?[\d.]+), (-?[\d.]+)$", r"\2, \1",
                                                                 regex=True)), "no valid coordinates"),
    (lambda d: d.assign(**{"Operating status": "open"}), r"unknown status value\(s\) \['open'\]"),
])
def test_malformed(data_dir: Path, tmp_path: Path, spoil, match: str) -> None:
    with pytest.raises(IngestError, match=match):
        read_gem_cement_plants(write(spoil(raw(data_dir)), tmp_path / "cement.csv"))


def test_truncated(data_dir: Path, tmp_path: Path) -> None:
    body = (data_dir / DIR / PLANTS_FILE).read_bytes()
    (tmp_path / "c.csv.gz").write_bytes(body[:-500])
    with pytest.raises(IngestError, match="truncated or corrupt gzip"):
        read_gem_cement_plants(tmp_path / "c.csv.gz")
    (tmp_path / "c.csv").write_bytes(gzip.decompress(body)[:-7])
    with pytest.raises(IngestError, match="truncated"):
        read_gem_cement_plants(tmp_path / "c.csv")


def test_workbook_sheet(data_dir: Path, tmp_path: Path) -> None:
    d = pd.read_csv(data_dir / DIR / PLANTS_FILE).head(50)
    with pd.ExcelWriter(tmp_path / "gcct.xlsx", engine="openpyxl") as xw:
        pd.DataFrame({"About": ["Global Cement and Concrete Tracker"]}).to_excel(xw, sheet_name="About", index=False)
        d.to_excel(xw, sheet_name="Plant Data", index=False)
    out = GEMCementAdapter().read([tmp_path / "gcct.xlsx"])
    assert len(out) == 50 and out["plant_id"].iloc[0] == "P100000126214"


def test_download(publisher, data_dir: Path, tmp_cache: Path, dead_url: str) -> None:
    with pytest.raises(IngestError, match="no stable file URL .*globalenergymonitor.org"):
        GEMCementAdapter().download(date(2025, 1, 1), date(2025, 6, 30))
    base, routes, _ = publisher
    body = (data_dir / DIR / PLANTS_FILE).read_bytes()
    routes[("GET", f"/{PLANTS_FILE}")] = lambda q, h, b: (200, "application/gzip", body)
    paths = GEMCementAdapter(urls=[f"{base}/{PLANTS_FILE}"]).download(date(2025, 1, 1), date(2025, 6, 30))
    assert paths[0].read_bytes() == body
    with pytest.warns(DroppedRowsWarning):
        assert len(GEMCementAdapter().read(paths)) == 3515
