"""The region catalogue built from the shipped Natural Earth files: admin-1 of every country (NE 10m),
names and aliases, place polygons, search ranking, the cache."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from carbonmap.settings import get_settings
from ingest import region_catalogue as rc
from ingest.base import IngestError

MANHATTAN, BROOKLYN, PHILADELPHIA = (-74.0, 40.71), (-73.95, 40.65), (-75.16, 39.95)


@pytest.fixture(scope="module")
def cat() -> rc.RegionCatalogue:
    s = get_settings()
    return rc.load_catalogue(s.data_dir, s.cache_dir)


def _area_km2(geom: shapely.Geometry) -> float:
    return float(gpd.GeoSeries([geom], crs=4326).to_crs(6933).area.iloc[0]) / 1e6


@pytest.mark.parametrize(("text", "form"), [
    ("São Paulo", "sao paulo"), ("SAO-PAULO", "sao paulo"), ("MÜNCHEN", "munchen"), ("Ｓｈａｎｇｈａｉ", "shanghai"),
    ("Côtes-d'Armor", "cotes darmor"), ("Łódź", "lodz"), ("Straße", "strasse"), ("上海市", "上海市"),
    ("  Москва ", "москва"), ("!!", ""),
])
def test_normalise_folds_accents_case_width_and_punctuation(text: str, form: str):
    assert rc.normalise(text) == form


def test_admin1_level_is_every_ne_10m_unit(cat: rc.RegionCatalogue, data_dir: Path):
    a = cat.table[cat.table["type"] == "admin1"]
    assert len(a) == 4855  # features in the shipped TopoJSON
    assert a["id"].is_unique and a["id"].map(lambda i: re.fullmatch(rc.ID_PATTERN, i) is not None).all()
    iso = a[~a["id"].str.startswith("adm1:")]
    assert (iso["id"].str[:2].isin({"XK", "AI"}) | iso["id"].str.match(r"^[A-Z]{2}-")).all()
    assert a.geometry.is_valid.all() and (~a.geometry.is_empty).all()
    assert a.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert a["name"].map(lambda n: isinstance(n, str) and n != "").all()
    sh = cat.get("CN-SH")
    assert (sh["name"], sh["name_local"], sh["subtype"], sh["iso3"]) == ("Shanghai", "上海市", "Municipality", "CHN")
    assert sh.geometry.contains(shapely.Point(121.47, 31.23))  # the Bund
    assert cat.get("DE-BY")["name"] == "Bayern" and cat.get("DE-BY").geometry.contains(shapely.Point(11.58, 48.14))
    assert cat.get("CN-NM")["name_local"] == "内蒙古自治区"
    # names in the local script only where the 1:50m file has them: 9 countries (+ two units it codes in UKR)
    assert a.loc[a["name_local"].notna(), "iso3"].nunique() <= 10


def test_old_ne_50m_ids_resolve_to_the_10m_unit(cat: rc.RegionCatalogue, data_dir: Path):
    doc = json.loads((data_dir / rc.ADMIN1_NAMES_FILE).read_text("utf-8"))
    codes = {f["properties"]["adm1_code"]: f["properties"]["iso_3166_2"] for f in doc["features"]}
    resolved = 0
    for adm1_code, iso in codes.items():
        if iso in set(cat.table["id"]):
            assert cat.get(f"ADM1-{adm1_code}")["id"] == iso
            resolved += 1
    assert resolved >= 290  # of the 294 units of the 1:50m file


def test_ids_are_case_insensitive_and_place_ids_never_clash_with_iso_codes(cat: rc.RegionCatalogue):
    assert cat.get("cn-sh")["id"] == "CN-SH"
    assert cat.get("PL-18")["type"] == "admin1" and cat.get("PL-18")["iso3"] == "POL"  # the file's code
    ny = cat.get("PL-7318")
    assert ny["name"] == "New York" and ny["type"] == "place"
    fallback = cat.table[cat.table["id"].str.startswith("adm1:")]
    assert len(fallback) > 0 and cat.get(fallback["id"].iloc[0].upper())["id"] == fallback["id"].iloc[0]


def test_unknown_id_names_close_matches(cat: rc.RegionCatalogue):
    with pytest.raises(rc.RegionNotInCatalogue, match=r"close matches: CN-SH \(Shanghai\)"):
        cat.get("CN-SHH")
    with pytest.raises(LookupError, match=r"GET /regions\?q="):
        cat.get("QQQ-ZZZZZ-1")


def test_new_york_is_the_city_not_a_disc_nor_the_whole_corridor(cat: rc.RegionCatalogue):
    ny = cat.get("PL-7318")
    g = ny.geometry
    assert ny["definition"] == rc.DEFINITIONS["place_outside"]  # its point lies just outside the 1:50m outline
    assert g.contains(shapely.Point(*MANHATTAN)) and g.contains(shapely.Point(*BROOKLYN))
    assert not g.contains(shapely.Point(*PHILADELPHIA))  # the 1:50m outline runs NY and Philadelphia together
    disc = np.pi * rc.PLACE_RADIUS_KM**2
    assert 2 * disc < _area_km2(g) < _area_km2(cat.get("UA0289").geometry) / 5
    assert cat.get("UA0289")["name"] == "New York (USA)"


def test_places_in_one_urban_area_do_not_overlap(cat: rc.RegionCatalogue):
    t = cat.table
    ua = cat.get("UA0289").geometry  # New York-Philadelphia corridor: several places of 100,000+
    places = t[(t["type"] == "place") & t.geometry.intersects(ua) & t["definition"].str.contains("nearer")]
    assert len(places) >= 4
    geoms = list(places.geometry)
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert shapely.intersection(geoms[i], geoms[j]).area < 1e-9


def test_voronoi_cells_split_at_the_bisector():
    cells = rc.voronoi_cells(np.array([10.0, 10.2, 50.0]), np.array([45.0, 45.0, 0.0]))
    assert cells[0].contains(shapely.Point(10.09, 45.0)) and cells[1].contains(shapely.Point(10.11, 45.0))
    assert not cells[0].intersects(shapely.Point(10.11, 45.0))


def test_aliases_reach_their_regions_and_bad_alias_files_fail(cat: rc.RegionCatalogue, data_dir: Path,
                                                                 tmp_path: Path):
    aliases = rc.read_aliases(data_dir / rc.ALIASES_FILE)
    assert len(aliases) <= 40 and aliases["source"].str.len().gt(10).all()
    assert "Bavaria" in cat.get("DE-BY")["aliases"].split("|")
    assert "NYC" in cat.get("PL-7318")["aliases"].split("|") and pd.isna(cat.get("US-NY")["aliases"])
    assert "nan" not in set(cat.search("nan", limit=200)[0]["matched"])  # a missing name is not the text 'nan'
    src = (data_dir / rc.ALIASES_FILE).read_text("utf-8")
    header = "alias,name,iso3,types,source\n"
    cases = {"columns.csv": "alias,name,iso3\nBavaria,Bayern,DEU\n",
             "empty.csv": header + "Bavaria,,DEU,admin1,x\n",
             "type.csv": header + "Bavaria,Bayern,DEU,county,x\n"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text, "utf-8")
        with pytest.raises(IngestError, match=name):
            rc.read_aliases(tmp_path / name)
    (tmp_path / "nomatch.csv").write_text(src + "Bavaria,Bayern,AUT,admin1,wrong country\n", "utf-8")
    with pytest.raises(IngestError, match="matches no region"):
        rc.apply_aliases(cat.table, rc.read_aliases(tmp_path / "nomatch.csv"))


@pytest.mark.parametrize(("q", "first_id"), [
    ("上海", "CN-SH"), ("Shanghai", "CN-SH"), ("Bavaria", "DE-BY"), ("Bayern", "DE-BY"), ("bayern", "DE-BY"),
    ("Sao Paulo", "BR-SP"), ("SÃO PAULO", "BR-SP"), ("内蒙古", "CN-NM"), ("Inner Mongolia", "CN-NM"),
    ("Georgia", "GEO"), ("cn-nm", "CN-NM"),
])
def test_search_ranks_the_expected_region_first(cat: rc.RegionCatalogue, q: str, first_id: str):
    page, total = cat.search(q)
    assert total >= 1 and page["id"].iloc[0] == first_id


def test_search_finds_cities_by_endonym_exonym_and_alias(cat: rc.RegionCatalogue):
    for q in ("München", "Munich", "munchen"):
        page, _ = cat.search(q, "place")
        assert (page["id"].iloc[0], page["iso3"].iloc[0]) == ("PL-7220", "DEU")
    for q in ("New York", "New York City", "NYC"):
        page, _ = cat.search(q, "place")
        assert page["id"].iloc[0] == "PL-7318"
    page, _ = cat.search("Peking")
    assert {"CN-BJ", "place", "urban_area"} <= set(page["id"]) | set(page["type"])


def test_search_ranks_exact_then_prefix_then_substring(cat: rc.RegionCatalogue):
    page, total = cat.search("york", limit=200)
    names = list(page["name"])
    assert total == len(page) and names[0] == "York"  # exact before "New York" (word prefix)
    ranks = [0 if rc.normalise(m) == "york" else 1 if rc.normalise(m).startswith("york") else 2
             for m in page["matched"]]
    assert ranks == sorted(ranks)


def test_search_pages_cover_every_match_once(cat: rc.RegionCatalogue):
    _, total = cat.search(None, "admin1")
    ids: list[str] = []
    for offset in range(0, total, 200):
        page, t = cat.search(None, "admin1", 200, offset)
        assert t == total
        ids += list(page["id"])
    assert len(ids) == total == len(set(ids)) == 4855
    page, t = cat.search(None, "admin1", 20, total + 5)
    assert page.empty and t == total


def test_catalogue_is_cached_and_search_is_fast(cat: rc.RegionCatalogue):
    s = get_settings()
    assert rc.load_catalogue(s.data_dir, s.cache_dir) is cat
    assert rc._cache_file(s.data_dir, s.cache_dir).is_file()
    cat.search("warm-up")
    times = []
    for q in ("Shanghai", "上海", "New York", "Sao Paulo", "Bavaria"):
        t = time.perf_counter()
        cat.search(q)
        times.append(time.perf_counter() - t)
    assert statistics.median(times) < 0.05  # measured ~1 ms warm; generous for a loaded 2-core machine


def test_a_damaged_cache_file_is_rebuilt(cat: rc.RegionCatalogue, tmp_path: Path):
    s = get_settings()
    target = rc._cache_file(s.data_dir, tmp_path)
    target.parent.mkdir(parents=True)
    shutil.copyfile(rc._cache_file(s.data_dir, s.cache_dir), target)
    target.write_bytes(target.read_bytes()[:1000])  # truncated
    rebuilt = rc.load_catalogue(s.data_dir, tmp_path)
    assert len(rebuilt.table) == len(cat.table) and rebuilt.get("CN-SH")["name_local"] == "上海市"
    assert pd.read_parquet(target, columns=["id"])["id"].tolist() == cat.table["id"].tolist()
