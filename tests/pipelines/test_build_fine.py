"""Geometric checks of a one-day build at the canonical 0.1 degree from the real shipped inputs.

Its own module (apart from tests/pipelines/test_build.py's year cube) so that pytest-xdist's
``--dist loadfile`` builds the two expensive cubes on different workers at the same time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from carbonmap import contract as cc
from carbonmap.storage.pyramid import pyramid_path
from ingest.boundaries import cached_country_coverage
from pipelines import store
from pipelines.build import BuildRequest, build
from pipelines.inputs import load_inputs
from pipelines.timeseries import timeseries_path
from pipelines.weights import land_share


@pytest.fixture(scope="module")
def inputs():
    return load_inputs()


@pytest.fixture(scope="module")
def fine_cube(tmp_path_factory: pytest.TempPathFactory, inputs) -> Path:
    """One day at the canonical 0.1 degree, for geometric checks (the cube only: its layouts are tested
    on coarser grids, and at 0.1 degree they cost ~3 minutes of CI)."""
    path = tmp_path_factory.mktemp("build") / "fine.zarr"
    return build(BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 1), 0.1, path, "test-fine", layouts=False),
                 inputs=inputs)


@pytest.mark.parametrize("iso3", ["USA", "CHN", "IND", "DEU"])
def test_geometric_country_sum_close_to_national(fine_cube: Path, iso3: str) -> None:
    """Summing grid cells by the country's share of each cell's land recovers the national total
    within 0.5%; the gap comes only from cells shared with neighbours."""
    ds = store.open_cube(fine_cube)
    grid = cc.Grid(0.1)
    cov = cached_country_coverage(grid)
    land = np.bincount(cov.cell, weights=cov.fraction, minlength=grid.nlat * grid.nlon)
    cells, frac = cov.of(iso3)
    share = land_share(cells, frac, land)
    national_sectors = list(cc.NATIONAL_SECTORS)
    field = ds[cc.EMISSIONS_VAR].isel(time=0).sel(sector=national_sectors).astype("float64").sum("sector")
    geometric = float((field.values.ravel()[cells] * share).sum())
    national = float(ds[cc.NATIONAL_VAR].isel(time=0).sel(country=iso3).sum())
    assert geometric == pytest.approx(national, rel=5e-3)


def test_power_sits_on_plants(fine_cube: Path) -> None:
    ds = store.open_cube(fine_cube)
    power = ds[cc.EMISSIONS_VAR].isel(time=0).sel(sector="power").values
    residential = ds[cc.EMISSIONS_VAR].isel(time=0).sel(sector="residential").values
    # plants are placed first (the residual goes over population), so power concentrates: its
    # 1,000 largest cells hold far more of the sector than residential's 1,000 largest cells
    def top_share(field: np.ndarray) -> float:
        v = np.sort(field[field > 0].astype(np.float64))[::-1]
        return float(v[:1000].sum() / v.sum())

    assert top_share(power) > 0.3
    assert top_share(power) > 2.5 * top_share(residential)


def test_a_cube_only_build_writes_no_layouts(fine_cube: Path) -> None:
    """``layouts=False``: the release holds the cube and nothing derived (servers fall back to the cube)."""
    release = Path(fine_cube).resolve()
    assert (release / "zarr.json").exists()
    assert not pyramid_path(release).exists() and not timeseries_path(release).exists()
