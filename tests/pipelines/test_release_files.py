"""Release files (issue #19): per-month daily NetCDF, monthly means and annual totals (NetCDF + COG), the national
daily table (CSV + Parquet), a manifest with sha256; idempotent, resumable, and an update rewrites only the
months it changed (the rest are hard links to the parent's files)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr

from carbonmap import contract as cc
from carbonmap.storage.release_files import files_dir
from pipelines import release_files as rf
from pipelines import store
from tests.api.routes.live_server import write_random_cube


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5 degree random cube over 2023-12-20..2024-02-07 (3 months in 2 years), release r0001."""
    path = write_random_cube(tmp_path_factory.mktemp("rf") / "rf.zarr", start="2023-12-20", days=50,
                             dataset_id="rf-test")
    return Path(path).resolve()


@pytest.fixture(scope="module")
def written(cube: Path) -> list[rf.FileEntry]:
    calls: list[tuple[int, int, str]] = []
    out = rf.write_release_files(cube, "r0001", daily_months=0, progress=lambda d, t, m: calls.append((d, t, m)))
    assert calls and calls[-1][0] == calls[-1][1] == len(out)
    return out


def test_every_file_listed_exists_with_its_size_and_sha256(cube: Path, written: list[rf.FileEntry]) -> None:
    names = [e.name for e in written]
    assert names == [t.name for t in rf.targets("rf-test", "r0001", pd.date_range("2023-12-20", periods=50))]
    assert {e.kind for e in written} == set(rf.KINDS)
    assert sum(e.kind == "daily" for e in written) == 3 and sum(e.kind == "annual-total" for e in written) == 4
    assert "rf-test_2024-01_daily_r0001.nc" in names and "rf-test_2023_annual-total_r0001.tif" in names
    files = files_dir(cube)
    assert sorted(p.name for p in files.iterdir()) == sorted([*names, rf.FILES_MANIFEST])
    for e in written:
        data = (files / e.name).read_bytes()
        assert len(data) == e.size and hashlib.sha256(data).hexdigest() == e.sha256
    assert rf.read_manifest(cube) == {e.name: e for e in written}
    assert json.loads((files / rf.FILES_MANIFEST).read_text())["release"] == "r0001"


def test_daily_netcdf_is_the_cube_month_with_cf_metadata(cube: Path, written: list[rf.FileEntry]) -> None:
    src = xr.open_zarr(cube, chunks=None)
    with xr.open_dataset(files_dir(cube) / "rf-test_2024-01_daily_r0001.nc") as ds:
        jan = src.sel(time=slice("2024-01-01", "2024-01-31"))
        assert ds.sizes["time"] == 31 and ds[cc.EMISSIONS_VAR].dtype == np.float32
        np.testing.assert_array_equal(ds[cc.EMISSIONS_VAR].values, jan[cc.EMISSIONS_VAR].values)
        np.testing.assert_array_equal(ds[cc.UNCERTAINTY_VAR].values, jan[cc.UNCERTAINTY_VAR].values)
        assert ds[cc.EMISSIONS_VAR].encoding["zlib"] and ds[cc.EMISSIONS_VAR].encoding["shuffle"]
        assert ds[cc.EMISSIONS_VAR].encoding["complevel"] == 1
        assert "lat_bnds" in ds.variables or "lat_bounds" in ds.variables or "bounds" in ds["lat"].attrs
        assert ds.attrs["time_coverage_start"] == "2024-01-01" and ds.attrs["time_coverage_end"] == "2024-01-31"
        assert "r0001" in json.dumps({k: str(v) for k, v in ds.attrs.items()})


def test_monthly_mean_and_annual_total_grids(cube: Path, written: list[rf.FileEntry]) -> None:
    src = xr.open_zarr(cube, chunks=None)[cc.EMISSIONS_VAR]
    files = files_dir(cube)
    want = src.sel(time=slice("2024-01-01", "2024-01-31")).values.astype(np.float64).mean(axis=0)
    with xr.open_dataset(files / "rf-test_2024-01_monthly-mean_r0001.nc") as ds:
        np.testing.assert_allclose(ds[cc.EMISSIONS_VAR].values, want, rtol=1e-6)
        assert ds[cc.EMISSIONS_VAR].attrs["units"] == cc.EMISSIONS_UNITS
    year = src.sel(time=slice("2024-01-01", "2024-12-31")).values.astype(np.float64).sum(axis=0)
    with xr.open_dataset(files / "rf-test_2024_annual-total_r0001.nc") as ds:
        np.testing.assert_allclose(ds[cc.EMISSIONS_VAR].values, year, rtol=1e-5)
        assert int(ds.attrs["carbonmap_days"]) == 38 and ds.attrs["time_coverage_end"] == "2024-02-07"
    with rasterio.open(files / "rf-test_2024_annual-total_r0001.tif") as tif:
        assert tif.count == 8 and tif.crs.to_epsg() == 4326 and tif.descriptions[0] == "total"
        assert tif.descriptions[1:] == cc.SECTORS and tif.profile["compress"].lower() == "deflate"
        assert tif.overviews(1) == [] or tif.overviews(1)[0] == 2  # tiny grid: few or no overviews
        np.testing.assert_allclose(tif.read(1), year.sum(axis=0), rtol=1e-5)
        np.testing.assert_allclose(tif.read(3), year[1], rtol=1e-5)
        assert tif.bounds.left == -180 and tif.bounds.top == 90


def test_national_table_csv_and_parquet(cube: Path, written: list[rf.FileEntry]) -> None:
    files = files_dir(cube)
    csv = pd.read_csv(io.BytesIO(gzip.decompress((files / "rf-test_national-daily_r0001.csv.gz").read_bytes())))
    pq = pd.read_parquet(files / "rf-test_national-daily_r0001.parquet")
    assert list(csv.columns) == list(pq.columns) == ["date", "country", "sector", "emissions_t", "uncertainty",
                                                      "evidence"]
    assert len(csv) == len(pq) == 50 * len(cc.SECTORS)
    nat = xr.open_zarr(cube, chunks=None)[cc.NATIONAL_VAR]
    row = csv[(csv["date"] == "2024-01-05") & (csv["sector"] == "power")].iloc[0]
    assert row["emissions_t"] == pytest.approx(float(nat.sel(time="2024-01-05", sector="power", country="AAA")) / 1000,
                                               rel=1e-9)
    np.testing.assert_allclose(pq["emissions_t"].to_numpy(), csv["emissions_t"].to_numpy(), rtol=1e-9)


def test_rerun_rewrites_nothing_and_a_damaged_file_is_rewritten(cube: Path, written: list[rf.FileEntry]) -> None:
    files = files_dir(cube)
    before = {e.name: os.stat(files / e.name).st_ino for e in written}
    again = rf.write_release_files(cube, "r0001", daily_months=0)
    assert again == written
    assert {e.name: os.stat(files / e.name).st_ino for e in again} == before  # not rewritten
    victim = files / "rf-test_2024-02_daily_r0001.nc"
    victim.write_bytes(victim.read_bytes()[:1000])  # a truncated file
    (files / "stray.tmp").write_text("junk")
    fixed = rf.write_release_files(cube, "r0001", daily_months=0)
    assert [e.name for e in fixed] == [e.name for e in written]
    assert [e for e in fixed if e.name != victim.name] == [e for e in written if e.name != victim.name]
    assert hashlib.sha256(victim.read_bytes()).hexdigest() == rf.read_manifest(cube)[victim.name].sha256
    changed = {e.name for e in fixed if os.stat(files / e.name).st_ino != before[e.name]}
    assert changed == {victim.name}
    assert not (files / "stray.tmp").exists()


def test_an_update_rewrites_only_the_changed_months(tmp_path: Path, cube: Path, written: list[rf.FileEntry]) -> None:
    child = write_random_cube(tmp_path / "child.zarr", start="2023-12-20", days=52, dataset_id="rf-test")
    child = Path(child).resolve()
    added = [dt.date(2024, 2, 8), dt.date(2024, 2, 9)]
    got = rf.write_release_files(child, "r0002", parent=cube, changed_days=added, daily_months=0)
    by_kind = {(e.kind, e.period, e.media_type): e for e in got}
    jan = by_kind[("daily", "2024-01", rf.NETCDF)]
    assert jan.name == "rf-test_2024-01_daily_r0001.nc" and jan.written_in == "r0001"
    assert os.stat(files_dir(child) / jan.name).st_ino == os.stat(files_dir(cube) / jan.name).st_ino
    assert by_kind[("annual-total", "2023", rf.COG)].written_in == "r0001"
    for key in (("daily", "2024-02", rf.NETCDF), ("monthly-mean", "2024-02", rf.COG), ("annual-total", "2024", rf.NETCDF)):
        assert by_kind[key].written_in == "r0002" and by_kind[key].name.endswith("_r0002" + Path(by_kind[key].name).suffix)
    nat = [e for e in got if e.kind == "national-daily"]
    assert {e.written_in for e in nat} == {"r0002"} and nat[0].period == "2023-12-20/2024-02-09"
    with xr.open_dataset(files_dir(child) / "rf-test_2024-02_daily_r0002.nc") as ds:
        assert ds.sizes["time"] == 9


def test_daily_months_and_kinds_choose_the_set(tmp_path: Path) -> None:
    path = Path(write_random_cube(tmp_path / "k.zarr", start="2024-01-30", days=5, dataset_id="k")).resolve()
    got = rf.write_release_files(path, "r0001", daily_months=1, kinds=("daily", "national-daily"))
    assert [e.name for e in got] == ["k_2024-02_daily_r0001.nc", "k_national-daily_r0001.csv.gz",
                                     "k_national-daily_r0001.parquet"]
    with pytest.raises(ValueError, match="unknown release file kind"):
        rf.write_release_files(path, "r0001", kinds=("weekly",))


def test_file_path_serves_only_listed_names(cube: Path, written: list[rf.FileEntry]) -> None:
    from carbonmap.errors import NotFound
    from carbonmap.storage import release_files as files_reader

    where, entry = files_reader.file_location(cube, written[0].name)
    assert where.local_path == files_dir(cube) and entry == written[0] and where.exists(entry.name)
    for bad in ("../zarr.json", "files.json", ".hidden", "a/b.nc", "nope.nc"):
        with pytest.raises(NotFound, match="its files are"):
            files_reader.file_location(cube, bad)


def test_build_and_update_publish_release_files(tmp_path: Path) -> None:
    """The real pipeline (10 degree grid, a few days): the build writes the files, an update links the months it
    did not change and writes the rest."""
    from pipelines.build import BuildRequest, build
    from pipelines.inputs import load_inputs
    from pipelines.update import UpdateRequest, update

    inputs = load_inputs(cc.Grid(10.0))
    path = tmp_path / "b.zarr"
    build(BuildRequest(dt.date(2024, 2, 27), dt.date(2024, 3, 2), 10.0, path, "b-10deg"), inputs=inputs)
    r1 = store.releases_dir(path) / "r0001"
    first = rf.read_manifest(r1)
    # the default (CARBONMAP_RELEASE_DAILY_MONTHS=0): a daily NetCDF for every month
    assert "b-10deg_2024-03_daily_r0001.nc" in first and "b-10deg_2024-02_daily_r0001.nc" in first
    assert "b-10deg_2024-02_monthly-mean_r0001.tif" in first
    assert all((files_dir(r1) / n).is_file() for n in first)
    assert "release_files.write_release_files" in store.read_manifest(r1)["layouts"]
    update(UpdateRequest(path, dt.date(2024, 3, 4)), inputs=inputs)
    r2 = store.releases_dir(path) / "r0002"
    second = rf.read_manifest(r2)
    assert "b-10deg_2024-02_monthly-mean_r0001.nc" in second  # February unchanged: linked, same name
    assert "b-10deg_2024-02_daily_r0001.nc" in second
    assert (files_dir(r2) / "b-10deg_2024-02_daily_r0001.nc").stat().st_ino == \
        (files_dir(r1) / "b-10deg_2024-02_daily_r0001.nc").stat().st_ino  # a hard link, not a rewrite
    assert "b-10deg_2024-03_daily_r0002.nc" in second and "b-10deg_2024-03_daily_r0001.nc" not in second
    assert all((files_dir(r2) / n).is_file() for n in second)
    assert (files_dir(r1) / "b-10deg_2024-03_daily_r0001.nc").is_file()  # the parent is untouched


def test_daily_netcdf_direct_chunks_with_partial_edge_tiles(tmp_path: Path) -> None:
    """2 degree grid: the 45 degree NetCDF tile is 22 cells, so the last tile of each axis is partial; the
    chunks written by ISA-L + HDF5 direct chunk write read back exactly through netCDF4 and h5py."""
    import h5py
    import netCDF4

    path = write_random_cube(tmp_path / "two.zarr", resolution=2.0, start="2024-03-30", days=4, dataset_id="two")
    cube = Path(path).resolve()
    out = tmp_path / "two-daily.nc"
    total = rf.write_daily_month(cube, out, "2024-03", "r0001")
    src = xr.open_zarr(cube, chunks=None).sel(time=slice("2024-03-30", "2024-03-31"))
    with netCDF4.Dataset(out) as nc:
        em = nc[cc.EMISSIONS_VAR]
        assert em.chunking() == [1, 1, 22, 22] and em.filters()["zlib"] and em.filters()["shuffle"]
        np.testing.assert_array_equal(em[:], src[cc.EMISSIONS_VAR].values)
        np.testing.assert_array_equal(nc[cc.UNCERTAINTY_VAR][:], src[cc.UNCERTAINTY_VAR].values)
    np.testing.assert_allclose(total, src[cc.EMISSIONS_VAR].values.astype(np.float64).sum(axis=0), rtol=1e-12)
    with h5py.File(out) as h5:  # every chunk stored, compressed (random data: shuffle + deflate still shrinks it)
        ds = h5[cc.EMISSIONS_VAR]
        assert ds.id.get_num_chunks() == 2 * 7 * 5 * 9
        assert ds.id.get_storage_size() < ds.size * 4


def test_deflate_chunk_is_the_shuffle_and_zlib_pipeline() -> None:
    import zlib

    values = np.arange(12, dtype=np.float32).reshape(3, 4) * 1.5
    raw = zlib.decompress(rf.deflate_chunk(values))
    unshuffled = np.frombuffer(raw, dtype=np.uint8).reshape(4, -1).T.copy().view("<f4").reshape(3, 4)
    np.testing.assert_array_equal(unshuffled, values)
