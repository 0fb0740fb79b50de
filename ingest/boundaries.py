"""Natural Earth boundaries: countries with GCB-compatible ISO3 ids, places, urban areas, and
exact cell-coverage fractions of regions on any carbonmap grid.

Country ids (:func:`read_countries`): NE's ``ISO_A3``, or ``ADM0_A3`` where ``ISO_A3`` is -99
(France, Norway, Kosovo, ...), then :data:`NE_ALIASES` so the ids are GCB's: Kosovo ``KSV``;
territories GCB (CDIAC heritage) counts inside another country are merged into it (Monaco ->
France, San Marino and Vatican -> Italy, Aland -> Finland); Northern Cyprus -> Cyprus and
Somaliland -> Somalia (GCB reports the whole island / country); Indian Ocean Territories ->
Christmas Island ``CXR``.  Polygons with the same id are dissolved into one region.

Coverage (:func:`coverage_fractions`): for each region and grid cell, the share of the cell's area
(in lon/lat degrees, as exactextract computes it) inside the region polygon, 0..1.  Computed with
exactextract 0.3 in memory (``NumPyRasterSource``, ops ``cell_id`` and ``coverage``), which is exact
polygon clipping, not sampling.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from carbonmap.contract import Grid, sha256_file
from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.geojson_points import read_point_features

if TYPE_CHECKING:
    from carbonmap.settings import Settings

COUNTRIES_FILE = "boundaries/ne_50m_admin_0_countries.json"
PLACES_FILE = "boundaries/ne_10m_populated_places_simple.json"
URBAN_FILE = "boundaries/ne_50m_urban_areas.json"

NE_ALIASES: dict[str, str] = {
    "KOS": "KSV",  # Kosovo: NE ADM0_A3 KOS, GCB KSV
    "CYN": "CYP",  # Northern Cyprus -> Cyprus
    "SOL": "SOM",  # Somaliland -> Somalia
    "IOA": "CXR",  # Indian Ocean Territories (Christmas Island, Cocos) -> GCB's Christmas Island
    "ALA": "FIN",  # Aland -> Finland
    "MCO": "FRA",  # Monaco inside France in GCB/CDIAC
    "SMR": "ITA",  # San Marino inside Italy
    "VAT": "ITA",  # Vatican inside Italy
}
"""NE code (after the -99 fix) -> carbonmap/GCB iso3."""
PSEUDO = ("WLD", "XIA", "XIS")

INFO = SourceInfo(
    name="natural_earth",
    title="Natural Earth 1:50m admin-0 countries, 1:10m populated places, 1:50m urban areas (v4)",
    kind="boundaries",
    licence="public domain (Natural Earth)",
    url="https://www.naturalearthdata.com",
    shipped=(COUNTRIES_FILE, PLACES_FILE, URBAN_FILE),
)


def ne_iso3(props: pd.DataFrame) -> pd.Series:
    """carbonmap iso3 of NE admin-0 rows: ISO_A3, else ADM0_A3 where -99, then NE_ALIASES."""
    for c in ("ISO_A3", "ADM0_A3"):
        if c not in props.columns:
            raise IngestError(f"Natural Earth countries lack the column {c!r}")
    iso = props["ISO_A3"].astype(str).where(props["ISO_A3"].astype(str) != "-99", props["ADM0_A3"].astype(str))
    return iso.replace(NE_ALIASES)


def read_countries(path: Path) -> gpd.GeoDataFrame:
    """Country polygons: columns ``iso3, name, geometry`` (EPSG:4326), one row per iso3, sorted."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"countries file not found: {path}")
    try:
        g = gpd.read_file(path)
    except Exception as e:  # pyogrio raises its own DataSourceError
        raise IngestError(f"{path.name} is not a readable vector file: {e}") from e
    if g.crs is None or g.crs.to_epsg() != 4326:
        raise IngestError(f"{path.name}: CRS must be EPSG:4326 (lon/lat degrees), got {g.crs}")
    g = g.assign(iso3=ne_iso3(g))
    g["name"] = g["ADMIN"] if "ADMIN" in g.columns else g.get("NAME", g["iso3"])
    # the row whose own code is the id names the region (France, not Monaco)
    g["_own"] = (g["ADM0_A3"] == g["iso3"]) | (g["ISO_A3"] == g["iso3"])
    g = g.sort_values(["iso3", "_own"], ascending=[True, False])
    g["geometry"] = shapely.make_valid(g.geometry.values)
    out = g[["iso3", "name", "geometry"]].dissolve(by="iso3", aggfunc="first", as_index=False)
    out = out.set_crs(4326, allow_override=True).sort_values("iso3").reset_index(drop=True)
    out.attrs["source_file"] = path.name
    return gpd.GeoDataFrame(out[["iso3", "name", "geometry"]], geometry="geometry", crs=4326)


def missing_polygons(countries: gpd.GeoDataFrame, codes: list[str] | pd.Index | np.ndarray) -> list[str]:
    """Codes (e.g. GCB's) that have no polygon in ``countries``; WLD/XIA/XIS are ignored."""
    have = set(countries["iso3"])
    return sorted({str(c) for c in codes} - have - set(PSEUDO))


@dataclass(frozen=True)
class Coverage:
    """Sparse (region, cell) coverage fractions on a grid.

    ``region[k]`` indexes ``ids``; ``cell[k]`` is the flat cell index ``row * grid.nlon + col``
    (row 0 = north); ``fraction[k]`` is the share of that cell's area inside the region (0..1).
    """

    ids: tuple[str, ...]
    region: np.ndarray  # (n,) int32
    cell: np.ndarray  # (n,) int64
    fraction: np.ndarray  # (n,) float64 (exactextract computes in float32: ~6e-8 precision)
    grid: Grid

    def __post_init__(self) -> None:
        n = self.region.shape[0]
        if self.cell.shape != (n,) or self.fraction.shape != (n,):
            raise IngestError("coverage arrays must have the same length")

    def index(self, region_id: str) -> int:
        try:
            return self.ids.index(region_id)
        except ValueError:
            raise IngestError(f"region {region_id!r} is not in this coverage") from None

    def of(self, region_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(flat cell indices, fractions) of one region."""
        m = self.region == self.index(region_id)
        return self.cell[m], self.fraction[m]

    def to_sparse(self):  # -> scipy.sparse.csr_array of shape (len(ids), nlat*nlon)
        """Fractions as a sparse (region, cell) matrix, e.g. ``M @ field.ravel()`` sums per region."""
        from scipy.sparse import csr_array

        return csr_array((self.fraction, (self.region, self.cell)),
                         shape=(len(self.ids), self.grid.nlat * self.grid.nlon))

    def area_m2(self) -> np.ndarray:
        """Area of each region on the grid, sum(fraction x cell area), m2, dims (region,)."""
        rows = self.cell // self.grid.nlon
        cell_area = self.grid.cell_area_m2()[rows]
        return np.bincount(self.region, weights=self.fraction * cell_area, minlength=len(self.ids))


def coverage_fractions(gdf: gpd.GeoDataFrame, grid: Grid, id_col: str = "iso3") -> Coverage:
    """Exact coverage fractions of each polygon of ``gdf`` (EPSG:4326) on ``grid``."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    if id_col not in gdf.columns:
        raise IngestError(f"regions lack the id column {id_col!r}")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        raise IngestError(f"regions must be in EPSG:4326, got {gdf.crs}")
    if gdf[id_col].duplicated().any():
        raise IngestError(f"region ids in {id_col!r} must be unique; {gdf[id_col][gdf[id_col].duplicated()].iloc[0]!r}"
                          f" appears twice")
    w, s, e, n = grid.bounds
    raster = NumPyRasterSource(np.zeros(grid.shape, dtype=np.uint8), xmin=w, ymin=s, xmax=e, ymax=n)
    feats = gpd.GeoDataFrame({"_id": gdf[id_col].astype(str).to_numpy()}, geometry=gdf.geometry.values, crs=4326)
    feats = feats[~feats.geometry.is_empty & feats.geometry.notna()]
    res = exact_extract(raster, feats, ["cell_id", "coverage"], include_cols=["_id"], output="pandas")
    ids = tuple(feats["_id"].tolist())
    pos = {k: i for i, k in enumerate(ids)}
    cells, fracs, regs = [], [], []
    for rid, cid, cov in zip(res["_id"], res["cell_id"], res["coverage"], strict=True):
        cid = np.asarray(cid, dtype=np.int64)
        cov = np.asarray(cov, dtype=np.float64)
        keep = cov > 0
        cells.append(cid[keep])
        fracs.append(cov[keep])
        regs.append(np.full(int(keep.sum()), pos[rid], dtype=np.int32))
    cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
    return Coverage(ids, cat(regs, np.int32), cat(cells, np.int64), np.clip(cat(fracs, np.float64), 0.0, 1.0), grid)


def _cache_file(grid: Grid, sha: str, cache_dir: Path) -> Path:
    key = hashlib.sha256(f"{sha}|{grid.bounds}|{grid.resolution}".encode()).hexdigest()[:20]
    return cache_dir / "coverage" / f"countries_{grid.resolution:g}deg_{key}.parquet"


def save_coverage(cov: Coverage, path: Path) -> Path:
    """Write a Coverage as Parquet (region id, cell, fraction) with the grid in metadata; atomic."""
    from ingest.canonical import write_table_atomic

    ids = np.asarray(cov.ids, dtype=object)
    table = pa.table({"region": pa.array(ids[cov.region].tolist() if len(cov.region) else [], pa.string()),
                      "cell": cov.cell, "fraction": cov.fraction})
    meta = {b"ids": "\n".join(cov.ids).encode(),
            b"grid": ",".join(str(v) for v in (cov.grid.resolution, *cov.grid.bounds)).encode()}
    return write_table_atomic(table.replace_schema_metadata(meta), path)


def load_coverage(path: Path) -> Coverage:
    t = pq.read_table(path)
    meta = t.schema.metadata or {}
    if b"ids" not in meta or b"grid" not in meta:
        raise IngestError(f"{path} is not a carbonmap coverage file")
    ids = tuple(meta[b"ids"].decode().split("\n")) if meta[b"ids"] else ()
    res, w, s, e, n = (float(v) for v in meta[b"grid"].decode().split(","))
    pos = {k: i for i, k in enumerate(ids)}
    region = np.array([pos[r] for r in t.column("region").to_pylist()], dtype=np.int32)
    return Coverage(ids, region, t.column("cell").to_numpy().astype(np.int64),
                    t.column("fraction").to_numpy().astype(np.float64), Grid(res, w, s, e, n))


def cached_country_coverage(grid: Grid, path: Path | None = None, *, settings: Settings | None = None) -> Coverage:
    """Country coverage on ``grid`` from the shipped NE 50m countries (``path``, default under
    ``settings.data_dir``), cached in ``settings.cache_dir``.

    The cache key is (grid resolution and bounds, sha256 of the countries file).  ``settings``: the caller's (a
    build passes its request's); None reads the process settings once, here: a public entry point that the
    serving side (api/) and many tests call bare.
    """
    from carbonmap.settings import get_settings

    settings = settings or get_settings()
    path = Path(path) if path is not None else settings.data_dir / COUNTRIES_FILE
    if not path.is_file():
        raise IngestError(f"countries file not found: {path}")
    cache = _cache_file(grid, sha256_file(path), settings.cache_dir)
    if cache.exists():
        try:
            return load_coverage(cache)
        except (OSError, ValueError, KeyError, pa.ArrowException):  # a damaged cache is rebuilt, never trusted
            cache.unlink(missing_ok=True)
    cov = coverage_fractions(read_countries(path), grid)
    save_coverage(cov, cache)
    return cov


def read_places(path: Path) -> pd.DataFrame:
    """NE populated places: ``name, iso3, lon, lat, pop_max, featurecla, scalerank, adm1name`` (degrees, persons)."""
    df = read_point_features(path, {"name": "name", "adm0_a3": "iso3", "pop_max": "pop_max",
                                    "featurecla": "featurecla", "scalerank": "scalerank", "adm1name": "adm1name"},
                             required=("name", "adm0_a3", "pop_max"))
    df["iso3"] = df["iso3"].astype(str).replace(NE_ALIASES)
    df["pop_max"] = pd.to_numeric(df["pop_max"], errors="coerce")
    df.loc[df["pop_max"] == -99, "pop_max"] = np.nan  # NE's "unknown"
    if (df["pop_max"] < 0).any():
        raise IngestError(f"{Path(path).name}: negative pop_max {df.loc[df['pop_max'] < 0, 'pop_max'].iloc[0]}")
    return df[["name", "iso3", "lon", "lat", "pop_max", "featurecla", "scalerank", "adm1name"]]


def read_urban_areas(path: Path) -> gpd.GeoDataFrame:
    """NE urban-area polygons: ``urban_id`` (stable ``UA0000`` by file order), ``area_sqkm``, ``scalerank``, geometry."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"urban areas file not found: {path}")
    try:
        g = gpd.read_file(path)
    except Exception as e:
        raise IngestError(f"{path.name} is not a readable vector file: {e}") from e
    if g.crs is None or g.crs.to_epsg() != 4326:
        raise IngestError(f"{path.name}: CRS must be EPSG:4326, got {g.crs}")
    if "area_sqkm" not in g.columns:
        raise IngestError(f"{path.name} lacks the property 'area_sqkm'")
    out = gpd.GeoDataFrame({"urban_id": [f"UA{i:04d}" for i in range(len(g))],
                            "area_sqkm": pd.to_numeric(g["area_sqkm"], errors="coerce"),
                            "scalerank": g.get("scalerank")},
                           geometry=shapely.make_valid(g.geometry.values), crs=4326)
    return out


def assign_iso3(points: pd.DataFrame, countries: gpd.GeoDataFrame, nearest_max_deg: float = 0.5) -> pd.Series:
    """iso3 of the country polygon containing each (lon, lat) point.

    Points outside every polygon (coastal airports and ports off a 1:50m coastline) get the nearest
    country within ``nearest_max_deg`` degrees; None beyond that.
    """
    import warnings

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(points["lon"], points["lat"]), crs=4326, index=points.index)
    j = gpd.sjoin(pts, countries[["iso3", "geometry"]], how="left", predicate="within")
    j = j[~j.index.duplicated(keep="first")]
    iso = j["iso3"].reindex(points.index).astype(object)
    miss = iso.isna()
    if miss.any() and nearest_max_deg > 0:
        with warnings.catch_warnings():  # distances in degrees are fine for a short snap
            warnings.simplefilter("ignore")
            near = gpd.sjoin_nearest(pts[miss], countries[["iso3", "geometry"]], how="left",
                                     max_distance=nearest_max_deg)
        near = near[~near.index.duplicated(keep="first")]
        iso.loc[near.index] = near["iso3"]
    return iso.where(iso.notna(), None)


class NaturalEarthCountriesAdapter(BaseAdapter[gpd.GeoDataFrame]):
    info = INFO

    def read(self, paths: Sequence[Path]) -> gpd.GeoDataFrame:
        if len(paths) != 1:
            raise IngestError("countries take exactly one file")
        return read_countries(paths[0])
