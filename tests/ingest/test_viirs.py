from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import IngestError
from ingest.viirs import (
    PIXEL_DEG,
    VNP46A2_BAND,
    VNP46A2_FILL,
    VIIRSAdapter,
    make_vnp46a2_fixture,
    read_night_lights,
    tile_origin,
    to_grid,
)

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


def test_to_grid_is_the_mean_of_valid_pixels(tile: Path) -> None:
    rad = read_night_lights(tile)
    g = Grid(0.5).subset(0, 48, 2, 50)
    m = to_grid(rad, g)
    block = rad.values[120:240, 0:120]  # 0.5 degree = 120 pixels; second row of cells, first column
    assert float(m[1, 0]) == pytest.approx(np.nanmean(block), rel=1e-5)


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
