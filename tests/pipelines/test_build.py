"""End-to-end builds from the real shipped inputs through a real Dask LocalCluster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from carbonmap import contract as cc
from ingest.boundaries import cached_country_coverage
from ingest.gcb import read_gcb
from pipelines import store
from pipelines.build import BuildRequest, build
from pipelines.inputs import GCB_FILE, load_inputs
from pipelines.weights import land_share

DATA = Path(__file__).resolve().parents[2] / "data"
GCB_GLOBAL_2024_MT = 38598.578033  # GCB2025v15, "Global" row, 2024


@pytest.fixture(scope="module")
def inputs():
    return load_inputs()


@pytest.fixture(scope="module")
def year_cube(tmp_path_factory: pytest.TempPathFactory, inputs) -> Path:
    """All of 2024 at 5 degrees."""
    path = tmp_path_factory.mktemp("build") / "year.zarr"
    return build(BuildRequest(dt.date(2024, 1, 1), dt.date(2024, 12, 31), 5.0, path, "test-year-5deg"),
                 inputs=inputs)


@pytest.fixture(scope="module")
def fine_cube(tmp_path_factory: pytest.TempPathFactory, inputs) -> Path:
    """One day at the canonical 0.1 degree, for geometric checks."""
    path = tmp_path_factory.mktemp("build") / "fine.zarr"
    return build(BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 1), 0.1, path, "test-fine"), inputs=inputs)


def test_year_cube_follows_the_contract(year_cube: Path) -> None:
    ds = store.open_cube(year_cube)
    assert ds.attrs[cc.STATUS_ATTR] == cc.STATUS_COMPLETE
    assert ds.attrs["Conventions"].startswith("CF-1.10")
    assert ds.sizes["time"] == 366 and tuple(ds["sector"].values) == cc.SECTORS
    assert ds[cc.EMISSIONS_VAR].dims == ("time", "sector", "lat", "lon")
    assert ds[cc.EMISSIONS_VAR].dtype == np.float32
    assert ds[cc.EMISSIONS_VAR].attrs["units"] == "kg day-1"
    inputs = {i["path"]: i for i in ds.attrs["provenance_inputs"]}
    assert GCB_FILE in inputs and len(inputs[GCB_FILE]["sha256"]) == 64
    assert ds.attrs["provenance_proxies"], "the simplified proxies must be stated"
    assert "temporal" in ds.attrs["provenance_methods"]
    arr = zarr.open_group(year_cube, mode="r")[cc.EMISSIONS_VAR]
    assert arr.shards == (1, 7, 36, 72)


def test_global_2024_total_equals_gcb_global(year_cube: Path) -> None:
    em = zarr.open_group(year_cube, mode="r")[cc.EMISSIONS_VAR][...]
    total_kg = float(em.sum(dtype=np.float64))
    assert total_kg / 1e9 == pytest.approx(GCB_GLOBAL_2024_MT, rel=5e-3)
    assert total_kg / 1e9 == pytest.approx(GCB_GLOBAL_2024_MT, rel=1e-6)  # in fact it is exact


def test_every_country_annual_sum_matches_gcb(year_cube: Path) -> None:
    ds = store.open_cube(year_cube)
    annual = ds[cc.NATIONAL_VAR].sum(("time", "sector")).to_series() / 1e9
    gcb = read_gcb(DATA / GCB_FILE)
    ref = gcb[gcb["year"] == 2024].set_index("iso3")["total"].drop("WLD")
    ref = ref[ref > 0]
    assert set(ref.index) <= set(annual.index), "no country may be lost"
    np.testing.assert_allclose(annual[ref.index].to_numpy(), ref.to_numpy(), rtol=5e-3)


def test_grid_conserves_every_day_and_sector(year_cube: Path) -> None:
    ds = store.open_cube(year_cube)
    em = zarr.open_group(year_cube, mode="r")[cc.EMISSIONS_VAR][...]
    grid_sum = em.sum(axis=(2, 3), dtype=np.float64)
    nat_sum = ds[cc.NATIONAL_VAR].sum("country").values
    np.testing.assert_allclose(grid_sum, nat_sum, rtol=1e-6)
    assert ds.attrs["mass_balance_max_rel_gap"] < 1e-6


def test_weekends_and_seasons_show_in_the_daily_series(year_cube: Path) -> None:
    ds = store.open_cube(year_cube)
    deu = ds[cc.NATIONAL_VAR].sel(country="DEU", sector="ground_transport").to_series()
    assert deu[deu.index.dayofweek == 6].mean() < deu[deu.index.dayofweek == 2].mean()
    res = ds[cc.NATIONAL_VAR].sel(country="DEU", sector="residential").to_series()
    assert res["2024-01"].mean() > res["2024-07"].mean()


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


def test_bad_requests_are_refused(tmp_path: Path) -> None:
    with pytest.raises(cc.ContractError, match="before start"):
        BuildRequest(dt.date(2024, 2, 1), dt.date(2024, 1, 1), 1.0, tmp_path / "x.zarr")
    with pytest.raises(cc.ContractError, match="resolution"):
        BuildRequest(dt.date(2024, 1, 1), dt.date(2024, 1, 2), 0.7, tmp_path / "x.zarr")


def test_failed_build_leaves_no_complete_store(tmp_path: Path, inputs) -> None:
    """A build whose inputs break mid-way leaves the old store untouched and no sealed new one."""
    final = tmp_path / "cube.zarr"
    old = build(BuildRequest(dt.date(2024, 1, 1), dt.date(2024, 1, 2), 10.0, final, "old"), inputs=inputs)
    before = xr.open_zarr(old).attrs["carbonmap_dataset_id"]
    broken = type(inputs)(**{**inputs.__dict__, "gcb": inputs.gcb.assign(total=-inputs.gcb["total"])})
    with pytest.raises(ValueError, match="finite and >= 0"):
        build(BuildRequest(dt.date(2024, 1, 1), dt.date(2024, 1, 2), 10.0, final, "new"), inputs=broken)
    assert store.open_cube(final).attrs["carbonmap_dataset_id"] == before
