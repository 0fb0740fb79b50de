from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import h5py
import numpy as np
import pytest
import rasterio
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import IngestError
from ingest.hdfeos import parse_struct_metadata
from ingest.viirs import (
    PIXEL_DEG,
    VNP46A2_BAND,
    VNP46A2_FILL,
    VIIRSAdapter,
    read_night_lights,
    read_vnp46a2_h5,
    tile_origin,
    to_grid,
)
from tests.ingest.fixture_gen.viirs import (
    DATA_FIELDS,
    LAYERS,
    make_vnp46a2_fixture,
    make_vnp46a2_h5,
    synthetic_layers,
)

REPO = Path(__file__).resolve().parents[2]

def _row_weights(lat_centres: np.ndarray) -> np.ndarray:
    """sin(north edge) - sin(south edge) of 15 arc-second pixel rows: their relative areas."""
    return np.sin(np.radians(lat_centres + PIXEL_DEG / 2)) - np.sin(np.radians(lat_centres - PIXEL_DEG / 2))


SIZE = 480  # a corner of a tile (the real tile is 2400 x 2400); same layout, faster test


@pytest.fixture(scope="module")
def tile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vnp46a2_fixture(tmp_path_factory.mktemp("viirs"), size=SIZE)


def test_fixture_has_the_real_layout(tile: Path) -> None:
    with rasterio.open(tile) as src:
        assert src.crs.to_epsg() == 4326 and src.dtypes[0] == "uint16" and src.nodata == VNP46A2_FILL
        assert src.scales[0] == pytest.approx(0.1) and src.descriptions[0] == VNP46A2_BAND
        assert (src.transform.c, src.transform.f) == tile_origin(18, 4) == (0.0, 50.0)
        assert src.transform.a == pytest.approx(PIXEL_DEG) and src.tags()["carbonmap_synthetic"] == "true"
        dn = src.read(1)
    rad = read_night_lights(tile)
    ok = dn != VNP46A2_FILL
    assert np.isnan(rad.values[~ok]).all() and ok.sum() == np.isfinite(rad.values).sum()
    assert np.allclose(rad.values[ok], dn[ok] * 0.1, rtol=1e-6)  # scale factor applied
    assert rad.attrs["synthetic"] == "true" and float(rad.lat[0]) == pytest.approx(50 - PIXEL_DEG / 2)


def test_to_grid_is_the_area_weighted_mean_of_valid_pixels(tile: Path) -> None:
    rad = read_night_lights(tile)
    g = Grid(0.5).subset(0, 48, 2, 50)
    m = to_grid(rad, g)
    block = rad.values[120:240, 0:120].astype(np.float64)  # 0.5 degree = 120 pixels; second row, first column
    w = _row_weights(rad.lat.values[120:240])[:, None] * np.isfinite(block)
    assert float(m[1, 0]) == pytest.approx(np.nansum(block * w) / w.sum(), rel=1e-6)
    assert float(m[1, 0]) == pytest.approx(np.nanmean(block), rel=1e-2)  # cos(lat) varies ~1 % over 0.5 degree


def test_adapter_writes(tile: Path, tmp_path: Path) -> None:
    a = VIIRSAdapter()
    ds = a.read([tile])
    assert ds.sizes == {"lat": 20, "lon": 20} and ds.attrs["synthetic"] == "true"
    out = a.write(ds, tmp_path / "night_lights.zarr", inputs=[tile])
    assert "sha256" in xr.open_zarr(out, consolidated=False).attrs["provenance"]


def _write(path: Path, data: np.ndarray, **profile) -> Path:
    base = {"driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1, "dtype": data.dtype.name,
            "crs": "EPSG:4326", "transform": rasterio.transform.from_origin(0, 50, PIXEL_DEG, PIXEL_DEG)}
    base.update(profile)
    with rasterio.open(path, "w", **base) as dst:
        dst.write(data, 1)
    return path


def test_bad_input(tmp_path: Path) -> None:
    d = np.ones((24, 24), dtype=np.uint16)
    with pytest.raises(IngestError, match="VIIRS DNB grids are EPSG:4326"):
        read_night_lights(_write(tmp_path / "a.tif", d, crs="EPSG:3857",
                                 transform=rasterio.transform.from_origin(0, 0, 500, 500)))
    with pytest.raises(IngestError, match="VIIRS DNB L3 pixels are 15 arc-seconds"):
        read_night_lights(_write(tmp_path / "b.tif", d, transform=rasterio.transform.from_origin(0, 50, 0.01, 0.01)))
    with pytest.raises(IngestError, match="wrong scale factor"):
        read_night_lights(_write(tmp_path / "c.tif", np.full((24, 24), 3e5, dtype=np.float32)))
    # VNL annual composite layout: float32, scale 1, negatives are missing
    vnl = np.full((24, 24), 2.5, dtype=np.float32)
    vnl[0, 0] = -1.0
    r = read_night_lights(_write(tmp_path / "VNL_v21_npp_2021_global.average_masked.dat.tif", vnl))
    assert np.isnan(r.values[0, 0]) and float(r.values[1, 1]) == 2.5
    corrupt = tmp_path / "d.tif"
    corrupt.write_bytes(b"II*\x00garbage")
    with pytest.raises(IngestError, match="not a readable GeoTIFF"):
        read_night_lights(corrupt)


# ------------------------------------------------------------------ raw VNP46A2 tiles (HDF-EOS5 .h5)

DAY = date(2022, 4, 7)


@pytest.fixture(scope="module")
def h5tile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vnp46a2_h5(tmp_path_factory.mktemp("vnp46a2"), day=DAY, h=18, v=4)


@pytest.fixture(scope="module")
def raw(h5tile: Path) -> dict[str, np.ndarray]:
    with h5py.File(h5tile, "r") as h5:
        return {k: h5[f"{DATA_FIELDS}/{k}"][...] for k in ("DNB_BRDF-Corrected_NTL", "Mandatory_Quality_Flag")}


def test_h5_fixture_has_the_real_layout(h5tile: Path) -> None:
    assert h5tile.name.startswith("VNP46A2.A2022097.h18v04.001.") and h5tile.suffix == ".h5"
    with h5py.File(h5tile, "r") as h5:
        df = h5[DATA_FIELDS]
        assert list(df) == sorted(name for name, *_ in LAYERS)
        for name, dtype, fill, scale, units, *_ in LAYERS:
            ds = df[name]
            assert ds.dtype == dtype and ds.shape == (2400, 2400), name
            assert ds.attrs["_FillValue"][0] == fill and ds.attrs["scale_factor"][0] == scale
            assert ds.attrs["units"] == units.encode() and ds.attrs["add_offset"][0] == 0.0
        assert df["DNB_BRDF-Corrected_NTL"].attrs["units"] == b"nW/(cm2 sr)"
        assert set(np.unique(df["Mandatory_Quality_Flag"][...])) == {0, 1, 2, 255}
        assert (h5.attrs["WestBoundingCoord"][0], h5.attrs["NorthBoundingCoord"][0]) == tile_origin(18, 4)
        assert (h5.attrs["EastBoundingCoord"][0], h5.attrs["SouthBoundingCoord"][0]) == (10.0, 40.0)
        assert h5.attrs["ShortName"] == b"VNP46A2" and h5.attrs["carbonmap_synthetic"] == b"true"
        text = h5["HDFEOS INFORMATION/StructMetadata.0"][()].decode().rstrip("\x00")
    g = parse_struct_metadata(text)["VNP_Grid_DNB"]
    assert (g.xdim, g.ydim) == (2400, 2400) and g.north_up and g.bounds_deg() == (0.0, 40.0, 10.0, 50.0)


def test_h5_read_scales_and_masks_by_quality(h5tile: Path, raw: dict[str, np.ndarray]) -> None:
    rad = read_vnp46a2_h5(h5tile)
    assert rad.dims == ("time", "lat", "lon") and rad.shape == (1, 2400, 2400) and rad.attrs["synthetic"] == "true"
    assert str(rad["time"].values[0])[:10] == "2022-04-07" and rad.attrs["units"] == "nW cm-2 sr-1"
    v, dn, qf = rad.values[0], raw["DNB_BRDF-Corrected_NTL"], raw["Mandatory_Quality_Flag"]
    keep = (qf <= 1) & (dn != VNP46A2_FILL)
    assert np.isnan(v[~keep]).all() and np.isfinite(v[keep]).all()
    assert (qf == 2).sum() > 0 and (qf == 1).sum() > 0 and (qf == 255).sum() > 0
    assert np.allclose(v[keep], dn[keep] * 0.1, rtol=1e-6)  # scale_factor applied; MQF 1 kept
    assert float(rad.lat[0]) == pytest.approx(50 - PIXEL_DEG / 2) and float(rad.lon[0]) == pytest.approx(PIXEL_DEG / 2)


def test_h5_area_mean_by_hand(h5tile: Path, raw: dict[str, np.ndarray]) -> None:
    ds = VIIRSAdapter().read([h5tile])
    assert ds.sizes == {"time": 1, "lat": 100, "lon": 100} and ds.attrs["synthetic"] == "true"
    dn, qf = raw["DNB_BRDF-Corrected_NTL"], raw["Mandatory_Quality_Flag"]
    lat = 50 - (np.arange(2400) + 0.5) * PIXEL_DEG
    # 0.1 degree cells = 24 x 24 pixels; check a cell half under the cloud (rows 1440.., cols 1200..)
    for r, c in ((60, 49), (60, 50), (30, 40), (0, 0)):
        rows, cols = slice(24 * r, 24 * r + 24), slice(24 * c, 24 * c + 24)
        ok = (qf[rows, cols] <= 1) & (dn[rows, cols] != VNP46A2_FILL)
        w = _row_weights(lat[rows])[:, None] * ok
        got = float(ds["radiance"][0, r, c])
        if w.sum() == 0:
            assert np.isnan(got) and float(ds["radiance_valid_fraction"][0, r, c]) == 0.0
            continue
        hand = float((dn[rows, cols] * 0.1 * w).sum() / w.sum())
        assert got == pytest.approx(hand, rel=1e-5), (r, c)
        assert float(ds["radiance_valid_fraction"][0, r, c]) == pytest.approx(
            w.sum() / (_row_weights(lat[rows]).sum() * 24), rel=1e-5)
    # the poor-quality (MQF 2) cloud pixels are inflated x3 in the fixture: keeping them would raise the mean
    cloud_cell = ds["radiance"][0, 70, 60]
    assert np.isnan(cloud_cell)  # fully under the cloud: no high-quality pixel


def test_h5_cli_writes_zarr_with_provenance(h5tile: Path, tmp_path: Path) -> None:
    out = tmp_path / "viirs.zarr"
    r = _cli("ingest", "viirs", "--file", str(h5tile), "--out", str(out))
    assert r.returncode == 0, r.stderr
    back = xr.open_zarr(out, consolidated=False)
    assert back["radiance"].dims == ("time", "lat", "lon") and back.attrs["synthetic"] == "true"
    assert h5tile.name in back.attrs["provenance"] and "sha256" in back.attrs["provenance"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "carbonmap", *args], check=False, cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_h5_bad_input(h5tile: Path, tmp_path: Path) -> None:
    def mutate(i: int, fn) -> Path:
        d = tmp_path / str(i)
        d.mkdir()
        dst = d / h5tile.name
        shutil.copy(h5tile, dst)
        with h5py.File(dst, "r+") as h5:
            fn(h5)
        return dst

    cases = [
        (lambda h5: h5[DATA_FIELDS].__delitem__("Mandatory_Quality_Flag"), "no Mandatory_Quality_Flag"),
        (lambda h5: h5[f"{DATA_FIELDS}/DNB_BRDF-Corrected_NTL"].attrs.modify("units", np.bytes_(b"W m-2")),
         "has units 'W m-2'"),
        (lambda h5: h5.attrs.modify("WestBoundingCoord", np.array([10.0])), "are not 10 x 10 degrees"),
        (lambda h5: (h5.attrs.modify("WestBoundingCoord", np.array([10.0])),
                     h5.attrs.modify("EastBoundingCoord", np.array([20.0]))), "the name says tile h18v04"),
        (lambda h5: h5[f"{DATA_FIELDS}/DNB_BRDF-Corrected_NTL"].attrs.modify("scale_factor", np.array([1e3])),
         "wrong scale_factor"),
        (lambda h5: h5.__delitem__("HDFEOS/GRIDS/VNP_Grid_DNB"), "not a VNP46A2 granule"),
    ]
    for i, (fn, msg) in enumerate(cases):
        with pytest.raises(IngestError, match=msg):  # header checks in read(), pixel checks when computed
            VIIRSAdapter().read([mutate(i, fn)]).load()
    small = make_vnp46a2_h5(tmp_path / "small", day=DAY, size=480)  # a cut-out, not a whole tile
    with pytest.raises(IngestError, match="a VNP46A2 tile is 2400 x 2400 pixels"):
        read_vnp46a2_h5(small)
    cut = tmp_path / "cut" / h5tile.name
    cut.parent.mkdir()
    cut.write_bytes(h5tile.read_bytes()[: h5tile.stat().st_size // 3])
    out = tmp_path / "never.zarr"
    r = _cli("ingest", "viirs", "--file", str(cut), "--out", str(out))
    assert r.returncode == 1 and "not a readable HDF-EOS5/HDF5 file" in r.stderr + r.stdout and not out.exists()


def test_download_delivers_what_the_reader_reads(h5tile: Path, publisher, set_settings, tmp_cache: Path) -> None:
    """CMR search + LAADS download of a tile (served on 127.0.0.1) -> a file the adapter reads."""
    base, routes, _ = publisher
    body = h5tile.read_bytes()
    path = f"/archive/allData/5000/VNP46A2/2022/097/{h5tile.name}"
    item = {"meta": {"native-id": h5tile.name}, "umm": {
        "GranuleUR": h5tile.name, "RelatedUrls": [{"URL": base + path, "Type": "GET DATA"}],
        "DataGranule": {"ArchiveAndDistributionInformation": [
            {"Name": h5tile.name, "SizeInBytes": len(body),
             "Checksum": {"Value": hashlib.md5(body).hexdigest(), "Algorithm": "MD5"}}]}}}
    routes[("GET", "/search/granules.umm_json")] = lambda q, h, b: (
        200, "application/json", json.dumps({"hits": 1, "items": [item]}).encode())
    routes[("GET", path)] = lambda q, h, b: (
        (200, "application/x-hdf5", body) if h.get("Authorization") == "Bearer tok" else (401, "text/plain", b""))
    set_settings(cmr_url=f"{base}/search", earthdata_token="tok")
    a = VIIRSAdapter()
    a.bounding_box = (0.0, 40.0, 10.0, 50.0)
    paths = a.download(DAY, DAY)
    assert [p.name for p in paths] == [h5tile.name]
    ds = a.read(paths)
    assert ds.sizes == {"time": 1, "lat": 100, "lon": 100} and float(ds["radiance"].max()) > 50.0


def test_h5_synthetic_layers_are_consistent() -> None:
    layers = synthetic_layers(size=240, seed=1)
    qf, brdf, gap = layers["Mandatory_Quality_Flag"], layers["DNB_BRDF-Corrected_NTL"], layers[
        "Gap_Filled_DNB_BRDF-Corrected_NTL"]
    assert ((qf == 255) == (brdf == VNP46A2_FILL)).all() and ((qf == 255) == (gap == VNP46A2_FILL)).all()
    assert (brdf[qf == 2] >= gap[qf == 2]).all()  # cloud-lit radiance is inflated; the gap-filled one is not


# ------------------------------------------------------------------ many tiles and days through Dask

STRADDLE = Grid(0.3).subset(9.0, 45.0, 11.1, 46.2)
"""4 x 7 cells of 0.3 degree; column 3 (9.9-10.2 E) straddles the boundary of tiles h18v04 and h19v04 at 10 E."""


@pytest.fixture(scope="module")
def h5tile_east(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vnp46a2_h5(tmp_path_factory.mktemp("vnp46a2_east"), day=DAY, h=19, v=4, seed=1)


@pytest.fixture(scope="module")
def h5tile_next_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vnp46a2_h5(tmp_path_factory.mktemp("vnp46a2_next"), day=date(2022, 4, 8), h=18, v=4, seed=2)


def _valid_radiance(path: Path) -> np.ndarray:
    """The tile's radiance (nW cm-2 sr-1, float64) from the raw layers; NaN where fill or MQF not 0/1."""
    with h5py.File(path, "r") as h5:
        dn = h5[f"{DATA_FIELDS}/DNB_BRDF-Corrected_NTL"][...]
        qf = h5[f"{DATA_FIELDS}/Mandatory_Quality_Flag"][...]
    return np.where((qf <= 1) & (dn != VNP46A2_FILL), dn * 0.1, np.nan)


def test_two_tiles_of_a_day_mosaic_on_a_straddling_cell(h5tile: Path, h5tile_east: Path,
                                                        h5tile_next_day: Path) -> None:
    a = VIIRSAdapter()
    a.grid = STRADDLE
    ds = a.read([h5tile_east, h5tile_next_day, h5tile])
    graph = ds["radiance"].data.__dask_graph__()
    names = [k for k in graph if isinstance(k, str)]
    assert sum(k.startswith("vnp46a2-tile-") for k in names) == 3  # one task per tile
    assert sum(k.startswith("vnp46a2-day-") for k in names) == 2  # one mosaic per day
    assert ds.sizes == {"time": 2, "lat": 4, "lon": 7} and str(ds["time"].values[1])[:10] == "2022-04-08"
    ds = ds.load()
    west, east = _valid_radiance(h5tile), _valid_radiance(h5tile_east)
    lat = 50 - (np.arange(2400) + 0.5) * PIXEL_DEG
    for r in range(4):
        rows = slice(912 + 72 * r, 984 + 72 * r)  # 46.2 - 0.3 r .. 45.9 - 0.3 r N
        w = _row_weights(lat[rows])[:, None]  # equal pixel widths: the longitude factor cancels
        parts = [west[rows, 2376:2400], east[rows, 0:48]]  # 9.9-10.0 E from h18, 10.0-10.2 E from h19
        num = sum(np.nansum(p * w) for p in parts)
        den = sum(float((np.isfinite(p) * w).sum()) for p in parts)
        full = float(w.sum()) * 72
        assert float(ds["radiance"][0, r, 3]) == pytest.approx(num / den, rel=1e-5)
        assert float(ds["radiance_valid_fraction"][0, r, 3]) == pytest.approx(den / full, rel=1e-5)
    # one tile alone covers a third of the straddling cells; the mosaic differs from it there only
    alone = a.read([h5tile]).load()
    assert np.allclose(alone["radiance_valid_fraction"][0, :, 3], 1 / 3, rtol=1e-3)
    assert not np.allclose(alone["radiance"][0, :, 3], ds["radiance"][0, :, 3], rtol=1e-3)
    assert np.array_equal(alone["radiance"][0, :, :3], ds["radiance"][0, :, :3])  # cells wholly in h18v04
    assert np.isnan(alone["radiance"][0, :, 4:]).all() and np.isfinite(ds["radiance"][0, :, 4:]).all()
    # the second day has only h18v04: its own values, nothing from the other day's tiles
    nxt = a.read([h5tile_next_day]).load()
    assert np.array_equal(nxt["radiance"][0], ds["radiance"][1], equal_nan=True)
    # without a grid, the 0.1 degree grid over both tiles: 100 x 200 cells
    both = VIIRSAdapter().read([h5tile, h5tile_east])
    assert both.sizes == {"time": 1, "lat": 100, "lon": 200} and both["radiance"].chunks is not None


def test_streamed_write_and_a_corrupt_tile(h5tile: Path, h5tile_east: Path, h5tile_next_day: Path,
                                           tmp_path: Path) -> None:
    import zarr

    a = VIIRSAdapter()
    a.grid = STRADDLE
    a.time_chunk_days = 1
    tiles = [h5tile, h5tile_east, h5tile_next_day]
    out = a.write(a.read(tiles), tmp_path / "viirs.zarr", inputs=tiles)
    assert zarr.open_group(out, mode="r")["radiance"].chunks == (1, 4, 7)
    back = xr.open_zarr(out, consolidated=False)
    assert back.sizes["time"] == 2 and all(t.name in back.attrs["provenance"] for t in tiles)
    # a tile whose first compressed chunk is garbage: its header reads, its pixels do not
    d = tmp_path / "in"
    d.mkdir()
    bad = d / h5tile_east.name
    shutil.copy(h5tile_east, bad)
    with h5py.File(bad, "r") as h5:
        info = h5[f"{DATA_FIELDS}/DNB_BRDF-Corrected_NTL"].id.get_chunk_info(0)
    with open(bad, "r+b") as f:
        f.seek(info.byte_offset + 2)
        f.write(np.random.default_rng(0).bytes(info.size - 2))
    ds = a.read([h5tile, bad, h5tile_next_day])
    never = tmp_path / "never.zarr"
    with pytest.raises(IngestError, match=re.escape(bad.name)):
        a.write(ds, never, inputs=[h5tile, bad, h5tile_next_day])
    assert not never.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in", "viirs.zarr"]
    with pytest.raises(IngestError, match="the same tile and day given twice"):
        a.read([h5tile, h5tile_east, bad])
    a.grid = Grid(0.3).subset(30.0, 45.0, 31.2, 46.2)
    with pytest.raises(IngestError, match="lies outside the target grid"):
        a.read([h5tile])
