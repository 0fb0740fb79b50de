"""The region catalogue over HTTP: ``GET /regions`` (search, paged), ``GET /regions/{id}`` (GeoJSON) and
``GET /regions/{id}/emissions`` for admin-1 units and cities (by their polygons).

Countries' emissions stay on ``/regions/{iso3}/emissions`` (``api.routes.regions``, from the national
table).  This router must be included *before* that one: its emissions route only matches catalogue
ids that are not ISO3 codes (ISO 3166-2 ``CN-SH``, ``adm1:<iso3>:<n>``, old ``ADM1-...``, ``UA0000``,
``PL-0000``), so ISO3 requests fall through.
"""


import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.convertors import Convertor, register_url_convertor

from api.deps import Dependency, cube_from_query, get_settings
from api.proxy import public_links
from api.query_encoding import respond
from api.query_engine import parse_sector_list, query_geometry
from api.query_models import QueryEmissions
from api.routes.query import DESCRIPTION as QUERY_DESCRIPTION
from carbonmap.caches import AppCaches, app_caches
from carbonmap.errors import TooLarge
from carbonmap.problems import problem_responses
from carbonmap.registry import Cube
from carbonmap.settings import Settings
from ingest.region_catalogue import ID_PATTERN, REGION_TYPES, RegionCatalogue, load_catalogue


class _CatalogueIdConvertor(Convertor):
    """Path segments that are catalogue ids but not ISO3 codes."""

    regex = (r"ADM1-[A-Za-z]{3}-[0-9]+|UA[0-9]{4}|PL-[0-9]+|[A-Za-z]{2}-[A-Za-z0-9]{1,3}"
             r"|(?:adm1|ADM1):[A-Za-z]{3}:[0-9]+")

    def convert(self, value: str) -> str:
        return value.upper()

    def to_string(self, value: str) -> str:
        return str(value)


register_url_convertor("catalogueid", _CatalogueIdConvertor())


def catalogue(settings: Settings) -> RegionCatalogue:
    return load_catalogue(settings.data_dir, settings.cache_dir)


MAX_LIMIT = 200
"""Most regions on one page of GET /regions; page on with ``offset`` (the ``next`` link)."""


class RegionHit(BaseModel):
    id: str = Field(description="region id: ISO3 (country), ISO 3166-2 code (admin-1, e.g. CN-SH) or "
                                "adm1:<iso3>:<n> where the unit has none, UA0000 (urban area) or PL-0000 (place)")
    type: Literal["country", "admin1", "urban_area", "place"]
    name: str = Field(description="English name (Natural Earth)")
    name_local: str | None = Field(None, description="name in the country's own language/script, where known")
    names_alt: list[str] = Field(default_factory=list, description="other names: other languages, alternative "
                                 "spellings, aliases")
    subtype: str | None = Field(None, description="kind of admin-1 unit where known, e.g. Municipality, State")
    iso3: str | None = Field(None, description="country the region lies in")
    population: float | None = Field(None, description="Natural Earth pop_max of the place (cities only)")
    definition: str = Field(description="what the region's polygon is")
    matched: str | None = Field(None, description="the name or id that matched the query, as written")
    links: dict[str, str]


class RegionSearch(BaseModel):
    query: str | None
    type: str | None
    total: int = Field(description="regions matching in all")
    count: int = Field(description="regions on this page")
    offset: int
    limit: int
    next: str | None = Field(None, description="the next page (relative URL), null on the last page")
    prev: str | None = Field(None, description="the previous page (relative URL), null on the first page")
    regions: list[RegionHit]


def _links(region_id: str) -> dict[str, str]:
    return {"self": f"/regions/{region_id}", "emissions": f"/regions/{region_id}/emissions",
            "analysis": f"/regions/{region_id}/analysis"}


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _hit(row: Any, request: Request | None = None) -> RegionHit:
    """One search hit; its links are prefixed with ``request``'s root path (behind a proxy) when given."""
    pop = row.get("population")
    alt = [*(_text(row.get("names_alt")) or "").split("|"), *(_text(row.get("aliases")) or "").split("|")]
    return RegionHit(id=row["id"], type=row["type"], name=row["name"], name_local=_text(row.get("name_local")),
                     names_alt=[a for a in alt if a], subtype=_text(row.get("subtype")), iso3=_text(row.get("iso3")),
                     population=None if pop is None or pd.isna(pop) else float(pop), definition=row["definition"],
                     matched=_text(row.get("matched")),
                     links=_links(row["id"]) if request is None else public_links(request, _links(row["id"])))


def _page_link(request: Request, offset: int, limit: int) -> str:
    url = request.url.include_query_params(offset=offset, limit=limit)
    return f"{url.path}?{url.query}"


def region_geometry(settings: Settings, region_id: str) -> tuple[Any, dict[str, str]]:
    """(shapely geometry, region info for query results) of a catalogue region."""
    row = catalogue(settings).get(region_id.upper())
    return row.geometry, {"id": row["id"], "type": row["type"], "definition": f"{row['name']}: {row['definition']}"}


REGION_ID = Annotated[str, Path(description="region id from GET /regions", pattern=ID_PATTERN.replace("[A-Z]", "[A-Za-z]"),
                                openapi_examples={"germany": {"summary": "a country", "value": "DEU"},
                                                  "province": {"summary": "an admin-1 unit (ISO 3166-2)",
                                                               "value": "CN-SH"},
                                                  "city": {"summary": "an urban area", "value": "UA2132"}})]


@dataclass
class RegionCatalogueFactory:
    settings_dependency: Dependency[Settings] = get_settings
    cube_dependency: Dependency[Cube] = cube_from_query
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["regions"]))

    def __post_init__(self) -> None:
        settings_dep = self.settings_dependency

        @self.router.get(
            "/regions", response_model=RegionSearch,
            summary="Search regions: countries, states/provinces, urban areas and populated places",
            description=(
                "Search over region ids, names, local-script names, other-language names and aliases, in any "
                "script, accent- and case-insensitive: text is compared after NFKD, dropping combining marks and "
                "casefolding (`Sao Paulo` finds São Paulo, `上海` finds 上海市, `München` finds Munich; `Bavaria` finds "
                "Bayern through the alias table `data/boundaries/region_aliases.csv`). Other scripts match the names "
                "the data holds in them (no transliteration). Ranked: exact matches first, then "
                "prefixes, word prefixes and substrings; then countries, admin-1 units, places, urban areas; then by "
                "population and name. Without `q`, lists the regions of `type` by id. Paged: `limit` (at most "
                f"{MAX_LIMIT}) regions from `offset`; `next`/`prev` link the neighbouring pages and `total` counts "
                "all matches."),
            responses={200: {"content": {"application/json": {"examples": {
                "shanghai": {"summary": "上海: the municipality (admin-1) by its Chinese name", "value": {
                    "query": "上海", "type": None, "total": 1, "count": 1, "offset": 0, "limit": 20, "next": None,
                    "prev": None, "regions": [
                        {"id": "CN-SH", "type": "admin1", "name": "Shanghai", "name_local": "上海市",
                         "names_alt": ["Shanghái", "Xangai", "Шанхай"], "subtype": "Municipality", "iso3": "CHN",
                         "population": None, "definition": "Natural Earth 1:10m admin-1 (state/province) polygon",
                         "matched": "上海", "links": _links("CN-SH")}]}},
                "paged": {"summary": "the second page of admin-1 units", "value": {
                    "query": None, "type": "admin1", "total": 4855, "count": 1, "offset": 200, "limit": 1,
                    "next": "/regions?type=admin1&offset=201&limit=1", "prev": "/regions?type=admin1&offset=199&limit=1",
                    "regions": [{"id": "AZ-SR", "type": "admin1", "name": "Shirvan", "name_local": None,
                                 "names_alt": [], "subtype": None, "iso3": "AZE", "population": None,
                                 "definition": "Natural Earth 1:10m admin-1 (state/province) polygon",
                                 "matched": None, "links": _links("AZ-SR")}]}}}}}},
                       **problem_responses(e422=("invalid-parameter", (f"limit=500 is more than {MAX_LIMIT} regions a "
                                                                      f"page; ask for limit={MAX_LIMIT} or less and "
                                                                      "follow the 'next' link (offset) for the rest")))})
        def search_regions(
            request: Request,
            settings: Annotated[Settings, Depends(settings_dep)],
            q: Annotated[str | None, Query(max_length=100, description="text in a name (any language or script, "
                                           "accents optional) or id", openapi_examples={
                                               "shanghai": {"summary": "上海 (Shanghai)", "value": "上海"},
                                               "sao_paulo": {"summary": "Sao Paulo without accents", "value": "Sao Paulo"},
                                               "bavaria": {"summary": "an English exonym", "value": "Bavaria"},
                                               "new_york": {"summary": "New York", "value": "New York"}})] = None,
            type: Annotated[Literal["country", "admin1", "urban_area", "place"] | None, Query(
                description="only regions of this type",
                openapi_examples={"provinces": {"summary": "states and provinces", "value": "admin1"},
                                  "cities": {"summary": "urban areas", "value": "urban_area"}})] = None,
            limit: Annotated[int, Query(ge=1, description=f"regions on this page, 1 to {MAX_LIMIT}",
                                        json_schema_extra={"maximum": MAX_LIMIT},
                                        openapi_examples={"ten": {"summary": "ten", "value": 10},
                                                          "most": {"summary": "the most", "value": MAX_LIMIT}})] = 20,
            offset: Annotated[int, Query(ge=0, description="regions to skip (0 = the first page); "
                                         "the `next` link carries it", openapi_examples={
                                             "second": {"summary": "the second page of 200", "value": 200}})] = 0,
        ) -> RegionSearch:
            if limit > MAX_LIMIT:
                raise TooLarge(f"limit={limit} is more than {MAX_LIMIT} regions a page; ask for limit={MAX_LIMIT} "
                                 "or less and follow the 'next' link (offset) for the rest")
            found, total = catalogue(settings).search(q, type, limit, offset)
            hits = [_hit(r, request) for r in found.to_dict("records")]
            nxt = _page_link(request, offset + limit, limit) if offset + limit < total else None
            prev = _page_link(request, max(offset - limit, 0), limit) if offset > 0 else None
            return RegionSearch(query=q, type=type, total=total, count=len(hits), offset=offset, limit=limit,
                                next=nxt, prev=prev, regions=hits)

        @self.router.get(
            "/regions/{region_id}", summary="A region as a GeoJSON Feature (polygon and properties)",
            response_description="GeoJSON Feature, lon/lat degrees (EPSG:4326)",
            responses={200: {"content": {"application/geo+json": {"example": {
                "type": "Feature", "id": "DEU", "properties": {"name": "Germany", "type": "country"},
                "geometry": {"type": "MultiPolygon", "coordinates": []}}}}},
                       **problem_responses(e404=("region-not-in-catalogue", ("no region 'CN-SHH' in the catalogue; "
                                                                            "close matches: CN-SH (Shanghai); search "
                                                                            "by name with GET /regions?q=name")),
                                           e422=("invalid-parameter", ("path parameter 'region_id' (got 'x y'): "
                                                                      "String should match pattern ...")))})
        def get_region(request: Request, settings: Annotated[Settings, Depends(settings_dep)],
                       region_id: REGION_ID) -> Any:
            from fastapi.responses import JSONResponse

            row = catalogue(settings).get(region_id.upper())
            hit = _hit(row, request).model_dump()
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
            caches: Annotated[AppCaches, Depends(app_caches)],
            cube: Annotated[Cube, Depends(self.cube_dependency)],
            region_id: Annotated[str, Path(description="admin-1 or city id from GET /regions (ISO 3166-2 such as "
                                                       "CN-NM, adm1:<iso3>:<n>, UA0000, PL-0000)",
                                           openapi_examples={"tokyo": {"summary": "Tokyo urban area",
                                                                       "value": "UA2132"},
                                                             "inner_mongolia": {"summary": "Inner Mongolia (admin-1)",
                                                                                "value": "CN-NM"}})],
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
            result = query_geometry(cube, geom, start, end, freq, parse_sector_list(sectors), settings, caches,
                                    region=info)
            return respond(result, format, request)


__all__ = ["REGION_TYPES", "RegionCatalogueFactory", "catalogue", "region_geometry"]
