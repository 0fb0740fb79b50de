"""SFI GeoAsset assets (Climate TRACE harmonised table): sectors, capacity units, checks, download."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.base import IngestError
from ingest.canonical import read_parquet_provenance
from ingest.sfi import ASSET_COLUMNS, ASSETS_FILE, DIR, SFIAdapter, read_sfi_assets


@pytest.fixture(scope="module")
def assets(data_dir: Path) -> pd.DataFrame:
    return read_sfi_assets(data_dir / DIR / ASSETS_FILE)


def raw(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(data_dir / DIR / ASSETS_FILE, dtype=str, keep_default_na=False)


def sample(data_dir: Path) -> pd.DataFrame:
    """60 real rows of each sector (the four kept and the three dropped ones): 50 with a capacity, 10 without."""
    d = raw(data_dir)
    has = pd.to_numeric(d["capacity"], errors="coerce") > 0
    parts = [d[has].groupby("sector").head(50), d[~has].groupby("sector").head(10)]
    return pd.concat(parts).sort_index().copy()


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def test_schema_and_file_facts(assets: pd.DataFrame) -> None:
    assert tuple(assets.columns) == ASSET_COLUMNS
    # shared README: cement 3,105, iron & steel 1,591, petrochemicals 295, pulp & paper 329
    assert assets["sector"].value_counts().to_dict() == {"cement": 3105, "iron_steel": 1591, "pulp_paper": 329,
                                                         "petrochemicals": 295}
    assert assets.attrs["rows_in"] == 6725
    assert assets.attrs["dropped_sectors"] == {"Municipal Wastewater Treatment": 1282, "Beef Abattoirs": 117,
                                               "Coke": 6}
    assert assets["source_id"].is_unique and assets["status"].isna().all()
    units = assets.groupby("sector")["capacity_unit"].unique().map(list).to_dict()
    assert units == {"cement": ["Megatonnes"], "iron_steel": ["Megatonnes"],
                     "petrochemicals": ["Thousands of metric tonnes"], "pulp_paper": ["Tonnes"]}
    cap = assets.groupby("sector")["capacity_mtpa"].sum()
    assert cap["cement"] == pytest.approx(3078.9126) and cap["iron_steel"] == pytest.approx(650.413)
    assert cap["petrochemicals"] == pytest.approx(108.605518)  # 108,605.518 kt
    # 154 pulp and paper mills published with capacity 0 = unknown
    pp = assets[assets["sector"] == "pulp_paper"]
    assert ((pp["capacity"] == 0) == pp["capacity_mtpa"].isna()).all() and (pp["capacity"] == 0).sum() == 154
    assert (assets["iso3"] == "Z01").sum() == 2


def test_write_parquet(assets: pd.DataFrame, tmp_path: Path, data_dir: Path) -> None:
    out = SFIAdapter().write(assets, tmp_path / "sfi.parquet", inputs=[data_dir / DIR / ASSETS_FILE])
    assert len(pd.read_parquet(out)) == 5320 and read_parquet_provenance(out)["source_name"] == "sfi"
    dup = pd.concat([assets.head(2), assets.head(1)])
    with pytest.raises(IngestError, match="source_id .* occurs more than once"):
        SFIAdapter().write(dup, tmp_path / "dup.parquet")
    assert not (tmp_path / "dup.parquet").exists()


def test_sample_reads(data_dir: Path, tmp_path: Path) -> None:
    out = SFIAdapter().read([write(sample(data_dir), tmp_path / "s.csv")])
    assert out["sector"].value_counts().to_dict() == {"cement": 60, "iron_steel": 60, "petrochemicals": 60,
                                                      "pulp_paper": 60}


def _scale(d: pd.DataFrame, sector: str, factor: float) -> pd.DataFrame:
    m = d["sector"] == sector
    d.loc[m, "capacity"] = (pd.to_numeric(d.loc[m, "capacity"], errors="coerce") * factor).astype(str)
    return d


@pytest.mark.parametrize(("spoil", "match"), [
    (lambda d: d.drop(columns=["capacity_units"]), r"lacks the column\(s\) \['capacity_units'\]"),
    (lambda d: _scale(d, "Cement", 1000), r"\(cement\): median .*factor of 1000"),
    (lambda d: d.assign(capacity_units=d["capacity_units"].replace("Tonnes", "Megatonnes")), r"\(pulp_paper\)"),
    (lambda d: d.assign(capacity_units=d["capacity_units"].replace("Tonnes", "Barrels per day")),
     r"capacity unit\(s\) \['Barrels per day'\]"),
    (lambda d: pd.concat([d, d.head(1)]), "source_id .* occurs more than once"),
    (lambda d: d.assign(sector=d["sector"].replace("Petrochemicals", "Refineries")), r"unknown sector\(s\) \['Refi"),
    (lambda d: d.assign(lat=d["lon"], lon=d["lat"]), "no valid coordinates"),
    (lambda d: d.assign(iso3_country="Germany"), "not 3-letter codes, e.g. 'Germany'"),
])
def test_malformed(data_dir: Path, tmp_path: Path, spoil, match: str) -> None:
    with pytest.raises(IngestError, match=match):
        read_sfi_assets(write(spoil(sample(data_dir)), tmp_path / "s.csv"))


def test_truncated(data_dir: Path, tmp_path: Path) -> None:
    body = gzip.decompress((data_dir / DIR / ASSETS_FILE).read_bytes())
    (tmp_path / "s.csv").write_bytes(body[: len(body) // 3])
    with pytest.raises(IngestError, match="truncated"):
        read_sfi_assets(tmp_path / "s.csv")


def test_download(publisher, data_dir: Path, tmp_cache: Path) -> None:
    with pytest.raises(IngestError, match="no stable file URL"):
        SFIAdapter().download(date(2023, 1, 1), date(2023, 1, 1))
    base, routes, _ = publisher
    body = (data_dir / DIR / ASSETS_FILE).read_bytes()
    routes[("GET", f"/data/{ASSETS_FILE}")] = lambda q, h, b: (200, "application/gzip", body)
    ad = SFIAdapter(urls=[f"{base}/data/{ASSETS_FILE}"])
    assert len(ad.read(ad.download(date(2023, 1, 1), date(2023, 1, 1)))) == 5320
