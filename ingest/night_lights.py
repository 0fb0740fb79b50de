"""NASA "Earth's City Lights" picture (xplanet-images ``night.jpg``), an openly labelled fallback proxy.

This is an **8-bit picture, not radiance**: a 2048 x 1024 equirectangular JPEG composite (DMSP
1994-95 era) whose 0-255 grey levels are brightness after contrast stretching and JPEG compression.
carbonmap may use it only as a simplified proxy of where lights (and so activity) are, never as a
measurement; VIIRS Black Marble GeoTIFFs are the real source.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from ingest.base import BaseAdapter, IngestError, SourceInfo

LIGHTS_FILE = "satellite/nasa-city-lights/night.jpg"
EXPECTED_SHAPE = (1024, 2048)
INFO = SourceInfo(name="city_lights", title="NASA Earth's City Lights picture (xplanet-images)", kind="satellite",
                  licence="NASA imagery, not copyrighted", url="https://visibleearth.nasa.gov/images/55167",
                  shipped=(LIGHTS_FILE,), real=False,
                  note="8-bit JPEG picture, not radiance: a simplified proxy only")


def read_city_lights(path: Path) -> xr.DataArray:
    """Brightness 0..255 (uint8, dimensionless picture levels), dims (lat, lon), cell centres, lat descending."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"city lights picture not found: {path}")
    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as e:
        raise IngestError(f"{path.name} is not a readable image: {e}") from e
    ny, nx = arr.shape
    if nx != 2 * ny:
        raise IngestError(f"{path.name} is {nx} x {ny} pixels; an equirectangular world picture is 2:1")
    res = 180.0 / ny
    lat = 90.0 - (np.arange(ny) + 0.5) * res
    lon = -180.0 + (np.arange(nx) + 0.5) * res
    return xr.DataArray(arr, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="city_lights",
                        attrs={"units": "1", "long_name": "night-lights picture brightness (0-255)",
                               "comment": "8-bit JPEG picture (NASA Earth's City Lights), NOT radiance; "
                                          "contrast-stretched and compressed; simplified proxy only",
                               "proxy": "true", "source": INFO.title, "license": INFO.licence,
                               "source_file": path.name})


class CityLightsAdapter(BaseAdapter[xr.DataArray]):
    info = INFO

    def read(self, paths: Sequence[Path]) -> xr.DataArray:
        if len(paths) != 1:
            raise IngestError("city lights take exactly one JPEG")
        return read_city_lights(paths[0])
