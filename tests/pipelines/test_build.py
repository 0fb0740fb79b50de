"""End-to-end builds from the real shipped inputs through a real Dask LocalCluster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from carbonmap import contract as cc
from ingest.gcb import read_gcb
from pipelines import store
from pipelines.build import BuildRequest, build
from pipelines.inputs import GCB_FILE, load_inputs

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
