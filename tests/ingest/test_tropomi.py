from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
from scipy.stats import binned_statistic_2d

from carbonmap.contract import Grid
from ingest.base import IngestError
from ingest.tropomi import (
    HEADER_FILE,
    NO2_VAR,
    Swath,
    bin_mean,
    bin_mean_threads,
    cell_of,
    daily_sum_count_dask,
    grid_edges,
    partial_to_dataset,
    qa_filter,
    read_tropomi_l2,
    write_daily_zarr,
)
from tests.ingest.fixture_gen.tropomi import make_fixture

NAME = HEADER_FILE.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def orbit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fixture(tmp_path_factory.mktemp("s5p") / NAME, n_scanline=120, n_ground_pixel=60, seed=1)


def test_fixture_is_format_exact_and_marked(orbit: Path, data_dir: Path) -> None:
    with netCDF4.Dataset(data_dir / HEADER_FILE) as real, netCDF4.Dataset(orbit) as fx:
        assert fx.carbonmap_synthetic == "true" and "SYNTHETIC" in fx.carbonmap_synthetic_note
        for k in real.ncattrs():  # every real root attribute copied unchanged
            assert str(fx.getncattr(k)) == str(real.getncattr(k))
        assert set(fx["METADATA"].groups) == set(real["METADATA"].groups)
        assert set(fx["PRODUCT"].dimensions) == set(real["PRODUCT"].dimensions)
        assert set(fx["PRODUCT/SUPPORT_DATA"].groups) >= {"GEOLOCATIONS", "DETAILED_RESULTS", "INPUT_DATA"}
        qa = fx["PRODUCT/qa_value"]
        assert qa.dtype == np.uint8 and qa.dimensions == ("time", "scanline", "ground_pixel")
        assert qa.scale_factor == np.float32(0.01) and qa._FillValue == 255
        no2 = fx["PRODUCT"][NO2_VAR]
        assert no2.units == "mol m-2" and no2.dtype == np.float32
        assert no2._FillValue == np.float32(9.96921e36)
        assert no2.multiplication_factor_to_convert_to_molecules_percm2 == pytest.approx(6.02214e19, rel=1e-6)
        assert fx["PRODUCT/SUPPORT_DATA/GEOLOCATIONS/latitude_bounds"].dimensions[-1] == "corner"
        # the real header's histogram axis carries the same units as the column
        assert real["METADATA/QA_STATISTICS/nitrogendioxide_tropospheric_column_histogram_axis"].units == no2.units


def test_reader_scales_qa_and_masks_fill(orbit: Path) -> None:
    sw, latb, _ = read_tropomi_l2(orbit, bounds=True)
    assert isinstance(sw, Swath) and sw.shape == (120, 60) and sw.synthetic
    assert np.nanmax(sw.qa) == pytest.approx(1.0) and set(np.unique(sw.qa[np.isfinite(sw.qa)]).round(2)) <= {
        1.0, 0.88, 0.76, 0.74, 0.5, 0.3}
    assert np.isnan(sw.no2).sum() > 0 and np.nanmax(np.abs(sw.no2)) < 1e-2  # fill masked, mol m-2 magnitudes
    assert latb.shape == (120 * 60, 4)
    keep = qa_filter(sw)
    assert (sw.qa[keep] >= 0.75).all() and not (sw.qa[~keep & np.isfinite(sw.no2)] >= 0.75).any()
    assert str(sw.time[0])[:19] == "2020-03-03T01:57:22"


def test_reader_refuses_the_empty_header_and_bad_units(data_dir: Path, orbit: Path, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="PRODUCT/nitrogendioxide_tropospheric_column is missing"):
        read_tropomi_l2(data_dir / HEADER_FILE)
    bad = tmp_path / NAME
    bad.write_bytes(orbit.read_bytes())
    with netCDF4.Dataset(bad, "a") as nc:
        nc["PRODUCT"][NO2_VAR].units = "molec cm-2"
    with pytest.raises(IngestError, match="units 'molec cm-2', expected 'mol m-2'"):
        read_tropomi_l2(bad)
    (tmp_path / "junk.nc").write_bytes(b"\x89HDF junk")
    with pytest.raises(IngestError, match="not a readable NetCDF-4"):
        read_tropomi_l2(tmp_path / "junk.nc")


@pytest.mark.parametrize("res", [0.1, 0.25, 1.0, 5.0])
def test_binning_equals_scipy_mean(res: float) -> None:
    rng = np.random.default_rng(3)
    n = 50_000
    lat = rng.uniform(-90, 90, n)
    lon = rng.uniform(-180, 180, n)
    grid = Grid(res)
    le, oe = grid_edges(grid)
    # points exactly on edges and on the far edges
    lat[:200] = rng.choice(le, 200)
    lon[200:400] = rng.choice(oe, 200)
    lat[400], lon[400] = 90.0, 180.0
    v = rng.normal(size=n)
    ref = binned_statistic_2d(lat, lon, v, "mean", bins=[le, oe]).statistic[::-1]
    got = bin_mean(lat, lon, v, grid)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    assert np.nanmax(np.abs(got - ref)) == 0.0
    np.testing.assert_array_equal(bin_mean_threads(lat, lon, v, grid), got)


def test_binning_by_hand() -> None:
    grid = Grid(1.0, 0.0, 0.0, 2.0, 2.0)  # 2 x 2 cells, row 0 north
    lat = np.array([1.5, 1.2, 0.5, 0.5, 5.0])
    lon = np.array([0.5, 0.7, 1.5, 1.5, 0.5])
    v = np.array([1.0, 3.0, 10.0, 20.0, 99.0])  # the last is off the grid
    np.testing.assert_array_equal(cell_of(lat, lon, grid), [0, 0, 3, 3, -1])
    got = bin_mean(lat, lon, v, grid)
    np.testing.assert_array_equal(got, [[2.0, np.nan], [np.nan, 15.0]])


def test_dask_stream_to_daily_zarr(orbit: Path, tmp_path: Path) -> None:
    other = make_fixture(tmp_path / NAME.replace("20200303T013547", "20200303T031717"), n_scanline=120,
                         n_ground_pixel=60, seed=2)
    grid = Grid(2.0)
    part = daily_sum_count_dask([orbit, other], grid, scheduler="threads")
    ds = partial_to_dataset(part, grid)
    # equals binning all valid pixels of both orbits at once
    pix = [read_tropomi_l2(p) for p in (orbit, other)]
    keep = [qa_filter(s) for s in pix]
    lat = np.concatenate([s.lat[k] for s, k in zip(pix, keep, strict=True)])
    lon = np.concatenate([s.lon[k] for s, k in zip(pix, keep, strict=True)])
    v = np.concatenate([s.no2[k] for s, k in zip(pix, keep, strict=True)])
    want = bin_mean(lat, lon, v, grid)
    np.testing.assert_allclose(ds["no2"].isel(day=0).values, want, rtol=1e-6, equal_nan=True)
    assert int(ds["n_pixels"].sum()) == v.size
    out = write_daily_zarr([orbit, other], grid, tmp_path / "satellite.zarr", {"source": "test"}, scheduler="threads")
    z = xr.open_zarr(out, consolidated=False)
    assert z.attrs["synthetic"] == "true" and z.sizes["day"] == 1
    np.testing.assert_allclose(z["no2"].isel(day=0).values, want, rtol=1e-6, equal_nan=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
