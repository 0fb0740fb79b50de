"""Natural Earth 1:10m admin-1 units (states, provinces, regions) of every country, from TopoJSON.

File: ``boundaries/ne_10m_admin_1_states_provinces.topo.json.gz`` (Elastic Maps Service copy of NE
10m admin-1: 4,855 features, one ``GeometryCollection`` object, quantized arcs).  Its features carry
only ``name, iso_3166_2, iso_a2, adm0_a3, admin``: no names in other languages or scripts and no
``type_en``.  Those come, where available, from a second NE admin-1 file with NE's ``name_xx``
fields (the shipped 1:50m file of 9 countries, :data:`NAMES_FILE`), joined on the ISO 3166-2 code.

TopoJSON is decoded here (no topojson package): arcs are delta-encoded integer positions,
``lon = cumsum(dx) * scale[0] + translate[0]`` (likewise lat); a negative arc index ``~i`` is arc ``i``
reversed; consecutive arcs of a ring share their joining point.  Geometries are then made valid
(``shapely.make_valid``, polygonal parts only).

Ids (:func:`read_admin1`): the ISO 3166-2 code where the file has a real one (``CN-SH``); NE marks
non-ISO codes with ``-99`` or a ``~`` suffix (``XK-X01~``), and those units get the stable fallback
``adm1:<adm0_a3>:<n>`` with ``n`` the feature's position in the file (``adm1:UNK:<n>`` where even
``adm0_a3`` is empty).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ingest.base import BaseAdapter, Data, IngestError, SourceInfo

ADMIN1_TOPO_FILE = "boundaries/ne_10m_admin_1_states_provinces.topo.json.gz"
NAMES_FILE = "boundaries/ne_50m_admin_1_states_provinces_9countries.geojson"
ADMIN1_SHA256 = "0fe8e18d4d3c70e7c8e366a5eded4d364315d7aa851b485782cfaa5a15e11323"
ADMIN1_URL = ("https://raw.githubusercontent.com/elastic/ems-file-service/d4c50cfb/sources/world/"
              "ne_10m_admin_1_states_provinces.topo.json.gz")
ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
OUT_COLUMNS = ("id", "name", "name_local", "names_alt", "iso3", "iso_3166_2", "admin", "type", "geometry")

NAME_LANGS = ("ar", "bn", "de", "el", "en", "es", "fa", "fr", "he", "hi", "hu", "id", "it", "ja", "ko", "nl",
              "pl", "pt", "ru", "sv", "tr", "uk", "ur", "vi", "zh", "zht")
"""The ``name_<lang>`` fields of Natural Earth (v5) admin-1 files."""

LOCAL_LANG: dict[str, str] = {
    "CHN": "zh", "TWN": "zht", "HKG": "zht", "MAC": "zht", "JPN": "ja", "KOR": "ko", "PRK": "ko", "RUS": "ru",
    "UKR": "uk", "BLR": "ru", "KAZ": "ru", "KGZ": "ru", "IND": "hi", "PAK": "ur", "BGD": "bn", "IRN": "fa",
    "AFG": "fa", "ISR": "he", "GRC": "el", "CYP": "el", "TUR": "tr", "VNM": "vi", "IDN": "id", "HUN": "hu",
    "POL": "pl", "SWE": "sv", "NLD": "nl", "ITA": "it", "DEU": "de", "AUT": "de", "FRA": "fr", "BEL": "fr",
    "ESP": "es", "MEX": "es", "ARG": "es", "COL": "es", "PER": "es", "VEN": "es", "CHL": "es", "ECU": "es",
    "BOL": "es", "PRY": "es", "URY": "es", "CUB": "es", "GTM": "es", "HND": "es", "NIC": "es", "SLV": "es",
    "CRI": "es", "PAN": "es", "DOM": "es", "PRT": "pt", "BRA": "pt", "AGO": "pt", "MOZ": "pt",
    "SAU": "ar", "EGY": "ar", "IRQ": "ar", "SYR": "ar", "JOR": "ar", "ARE": "ar", "OMN": "ar", "YEM": "ar",
    "LBY": "ar", "DZA": "ar", "MAR": "ar", "TUN": "ar", "SDN": "ar", "KWT": "ar", "QAT": "ar", "BHR": "ar",
    "LBN": "ar", "USA": "en", "GBR": "en", "CAN": "en", "AUS": "en", "NZL": "en", "IRL": "en", "ZAF": "en",
    "NGA": "en", "KEN": "en", "GHA": "en", "PHL": "en",
}
"""Country (adm0_a3) -> the NE name field (``name_<lang>``) in the country's own (main) language."""

INFO = SourceInfo(
    name="admin1",
    title="Natural Earth 1:10m admin-1 states and provinces (TopoJSON, Elastic Maps Service copy)",
    kind="boundaries",
    licence="public domain (Natural Earth); some OSM-derived fixes by Elastic (ODbL)",
    url="https://www.naturalearthdata.com/downloads/10m-cultural-vectors/10m-admin-1-states-provinces/",
    shipped=(ADMIN1_TOPO_FILE, NAMES_FILE),
    note="names in other languages only for the 9 countries of the 1:50m file (joined on ISO 3166-2)",
)


def _load_json(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"admin-1 file not found: {path}")
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IngestError(f"{path.name} is not readable (gzip-compressed) JSON: {e}") from e
    if not isinstance(doc, dict):
        raise IngestError(f"{path.name}: top level must be a JSON object")
    return doc


def decode_arcs(topo: dict[str, Any], name: str = "topology") -> list[np.ndarray]:
    """Absolute (lon, lat) positions of every arc, degrees, each an (n, 2) float array."""
    arcs = topo.get("arcs")
    if not isinstance(arcs, list) or not arcs:
        raise IngestError(f"{name}: a TopoJSON Topology needs a non-empty 'arcs' list")
    tr = topo.get("transform")
    scale = translate = None
    if tr is not None:
        try:
            scale = np.asarray(tr["scale"], dtype=float)[:2]
            translate = np.asarray(tr["translate"], dtype=float)[:2]
        except (KeyError, TypeError, ValueError) as e:
            raise IngestError(f"{name}: bad 'transform' {tr!r} (needs scale and translate)") from e
    out = []
    for i, arc in enumerate(arcs):
        try:
            a = np.asarray(arc, dtype=float)
        except (TypeError, ValueError) as e:
            raise IngestError(f"{name}: arc {i} is not a list of [x, y] positions") from e
        if a.ndim != 2 or a.shape[1] < 2 or len(a) < 2 or not np.isfinite(a[:, :2]).all():
            raise IngestError(f"{name}: arc {i} is not a list of at least 2 finite [x, y] positions")
        a = a[:, :2]
        if scale is not None and translate is not None:
            a = np.cumsum(a, axis=0) * scale + translate
        out.append(a)
    allpts = np.concatenate(out)
    if (np.abs(allpts[:, 0]) > 180.0 + 1e-6).any() or (np.abs(allpts[:, 1]) > 90.0 + 1e-6).any():
        raise IngestError(f"{name}: arc positions fall outside lon -180..180 / lat -90..90 after the transform "
                          f"(projected or wrongly quantized?)")
    return out


def _ring(indices: Any, arcs: list[np.ndarray], name: str, feature: int) -> np.ndarray:
    parts = []
    for k, i in enumerate(indices):
        if not isinstance(i, int) or not -len(arcs) <= i < len(arcs):
            raise IngestError(f"{name}: feature {feature} refers to arc {i!r}; the topology has {len(arcs)} arcs")
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(a if k == 0 else a[1:])
    return np.concatenate(parts) if parts else np.zeros((0, 2))


def _polygon(rings: Any, arcs: list[np.ndarray], name: str, feature: int) -> shapely.Polygon | None:
    if not isinstance(rings, list):
        raise IngestError(f"{name}: feature {feature} has malformed polygon arcs")
    coords = [_ring(r, arcs, name, feature) for r in rings]
    coords = [c for c in coords if len(c) >= 4]
    if not coords:
        return None
    return shapely.Polygon(coords[0], coords[1:])


def feature_geometry(geom: dict[str, Any], arcs: list[np.ndarray], name: str, feature: int) -> Any:
    """The shapely (Multi)Polygon of one TopoJSON geometry object (None for a null geometry)."""
    kind = geom.get("type")
    if kind is None:
        return None
    if kind == "Polygon":
        return _polygon(geom.get("arcs"), arcs, name, feature)
    if kind == "MultiPolygon":
        polys = [p for p in (_polygon(r, arcs, name, feature) for r in geom.get("arcs") or []) if p is not None]
        return shapely.MultiPolygon(polys) if polys else None
    raise IngestError(f"{name}: feature {feature} has geometry type {kind!r}; admin-1 units must be polygons")


def _polygonal(g: Any) -> Any:
    """Keep the polygonal parts of a geometry that make_valid may have turned into a collection."""
    if g is None or g.is_empty or g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    polys = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else None


def read_topology(path: Path) -> tuple[pd.DataFrame, list[Any]]:
    """(properties table, shapely geometries) of the single GeometryCollection of a TopoJSON file."""
    path = Path(path)
    doc = _load_json(path)
    if doc.get("type") != "Topology" or not isinstance(doc.get("objects"), dict) or not doc["objects"]:
        raise IngestError(f"{path.name} is not a TopoJSON Topology with objects")
    if len(doc["objects"]) != 1:
        raise IngestError(f"{path.name} has {len(doc['objects'])} objects {sorted(doc['objects'])}; expected one")
    obj = next(iter(doc["objects"].values()))
    geoms = obj.get("geometries") if isinstance(obj, dict) else None
    if not isinstance(geoms, list) or not geoms:
        raise IngestError(f"{path.name}: the object is not a non-empty GeometryCollection")
    arcs = decode_arcs(doc, path.name)
    shapes = [feature_geometry(g, arcs, path.name, i) for i, g in enumerate(geoms)]
    props = pd.DataFrame([g.get("properties") or {} for g in geoms])
    return props, shapes


def _clean(v: Any) -> str | None:
    if v is None or (np.ndim(v) == 0 and pd.isna(v)):
        return None
    s = str(v).strip()
    return s if s and s != "-99" else None


def _name_table(path: Path) -> pd.DataFrame:
    """NE admin-1 properties with other-language names, indexed by a real ISO 3166-2 code."""
    doc = _load_json(path)
    feats = doc.get("features")
    if not isinstance(feats, list):
        raise IngestError(f"{Path(path).name} is not a GeoJSON FeatureCollection")
    t = pd.DataFrame([f.get("properties") or {} for f in feats])
    if "iso_3166_2" not in t.columns:
        raise IngestError(f"{Path(path).name} lacks the property 'iso_3166_2'")
    t = t[t["iso_3166_2"].astype(str).str.match(ISO_3166_2)]
    return t.drop_duplicates("iso_3166_2").set_index("iso_3166_2")


def _local_and_alt(row: pd.Series, iso3: str, name: str) -> tuple[str | None, str | None]:
    names = {lang: _clean(row.get(f"name_{lang}")) for lang in NAME_LANGS}
    lang = LOCAL_LANG.get(iso3)
    local = names.get(lang) if lang else None
    if local is None:
        raw = _clean(row.get("name_local"))
        local = raw.split("|")[0].strip() if raw else None
    alt: list[str] = []
    for v in names.values():
        if v and v != name and v != local and v not in alt:
            alt.append(v)
    return local, ("|".join(alt) if alt else None)


CODE_FIXES: dict[tuple[str, str], str] = {
    ("RU-MOS", "Moskva"): "RU-MOW",  # the file gives the city Moscow the oblast's code...
    ("RU-MOW", "Moskovs"): "RU-MOS",  # ...and the oblast ("Moskovsskaya" in the file) the city's (ISO 3166-2:RU: MOW city, MOS oblast)
}
"""(code in the file, start of the unit's name) -> the ISO 3166-2 code; errors of the shipped Natural Earth file."""


def fix_codes(codes: pd.Series, names: pd.Series) -> pd.Series:
    """Codes with :data:`CODE_FIXES` applied (matched on the code and the start of the English name)."""
    out = codes.copy()
    for (code, name), right in CODE_FIXES.items():
        out[(codes == code) & names.str.startswith(name)] = right
    return out


def read_admin1(path: Path, names_path: Path | None = None) -> gpd.GeoDataFrame:
    """Admin-1 polygons (EPSG:4326): ``id, name, name_local, names_alt, iso3, iso_3166_2, admin, type, geometry``.

    ``iso3`` is NE's ``adm0_a3``; ``name_local`` the name in the country's own language/script
    (:data:`LOCAL_LANG`), ``names_alt`` the other-language names, '|'-joined; ``type`` NE's ``type_en``.
    Names and type come from the TopoJSON file if it has them, else from ``names_path`` (joined on the
    ISO 3166-2 code); None where neither has them.  One row per feature, in file order.
    """
    path = Path(path)
    props, shapes = read_topology(path)
    for col in ("name", "iso_3166_2", "adm0_a3"):
        if col not in props.columns:
            raise IngestError(f"{path.name}: features lack the property {col!r}")
    if names_path is not None:
        extra = _name_table(Path(names_path))
        codes = props["iso_3166_2"].astype(str)
        for col in [c for c in extra.columns if c.startswith("name_") or c in ("type_en", "name_local")]:
            filled = codes.map(extra[col])
            props[col] = props[col].where(props[col].notna(), filled) if col in props.columns else filled
    props["iso_3166_2"] = fix_codes(props["iso_3166_2"].astype(str), props["name"].astype(str))
    ids, local, alt, iso3 = [], [], [], []
    code_ok = props["iso_3166_2"].astype(str).str.match(ISO_3166_2)
    dup = props["iso_3166_2"].where(code_ok).duplicated(keep=False) & code_ok
    for i, row in props.iterrows():
        a3 = _clean(row.get("adm0_a3"))
        code = str(row["iso_3166_2"])
        ids.append(code if code_ok[i] and not dup[i] else f"adm1:{a3 or 'UNK'}:{i}")
        iso3.append(a3)
        loc, al = _local_and_alt(row, a3 or "", _clean(row.get("name")) or "")
        local.append(loc)
        alt.append(al)
    geoms = np.array(shapes, dtype=object)
    ok = np.array([g is not None for g in shapes])
    geoms[ok] = shapely.make_valid(geoms[ok].astype(object))
    geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
    out = gpd.GeoDataFrame({
        "id": ids, "name": [_clean(v) for v in props["name"]], "name_local": local, "names_alt": alt,
        "iso3": iso3, "iso_3166_2": [c if ok_ else None for c, ok_ in zip(props["iso_3166_2"], code_ok, strict=True)],
        "admin": [_clean(v) for v in props.get("admin", pd.Series([None] * len(props)))],
        "type": [_clean(v) for v in props.get("type_en", pd.Series([None] * len(props)))],
    }, geometry=list(geoms), crs=4326)
    validate_admin1(out, path.name)
    out.attrs.update({"source_file": path.name, "crs": "EPSG:4326 (lon/lat degrees)"})
    return out


def validate_admin1(g: gpd.GeoDataFrame, name: str = "admin-1") -> None:
    """Columns, unique ids, EPSG:4326, valid polygonal geometries inside lon/lat bounds."""
    missing = [c for c in OUT_COLUMNS if c not in g.columns]
    if missing:
        raise IngestError(f"{name}: admin-1 table lacks {missing}")
    if g.crs is None or g.crs.to_epsg() != 4326:
        raise IngestError(f"{name}: CRS must be EPSG:4326, got {g.crs}")
    if g["id"].duplicated().any():
        raise IngestError(f"{name}: duplicate admin-1 id {g.loc[g['id'].duplicated(), 'id'].iloc[0]!r}")
    geo = g.geometry[g.geometry.notna()]
    if not geo.is_valid.all():
        raise IngestError(f"{name}: {int((~geo.is_valid).sum())} invalid geometries after make_valid")
    if not geo.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise IngestError(f"{name}: non-polygonal geometries {sorted(set(geo.geom_type))}")
    if len(geo):
        w, s, e, n = geo.total_bounds
        if w < -180.0 - 1e-6 or e > 180.0 + 1e-6 or s < -90.0 - 1e-6 or n > 90.0 + 1e-6:
            raise IngestError(f"{name}: geometries reach outside lon/lat bounds {(w, s, e, n)}")


def write_geoparquet_atomic(g: gpd.GeoDataFrame, out_path: Path, provenance: dict[str, Any]) -> Path:
    """GeoParquet (WKB geometry, ``geo`` metadata) with carbonmap provenance; atomic (temp then rename)."""
    import io

    import pyarrow.parquet as pq

    from ingest.canonical import PROVENANCE_KEY, write_table_atomic

    out_path = Path(out_path)
    if out_path.suffix != ".parquet":
        raise IngestError(f"a table must be written to a .parquet path, got {out_path}")
    buf = io.BytesIO()
    g.to_parquet(buf, index=False)  # GeoParquet in memory, then provenance added to its metadata
    table = pq.read_table(io.BytesIO(buf.getvalue()))
    meta = dict(table.schema.metadata or {})
    meta[PROVENANCE_KEY.encode()] = json.dumps(provenance, default=str).encode()
    return write_table_atomic(table.replace_schema_metadata(meta), out_path)


class Admin1Adapter(BaseAdapter):
    """NE 10m admin-1 of every country; ``read([topojson])`` or ``read([topojson, ne_names_geojson])``."""

    info = INFO
    url: str = ADMIN1_URL

    def download(self, start: date, end: date) -> list[Path]:
        """The TopoJSON file (one version, no period), checked against the sha256 of the shipped copy."""
        from ingest.download import fetch

        return [fetch(self.url, source=self.info.name, settings=self.settings, sha256=ADMIN1_SHA256)]

    def read(self, paths: Sequence[Path]) -> gpd.GeoDataFrame:
        if not 1 <= len(paths) <= 2:
            raise IngestError("admin-1 takes the TopoJSON file and optionally a NE admin-1 GeoJSON with names")
        return read_admin1(paths[0], paths[1] if len(paths) == 2 else None)

    def validate(self, data: Data) -> None:
        if not isinstance(data, gpd.GeoDataFrame):
            raise IngestError("admin-1 data must be a GeoDataFrame")
        validate_admin1(data)

    def write(self, data: Data, out_path: Path, inputs: Sequence[Path] = ()) -> Path:
        self.validate(data)
        assert isinstance(data, gpd.GeoDataFrame)
        return write_geoparquet_atomic(data, out_path, self.provenance(inputs))
