"""Shipping lanes (CIA 2012 via newzealandpaul/Shipping-Lanes) and the lane-length grid."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from carbonmap.contract import Grid
from ingest.base import IngestError
from ingest.shipping_lanes import LANES_FILE, ShippingLanesAdapter, haversine_km, lane_density, read_shipping_lanes


@pytest.fixture(scope="module")
def lanes(data_dir: Path) -> gpd.GeoDataFrame:
    return read_shipping_lanes(data_dir / LANES_FILE)


@pytest.fixture(scope="module")
def doc(data_dir: Path) -> dict:
    with gzip.open(data_dir / LANES_FILE, "rt", encoding="utf-8") as f:
        return json.load(f)


def test_lines_classes_and_lengths(lanes: gpd.GeoDataFrame, doc: dict) -> None:
    assert [f["properties"]["Type"] for f in doc["features"]] == ["Major", "Middle", "Minor"]
    assert lanes["lane_class"].value_counts().to_dict() == {"middle": 123, "minor": 64, "major": 52}
    assert lanes.groupby("lane_class")["rank"].first().to_dict() == {"major": 1, "middle": 2, "minor": 3}
    assert set(lanes.geom_type) == {"LineString"} and lanes.crs.to_epsg() == 4326 and lanes["lane_id"].is_unique
    n_vertices = sum(len(p) for f in doc["features"] for p in f["geometry"]["coordinates"])
    assert int(shapely.get_num_coordinates(lanes.geometry.values).sum()) == n_vertices == 28766
    total = lanes["length_km"].sum()
    assert 650_000 < total < 720_000  # ~17 times around the Earth
    assert lanes.loc[lanes["lane_class"] == "major", "length_km"].sum() == pytest.approx(136_981, rel=1e-3)


def test_density_is_north_up_and_keeps_the_length(lanes: gpd.GeoDataFrame) -> None:
    d = lane_density(1.0, lanes)
    grid = Grid(1.0)
    assert d.shape == grid.shape == (180, 360)
    assert d.sum() == pytest.approx(lanes["length_km"].sum(), rel=1e-4)
    assert lane_density(0.5, lanes).sum() == pytest.approx(lanes["length_km"].sum(), rel=1e-4)
    r, c = np.unravel_index(np.argmax(d), d.shape)  # the densest cell: the Panama Canal, 8-9 N 80-79 W
    assert (grid.lat[r], grid.lon[c]) == (8.5, -79.5)
    assert d[grid.lat > 75].sum() < 0.02 * d.sum() and d[grid.lat < -70].sum() == 0.0  # no lanes in Antarctica


def test_density_of_a_known_line() -> None:
    line = gpd.GeoDataFrame({"lane_class": ["major"]}, geometry=[shapely.LineString([(0.2, 45.5), (9.7, 45.5)])],
                            crs=4326)
    d = lane_density(1.0, line)
    rows, cols = np.nonzero(d)
    assert set(rows) == {44} and list(cols) == list(range(180, 190))  # row 44 = 45-46 N, north-up
    expected = haversine_km(np.array([0.2]), np.array([45.5]), np.array([9.7]), np.array([45.5]))[0]
    assert d.sum() == pytest.approx(expected, rel=1e-3)  # a parallel is ~ its chord over 9.5 degrees
    assert d[44, 181] == pytest.approx(haversine_km(np.array([1.0]), np.array([45.5]), np.array([2.0]),
                                                    np.array([45.5]))[0], rel=1e-9)


def test_weights_and_bad_resolution(lanes: gpd.GeoDataFrame) -> None:
    w = {"major": 3.0, "middle": 2.0, "minor": 1.0}
    by = lanes.groupby("lane_class")["length_km"].sum()
    assert lane_density(2.0, lanes, w).sum() == pytest.approx(sum(w[k] * by[k] for k in w), rel=1e-4)
    assert lane_density(2.0, lanes, {"major": 1.0}).sum() == pytest.approx(by["major"], rel=1e-4)
    with pytest.raises(IngestError, match="bad grid resolution 0.7"):
        lane_density(0.7, lanes)


@pytest.mark.parametrize("damage, message", [
    (lambda d: d["features"][1]["properties"].update(Type="Busy"), "feature 1 has Type 'Busy'"),
    (lambda d: d["features"][0]["geometry"]["coordinates"][0].__setitem__(0, [3.5e6, 1.2e6]), "outside lon/lat"),
    (lambda d: d["features"][2].update(geometry={"type": "Point", "coordinates": [0, 0]}), "lanes must be"),
    (lambda d: d.update(crs={"type": "name", "properties": {"name": "EPSG:3857"}}), "must be lon/lat"),
])
def test_malformed_geojson_raises(doc: dict, tmp_path: Path, damage, message: str) -> None:
    bad = json.loads(json.dumps(doc))
    damage(bad)
    p = tmp_path / "lanes.geojson"
    p.write_text(json.dumps(bad))
    with pytest.raises(IngestError, match=message):
        read_shipping_lanes(p)


def test_truncated_file_and_bad_write_leave_nothing(data_dir: Path, tmp_path: Path, lanes: gpd.GeoDataFrame) -> None:
    raw = (data_dir / LANES_FILE).read_bytes()
    cut = tmp_path / "lanes.geojson.gz"
    cut.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(IngestError, match="not readable"):
        read_shipping_lanes(cut)
    bad = lanes.assign(length_km=-lanes["length_km"])
    out = tmp_path / "out" / "lanes.parquet"
    with pytest.raises(IngestError, match="positive length"):
        ShippingLanesAdapter().write(bad, out)
    assert not out.exists()
    good = ShippingLanesAdapter().write(lanes, out, inputs=[data_dir / LANES_FILE])
    assert len(gpd.read_parquet(good)) == len(lanes)


def test_download_from_the_publisher(publisher, data_dir: Path, tmp_cache: Path) -> None:
    base, routes, hits = publisher
    body = gzip.decompress((data_dir / LANES_FILE).read_bytes())
    routes[("GET", "/data/Shipping_Lanes_v1.geojson")] = lambda q, h, b: (200, "application/geo+json", body)
    a = ShippingLanesAdapter()
    a.url = f"{base}/data/Shipping_Lanes_v1.geojson"
    paths = a.download(date(2020, 1, 1), date(2020, 12, 31))
    assert paths[0].name == "Shipping_Lanes_v1.geojson" and paths[0].is_relative_to(tmp_cache)
    got = a.read(paths)
    assert len(got) == 239 and len(hits) == 1
    assert a.download(date(2020, 1, 1), date(2020, 12, 31)) == paths and len(hits) == 1  # cached
