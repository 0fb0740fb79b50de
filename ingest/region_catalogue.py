"""The region catalogue: countries, admin-1 units and cities, each with an id, names and a polygon.

Built from the shipped Natural Earth files (public domain):

- ``country``: admin-0 countries, GCB-compatible ISO3 ids (:func:`ingest.boundaries.read_countries`);
- ``admin1``: all 4,855 states/provinces, NE 1:10m (:func:`ingest.admin1.read_admin1`); id = the file's
  ISO 3166-2 code (``CN-SH``, ``DE-BY``), else ``adm1:<adm0_a3>:<n>``; local-script and other-language
  names where the data has them (9 countries); polygons as read (valid, not simplified: measured in
  docs/regions.md).  The old 1:50m ids ``ADM1-<adm1_code>`` still resolve in :meth:`RegionCatalogue.get`;
- ``urban_area``: NE 1:50m urban areas, id ``UA0000``... (file order), named after the most populous
  place inside them (or a place outside every outline for which it is the nearest within :data:`PLACE_SNAP_KM`);
- ``place``: NE 1:10m populated places of :data:`MIN_PLACE_POP`+ people, id ``PL-`` + row number in 4
  digits (``PL-18`` is an admin-1 code in this file; old ids below 1000 still resolve).  Polygon: the urban
  land within :data:`PLACE_SNAP_KM` nearer to the place than to any other such place (Voronoi, see
  :func:`voronoi_cells`), plus a :data:`PLACE_RADIUS_KM` disc where the point lies outside the generalised
  outlines (Manhattan does); with no urban land near, the disc alone (a stated approximation).

Search (:meth:`RegionCatalogue.search`): :func:`normalise`-d ids, names, local and alternative names and
aliases (:data:`ALIASES_FILE`); exact, prefix, word prefix, substring, then :data:`LEVEL`, population, name.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carbonmap.atomic import atomic_path
from carbonmap.contract import Grid, sha256_file
from carbonmap.errors import NotFound
from ingest.admin1 import ADMIN1_TOPO_FILE, NAMES_FILE, read_admin1
from ingest.base import IngestError
from ingest.boundaries import (
    COUNTRIES_FILE,
    NE_ALIASES,
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
from ingest.geojson_points import read_point_features

ADMIN1_FILE = ADMIN1_TOPO_FILE
ADMIN1_NAMES_FILE = NAMES_FILE
ALIASES_FILE = "boundaries/region_aliases.csv"
CATALOGUE_VERSION = "catalogue-v4"  # bump when the way the catalogue is built changes (part of its cache key)
MIN_PLACE_POP = 100_000
PLACE_RADIUS_KM = 10.0
PLACE_SNAP_KM = 5.0
REGION_TYPES = ("country", "admin1", "urban_area", "place")
LEVEL = {"country": 0, "admin1": 1, "place": 2, "urban_area": 3}  # search order among equally good matches
ID_PATTERN = (r"^(?:[A-Z]{3}|[A-Z]{2}-(?:[A-Z]|[0-9]){1,3}|(?:adm1|ADM1):[A-Z]{3}:[0-9]+|ADM1-[A-Z]{3}-[0-9]+"
              r"|UA[0-9]{4}|PL-[0-9]+)$")
COLUMNS = ("id", "type", "name", "name_local", "names_alt", "aliases", "iso3", "subtype", "population",
           "definition", "legacy_id", "geometry")
CN_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")
"""Chinese administrative suffixes: 上海 finds 上海市 as an exact match, 内蒙古 finds 内蒙古自治区."""

DEFINITIONS = {
    "country": "Natural Earth 1:50m country polygon (territory incl. coastal waters only where NE draws them)",
    "admin1": "Natural Earth 1:10m admin-1 (state/province) polygon",
    "urban_area": "Natural Earth 1:50m urban-area polygon (built-up area from satellite, not a city's legal limit)",
    "place": f"the Natural Earth urban land within {PLACE_SNAP_KM:g} km of this place nearer to it than to any other "
             f"place of {MIN_PLACE_POP:,}+ people (built-up area split by nearest place, not a legal city limit)",
    "place_outside": f"the Natural Earth urban land within {PLACE_SNAP_KM:g} km of this place plus a {PLACE_RADIUS_KM:g} "
                     "km disc (the place lies outside the 1:50m outlines), the part nearer to it than to any other "
                     f"place of {MIN_PLACE_POP:,}+ people",
    "place_disc": f"a {PLACE_RADIUS_KM:g} km disc around this Natural Earth populated place (no urban-area polygon "
                  "is near it; an approximation, not a city boundary)",
}
_FOLD = str.maketrans({"ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th",
                       "Þ": "th", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i", "'": "", "’": "", "ʼ": ""})


class RegionNotInCatalogue(NotFound):
    """No region with that id in the catalogue."""


def normalise(text: str) -> str:
    """Search form of a name: NFKD, combining marks dropped, casefolded, non-letters/digits to single spaces:
    ``"São Paulo" -> "sao paulo"``, ``"Ｓｈａｎｇｈａｉ" -> "shanghai"``, ``"Côtes-d'Armor" -> "cotes darmor"``."""
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", str(text)).translate(_FOLD)).casefold()
    cats = [(c, unicodedata.category(c)) for c in s]
    return " ".join("".join(c if k[0] in "LNM" else " " for c, k in cats if k != "Mn").split())


def _disc(lon: float, lat: float, radius_km: float) -> shapely.Polygon:
    """A disc of ``radius_km`` around (lon, lat) in lon/lat degrees (an ellipse in degrees)."""
    dlat = radius_km / 111.32
    dlon = dlat / max(math.cos(math.radians(lat)), 0.05)
    circle = shapely.Point(0, 0).buffer(1.0, 32)
    return shapely.affinity.affine_transform(circle, [dlon, 0, 0, dlat, lon, lat])


def _polygonal(g: Any) -> Any:
    """The polygonal part of a geometry (an intersection may add lines or points), empty Polygon if none."""
    g = g if g.is_valid else shapely.make_valid(g)
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    return shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")])


def _parts(v: Any) -> list[str]:  # '|'-joined text -> parts; [] for None and NaN (Parquet's missing string)
    return v.split("|") if isinstance(v, str) else []


def _joined(values: Any) -> str | None:
    """'|'-join distinct non-empty strings (None if there are none)."""
    out: list[str] = []
    for v in values:
        for part in (str(v).split("|") if isinstance(v, str) else ()):
            part = part.strip()
            if part and part != "-99" and part not in out:
                out.append(part)
    return "|".join(out) if out else None


def read_aliases(path: Path) -> pd.DataFrame:
    """The alias table: ``alias, name, iso3, types, source`` (one row per alias and target; '#' lines skipped)."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"region alias file not found: {path}")
    t = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False, encoding="utf-8")
    if list(t.columns) != ["alias", "name", "iso3", "types", "source"]:
        raise IngestError(f"{path.name}: columns must be alias, name, iso3, types, source; got {list(t.columns)}")
    if (empty := (t.apply(lambda c: c.str.strip()) == "").any(axis=1)).any():
        raise IngestError(f"{path.name}: data row {int(np.flatnonzero(empty)[0]) + 1} has an empty field")
    bad = sorted({x for v in t["types"] for x in v.split("|")} - set(REGION_TYPES))
    if bad:
        raise IngestError(f"{path.name}: unknown region types {bad}; use {', '.join(REGION_TYPES)}")
    return t


def apply_aliases(table: pd.DataFrame, aliases: pd.DataFrame, source: str = "aliases") -> pd.Series:
    """Per catalogue row, its aliases '|'-joined (None where none): each alias goes to every row of its
    ``iso3`` and ``types`` whose name or alternative name normalises to the alias's ``name``."""
    names = [{normalise(n) for n in [r["name"], *_parts(r["names_alt"])] if n}
             for r in table[["name", "names_alt"]].to_dict("records")]
    out: list[list[str]] = [[] for _ in range(len(table))]
    for a in aliases.to_dict("records"):
        target, types = normalise(a["name"]), set(a["types"].split("|"))
        rows = [i for i in np.flatnonzero((table["iso3"] == a["iso3"]).to_numpy() & table["type"].isin(types).to_numpy())
                if target in names[i]]
        if not rows:
            raise IngestError(f"{source}: alias {a['alias']!r} -> {a['name']!r} ({a['iso3']}, {a['types']}) matches "
                              "no region in the catalogue; fix its name, iso3 or types")
        for i in rows:
            out[i].append(a["alias"])
    return pd.Series([_joined(v) for v in out], index=table.index, dtype=object)


def _frame(rows: dict[str, Any], geometry: Any) -> gpd.GeoDataFrame:
    """Catalogue rows: columns of ``rows`` (sequences, or one value for all), None where absent."""
    n = len(geometry)
    cols = {c: [rows[c]] * n if isinstance(rows.get(c), str) else list(rows.get(c, [None] * n))
            for c in COLUMNS if c != "geometry"}
    return gpd.GeoDataFrame(cols, geometry=list(geometry), crs=4326)


def admin1_regions(data_dir: Path) -> gpd.GeoDataFrame:
    """Catalogue rows of the NE 1:10m admin-1 units (see the module docstring)."""
    a = read_admin1(data_dir / ADMIN1_FILE, data_dir / ADMIN1_NAMES_FILE)
    iso3 = a["iso3"].replace(NE_ALIASES)
    names = [n if isinstance(n, str) and n else f"unnamed admin-1 unit {i} ({adm if isinstance(adm, str) else '?'})"
             for n, i, adm in zip(a["name"], a["id"], a["admin"], strict=True)]
    props = [ft.get("properties") or {} for ft in json.loads((data_dir / ADMIN1_NAMES_FILE).read_text("utf-8"))["features"]]
    legacy = {p["iso_3166_2"]: f"ADM1-{p['adm1_code']}" for p in props if p.get("iso_3166_2") and p.get("adm1_code")}
    subtype = a["type"] if "type" in a.columns else pd.Series([None] * len(a))
    return _frame({"id": a["id"], "type": "admin1", "name": names, "name_local": a["name_local"],
                   "names_alt": a["names_alt"], "iso3": iso3, "subtype": subtype, "definition": DEFINITIONS["admin1"],
                   "legacy_id": [legacy.get(c) for c in a["iso_3166_2"]]}, a.geometry.values)


def voronoi_cells(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Each point's Voronoi cell as a lon/lat polygon (degrees), built in Web Mercator.

    Mercator is conformal, so near each point the cell boundaries are the true perpendicular bisectors
    (the split of a city's built-up area between neighbouring places); edges are densified before
    mapping back to lon/lat.  Points with equal coordinates share a cell.
    """
    x = np.radians(np.asarray(lon, dtype=float))
    y = np.log(np.tan(np.pi / 4 + np.radians(np.clip(np.asarray(lat, dtype=float), -85.0, 85.0)) / 2))
    uniq, inv = np.unique(np.round(np.column_stack([x, y]), 12), axis=0, return_inverse=True)
    cells = np.asarray(shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(uniq), extend_to=shapely.box(-4.0, -4.0, 4.0, 4.0), ordered=True)))
    if len(cells) != len(uniq):  # fewer than 2 distinct points, or a GEOS change
        raise IngestError(f"Voronoi split gave {len(cells)} cells for {len(uniq)} places")

    def back(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([np.degrees(xy[:, 0]), np.degrees(2 * np.arctan(np.exp(xy[:, 1])) - np.pi / 2)])

    return np.asarray(shapely.transform(shapely.segmentize(cells, 0.005), back))[np.ravel(inv)]


def _near_urban(points: pd.DataFrame, urban: gpd.GeoDataFrame) -> pd.DataFrame:
    """(place index, urban_id, distance in degrees, inside) of every urban polygon within PLACE_SNAP_KM."""
    discs = gpd.GeoDataFrame(geometry=[_disc(x, y, PLACE_SNAP_KM) for x, y in points[["lon", "lat"]].to_numpy()],
                             index=points.index, crs=4326)
    j = gpd.sjoin(discs, urban[["urban_id", "geometry"]], how="inner", predicate="intersects")
    pts = shapely.points(points.loc[j.index, "lon"].to_numpy(), points.loc[j.index, "lat"].to_numpy())
    geoms = urban.set_index("urban_id").geometry.loc[j["urban_id"]].values
    return pd.DataFrame({"place": j.index, "urban_id": j["urban_id"].to_numpy(),
                         "dist": shapely.distance(pts, geoms), "inside": shapely.contains(geoms, pts)})


def city_regions(data_dir: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Catalogue rows of the urban areas and of the places with at least MIN_PLACE_POP people."""
    urban = read_urban_areas(data_dir / URBAN_FILE)
    places = read_places(data_dir / PLACES_FILE).reset_index(drop=True)
    alt = read_point_features(data_dir / PLACES_FILE, {k: k for k in ("name", "namepar", "namealt", "nameascii")})
    if len(alt) != len(places) or not (alt["name"].astype(str) == places["name"].astype(str)).all():
        raise IngestError(f"{PLACES_FILE}: alternative names do not line up with the places")
    places["names_alt"] = [_joined([v for v in r[1:] if v != r[0]]) for r in alt.iloc[:, 2:].to_numpy()]
    places["id"] = [f"PL-{i:04d}" for i in range(len(places))]  # 4 digits: never an ISO 3166-2 code like PL-18
    places["legacy_id"] = [f"PL-{i}" if i < 1000 else None for i in range(len(places))]
    near = _near_urban(places, urban)
    # an urban area is named after its most populous place: inside it, or outside every outline and nearest to it
    inside_any = near.groupby("place")["inside"].any()
    own = near[near["inside"] | ~near["place"].map(inside_any)].sort_values("dist").drop_duplicates("place")
    own = own.assign(pop=places.loc[own["place"], "pop_max"].fillna(0).to_numpy())
    namer = own.sort_values("pop", ascending=False).drop_duplicates("urban_id").set_index("urban_id")["place"]
    by = {u: places.loc[p] for u, p in namer.items()}
    ua = urban["urban_id"]
    urban_rows = _frame({
        "id": ua, "type": "urban_area", "definition": DEFINITIONS["urban_area"],
        "name": [f"{by[u]['name']} ({by[u]['iso3']})" if u in by else f"urban area {u}" for u in ua],
        "names_alt": [_joined([by[u]["name"], by[u]["names_alt"]]) if u in by else None for u in ua],
        "iso3": [by[u]["iso3"] if u in by else None for u in ua],
        "population": [by[u]["pop_max"] if u in by else np.nan for u in ua]}, urban.geometry.values)
    big = places[places["pop_max"].fillna(0) >= MIN_PLACE_POP]
    cells = voronoi_cells(big["lon"].to_numpy(), big["lat"].to_numpy())
    geom_of = dict(zip(urban["urban_id"], urban.geometry.values, strict=True))
    parts = near[near["place"].isin(big.index)].groupby("place")["urban_id"].agg(list)
    geoms, defs = [], []
    for cell, (i, r) in zip(cells, big.iterrows(), strict=True):
        disc = _disc(float(r["lon"]), float(r["lat"]), PLACE_RADIUS_KM)
        if i not in parts.index:
            geoms.append(disc)
            defs.append(DEFINITIONS["place_disc"])
            continue
        land = shapely.union_all([geom_of[u] for u in parts[i]])
        outside = not land.contains(shapely.Point(r["lon"], r["lat"]))
        land = shapely.union(land, disc) if outside else land
        piece = _polygonal(shapely.intersection(land, cell))
        geoms.append(piece if not piece.is_empty else land)
        defs.append(DEFINITIONS["place_outside" if outside else "place"])
    place_rows = _frame({"id": big["id"], "type": "place", "name": big["name"],
                         "names_alt": big["names_alt"], "iso3": big["iso3"], "population": big["pop_max"],
                         "definition": defs, "legacy_id": big["legacy_id"]}, geoms)
    return urban_rows, place_rows


def build_catalogue(data_dir: Path) -> RegionCatalogue:
    """The catalogue from the shipped Natural Earth files and the alias table under ``data_dir``."""
    data_dir = Path(data_dir)
    countries = read_countries(data_dir / COUNTRIES_FILE)
    parts = [_frame({"id": countries["iso3"], "type": "country", "name": countries["name"], "iso3": countries["iso3"],
                     "definition": DEFINITIONS["country"]}, countries.geometry.values),
             admin1_regions(data_dir), *city_regions(data_dir)]
    table = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    table["population"] = table["population"].astype(float)
    dup = table["id"].str.upper().duplicated()
    if dup.any():
        raise IngestError(f"duplicate region id {table.loc[dup, 'id'].iloc[0]!r} in the catalogue")
    table["aliases"] = apply_aliases(table, read_aliases(data_dir / ALIASES_FILE), ALIASES_FILE)
    return RegionCatalogue(table)


@dataclass(frozen=True)
class SearchIndex:
    """Every normalised name of every region in one string ``"\\0" + "\\0".join(keys)``, searched at C speed
    (``re``); key ``k`` starts at ``starts[k]``, belongs to row ``row[k]`` and was written ``label[k]``."""

    text: str
    starts: np.ndarray  # per key
    lens: np.ndarray
    row: np.ndarray
    label: list[str]
    space: np.ndarray  # per character of text: is it a space
    level: np.ndarray  # per catalogue row
    pop: np.ndarray
    alpha: np.ndarray
    kind: np.ndarray
    listing: np.ndarray  # all rows by level, then id

    @classmethod
    def of(cls, table: pd.DataFrame) -> SearchIndex:
        keys: list[str] = []
        rows: list[int] = []
        labels: list[str] = []
        cols = table[["id", "name", "name_local", "names_alt", "aliases", "iso3"]].to_dict("records")
        for i, r in enumerate(cols):
            names = [r["name"], r["name_local"], *_parts(r["names_alt"]), *_parts(r["aliases"]), r["id"]]
            if r["iso3"] == "CHN" and isinstance(loc := r["name_local"], str):
                names += [loc[: -len(s)] for s in CN_SUFFIXES if loc.endswith(s) and len(loc) > len(s)][:1]
            mine = {normalise(n): n for n in reversed(names) if isinstance(n, str) and n}  # first label wins
            for key, n in reversed(mine.items()):
                if key:
                    keys.append(key)
                    rows.append(i)
                    labels.append(n)
        lens = np.array([len(k) for k in keys], dtype=np.int64)
        starts = np.cumsum(np.r_[0, lens[:-1] + 1]) + 1
        text = "\0" + "\0".join(keys)
        order = np.lexsort((table["id"].to_numpy(dtype=str), table["name"].str.casefold().to_numpy(dtype=str)))
        alpha = np.empty(len(table), dtype=np.int64)
        alpha[order] = np.arange(len(table))
        level = table["type"].map(LEVEL).to_numpy(dtype=np.int64)
        return cls(text, starts, lens, np.array(rows, dtype=np.int64), labels,
                   np.frombuffer(text.encode("utf-32-le"), dtype="<u4") == ord(" "), level,
                   table["population"].fillna(0).to_numpy(float), alpha, table["type"].to_numpy(dtype=str),
                   np.lexsort((table["id"].to_numpy(dtype=str), level)))

    def match(self, q: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, rank, key) of the rows some name of which contains normalised ``q``; rank 0 exact, 1 prefix,
        2 word prefix, 3 substring; key = the best-matching name's key index."""
        qn = normalise(q)
        if not qn:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        pos = np.fromiter((m.start() for m in re.finditer(re.escape(qn), self.text)), dtype=np.int64)
        k = np.searchsorted(self.starts, pos, side="right") - 1
        off = pos - self.starts[k]
        rank = np.where(off == 0, np.where(self.lens[k] == len(qn), 0, 1), np.where(self.space[pos - 1], 2, 3))
        rows = self.row[k]
        order = np.lexsort((rank, rows))
        _, first = np.unique(rows[order], return_index=True)
        best = order[first]
        return rows[best], rank[best], k[best]


@dataclass(frozen=True)
class RegionCatalogue:
    """All regions: a GeoDataFrame with the columns :data:`COLUMNS` (lon/lat degrees, EPSG:4326)."""

    table: gpd.GeoDataFrame

    @cached_property
    def _ids(self) -> dict[str, int]:
        """Upper-cased id -> row; old ids (``legacy_id``) too, unless a current id is the same text."""
        old = {str(v).upper(): i for i, v in enumerate(self.table["legacy_id"]) if isinstance(v, str) and v}
        return old | {str(v).upper(): i for i, v in enumerate(self.table["id"])}

    @cached_property
    def index(self) -> SearchIndex:
        """The search index, built on first use and kept with the catalogue."""
        return SearchIndex.of(self.table)

    @cached_property
    def attributes(self) -> pd.DataFrame:
        """The table without geometry (what search pages are cut from)."""
        return pd.DataFrame(self.table.drop(columns="geometry"))

    def get(self, region_id: str) -> pd.Series:
        """The region (a row) by id, case-insensitive; old ``ADM1-<adm1_code>`` ids resolve to the 10m unit."""
        pos = self._ids.get(str(region_id).upper())
        if pos is None:
            close = self.close_ids(str(region_id))
            hint = f"close matches: {', '.join(close)}; " if close else ""
            raise RegionNotInCatalogue(f"no region {region_id!r} in the catalogue; {hint}"
                                       "search by name with GET /regions?q=name")
        return self.table.iloc[pos]

    def close_ids(self, region_id: str, n: int = 5) -> list[str]:
        """Up to ``n`` existing ids like ``region_id``, each with its name: ``"CN-SH (Shanghai)"``."""
        out: list[str] = []
        for key in difflib.get_close_matches(region_id.upper(), list(self._ids), n=2 * n, cutoff=0.6):
            r = self.table.iloc[self._ids[key]]
            label = f"{r['id']} ({r['name']})"
            if label not in out:
                out.append(label)
        return out[:n]

    def search(self, q: str | None, kind: str | None = None, limit: int = 20,
               offset: int = 0) -> tuple[pd.DataFrame, int]:
        """(a page of the regions one of whose names or ids contains :func:`normalise`-d ``q``, the number
        of matches in all): exact, prefix, word prefix, substring, then :data:`LEVEL`, population, name; the
        ``matched`` column gives the name that matched.  Without ``q``: all regions of ``kind`` by id."""
        if kind is not None and kind not in REGION_TYPES:
            raise ValueError(f"unknown region type {kind!r}; use one of {', '.join(REGION_TYPES)}")
        ix = self.index
        if q is not None and q.strip():
            rows, rank, key = ix.match(q)
            if kind is not None:
                keep = ix.kind[rows] == kind
                rows, rank, key = rows[keep], rank[keep], key[keep]
            order = np.lexsort((ix.alpha[rows], -ix.pop[rows], ix.level[rows], rank))
            page = order[offset: offset + limit]
            out = self.attributes.iloc[rows[page]].assign(matched=[ix.label[k] for k in key[page]])
            return out, len(rows)
        rows = ix.listing[ix.kind[ix.listing] == kind] if kind is not None else ix.listing
        return self.attributes.iloc[rows[offset: offset + limit]].assign(matched=None), len(rows)


def _cache_file(data_dir: Path, cache_dir: Path) -> Path:
    h = hashlib.sha256(CATALOGUE_VERSION.encode())
    for rel in (COUNTRIES_FILE, ADMIN1_FILE, ADMIN1_NAMES_FILE, URBAN_FILE, PLACES_FILE, ALIASES_FILE):
        h.update(sha256_file(data_dir / rel).encode())
    return cache_dir / "regions" / f"catalogue_{h.hexdigest()[:20]}.parquet"


@lru_cache(maxsize=2)
def load_catalogue(data_dir: Path, cache_dir: Path | None = None) -> RegionCatalogue:
    """The catalogue for ``data_dir``, built once and kept as GeoParquet in ``cache_dir`` (keyed by
    :data:`CATALOGUE_VERSION` and the sha256 of the input files; a damaged cache file is rebuilt).
    Kept in memory per process (with its search index, built on the first search)."""
    data_dir = Path(data_dir)
    if cache_dir is None:
        return build_catalogue(data_dir)
    path = _cache_file(data_dir, Path(cache_dir))
    if path.is_file():
        try:
            table = gpd.read_parquet(path)
        except Exception:  # noqa: BLE001 - any unreadable cache is rebuilt, never trusted
            table = None
        if table is not None and list(table.columns) == list(COLUMNS):
            return RegionCatalogue(table)
        path.unlink(missing_ok=True)
    cat = build_catalogue(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        cat.table.to_parquet(tmp)
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


def cached_urban_coverage(grid: Grid, path: Path, cache_dir: Path) -> Coverage:
    """Urban-area coverage on ``grid`` from the shipped NE 1:50m urban areas, cached like country coverage.

    Read through :func:`ingest.boundaries.read_urban_areas` from ``path`` (the shipped :data:`URBAN_FILE` under the
    caller's data dir); cached as Parquet in ``cache_dir`` (the caller's ``Settings.cache_dir``) keyed by (grid
    resolution and bounds, sha256 of the urban file,
    :data:`URBAN_COVERAGE_VERSION`).  A damaged cache file is rebuilt, never trusted.
    """
    import pyarrow as pa

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"urban areas file not found: {path}")
    cache = _urban_cache_file(grid, sha256_file(path), Path(cache_dir))
    if cache.exists():
        try:
            return load_coverage(cache)
        except (OSError, ValueError, KeyError, pa.ArrowException):
            cache.unlink(missing_ok=True)
    cov = urban_coverage(grid, read_urban_areas(path))
    save_coverage(cov, cache)
    return cov
