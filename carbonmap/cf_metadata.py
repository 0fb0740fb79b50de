"""CF-1.10 / ACDD-1.3 metadata for every file carbonmap hands out (downloads, release files, Zarr attrs).

:func:`apply_cf` is a pure function: it takes a dataset cut from a cube (any of the contract's
variables on a subset of its grid and days) and the cube's own attributes, and returns a new
dataset with

- ``lat_bnds(lat, nv)`` / ``lon_bnds(lon, nv)``: cell edges in degrees_north / degrees_east, with
  ``bounds`` attributes on ``lat`` and ``lon``;
- ``cell_area(lat, lon)``: m2, the area of each cell on a sphere of the WGS84 authalic radius
  (:data:`AUTHALIC_RADIUS_M`), and ``cell_measures = "area: cell_area"`` on every gridded variable;
- ``crs`` (scalar int32): ``grid_mapping_name = latitude_longitude`` with the WGS84 ellipsoid and
  ``crs_wkt`` (EPSG:4326), and ``grid_mapping = "crs"`` on every gridded variable;
- ``evidence(time, sector, country)`` int8 (when the cut has it) with CF ``flag_values`` /
  ``flag_meanings`` and fill -1, plus the ``carbonmap_data_edge`` global attribute (JSON);
- the CF/ACDD global attributes (:func:`global_attributes`), including ``version`` = the release id
  and the provenance (``provenance_inputs``, ``provenance_proxies``, ``provenance_methods``) as JSON
  text, which the ``license`` and ``summary`` attributes point to.

The pieces (:func:`static_variables`, :func:`global_attributes`, :func:`crs_attrs`) are public so that
writers that stream a file day by day (``/download``) put exactly the same metadata in it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from carbonmap import contract as cc

WGS84_SEMI_MAJOR_AXIS_M = 6378137.0
WGS84_INVERSE_FLATTENING = 298.257223563
AUTHALIC_RADIUS_M = 6371007.1809
"""Radius (m) of the sphere with the WGS84 ellipsoid's surface area; cell areas use it."""

CONVENTIONS = "CF-1.10, ACDD-1.3"
BOUNDS_DIM = "nv"

WGS84_WKT = (
    'GEOGCRS["WGS 84",ENSEMBLE["World Geodetic System 1984 ensemble",'
    'MEMBER["World Geodetic System 1984 (Transit)"],MEMBER["World Geodetic System 1984 (G730)"],'
    'MEMBER["World Geodetic System 1984 (G873)"],MEMBER["World Geodetic System 1984 (G1150)"],'
    'MEMBER["World Geodetic System 1984 (G1674)"],MEMBER["World Geodetic System 1984 (G1762)"],'
    'MEMBER["World Geodetic System 1984 (G2139)"],'
    'ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]],ENSEMBLEACCURACY[2.0]],'
    'PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],CS[ellipsoidal,2],'
    'AXIS["geodetic latitude (Lat)",north,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],'
    'AXIS["geodetic longitude (Lon)",east,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]],'
    'USAGE[SCOPE["Horizontal component of 3D system."],AREA["World."],BBOX[-90,-180,90,180]],ID["EPSG",4326]]'
)
"""OGC WKT2 of EPSG:4326 (as PROJ writes it)."""

CREATOR = {"creator_name": "carbonmap", "creator_type": "institution", "creator_institution": "carbonmap",
           "publisher_name": "carbonmap", "publisher_type": "institution"}

_JSON_ATTRS = ("provenance_inputs", "provenance_proxies", "provenance_methods", "carbonmap_data_edge")
"""Attributes that are lists/dicts in the Zarr store and JSON text in NetCDF."""
_DROP_ATTRS = ("sectors", cc.STATUS_ATTR)


def crs_attrs() -> dict[str, Any]:
    """CF grid-mapping attributes of the ``crs`` variable: WGS84 geographic latitude/longitude."""
    return {
        "grid_mapping_name": "latitude_longitude",
        "semi_major_axis": WGS84_SEMI_MAJOR_AXIS_M,
        "inverse_flattening": WGS84_INVERSE_FLATTENING,
        "longitude_of_prime_meridian": 0.0,
        "crs_wkt": WGS84_WKT,
        "spatial_ref": WGS84_WKT,
        "epsg_code": "EPSG:4326",
        "long_name": "coordinate reference system: WGS 84 geographic (EPSG:4326)",
    }


def cell_bounds(centres: np.ndarray, resolution: float) -> np.ndarray:
    """Edges of cells of width ``resolution`` degrees around ``centres``, dims (n, nv=2), in the
    order the centres run (lower edge first for ascending, upper edge first for descending)."""
    c = np.asarray(centres, dtype=np.float64)
    half = resolution / 2.0
    sign = -1.0 if c.size > 1 and c[1] < c[0] else 1.0
    return np.round(np.stack([c - sign * half, c + sign * half], axis=1), 9)


def cell_area_m2(lat: np.ndarray, lon: np.ndarray, resolution: float) -> np.ndarray:
    """Cell areas in m2 on the sphere of radius :data:`AUTHALIC_RADIUS_M`, dims (lat, lon), float64.

    area = R^2 * dlon(rad) * (sin(lat_north) - sin(lat_south)); a global grid sums to 4 pi R^2."""
    lat = np.asarray(lat, dtype=np.float64)
    north = np.radians(np.clip(lat + resolution / 2.0, -90.0, 90.0))
    south = np.radians(np.clip(lat - resolution / 2.0, -90.0, 90.0))
    row = AUTHALIC_RADIUS_M**2 * math.radians(resolution) * np.abs(np.sin(north) - np.sin(south))
    return np.repeat(row[:, None], np.asarray(lon).size, axis=1)


def static_variables(grid: cc.Grid) -> dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, Any]]]:
    """The grid's CF helper variables, name -> (dims, values, attrs): ``lat_bnds``, ``lon_bnds``
    (degrees), ``cell_area`` (m2, dims (lat, lon)) and ``crs`` (scalar)."""
    return {
        "lat_bnds": (("lat", BOUNDS_DIM), cell_bounds(grid.lat, grid.resolution),
                     {"units": "degrees_north"}),
        "lon_bnds": (("lon", BOUNDS_DIM), cell_bounds(grid.lon, grid.resolution),
                     {"units": "degrees_east"}),
        "cell_area": (("lat", "lon"), cell_area_m2(grid.lat, grid.lon, grid.resolution),
                      {"units": "m2", "standard_name": "cell_area", "long_name": "area of the grid cell",
                       "coverage_content_type": "auxiliaryInformation",
                       "comment": f"spherical, radius {AUTHALIC_RADIUS_M} m (WGS84 authalic sphere)"}),
        "crs": ((), np.array(0, dtype=np.int32), crs_attrs()),
    }


def gridded_variable_attrs() -> dict[str, str]:
    """What every (.., lat, lon) data variable carries: its grid mapping and cell measure."""
    return {"grid_mapping": "crs", "cell_measures": "area: cell_area"}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=False, default=str)


def _day(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()


def _duration(start: str, end: str) -> str:
    """ISO 8601 duration of the inclusive day span start..end ('' when unknown)."""
    try:
        return f"P{(dt.date.fromisoformat(end[:10]) - dt.date.fromisoformat(start[:10])).days + 1}D"
    except ValueError:
        return ""


def global_attributes(dataset_attrs: Mapping[str, Any], *, release_id: str | None, grid: cc.Grid,
                      time_start: Any | None = None, time_end: Any | None = None,
                      time_resolution: str | None = None, netcdf: bool = True) -> dict[str, Any]:
    """CF/ACDD global attributes of a cut of a cube.

    ``dataset_attrs`` are the cube's attributes (``contract.global_attrs``); ``grid`` the cut's grid;
    ``time_start``/``time_end`` its first and last day (inclusive, anything pandas reads), default the
    cube's.  ``netcdf=True`` renders lists and dicts (provenance, data edge) as JSON text and drops
    attributes NetCDF cannot hold; ``False`` keeps them as they are (Zarr attributes)."""
    a = dict(dataset_attrs)
    dataset_id = str(a.get("carbonmap_dataset_id") or a.get("id") or "carbonmap")
    build = str(a.get("date_created") or a.get("provenance_build_time") or "")
    start = _day(time_start) if time_start is not None else str(a.get("time_coverage_start", ""))
    end = _day(time_end) if time_end is not None else str(a.get("time_coverage_end", ""))
    w, s, e, n = grid.bounds
    out: dict[str, Any] = {
        **a,
        "Conventions": CONVENTIONS,
        "title": str(a.get("title") or f"carbonmap {dataset_id}: daily gridded fossil CO2 emissions"),
        "summary": str(a.get("summary") or "Daily gridded fossil CO2 emissions by sector (carbonmap)."),
        "keywords": str(a.get("keywords") or "CO2, fossil emissions, daily, gridded, sectors"),
        "id": dataset_id,
        "naming_authority": str(a.get("naming_authority") or "org.carbonmap"),
        "institution": str(a.get("institution") or "carbonmap"),
        "source": str(a.get("source") or "carbonmap pipeline: national inventories downscaled with spatial proxies"),
        "history": str(a.get("history") or f"{build} built by carbonmap"),
        "references": str(a.get("references") or "https://globalcarbonbudget.org ; https://edgar.jrc.ec.europa.eu"),
        "license": str(a.get("license") or "CC-BY-4.0 (derived from inputs under their own licences, listed in "
                                           "provenance_inputs)"),
        **{k: str(a.get(k) or v) for k, v in CREATOR.items()},
        "standard_name_vocabulary": "CF Standard Name Table v93",
        "processing_level": "L4: model output (national inventories downscaled with spatial and temporal proxies)",
        "cdm_data_type": "Grid",
        "date_created": build,
        "time_coverage_start": start,
        "time_coverage_end": end,
        "time_coverage_resolution": time_resolution or str(a.get("time_coverage_resolution") or "P1D"),
        "geospatial_lat_min": s, "geospatial_lat_max": n, "geospatial_lon_min": w, "geospatial_lon_max": e,
        "geospatial_lat_units": "degrees_north", "geospatial_lon_units": "degrees_east",
        "geospatial_lat_resolution": f"{grid.resolution} degree",
        "geospatial_lon_resolution": f"{grid.resolution} degree",
        "geospatial_bounds": f"POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))",
        "geospatial_bounds_crs": "EPSG:4326",
        "comment": str(a.get("comment") or "kg CO2 per grid cell per UTC day by sector; see provenance_proxies for "
                                           "the parts that are simplified proxies rather than observations"),
        "project": str(a.get("project") or "carbonmap"),
        "acknowledgement": str(a.get("acknowledgement") or "Built from the inputs listed in provenance_inputs; "
                                                           "cite them as well as this dataset."),
        "time_coverage_duration": _duration(start, end),
        "version": release_id or "unreleased",
        "product_version": release_id or "unreleased",
        "provenance_inputs": a.get("provenance_inputs") or [],
        "provenance_proxies": a.get("provenance_proxies") or [],
        "provenance_methods": a.get("provenance_methods") or {},
    }
    if release_id:
        out["carbonmap_release"] = release_id
    if "carbonmap_dataset_id" not in out:
        out["carbonmap_dataset_id"] = dataset_id
    if not netcdf:
        return out
    clean: dict[str, Any] = {}
    for k, v in out.items():
        if k.startswith("_") or k in _DROP_ATTRS:
            continue
        if k in _JSON_ATTRS or isinstance(v, (list, dict, tuple)):
            clean[k] = _text(v)
        elif isinstance(v, (bool, np.bool_)):
            clean[k] = int(v)
        elif isinstance(v, (str, int, float, np.integer, np.floating)):
            clean[k] = v
        elif v is not None:
            clean[k] = str(v)
    return clean


def aggregate_attrs(aggregate: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(emissions, uncertainty) attributes of daily values (``day``), monthly means of the daily values (``month``,
    kg day-1) or annual totals (``year``, kg), with units and cell_methods."""
    em, un = cc.emissions_attrs(), cc.uncertainty_attrs()
    if aggregate == "month":
        em.update(long_name="monthly mean of daily fossil CO2 emissions per grid cell", units="kg day-1",
                  cell_methods="area: sum time: mean (interval: 1 day)",
                  comment="mean over the days of the month in the selection (time_bnds) of the kg CO2 emitted "
                          "in the cell per UTC day")
    elif aggregate == "year":
        em.update(long_name="annual total fossil CO2 emissions per grid cell", units="kg",
                  cell_methods="area: sum time: sum (interval: 1 day)",
                  comment="kg CO2 emitted in the cell over the days of the year in the selection (time_bnds)")
    if aggregate != "day":
        un["comment"] = ("emission-weighted mean of the daily relative 1-sigma: the relative 1-sigma of the "
                         "period's sum if daily errors are fully correlated (an upper bound); 0 where emissions "
                         "are 0")
    return em, un


def evidence_attrs() -> dict[str, Any]:
    """``evidence`` attributes with ``flag_values`` typed like the variable (int8), as CF requires."""
    attrs = cc.evidence_attrs()
    attrs["flag_values"] = np.asarray(attrs["flag_values"], dtype=np.int8)
    attrs["coverage_content_type"] = "qualityInformation"
    return attrs


def coordinate_attrs(name: str) -> dict[str, Any]:
    """CF attributes of a coordinate of the cube (``sector`` loses the flag attributes CF reserves for
    flag variables: the sector names are its values)."""
    attrs = dict(cc.coord_attrs().get(name, {}))
    if name == "sector":
        attrs = {k: v for k, v in attrs.items() if not k.startswith("flag_")}
        attrs["comment"] = "one of: " + ", ".join(cc.SECTORS)
    if name in ("lat", "lon"):
        attrs["bounds"] = f"{name}_bnds"
    return attrs


def skeleton(grid: cc.Grid, periods: list[tuple[Any, Any]], *, release_id: str | None,
             dataset_attrs: Mapping[str, Any], resolution: str = "P1D") -> xr.Dataset:
    """A data-less dataset of ``grid`` and time steps ``periods`` ((first day, day after the last) each, UTC)
    with :func:`apply_cf` applied: what a writer that streams the data itself takes metadata from."""
    ds = xr.Dataset(coords={"lat": ("lat", grid.lat), "lon": ("lon", grid.lon),
                            "time": ("time", pd.to_datetime([p[0] for p in periods]))},
                    attrs={"time_coverage_resolution": resolution})
    ds["time_bnds"] = (("time", BOUNDS_DIM), pd.to_datetime([d for p in periods for d in p]).values.reshape(-1, 2))
    return apply_cf(ds, release_id=release_id, dataset_attrs=dataset_attrs)


def apply_cf(ds: xr.Dataset, *, release_id: str | None, dataset_attrs: Mapping[str, Any]) -> xr.Dataset:
    """``ds`` with CF/ACDD metadata: bounds, cell area (m2), crs, evidence flags, global attributes.

    ``ds`` has ``lat`` (descending) and ``lon`` coordinates on the cube's lattice and optionally
    ``time``/``sector``/``country`` and the contract's variables; it is not modified.  A ``time_bnds``
    variable (dims (time, nv), e.g. of monthly means) sets the coverage end to the last bound minus
    one day; otherwise the coverage is the first to the last ``time``.  ``release_id`` becomes
    ``version``; ``dataset_attrs`` are the cube's attributes."""
    grid = cc.Grid.from_coords(ds["lat"].values, ds["lon"].values)
    out = ds.copy()
    for name in ("lat", "lon", "time", "sector", "country"):
        if name in out.coords:
            merged = {**out[name].attrs, **coordinate_attrs(name)}
            if name == "sector":
                merged = {k: v for k, v in merged.items() if not k.startswith("flag_")}
            out[name].attrs = merged
            if name in ("lat", "lon"):
                out[name].encoding["_FillValue"] = None
    for name, (dims, values, attrs) in static_variables(grid).items():
        out[name] = xr.Variable(dims, values, attrs, encoding={"_FillValue": None})
    for name in (cc.NATIONAL_VAR, cc.EMISSIONS_VAR):
        if name in out:
            out[name].attrs.setdefault("coverage_content_type", "modelResult")
    for key, var in out.data_vars.items():
        if "lat" in var.dims and "lon" in var.dims and key != "cell_area":
            var.attrs.update(gridded_variable_attrs())
    if cc.EVIDENCE_VAR in out:
        ev = out[cc.EVIDENCE_VAR]
        if ev.dtype.kind == "f":
            ev = ev.fillna(cc.EVIDENCE_NO_DATA)
        out[cc.EVIDENCE_VAR] = ev.astype(np.int8)
        out[cc.EVIDENCE_VAR].attrs = {**{k: v for k, v in ev.attrs.items() if k != "_FillValue"}, **evidence_attrs()}
        out[cc.EVIDENCE_VAR].encoding = {"_FillValue": np.int8(cc.EVIDENCE_NO_DATA)}
    start = end = None
    if "time" in out.coords and out.sizes.get("time", 0):
        start = out["time"].values[0]
        end = out["time"].values[-1]
        if "time_bnds" in out:
            end = pd.Timestamp(out["time_bnds"].values.max()) - pd.Timedelta(days=1)
    attrs = global_attributes(dataset_attrs, release_id=release_id, grid=grid, time_start=start, time_end=end,
                              time_resolution=out.attrs.get("time_coverage_resolution"))
    if cc.EVIDENCE_VAR not in out:
        attrs.pop("carbonmap_data_edge", None)
    else:
        attrs["carbonmap_data_edge"] = _text(dataset_attrs.get("carbonmap_data_edge") or {})
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if "history" in ds.attrs and ds.attrs["history"] != attrs.get("history"):
        attrs["history"] = f"{attrs['history']}\n{ds.attrs['history']}"
    attrs["date_modified"] = stamp
    out.attrs = attrs
    return out
