"""HDF-EOS5 grid files (OMI OMNO2d ``.he5``, VIIRS Black Marble VNP46A2 ``.h5``): opening, metadata, regridding.

An HDF-EOS5 grid file is an HDF5 file with the layout::

    /HDFEOS/ADDITIONAL/FILE_ATTRIBUTES        (group; granule attributes)
    /HDFEOS/GRIDS/<GridName>                  (group; grid attributes, e.g. OMNO2d's GridSpacing)
    /HDFEOS/GRIDS/<GridName>/Data Fields/<f>  (datasets, dims ("YDim", "XDim"))
    /HDFEOS INFORMATION                       (group; attribute HDFEOSVersion)
    /HDFEOS INFORMATION/StructMetadata.0      (scalar fixed-length string dataset, ODL text)

``StructMetadata.0`` is ODL text (``GROUP=GridStructure`` / ``GROUP=GRID_1`` / ``GridName="..."``,
``XDim=``, ``YDim=``, ``UpperLeftPointMtrs=(x,y)``, ``LowerRightMtrs=(x,y)``, ``Projection=HE5_GCTP_GEO``,
``OBJECT=DataField_n`` with ``DataFieldName``, ``DataType``, ``DimList``).  For ``HE5_GCTP_GEO`` the corner
"metres" are degrees in packed DMS (``DDDMMMSSS.SS``), i.e. degrees x 1e6 for whole degrees, as the
HDF-EOS zoo examples decode them (``lon = x / 1e6``).  Attributes are fixed-length strings or
one-element numeric arrays; h5py returns strings as ``bytes``.

:func:`area_mean` regrids a regular lat/lon field onto a carbonmap :class:`~carbonmap.contract.Grid` by
**exact area-weighted averaging** of the valid source cells: the overlap of a source and a target
cell on the sphere is ``dlon x (sin(lat_n) - sin(lat_s))`` of their intersection, separable in lat
and lon, so the mean is ``(A_lat @ (v * m) @ A_lon.T) / (A_lat @ m @ A_lon.T)`` with sparse overlap
matrices ``A`` and the valid mask ``m``.  It handles any ratio of resolutions (0.25 -> 0.1 splits
cells; 1/240 -> 0.1 averages 24 x 24 pixels) and reports the valid-area fraction of every cell.
:func:`area_sums` returns the numerator and denominator separately, so that partial coverages (the
tiles of one day) add up exactly: a mosaic cell's mean is ``sum(num) / sum(den)`` over its tiles.

**Streaming** (:func:`stack_days`, :func:`ingest.canonical.write_zarr_atomic`): the readers of many granules
(a year of OMI days, many VIIRS tiles and days) build one ``dask.delayed`` task per file that
returns that file's regridded values on the (small) target grid; :func:`stack_days` assembles them
into dask arrays ``(time, lat, lon)`` chunked :func:`time_chunk` days at a time, and
:func:`ingest.canonical.write_zarr_atomic` writes them to Zarr chunk by chunk (Zarr chunks = those time chunks),
atomically: a task's :class:`~ingest.base.IngestError` (naming its file) aborts the write, the
thread pool is drained, and the temporary store is removed, so nothing is written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from carbonmap.contract import Grid
from ingest.base import IngestError

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
STRUCT_METADATA = "HDFEOS INFORMATION/StructMetadata.0"
STRUCT_METADATA_SIZE = 32000
"""Real HDF-EOS5 files store StructMetadata.0 as one fixed-length string of 32,000 bytes."""


def is_hdfeos(path: Path) -> bool:
    """True if ``path`` is an HDF5 file with an ``/HDFEOS`` group (not a plain netCDF-4 file)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            if f.read(8) != HDF5_MAGIC:
                return False
    except OSError:
        return False
    import h5py

    try:
        with h5py.File(path, "r") as h5:
            return "HDFEOS" in h5
    except (OSError, ValueError):
        return path.suffix.lower() in (".he5", ".h5")  # a damaged granule: let its reader say why


def open_hdf5(path: Path, what: str) -> Any:
    """``h5py.File`` opened read-only; IngestError if missing, not HDF5, or truncated."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{what} file not found: {path}")
    try:
        return h5py.File(path, "r")
    except (OSError, ValueError) as e:
        raise IngestError(f"{path.name} is not a readable HDF-EOS5/HDF5 file (truncated or corrupt): {e}") from e


def read_array(ds: Any, name: str) -> np.ndarray:
    """All of dataset ``ds``; IngestError if a chunk cannot be read (a corrupt file)."""
    try:
        return np.asarray(ds[...])
    except (OSError, ValueError, RuntimeError) as e:
        raise IngestError(f"{name}: dataset {ds.name} cannot be read (corrupt file): {e}") from e


def attr(obj: Any, name: str, default: Any = None) -> Any:
    """Attribute ``name`` (case-insensitive) as str for strings, a Python scalar for 1-element arrays."""
    keys = {k.lower(): k for k in obj.attrs}
    k = keys.get(name.lower())
    if k is None:
        return default
    v = obj.attrs[k]
    if isinstance(v, bytes):
        return v.decode("ascii", "replace").rstrip("\x00").strip()
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "S":
            return b"".join(v.ravel()).decode("ascii", "replace").rstrip("\x00").strip()
        if v.size == 1:
            return v.reshape(-1)[0].item()
        return v
    if isinstance(v, np.generic):
        return v.item()
    return v


def require(h5: Any, path: str, name: str, what: str) -> Any:
    """Object at ``path``; IngestError naming what the file holds instead."""
    if path in h5:
        return h5[path]
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    found = sorted(h5[parent].keys()) if parent and parent in h5 else sorted(h5.keys())
    raise IngestError(f"{name}: no {path!r} in this {what} file (found {found}); not a {what} granule?")


# ---------------------------------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class GridStructure:
    """One ``GRID_n`` of StructMetadata.0."""

    name: str
    xdim: int
    ydim: int
    upper_left: tuple[float, float]
    """(x, y) as written (degrees x 1e6 for HE5_GCTP_GEO)."""
    lower_right: tuple[float, float]
    projection: str
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Data field name -> DimList."""

    def bounds_deg(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees (GEO projection)."""
        x0, y0 = (v / 1e6 for v in self.upper_left)
        x1, y1 = (v / 1e6 for v in self.lower_right)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    @property
    def north_up(self) -> bool:
        """True if row 0 is the northern edge (UpperLeft y > LowerRight y)."""
        return self.upper_left[1] > self.lower_right[1]


_NUM = r"[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?"


def parse_struct_metadata(text: str) -> dict[str, GridStructure]:
    """Grids described in StructMetadata.0 ODL text, by GridName (IngestError if it has none)."""
    grids: dict[str, GridStructure] = {}
    for block in re.findall(r"GROUP=GRID_\d+(.*?)END_GROUP=GRID_\d+", text, flags=re.DOTALL):
        def get(key: str, blk: str = block) -> str | None:
            m = re.search(rf"^\s*{key}=(.+)$", blk, flags=re.MULTILINE)
            return m.group(1).strip() if m else None

        name, xd, yd = get("GridName"), get("XDim"), get("YDim")
        ul = re.search(rf"UpperLeftPointMtrs=\(({_NUM}),({_NUM})\)", block)
        lr = re.search(rf"LowerRightMtrs=\(({_NUM}),({_NUM})\)", block)
        if not (name and xd and yd and ul and lr):
            continue
        fields = {}
        for obj in re.findall(r"OBJECT=DataField_\d+(.*?)END_OBJECT=DataField_\d+", block, flags=re.DOTALL):
            fn = re.search(r'DataFieldName="([^"]+)"', obj)
            dl = re.search(r"DimList=\(([^)]*)\)", obj)
            if fn:
                fields[fn.group(1)] = tuple(d.strip().strip('"') for d in dl.group(1).split(",")) if dl else ()
        grids[name.strip('"')] = GridStructure(
            name=name.strip('"'), xdim=int(xd), ydim=int(yd),
            upper_left=(float(ul.group(1)), float(ul.group(2))), lower_right=(float(lr.group(1)), float(lr.group(2))),
            projection=get("Projection") or "", fields=fields)
    if not grids:
        raise IngestError("StructMetadata.0 describes no grid (GROUP=GridStructure / GRID_n missing)")
    return grids


def read_struct_metadata(h5: Any, name: str) -> dict[str, GridStructure]:
    if STRUCT_METADATA not in h5:
        raise IngestError(f"{name}: no {STRUCT_METADATA!r}; not an HDF-EOS5 file")
    raw = h5[STRUCT_METADATA][()]
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
    return parse_struct_metadata(text.rstrip("\x00"))


_H5_TYPES = {np.dtype(np.float32): "H5T_NATIVE_FLOAT", np.dtype(np.float64): "H5T_NATIVE_DOUBLE",
             np.dtype(np.uint8): "H5T_NATIVE_UCHAR", np.dtype(np.uint16): "H5T_NATIVE_USHORT",
             np.dtype(np.int16): "H5T_NATIVE_SHORT", np.dtype(np.int32): "H5T_NATIVE_INT"}


def struct_metadata_text(grid_name: str, xdim: int, ydim: int, upper_left: tuple[float, float],
                         lower_right: tuple[float, float], fields: Sequence[tuple[str, np.dtype]],
                         *, grid_origin: str = "HE5_HDFE_GD_UL", pixel_registration: str = "HE5_HDFE_CENTER",
                         extra: str = "") -> str:
    """StructMetadata.0 ODL text of one GEO grid, as the HDF-EOS5 library writes it (for fixtures)."""
    t = "\t"
    out = ["GROUP=SwathStructure", "END_GROUP=SwathStructure", "GROUP=GridStructure", f"{t}GROUP=GRID_1",
           f'{t*2}GridName="{grid_name}"', f"{t*2}XDim={xdim}", f"{t*2}YDim={ydim}",
           f"{t*2}UpperLeftPointMtrs=({upper_left[0]:.6f},{upper_left[1]:.6f})",
           f"{t*2}LowerRightMtrs=({lower_right[0]:.6f},{lower_right[1]:.6f})",
           f"{t*2}Projection=HE5_GCTP_GEO", f"{t*2}GridOrigin={grid_origin}",
           f"{t*2}PixelRegistration={pixel_registration}"]
    if extra:
        out.append(extra)
    out += [f"{t*2}GROUP=Dimension", f"{t*2}END_GROUP=Dimension", f"{t*2}GROUP=DataField"]
    for i, (fname, dtype) in enumerate(fields, 1):
        out += [f"{t*3}OBJECT=DataField_{i}", f'{t*4}DataFieldName="{fname}"',
                f"{t*4}DataType={_H5_TYPES[np.dtype(dtype)]}", f'{t*4}DimList=("YDim","XDim")',
                f'{t*4}MaxdimList=("YDim","XDim")', f"{t*3}END_OBJECT=DataField_{i}"]
    out += [f"{t*2}END_GROUP=DataField", f"{t*2}GROUP=MergedFields", f"{t*2}END_GROUP=MergedFields",
            f"{t}END_GROUP=GRID_1", "END_GROUP=GridStructure", "GROUP=PointStructure", "END_GROUP=PointStructure",
            "GROUP=ZaStructure", "END_GROUP=ZaStructure", "END", ""]
    return "\n".join(out)


def write_str_attr(obj: Any, name: str, value: str) -> None:
    """A fixed-length ASCII string attribute (H5T_C_S1, NULLTERM), as the HDF-EOS5 library writes them."""
    obj.attrs.create(name, np.bytes_(value.encode("ascii")))


def write_num_attr(obj: Any, name: str, value: Any, dtype: Any) -> None:
    """A numeric attribute as a 1-element (or n-element) array, as the HDF-EOS5 library writes them."""
    obj.attrs.create(name, np.atleast_1d(np.asarray(value, dtype=dtype)))


def write_struct_metadata(h5: Any, text: str) -> None:
    import h5py

    info = h5.require_group("HDFEOS INFORMATION")
    write_str_attr(info, "HDFEOSVersion", "HDFEOS_5.1.12")
    raw = text.encode("ascii")
    if len(raw) >= STRUCT_METADATA_SIZE:
        raise ValueError("StructMetadata.0 text too long")
    info.create_dataset("StructMetadata.0", data=np.bytes_(raw), dtype=h5py.string_dtype("ascii", STRUCT_METADATA_SIZE))


# ---------------------------------------------------------------------------------------------------- regridding


def _overlaps(src_edges: np.ndarray, dst_edges: np.ndarray, measure: Callable[[np.ndarray], np.ndarray],
              tol: float) -> Any:
    """Sparse (n_dst, n_src) matrix of ``measure(hi) - measure(lo)`` of each intersection (edges ascending)."""
    from scipy import sparse

    rows, cols, vals = [], [], []
    ns = src_edges.size - 1
    for i in range(dst_edges.size - 1):
        lo, hi = dst_edges[i], dst_edges[i + 1]
        j0 = max(int(np.searchsorted(src_edges, lo, side="right")) - 1, 0)
        j1 = min(int(np.searchsorted(src_edges, hi, side="left")), ns)
        if j1 <= j0:
            continue
        j = np.arange(j0, j1)
        a = np.maximum(src_edges[j], lo)
        b = np.minimum(src_edges[j + 1], hi)
        ok = b - a > tol
        if ok.any():
            rows.append(np.full(int(ok.sum()), i))
            cols.append(j[ok])
            vals.append(measure(b[ok]) - measure(a[ok]))
    if not rows:
        return sparse.csr_matrix((dst_edges.size - 1, ns))
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(dst_edges.size - 1, ns))


def _sin_deg(x: np.ndarray) -> np.ndarray:
    return np.sin(np.radians(x))


def area_sums(values: np.ndarray, valid: np.ndarray, lat_edges: np.ndarray, lon_edges: np.ndarray,
              grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """``(num, den)`` per cell of ``grid``, float64 (nlat, nlon) north-up: ``num`` = sum over the valid source
    cells of value x overlapped area, ``den`` = valid overlapped area (both in sr; area = dlon x d(sin lat)).

    ``values``/``valid`` are (ny, nx) on a regular lat/lon lattice with row edges ``lat_edges``
    (ny + 1, ascending or descending) and column edges ``lon_edges`` (nx + 1, ascending), degrees.
    Sums of several sources (tiles) on one grid add up; :func:`mean_fraction` turns them into a mean.
    """
    v = np.asarray(values, dtype=np.float64)
    m = np.asarray(valid, dtype=bool) & np.isfinite(v)
    lat_edges = np.asarray(lat_edges, dtype=np.float64)
    lon_edges = np.asarray(lon_edges, dtype=np.float64)
    if v.shape != (lat_edges.size - 1, lon_edges.size - 1) or m.shape != v.shape:
        raise ValueError(f"values {v.shape} do not match edges ({lat_edges.size - 1}, {lon_edges.size - 1})")
    if lat_edges[0] > lat_edges[-1]:  # north-up source: flip to ascending
        lat_edges, v, m = lat_edges[::-1], v[::-1], m[::-1]
    r = grid.resolution
    # intersections thinner than a millionth of a pixel are rounding slivers of coincident edges
    tol = 1e-6 * min(r, float(np.min(np.diff(lon_edges))), float(np.min(np.diff(lat_edges))))
    dst_lat = grid.south + np.arange(grid.nlat + 1) * r  # ascending
    dst_lon = grid.west + np.arange(grid.nlon + 1) * r
    a_lat = _overlaps(lat_edges, dst_lat, _sin_deg, tol)  # (nlat, ny), sin-latitude overlaps
    a_lon = _overlaps(lon_edges, dst_lon, lambda x: np.radians(x), tol)  # (nlon, nx), radians
    mf = m.astype(np.float64)
    num = (a_lon @ (a_lat @ np.where(m, v, 0.0)).T).T  # (nlat, nlon)
    den = (a_lon @ (a_lat @ mf).T).T
    return num[::-1].copy(), den[::-1].copy()  # north-up


def cell_area_sr(grid: Grid) -> np.ndarray:
    """Cell areas of ``grid`` on the unit sphere (sr), (nlat, 1) north-up, from the same edges as :func:`area_sums`."""
    r = grid.resolution
    dst_lat = grid.south + np.arange(grid.nlat + 1) * r
    return ((_sin_deg(dst_lat[1:]) - _sin_deg(dst_lat[:-1]))[:, None] * math.radians(r))[::-1]


def mean_fraction(num: np.ndarray, den: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, fraction)`` from :func:`area_sums` (or their sums over tiles): ``num / den`` (NaN where
    ``den`` is 0) and valid area / cell area clipped to 0..1; float64 (nlat, nlon) north-up."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(den > 0, num / den, np.nan)
    return mean, np.clip(den / cell_area_sr(grid), 0.0, 1.0)


def area_mean(values: np.ndarray, valid: np.ndarray, lat_edges: np.ndarray, lon_edges: np.ndarray,
              grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Area-weighted mean of the valid source cells per cell of ``grid``, and the valid-area fraction.

    ``values``/``valid`` are (ny, nx) on a regular lat/lon lattice with row edges ``lat_edges``
    (ny + 1, ascending or descending) and column edges ``lon_edges`` (nx + 1, ascending), degrees.
    Returns ``(mean, fraction)``, both float64 (nlat, nlon) north-up on ``grid``: mean is NaN where no
    valid source area overlaps the cell; fraction is valid overlapped area / cell area (0..1).
    """
    num, den = area_sums(values, valid, lat_edges, lon_edges, grid)
    return mean_fraction(num, den, grid)


# ---------------------------------------------------------------------------------------------------- streaming

TIME_CHUNK_DAYS = 8
"""Most days per Zarr/dask time chunk of a streamed output."""
CHUNK_BYTES = 64 * 2**20
"""Target size of one variable's time chunk (float32): fewer days per chunk on big grids."""


def time_chunk(grid: Grid, max_days: int = TIME_CHUNK_DAYS) -> int:
    """Days per time chunk on ``grid``: at most ``max_days`` and at most :data:`CHUNK_BYTES` of float32."""
    per_day = 4 * grid.nlat * grid.nlon
    return int(max(1, min(max_days, CHUNK_BYTES // per_day)))


def stack_days(tasks: Sequence[Any], n_vars: int, grid: Grid, chunk_days: int) -> list[Any]:
    """``n_vars`` dask arrays ``(time, lat, lon)`` float32 from one delayed task per day.

    Each task returns a float32 array ``(n_vars, 1, nlat, nlon)`` (that day's variables on ``grid``);
    the result is chunked ``chunk_days`` days x the whole grid, so computing one chunk runs only its
    days' tasks.
    """
    import dask.array as da

    if not tasks:
        raise IngestError("no files to stream")
    shape = (n_vars, 1, grid.nlat, grid.nlon)
    parts = [da.from_delayed(t, shape=shape, dtype=np.float32) for t in tasks]
    x = da.concatenate(parts, axis=1).rechunk((n_vars, max(1, int(chunk_days)), grid.nlat, grid.nlon))
    return [x[i] for i in range(n_vars)]


