"""Global shipping lanes (schematic lines, CIA 2012 "Map of the World's Oceans") and a lane-length grid.

File: ``activity/shipping/shipping_lanes_v1_cia2012.geojson.gz``: P. Benden's georeferencing of the
shipping routes of the CIA's October 2012 map (newzealandpaul/Shipping-Lanes, v1).  Three
``MultiLineString`` features whose property ``Type`` is ``Major``, ``Middle`` or ``Minor`` ("importance
of shipping lanes, which does correspond somewhat with traffic", the publisher's README).  These are
drawn lanes, **not traffic density**: a proxy for where international shipping emits, to be weighted
by class at most.

Licence: ambiguous.  The README says "Creative Commons Attribution-ShareAlike 4.0 ... that explicitly
excludes Statista" but links CC BY 4.0, and the LICENSE file is CC BY 4.0 "(Excluding Statista)".
carbonmap treats it as **share-alike** (CC BY-SA 4.0, the stricter reading): derived grids carry the
attribution and the same licence.

:func:`lane_density` returns, per cell of a regular global grid (the :class:`carbonmap.contract.Grid`
convention: rows from +90 down to -90, i.e. north-up, columns from -180 eastward), the length of lane
lying in the cell in km.  Each lon/lat-straight segment is cut exactly at the cell edges and each piece
is measured with the haversine formula (mean Earth radius 6,371.0088 km); pieces are at most one cell
long, so the sum converges to the length of the lines as drawn.
"""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carbonmap.contract import ContractError, Grid
from ingest.base import BaseAdapter, Data, IngestError, SourceInfo

LANES_FILE = "activity/shipping/shipping_lanes_v1_cia2012.geojson.gz"
LANES_URL = ("https://raw.githubusercontent.com/newzealandpaul/Shipping-Lanes/"
             "19b451763ebc1301b9ea73d39cec2543ba14e7fd/data/Shipping_Lanes_v1.geojson")
CLASSES: dict[str, int] = {"Major": 1, "Middle": 2, "Minor": 3}
"""Lane class (the file's ``Type``) -> rank (1 = most important)."""
EARTH_RADIUS_KM = 6371.0088
OUT_COLUMNS = ("lane_id", "lane_class", "rank", "length_km", "geometry")

INFO = SourceInfo(
    name="shipping_lanes",
    title="Global shipping lanes v1 (CIA 2012 Map of the World's Oceans, georeferenced by P. Benden)",
    kind="activity",
    licence="ambiguous: README says CC BY-SA 4.0 (excluding Statista), LICENSE file CC BY 4.0; treated as CC BY-SA 4.0",
    url="https://github.com/newzealandpaul/Shipping-Lanes",
    shipped=(LANES_FILE,),
    note="schematic lanes (Major/Middle/Minor), not traffic density; share-alike assumed",
)


def haversine_km(lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray) -> np.ndarray:
    """Great-circle distance between (lon0, lat0) and (lon1, lat1) in degrees, km, elementwise."""
    p0, p1 = np.radians(lat0), np.radians(lat1)
    dphi, dlmb = p1 - p0, np.radians(np.asarray(lon1) - np.asarray(lon0))
    a = np.sin(dphi / 2) ** 2 + np.cos(p0) * np.cos(p1) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def line_length_km(coords: np.ndarray, step_deg: float = 0.05) -> float:
    """Length of a polyline drawn straight in lon/lat (an (n, 2) array), km.

    Segments are split into pieces of at most ``step_deg`` degrees, each measured with the haversine
    formula: the length of the line as drawn on the map, not of the great circles between vertices.
    """
    c = np.asarray(shapely.segmentize(shapely.LineString(coords), step_deg).coords)
    return float(haversine_km(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1]).sum()) if len(c) > 1 else 0.0


def read_shipping_lanes(path: Path) -> gpd.GeoDataFrame:
    """Lane lines (EPSG:4326), one row per part: ``lane_id, lane_class, rank, length_km, geometry``.

    ``lane_class`` is the file's ``Type`` lower-cased (major, middle, minor), ``rank`` 1..3 (1 = major),
    ``length_km`` the length of the line as drawn (:func:`line_length_km`); ``lane_id`` ``<class>-<part>`` in file order.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"shipping lanes file not found: {path}")
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IngestError(f"{path.name} is not readable (gzip-compressed) GeoJSON: {e}") from e
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise IngestError(f"{path.name} is not a GeoJSON FeatureCollection")
    crs = json.dumps(doc.get("crs") or {})
    if doc.get("crs") and "CRS84" not in crs and "4326" not in crs:
        raise IngestError(f"{path.name}: coordinates must be lon/lat (CRS84/EPSG:4326), the file declares {crs}")
    rows: list[dict[str, Any]] = []
    for i, feat in enumerate(doc["features"]):
        props = feat.get("properties") or {}
        cls = props.get("Type")
        if cls not in CLASSES:
            raise IngestError(f"{path.name}: feature {i} has Type {cls!r}; expected one of {sorted(CLASSES)}")
        geom = feat.get("geometry") or {}
        kind, coords = geom.get("type"), geom.get("coordinates")
        parts = [coords] if kind == "LineString" else coords if kind == "MultiLineString" else None
        if not isinstance(parts, list):
            raise IngestError(f"{path.name}: feature {i} has geometry {kind!r}; lanes must be (Multi)LineStrings")
        for j, part in enumerate(parts):
            try:
                c = np.asarray(part, dtype=float)
            except (TypeError, ValueError) as e:
                raise IngestError(f"{path.name}: feature {i} part {j} has non-numeric coordinates") from e
            if c.ndim != 2 or c.shape[1] < 2 or len(c) < 2 or not np.isfinite(c[:, :2]).all():
                raise IngestError(f"{path.name}: feature {i} part {j} is not a line of >= 2 finite positions")
            c = c[:, :2]
            if (np.abs(c[:, 0]) > 180.0 + 1e-6).any() or (np.abs(c[:, 1]) > 90.0 + 1e-6).any():
                raise IngestError(f"{path.name}: feature {i} part {j} has positions outside lon/lat bounds "
                                  f"(projected coordinates?)")
            c = np.clip(c, [-180.0, -90.0], [180.0, 90.0])  # the file has 180.0000000000001 at the antimeridian
            rows.append({"lane_id": f"{cls.lower()}-{len([r for r in rows if r['lane_class'] == cls.lower()])}",
                         "lane_class": cls.lower(), "rank": CLASSES[cls], "length_km": line_length_km(c),
                         "geometry": shapely.LineString(c)})
    if not rows:
        raise IngestError(f"{path.name} has no lane lines")
    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=4326)
    out.attrs.update({"source_file": path.name, "units": "length_km: km"})
    return out


def _pieces(c: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut a polyline at the grid's cell edges: (row, col, length_km) of every piece."""
    r, west, north = grid.resolution, grid.west, grid.north
    rows, cols, lens = [], [], []
    for (x0, y0), (x1, y1) in itertools.pairwise(c):
        ts = [np.array([0.0, 1.0])]
        for a0, a1, origin in ((x0, x1, west), (y0, y1, grid.south)):
            if a1 != a0:
                lo, hi = min(a0, a1), max(a0, a1)
                k = np.arange(np.floor((lo - origin) / r) + 1, np.ceil((hi - origin) / r))
                ts.append((origin + k * r - a0) / (a1 - a0))
        t = np.unique(np.clip(np.concatenate(ts), 0.0, 1.0))
        xs, ys = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        tm = (t[:-1] + t[1:]) / 2
        xm, ym = x0 + tm * (x1 - x0), y0 + tm * (y1 - y0)
        cols.append(np.floor((xm - west) / r).astype(np.int64))
        rows.append(np.floor((north - ym) / r).astype(np.int64))
        lens.append(haversine_km(xs[:-1], ys[:-1], xs[1:], ys[1:]))
    if not lens:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(lens)


def lane_density(grid_resolution_deg: float, lanes: gpd.GeoDataFrame,
                 weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Lane length per cell of the global grid of ``grid_resolution_deg``, km, dims (lat, lon), north-up.

    Row 0 is the cell band just below +90, the last row the band just above -90 (``Grid.lat`` order);
    column 0 starts at -180.  ``weights`` (optional, by ``lane_class``) scales each class's length, e.g.
    ``{"major": 3, "middle": 2, "minor": 1}``; unweighted by default.  The grand total equals the summed
    ``length_km`` of the lanes up to the cutting (pieces <= one cell long).
    """
    try:
        grid = Grid(float(grid_resolution_deg))
    except (ContractError, TypeError, ValueError) as e:
        raise IngestError(f"bad grid resolution {grid_resolution_deg!r}: {e}") from e
    if "lane_class" not in lanes.columns:
        raise IngestError("lanes need a 'lane_class' column (from read_shipping_lanes)")
    if lanes.crs is not None and lanes.crs.to_epsg() != 4326:
        raise IngestError(f"lanes must be in EPSG:4326, got {lanes.crs}")
    out = np.zeros(grid.shape, dtype=np.float64)
    for cls, geom in zip(lanes["lane_class"], lanes.geometry, strict=True):
        w = 1.0 if weights is None else float(weights.get(str(cls), 0.0))
        if w == 0.0 or geom is None or geom.is_empty:
            continue
        for part in shapely.get_parts(geom):
            row, col, km = _pieces(np.asarray(part.coords)[:, :2], grid)
            np.add.at(out, (np.clip(row, 0, grid.nlat - 1), np.clip(col, 0, grid.nlon - 1)), w * km)
    return out


class ShippingLanesAdapter(BaseAdapter):
    """Shipping-lane lines (GeoDataFrame); grids come from :func:`lane_density`."""

    info = INFO
    url: str = LANES_URL

    def download(self, start: date, end: date) -> list[Path]:
        """The publisher's GeoJSON at the pinned commit (one version; the period is ignored)."""
        from ingest.download import fetch

        return [fetch(self.url, source=self.info.name, settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> gpd.GeoDataFrame:
        if len(paths) != 1:
            raise IngestError("shipping lanes take exactly one GeoJSON file")
        return read_shipping_lanes(paths[0])

    def validate(self, data: Data) -> None:
        if not isinstance(data, gpd.GeoDataFrame) or any(c not in data.columns for c in OUT_COLUMNS):
            raise IngestError(f"shipping lanes must be a GeoDataFrame with {OUT_COLUMNS}")
        if not set(data["lane_class"]) <= {c.lower() for c in CLASSES}:
            raise IngestError(f"unknown lane classes {sorted(set(data['lane_class']))}")
        if (data["length_km"] <= 0).any():
            raise IngestError("lane lines must have a positive length")

    def write(self, data: Data, out_path: Path, inputs: Sequence[Path] = ()) -> Path:
        from ingest.admin1 import write_geoparquet_atomic

        self.validate(data)
        assert isinstance(data, gpd.GeoDataFrame)
        return write_geoparquet_atomic(data, out_path, self.provenance(inputs))
