"""The spatial model as a pure function (issue #16.7): hand-made inputs on a 10 degree grid, no files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbonmap import contract as cc
from nowcast.downscale import Coverage
from nowcast.placement import PlacementInputs, place
from nowcast.subnational import ProvinceLevel

GRID = cc.Grid(10.0)
N = GRID.nlat * GRID.nlon
REGIONS = ("AAA", "BBB", "XIA", "XIS")


def _cell(lat: float, lon: float) -> int:
    r = int((GRID.north - lat) // GRID.resolution)
    c = int((lon - GRID.west) // GRID.resolution)
    return r * GRID.nlon + c


AAA_CELLS = np.array([_cell(45, 5), _cell(45, 15), _cell(55, 5), _cell(55, 15)])
BBB_CELLS = np.array([_cell(-15, 25), _cell(-15, 35)])


def _inputs(provinces: dict | None = None) -> PlacementInputs:
    cells = np.concatenate([AAA_CELLS, BBB_CELLS])
    cov = Coverage(np.array([0, 0, 0, 0, 1, 1]), cells, np.ones(6))
    land = np.zeros(N)
    land[cells] = 1.0
    pop = np.zeros(N)
    pop[cells] = [1e6, 3e6, 2e6, 4e6, 5e5, 5e5]
    plants = pd.DataFrame({"iso3": ["AAA"], "lon": [15.0], "lat": [55.0], "co2_kg_per_yr": [4e9], "kind": ["coal"]})
    empty_air = pd.DataFrame({"lon": [5.0], "lat": [45.0], "type": ["major"]})
    ports = pd.DataFrame({"lon": [25.0], "lat": [-15.0], "scalerank": [3]})
    fallback = pd.DataFrame({"iso3": pd.Series([], dtype=str), "lon": pd.Series([], dtype=float),
                             "lat": pd.Series([], dtype=float), "weight": pd.Series([], dtype=float)})
    return PlacementInputs(
        grid=GRID, regions=REGIONS, coverage=cov, land=land, population=pop, urban=None,
        plants=plants, facilities=True, industry_points=None, airports=empty_air, airport_traffic=None, ports=ports,
        lane_density=None, fallback_points=fallback, provinces=provinces or {},
        power_total=np.array([1e10, 1e9, 0.0, 0.0]), industry_total=None)


def test_every_column_sums_to_one_and_stays_in_its_country():
    w = place(_inputs())
    for sector in cc.SECTORS:
        m = w.matrices[sector]
        for j, code in enumerate(REGIONS[:2]):
            col = np.asarray(m[:, j].toarray()).ravel()
            if col.sum() == 0:
                continue
            assert col.sum() == pytest.approx(1.0, abs=1e-12), (sector, code)
            own = AAA_CELLS if code == "AAA" else BBB_CELLS
            assert col[np.setdiff1d(np.arange(N), own)].sum() == 0, (sector, code)


def test_the_plant_gets_its_emissions_and_population_the_rest():
    w = place(_inputs())
    col = np.asarray(w.matrices["power"][:, 0].toarray()).ravel()
    plant = _cell(55, 15)
    assert col[plant] > 0.4                      # 4 of 10 Gt sit in the plant's cell
    others = np.setdiff1d(AAA_CELLS, [plant])
    assert col[others].sum() == pytest.approx(1 - col[plant])


def test_a_province_level_sets_each_province_total():
    # two provinces in AAA: north (the plant's row) 20 %, south 80 %, whatever the plant and population say
    north, south = AAA_CELLS[2:], AAA_CELLS[:2]
    level = ProvinceLevel("AAA", ("N", "S"), Coverage(np.array([0, 0, 1, 1]), np.concatenate([north, south]),
                                                      np.ones(4)), np.array([0.2, 0.8]), "test statistic")
    w = place(_inputs({"power": [level]}))
    col = np.asarray(w.matrices["power"][:, 0].toarray()).ravel()
    assert col[north].sum() == pytest.approx(0.2, abs=1e-9)
    assert col[south].sum() == pytest.approx(0.8, abs=1e-9)
    assert any("power AAA (2 units, test statistic)" in v for v in w.methods.values())
