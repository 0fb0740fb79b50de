"""Write the web map's static base layers from the shipped Natural Earth files (public domain).

``python web/basemap.py`` writes, atomically:

- ``api/static/basemap/countries.geojson``: country outlines (EPSG:4326, lon/lat degrees), simplified
  and rounded, with properties ``iso3`` (the same code rule as the pipeline, ``ingest.boundaries``)
  and ``name``; the page draws them and finds the country under a click with them;
- ``api/static/basemap/places.json``: populated places with at least ``MIN_POPULATION`` people,
  ``[[name, iso3, lon, lat, pop_max], ...]`` (degrees, persons), for the search box;
- the city-zoom basemap (issue #17; loaded by the page only when zoomed in, drawn under and over the
  emissions layer): ``admin1/<ISO3>.geojson`` (a country's state/province borders as lines, NE 1:10m admin-1
  simplified to ``ADMIN1_SIMPLIFY_DEG``; the page fetches the countries in view), ``urban.geojson`` (NE 1:50m built-up areas) and ``places_city.json`` (every NE
  populated place of ``CITY_MIN_POPULATION`` or more, ``[[name, lon, lat, pop_max], ...]``, for labels).

Run it when data/boundaries changes; the outputs are committed so a fresh clone needs nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from carbonmap.settings import get_settings
from ingest.admin1 import ADMIN1_TOPO_FILE, NAMES_FILE, read_admin1
from ingest.boundaries import read_countries, read_places, read_urban_areas

OUT_DIR = REPO / "api" / "static" / "basemap"
COUNTRIES_FILE = "ne_50m_admin_0_countries.json"
PLACES_FILE = "ne_10m_populated_places_simple.json"
SIMPLIFY_DEG = 0.08
"""Douglas-Peucker tolerance, degrees (about 8 km): outlines stay recognisable at city zooms."""
DECIMALS = 2
MIN_POPULATION = 300_000
URBAN_FILE = "ne_50m_urban_areas.json"
ADMIN1_SIMPLIFY_DEG = 0.03
"""About 3 km: state and province borders stay right at city zooms."""
CITY_MIN_POPULATION = 50_000


def _round(geom: shapely.Geometry) -> dict:
    return json.loads(shapely.to_geojson(shapely.set_precision(geom, 10.0 ** -DECIMALS)))


def countries_geojson(data_dir: Path) -> dict:
    """FeatureCollection of simplified country outlines with ``iso3`` and ``name``."""
    g = read_countries(data_dir / "boundaries" / COUNTRIES_FILE)
    features = []
    for iso3, name, geom in zip(g["iso3"], g["name"], g.geometry, strict=True):
        simple = shapely.simplify(geom, SIMPLIFY_DEG, preserve_topology=True)
        if simple.is_empty:
            continue
        features.append({"type": "Feature", "properties": {"iso3": str(iso3), "name": str(name)},
                         "geometry": _round(simple)})
    return {"type": "FeatureCollection", "features": features}


def places_list(data_dir: Path) -> list[list]:
    """``[name, iso3, lon, lat, pop_max]`` of places with at least MIN_POPULATION people, largest first."""
    p = read_places(data_dir / "boundaries" / PLACES_FILE)
    p = p[p["pop_max"] >= MIN_POPULATION].sort_values("pop_max", ascending=False)
    return [[str(r.name), str(r.iso3), round(float(r.lon), 3), round(float(r.lat), 3), int(r.pop_max)]
            for r in p.itertuples(index=False)]


def admin1_by_country(data_dir: Path) -> dict[str, dict]:
    """Per country (ISO3), a FeatureCollection of its admin-1 borders as one deduplicated line geometry
    (shared borders once; simplified to ADMIN1_SIMPLIFY_DEG, 0.01 degree precision).  The page loads the files
    of the countries in view only."""
    a = read_admin1(data_dir / ADMIN1_TOPO_FILE, data_dir / NAMES_FILE)
    out = {}
    for iso3, part in a.groupby("iso3"):
        if not isinstance(iso3, str) or len(iso3) != 3 or len(part) < 2:
            continue
        lines = shapely.line_merge(shapely.union_all([shapely.boundary(g) for g in part.geometry]))
        line = shapely.set_precision(shapely.simplify(lines, ADMIN1_SIMPLIFY_DEG), 0.01)
        if not line.is_empty:
            out[iso3] = {"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"iso3": iso3}, "geometry": json.loads(shapely.to_geojson(line))}]}
    return out


def urban_geojson(data_dir: Path) -> dict:
    """FeatureCollection of NE 1:50m built-up areas (0.005 degree precision)."""
    u = read_urban_areas(data_dir / "boundaries" / URBAN_FILE)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": str(i)},
         "geometry": json.loads(shapely.to_geojson(shapely.set_precision(g, 0.005)))}
        for i, g in zip(u["urban_id"], u.geometry, strict=True) if not g.is_empty]}


def city_places(data_dir: Path) -> list[list]:
    """``[name, lon, lat, pop_max]`` of places with at least CITY_MIN_POPULATION people, largest first."""
    p = read_places(data_dir / "boundaries" / PLACES_FILE)
    p = p[p["pop_max"] >= CITY_MIN_POPULATION].sort_values("pop_max", ascending=False)
    return [[str(r.name), round(float(r.lon), 3), round(float(r.lat), 3), int(r.pop_max)]
            for r in p.itertuples(index=False)]


def write_json(path: Path, obj: object) -> int:
    """Write compact JSON atomically; returns its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path.stat().st_size


def main() -> None:
    data_dir = get_settings().data_dir
    n1 = write_json(OUT_DIR / "countries.geojson", countries_geojson(data_dir))
    n2 = write_json(OUT_DIR / "places.json", places_list(data_dir))
    n3 = sum(write_json(OUT_DIR / "admin1" / f"{iso3}.geojson", fc) for iso3, fc in admin1_by_country(data_dir).items())
    n4 = write_json(OUT_DIR / "urban.geojson", urban_geojson(data_dir))
    n5 = write_json(OUT_DIR / "places_city.json", city_places(data_dir))
    print(f"countries.geojson {n1 / 1024:.0f} KiB, places.json {n2 / 1024:.0f} KiB, admin1/*.geojson {n3 / 1024:.0f} "
          f"KiB, urban.geojson {n4 / 1024:.0f} KiB, places_city.json {n5 / 1024:.0f} KiB -> {OUT_DIR}")


if __name__ == "__main__":
    main()
