"""The region catalogue over HTTP: ``GET /regions`` (search), ``GET /regions/{id}`` (GeoJSON) and
``GET /regions/{id}/emissions`` for admin-1 units and cities (by their polygons).

Countries' emissions stay on ``/regions/{iso3}/emissions`` (``api.routes.regions``, from the national
table).  This router must be included *before* that one: its emissions route only matches catalogue
ids that are not ISO3 codes (``ADM1-...``, ``UA0000``, ``PL-...``), so ISO3 requests fall through.
"""


import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.convertors import Convertor, register_url_convertor

from api.deps import Dependency, cube_from_query, get_settings
from api.problems import problem_responses
from api.routes.query import DESCRIPTION as QUERY_DESCRIPTION
from api.routes.query import QueryEmissions, parse_sector_list, query_geometry, respond
from carbonmap.registry import Cube
from carbonmap.settings import Settings
from ingest.region_catalogue import ID_PATTERN, REGION_TYPES, RegionCatalogue, load_catalogue


class _CatalogueIdConvertor(Convertor):
    """Path segments that are catalogue ids but not ISO3 codes."""

    regex = r"ADM1-[A-Za-z]{3}-[0-9]+|UA[0-9]{4}|PL-[0-9]+"

    def convert(self, value: str) -> str:
        return value.upper()

    def to_string(self, value: str) -> str:
        return str(value)


register_url_convertor("catalogueid", _CatalogueIdConvertor())


def catalogue(settings: Settings) -> RegionCatalogue:
    return load_catalogue(settings.data_dir, settings.cache_dir)


class RegionHit(BaseModel):
    id: str = Field(description="region id: ISO3, ADM1-<NE adm1_code>, UA0000 (urban area) or PL-<n> (place)")
    type: Literal["country", "admin1", "urban_area", "place"]
    name: str
    iso3: str | None = Field(None, description="country the region lies in")
    population: float | None = Field(None, description="Natural Earth pop_max of the place (cities only)")
    definition: str
    links: dict[str, str]


class RegionSearch(BaseModel):
    query: str | None
    type: str | None
    count: int
    regions: list[RegionHit]


def _links(region_id: str) -> dict[str, str]:
    return {"self": f"/regions/{region_id}", "emissions": f"/regions/{region_id}/emissions",
            "analysis": f"/regions/{region_id}/analysis"}


def _hit(row: Any) -> RegionHit:
    pop = row.get("population")
    return RegionHit(id=row["id"], type=row["type"], name=row["name"], iso3=row.get("iso3") or None,
                     population=None if pop is None or pd.isna(pop) else float(pop), definition=row["definition"],
                     links=_links(row["id"]))


def region_geometry(settings: Settings, region_id: str) -> tuple[Any, dict[str, str]]:
    """(shapely geometry, region info for query results) of a catalogue region."""
    row = catalogue(settings).get(region_id.upper())
    return row.geometry, {"id": row["id"], "type": row["type"], "definition": f"{row['name']}: {row['definition']}"}


REGION_ID = Annotated[str, Path(description="region id from GET /regions", pattern=ID_PATTERN.replace("[A-Z]", "[A-Za-z]"),
                                openapi_examples={"germany": {"summary": "a country", "value": "DEU"},
                                                  "city": {"summary": "an urban area", "value": "UA2132"}})]


@dataclass
class RegionCatalogueFactory:
    settings_dependency: Dependency[Settings] = get_settings
    cube_dependency: Callable[..., Cube] = cube_from_query
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["regions"]))

    def __post_init__(self) -> None:
        settings_dep = self.settings_dependency

        @self.router.get(
            "/regions", response_model=RegionSearch,
            summary="Search regions: countries, admin-1 units, urban areas and populated places",
            description="Case-insensitive search over region names and ids; exact matches first, then prefixes, "
                        "then by population. Without `q`, lists regions of `type`.",
            responses={200: {"content": {"application/json": {"example": {
                "query": "tokyo", "type": None, "count": 1, "regions": [
                    {"id": "UA2132", "type": "urban_area", "name": "Tokyo (JPN)", "iso3": "JPN", "population": 35676000,
                     "definition": "Natural Earth 1:50m urban-area polygon", "links": _links("UA2132")}]}}}},
                       **problem_responses(e422=("invalid-parameter", ("unknown region type 'town'; use one of "
                                                                      "country, admin1, urban_area, place")))})
        def search_regions(
            settings: Annotated[Settings, Depends(settings_dep)],
            q: Annotated[str | None, Query(max_length=100, description="text in the name or id",
                                           openapi_examples={"tokyo": {"summary": "Tokyo", "value": "tokyo"}})] = None,
            type: Annotated[Literal["country", "admin1", "urban_area", "place"] | None, Query(
                description="only regions of this type",
                openapi_examples={"cities": {"summary": "urban areas", "value": "urban_area"}})] = None,
            limit: Annotated[int, Query(ge=1, le=200, description="most results",
                                        openapi_examples={"ten": {"summary": "ten", "value": 10}})] = 20,
        ) -> RegionSearch:
            found = catalogue(settings).search(q, type, limit)
            hits = [_hit(r) for r in found.to_dict("records")]
            return RegionSearch(query=q, type=type, count=len(hits), regions=hits)

        @self.router.get(
            "/regions/{region_id}", summary="A region as a GeoJSON Feature (polygon and properties)",
            response_description="GeoJSON Feature, lon/lat degrees (EPSG:4326)",
            responses={200: {"content": {"application/geo+json": {"example": {
                "type": "Feature", "id": "DEU", "properties": {"name": "Germany", "type": "country"},
                "geometry": {"type": "MultiPolygon", "coordinates": []}}}}},
                       **problem_responses(e404=("region-not-in-catalogue", ("no region 'XXX' in the catalogue; "
                                                                            "search with GET /regions?q=name")),
                                           e422=("invalid-parameter", ("path parameter 'region_id' (got 'x y'): "
                                                                      "String should match pattern ...")))})
        def get_region(settings: Annotated[Settings, Depends(settings_dep)], region_id: REGION_ID) -> Any:
            from fastapi.responses import JSONResponse

            row = catalogue(settings).get(region_id.upper())
            hit = _hit(row).model_dump()
            feature = {"type": "Feature", "id": row["id"], "properties": hit,
                       "geometry": shapely.geometry.mapping(row.geometry), "bbox": list(row.geometry.bounds)}
            return JSONResponse(feature, media_type="application/geo+json")

        @self.router.get(
            "/regions/{region_id:catalogueid}/emissions", response_model=QueryEmissions,
            summary="Emissions of an admin-1 unit or city, per period and sector, with a 90% interval",
            description="The region's polygon from the catalogue, summed like POST /emissions/query. Countries "
                        "(ISO3) are answered from the national table by the other /regions/{iso3}/emissions "
                        "route.\n" + QUERY_DESCRIPTION,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}, "example":
                             "dataset,region,period,start,end,days,sector,emissions_t,lower_t,upper_t\n"
                             "demo-2024,UA2132,2024-01,2024-01-01,2024-01-31,31,power,1.0e6,8.1e5,1.2e6\n"}}},
                       **problem_responses(e404=("region-not-in-catalogue", ("no region 'UA9999' in the catalogue; "
                                                                            "search with GET /regions?q=name")),
                                           e422=("query-too-large", ("this query reads 40000 grid cells x 366 time "
                                                                    "steps ...; ask for a coarser freq")))})
        def catalogue_emissions(
            request: Request,
            settings: Annotated[Settings, Depends(settings_dep)],
            cube: Annotated[Cube, Depends(self.cube_dependency)],
            region_id: Annotated[str, Path(description="admin-1 or city id from GET /regions (ADM1-..., UA0000, PL-n)",
                                           openapi_examples={"tokyo": {"summary": "Tokyo urban area",
                                                                       "value": "UA2132"}})],
            start: Annotated[dt.date | None, Query(description="first day, inclusive", openapi_examples={
                "jan": {"summary": "1 January 2024", "value": "2024-01-01"}})] = None,
            end: Annotated[dt.date | None, Query(description="last day, inclusive", openapi_examples={
                "dec": {"summary": "31 December 2024", "value": "2024-12-31"}})] = None,
            freq: Annotated[Literal["day", "month", "year"], Query(description="period to sum over", openapi_examples={
                "month": {"summary": "monthly", "value": "month"}})] = "day",
            sectors: Annotated[str | None, Query(description="comma-separated sectors; default all 7", openapi_examples={
                "two": {"summary": "power and road", "value": "power,ground_transport"}})] = None,
            format: Annotated[Literal["json", "csv"] | None, Query(description="json or csv", openapi_examples={
                "csv": {"summary": "tidy CSV", "value": "csv"}})] = None,
        ) -> Any:
            geom, info = region_geometry(settings, region_id)
            result = query_geometry(cube, geom, start, end, freq, parse_sector_list(sectors), settings, region=info)
            return respond(result, format, request)


__all__ = ["REGION_TYPES", "RegionCatalogueFactory", "catalogue", "region_geometry"]
