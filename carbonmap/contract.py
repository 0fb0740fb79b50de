"""The cube contract: grid, sectors, units, chunking, CF attributes and provenance.

Every stage (ingest, nowcast, pipelines, tiles, api) imports this module and nothing
else defines these facts.  It is deliberately small and free of I/O.

Cube variables (one Zarr v3 group per dataset):

- ``emissions(time, sector, lat, lon)``   float32, kg CO2 day-1 cell-1
- ``uncertainty(time, sector, lat, lon)`` float32, relative 1-sigma (dimensionless)
- ``national_emissions(time, sector, country)`` float64, kg CO2 day-1, the national daily
  sector totals the grid was downscaled from (``XIA``/``XIS`` carry the two international
  sectors).  The grid conserves them: sum over cells == national total.
- ``national_uncertainty(time, sector, country)`` float32, relative 1-sigma.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from carbonmap.errors import InvalidInput

CONTRACT_VERSION = "1.0"

SECTORS: tuple[str, ...] = (
    "power",
    "industry",
    "ground_transport",
    "residential",
    "domestic_aviation",
    "international_aviation",
    "international_shipping",
)
"""The 7 sectors, in cube order."""

TOTAL = "total"
"""Pseudo-sector meaning the sum over all 7 sectors (tiles and queries)."""

INTERNATIONAL_SECTORS: dict[str, str] = {
    "international_aviation": "XIA",
    "international_shipping": "XIS",
}
"""International sectors and the pseudo-country code (GCB's) that carries them."""

NATIONAL_SECTORS: tuple[str, ...] = tuple(s for s in SECTORS if s not in INTERNATIONAL_SECTORS)

SECTOR_LONG_NAMES: dict[str, str] = {
    "power": "Power generation (electricity and heat)",
    "industry": "Industry (combustion, processes incl. cement, flaring)",
    "ground_transport": "Ground transport (road, rail, inland navigation)",
    "residential": "Residential and commercial buildings",
    "domestic_aviation": "Domestic aviation",
    "international_aviation": "International aviation (bunkers)",
    "international_shipping": "International shipping (bunkers)",
}

EMISSIONS_VAR = "emissions"
UNCERTAINTY_VAR = "uncertainty"
NATIONAL_VAR = "national_emissions"
NATIONAL_UNC_VAR = "national_uncertainty"
EVIDENCE_VAR = "evidence"
"""(time, sector, country) int8: what carries each national value (:data:`EVIDENCE_LEVELS`)."""

EVIDENCE_LEVELS: tuple[str, ...] = ("model", "annual-inventory", "monthly-statistics", "daily-activity")
"""Codes 0..3 of ``evidence``, weakest to strongest:

- ``model``: no inventory and no measured activity covers the value (a statsmodels nowcast of the annual
  total, shaped by calendar and temperature);
- ``annual-inventory``: the year's level is the national inventory (GCB), its monthly and daily shape a
  model (temperature, calendar, climatology);
- ``monthly-statistics``: the month's value follows measured monthly statistics (generation by fuel,
  industrial output, fuel sales), its days a model;
- ``daily-activity``: the day's value follows a measured daily activity series (grid reports, flights,
  hourly demand)."""
EVIDENCE_NO_DATA = -1
"""Fill value of ``evidence`` where a region has no emissions in a sector."""

EMISSIONS_UNITS = "kg day-1"
"""Units of ``emissions``: kg CO2 per grid cell per day (CF/UDUNITS spelling)."""
NATIONAL_UNITS = "kg day-1"
UNCERTAINTY_UNITS = "1"

EMISSIONS_DTYPE = np.float32
NATIONAL_DTYPE = np.float64

KG_PER_MT = 1.0e9
"""Kilograms per megatonne (GCB and EDGAR report Mt CO2 yr-1)."""

MAP_CHUNK_DEGREES = 45.0
"""Map-read chunks span 45 x 45 degrees (450 x 450 cells at 0.1 degree)..."""
MAP_CHUNK_MIN_CELLS = 128
"""...but at least 128 x 128 cells (or the whole grid): on coarse grids 45 degrees is a handful of
cells, and zarr's cost is per chunk (at 5 degrees, 9 x 9 cell chunks made a year's build ~10x slower)."""
TIMESERIES_CHUNK_DAYS = 32
"""Time-series chunks hold about a month, so daily appends rewrite one block."""
TIMESERIES_CHUNK_DEGREES = 2.0
"""Time-series chunks span 2 x 2 degrees (20 x 20 cells at 0.1 degree)..."""
TIMESERIES_CHUNK_MIN_CELLS = 20
"""...but at least 20 x 20 cells (or the whole grid), for the same reason as MAP_CHUNK_MIN_CELLS."""
TIMESERIES_SHARD_CHUNKS = 24
"""Time-series shards hold about 24 x 24 chunks (one 32-day block; 500 x 500 cells at 0.1 degree, aligned
to the aggregates' chunks), so a global 0.1 degree block is 32 objects per variable, not 16,200 files."""

STATUS_ATTR = "carbonmap_status"
STATUS_COMPLETE = "complete"
STATUS_BUILDING = "building"

CANONICAL_RESOLUTION = 0.1


class ContractError(InvalidInput):
    """A value breaks the cube contract (bad grid, unknown sector, bad dates)."""


def _is_multiple(value: float, step: float) -> bool:
    q = value / step
    return abs(q - round(q)) < 1e-6


@dataclass(frozen=True)
class Grid:
    """A regular lat/lon grid of cell centres, north-up, longitudes -180..180.

    Rows run north to south (``lat`` descending), columns west to east.
    All methods return new grids; a Grid never changes.
    """

    resolution: float
    west: float = -180.0
    south: float = -90.0
    east: float = 180.0
    north: float = 90.0

    def __post_init__(self) -> None:
        r = self.resolution
        if not (isinstance(r, (int, float)) and math.isfinite(r) and 0.01 <= r <= 10.0):
            raise ContractError(f"resolution must be between 0.01 and 10 degrees, got {r!r}")
        if not (_is_multiple(180.0, r) and _is_multiple(360.0, r)):
            raise ContractError(
                f"resolution {r} does not divide 180 and 360 evenly; use e.g. 0.1, 0.25, 0.5, 1, 2 or 5"
            )
        if not (-180.0 <= self.west < self.east <= 180.0 and -90.0 <= self.south < self.north <= 90.0):
            raise ContractError(f"bad grid bounds {self.bounds}")
        for edge, origin in ((self.west, -180.0), (self.east, -180.0), (self.south, -90.0), (self.north, -90.0)):
            if not _is_multiple(edge - origin, r):
                raise ContractError(f"grid edge {edge} is not on the {r} degree global lattice")

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        return (self.west, self.south, self.east, self.north)

    @property
    def nlat(self) -> int:
        return round((self.north - self.south) / self.resolution)

    @property
    def nlon(self) -> int:
        return round((self.east - self.west) / self.resolution)

    @property
    def shape(self) -> tuple[int, int]:
        """(nlat, nlon)."""
        return (self.nlat, self.nlon)

    @property
    def lat(self) -> np.ndarray:
        """Cell-centre latitudes, descending (north-up), degrees_north, dims (lat,)."""
        return self.north - (np.arange(self.nlat) + 0.5) * self.resolution

    @property
    def lon(self) -> np.ndarray:
        """Cell-centre longitudes, ascending, degrees_east, dims (lon,)."""
        return self.west + (np.arange(self.nlon) + 0.5) * self.resolution

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """Affine coefficients (a, b, c, d, e, f) as rasterio's ``Affine(*grid.transform)`` takes them."""
        r = self.resolution
        return (r, 0.0, self.west, 0.0, -r, self.north)

    @property
    def is_global(self) -> bool:
        return self.bounds == (-180.0, -90.0, 180.0, 90.0)

    def coarsen(self, factor: int) -> Grid:
        """A grid with cells ``factor`` times larger and the same bounds."""
        if factor < 1 or self.nlat % factor or self.nlon % factor:
            raise ContractError(f"cannot coarsen a {self.shape} grid by {factor}")
        return Grid(self.resolution * factor, self.west, self.south, self.east, self.north)

    def subset(self, west: float, south: float, east: float, north: float) -> Grid:
        """The smallest sub-grid on this lattice that covers the bbox (snapped outward)."""
        r = self.resolution
        w = max(self.west, self.west + math.floor((west - self.west) / r + 1e-9) * r)
        s = max(self.south, self.south + math.floor((south - self.south) / r + 1e-9) * r)
        e = min(self.east, self.west + math.ceil((east - self.west) / r - 1e-9) * r)
        n = min(self.north, self.south + math.ceil((north - self.south) / r - 1e-9) * r)
        if not (w < e and s < n):
            raise ContractError(f"bbox {(west, south, east, north)} does not overlap the grid {self.bounds}")
        return Grid(r, round(w, 9), round(s, 9), round(e, 9), round(n, 9))

    def slices_of(self, sub: Grid) -> tuple[slice, slice]:
        """(row slice, col slice) of ``sub`` within this grid."""
        if sub.resolution != self.resolution:
            raise ContractError("sub-grid has another resolution")
        r0 = round((self.north - sub.north) / self.resolution)
        c0 = round((sub.west - self.west) / self.resolution)
        return slice(r0, r0 + sub.nlat), slice(c0, c0 + sub.nlon)

    def cell_index(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) integer indices of points; -1 where a point is off the grid."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        row = np.floor((self.north - lat) / self.resolution).astype(np.int64)
        col = np.floor((lon - self.west) / self.resolution).astype(np.int64)
        # points exactly on the south/east edge belong to the last cell
        row = np.where(lat == self.south, self.nlat - 1, row)
        col = np.where(lon == self.east, self.nlon - 1, col)
        ok = (row >= 0) & (row < self.nlat) & (col >= 0) & (col < self.nlon)
        ok &= np.isfinite(lon) & np.isfinite(lat)
        return np.where(ok, row, -1), np.where(ok, col, -1)

    def cell_area_m2(self) -> np.ndarray:
        """Cell areas on the sphere (R = 6,371,008.8 m), m2, dims (lat,)."""
        radius = 6371008.8
        r = math.radians(self.resolution)
        lat_n = np.radians(self.lat + self.resolution / 2)
        lat_s = np.radians(self.lat - self.resolution / 2)
        return radius**2 * r * (np.sin(lat_n) - np.sin(lat_s))

    def map_chunks(self) -> tuple[int, int, int, int]:
        """Chunk shape of the map layout, dims (time, sector, lat, lon)."""
        edge = max(MAP_CHUNK_MIN_CELLS, round(MAP_CHUNK_DEGREES / self.resolution))
        return (1, 1, min(self.nlat, edge), min(self.nlon, edge))

    def map_shards(self, n_sectors: int = len(SECTORS)) -> tuple[int, int, int, int]:
        """Shard shape of the map layout: one day, all sectors, the whole grid per object."""
        cy, cx = self.map_chunks()[2:]
        ny = math.ceil(self.nlat / cy) * cy
        nx = math.ceil(self.nlon / cx) * cx
        return (1, n_sectors, ny, nx)

    def timeseries_chunks(self, n_sectors: int = len(SECTORS)) -> tuple[int, int, int, int]:
        """Chunk shape of the time-series layout, dims (time, sector, lat, lon)."""
        edge = max(TIMESERIES_CHUNK_MIN_CELLS, round(TIMESERIES_CHUNK_DEGREES / self.resolution))
        return (TIMESERIES_CHUNK_DAYS, n_sectors, min(self.nlat, edge), min(self.nlon, edge))

    def to_attrs(self) -> dict[str, float]:
        return {"grid_resolution": self.resolution, "grid_west": self.west, "grid_south": self.south,
                "grid_east": self.east, "grid_north": self.north}

    @classmethod
    def from_coords(cls, lat: np.ndarray, lon: np.ndarray) -> Grid:
        """Recover a grid from cell-centre coordinates (as stored in a cube)."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        if lat.size < 1 or lon.size < 1:
            raise ContractError("empty coordinates")
        res = float(abs(lon[1] - lon[0])) if lon.size > 1 else float(abs(lat[0] - lat[1]))
        res = round(res, 9)
        if lat.size > 1 and lat[1] > lat[0]:
            raise ContractError("latitudes must be descending (north-up)")
        return cls(res, round(float(lon[0]) - res / 2, 9), round(float(lat[-1]) - res / 2, 9),
                   round(float(lon[-1]) + res / 2, 9), round(float(lat[0]) + res / 2, 9))


def validate_sector(name: str, allow_total: bool = True) -> str:
    """Return ``name`` if it is a known sector (or ``total``); raise ContractError otherwise."""
    if name in SECTORS or (allow_total and name == TOTAL):
        return name
    known = ", ".join((*SECTORS, TOTAL) if allow_total else SECTORS)
    raise ContractError(f"unknown sector {name!r}; known sectors: {known}")


def parse_sectors(text: str | None) -> tuple[str, ...]:
    """Parse a comma-separated sector list; empty or None means all 7 sectors."""
    if text is None or not text.strip():
        return SECTORS
    names = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if TOTAL in names:
        return SECTORS
    for n in names:
        validate_sector(n, allow_total=False)
    return names


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class InputFile:
    """One input of a build: what it is, where it came from and its exact bytes."""

    path: str
    sha256: str
    source: str
    license: str
    role: str
    real: bool = True
    """False for simplified proxies or synthetic fixtures; stated in dataset metadata."""

    @classmethod
    def of(cls, path: Path, *, source: str, license: str, role: str, real: bool = True,
           root: Path | None = None) -> InputFile:
        shown = str(path.relative_to(root)) if root is not None and path.is_relative_to(root) else str(path)
        return cls(shown, sha256_file(path), source, license, role, real)


@dataclass(frozen=True)
class Provenance:
    """Everything a researcher needs to cite and reproduce a dataset."""

    inputs: tuple[InputFile, ...]
    code_version: str
    build_time: str
    methods: dict[str, str] = field(default_factory=dict)
    """Per step, the method used (e.g. 'temporal': 'weekday x seasonal profiles')."""
    proxies: tuple[str, ...] = ()
    """Plain statements of which parts are simplified proxies rather than observations."""

    def to_attrs(self) -> dict[str, Any]:
        return {
            "provenance_inputs": [
                {"path": i.path, "sha256": i.sha256, "source": i.source, "license": i.license,
                 "role": i.role, "real": i.real}
                for i in self.inputs
            ],
            "provenance_code_version": self.code_version,
            "provenance_build_time": self.build_time,
            "provenance_methods": dict(self.methods),
            "provenance_proxies": list(self.proxies),
        }


def emissions_attrs() -> dict[str, Any]:
    return {
        "units": EMISSIONS_UNITS,
        "long_name": "fossil CO2 emissions per grid cell per day",
        "cell_methods": "time: sum (interval: 1 day) area: sum",
        "coverage_content_type": "modelResult",
        "comment": "kg CO2 emitted in the cell during the UTC day; sum over cells gives national totals",
    }


def uncertainty_attrs() -> dict[str, Any]:
    return {
        "units": UNCERTAINTY_UNITS,
        "long_name": "relative 1-sigma uncertainty of fossil CO2 emissions",
        "coverage_content_type": "qualityInformation",
        "comment": "standard deviation divided by the estimate; 0 where emissions are 0",
    }


def national_attrs() -> dict[str, Any]:
    return {
        "units": NATIONAL_UNITS,
        "long_name": "national daily fossil CO2 emissions by sector",
        "cell_methods": "time: sum (interval: 1 day)",
        "comment": "the totals the grid was downscaled from; XIA and XIS carry international bunkers",
    }


def evidence_attrs() -> dict[str, Any]:
    """CF flag attributes of ``evidence``."""
    return {
        "long_name": "what carries the national value: measured daily activity, monthly statistics, the annual "
                     "inventory, or a model",
        "flag_values": list(range(len(EVIDENCE_LEVELS))),
        "flag_meanings": " ".join(level.replace("-", "_") for level in EVIDENCE_LEVELS),
        "comment": "-1 where the region has no emissions in the sector",
    }


def evidence_label(code: int) -> str:
    """The name of an evidence code (``none`` for -1)."""
    return EVIDENCE_LEVELS[code] if 0 <= code < len(EVIDENCE_LEVELS) else "none"


def coord_attrs() -> dict[str, dict[str, Any]]:
    return {
        "lat": {"units": "degrees_north", "standard_name": "latitude", "long_name": "latitude of cell centre",
                "axis": "Y"},
        "lon": {"units": "degrees_east", "standard_name": "longitude", "long_name": "longitude of cell centre",
                "axis": "X"},
        "time": {"standard_name": "time", "long_name": "start of the UTC day", "axis": "T"},
        "sector": {"long_name": "emission sector", "flag_meanings": " ".join(SECTORS)},
        "country": {"long_name": "ISO 3166-1 alpha-3 code (XIA/XIS: international bunkers)"},
    }


def global_attrs(*, dataset_id: str, title: str, grid: Grid, start: str, end: str,
                 provenance: Provenance, summary: str) -> dict[str, Any]:
    """CF-1.10 + ACDD-1.3 global attributes plus carbonmap's own."""
    w, s, e, n = grid.bounds
    attrs: dict[str, Any] = {
        "Conventions": "CF-1.10, ACDD-1.3",
        "title": title,
        "summary": summary,
        "id": dataset_id,
        "naming_authority": "org.carbonmap",
        "institution": "carbonmap",
        "source": "carbonmap pipeline: national inventories downscaled with spatial proxies",
        "history": f"{provenance.build_time} built by carbonmap {provenance.code_version}",
        "references": "https://globalcarbonbudget.org ; https://edgar.jrc.ec.europa.eu",
        "license": "CC-BY-4.0 (derived from inputs under their own licences, listed in provenance_inputs)",
        "keywords": "CO2, fossil emissions, daily, gridded, sectors",
        "geospatial_lat_min": s, "geospatial_lat_max": n,
        "geospatial_lon_min": w, "geospatial_lon_max": e,
        "geospatial_lat_resolution": f"{grid.resolution} degree",
        "geospatial_lon_resolution": f"{grid.resolution} degree",
        "time_coverage_start": start,
        "time_coverage_end": end,
        "time_coverage_resolution": "P1D",
        "date_created": provenance.build_time,
        "carbonmap_contract_version": CONTRACT_VERSION,
        "carbonmap_dataset_id": dataset_id,
        "sectors": list(SECTORS),
        **grid.to_attrs(),
        **provenance.to_attrs(),
    }
    from carbonmap.cf_metadata import global_attributes  # cf_metadata imports this module

    # the same CF/ACDD attributes every NetCDF download carries (creator, geospatial bounds, version, ...);
    # lists and dicts stay JSON in Zarr; ``version`` becomes the release id when the store is sealed
    return global_attributes(attrs, release_id=None, grid=grid, time_start=start, time_end=end, netcdf=False)
