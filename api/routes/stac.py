"""A STAC 1.1 catalogue (pystac) at ``/stac``: one collection per dataset, one item per month.

Each collection carries the licence, a citation, the provenance (code version, build time, methods,
simplified proxies) and every input source with its licence and sha256 (``carbonmap:inputs``; the
sources are also listed as ``providers``).  Items point at the month's release files (the daily NetCDF
when the release has one, the monthly mean as NetCDF and Cloud Optimized GeoTIFF; issue #19) and the Zarr
store over HTTP; the collection at the annual totals and the national daily table.  Every asset is a file
the release really has (``pipelines.release_files`` manifest; a release without files gets Zarr assets
only), served at ``/datasets/{id}/releases/{release}/files/{name}`` with Range support.  Only core STAC
fields are used, so the documents validate offline against the schemas pystac ships (``pystac.validation``).

Releases: collections and items name the release they describe (``carbonmap:release``) and link
the revision history (``/datasets/{id}/releases``).  ``?release=r0002`` (or ``?as_of=``) describes a
past release, with its assets pinned to it (``/zarr/{id}/releases/r0002``; release files always are).
"""


import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any

import pandas as pd
import pystac
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from api import dataset_info
from api.deps import DATASET_ID_PATTERN, AsOfQuery, Dependency, ReleaseQuery, get_registry
from carbonmap.errors import NotFound
from carbonmap.http_policy import release_headers
from carbonmap.problems import problem_responses
from carbonmap.registry import Cube, Registry
from carbonmap.serving import resolve_cube
from carbonmap.storage import release_files

MONTH_PATTERN = r"^\d{4}-\d{2}$"


class ItemNotFound(NotFound):
    """No STAC item for that month in the dataset."""


def _utc(day: dt.date, end: bool = False) -> dt.datetime:
    t = dt.datetime.combine(day, dt.time.max if end else dt.time.min).replace(microsecond=0)
    return t.replace(tzinfo=dt.UTC)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def catalog(registry: Registry, base: str) -> pystac.Catalog:
    cat = pystac.Catalog(id="carbonmap", title="carbonmap datasets",
                         description="Daily, global, gridded fossil CO2 emissions in 7 sectors, with uncertainty.")
    for i in registry.ids():
        cat.add_link(pystac.Link("child", f"{base}/stac/collections/{i}", pystac.MediaType.JSON,
                                 title=str(registry.get(i).attrs.get("title", i))))
    cat.set_self_href(f"{base}/stac")
    return cat


def _months(cube: Cube) -> list[pd.Period]:
    return sorted(set(pd.DatetimeIndex(cube.times).to_period("M")))


def _zarr_href(cube: Cube, base: str, pinned: bool) -> str:
    return f"{base}/zarr/{cube.id}/releases/{cube.release}" if pinned and cube.release else f"{base}/zarr/{cube.id}"


def _files(cube: Cube) -> list[release_files.FileEntry]:
    """The release files of the cube's release that exist (local or on object storage)."""
    return release_files.listed_files(cube.path) if cube.release else []


def _file_asset(cube: Cube, base: str, e: release_files.FileEntry) -> pystac.Asset:
    return pystac.Asset(f"{base}/datasets/{cube.id}/releases/{cube.release}/files/{e.name}", title=e.name,
                        description=e.description, media_type=e.media_type,
                        roles=["data", "visual"] if e.media_type == release_files.COG else ["data"],
                        extra_fields={"carbonmap:sha256": e.sha256, "carbonmap:size": e.size,
                                      "carbonmap:written_in": e.written_in})


def _asset_key(e: release_files.FileEntry) -> str:
    fmt = {release_files.NETCDF: "netcdf", release_files.COG: "cog", release_files.CSV_GZ: "csv",
           release_files.PARQUET: "parquet"}.get(e.media_type, "file")
    return f"{e.kind}-{e.period}-{fmt}" if e.kind == "annual-total" else f"{e.kind}-{fmt}"


def collection(cube: Cube, base: str, pinned: bool = False) -> pystac.Collection:
    g = cube.grid
    a = cube.attrs
    prov = dataset_info.provenance(cube)
    providers = [pystac.Provider(name="carbonmap", roles=[pystac.ProviderRole.PRODUCER, pystac.ProviderRole.PROCESSOR,
                                                          pystac.ProviderRole.HOST])]
    for src in sorted({i.source for i in prov.inputs}):
        lic = sorted({i.license for i in prov.inputs if i.source == src})
        providers.append(pystac.Provider(name=src, roles=[pystac.ProviderRole.LICENSOR],
                                         description=f"input data, licence: {', '.join(lic)}"))
    licence = str(a.get("license", "other")).split(" ")[0] or "other"
    col = pystac.Collection(
        id=cube.id, title=str(a.get("title", cube.id)),
        description=f"{a.get('summary', '')}\n\nCitation: {dataset_info.citation(cube)}".strip(),
        extent=pystac.Extent(pystac.SpatialExtent([list(g.bounds)]),
                             pystac.TemporalExtent([[_utc(cube.start), _utc(cube.end, end=True)]])),
        license=licence, providers=providers, keywords=["CO2", "fossil emissions", "daily", "gridded", "sectors"],
        extra_fields={
            "carbonmap:citation": dataset_info.citation(cube),
            "carbonmap:license_text": str(a.get("license", "")),
            "carbonmap:provenance": {"code_version": prov.code_version, "build_time": prov.build_time,
                                     "methods": prov.methods, "proxies": prov.proxies},
            "carbonmap:inputs": [i.model_dump() for i in prov.inputs],
            "carbonmap:units": {"emissions": "kg CO2 day-1 cell-1", "uncertainty": "relative 1-sigma"},
            "carbonmap:grid": {"resolution_deg": g.resolution, "shape": list(g.shape), "crs": "EPSG:4326"},
            "carbonmap:sectors": list(cube.sectors),
            "carbonmap:release": cube.release,
        })
    col.set_self_href(f"{base}/stac/collections/{cube.id}")
    col.add_link(pystac.Link("license", "https://creativecommons.org/licenses/by/4.0/", "text/html",
                             title=str(a.get("license", ""))))
    col.add_link(pystac.Link("describedby", f"{base}/datasets/{cube.id}", pystac.MediaType.JSON,
                             title="dataset metadata with full provenance"))
    col.add_link(pystac.Link("root", f"{base}/stac", pystac.MediaType.JSON))
    col.add_link(pystac.Link("parent", f"{base}/stac", pystac.MediaType.JSON))
    col.add_link(pystac.Link("version-history", f"{base}/datasets/{cube.id}/releases", pystac.MediaType.JSON,
                             title="the releases of this dataset and what each changed"))
    pin = f"?release={cube.release}" if pinned and cube.release else ""
    for m in _months(cube):
        col.add_link(pystac.Link("item", f"{base}/stac/collections/{cube.id}/items/{m}{pin}",
                                 pystac.MediaType.GEOJSON))
    col.add_asset("zarr", pystac.Asset(_zarr_href(cube, base, pinned), title="whole cube, Zarr v3 over HTTP",
                                       media_type="application/vnd+zarr", roles=["data"]))
    for e in _files(cube):
        if e.kind in ("annual-total", "national-daily"):
            col.add_asset(_asset_key(e), _file_asset(cube, base, e))
    if cube.release:
        col.add_link(pystac.Link("related", f"{base}/datasets/{cube.id}/releases/{cube.release}/files",
                                 pystac.MediaType.JSON, title="the files of this release, with sha256"))
        col.add_link(pystac.Link("cite-as", f"{base}/datasets/{cube.id}/citation?format=cff&release={cube.release}",
                                 "application/x-yaml", title="how to cite this release (also bibtex, ris)"))
    return col


def item(cube: Cube, month: str, base: str, pinned: bool = False) -> pystac.Item:
    try:
        period = pd.Period(month, "M")
    except ValueError:
        raise ItemNotFound(f"{month!r} is not a month like 2024-03") from None
    if period not in _months(cube):
        raise ItemNotFound(f"dataset {cube.id!r} has no days in {month}; it covers {cube.start} to {cube.end}")
    first = max(period.start_time.date(), cube.start)
    last = min(period.end_time.date(), cube.end)
    w, s, e, n = cube.grid.bounds
    geometry = {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
    it = pystac.Item(id=f"{cube.id}-{month}", geometry=geometry, bbox=[w, s, e, n], datetime=None,
                     properties={"start_datetime": _utc(first).isoformat().replace("+00:00", "Z"),
                                 "end_datetime": _utc(last, end=True).isoformat().replace("+00:00", "Z"),
                                 "title": f"{cube.id}, {month}", "license": str(cube.attrs.get("license", "other"))
                                 .split(" ")[0], "carbonmap:days": (last - first).days + 1,
                                 "carbonmap:release": cube.release},
                     collection=cube.id)
    it.set_self_href(f"{base}/stac/collections/{cube.id}/items/{month}")
    for f in _files(cube):
        if f.kind in ("daily", "monthly-mean") and f.period == month:
            it.add_asset(_asset_key(f), _file_asset(cube, base, f))
    it.add_asset("zarr", pystac.Asset(_zarr_href(cube, base, pinned), title="whole cube, Zarr v3 over HTTP (select the month)",
                                      media_type="application/vnd+zarr", roles=["data"]))
    it.add_link(pystac.Link("collection", f"{base}/stac/collections/{cube.id}", pystac.MediaType.JSON))
    it.add_link(pystac.Link("parent", f"{base}/stac/collections/{cube.id}", pystac.MediaType.JSON))
    it.add_link(pystac.Link("root", f"{base}/stac", pystac.MediaType.JSON))
    return it


def _json(obj: Any, geo: bool = False, cube: Cube | None = None) -> JSONResponse:
    d = obj.to_dict(include_self_link=True, transform_hrefs=False)
    return JSONResponse(d, media_type="application/geo+json" if geo else "application/json",
                        headers=release_headers(cube) if cube is not None else None)


@dataclass
class StacFactory:
    registry_dependency: Dependency[Registry] = get_registry
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["stac"]))

    def __post_init__(self) -> None:
        reg = self.registry_dependency

        @self.router.get("/stac", summary="STAC catalogue of the served datasets",
                         responses={200: {"content": {"application/json": {"example": {
                             "type": "Catalog", "stac_version": "1.1.0", "id": "carbonmap",
                             "links": [{"rel": "child", "href": "http://host/stac/collections/demo-2024"}]}}}}})
        def stac_root(request: Request, registry: Annotated[Registry, Depends(reg)]) -> JSONResponse:
            return _json(catalog(registry, _base(request)))

        @self.router.get("/stac/collections/{dataset}", summary="STAC collection of one dataset",
                         responses={200: {"content": {"application/json": {"example": {
                             "type": "Collection", "id": "demo-2024", "license": "CC-BY-4.0"}}}},
                             **problem_responses(e404=("dataset-not-found", ("unknown dataset 'x'; served datasets: "
                                                                            "demo-2024")),
                                                 e422=("invalid-parameter", ("path parameter 'dataset' (got 'a b'): "
                                                                            "String should match pattern ...")))})
        def stac_collection(request: Request, registry: Annotated[Registry, Depends(reg)],
                            dataset: Annotated[str, Path(pattern=DATASET_ID_PATTERN, description="dataset id",
                                                         openapi_examples={"demo": {"summary": "demo",
                                                                                    "value": "demo-2024"}})],
                            release: ReleaseQuery = None, as_of: AsOfQuery = None) -> JSONResponse:
            cube = resolve_cube(registry, dataset, release, as_of)
            pinned = release is not None or as_of is not None
            return _json(collection(cube, _base(request), pinned), cube=cube)

        @self.router.get("/stac/collections/{dataset}/items/{month}", summary="STAC item of one month of a dataset",
                         responses={200: {"content": {"application/geo+json": {"example": {
                             "type": "Feature", "id": "demo-2024-2024-03", "properties": {
                                 "start_datetime": "2024-03-01T00:00:00Z", "end_datetime": "2024-03-31T23:59:59Z"}}}}},
                             **problem_responses(e404=("item-not-found", "dataset 'demo-2024' has no days in 2023-12"),
                                                 e422=("invalid-parameter", ("path parameter 'month' (got '2024-3'): "
                                                                            "String should match pattern ...")))})
        def stac_item(request: Request, registry: Annotated[Registry, Depends(reg)],
                      dataset: Annotated[str, Path(pattern=DATASET_ID_PATTERN, description="dataset id",
                                                   openapi_examples={"demo": {"summary": "demo",
                                                                              "value": "demo-2024"}})],
                      month: Annotated[str, Path(pattern=MONTH_PATTERN, description="month, YYYY-MM", openapi_examples={
                          "march": {"summary": "March 2024", "value": "2024-03"}})],
                      release: ReleaseQuery = None, as_of: AsOfQuery = None) -> JSONResponse:
            cube = resolve_cube(registry, dataset, release, as_of)
            pinned = release is not None or as_of is not None
            return _json(item(cube, month, _base(request), pinned), geo=True, cube=cube)
