"""GEM Global Iron and Steel Tracker (March 2025): plants with capacity by process, route CO2, download."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.base import IngestError
from ingest.canonical import read_parquet_provenance
from ingest.gem_steel import (
    DIR,
    PLANT_COLUMNS,
    PLANTS_FILE,
    PLANTS_URL,
    ROUTE_EF_T_CO2_PER_T,
    UNITS_FILE,
    UNITS_URL,
    GEMSteelAdapter,
    plant_co2_capacity,
    read_gem_steel_plants,
    route_capacity,
)


@pytest.fixture(scope="module")
def plants(data_dir: Path) -> pd.DataFrame:
    return read_gem_steel_plants(data_dir / DIR / PLANTS_FILE, data_dir / DIR / UNITS_FILE)


def raw(data_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(data_dir / DIR / name, dtype=str, keep_default_na=False)


def cut(data_dir: Path, tmp_path: Path, n: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first ``n`` real plants and all their real furnaces, as text."""
    p = raw(data_dir, PLANTS_FILE).head(n)
    u = raw(data_dir, UNITS_FILE)
    return p.copy(), u[u["gem-plant-id"].isin(p["plant-id"])].copy()


def write(p: pd.DataFrame, u: pd.DataFrame, tmp_path: Path) -> tuple[Path, Path]:
    p.to_csv(tmp_path / "plants.csv", index=False)
    u.to_csv(tmp_path / "units.csv", index=False)
    return tmp_path / "plants.csv", tmp_path / "units.csv"


def test_schema_and_file_facts(plants: pd.DataFrame) -> None:
    assert tuple(plants.columns) == PLANT_COLUMNS
    assert len(plants) == 1204 and plants["plant_id"].is_unique  # shared README: 1,204 plants
    # GEM's "operating" crude steel capacity (without units whose retirement is announced): 2.0 Gt/yr
    operating_only = plants["crude_steel_capacity_mtpa"] - plants["pre_retirement_crude_steel_capacity_mtpa"]
    assert operating_only.sum() == pytest.approx(1997.317, abs=1e-3)
    assert plants["crude_steel_capacity_mtpa"].sum() == pytest.approx(2199.407, abs=1e-3)
    chn = plants[plants["iso3"] == "CHN"]
    assert len(chn) == 404 and operating_only[chn.index].sum() == pytest.approx(955.94, abs=1e-3)
    parts = plants[["bf_bof_capacity_mtpa", "eaf_capacity_mtpa", "ohf_capacity_mtpa", "other_steel_capacity_mtpa"]]
    assert (parts.sum(axis=1) - plants["crude_steel_capacity_mtpa"]).abs().max() < 1e-9
    assert set(plants["status"]) == {"operating", "announced", "retired", "construction", "mothballed", "cancelled"}
    assert plants["retirement_announced"].sum() == 11
    assert str(plants["start_year"].dtype) == "Int64" and plants["start_year"].isna().sum() == 97


def test_known_plant(plants: pd.DataFrame) -> None:
    linz = plants.set_index("plant_id").loc["P100000120010"]  # Voestalpine Linz: 4.0 Mt BOF + 2.0 pre-retirement
    assert linz["iso3"] == "AUT" and linz["region"] == "Upper Austria"
    assert linz["bf_bof_capacity_mtpa"] == pytest.approx(6.0)
    assert linz["pre_retirement_crude_steel_capacity_mtpa"] == pytest.approx(2.0)
    assert linz["bf_capacity_mtpa"] == pytest.approx(5.0) and linz["eaf_capacity_mtpa"] == 0
    assert linz["construction_crude_steel_capacity_mtpa"] == pytest.approx(1.6)


def test_routes_and_co2(plants: pd.DataFrame) -> None:
    routes = route_capacity(plants)
    assert (routes >= -1e-12).all().all()
    emsteel = plants.index[plants["plant_id"] == "P100000120001"][0]  # Emsteel Abu Dhabi: 3.6 Mt EAF, 4.2 Mt DRI
    assert routes.loc[emsteel, "dri_eaf"] == pytest.approx(3.6) and routes.loc[emsteel, "scrap_eaf"] == 0
    co2 = plant_co2_capacity(plants)
    assert co2[emsteel] == pytest.approx(3.6 * ROUTE_EF_T_CO2_PER_T["dri_eaf"])
    # the world's operating capacity at full use: between all-scrap-EAF and all-BF-BOF bounds
    total = co2.sum()
    crude = plants["crude_steel_capacity_mtpa"].sum()
    assert 0.4 * crude < total < 2.2 * crude + plants["bf_capacity_mtpa"].sum()
    assert set(ROUTE_EF_T_CO2_PER_T) == set(routes.columns)


def test_write_parquet(plants: pd.DataFrame, tmp_path: Path, data_dir: Path) -> None:
    out = GEMSteelAdapter().write(plants, tmp_path / "steel.parquet", inputs=[data_dir / DIR / PLANTS_FILE])
    assert len(pd.read_parquet(out)) == 1204 and read_parquet_provenance(out)["source_name"] == "gem_steel"
    bad = plants.head(2).assign(lat=[10.0, 95.0])
    with pytest.raises(IngestError, match="coordinates off the globe"):
        GEMSteelAdapter().write(bad, tmp_path / "bad.parquet")
    assert not (tmp_path / "bad.parquet").exists()


def test_cut_reads(data_dir: Path, tmp_path: Path) -> None:
    p, u = cut(data_dir, tmp_path)
    out = GEMSteelAdapter().read(list(write(p, u, tmp_path))[::-1])  # either order
    assert len(out) == 60


def test_units_disagree_with_plants(data_dir: Path, tmp_path: Path) -> None:
    p, u = cut(data_dir, tmp_path)
    i = u.index[(u["tab-type"] == "Electric_arc_furnaces") & (u["status"] == "operating")][0]
    u = u.drop(index=i)  # a lost furnace row
    with pytest.raises(IngestError, match="operating eaf furnaces of the units file sum to"):
        read_gem_steel_plants(*write(p, u, tmp_path))


def test_units_of_other_plants(data_dir: Path, tmp_path: Path) -> None:
    p, u = cut(data_dir, tmp_path)
    with pytest.raises(IngestError, match="not in plants.csv"):
        read_gem_steel_plants(*write(p.head(10), u, tmp_path))


@pytest.mark.parametrize(("spoil", "match"), [
    (lambda p, u: (p.drop(columns=["plant-status"]), u), r"lacks the column\(s\) \['plant-status'\]"),
    (lambda p, u: (p, u.drop(columns=["current-capacity-(ttpa)"])), "lacks the column"),
    (lambda p, u: (p, u.assign(**{"current-capacity-(ttpa)": "1.5"})), "ttpa per furnace.*factor of 1000"),
    (lambda p, u: (pd.concat([p, p.head(1)]), u), "plant id 'P100000120001' occurs more than once"),
    (lambda p, u: (p, pd.concat([u, u.head(1)])), "unit id .* occurs more than once"),
    (lambda p, u: (p, u.assign(**{"tab-type": "Bessemer"})), r"unknown furnace type\(s\) \['Bessemer'\]"),
    (lambda p, u: (p.assign(lat=p["lng"], lng=p["lat"]), u), "no valid coordinates"),
])
def test_malformed(data_dir: Path, tmp_path: Path, spoil, match: str) -> None:
    p, u = spoil(*cut(data_dir, tmp_path))
    with pytest.raises(IngestError, match=match):
        read_gem_steel_plants(*write(p, u, tmp_path))


def test_plant_capacity_in_mt_instead_of_ttpa(data_dir: Path, tmp_path: Path) -> None:
    p, u = cut(data_dir, tmp_path)
    cols = [c for c in p.columns if c.endswith("-(ttpa)")]
    p[cols] = p[cols].apply(lambda s: (pd.to_numeric(s, errors="coerce") / 1000).astype(str))
    with pytest.raises(IngestError, match="ttpa per plant"):
        read_gem_steel_plants(*write(p, u, tmp_path))


def test_truncated(data_dir: Path, tmp_path: Path) -> None:
    body = gzip.decompress((data_dir / DIR / UNITS_FILE).read_bytes())
    (tmp_path / "units.csv").write_bytes(body[:-100])
    with pytest.raises(IngestError, match="truncated"):
        read_gem_steel_plants(data_dir / DIR / PLANTS_FILE, tmp_path / "units.csv")


def test_download(publisher, data_dir: Path, tmp_cache: Path) -> None:
    base, routes, hits = publisher
    served = {"Iron & Steel-map-file-2025-03-25.csv": PLANTS_FILE, "Iron & Steel-map-file-2025-03-18.csv": UNITS_FILE}
    for route, name in served.items():
        body = gzip.decompress((data_dir / DIR / name).read_bytes())
        routes[("GET", f"/gist/{route}")] = lambda q, h, b, body=body: (200, "text/csv", body)
    ad = GEMSteelAdapter(urls=[f"{base}/gist/{u.rsplit('/', 1)[1]}" for u in (PLANTS_URL, UNITS_URL)])
    paths = ad.download(date(2025, 1, 1), date(2025, 3, 31))
    assert [p.name for p in paths] == ["Iron_&_Steel-map-file-2025-03-25.csv", "Iron_&_Steel-map-file-2025-03-18.csv"]
    assert len(ad.read(paths)) == 1204 and len(hits) == 2
    assert PLANTS_URL.startswith("https://raw.githubusercontent.com/GlobalEnergyMonitor/maps/7b94491f/trackers/gist/")


def test_download_error(publisher, tmp_cache: Path) -> None:
    base, _, _ = publisher
    with pytest.raises(IngestError, match="HTTP 404"):
        GEMSteelAdapter(urls=[f"{base}/missing.csv"]).download(date(2025, 1, 1), date(2025, 1, 1))
