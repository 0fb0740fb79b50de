from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import IngestError
from ingest.edgar_grid import EDGARGridAdapter, parse_name, read_edgar_grid, to_daily_kg
from tests.ingest.fixture_gen.edgar_grid import DEFAULT_SOURCES, make_edgar_grid_fixture

TOTAL_MG = sum(s[2] for s in DEFAULT_SOURCES)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("edgar")
    return {lay: make_edgar_grid_fixture(d / lay, layout=lay, year=2020) for lay in ("emi", "flx", "v6")}


@pytest.mark.parametrize("layout", ["emi", "flx", "v6"])
def test_layouts_give_the_same_daily_grid(fixtures: dict[str, Path], layout: str) -> None:
    da = read_edgar_grid(fixtures[layout])
    assert da.dims == ("lat", "lon") and da.shape == (1800, 3600) and da.attrs["units"] == "kg day-1"
    assert da.attrs["synthetic"] == "true" and da.attrs["edgar_sector"] == "ENE" and da.attrs["year"] == 2020
    # 2020 is a leap year: annual Mg x 1000 / 366 per day, summed over the globe
    assert float(da.sum(dtype=np.float64)) == pytest.approx(TOTAL_MG * 1000 / 366, rel=1e-5)
    # each synthetic point source lands in its own cell (checks orientation and the 0..360 shift)
    for lon, lat, mg in DEFAULT_SOURCES:
        assert float(da.sel(lat=lat, lon=lon, method="nearest")) == pytest.approx(mg * 1000 / 366, rel=1e-5)


def test_flux_conversion_uses_cell_area() -> None:
    g = Grid(0.1)
    flux = np.zeros(g.shape)
    flux[900, 0] = 1e-9  # kg m-2 s-1 at the equator
    kg = to_daily_kg(flux, "kg m-2 s-1", 2022)
    assert kg[900, 0] == pytest.approx(1e-9 * g.cell_area_m2()[900] * 86400)
    assert to_daily_kg(np.full((1, 1), 365.0), "Tonnes", 2022)[0, 0] == pytest.approx(1000.0)
    with pytest.raises(IngestError, match="units 'g/yr' not understood"):
        to_daily_kg(flux, "g/yr", 2022)


def test_names() -> None:
    assert parse_name(Path("EDGAR_2024_GHG_CO2_2022_TNR_Aviation_CRS_emi.nc")) == (2022, "TNR_Aviation_CRS")
    assert parse_name(Path("v6.0_CO2_excl_short-cycle_org_C_2018_RCO.0.1x0.1.nc")) == (2018, "RCO")


def test_adapter_writes(fixtures: dict[str, Path], tmp_path: Path) -> None:
    d2 = make_edgar_grid_fixture(tmp_path, layout="emi", year=2020, sector="TRO", sources=[(2.35, 48.85, 3.65e6)])
    a = EDGARGridAdapter()
    ds = a.read([fixtures["emi"], d2])
    assert ds["sector"].values.tolist() == ["ENE", "TRO"] and ds.attrs["synthetic"] == "true"
    out = a.write(ds, tmp_path / "edgar_grid.zarr", inputs=[fixtures["emi"], d2])
    back = xr.open_zarr(out, consolidated=False)
    assert float(back["emissions"].sel(sector="TRO").sum()) == pytest.approx(3.65e9 / 366, rel=1e-5)
    with pytest.raises(IngestError, match="duplicate sector"):
        a.read([fixtures["emi"], fixtures["flx"]])


def test_bad_input(fixtures: dict[str, Path], tmp_path: Path) -> None:
    src = xr.open_dataset(fixtures["emi"]).load()
    src["emissions"].attrs["units"] = "kg"
    src.to_netcdf(tmp_path / "v8.0_FT2022_GHG_CO2_2020_ENE_emi.nc")
    with pytest.raises(IngestError, match="has units 'kg'"):
        read_edgar_grid(tmp_path / "v8.0_FT2022_GHG_CO2_2020_ENE_emi.nc")
    coarse = src.isel(lat=slice(0, None, 2), lon=slice(0, None, 2))
    coarse["emissions"].attrs["units"] = "Tonnes"
    coarse.to_netcdf(tmp_path / "coarse_2020_ENE_emi.nc")
    with pytest.raises(IngestError, match="has 1800 x 3600 cells, found 900 x 1800"):
        read_edgar_grid(tmp_path / "coarse_2020_ENE_emi.nc")
    shifted = src.assign_coords(lat=src["lat"] + 0.03)
    shifted["emissions"].attrs["units"] = "Tonnes"
    shifted.to_netcdf(tmp_path / "shift_2020_ENE_emi.nc")
    with pytest.raises(IngestError, match="wrong CRS or grid"):
        read_edgar_grid(tmp_path / "shift_2020_ENE_emi.nc")
    bad = tmp_path / "v8.0_FT2022_GHG_CO2_2020_IND_emi.nc"
    bad.write_bytes(fixtures["emi"].read_bytes()[:5000])
    with pytest.raises(IngestError, match="not a readable NetCDF file"):
        read_edgar_grid(bad)
    out = tmp_path / "never.zarr"
    with pytest.raises(IngestError):
        EDGARGridAdapter().read([bad])
    assert not out.exists()
