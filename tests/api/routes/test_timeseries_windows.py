"""Region queries over any period from the time-series layout's cumulative sums (issue #20): a window is two
reads per cell-chunk, and the answer (estimate and 90% interval, allocation term included) equals the
one summed day by day from the map-chunked cube."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pytest
import shapely

from api import query_engine as q
from carbonmap import contract as cc
from carbonmap.caches import AppCaches
from carbonmap.registry import Cube, Registry
from carbonmap.settings import Settings
from pipelines import timeseries as pts
from tests.api.routes.live_server import write_random_cube

START = dt.date(2023, 12, 20)


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Cube:
    path = write_random_cube(tmp_path_factory.mktemp("win") / "window-test.zarr", resolution=1.0, days=45,
                             dataset_id="window-test")
    pts.build_timeseries(path)
    return Registry().add(path)


def _fallback(memo: q.RegionCaches, cube: Cube) -> q._Source:
    source = q._Source(cube, memo.chunks)
    source.ts = None  # the map-chunked cube, summed day by day
    return source


@pytest.mark.parametrize(("start", "end", "freq"), [
    (dt.date(2023, 12, 25), dt.date(2024, 1, 30), "year"),  # 37 days across a year end: two periods
    (dt.date(2023, 12, 22), dt.date(2024, 2, 2), "month"),  # partial, whole and partial months
    (dt.date(2024, 1, 3), dt.date(2024, 1, 3), "year"),  # a single day late in the series
])
def test_windows_equal_the_day_by_day_sum(cube: Cube, monkeypatch: pytest.MonkeyPatch, start: dt.date,
                                          end: dt.date, freq: str) -> None:
    geom = shapely.box(-2.0, 42.0, 16.0, 54.5)  # France, Germany and their neighbours: several country groups
    settings = Settings()
    caches = AppCaches()
    source = q.source_of(q.region_caches(caches, settings), cube)
    assert source.has_cumsum and "cumulative sums" in source.name
    pieces, labels, bounds = source.plan(cube, start, end, freq, 32)  # type: ignore[arg-type]
    assert [p.kind for p in pieces] == ["window"] * len(labels)
    assert sum(b[2] for b in bounds) == (end - start).days + 1
    got = q.query_geometry(cube, geom, start, end, freq, cc.SECTORS, settings, caches)  # type: ignore[arg-type]
    monkeypatch.setattr(q, "source_of", _fallback)
    ref = q.query_geometry(cube, geom, start, end, freq, cc.SECTORS, settings, AppCaches())  # type: ignore[arg-type]
    assert ref.source == "map-chunked cube" and got.labels == ref.labels and got.bounds == ref.bounds
    for key, value in ref.arrays.items():
        np.testing.assert_allclose(got.arrays[key], value, rtol=1e-9, err_msg=key)
    assert np.all(got.arrays["total_upper"] > got.arrays["total_estimate"])


def test_daily_series_still_read_daily_blocks(cube: Cube) -> None:
    source = q.source_of(q.region_caches(AppCaches(), Settings()), cube)
    pieces, labels, _ = source.plan(cube, dt.date(2024, 1, 1), dt.date(2024, 1, 10), "day", 32)
    assert [p.kind for p in pieces] == ["daily"] and len(labels) == 10


def test_a_layout_without_cumulative_sums_reads_days(cube: Cube) -> None:
    old = SimpleNamespace(has_cumsum=False)
    pieces, labels, _ = q.plan(old, cube, dt.date(2023, 12, 25), dt.date(2024, 1, 30), "month", 16)  # type: ignore[arg-type]
    assert {p.kind for p in pieces} == {"daily"} and labels == ("2023-12", "2024-01")
    assert sum(p.i1 - p.i0 for p in pieces) == 37
    assert np.concatenate([p.periods for p in pieces]).tolist() == [0] * 7 + [1] * 30


def test_window_reads_two_days_per_cell_chunk(cube: Cube) -> None:
    """A window's ends are the only cumulative days read: days a-1 and b, whatever its length."""
    memo = q.region_caches(AppCaches(), Settings())  # an app's fresh caches: see what the window reads
    source = q.source_of(memo, cube)
    assert source.ts is not None
    geom = shapely.box(5.0, 45.0, 9.0, 48.0)
    i0, i1 = cube.day_index(dt.date(2023, 12, 25)), cube.day_index(dt.date(2024, 1, 30)) + 1
    red = q._reducers(cube.grid, memo.weights.get(geom, cube.grid))
    var = pts.cumsum_var(cc.EMISSIONS_VAR)
    path = str(source.ts.path)
    e, _ = q.reduce_windows(source, [q.Piece("window", i0, i1, np.array([0]))], red, slice(None), 1)
    daily = source.reduce(cc.EMISSIONS_VAR, i0, i1, red.parts(source.chunk_shape(cc.EMISSIONS_VAR), "groups"),
                          slice(None))
    np.testing.assert_allclose(e[0], daily.sum(axis=0), rtol=1e-12)
    assert {k[2] for k in memo.chunks._items if k[0] == path and k[1] == var} == {i0 - 1, i1 - 1}
