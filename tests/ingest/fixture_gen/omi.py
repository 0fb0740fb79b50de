"""Format-exact OMI OMNO2d v003 daily granule (HDF-EOS5 ``.he5``) with SYNTHETIC pixels.

What NASA GES DISC delivers for one day is ``OMI-Aura_L3-OMNO2d_YYYYmMMDD_v003-<production time>.he5``;
:func:`make_omno2d_he5` writes that layout with h5py:

- ``/HDFEOS/GRIDS/ColumnAmountNO2/Data Fields/`` with the five OMNO2d fields ``ColumnAmountNO2``,
  ``ColumnAmountNO2CloudScreened``, ``ColumnAmountNO2Trop``, ``ColumnAmountNO2TropCloudScreened`` and
  ``Weight``, float32 (720, 1440) = (YDim, XDim), row 0 the southernmost (-89.875), column 0 at
  -179.875 (the OMI L2G/L3 "origin at lower left" grid), deflate-compressed.  Field attributes
  ``Title``, ``Units`` (``molec/cm2``), ``Description``, ``_FillValue`` and ``MissingValue``
  (-1.2676506e30), ``ScaleFactor`` (1.0), ``Offset`` (0.0), ``UniqueFieldDefinition``.
- grid attributes on ``/HDFEOS/GRIDS/ColumnAmountNO2``: ``GCTPProjectionCode`` 0, ``Projection``
  "Geographic", ``GridOrigin`` "Center", ``GridSpacing`` "(0.25, 0.25)", ``GridSpacingUnit`` "deg",
  ``GridSpan`` "(-180,180,-90,90)", ``GridSpanUnit`` "deg", ``NumberOfLongitudesInGrid`` 1440,
  ``NumberOfLatitudesInGrid`` 720;
- ``/HDFEOS/ADDITIONAL/FILE_ATTRIBUTES`` (InstrumentName, ProcessLevel "3d", Period "Daily",
  GranuleYear/Month/Day/DayOfYear, TAI93At0zOfGranule, OrbitCount, StartOrbit, EndOrbit, OrbitNumber,
  Resolution, PGE "OMNO2d", PGEVersion, StartUTC, EndUTC, InputPointer);
- ``/HDFEOS INFORMATION`` (attribute ``HDFEOSVersion`` "HDFEOS_5.1.12") with the 32,000-byte
  ``StructMetadata.0`` (grid "ColumnAmountNO2", XDim 1440, YDim 720, HE5_GCTP_GEO).

Where each name comes from (checked with the search tool, 2026):

- the shipped ``data/satellite/no2/romania_OMI-Aura_L3-OMNO2d_ymonmean_2015_2019.nc4`` is a CDO
  product of GES DISC OMNO2d granules and carries their HDF-EOS5 metadata flattened: the grid
  attributes above with these exact values, ``HDFEOS_INFORMATION.HDFEOSVersion = HDFEOS_5.1.12``,
  every FILE_ATTRIBUTES name above, and for ``ColumnAmountNO2CloudScreened`` ``_FillValue
  -1.2676506e+30``, units ``molec/cm2``, its title and ``Description`` text, ``fullnamepath
  /HDFEOS/GRIDS/ColumnAmountNO2/Data Fields/ColumnAmountNO2CloudScreened``, ``orig_dimname_list
  YDim XDim``;
- HARP's OMI_L3_OMNO2d ingestion (stcorp.github.io/harp) reads lon/lat from
  ``/HDFEOS/GRIDS/ColumnAmountNO2@GridSpacing`` and ``@NumberOfLongitudesInGrid``/``@NumberOfLatitudesInGrid``
  and the time from ``/HDFEOS/ADDITIONAL/FILE_ATTRIBUTES@TAI93At0zOfGranule``;
- h5py readers of real granules (public code) open ``HDFEOS/GRIDS/ColumnAmountNO2/Data Fields/
  ColumnAmountNO2TropCloudScreened``; the HDF-EOS zoo OMI L3 example reads ``Title``/``Units`` and
  ``dset.fillvalue`` and builds lat = -89.875 + 0.25 i (lower-left origin), as the OMNO2G/OMCLDO2G
  file specifications state; the OMNO2d file specification (v1.1) lists the five fields with
  ``Weight`` as the statistical weight.
- Assumed, not seen verbatim: the ``Title``/``Description`` texts of the fields other than
  ``ColumnAmountNO2CloudScreened`` (built by analogy), ``ScaleFactor``/``Offset``/``UniqueFieldDefinition``
  values (1.0, 0.0, "OMI-Specific", as other OMI L3 products), and the StructMetadata corner
  encoding (written like other HE5_GCTP_GEO grids, UpperLeftPointMtrs=(-180000000,-90000000) for
  the lower-left origin).

**The pixels are SYNTHETIC** and the file says so: root attributes ``carbonmap_synthetic = "true"``
and ``carbonmap_synthetic_note``.  Tropospheric columns: a 1e15 molec cm-2 background with a
latitude gradient, hot spots at real emission centres (Bucharest, the Ruhr, Po valley, Beijing, ...),
positive/negative retrieval noise; orbit gaps (a 3-degree band of longitude every 27 degrees is fill,
shifting by day, as OMI's row anomaly leaves stripes) and cloud screening (a further ~25 % of cells fill in the
``CloudScreened`` fields only).  Total = tropospheric + a 3e15 stratospheric column.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime
from pathlib import Path

import numpy as np

from ingest.hdfeos import struct_metadata_text, write_num_attr, write_str_attr, write_struct_metadata

GRID_NAME = "ColumnAmountNO2"
DATA_FIELDS = f"HDFEOS/GRIDS/{GRID_NAME}/Data Fields"
FILL = np.float32(-1.2676506e30)
NLAT, NLON, RES = 720, 1440, 0.25
FIELDS = ("ColumnAmountNO2", "ColumnAmountNO2CloudScreened", "ColumnAmountNO2Trop",
          "ColumnAmountNO2TropCloudScreened", "Weight")
_QA = ("SolarZenithAngle=[0:85],CloudFraction=[0:{cf}],VcdQualityFlags=~19,XTrackQualityFlags=~[1:254],"
       "TerrainReflectivity=[0:1000]")
TITLES = {
    "ColumnAmountNO2": ("NO2 vertical column density, all-sky", "ColumnAmountNO2", 1000),
    "ColumnAmountNO2CloudScreened": ("NO2 vertical column density, screened for CloudFraction < 30%",
                                     "ColumnAmountNO2", 300),
    "ColumnAmountNO2Trop": ("NO2 tropospheric column density, all-sky", "ColumnAmountNO2Trop", 1000),
    "ColumnAmountNO2TropCloudScreened": ("NO2 tropospheric column density, screened for CloudFraction < 30%",
                                         "ColumnAmountNO2Trop", 300),
}
HOT_SPOTS = ((26.1, 44.4, 6e15), (7.0, 51.4, 9e15), (10.0, 45.3, 8e15), (116.4, 39.9, 1.5e16),
             (-74.0, 40.7, 8e15), (28.0, -26.2, 9e15), (-118.2, 34.0, 7e15), (139.7, 35.7, 8e15))
"""(lon, lat, peak tropospheric NO2 in molec cm-2) of synthetic plumes at real emission centres."""
SYNTHETIC_NOTE = ("Data Fields pixels are SYNTHETIC: generated by carbonmap tests/ingest/fixture_gen/omi.py in the OMNO2d "
                  "v003 HDF-EOS5 layout (groups, names, dtypes, attributes, fill values, StructMetadata.0). "
                  "Not an observation.")
TAI93 = datetime(1993, 1, 1)
LEAP_SECONDS = (date(1993, 7, 1), date(1994, 7, 1), date(1996, 1, 1), date(1997, 7, 1), date(1999, 1, 1),
                date(2006, 1, 1), date(2009, 1, 1), date(2012, 7, 1), date(2015, 7, 1), date(2017, 1, 1))
"""UTC leap seconds inserted after 1993-01-01 (TAI93 counts them)."""


def granule_name(day: date, production: datetime | None = None) -> str:
    """``OMI-Aura_L3-OMNO2d_YYYYmMMDD_v003-YYYYmMMDDtHHMMSS.he5`` as GES DISC names the daily file."""
    p = production or datetime(day.year, day.month, day.day, 8, 15, 7)
    return f"OMI-Aura_L3-OMNO2d_{day:%Y}m{day:%m%d}_v003-{p:%Y}m{p:%m%d}t{p:%H%M%S}.he5"


def synthetic_fields(day: date, seed: int = 0) -> dict[str, np.ndarray]:
    """The five Data Fields, float32 (720, 1440), row 0 south, FILL where no data."""
    rng = np.random.default_rng(seed + day.toordinal())
    lat = -90.0 + (np.arange(NLAT) + 0.5) * RES
    lon = -180.0 + (np.arange(NLON) + 0.5) * RES
    lon2, lat2 = np.meshgrid(lon, lat)
    trop = 0.8e15 + 0.6e15 * np.cos(np.radians(lat2 - 35.0)) ** 4
    for x, y, peak in HOT_SPOTS:
        r2 = ((lon2 - x) * np.cos(np.radians(y))) ** 2 + (lat2 - y) ** 2
        trop += peak * np.exp(-r2 / (2 * 1.2**2))
    trop += rng.normal(0.0, 0.3e15, trop.shape)  # retrieval noise: clean cells can go negative
    total = trop + 3.0e15 + 0.5e15 * np.sin(np.radians(lat2)) ** 2
    gap = (((lon2 + 180.0 + 7.0 * day.toordinal()) % 27.0) < 3.0) | (np.abs(lat2) > 80.0)
    cloudy = rng.random(trop.shape) < 0.25
    weight = np.where(gap, 0.0, rng.uniform(0.5, 4.0, trop.shape))
    out = {
        "ColumnAmountNO2": np.where(gap, FILL, total),
        "ColumnAmountNO2CloudScreened": np.where(gap | cloudy, FILL, total),
        "ColumnAmountNO2Trop": np.where(gap, FILL, trop),
        "ColumnAmountNO2TropCloudScreened": np.where(gap | cloudy, FILL, trop),
        "Weight": weight,
    }
    return {k: v.astype(np.float32) for k, v in out.items()}


def make_omno2d_he5(out_dir: Path, day: date = date(2020, 4, 15), *, seed: int = 0,
                    fields: dict[str, np.ndarray] | None = None) -> Path:
    """Write one OMNO2d daily granule in the real HDF-EOS5 layout (atomic) into ``out_dir``; return its path.

    ``fields`` overrides the synthetic Data Fields (float32 (720, 1440), row 0 south, FILL = no data).
    """
    import h5py

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / granule_name(day)
    data = fields if fields is not None else synthetic_fields(day, seed)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with h5py.File(tmp, "w", libver="earliest") as h5:
            write_str_attr(h5, "carbonmap_synthetic", "true")
            write_str_attr(h5, "carbonmap_synthetic_note", SYNTHETIC_NOTE)
            _file_attributes(h5.create_group("HDFEOS/ADDITIONAL/FILE_ATTRIBUTES"), day)
            grid = h5.create_group(f"HDFEOS/GRIDS/{GRID_NAME}")
            write_num_attr(grid, "GCTPProjectionCode", 0, np.int32)
            write_str_attr(grid, "Projection", "Geographic")
            write_str_attr(grid, "GridOrigin", "Center")
            write_str_attr(grid, "GridSpacing", "(0.25, 0.25)")
            write_str_attr(grid, "GridSpacingUnit", "deg")
            write_str_attr(grid, "GridSpan", "(-180,180,-90,90)")
            write_str_attr(grid, "GridSpanUnit", "deg")
            write_num_attr(grid, "NumberOfLongitudesInGrid", NLON, np.int32)
            write_num_attr(grid, "NumberOfLatitudesInGrid", NLAT, np.int32)
            df = grid.create_group("Data Fields")
            for name in FIELDS:
                if name not in data:
                    continue
                arr = np.asarray(data[name], dtype=np.float32)
                ds = df.create_dataset(name, data=arr, chunks=(min(arr.shape[0], 180), min(arr.shape[1], 360)),
                                       compression="gzip", compression_opts=5, fillvalue=FILL)
                _field_attrs(ds, name)
            smd = struct_metadata_text(GRID_NAME, NLON, NLAT, (-180000000.0, -90000000.0),
                                       (180000000.0, 90000000.0),
                                       [(n, np.dtype(np.float32)) for n in FIELDS if n in data],
                                       grid_origin="HE5_HDFE_GD_LL")
            write_struct_metadata(h5, smd)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _field_attrs(ds, name: str) -> None:
    if name == "Weight":
        write_str_attr(ds, "Title", "Sum of weights of the contributing Level 2 pixels")
        write_str_attr(ds, "Units", "NoUnits")
        write_num_attr(ds, "_FillValue", FILL, np.float32)
        write_num_attr(ds, "MissingValue", FILL, np.float32)
    else:
        title, src, cf = TITLES[name]
        write_str_attr(ds, "Title", title)
        write_str_attr(ds, "Units", "molec/cm2")
        write_str_attr(ds, "Description", f"Field={src},StdField={src}Std," + _QA.format(cf=cf))
        write_num_attr(ds, "_FillValue", FILL, np.float32)
        write_num_attr(ds, "MissingValue", FILL, np.float32)
    write_num_attr(ds, "ScaleFactor", 1.0, np.float64)
    write_num_attr(ds, "Offset", 0.0, np.float64)
    write_str_attr(ds, "UniqueFieldDefinition", "OMI-Specific")


def _file_attributes(g, day: date) -> None:
    orbit0 = 29062 + 15 * (day.toordinal() - date(2010, 1, 1).toordinal())
    orbits = np.arange(orbit0, orbit0 + 15, dtype=np.int32)
    write_str_attr(g, "InputPointer", ",".join(
        f"OMI-Aura_L2-OMNO2_{day:%Y}m{day:%m%d}t{(k * 99) // 60:02d}{(k * 99) % 60:02d}-o{o}_v003-synthetic.he5"
        for k, o in enumerate(orbits)))
    write_str_attr(g, "InstrumentName", "OMI")
    write_str_attr(g, "ProcessLevel", "3d")
    write_str_attr(g, "Period", "Daily")
    write_num_attr(g, "GranuleYear", day.year, np.int32)
    write_num_attr(g, "GranuleMonth", day.month, np.int32)
    write_num_attr(g, "GranuleDay", day.day, np.int32)
    write_num_attr(g, "GranuleDayOfYear", day.timetuple().tm_yday, np.int32)
    write_num_attr(g, "StartUTC", day.year, np.float64)
    write_str_attr(g, "EndUTC", f"{date.fromordinal(day.toordinal() + 1):%Y-%m-%d}T00:00:00.000000Z")
    leaps = sum(1 for d in LEAP_SECONDS if d <= day)
    tai = (datetime(day.year, day.month, day.day) - TAI93).total_seconds() + leaps  # 536371207.0 on 2010-01-01
    write_num_attr(g, "TAI93At0zOfGranule", tai, np.float64)
    write_num_attr(g, "OrbitCount", orbits.size, np.int32)
    write_num_attr(g, "StartOrbit", orbits[0], np.int32)
    write_num_attr(g, "EndOrbit", orbits[-1], np.int32)
    g.attrs.create("OrbitNumber", orbits)
    write_str_attr(g, "Resolution", " 0.250 degrees")
    write_str_attr(g, "PGE", "OMNO2d")
    write_str_attr(g, "PGEVersion", '\\"1.0.5.03\\"')
