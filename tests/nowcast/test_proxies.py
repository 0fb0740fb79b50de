"""Urban-area cell fractions and the urban uplift of population proxies (nowcast.proxies)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmap.contract import Grid
from ingest.region_catalogue import cached_urban_coverage, urban_coverage, urban_union
from nowcast.downscale import Coverage, Points, downscale, sector_weights
from nowcast.proxies import (
    SECTOR_PROXIES,
    URBAN_UPLIFT,
    proxy_descriptions,
    urban_fraction,
    urban_weighted,
)
from tests.nowcast.test_downscale import assert_conserves_each_region

# 4 x 4 one-degree cells, west 0..4, south 0..4; row 0 is the north row (lat 3..4)
TINY = Grid(1.0, 0.0, 0.0, 4.0, 4.0)


def urban(*geoms: shapely.Geometry) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"urban_id": [f"UA{i:04d}" for i in range(len(geoms))]}, geometry=list(geoms), crs=4326)


def cell(row: int, col: int) -> int:
    return row * TINY.nlon + col


def test_square_polygon_gives_exact_cell_fractions() -> None:
    # lon 0.5..2.5, lat 1.0..3.5: half of cols 0 and 2, all of col 1; half of row 0 (lat 3..4), rows 1-2 whole
    cov = urban_coverage(TINY, urban(shapely.box(0.5, 1.0, 2.5, 3.5)))
    got = urban_fraction(TINY, cov.cell, cov.fraction).reshape(TINY.shape)
    expect = np.array([[0.25, 0.5, 0.25, 0.0],
                       [0.5, 1.0, 0.5, 0.0],
                       [0.5, 1.0, 0.5, 0.0],
                       [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(got, expect, atol=1e-6)  # exactextract works in float32
    # area check: 2 x 2.5 degrees of polygon = 5 cells' worth
    assert got.sum() == pytest.approx(5.0, abs=1e-5)


def test_overlapping_polygons_count_once() -> None:
    # two boxes both covering cell (1, 1) completely: the cell is urban once, not twice
    a, b = shapely.box(1.0, 1.0, 3.0, 3.0), shapely.box(1.0, 1.0, 2.0, 3.0)
    assert len(urban_union(urban(a, b))) == 1
    cov = urban_coverage(TINY, urban(a, b))
    got = urban_fraction(TINY, cov.cell, cov.fraction)
    assert got[cell(1, 1)] == pytest.approx(1.0, abs=1e-6)
    assert got.max() <= 1.0
    assert got.sum() == pytest.approx(4.0, abs=1e-5)


def test_urban_fraction_sums_disjoint_pieces_and_clips() -> None:
    got = urban_fraction(TINY, np.array([5, 5, 6, 6]), np.array([0.25, 0.5, 0.8, 0.7]))
    assert got[5] == pytest.approx(0.75)
    assert got[6] == 1.0  # clipped: never more than fully urban
    assert got.shape == (16,)
    assert got[[0, 1, 2, 3, 4, 7]].sum() == 0.0
    with pytest.raises(ValueError, match="outside"):
        urban_fraction(TINY, np.array([16]), np.array([0.5]))
    with pytest.raises(ValueError, match=">= 0"):
        urban_fraction(TINY, np.array([1]), np.array([-0.1]))
    with pytest.raises(ValueError, match="same shape"):
        urban_fraction(TINY, np.array([1, 2]), np.array([0.1]))


def test_combination_rule_pop_times_one_plus_k_urban() -> None:
    pop = np.array([100.0, 100.0, 100.0, 0.0])
    u = np.array([0.0, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(urban_weighted(pop, u, 1.0), [100.0, 150.0, 200.0, 0.0])
    np.testing.assert_array_equal(urban_weighted(pop, u, 0.5), [100.0, 125.0, 150.0, 0.0])
    np.testing.assert_array_equal(urban_weighted(pop, u, 0.0), pop)  # k = 0: unchanged
    with pytest.raises(ValueError, match="k"):
        urban_weighted(pop, u, -1.0)
    with pytest.raises(ValueError, match="0..1"):
        urban_weighted(pop, u * 2, 1.0)
    with pytest.raises(ValueError, match="same shape"):
        urban_weighted(pop, u[:2], 1.0)


def test_uplift_values_are_stated_in_the_metadata() -> None:
    assert URBAN_UPLIFT["ground_transport"] > URBAN_UPLIFT["residential"] > 0
    assert URBAN_UPLIFT["industry"] == 0.0
    assert "1 + 1 x urban share" in SECTOR_PROXIES["ground_transport"]
    assert "1 + 0.5 x urban share" in SECTOR_PROXIES["residential"]
    assert "k = 0" in SECTOR_PROXIES["industry"]
    assert "urban" not in proxy_descriptions(urban=False)["ground_transport"]
    doc = (Path(__file__).resolve().parents[2] / "docs" / "methods.md").read_text()
    for sector, k in URBAN_UPLIFT.items():
        assert f"{sector.replace('_', ' ')} | {k:g}" in doc, sector


def test_uplift_moves_weight_to_the_urban_cell_and_conserves_the_total() -> None:
    # one country over the 16 cells, equal population everywhere; one fully urban cell
    cov = Coverage(np.zeros(16, np.int64), np.arange(16), np.ones(16))
    pop = np.full(16, 1000.0)
    u = np.zeros(16)
    u[5] = 1.0
    w = sector_weights(16, 1, cov, urban_weighted(pop, u, URBAN_UPLIFT["ground_transport"]), pop)
    col = w.matrix[:, 0].toarray().ravel()
    assert col[5] == pytest.approx(2 * col[0])
    assert col[5] == pytest.approx(2.0 / 17.0)
    grid = downscale(w.matrix, np.array([3.7e9]))
    assert abs(grid.sum() - 3.7e9) <= 1e-9 * 3.7e9


@st.composite
def urban_problems(draw: st.DrawFn) -> tuple:
    n_cells = draw(st.integers(2, 30))
    n_regions = draw(st.integers(1, 5))
    n_pairs = draw(st.integers(1, 50))
    ints = st.lists(st.integers(0, n_cells - 1), min_size=n_pairs, max_size=n_pairs)
    region = np.array(draw(st.lists(st.integers(0, n_regions - 1), min_size=n_pairs, max_size=n_pairs)), np.int64)
    cells = np.array(draw(ints), np.int64)
    frac = np.array(draw(st.lists(st.floats(0, 1), min_size=n_pairs, max_size=n_pairs)))
    pop = np.array(draw(st.lists(st.floats(0, 1e7), min_size=n_cells, max_size=n_cells)))
    u = np.array(draw(st.lists(st.floats(0, 1), min_size=n_cells, max_size=n_cells)))
    k = draw(st.sampled_from(sorted(set(URBAN_UPLIFT.values())) + [3.0]))
    national = np.array(draw(st.lists(st.floats(0, 1e12), min_size=n_regions, max_size=n_regions)))
    return n_cells, n_regions, Coverage(region, cells, frac), pop, u, k, national


@settings(max_examples=60, deadline=None)
@given(urban_problems())
def test_urban_uplift_conserves_every_national_total(p: tuple) -> None:
    n_cells, n_regions, cov, pop, u, k, national = p
    fb = Points(np.arange(n_regions, dtype=np.int64), np.zeros(n_regions, np.int64), np.ones(n_regions))
    w = sector_weights(n_cells, n_regions, cov, urban_weighted(pop, u, k), pop, None, fb)
    assert_conserves_each_region(w, national)


def test_cached_urban_coverage_matches_a_fresh_computation(tmp_path: Path) -> None:
    src = tmp_path / "urban.json"
    urban(shapely.box(0.5, 1.0, 2.5, 3.5), shapely.box(3.2, 0.2, 3.8, 0.8)).assign(area_sqkm=1.0).to_file(
        src, driver="GeoJSON")
    cache = tmp_path / "cache"
    first = cached_urban_coverage(TINY, src, cache_dir=cache)
    files = list((cache / "coverage").glob("urban_*.parquet"))
    assert len(files) == 1
    again = cached_urban_coverage(TINY, src, cache_dir=cache)
    np.testing.assert_array_equal(urban_fraction(TINY, first.cell, first.fraction),
                                  urban_fraction(TINY, again.cell, again.fraction))
    got = urban_fraction(TINY, again.cell, again.fraction)
    assert got[cell(3, 3)] == pytest.approx(0.36, abs=1e-6)
    files[0].write_bytes(b"not parquet")  # a damaged cache is rebuilt, not trusted
    rebuilt = cached_urban_coverage(TINY, src, cache_dir=cache)
    np.testing.assert_allclose(urban_fraction(TINY, rebuilt.cell, rebuilt.fraction), got)
