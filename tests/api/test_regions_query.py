"""api/regions_query.py: geometry checks, exact coverage (vs exactextract), einsum sums, the interval rule."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from api import query_caches as qc
from api import regions_query as rq
from api.national_series import Z90
from carbonmap.contract import Grid
from ingest.boundaries import read_urban_areas
from tests.conftest import DATA


def _poly(coords, holes=()):
    return {"type": "Polygon", "coordinates": [coords, *holes]}


SQUARE = [[10.03, 40.02], [11.57, 40.02], [11.57, 41.33], [10.03, 41.33], [10.03, 40.02]]
HOLE = [[10.5, 40.5], [11.0, 40.5], [11.0, 41.0], [10.5, 41.0], [10.5, 40.5]]


def _exactextract_dense(geom, grid: Grid) -> np.ndarray:
    """exactextract's coverage fractions on the whole grid, dims (lat, lon) (the reference)."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    raster = NumPyRasterSource(np.zeros(grid.shape, np.uint8), xmin=grid.west, ymin=grid.south, xmax=grid.east,
                               ymax=grid.north)
    res = exact_extract(raster, gpd.GeoDataFrame(geometry=[geom], crs=4326), ["cell_id", "coverage"], output="pandas")
    dense = np.zeros(grid.nlat * grid.nlon)
    for cid, cov in zip(res["cell_id"], res["coverage"], strict=True):
        np.add.at(dense, np.asarray(cid, dtype=np.int64), np.asarray(cov, dtype=np.float64))
    return dense.reshape(grid.shape)


def _dense(w: rq.CellWeights, grid: Grid) -> np.ndarray:
    d = np.zeros(grid.shape)
    d[w.rows, w.cols] = w.fraction
    return d


def test_weights_equal_exactextract_for_a_city_with_holes():
    grid = Grid(0.1)
    ua = read_urban_areas(DATA / "boundaries" / "ne_50m_urban_areas.json")
    holed = [g for g in ua.geometry if isinstance(g, shapely.Polygon) and len(g.interiors) > 0]
    geom = max(holed, key=lambda g: g.area) if holed else ua.geometry.iloc[0]
    w = rq.coverage_weights(geom, grid)
    np.testing.assert_allclose(_dense(w, grid), _exactextract_dense(geom, grid), atol=1e-6, rtol=0)
    assert w.fraction.min() > 0 and w.fraction.max() <= 1


def test_hole_is_respected_and_area_matches_shapely():
    grid = Grid(0.1)
    geom = rq.parse_geometry(_poly(SQUARE, [HOLE]), 1000)
    w = rq.coverage_weights(geom, grid)
    cell_deg2 = 0.1 * 0.1
    assert w.fraction.sum() * cell_deg2 == pytest.approx(geom.area, rel=1e-9)
    inside_hole = (np.abs(grid.lat[w.rows] - 40.75) < 0.2) & (np.abs(grid.lon[w.cols] - 10.75) < 0.2)
    assert not inside_hole.any()


@pytest.mark.parametrize("ring", [
    [[170, -20], [190, -20], [190, -10], [170, -10], [170, -20]],          # runs past 180
    [[170, -20], [-170, -20], [-170, -10], [170, -10], [170, -20]],        # jumps across +-180
])
def test_antimeridian_polygons_are_cut_and_summed_on_both_sides(ring):
    grid = Grid(1.0)
    geom = rq.parse_geometry(_poly(ring), 1000)
    assert isinstance(geom, shapely.MultiPolygon) and geom.area == pytest.approx(200.0)
    w = rq.coverage_weights(geom, grid)
    lons = grid.lon[w.cols]
    assert (lons > 169).any() and (lons < -169).any() and not ((lons > -170) & (lons < 170)).any()
    assert w.fraction.sum() == pytest.approx(200.0)


def test_bad_geometries_say_what_to_fix():
    with pytest.raises(rq.TooManyVertices, match="limit of 4"):
        rq.parse_geometry(_poly(SQUARE), 4)
    bowtie = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]
    with pytest.raises(rq.GeometryError, match="not valid.*Self-intersection"):
        rq.parse_geometry(_poly(bowtie), 100)
    with pytest.raises(rq.GeometryError, match="Polygon or MultiPolygon"):
        rq.parse_geometry({"type": "Point", "coordinates": [0, 0]}, 100)
    with pytest.raises(rq.GeometryError, match="between -90 and 90"):
        rq.parse_geometry(_poly([[0, 0], [1, 0], [1, 95], [0, 0]]), 100)
    with pytest.raises(rq.GeometryError, match="closed"):
        rq.parse_geometry(_poly([[0, 0], [1, 0], [1, 1], [0, 1]]), 100)


def test_weight_cache_hits_on_the_same_geometry_in_another_vertex_order():
    cache = qc.WeightCache(2)
    grid = Grid(0.5)
    a = rq.parse_geometry(_poly(SQUARE), 100)
    b = rq.parse_geometry(_poly(SQUARE[::-1]), 100)
    assert rq.geometry_key(a) == rq.geometry_key(b)
    w1 = cache.get(a, grid)
    w2 = cache.get(b, grid)
    assert w1 is w2 and (cache.hits, cache.misses) == (1, 1)


def test_weighted_and_grouped_sums_match_a_loop():
    grid = Grid(0.5)
    geom = rq.parse_geometry(_poly(SQUARE), 100)
    w = rq.coverage_weights(geom, grid)
    rng = np.random.default_rng(1)
    block = rng.uniform(0, 10, size=(5, 3, *w.block_shape)).astype(np.float32)
    expected = np.zeros((5, 3))
    for r, c, f in zip(w.rows - w.row_slice.start, w.cols - w.col_slice.start, w.fraction, strict=True):
        expected += block[:, :, r, c] * f
    np.testing.assert_allclose(rq.weighted_sum(block, w), expected, rtol=1e-12)
    for n_groups in (1, 2, rq.DENSE_GROUPS + 1):  # dense per-group vectors and the sparse matrix
        groups = np.arange(w.n_cells) % n_groups
        g = rq.grouped_sum(block, w, groups, n_groups)
        np.testing.assert_allclose(g.sum(axis=2), expected, rtol=1e-12)
        for k in range(n_groups):
            in_k = groups == k
            ref = sum(block[:, :, r, c] * f for r, c, f in zip(w.rows[in_k] - w.row_slice.start,
                      w.cols[in_k] - w.col_slice.start, w.fraction[in_k], strict=True))
            np.testing.assert_allclose(g[:, :, k], ref, rtol=1e-12)


@pytest.mark.parametrize("n_groups", [1, 3, rq.DENSE_GROUPS + 2])  # dense and sparse part weights
def test_chunk_parts_sum_like_the_assembled_block(n_groups: int):
    """Summing cell-major chunk rows times part weights equals the block reductions, with edge chunks
    narrower than the chunk shape and a geometry straddling several chunks."""
    grid = Grid(0.25, 9.0, 39.0, 12.5, 42.25)  # 13 x 14 cells: 5 x 5 chunks leave narrow edge chunks
    geom = rq.parse_geometry(_poly(SQUARE, [HOLE]), 100)
    w = rq.coverage_weights(geom, grid)
    rng = np.random.default_rng(4)
    field = rng.uniform(0, 10, size=(6, 3, *grid.shape)).astype(np.float32)  # (step, sector, lat, lon)
    groups = np.arange(w.n_cells) % n_groups
    block = field[:, :, w.row_slice, w.col_slice]
    expected_sum = rq.weighted_sum(block, w)
    expected_groups = rq.grouped_sum(block, w, groups, n_groups)
    chunk = (5, 5)
    got_sum, got_groups = np.zeros((6, 3, 1)), np.zeros((6, 3, n_groups))
    for columns, got in ((w.fraction[:, None], got_sum), (rq.group_columns(w, groups, n_groups), got_groups)):
        parts = rq.chunk_parts(w, grid.shape, chunk, columns)
        assert sum(p.index.size for p in parts) == w.n_cells and len({p.chunk for p in parts}) == len(parts) > 1
        for p in parts:
            i, j = p.chunk
            c = field[:, :, i * 5:(i + 1) * 5, j * 5:(j + 1) * 5]  # as a store returns it (edges narrower)
            cell_major = c.reshape(6 * 3, -1).T.astype(np.float64)  # (chunk cell, step x sector)
            got += np.asarray(p.weights @ cell_major[p.index]).reshape(-1, 6, 3).transpose(1, 2, 0)
    np.testing.assert_allclose(got_sum[..., 0], expected_sum, rtol=1e-12)
    np.testing.assert_allclose(got_groups, expected_groups, rtol=1e-12)


def test_parsed_geometry_cache_reuses_equal_geojson_and_still_applies_the_vertex_limit():
    cache = qc.ParsedGeometryCache(4)
    poly = _poly(SQUARE, [HOLE])
    g1, k1 = cache.parse(poly, 100)
    g2, k2 = cache.parse({"coordinates": poly["coordinates"], "type": "Polygon"}, 100)  # same GeoJSON, keys reordered
    assert g2 is g1 and k1 == k2 == rq.geometry_key(rq.parse_geometry(poly, 100))
    feature = {"type": "Feature", "properties": {}, "geometry": poly}
    assert cache.parse(feature, 100)[1] == k1
    with pytest.raises(rq.TooManyVertices):  # a hit is still refused past a lower limit
        cache.parse(poly, 5)
    with pytest.raises(rq.GeometryError):  # failures are not cached: each call says what is wrong
        cache.parse({"type": "Point", "coordinates": [1, 2]}, 100)
    with pytest.raises(rq.GeometryError):
        cache.parse({"type": "Point", "coordinates": [1, 2]}, 100)


def test_interval_rule_correlated_within_independent_between_countries():
    est = np.array([[100.0, 50.0]])                   # (period, sector) kg
    sig = np.array([[[3.0, 4.0], [6.0, 8.0]]])        # (period, sector, group) kg, summed linearly
    out = rq.period_intervals(est, sig, np.array([False, False]))
    # per sector: groups in quadrature
    assert out["sector_upper"][0, 0] == pytest.approx((100 + Z90 * 5.0) / 1000)
    # total: sectors add linearly within a group, then groups in quadrature
    total_sigma = np.hypot(3 + 6, 4 + 8)
    assert out["total_upper"][0] == pytest.approx((150 + Z90 * total_sigma) / 1000)
    # an international sector is one group whatever the cells' countries
    out = rq.period_intervals(est, sig, np.array([False, True]))
    assert out["sector_upper"][0, 1] == pytest.approx((50 + Z90 * 14.0) / 1000)
    assert out["total_upper"][0] == pytest.approx((150 + Z90 * np.sqrt(5.0**2 + 14.0**2)) / 1000)


def test_allocation_interval_vanishes_for_a_whole_country_and_widens_as_the_region_shrinks():
    intl = np.array([False, True])
    national = np.full((1, 2, 1), 1000.0)
    # the whole country: no allocation term, the national interval alone
    lo, hi = rq.allocation_sigmas(national, national, intl)
    assert np.all(lo == 0) and np.all(hi == 0)
    rel = []
    for part in (500.0, 100.0, 10.0, 1.0):
        lo, hi = rq.allocation_sigmas(np.full((1, 2, 1), part), national, intl)
        assert hi[0, 1, 0] == 0 and lo[0, 1, 0] == 0          # bunkers are not placed inside a country
        assert hi[0, 0, 0] > lo[0, 0, 0] > 0                   # log-normal: the upper side moves further
        rel.append(hi[0, 0, 0] / part)
    assert rel == sorted(rel)                                  # a smaller share, a wider relative interval
    # the 90 % range matches the rule's exp(+-1.645 sigma(f))
    f = 0.01
    lo, hi = rq.allocation_sigmas(np.full((1, 1, 1), f * 1000.0), np.full((1, 1, 1), 1000.0), np.array([False]))
    s = rq.SHARE_RULE.log_sigma(f)
    assert (f * 1000.0 + Z90 * hi[0, 0, 0]) == pytest.approx(f * 1000.0 * np.exp(Z90 * s))
    assert (f * 1000.0 - Z90 * lo[0, 0, 0]) == pytest.approx(f * 1000.0 * np.exp(-Z90 * s))


def test_allocation_adds_in_quadrature_across_sectors_and_groups():
    est = np.array([[100.0, 50.0]])
    sig = np.zeros((1, 2, 2))
    lo = np.zeros((1, 2, 2))
    hi = np.array([[[3.0, 4.0], [6.0, 8.0]]])
    out = rq.period_intervals(est, sig, np.array([False, False]), (lo, hi))
    assert out["sector_upper"][0, 0] == pytest.approx((100 + Z90 * 5.0) / 1000)
    assert out["total_upper"][0] == pytest.approx((150 + Z90 * np.sqrt(9 + 16 + 36 + 64)) / 1000)
    assert out["total_lower"][0] == pytest.approx(0.150)


def test_land_weights_give_a_coastal_region_all_of_its_cells_land():
    w = rq.CellWeights(rows=np.array([0, 0, 1]), cols=np.array([0, 1, 0]), fraction=np.array([0.3, 0.15, 0.4]),
                       row_slice=slice(0, 2), col_slice=slice(0, 2), flat=np.array([0, 1, 2]))
    land = np.array([[0.3, 0.3], [0.0, 1.0]])   # two coastal cells (30 % land), one open-sea cell
    lw = rq.land_weights(w, land)
    np.testing.assert_allclose(lw.fraction, [1.0, 0.5, 0.4])  # all / half of the land; the sea cell by area
    np.testing.assert_allclose(lw.area_fraction, [0.3, 0.15, 0.4])  # areas stay areas
    assert rq.land_weights(w, np.ones((2, 2))).fraction.tolist() == w.fraction.tolist()  # inland: unchanged
