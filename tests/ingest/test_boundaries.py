from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Polygon, box

from carbonmap.contract import Grid
from ingest.base import IngestError
from ingest.boundaries import (
    COUNTRIES_FILE,
    cached_country_coverage,
    coverage_fractions,
    missing_polygons,
    read_countries,
    read_places,
    read_urban_areas,
)
from ingest.gcb import read_gcb

SPHERE = Geod(a=6371008.8, b=6371008.8)  # the sphere of Grid.cell_area_m2


@pytest.fixture(scope="module")
def countries(data_dir: Path) -> gpd.GeoDataFrame:
    return read_countries(data_dir / COUNTRIES_FILE)


def test_countries_ids_match_gcb(countries: gpd.GeoDataFrame, data_dir: Path) -> None:
    assert list(countries.columns) == ["iso3", "name", "geometry"]
    assert countries.crs.to_epsg() == 4326
    assert countries["iso3"].is_unique and "-99" not in set(countries["iso3"])
    assert {"FRA", "NOR", "KSV"} <= set(countries["iso3"])
    assert countries.set_index("iso3").loc["FRA", "name"] == "France"
    gcb = read_gcb(data_dir / "statistical/GCB2025v15_MtCO2_flat.csv")
    # only two tiny island states lack a 1:50m polygon
    assert missing_polygons(countries, gcb["iso3"].unique()) == ["BES", "TUV"]


def test_wrong_crs_refused(tmp_path: Path, countries: gpd.GeoDataFrame) -> None:
    p = tmp_path / "c.geojson"
    countries.head(2).to_crs(3857).to_file(p, driver="GeoJSON")
    with pytest.raises(IngestError, match="CRS must be EPSG:4326"):
        read_countries(p)


def _planar_fractions(poly: Polygon, grid: Grid) -> dict[int, float]:
    """Reference: shapely's exact intersection area per cell, in degree units."""
    r = grid.resolution
    out = {}
    for i, lat in enumerate(grid.lat):
        for j, lon in enumerate(grid.lon):
            cell = box(lon - r / 2, lat - r / 2, lon + r / 2, lat + r / 2)
            a = cell.intersection(poly).area / cell.area
            if a > 0:
                out[i * grid.nlon + j] = a
    return out


def test_coverage_matches_exact_geometry_on_small_polygon() -> None:
    grid = Grid(0.5, -2.0, 40.0, 3.0, 44.0)
    poly = Polygon([(-1.3, 40.2), (2.1, 41.05), (1.7, 43.6), (0.2, 42.2), (-0.9, 43.1)])
    gdf = gpd.GeoDataFrame({"iso3": ["AAA"]}, geometry=[poly], crs=4326)
    cov = coverage_fractions(gdf, grid)
    ref = _planar_fractions(poly, grid)
    got = dict(zip(cov.cell.tolist(), cov.fraction.tolist(), strict=True))
    assert set(got) == set(ref)
    assert max(abs(got[k] - ref[k]) for k in ref) < 1e-6


def test_neighbours_share_border_cells() -> None:
    grid = Grid(1.0, 0.0, 0.0, 4.0, 2.0)
    gdf = gpd.GeoDataFrame({"id": ["W", "E"]}, geometry=[box(0, 0, 1.3, 2), box(1.3, 0, 4, 2)], crs=4326)
    cov = coverage_fractions(gdf, grid, id_col="id")
    total = np.bincount(cov.cell, weights=cov.fraction, minlength=grid.nlat * grid.nlon)
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    cells, frac = cov.of("W")
    assert dict(zip(cells.tolist(), frac.round(6).tolist())) == {0: 1.0, 1: 0.3, 4: 1.0, 5: 0.3}


def test_duplicate_ids_refused() -> None:
    gdf = gpd.GeoDataFrame({"iso3": ["A", "A"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    with pytest.raises(IngestError, match="'A' appears twice"):
        coverage_fractions(gdf, Grid(1.0))


@pytest.mark.parametrize("res", [0.25, 0.1])
def test_country_areas_and_timing(countries: gpd.GeoDataFrame, res: float) -> None:
    t0 = time.perf_counter()
    cov = coverage_fractions(countries, Grid(res))
    secs = time.perf_counter() - t0
    print(f"coverage of {len(cov.ids)} countries at {res} deg: {secs:.2f} s, {cov.cell.size} pairs")
    assert secs < 30
    area = cov.area_m2()
    geoms = countries.set_index("iso3").geometry
    for iso in ("USA", "CHN", "IND", "DEU", "RUS", "BRA", "NOR", "CHL", "LUX"):
        g = shapely.segmentize(geoms[iso], 0.05)  # grid edges are lon/lat lines, not geodesics
        ref = abs(SPHERE.geometry_area_perimeter(g)[0])
        assert area[cov.index(iso)] == pytest.approx(ref, rel=5e-3), iso
    # no cell is covered more than once
    per_cell = np.bincount(cov.cell, weights=cov.fraction)
    assert per_cell.max() <= 1 + 1e-6  # exactextract reports coverage in float32


def test_cached_coverage_roundtrip(tmp_cache: Path) -> None:
    grid = Grid(2.0)
    a = cached_country_coverage(grid)
    files = list((tmp_cache / "coverage").glob("*.parquet"))
    assert len(files) == 1
    b = cached_country_coverage(grid)
    assert a.ids == b.ids and b.grid == grid
    np.testing.assert_array_equal(a.cell, b.cell)
    np.testing.assert_array_equal(a.fraction, b.fraction)
    m = b.to_sparse()
    assert m.shape == (len(b.ids), grid.nlat * grid.nlon)


def test_places_and_urban_areas(data_dir: Path) -> None:
    pl = read_places(data_dir / "boundaries/ne_10m_populated_places_simple.json")
    assert len(pl) == 7343 and list(pl.columns[:5]) == ["name", "iso3", "lon", "lat", "pop_max"]
    tokyo = pl[(pl.name == "Tokyo") & (pl.iso3 == "JPN")]
    assert len(tokyo) == 1 and tokyo["pop_max"].iloc[0] > 3e7
    ua = read_urban_areas(data_dir / "boundaries/ne_50m_urban_areas.json")
    assert len(ua) == 2143 and ua["urban_id"].is_unique and ua.crs.to_epsg() == 4326


def test_places_bad_input(tmp_path: Path) -> None:
    p = tmp_path / "p.json"
    p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x"},'
                 ' "geometry": {"type": "Point", "coordinates": [1, 2]}}]}')
    with pytest.raises(IngestError, match="lacks the property 'adm0_a3'"):
        read_places(p)
    p.write_text("not json")
    with pytest.raises(IngestError, match="is not valid GeoJSON"):
        read_places(p)
