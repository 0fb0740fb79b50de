"""Format-exact EDGAR 0.1 degree grid files with SYNTHETIC values (no real EDGAR grid ships in data/).

:func:`make_edgar_grid_fixture` writes one global 1800 x 3600 file in one of the real layouts read by
:mod:`ingest.edgar_grid`:

- ``"emi"``: v8.0/2024 ``emissions(lat, lon)`` float32, ``units = "Tonnes"``, attributes ``substance``,
  ``year``, ``long_name``; ``lat``/``lon`` ascending, -89.95..89.95 / -179.95..179.95;
- ``"flx"``: the same with ``fluxes(lat, lon)`` in ``kg m-2 s-1``;
- ``"v6"``: v6.0 ``emi_co2(lat, lon)`` in ``kg m-2 s-1`` with ``lon`` 0.05..359.95.

The values are **synthetic**: a few point sources (``sources`` = (lon, lat, Mg CO2 per year)) on a
zero background, so conversions can be checked against known totals.  Every file carries the global
attribute ``carbonmap_synthetic = "true"``.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from carbonmap.contract import Grid

DEFAULT_SOURCES: tuple[tuple[float, float, float], ...] = (
    (6.95, 50.95, 3.0e7),    # a large lignite plant, Mg CO2 per year
    (116.45, 39.95, 1.2e7),
    (-87.65, 41.85, 5.0e6),
    (151.25, -33.85, 2.0e6),
)
LAYOUTS = ("emi", "flx", "v6")


def fixture_name(layout: str, year: int, sector: str) -> str:
    """The real file name of that layout, year and sector."""
    if layout == "emi":
        return f"v8.0_FT2022_GHG_CO2_{year}_{sector}_emi.nc"
    if layout == "flx":
        return f"v8.0_FT2022_GHG_CO2_{year}_{sector}_flx.nc"
    if layout == "v6":
        return f"v6.0_CO2_excl_short-cycle_org_C_{year}_{sector}.0.1x0.1.nc"
    raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")


def make_edgar_grid_fixture(out_dir: Path, *, layout: str = "emi", year: int = 2022, sector: str = "ENE",
                            sources: Sequence[tuple[float, float, float]] = DEFAULT_SOURCES) -> Path:
    """Write one synthetic file in ``layout`` to ``out_dir`` and return its path."""
    name = fixture_name(layout, year, sector)
    grid = Grid(0.1)
    mass = np.zeros(grid.shape)  # Mg per cell per year, north-up
    rows, cols = grid.cell_index(np.array([s[0] for s in sources]), np.array([s[1] for s in sources]))
    np.add.at(mass, (rows, cols), np.array([s[2] for s in sources]))
    lat_up = grid.lat[::-1]  # EDGAR files are south-up
    lon = grid.lon.copy()
    if layout == "emi":
        var, units, data = "emissions", "Tonnes", mass[::-1]
    else:
        seconds = (366 if calendar.isleap(year) else 365) * 86_400.0
        flux = mass * 1_000.0 / seconds / grid.cell_area_m2()[:, None]
        var, units, data = ("fluxes" if layout == "flx" else "emi_co2"), "kg m-2 s-1", flux[::-1]
    if layout == "v6":
        shift = grid.nlon // 2  # -180..180 -> 0..360
        data = np.roll(data, -shift, axis=1)
        lon = np.roll(lon, -shift)
        lon = np.where(lon < 0, lon + 360.0, lon)
    attrs: dict[str, str | int] = {"units": units, "long_name": f"{sector}" if layout != "v6" else f"Emissions of CO2 - {sector}"}
    if layout != "v6":
        attrs.update({"substance": "CO2", "year": year})
    ds = xr.Dataset(
        {var: (("lat", "lon"), data.astype(np.float32), attrs)},
        coords={"lat": ("lat", lat_up, {"units": "degrees_north", "long_name": "latitude"}),
                "lon": ("lon", lon, {"units": "degrees_east", "long_name": "longitude"})},
        attrs={"title": "EDGAR-layout fixture", "carbonmap_synthetic": "true",
               "comment": "SYNTHETIC values in the exact EDGAR layout; not EDGAR data"},
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    ds.to_netcdf(path, engine="netcdf4", encoding={var: {"zlib": True, "complevel": 1}})
    return path
