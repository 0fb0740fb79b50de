from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import h5py
import netCDF4
import numpy as np
import pytest
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import IngestError
from ingest.hdfeos import parse_struct_metadata
from ingest.omi import (
    CLIMATOLOGY_FILE,
    HE5_FIELD,
    MOLEC_CM2_PER_MOL_M2,
    MONTHLY_FILE,
    OMIAdapter,
    read_omno2d,
    read_omno2d_he5,
)
from tests.ingest.fixture_gen.omi import FIELDS, FILL, make_omno2d_he5, synthetic_fields

REPO = Path(__file__).resolve().parents[2]


def test_monthly_and_climatology_on_one_grid(data_dir: Path) -> None:
    m = read_omno2d(data_dir / MONTHLY_FILE)
    c = read_omno2d(data_dir / CLIMATOLOGY_FILE)
    assert m.dims == ("time", "lat", "lon") and m.shape == (7, 38, 50) and c.shape == (12, 38, 50)
    assert m.attrs["grid_resolution"] == 0.25 and (m.attrs["grid_west"], m.attrs["grid_north"]) == (18.5, 51.0)
    assert np.array_equal(m.lat, c.lat) and np.array_equal(m.lon, c.lon) and m.lat[0] > m.lat[-1]
    # the raw file value of the NW corner, Jan 2020, read directly with netCDF4, converted to mol m-2
    with netCDF4.Dataset(data_dir / MONTHLY_FILE) as nc:
        raw = float(nc["no2"][0, 0, 0])
        lat0 = float(nc["latitude"][0])
    assert lat0 > 50.8
    assert float(m[0, 0, 0]) == pytest.approx(raw / MOLEC_CM2_PER_MOL_M2, rel=1e-6)
    assert "stored in molec cm-2" in m.attrs["units_note"]
    assert str(c["time"].values[3])[:7] == "2019-04"


def test_anomaly_shows_spring_2020_drop(data_dir: Path, tmp_path: Path) -> None:
    a = OMIAdapter()
    srcs = [data_dir / MONTHLY_FILE, data_dir / CLIMATOLOGY_FILE]
    ds = a.read(srcs)
    rel = ds["no2_anomaly_relative"].mean(("lat", "lon")).to_series()
    assert rel.loc["2020-04-01"] < -0.08 and rel.loc["2020-01-01"] > 0  # the COVID-19 lockdown month
    diff = ds["no2"] - ds["no2_climatology"] - ds["no2_anomaly"]
    assert float(abs(diff).max()) < 1e-9
    out = a.write(ds, tmp_path / "satellite.zarr", inputs=srcs)
    back = xr.open_zarr(out, consolidated=False)
    assert back["no2"].attrs["units"] == "mol m-2" and "sha256" in back.attrs["provenance"]


def _copy_with(src: Path, dst: Path, **var_attrs: str) -> Path:
    ds = xr.open_dataset(src, decode_times=False)
    ds.load()
    ds.close()
    ds["no2"].attrs.update(var_attrs)
    ds.to_netcdf(dst)
    return dst


def test_bad_input(data_dir: Path, tmp_path: Path) -> None:
    p = _copy_with(data_dir / MONTHLY_FILE, tmp_path / "a.nc", units="DU")
    with pytest.raises(IngestError, match="has units 'DU'"):
        read_omno2d(p)
    ds = xr.open_dataset(data_dir / MONTHLY_FILE, decode_times=False).load()
    ds["crs"].attrs["proj4"] = "+proj=utm +zone=35 +datum=WGS84"
    ds.to_netcdf(tmp_path / "b.nc")
    with pytest.raises(IngestError, match="not geographic lat/lon"):
        read_omno2d(tmp_path / "b.nc")
    bad = tmp_path / "c.nc"
    bad.write_bytes((data_dir / MONTHLY_FILE).read_bytes()[:3000])
    with pytest.raises(IngestError, match="not a readable NetCDF file"):
        read_omno2d(bad)
    ds = xr.open_dataset(data_dir / MONTHLY_FILE, decode_times=False).load()
    dup = ds.assign_coords(time=np.full(ds.sizes["time"], ds["time"].values[0]))
    dup["time"].attrs["units"] = "days since 1970-1-1"
    dup.to_netcdf(tmp_path / "d.nc")
    with pytest.raises(IngestError, match="duplicate month 2020-01"):
        read_omno2d(tmp_path / "d.nc")
    big = ds.copy()
    big["no2"] = big["no2"] * 1e6
    big.to_netcdf(tmp_path / "e.nc")
    with pytest.raises(IngestError, match="implausible; wrong units"):
        read_omno2d(tmp_path / "e.nc")
    out = tmp_path / "never.zarr"
    with pytest.raises(IngestError, match="duplicate month"):
        OMIAdapter().read([data_dir / MONTHLY_FILE, data_dir / MONTHLY_FILE])
    assert not out.exists()


# ------------------------------------------------------------------ daily OMNO2d granules (HDF-EOS5 .he5)

DAY = date(2020, 4, 15)


def _controlled_fields() -> dict[str, np.ndarray]:
    """Synthetic fields with hand-set values on the 0.25 cells 26.0-26.5 E x 44.0-44.5 N (row 0 = south)."""
    f = synthetic_fields(DAY)
    trop = f[HE5_FIELD]
    # rows: lat south edge = -90 + 0.25 i -> 44.0 is i = 536; cols: lon west edge = -180 + 0.25 j -> 26.0 is j = 824
    trop[536:538, 824:826] = np.array([[1.0e15, 2.0e15], [3.0e15, 4.0e15]], dtype=np.float32)
    trop[538, 824] = FILL  # 44.5-44.75 N, 26.0-26.25 E: no data
    trop[538, 825] = 5.0e15
    trop[539, 824:826] = np.array([6.0e15, 7.0e15], dtype=np.float32)  # 44.75-45.0 N
    return f


@pytest.fixture(scope="module")
def granule(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_omno2d_he5(tmp_path_factory.mktemp("omi"), DAY, fields=_controlled_fields())


def test_he5_fixture_has_the_real_layout(granule: Path) -> None:
    assert granule.name.startswith("OMI-Aura_L3-OMNO2d_2020m0415_v003-") and granule.suffix == ".he5"
    with h5py.File(granule, "r") as h5:
        grid = h5["HDFEOS/GRIDS/ColumnAmountNO2"]
        assert sorted(grid["Data Fields"]) == sorted(FIELDS)
        ds = grid["Data Fields/ColumnAmountNO2TropCloudScreened"]
        assert ds.dtype == np.float32 and ds.shape == (720, 1440) and ds.compression == "gzip"
        assert ds.attrs["Units"] == b"molec/cm2" and ds.attrs["_FillValue"][0] == np.float32(-1.2676506e30)
        assert ds.attrs["ScaleFactor"][0] == 1.0 and ds.attrs["Offset"][0] == 0.0 and b"Cloud" in ds.attrs["Title"]
        assert grid.attrs["GridSpacing"] == b"(0.25, 0.25)" and grid.attrs["NumberOfLongitudesInGrid"][0] == 1440
        assert grid.attrs["Projection"] == b"Geographic" and grid.attrs["GridSpan"] == b"(-180,180,-90,90)"
        fa = h5["HDFEOS/ADDITIONAL/FILE_ATTRIBUTES"]
        assert (fa.attrs["GranuleYear"][0], fa.attrs["GranuleMonth"][0], fa.attrs["GranuleDay"][0]) == (2020, 4, 15)
        sm = h5["HDFEOS INFORMATION/StructMetadata.0"]
        assert sm.dtype.itemsize == 32000 and h5["HDFEOS INFORMATION"].attrs["HDFEOSVersion"] == b"HDFEOS_5.1.12"
        assert h5.attrs["carbonmap_synthetic"] == b"true"
        text = sm[()].decode().rstrip("\x00")
    g = parse_struct_metadata(text)["ColumnAmountNO2"]
    assert (g.xdim, g.ydim) == (1440, 720) and not g.north_up and set(g.fields) == set(FIELDS)
    # TAI93 seconds at 0z as OMI counts them (the shipped CDO file shows 536371207.0 for 2010-01-01)
    assert (datetime(2020, 4, 15) - datetime(1993, 1, 1)).total_seconds() + 10 == \
        h5py.File(granule, "r")["HDFEOS/ADDITIONAL/FILE_ATTRIBUTES"].attrs["TAI93At0zOfGranule"][0]


def test_he5_read_converts_flips_and_masks(granule: Path) -> None:
    no2 = read_omno2d_he5(granule)
    assert no2.dims == ("time", "lat", "lon") and no2.shape == (1, 720, 1440) and no2.attrs["synthetic"] == "true"
    assert str(no2["time"].values[0])[:10] == "2020-04-15" and no2["lat"].values[0] == 89.875
    assert float(no2.sel(lat=44.125, lon=26.125)[0]) == pytest.approx(1.0e15 / MOLEC_CM2_PER_MOL_M2)
    assert float(no2.sel(lat=44.375, lon=26.375)[0]) == pytest.approx(4.0e15 / MOLEC_CM2_PER_MOL_M2)
    assert np.isnan(float(no2.sel(lat=44.625, lon=26.125)[0]))  # fill
    raw = h5py.File(granule, "r")[f"HDFEOS/GRIDS/ColumnAmountNO2/Data Fields/{HE5_FIELD}"][...]
    assert np.isnan(no2.values[0]).sum() == (raw == FILL).sum() > 0


def _wband(s: float, n: float) -> float:
    return math.sin(math.radians(n)) - math.sin(math.radians(s))


def test_he5_area_means_by_hand(granule: Path) -> None:
    a = OMIAdapter()
    a.grid = Grid(0.5).subset(26.0, 44.0, 26.5, 45.0)  # two 0.5 cells: 44.5-45 and 44-44.5 N
    ds = a.read([granule])
    s, n = _wband(44.0, 44.25), _wband(44.25, 44.5)
    hand = ((1e15 + 2e15) * s + (3e15 + 4e15) * n) / (2 * s + 2 * n) / MOLEC_CM2_PER_MOL_M2
    assert float(ds["no2"].sel(lat=44.25, lon=26.25)[0]) == pytest.approx(hand, rel=1e-6)
    # the northern cell has one fill quarter (44.5-44.75 N, 26.0-26.25 E): it is left out, not counted as 0
    lo, hi = _wband(44.5, 44.75), _wband(44.75, 45.0)
    hand_n = (5.0e15 * lo + (6.0e15 + 7.0e15) * hi) / (lo + 2 * hi) / MOLEC_CM2_PER_MOL_M2
    assert float(ds["no2"].sel(lat=44.75, lon=26.25)[0]) == pytest.approx(hand_n, rel=1e-6)
    assert float(ds["no2_valid_fraction"].sel(lat=44.75, lon=26.25)[0]) == pytest.approx(
        (lo + 2 * hi) / (2 * lo + 2 * hi), rel=1e-6)
    # 0.1 degree: the cell 26.2-26.3 E x 44.2-44.3 N takes parts of all four hand-set cells
    a.grid = Grid(0.1).subset(26.0, 44.0, 26.5, 44.5)
    fine = a.read([granule])
    s2, n2 = _wband(44.2, 44.25), _wband(44.25, 44.3)
    hand2 = ((1e15 + 2e15) * s2 + (3e15 + 4e15) * n2) / (2 * s2 + 2 * n2) / MOLEC_CM2_PER_MOL_M2
    assert float(fine["no2"].sel(lat=44.25, lon=26.25, method="nearest")[0]) == pytest.approx(hand2, rel=1e-6)
    assert fine["no2"].dtype == np.float32 and fine["no2"].attrs["grid_resolution"] == 0.1


def test_he5_with_the_shipped_climatology(granule: Path, data_dir: Path) -> None:
    ds = OMIAdapter().read([granule, data_dir / CLIMATOLOGY_FILE])
    assert ds.sizes == {"time": 1, "lat": 38, "lon": 50}  # on the climatology's Romania box
    assert ds["no2"].attrs["source_variable"] == "ColumnAmountNO2CloudScreened"  # like with like
    diff = ds["no2"] - ds["no2_climatology"] - ds["no2_anomaly"]
    assert float(abs(diff).max()) < 1e-9 and "no2_valid_fraction" in ds


def test_he5_cli_writes_zarr_with_provenance(granule: Path, tmp_path: Path) -> None:
    out = tmp_path / "omi.zarr"
    r = _cli("ingest", "omi", "--file", str(granule), "--out", str(out))
    assert r.returncode == 0, r.stderr
    back = xr.open_zarr(out, consolidated=False)
    assert back["no2"].dims == ("time", "lat", "lon") and back.sizes["lat"] == 720
    assert back["no2"].attrs["units"] == "mol m-2" and back.attrs["synthetic"] == "true"
    assert granule.name in back.attrs["provenance"] and "sha256" in back.attrs["provenance"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "carbonmap", *args], check=False, cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def _mutate(src: Path, dst_dir: Path, fn) -> Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    dst = dst_dir / src.name
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as h5:
        fn(h5)
    return dst


def test_he5_bad_input(granule: Path, tmp_path: Path, data_dir: Path) -> None:
    df = "HDFEOS/GRIDS/ColumnAmountNO2/Data Fields"
    cases = [
        (lambda h5: h5[df].__delitem__(HE5_FIELD), "no ColumnAmountNO2TropCloudScreened"),
        (lambda h5: h5[f"{df}/{HE5_FIELD}"].attrs.modify("Units", np.bytes_(b"DU")), "has Units 'DU'"),
        (lambda h5: h5["HDFEOS/GRIDS/ColumnAmountNO2"].attrs.modify("GridSpacing", np.bytes_(b"(0.5, 0.5)")),
         "OMNO2d is 720 x 1440 cells of 0.25"),
        (lambda h5: (h5[df].__delitem__(HE5_FIELD), h5[df].create_dataset(HE5_FIELD, data=np.ones((360, 720),
                                                                                                   np.float32))),
         r"has shape \(360, 720\) but the grid attributes say 720 x 1440"),
        (lambda h5: h5[f"{df}/{HE5_FIELD}"].attrs.modify("ScaleFactor", np.array([1e6])), "implausible"),
        (lambda h5: h5["HDFEOS/ADDITIONAL/FILE_ATTRIBUTES"].attrs.modify("GranuleDay", np.array([16], np.int32)),
         "the name says 2020-04-15 but FILE_ATTRIBUTES say 2020-04-16"),
        (lambda h5: h5.__delitem__("HDFEOS/GRIDS"), "not a OMNO2d granule"),
    ]
    for i, (fn, msg) in enumerate(cases):
        with pytest.raises(IngestError, match=msg):  # header checks in read(), pixel checks when computed
            OMIAdapter().read([_mutate(granule, tmp_path / str(i), fn)]).load()
    cut = tmp_path / "cut" / granule.name
    cut.parent.mkdir()
    cut.write_bytes(granule.read_bytes()[: granule.stat().st_size // 2])
    with pytest.raises(IngestError, match="not a readable HDF-EOS5/HDF5 file|cannot be read"):
        OMIAdapter().read([cut]).load()
    # the CLI refuses it and writes nothing
    out = tmp_path / "never.zarr"
    r = _cli("ingest", "omi", "--file", str(cut), "--out", str(out))
    assert r.returncode == 1 and granule.name in r.stderr + r.stdout and not out.exists()
    with pytest.raises(IngestError, match="not both"):
        OMIAdapter().read([granule, data_dir / MONTHLY_FILE])


def test_download_delivers_what_the_reader_reads(granule: Path, publisher, set_settings, tmp_cache: Path) -> None:
    """CMR search + Earthdata download of a granule (served on 127.0.0.1) -> a file read_omno2d_he5 accepts."""
    import hashlib
    import json

    base, routes, _ = publisher
    body = granule.read_bytes()
    url = f"{base}/data/Aura_OMI_Level3/OMNO2d.003/2020/{granule.name}"
    item = {"meta": {"concept-id": "G1-GES_DISC", "native-id": f"OMNO2d.003:{granule.name}"},
            "umm": {"GranuleUR": f"OMNO2d.003:{granule.name}", "RelatedUrls": [{"URL": url, "Type": "GET DATA"}],
                    "DataGranule": {"ArchiveAndDistributionInformation": [
                        {"Name": granule.name, "SizeInBytes": len(body),
                         "Checksum": {"Value": hashlib.md5(body).hexdigest(), "Algorithm": "MD5"}}]}}}
    routes[("GET", "/search/granules.umm_json")] = lambda q, h, b: (
        200, "application/json", json.dumps({"hits": 1, "items": [item]}).encode())
    routes[("GET", f"/data/Aura_OMI_Level3/OMNO2d.003/2020/{granule.name}")] = lambda q, h, b: (
        (200, "application/octet-stream", body) if h.get("Authorization") == "Bearer tok" else (401, "text/plain", b""))
    set_settings(cmr_url=f"{base}/search", earthdata_token="tok")
    a = OMIAdapter()
    paths = a.download(DAY, DAY)
    assert [p.name for p in paths] == [granule.name]
    ds = a.read(paths)
    assert str(ds["time"].values[0])[:10] == "2020-04-15" and int(np.isfinite(ds["no2"]).sum()) > 100_000


# ------------------------------------------------------------------ many daily granules through Dask

FIRST = date(2020, 3, 1)
SMALL = Grid(0.5).subset(20.0, 40.0, 30.0, 48.0)  # 16 x 20 cells: each day's regridded result is small


@pytest.fixture(scope="module")
def days20(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """20 consecutive daily granules (real layout; only the two fields read are written, to keep this fast).

    Each day is the synthetic field shifted east by 3 degrees per day, so every day differs (plumes and
    orbit-gap stripes move).
    """
    from datetime import timedelta

    base = synthetic_fields(FIRST)
    keep = (HE5_FIELD, "ColumnAmountNO2CloudScreened")  # the tropospheric and the climatology's total column
    d = tmp_path_factory.mktemp("omi20")
    return [make_omno2d_he5(d, FIRST + timedelta(days=i), fields={k: np.roll(base[k], 12 * i, axis=1) for k in keep})
            for i in range(20)]


def _small_adapter(chunk_days: int = 4) -> OMIAdapter:
    a = OMIAdapter()
    a.grid = SMALL
    a.time_chunk_days = chunk_days
    return a


def _granule_keys(ds: xr.Dataset) -> list[str]:
    graph = ds["no2"].data.__dask_graph__()
    return sorted(k for k in graph if isinstance(k, str) and k.startswith("omno2d-granule-"))


def test_dask_path_equals_sequential_reads_exactly(days20: list[Path], tmp_path: Path) -> None:
    from ingest.omi import to_grid

    paths = days20[:7]
    a = _small_adapter(chunk_days=3)
    ds = a.read(paths[::-1])  # given out of order: sorted by the granules' own dates
    assert ds["no2"].chunks is not None and ds["no2"].data.chunks[0] == (3, 3, 1)
    seq = [to_grid(read_omno2d_he5(p), SMALL) for p in paths]  # one file at a time, no Dask
    want_no2 = np.concatenate([s["no2"].values for s in seq])
    want_frac = np.concatenate([s["no2_valid_fraction"].values for s in seq])
    assert [str(t)[:10] for t in ds["time"].values] == [f"2020-03-0{i}" for i in range(1, 8)]
    got = ds.load()
    assert np.array_equal(got["no2"].values, want_no2, equal_nan=True)
    assert np.array_equal(got["no2_valid_fraction"].values, want_frac, equal_nan=True)
    assert np.isfinite(want_no2).sum() > 1000 and not np.array_equal(want_no2[0], want_no2[1], equal_nan=True)
    # and the same numbers after the streamed write
    out = a.write(a.read(paths), tmp_path / "omi.zarr", inputs=paths)
    back = xr.open_zarr(out, consolidated=False)
    assert np.array_equal(back["no2"].values, want_no2, equal_nan=True)
    assert back["no2"].attrs["units"] == "mol m-2" and back.attrs["synthetic"] == "true"
    assert all(p.name in back.attrs["provenance"] for p in paths)


def test_stream_has_one_task_per_file_and_writes_chunk_by_chunk(days20: list[Path], tmp_path: Path) -> None:
    """Bounded memory, checked on the structure (no timing): one task per granule, each granule's result
    released once its time chunk is assembled, and a Zarr store written in 4-day chunks."""
    import zarr
    from dask.callbacks import Callback

    a = _small_adapter(chunk_days=4)
    ds = a.read(days20)
    keys = _granule_keys(ds)
    assert len(keys) == 20 and {k.split("-")[2] for k in keys} == {f"202003{i:02d}" for i in range(1, 21)}
    assert ds["no2"].data.chunks[0] == (4, 4, 4, 4, 4)

    day_shape = (2, 1, *SMALL.shape)  # what one granule task returns: [no2, valid fraction] of its day

    class Live(Callback):
        """Records the granule tasks run and the most one-day results the scheduler held at once."""

        def __init__(self) -> None:
            super().__init__()
            self.peak, self.ran = 0, []

        def _posttask(self, key: object, result: object, dsk: object, state: dict, worker_id: object) -> None:
            name = str(key[0] if isinstance(key, tuple) else key)
            if "omno2d-granule" in name:  # Dask may fuse the task into its from_delayed key
                self.ran.append(key)
            held = sum(1 for v in state["cache"].values() if getattr(v, "shape", None) == day_shape)
            self.peak = max(self.peak, held)

    out = tmp_path / "omi.zarr"
    with Live() as live:
        a.write(ds, out, inputs=days20)
    assert len(live.ran) == 20 == len(set(live.ran))  # every granule read exactly once
    assert 4 <= live.peak <= 12, live.peak  # one or two 4-day chunks (+ threads), never all 20 days
    z = zarr.open_group(out, mode="r")
    assert z["no2"].chunks == (4, 16, 20) and z["no2_valid_fraction"].chunks == (4, 16, 20)
    assert sorted(p.name for p in (out / "no2" / "c").iterdir()) == ["0", "1", "2", "3", "4"]  # 5 time chunks
    back = xr.open_zarr(out, consolidated=False)
    assert back.sizes == {"time": 20, "lat": 16, "lon": 20} and int(np.isfinite(back["no2"]).sum()) > 3000


def _corrupt_chunk(src: Path, dst: Path, dataset: str) -> Path:
    """Copy ``src`` to ``dst`` and overwrite the compressed bytes of the first chunk of ``dataset``."""
    shutil.copy(src, dst)
    with h5py.File(dst, "r") as h5:
        info = h5[dataset].id.get_chunk_info(0)
    with open(dst, "r+b") as f:
        f.seek(info.byte_offset + 2)  # keep the zlib header; the deflate stream and its checksum are garbage
        f.write(np.random.default_rng(0).bytes(info.size - 2))
    return dst


def test_one_corrupt_granule_among_several_fails_naming_it_and_writes_nothing(days20: list[Path],
                                                                              tmp_path: Path) -> None:
    good = days20[:5]
    d = tmp_path / "in"
    d.mkdir()
    bad = _corrupt_chunk(days20[5], d / days20[5].name, f"HDFEOS/GRIDS/ColumnAmountNO2/Data Fields/{HE5_FIELD}")
    a = _small_adapter(chunk_days=2)
    out = tmp_path / "omi.zarr"
    a.write(a.read(good), out, inputs=good)  # an earlier output that a failed write must leave alone
    ds = a.read([*good[:3], bad, *good[3:]])  # the header is fine: the damage shows when the pixels are read
    with pytest.raises(IngestError, match=re.escape(bad.name)) as err:
        a.write(ds, out, inputs=[*good, bad])
    assert "cannot be read" in str(err.value)
    assert xr.open_zarr(out, consolidated=False).sizes["time"] == 5  # the earlier output, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "omi.zarr"]  # no temporary store left behind
    fresh = tmp_path / "fresh.zarr"
    with pytest.raises(IngestError, match=re.escape(bad.name)):
        a.write(a.read([bad, *good]), fresh, inputs=[bad, *good])
    assert not fresh.exists()
    # a truncated granule among good ones is refused by read() already, naming it
    cut = d / days20[6].name
    cut.write_bytes(days20[6].read_bytes()[:4000])
    with pytest.raises(IngestError, match=re.escape(cut.name)):
        a.read([*good, cut])
    # two granules of one day are refused, naming both
    with pytest.raises(IngestError, match="two granules of the same day 2020-03-06"):
        a.read([days20[5], bad])


def test_streamed_days_with_the_climatology_stay_lazy(days20: list[Path], data_dir: Path, tmp_path: Path) -> None:
    a = OMIAdapter()
    a.time_chunk_days = 4
    ds = a.read([*days20[:6], data_dir / CLIMATOLOGY_FILE])  # field = the climatology's (total column)
    for v in ("no2", "no2_climatology", "no2_anomaly", "no2_anomaly_relative", "no2_valid_fraction"):
        assert ds[v].chunks is not None and ds[v].data.chunks[0] == (4, 2), v
    out = a.write(ds, tmp_path / "omi.zarr", inputs=[*days20[:6], data_dir / CLIMATOLOGY_FILE])
    back = xr.open_zarr(out, consolidated=False).load()
    march = read_omno2d(data_dir / CLIMATOLOGY_FILE).sel(time="2019-03").values[0]
    assert np.array_equal(back["no2_climatology"].values[3], march, equal_nan=True)
    assert float(abs(back["no2"] - back["no2_climatology"] - back["no2_anomaly"]).max()) < 1e-9
