"""Natural Earth 10m admin-1 (TopoJSON decoded here) against facts of the shipped file."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from ingest.admin1 import ADMIN1_TOPO_FILE, NAMES_FILE, Admin1Adapter, decode_arcs, read_admin1
from ingest.base import IngestError
from ingest.boundaries import COUNTRIES_FILE, read_countries

EQUAL_AREA = "+proj=cea +lon_0=0 +lat_ts=30 +datum=WGS84"


@pytest.fixture(scope="module")
def admin1(data_dir: Path) -> gpd.GeoDataFrame:
    return read_admin1(data_dir / ADMIN1_TOPO_FILE, data_dir / NAMES_FILE)


@pytest.fixture(scope="module")
def topo(data_dir: Path) -> dict:
    with gzip.open(data_dir / ADMIN1_TOPO_FILE, "rt", encoding="utf-8") as f:
        return json.load(f)


def _write(doc: dict, path: Path) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(doc, f)
    return path


def test_counts_ids_and_schema(admin1: gpd.GeoDataFrame, topo: dict) -> None:
    props = [g["properties"] for g in topo["objects"]["ne_10m_admin_1_states_provinces"]["geometries"]]
    assert len(admin1) == len(props) == 4855
    assert len({p["adm0_a3"] for p in props}) == 246  # 245 countries + 2 unnamed units with empty properties
    assert admin1["iso3"].nunique() == 245 and admin1["iso3"].isna().sum() == 2
    assert list(admin1.columns) == ["id", "name", "name_local", "names_alt", "iso3", "iso_3166_2", "admin", "type",
                                    "geometry"]
    assert admin1.crs.to_epsg() == 4326 and admin1["id"].is_unique
    assert admin1["iso_3166_2"].notna().sum() == 4712  # NE's '-99' and '~' codes are not ISO 3166-2
    fallback = admin1[admin1["iso_3166_2"].isna()]
    assert fallback["id"].str.fullmatch(r"adm1:[A-Z0-9]{3}:\d+").all()
    assert admin1.loc[admin1["name"] == "Prizren", "id"].item() == "adm1:KOS:297"  # NE code XK-X21~
    assert admin1.geometry.notna().all() and admin1.geometry.is_valid.all()
    assert set(admin1.geom_type) == {"Polygon", "MultiPolygon"}


def test_shanghai_has_its_chinese_name(admin1: gpd.GeoDataFrame) -> None:
    sh = admin1[admin1["id"] == "CN-SH"].iloc[0]  # this file codes Shanghai CN-SH (not the older CN-31)
    assert sh["name"] == "Shanghai" and sh["iso3"] == "CHN" and sh["type"] == "Municipality"
    assert "上海" in sh["name_local"] and "Шанхай" in sh["names_alt"].split("|")
    russia = admin1.loc[(admin1["iso3"] == "RUS") & admin1["name_local"].notna(), "name_local"]
    assert len(russia) == 83 and russia.str.contains("[А-Яа-я]").all()  # Cyrillic, the country's own script
    # local names exist only where the 9-country NE 1:50m file supplies them
    have = set(admin1.loc[admin1["name_local"].notna(), "iso3"])
    assert {"CHN", "RUS", "IND", "BRA", "USA"} <= have and "FRA" not in have


def test_topo_file_itself_has_no_other_language_names(data_dir: Path) -> None:
    bare = read_admin1(data_dir / ADMIN1_TOPO_FILE)
    assert bare["name_local"].isna().all() and bare["type"].isna().all()


def test_union_of_units_matches_country_areas(admin1: gpd.GeoDataFrame, data_dir: Path) -> None:
    countries = read_countries(data_dir / COUNTRIES_FILE).set_index("iso3")
    units = admin1.dissolve("iso3").to_crs(EQUAL_AREA).area
    whole = countries.to_crs(EQUAL_AREA).area
    for iso in ("USA", "CHN", "BRA", "AUS", "IND", "RUS", "DEU", "ZAF", "CAN"):
        assert units[iso] / whole[iso] == pytest.approx(1.0, abs=0.01), iso
    assert units["USA"] / 1e6 == pytest.approx(9.5e6, rel=0.03)  # km2 incl. Alaska and Hawaii


def _mini(topo: dict, code: str) -> dict:
    """A real one-feature topology: the feature ``code`` and only its arcs (re-indexed, still quantized)."""
    geoms = topo["objects"]["ne_10m_admin_1_states_provinces"]["geometries"]
    one = json.loads(json.dumps(next(g for g in geoms if g["properties"].get("iso_3166_2") == code)))
    rings = one["arcs"] if one["type"] == "Polygon" else [r for poly in one["arcs"] for r in poly]
    used = sorted({i if i >= 0 else ~i for r in rings for i in r})
    new = {old: k for k, old in enumerate(used)}
    for r in rings:
        r[:] = [new[i] if i >= 0 else ~new[~i] for i in r]
    return {"type": "Topology", "transform": topo["transform"], "arcs": [topo["arcs"][i] for i in used],
            "objects": {"admin1": {"type": "GeometryCollection", "geometries": [one]}}}


def test_quantized_and_absolute_arcs_decode_alike(topo: dict, tmp_path: Path, admin1: gpd.GeoDataFrame) -> None:
    q = _mini(topo, "CN-TJ")
    absolute = {**q, "arcs": [a.tolist() for a in decode_arcs(q)]}
    del absolute["transform"]
    a = read_admin1(_write(q, tmp_path / "q.topo.json.gz"))
    b = read_admin1(_write(absolute, tmp_path / "a.topo.json.gz"))
    assert len(a) == 1 and a["id"].item() == "CN-TJ"
    assert a.geometry.item().equals_exact(b.geometry.item(), 1e-9)
    assert a.geometry.item().equals_exact(admin1.loc[admin1["id"] == "CN-TJ"].geometry.item(), 1e-12)
    w, s, e, n = a.total_bounds  # Tianjin lies around 116.7-118.1 E, 38.5-40.3 N
    assert 116.5 < w < e < 118.5 and 38.3 < s < n < 40.5


@pytest.mark.parametrize("damage, message", [
    (lambda d: d["objects"]["admin1"]["geometries"][0]["arcs"][0].append(10 ** 7), "refers to arc 10000000"),
    (lambda d: d.update(transform={"scale": [1000.0, 1000.0], "translate": [0, 0]}), "outside lon -180..180"),
    (lambda d: d["objects"]["admin1"]["geometries"][0]["properties"].pop("adm0_a3"), "lack the property 'adm0_a3'"),
    (lambda d: d["objects"]["admin1"]["geometries"][0].update(type="LineString"), "must be polygons"),
    (lambda d: d["arcs"][0].append(["x", 1]), "arc 0 is not a list"),
    (lambda d: d.update(type="FeatureCollection"), "not a TopoJSON Topology"),
])
def test_malformed_topology_raises(topo: dict, tmp_path: Path, damage, message: str) -> None:
    doc = _mini(topo, "CN-TJ")
    damage(doc)
    with pytest.raises(IngestError, match=message):
        read_admin1(_write(doc, tmp_path / "bad.topo.json.gz"))


def test_truncated_file_raises_and_write_leaves_nothing(data_dir: Path, tmp_path: Path,
                                                       admin1: gpd.GeoDataFrame) -> None:
    raw = (data_dir / ADMIN1_TOPO_FILE).read_bytes()
    cut = tmp_path / "cut.topo.json.gz"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IngestError, match="not readable"):
        read_admin1(cut)
    dup = admin1.iloc[[0, 0]]
    out = tmp_path / "out" / "admin1.parquet"
    with pytest.raises(IngestError, match="duplicate admin-1 id"):
        Admin1Adapter().write(dup, out)
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_write_geoparquet_with_provenance(admin1: gpd.GeoDataFrame, tmp_path: Path, data_dir: Path) -> None:
    from ingest.canonical import read_parquet_provenance

    china = admin1[admin1["iso3"] == "CHN"]
    out = Admin1Adapter().write(china, tmp_path / "admin1_chn.parquet", inputs=[data_dir / ADMIN1_TOPO_FILE])
    back = gpd.read_parquet(out)
    assert len(back) == 33 and back.crs.to_epsg() == 4326
    assert np.isclose(back.to_crs(EQUAL_AREA).area.sum(), china.to_crs(EQUAL_AREA).area.sum())
    assert read_parquet_provenance(out)["source_name"] == "admin1"


def test_download_checks_the_published_bytes(publisher, data_dir: Path, tmp_cache: Path) -> None:
    base, routes, _ = publisher
    body = (data_dir / ADMIN1_TOPO_FILE).read_bytes()
    served = {"b": body}
    routes[("GET", "/world/ne_10m_admin_1_states_provinces.topo.json.gz")] = lambda q, h, b: (
        200, "application/gzip", served["b"])
    a = Admin1Adapter()
    a.url = f"{base}/world/ne_10m_admin_1_states_provinces.topo.json.gz"
    served["b"] = body[:-10] + b"0123456789"
    with pytest.raises(IngestError, match="has sha256 .* expected 0fe8e18d"):
        a.download(date(2024, 1, 1), date(2024, 1, 1))
    assert not [p for p in (tmp_cache / "downloads" / "admin1").glob("*") if p.is_file()]
    served["b"] = body
    paths = a.download(date(2024, 1, 1), date(2024, 1, 1))
    assert paths[0].read_bytes() == body and paths[0].is_relative_to(tmp_cache)


def test_moscow_city_and_oblast_get_their_iso_codes() -> None:
    from carbonmap.settings import get_settings
    from ingest.admin1 import read_admin1

    a = read_admin1(get_settings().data_dir / "boundaries/ne_10m_admin_1_states_provinces.topo.json.gz")
    by_id = a.set_index("id")["name"]
    assert by_id["RU-MOW"] == "Moskva" and by_id["RU-MOS"].startswith("Moskov")
