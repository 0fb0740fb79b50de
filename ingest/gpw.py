"""GPW v4.11 population count, ESRI ASCII grid (``gpw_v4_population_count_rev11_2020_*.asc``).

:func:`read_gpw_ascii` returns ``population(lat, lon)`` in persons per cell, float64, cell-centre
coordinates, ``lat`` descending (north-up), NODATA (ocean) -> 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from ingest.base import BaseAdapter, IngestError, SourceInfo

HEADER_KEYS = ("ncols", "nrows", "xllcorner", "yllcorner", "cellsize", "NODATA_value")

INFO = SourceInfo(
    name="gpw",
    title="GPW v4.11 population count 2020 (CIESIN), ESRI ASCII grid",
    kind="spatial_prior",
    licence="CC-BY-4.0",
    url="https://sedac.ciesin.columbia.edu/data/set/gpw-v4-population-count-rev11",
    shipped=("population/gpw_v4_population_count_rev11_2020_1_deg.asc",),
    note="the shipped grid is 1 degree; carbonmap spreads it uniformly to finer cells (simplified proxy)",
)


def read_ascii_header(path: Path, keys: Sequence[str] = HEADER_KEYS) -> dict[str, float]:
    """The 6-line ESRI ASCII header as a dict, validated (key names, order, positive sizes)."""
    header: dict[str, float] = {}
    with open(path, encoding="ascii", errors="replace") as f:
        for i, want in enumerate(keys):
            line = f.readline()
            parts = line.split()
            if len(parts) != 2 or parts[0].lower() != want.lower():
                raise IngestError(f"{Path(path).name}: header line {i + 1} should be '{want} <number>', "
                                  f"got {line.strip()!r}")
            try:
                header[want] = float(parts[1])
            except ValueError:
                raise IngestError(f"{Path(path).name}: header value of {want} is not a number: {parts[1]!r}") from None
    for k in ("ncols", "nrows"):
        if header[k] < 1 or header[k] != int(header[k]):
            raise IngestError(f"{Path(path).name}: {k} must be a positive integer, got {header[k]}")
    if header["cellsize"] <= 0:
        raise IngestError(f"{Path(path).name}: cellsize must be positive, got {header['cellsize']}")
    return header


def read_gpw_ascii(path: Path) -> xr.DataArray:
    """Population count per cell, persons, dims (lat, lon), lat descending, NODATA -> 0."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"GPW file not found: {path}")
    h = read_ascii_header(path)
    nrows, ncols, cs = int(h["nrows"]), int(h["ncols"]), h["cellsize"]
    with open(path, encoding="ascii", errors="replace") as f:
        body = f.read().split("\n", len(HEADER_KEYS))[-1]
    try:
        flat = np.array(body.split(), dtype=np.float64)
    except ValueError as e:
        raise IngestError(f"{path.name}: grid values are not numeric ({e})") from e
    if flat.size != nrows * ncols:
        raise IngestError(f"{path.name}: header says {nrows} x {ncols} = {nrows * ncols} cells but the file "
                          f"holds {flat.size} values")
    data = flat.reshape(nrows, ncols)
    data = np.where(data == h["NODATA_value"], 0.0, data)
    if (data < 0).any() or not np.isfinite(data).all():
        raise IngestError(f"{path.name}: population counts must be finite and >= 0")
    x0, y0 = h["xllcorner"], h["yllcorner"]
    if x0 < -180 - 1e-9 or x0 + ncols * cs > 180 + 1e-9 or y0 < -90 - 1e-9 or y0 + nrows * cs > 90 + 1e-9:
        raise IngestError(f"{path.name}: grid extent falls outside lon -180..180 / lat -90..90 "
                          f"(is it in EPSG:4326 degrees?)")
    lat = y0 + (nrows - np.arange(nrows) - 0.5) * cs
    lon = x0 + (np.arange(ncols) + 0.5) * cs
    return xr.DataArray(
        data, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="population",
        attrs={"units": "1", "long_name": "population count per cell", "comment": "persons per cell; NODATA -> 0",
               "cellsize_degrees": cs, "source_file": path.name, "source": INFO.title, "license": INFO.licence},
    )


class GPWAdapter(BaseAdapter[xr.DataArray]):
    info = INFO

    def read(self, paths: Sequence[Path]) -> xr.DataArray:
        if len(paths) != 1:
            raise IngestError("GPW takes exactly one .asc file")
        return read_gpw_ascii(paths[0])
