"""The region catalogue: countries, admin-1 units and cities, each with an id, a name and a polygon.

Built from the shipped Natural Earth files (public domain):

- ``country``: admin-0 countries with GCB-compatible ISO3 ids (:func:`ingest.boundaries.read_countries`),
  id = ISO3, e.g. ``DEU``;
- ``admin1``: admin-1 states/provinces of the 9 countries shipped (NE 1:50m), id = ``ADM1-`` + NE
  ``adm1_code``, e.g. ``ADM1-AUS-2651``;
- ``urban_area``: NE 1:50m urban-area polygons, id ``UA0000``... (file order); named after the
  largest populated place inside them;
- ``place``: NE 1:10m populated places with at least :data:`MIN_PLACE_POP` people, id ``PL-`` +
  row number; the polygon is the urban area containing the place or, where there is none, a disc of
  :data:`PLACE_RADIUS_KM` km around the point (a stated approximation, not a city boundary).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carbonmap.contract import Grid, sha256_file
from ingest.base import IngestError
from ingest.boundaries import (
    COUNTRIES_FILE,
    PLACES_FILE,
    URBAN_FILE,
    Coverage,
    coverage_fractions,
    load_coverage,
    read_countries,
    read_places,
    read_urban_areas,
    save_coverage,
)

ADMIN1_FILE = "boundaries/ne_50m_admin_1_states_provinces_9countries.geojson"
MIN_PLACE_POP = 100_000
PLACE_RADIUS_KM = 10.0
REGION_TYPES = ("country", "admin1", "urban_area", "place")
ID_PATTERN = r"^(?:[A-Z]{3}|ADM1-[A-Z]{3}-\d+|UA\d{4}|PL-\d+)$"

DEFINITIONS = {
    "country": "Natural Earth 1:50m country polygon (territory incl. coastal waters only where NE draws them)",
    "admin1": "Natural Earth 1:50m admin-1 (state/province) polygon",
    "urban_area": "Natural Earth 1:50m urban-area polygon (built-up area from satellite, not a city's legal limit)",
    "place": "the Natural Earth urban-area polygon containing this populated place",
    "place_disc": f"a {PLACE_RADIUS_KM:g} km disc around this Natural Earth populated place (no urban-area polygon "
                  "contains it; an approximation, not a city boundary)",
}


class RegionNotInCatalogue(LookupError):
    """No region with that id in the catalogue."""


def _disc(lon: float, lat: float, radius_km: float) -> shapely.Polygon:
    """A disc of ``radius_km`` around (lon, lat) in lon/lat degrees (an ellipse in degrees)."""
    dlat = radius_km / 111.32
    dlon = dlat / max(math.cos(math.radians(lat)), 0.05)
    circle = shapely.Point(0, 0).buffer(1.0, 32)
    return shapely.affinity.affine_transform(circle, [dlon, 0, 0, dlat, lon, lat])


def read_admin1(path: Path) -> gpd.GeoDataFrame:
    """Admin-1 polygons: ``id, name, iso3, kind, geometry``."""
    g = gpd.read_file(path)
    for col in ("adm1_code", "name", "adm0_a3"):
        if col not in g.columns:
            raise IngestError(f"{Path(path).name} lacks the property {col!r}")
    return gpd.GeoDataFrame({"id": "ADM1-" + g["adm1_code"].astype(str), "name": g["name"].astype(str),
                             "iso3": g["adm0_a3"].astype(str), "kind": g.get("type_en", "admin-1").astype(str)},
                            geometry=shapely.make_valid(g.geometry.values), crs=4326)


@dataclass(frozen=True)
class RegionCatalogue:
    """All regions: a GeoDataFrame with ``id, type, name, iso3, population, definition, geometry``."""

    table: gpd.GeoDataFrame

    def get(self, region_id: str) -> pd.Series:
        rows = self.table[self.table["id"] == region_id]
        if rows.empty:
            raise RegionNotInCatalogue(f"no region {region_id!r} in the catalogue; search with GET /regions?q=name")
        return rows.iloc[0]

    def search(self, q: str | None, kind: str | None = None, limit: int = 20) -> pd.DataFrame:
        """Regions whose name or id contains ``q`` (case-insensitive): exact, then prefix, then by population."""
        t = self.table
        if kind is not None:
            if kind not in REGION_TYPES:
                raise ValueError(f"unknown region type {kind!r}; use one of {', '.join(REGION_TYPES)}")
            t = t[t["type"] == kind]
        if q:
            ql = q.strip().lower()
            names, ids = t["name"].str.lower(), t["id"].str.lower()
            hit = names.str.contains(re.escape(ql)) | ids.str.contains(re.escape(ql))
            t = t[hit]
            rank = np.where((t["name"].str.lower() == ql) | (t["id"].str.lower() == ql), 0,
                            np.where(t["name"].str.lower().str.startswith(ql), 1, 2))
            t = t.assign(_rank=rank, _pop=-t["population"].fillna(0)).sort_values(["_rank", "_pop", "id"])
        else:
            t = t.sort_values(["type", "id"])
        return pd.DataFrame(t.drop(columns=[c for c in ("_rank", "_pop", "geometry") if c in t.columns]).head(limit))


def build_catalogue(data_dir: Path) -> RegionCatalogue:
    """The catalogue from the shipped Natural Earth files under ``data_dir``."""
    countries = read_countries(data_dir / COUNTRIES_FILE)
    parts = [gpd.GeoDataFrame({"id": countries["iso3"], "type": "country", "name": countries["name"],
                               "iso3": countries["iso3"], "population": np.nan,
                               "definition": DEFINITIONS["country"]}, geometry=countries.geometry.values, crs=4326)]
    admin1 = read_admin1(data_dir / ADMIN1_FILE)
    parts.append(gpd.GeoDataFrame({"id": admin1["id"], "type": "admin1", "name": admin1["name"], "iso3": admin1["iso3"],
                                   "population": np.nan, "definition": DEFINITIONS["admin1"]},
                                  geometry=admin1.geometry.values, crs=4326))
    urban = read_urban_areas(data_dir / URBAN_FILE)
    places = read_places(data_dir / PLACES_FILE).reset_index(drop=True)
    places["id"] = [f"PL-{i}" for i in range(len(places))]
    pts = gpd.GeoDataFrame(places, geometry=gpd.points_from_xy(places["lon"], places["lat"]), crs=4326)
    joined = gpd.sjoin(pts, urban[["urban_id", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    # urban areas: named after their most populous place
    named = joined.dropna(subset=["urban_id"]).sort_values("pop_max", ascending=False).drop_duplicates("urban_id")
    name_of = dict(zip(named["urban_id"], named["name"] + " (" + named["iso3"] + ")", strict=True))
    pop_of = dict(zip(named["urban_id"], named["pop_max"], strict=True))
    iso_of = dict(zip(named["urban_id"], named["iso3"], strict=True))
    parts.append(gpd.GeoDataFrame({"id": urban["urban_id"], "type": "urban_area",
                                   "name": [name_of.get(u, f"urban area {u}") for u in urban["urban_id"]],
                                   "iso3": [iso_of.get(u) for u in urban["urban_id"]],
                                   "population": [pop_of.get(u, np.nan) for u in urban["urban_id"]],
                                   "definition": DEFINITIONS["urban_area"]}, geometry=urban.geometry.values, crs=4326))
    big = joined[joined["pop_max"].fillna(0) >= MIN_PLACE_POP]
    geom_of_urban = dict(zip(urban["urban_id"], urban.geometry.values, strict=True))
    geoms, defs = [], []
    for _, r in big.iterrows():
        if isinstance(r["urban_id"], str):
            geoms.append(geom_of_urban[r["urban_id"]])
            defs.append(DEFINITIONS["place"])
        else:
            geoms.append(_disc(float(r["lon"]), float(r["lat"]), PLACE_RADIUS_KM))
            defs.append(DEFINITIONS["place_disc"])
    parts.append(gpd.GeoDataFrame({"id": big["id"].values, "type": "place", "name": big["name"].values,
                                   "iso3": big["iso3"].values, "population": big["pop_max"].values,
                                   "definition": defs}, geometry=geoms, crs=4326))
    table = pd.concat(parts, ignore_index=True)
    return RegionCatalogue(gpd.GeoDataFrame(table, geometry="geometry", crs=4326))


def _cache_file(data_dir: Path, cache_dir: Path) -> Path:
    h = hashlib.sha256(b"catalogue-v1")
    for rel in (COUNTRIES_FILE, ADMIN1_FILE, URBAN_FILE, PLACES_FILE):
        h.update(sha256_file(data_dir / rel).encode())
    return cache_dir / "regions" / f"catalogue_{h.hexdigest()[:20]}.parquet"


@lru_cache(maxsize=2)
def load_catalogue(data_dir: Path, cache_dir: Path | None = None) -> RegionCatalogue:
    """The catalogue for ``data_dir``, built once and kept as GeoParquet in ``cache_dir`` (keyed by the
    sha256 of the input files; a damaged cache file is rebuilt)."""
    data_dir = Path(data_dir)
    if cache_dir is None:
        return build_catalogue(data_dir)
    path = _cache_file(data_dir, Path(cache_dir))
    if path.is_file():
        try:
            return RegionCatalogue(gpd.read_parquet(path))
        except Exception:  # noqa: BLE001 - any unreadable cache is rebuilt, never trusted
            path.unlink(missing_ok=True)
    cat = build_catalogue(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        cat.table.to_parquet(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return cat


URBAN_COVERAGE_VERSION = "urban-union-v1"
"""Bump when the way urban coverage is computed changes (part of its cache key)."""


def urban_union(urban: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Urban-area polygons dissolved into disjoint parts: columns ``id`` (``UP0000``...), ``geometry``.

    NE urban areas overlap a little (0.01% of their area); dissolving first means a cell's summed
    coverage over the parts is the exact share of the cell that is urban, overlaps counted once.
    """
    geoms = urban.geometry.values
    parts = shapely.get_parts(shapely.union_all(geoms[~shapely.is_empty(geoms)])) if len(geoms) else np.array([])
    parts = [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    return gpd.GeoDataFrame({"id": [f"UP{i:04d}" for i in range(len(parts))]}, geometry=parts, crs=4326)


def urban_coverage(grid: Grid, urban: gpd.GeoDataFrame) -> Coverage:
    """Exact coverage fractions of the dissolved urban areas (:func:`urban_union`) on ``grid``.

    One ``Coverage`` row per (urban part, cell); summed per cell it is the urban share of the cell, 0..1.
    """
    return coverage_fractions(urban_union(urban), grid, id_col="id")


def _urban_cache_file(grid: Grid, sha: str, cache_dir: Path) -> Path:
    key = hashlib.sha256(f"{URBAN_COVERAGE_VERSION}|{sha}|{grid.bounds}|{grid.resolution}".encode()).hexdigest()[:20]
    return cache_dir / "coverage" / f"urban_{grid.resolution:g}deg_{key}.parquet"


def cached_urban_coverage(grid: Grid, path: Path | None = None, cache_dir: Path | None = None) -> Coverage:
    """Urban-area coverage on ``grid`` from the shipped NE 1:50m urban areas, cached like country coverage.

    Read through :func:`ingest.boundaries.read_urban_areas`; cached as Parquet in ``cache_dir``
    (default ``Settings.cache_dir``) keyed by (grid resolution and bounds, sha256 of the urban file,
    :data:`URBAN_COVERAGE_VERSION`).  A damaged cache file is rebuilt, never trusted.
    """
    import pyarrow as pa

    from carbonmap.settings import get_settings

    settings = get_settings()
    path = Path(path) if path is not None else settings.data_dir / URBAN_FILE
    if not path.is_file():
        raise IngestError(f"urban areas file not found: {path}")
    cache = _urban_cache_file(grid, sha256_file(path), Path(cache_dir) if cache_dir is not None else settings.cache_dir)
    if cache.exists():
        try:
            return load_coverage(cache)
        except (OSError, ValueError, KeyError, pa.ArrowException):
            cache.unlink(missing_ok=True)
    cov = urban_coverage(grid, read_urban_areas(path))
    save_coverage(cov, cache)
    return cov
