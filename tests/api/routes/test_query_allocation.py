"""The allocation interval of region queries over real HTTP (issue #16.6): a whole country keeps the national
interval, a part of it gets the calibrated share rule on top."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.geometry

from api.national_series import Z90
from api.query_engine import country_map
from carbonmap import contract as cc
from nowcast.spatial_validation import SHARE_RULE
from pipelines import store
from tests.api.routes.live_server import live_server

DATASET = "allocation-test"
DAYS = 3
UNC = 0.1


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, tuple[str, ...]]:
    """A 1 degree cube where each cell's emissions belong to the country covering most of it (DEU, FRA), and the
    national table is exactly the sum of each country's cells."""
    grid = cc.Grid(1.0)
    cmap, names = country_map(grid)
    countries = ("DEU", "FRA")
    times = pd.date_range("2024-01-01", periods=DAYS, freq="D")
    prov = cc.Provenance(inputs=(), code_version="test", build_time=dt.datetime.now(dt.UTC).isoformat(),
                         methods={"temporal": "random"}, proxies=("random test field",))
    attrs = cc.global_attrs(dataset_id=DATASET, title="allocation test cube", grid=grid, start="2024-01-01",
                            end=str(times[-1].date()), provenance=prov, summary="random field for tests")
    path = tmp_path_factory.mktemp("alloc") / f"{DATASET}.zarr"
    tmp = store.building_path(path)
    store.create(tmp, grid, times, list(countries), attrs)
    owner = np.full(grid.shape, -1)
    for k, c in enumerate(countries):
        owner[cmap == names.index(c)] = k
    rng = np.random.default_rng(3)
    nat = np.zeros((DAYS, len(cc.SECTORS), len(countries)))
    for t in range(DAYS):
        field = rng.uniform(1e5, 1e6, size=(len(cc.SECTORS), *grid.shape)) * (owner >= 0)
        for s, sector in enumerate(cc.SECTORS):
            if sector in cc.INTERNATIONAL_SECTORS:
                field[s] = 0.0
        store.write_day(tmp, t, field.astype(np.float32), np.full(field.shape, UNC, np.float32))
        for k in range(len(countries)):
            nat[t, :, k] = field[:, owner == k].astype(np.float32).astype(np.float64).sum(axis=1)
    store.write_national(tmp, nat, np.full_like(nat, UNC))
    return store.seal(tmp, path), owner, countries


@pytest.fixture(scope="module")
def server(cube, tmp_path_factory: pytest.TempPathFactory):
    with live_server([cube[0]], tmp_path_factory.mktemp("alloc-log") / "server.log") as base:
        yield base


def _cells_polygon(rows: np.ndarray, cols: np.ndarray, grid: cc.Grid) -> dict:
    """The union of whole grid cells (coverage 1 each) as GeoJSON."""
    h = grid.resolution / 2
    boxes = [shapely.box(grid.lon[c] - h, grid.lat[r] - h, grid.lon[c] + h, grid.lat[r] + h)
             for r, c in zip(rows, cols, strict=True)]
    return shapely.geometry.mapping(shapely.union_all(boxes))


def _query(server: str, geom: dict) -> dict:
    r = httpx.post(f"{server}/emissions/query", json={"geometry": geom, "freq": "year", "sectors": ["power"],
                                                     "dataset": DATASET}, timeout=120)
    assert r.status_code == 200, r.text
    (p,) = r.json()["periods"]
    return p["sectors"]["power"]


@pytest.mark.e2e
def test_a_whole_country_keeps_the_national_interval(server: str, cube):
    _, owner, countries = cube
    grid = cc.Grid(1.0)
    rows, cols = np.nonzero(owner == countries.index("DEU"))
    got = _query(server, _cells_polygon(rows, cols, grid))
    assert got["upper"] == pytest.approx(got["emissions"] * (1 + Z90 * UNC), rel=1e-4)
    assert got["lower"] == pytest.approx(got["emissions"] * (1 - Z90 * UNC), rel=1e-4)


@pytest.mark.e2e
def test_a_part_of_a_country_adds_the_calibrated_share_interval(server: str, cube):
    _, owner, countries = cube
    grid = cc.Grid(1.0)
    rows, cols = np.nonzero(owner == countries.index("DEU"))
    part = _query(server, _cells_polygon(rows[:3], cols[:3], grid))
    whole = _query(server, _cells_polygon(rows, cols, grid))
    f = part["emissions"] / whole["emissions"]
    assert 0 < f < 0.2
    s = SHARE_RULE.log_sigma(f)
    e = part["emissions"]
    hi = np.hypot(Z90 * UNC * e, e * (np.exp(Z90 * s) - 1))
    lo = np.hypot(Z90 * UNC * e, e * (1 - np.exp(-Z90 * s)))
    assert part["upper"] == pytest.approx(e + hi, rel=1e-4)
    assert part["lower"] == pytest.approx(max(e - lo, 0.0), rel=1e-4)
    assert (part["upper"] - e) / e > (whole["upper"] - whole["emissions"]) / whole["emissions"]
