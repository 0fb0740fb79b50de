"""The revision history of a dataset: ``/datasets/{id}/releases`` (+ ``?as_of=``), one release, and diffs.

Every update of a dataset is an immutable *release* (``r0001``, ``r0002``, ...; see
``pipelines.store``); re-running a past period with better inputs makes a new release that
*revises* days.  These routes list the releases with what each changed, answer "which release
was served at time T", and compare two releases on the national daily table (t CO2 per day,
sector and country; :func:`carbonmap.storage.releases.diff`).  Any data endpoint reads a past release
with ``?release=`` (or ``?as_of=``); see :mod:`carbonmap.serving`.  Headers (the release, ETags, immutable
``Cache-Control``) follow :mod:`carbonmap.http_policy`; diffs are memoised in the app's caches
(:mod:`carbonmap.caches`).
"""


import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from api.deps import get_registry, get_settings
from api.proxy import public_links, public_root
from api.routes.citation import CitationFactory
from api.routes.regions import wants_csv
from api.routes.zarr_http import KeyReader, serve_range
from carbonmap import contract as cc
from carbonmap.caches import AppCaches, app_caches
from carbonmap.errors import NotFound, TooLarge
from carbonmap.http_policy import IMMUTABLE, RELEASE_HEADER, release_header, strong_etag
from carbonmap.problems import problem_responses
from carbonmap.registry import Registry, ReleaseNotFound
from carbonmap.serving import AS_OF_DESCRIPTION, DATASET_ID_PATTERN, RELEASE_PATTERN, Dependency, known_releases
from carbonmap.settings import Settings
from carbonmap.storage import cube as store
from carbonmap.storage import release_files
from carbonmap.storage import releases as cube_releases
from carbonmap.storage.location import Location, location

DIFF_CSV_COLUMNS = ("dataset", "release", "against", "date", "sector", "country", "against_t", "release_t",
                    "change_t")

RELEASE_EXAMPLE: JsonDict = {
    "id": "r0003", "created": "2024-03-06T04:10:00+00:00", "kind": "update", "parent": "r0002",
    "days_added": [], "days_revised": [["2024-03-01", "2024-03-05"]],
    "reason": "revised national inventory (GCB 2025 v1.6)", "current": True,
    "links": {"self": "/datasets/demo-2024/releases/r0003", "diff": "/datasets/demo-2024/releases/r0003/diff",
              "dataset": "/datasets/demo-2024?release=r0003", "zarr": "/zarr/demo-2024/releases/r0003"}}


class ReleaseInfo(BaseModel):
    """One published release of a dataset and what it changed."""

    model_config = ConfigDict(json_schema_extra={"examples": [RELEASE_EXAMPLE]})

    id: str = Field(description="release id, `r` + 4..9 digits; pin it with `?release=`")
    created: str = Field(description="when the release was published (UTC, ISO 8601)")
    kind: str = Field(description="`build` (a full build) or `update` (appended and/or revised days)")
    parent: str | None = Field(description="the release this one was made from (None for the first)")
    days_added: list[list[str]] = Field(description="days this release added, as [first, last] ranges")
    days_revised: list[list[str]] = Field(description="days whose values this release changed, as [first, last] "
                                                      "ranges")
    reason: str = Field(description="why the release was made, as recorded by the update")
    current: bool = Field(description="whether this is the release served by default now")
    links: dict[str, str] = Field(description="this release, its diff against its parent, and the dataset, "
                                              "Zarr store and tiles pinned to it")


class ReleaseList(BaseModel):
    """The revision history of a dataset, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "dataset": "demo-2024", "current": "r0003", "as_of": None, "as_of_release": None,
        "releases": [RELEASE_EXAMPLE]}]})

    dataset: str
    current: str | None = Field(description="the release served by default now")
    as_of: dt.datetime | None = Field(None, description="the `as_of` time asked for, if any")
    as_of_release: str | None = Field(None, description="the release that was current at `as_of` (the first "
                                                        "listed); only releases created by then are listed")
    releases: list[ReleaseInfo]


class DiffRow(BaseModel):
    date: dt.date
    sector: str
    country: str = Field(description="ISO 3166-1 alpha-3 (or XIA/XIS bunkers)")
    against_t: float = Field(description="the value in the `against` release, t CO2 day-1")
    release_t: float = Field(description="the value in this release, t CO2 day-1")
    change_t: float = Field(description="release_t - against_t")


class ReleaseDiffBody(BaseModel):
    """What changed from release `against` to `release`, on the national daily table."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "dataset": "demo-2024", "release": "r0003", "against": "r0002", "units": "t CO2",
        "days_added": [], "days_removed": [], "days_revised": ["2024-03-01", "2024-03-02"],
        "total_change_t": 18250.5, "rows": 2,
        "filters": {"start": None, "end": None, "sectors": None, "country": None},
        "changes": [{"date": "2024-03-01", "sector": "power", "country": "DEU", "against_t": 550000.0,
                     "release_t": 560000.0, "change_t": 10000.0},
                    {"date": "2024-03-02", "sector": "power", "country": "DEU", "against_t": 540000.0,
                     "release_t": 548250.5, "change_t": 8250.5}]}]})

    dataset: str
    release: str = Field(description="the newer side of the comparison")
    against: str = Field(description="the release compared with (default: `release`'s parent)")
    units: str = "t CO2"
    days_added: list[str] = Field(description="days in `release` but not in `against`")
    days_removed: list[str] = Field(description="days in `against` but not in `release`")
    days_revised: list[str] = Field(description="days in both whose national values differ (any sector/country)")
    total_change_t: float = Field(description="sum of change_t over the listed rows (days in both releases), "
                                              "t CO2")
    rows: int = Field(description="how many changed (date, sector, country) rows match the filters")
    filters: dict[str, Any]
    changes: list[DiffRow]


FILE_EXAMPLE: JsonDict = {
    "name": "demo-2024_2024-03_daily_r0001.nc", "size": 104093312,
    "sha256": "46773825a7db0cead526b70d9b8717c7a0792bfadc766da4848acfa29a650672",
    "media_type": "application/x-netcdf", "kind": "daily", "period": "2024-03", "written_in": "r0001",
    "description": "daily emissions (kg CO2 day-1 cell-1) and relative 1-sigma of 2024-03, all sectors",
    "href": "/datasets/demo-2024/releases/r0003/files/demo-2024_2024-03_daily_r0001.nc"}


class ReleaseFile(BaseModel):
    """One downloadable file of a release (written when the release was published)."""

    model_config = ConfigDict(json_schema_extra={"examples": [FILE_EXAMPLE]})

    name: str = Field(description="file name; `_rNNNN` at its end is the release that wrote it (an update keeps "
                                  "the files of months it did not change, under their names)")
    size: int = Field(description="bytes")
    sha256: str = Field(description="hex sha256 of the bytes; also the file's ETag")
    media_type: str
    kind: str = Field(description="`daily` (one month of daily grids, all sectors, with uncertainty), "
                                  "`monthly-mean`, `annual-total` (grids, NetCDF and Cloud Optimized GeoTIFF) or "
                                  "`national-daily` (the national table, gzipped CSV and Parquet)")
    period: str = Field(description="`YYYY-MM`, `YYYY` or `first/last` day")
    written_in: str = Field(description="the release that wrote the file")
    description: str
    href: str = Field(description="where to download it (HTTP Range supported: resume with `Range: bytes=N-`)")


class ReleaseFileList(BaseModel):
    """The files of one release, with their checksums."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "dataset": "demo-2024", "release": "r0003", "note": None, "files": [FILE_EXAMPLE]}]})

    dataset: str
    release: str
    note: str | None = Field(None, description="why a release has no files, and what to use instead")
    files: list[ReleaseFile]


class ReleaseFileNotFound(NotFound):
    """No such file in a release (404, naming the files that exist)."""


# ----------------------------------------------------------------------------------------------- service
def _root(registry: Registry, dataset_id: str) -> FsPath | str:
    """The registered store of a dataset: a local path or an s3:// URL (both have a history)."""
    return registry.root(dataset_id)


def _links(dataset_id: str, info: cube_releases.ReleaseInfo) -> dict[str, str]:
    out = {"self": f"/datasets/{dataset_id}/releases/{info.id}",
           "dataset": f"/datasets/{dataset_id}?release={info.id}",
           "zarr": f"/zarr/{dataset_id}/releases/{info.id}",
           "tilejson": f"/tiles/{dataset_id}/WebMercatorQuad/tilejson.json?release={info.id}"}
    if info.parent:
        out["diff"] = f"/datasets/{dataset_id}/releases/{info.id}/diff"
    return out


def _model(request: Request, dataset_id: str, info: cube_releases.ReleaseInfo) -> ReleaseInfo:
    return ReleaseInfo(**info.to_json(), links=public_links(request, _links(dataset_id, info)))


def history(registry: Registry, dataset_id: str) -> list[cube_releases.ReleaseInfo]:
    """The published releases of a served dataset, newest first (re-read on every call)."""
    registry.get(dataset_id)  # 404 for an unknown dataset
    return cube_releases.list_releases(_root(registry, dataset_id))


def one_release(registry: Registry, dataset_id: str, release: str) -> cube_releases.ReleaseInfo:
    for info in history(registry, dataset_id):
        if info.id == release:
            return info
    known = ", ".join(sorted(i.id for i in history(registry, dataset_id))) or "none"
    raise ReleaseNotFound(f"dataset {dataset_id!r} has no release {release!r}; its releases are: {known} "
                          f"(GET /datasets/{dataset_id}/releases)")


DIFFS_CACHE = "release_diffs"
"""Name of the app's LRU of release diffs (:class:`carbonmap.caches.AppCaches`)."""
DIFFS_KEPT = 16
"""How many diffs an app keeps."""


def cached_diff(root: FsPath | str, against: str, release: str,
                caches: AppCaches | None = None) -> cube_releases.ReleaseDiff:
    """:func:`carbonmap.storage.releases.diff`, memoised in the app's ``caches`` (none: computed every time):
    releases are immutable, so a diff never goes stale."""
    if caches is None:
        return cube_releases.diff(root, against, release)
    return caches.memo(DIFFS_CACHE, DIFFS_KEPT, (str(root), against, release),
                       lambda: cube_releases.diff(root, against, release))


def filter_table(table: pd.DataFrame, start: dt.date | None, end: dt.date | None, sectors: str | None,
                 country: str | None) -> pd.DataFrame:
    """Rows of a diff table inside [start, end], in ``sectors`` (comma-separated) and ``country``."""
    if start and end and end < start:
        raise cc.ContractError(f"end {end.isoformat()} is before start {start.isoformat()}; swap them")
    keep = pd.Series(True, index=table.index)
    if start is not None:
        keep &= table["date"] >= start.isoformat()
    if end is not None:
        keep &= table["date"] <= end.isoformat()
    if sectors:
        keep &= table["sector"].isin(cc.parse_sectors(sectors))
    if country:
        keep &= table["country"] == country.upper()
    return table[keep]


def release_diff(registry: Registry, dataset_id: str, release: str, against: str | None, max_rows: int,
                 start: dt.date | None = None, end: dt.date | None = None, sectors: str | None = None,
                 country: str | None = None, caches: AppCaches | None = None) -> tuple[ReleaseDiffBody, pd.DataFrame]:
    """The diff of ``release`` against ``against`` (default its parent) as the HTTP body and its rows
    (the whole diff memoised in ``caches``, the app's, if given)."""
    info = one_release(registry, dataset_id, release)
    if against is None:
        if info.parent is None:
            raise cc.ContractError(f"{release} is the first release of {dataset_id!r} and has no parent; pass "
                                   "against=<release id> to compare it with another release")
        against = info.parent
    elif against not in known_releases(registry, dataset_id):
        one_release(registry, dataset_id, against)  # raises ReleaseNotFound naming the releases
    d = cached_diff(_root(registry, dataset_id), against, release, caches)
    table = filter_table(d.table, start, end, sectors, country)
    if len(table) > max_rows:
        raise TooLarge(f"the diff of {release} against {against} has {len(table):,} changed rows, more than "
                            f"this server's limit of {max_rows:,}; narrow it with start/end, sectors or country")
    body = ReleaseDiffBody(
        dataset=dataset_id, release=release, against=against, days_added=d.days_added,
        days_removed=d.days_removed, days_revised=d.days_revised,
        total_change_t=float(table["change_t"].sum()) if len(table) else 0.0, rows=len(table),
        filters={"start": start, "end": end, "sectors": sectors, "country": country},
        changes=[DiffRow(date=r.date, sector=r.sector, country=r.country, against_t=r.a_t, release_t=r.b_t,
                         change_t=r.change_t) for r in table.itertuples(index=False)])
    return body, table


def diff_csv(body: ReleaseDiffBody, table: pd.DataFrame) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(DIFF_CSV_COLUMNS)
    for r in table.itertuples(index=False):
        w.writerow([body.dataset, body.release, body.against, r.date, r.sector, r.country, repr(float(r.a_t)),
                    repr(float(r.b_t)), repr(float(r.change_t))])
    return buf.getvalue()


def release_dir(registry: Registry, dataset_id: str, release: str) -> Location:
    """Where ``release`` lives inside the store the registry opened, local or on object storage (404 for an
    unknown release)."""
    one_release(registry, dataset_id, release)
    return location(store.release_location(_root(registry, dataset_id), release)).resolved()


def file_list(registry: Registry, dataset_id: str, release: str, root_path: str = "") -> ReleaseFileList:
    """The listed files of a release; ``href`` is root-relative, after ``root_path`` (the public prefix)."""
    where = release_dir(registry, dataset_id, release)
    base = f"{root_path.rstrip('/')}/datasets/{dataset_id}/releases/{release}/files"
    files = [ReleaseFile(**e.to_json(), href=f"{base}/{e.name}") for e in release_files.listed_files(where)]
    note = None if files else (f"release {release} was published without release files; read the data over Zarr "
                               f"(/zarr/{dataset_id}/releases/{release}) or cut it with /download/{dataset_id}")
    return ReleaseFileList(dataset=dataset_id, release=release, note=note, files=files)


def file_location(registry: Registry, dataset_id: str, release: str, name: str
                  ) -> tuple[Location, release_files.FileEntry]:
    """Where a listed file is (the release's ``files/``, local or on object storage) and its manifest entry;
    never a client-given path."""
    where = release_dir(registry, dataset_id, release)
    listing = f"GET /datasets/{dataset_id}/releases/{release}/files"
    try:
        return release_files.file_location(where, name)
    except LookupError as exc:
        raise ReleaseFileNotFound(f"{exc} ({listing})") from None


# ----------------------------------------------------------------------------------------------- routes
DatasetIdPath = Annotated[str, Path(alias="id", description="dataset id, as listed by GET /datasets",
                                    pattern=DATASET_ID_PATTERN,
                                    openapi_examples={"demo": {"summary": "the demo dataset", "value": "demo-2024"}})]
ReleasePath = Annotated[str, Path(description="release id, as listed by GET /datasets/{id}/releases",
                                  pattern=RELEASE_PATTERN,
                                  openapi_examples={"r3": {"summary": "the third release", "value": "r0003"}})]

_E404 = ("release-not-found", ("dataset 'demo-2024' has no release 'r0009'; its releases are: r0001, r0002, r0003 "
                              "(GET /datasets/demo-2024/releases)"))
_E422 = ("invalid-parameter", ("path parameter 'release' (got 'v3'): String should match pattern '^r\\d{4,9}$'. "
                              "Fix the parameter and retry."))


@dataclass
class ReleasesFactory:
    """Builds the revision-history router (``/datasets/{id}/releases...``) from injected dependencies."""

    registry_dependency: Dependency[Registry] = get_registry
    settings_dependency: Dependency[Settings] = get_settings
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["datasets"]))

    def __post_init__(self) -> None:
        @self.router.get(
            "/datasets/{id}/releases", response_model=ReleaseList,
            summary="The revision history of a dataset: every release and what it added or revised",
            description="Releases newest first. Each update of a dataset is an immutable release; re-running a past "
                        "period with better inputs makes a release that revises days. `as_of` lists only the "
                        "releases that existed at that time; the first of them (`as_of_release`) is the one that "
                        "was served then. Pin any data endpoint to a release with `?release=`.",
            responses=problem_responses(e404=_E404, e422=("invalid-parameter", ("query parameter 'as_of' (got "
                                                          "'yesterday'): Input should be a valid datetime. Fix the "
                                                          "parameter and retry."))),
        )
        def list_releases(
            request: Request, response: Response,
            registry: Annotated[Registry, Depends(self.registry_dependency)],
            dataset_id: DatasetIdPath,
            as_of: Annotated[dt.datetime | None, Query(description=AS_OF_DESCRIPTION, openapi_examples={
                "as_of": {"summary": "5 March 2024, noon UTC", "value": "2024-03-05T12:00:00Z"}})] = None,
        ) -> ReleaseList:
            infos = history(registry, dataset_id)
            current = next((i.id for i in infos if i.current), None)
            as_of_release = None
            if as_of is not None:
                when = as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
                infos = [i for i in infos if dt.datetime.fromisoformat(i.created) <= when]
                if not infos:
                    first = history(registry, dataset_id)
                    since = f"; its first release was created {first[-1].created}" if first else ""
                    raise ReleaseNotFound(f"dataset {dataset_id!r} had no release at {when.isoformat()}{since}")
                as_of_release = infos[0].id
            if current:
                response.headers[RELEASE_HEADER] = as_of_release or current
            return ReleaseList(dataset=dataset_id, current=current, as_of=as_of, as_of_release=as_of_release,
                               releases=[_model(request, dataset_id, i) for i in infos])

        @self.router.get(
            "/datasets/{id}/releases/{release}", response_model=ReleaseInfo,
            summary="One release of a dataset: when, why and which days it added or revised",
            responses=problem_responses(e404=_E404, e422=_E422),
        )
        def get_release(
            request: Request, response: Response,
            registry: Annotated[Registry, Depends(self.registry_dependency)],
            dataset_id: DatasetIdPath,
            release: ReleasePath,
        ) -> ReleaseInfo:
            info = one_release(registry, dataset_id, release)
            response.headers[RELEASE_HEADER] = info.id
            return _model(request, dataset_id, info)

        @self.router.get(
            "/datasets/{id}/releases/{release}/files", response_model=ReleaseFileList,
            summary="The downloadable files of a release: daily NetCDF per month, monthly means, annual totals, "
                    "the national table, with sha256",
            description="Written when the release was published. Each file has its size, sha256 (check it after "
                        "download; it is also the file's ETag), media type and link. Files of months an update "
                        "did not change keep their name and bytes (the `_rNNNN` in the name is the release that "
                        "wrote them).",
            responses=problem_responses(e404=_E404, e422=_E422),
        )
        def list_files(
            request: Request, response: Response,
            registry: Annotated[Registry, Depends(self.registry_dependency)],
            dataset_id: DatasetIdPath,
            release: ReleasePath,
        ) -> ReleaseFileList:
            response.headers[RELEASE_HEADER] = release
            return file_list(registry, dataset_id, release, public_root(request))

        @self.router.get(
            "/datasets/{id}/releases/{release}/files/{name}",
            summary="Download one release file (HTTP Range supported; ETag = sha256)",
            description="The bytes of a file listed by `/files`. `Range: bytes=N-` resumes a broken transfer (206 "
                        "with `Content-Range`); `If-None-Match` with the ETag answers 304. A name not in the "
                        "release's list -> 404 naming the files it has.",
            response_class=FileResponse,
            responses={200: {"content": {"application/x-netcdf": {"schema": {"type": "string", "format": "binary"}},
                                         "image/tiff": {"schema": {"type": "string", "format": "binary"}},
                                         "application/gzip": {"schema": {"type": "string", "format": "binary"}},
                                         "application/vnd.apache.parquet": {"schema": {"type": "string",
                                                                                       "format": "binary"}}},
                             "description": "the file (206 with `Content-Range` for a `Range` request)"},
                       206: {"description": "the requested byte range"},
                       304: {"description": "not modified (`If-None-Match` matched the ETag)"},
                       **problem_responses(e404=("release-file-not-found", (
                           "this release has no file 'x.nc'; its files are: demo-2024_2024-03_daily_r0001.nc, ... "
                           "(GET /datasets/demo-2024/releases/r0003/files)")), e422=_E422)},
        )
        def get_file(
            request: Request,
            registry: Annotated[Registry, Depends(self.registry_dependency)],
            dataset_id: DatasetIdPath,
            release: ReleasePath,
            name: Annotated[str, Path(description="a file name as listed by `/files`", openapi_examples={
                "daily": {"summary": "March 2024, daily", "value": "demo-2024_2024-03_daily_r0001.nc"}})],
        ) -> Response:
            where, entry = file_location(registry, dataset_id, release, name)
            headers = {"ETag": strong_etag(entry.sha256), **release_header(release),
                       "Cache-Control": IMMUTABLE,  # a release never changes
                       "Digest": f"sha-256={entry.sha256}",
                       "Content-Disposition": f'attachment; filename="{entry.name}"'}  # names are checked ASCII
            return serve_range(request, KeyReader(where, entry.name, release), headers, entry.media_type)

        @self.router.get(
            "/datasets/{id}/releases/{release}/diff", response_model=ReleaseDiffBody,
            summary="What a release changed: days added, removed and revised, and each changed value (t CO2)",
            description="Compares the national daily table (t CO2 per day, sector and country) of `release` with "
                        "`against` (default: its parent): days only in one of them, days whose values differ, the "
                        "total change and one row per changed (date, sector, country). `start`/`end`, `sectors` "
                        "and `country` narrow the rows (and the total). More rows than the server's limit -> 422 "
                        "saying how to narrow it. `format=csv` or `Accept: text/csv` returns the rows as tidy CSV.",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}, "example":
                             ",".join(DIFF_CSV_COLUMNS) + "\ndemo-2024,r0003,r0002,2024-03-01,power,DEU,550000.0,"
                                                          "560000.0,10000.0\n"}}},
                       **problem_responses(e404=_E404, e422=("query-too-large", ("the diff of r0003 against r0001 has "
                                                             "250,000 changed rows, more than this server's limit of "
                                                             "100,000; narrow it with start/end, sectors or "
                                                             "country")))},
        )
        def get_diff(
            request: Request,
            registry: Annotated[Registry, Depends(self.registry_dependency)],
            settings: Annotated[Settings, Depends(self.settings_dependency)],
            caches: Annotated[AppCaches, Depends(app_caches)],
            dataset_id: DatasetIdPath,
            release: ReleasePath,
            against: Annotated[str | None, Query(
                description="the release to compare with; default: `release`'s parent", pattern=RELEASE_PATTERN,
                openapi_examples={"first": {"summary": "the first release", "value": "r0001"}})] = None,
            start: Annotated[dt.date | None, Query(description="first day of the rows, inclusive", openapi_examples={
                "mar": {"summary": "1 March 2024", "value": "2024-03-01"}})] = None,
            end: Annotated[dt.date | None, Query(description="last day of the rows, inclusive", openapi_examples={
                "mar": {"summary": "31 March 2024", "value": "2024-03-31"}})] = None,
            sectors: Annotated[str | None, Query(description="comma-separated sectors; default all",
                                                 openapi_examples={"power": {"summary": "power",
                                                                             "value": "power"}})] = None,
            country: Annotated[str | None, Query(description="one ISO 3166-1 alpha-3 code (or XIA/XIS)",
                                                 pattern=r"^[A-Za-z]{3}$",
                                                 openapi_examples={"deu": {"summary": "Germany",
                                                                           "value": "DEU"}})] = None,
            format: Annotated[Literal["json", "csv"] | None, Query(
                description="response format; default JSON unless `Accept` prefers text/csv",
                openapi_examples={"csv": {"summary": "tidy CSV", "value": "csv"}})] = None,
        ) -> Any:
            max_rows = settings.max_release_diff_rows
            body, table = release_diff(registry, dataset_id, release, against, max_rows, start, end, sectors,
                                       country, caches)
            headers = {**release_header(release), "Cache-Control": IMMUTABLE, "Vary": "Accept"}
            as_csv = wants_csv(format, request.headers.get("accept"))
            key = f"{dataset_id}|{body.against}|{release}|{start}|{end}|{sectors}|{country}|{as_csv}"
            headers["ETag"] = strong_etag(f"diff-{hashlib.sha256(key.encode()).hexdigest()[:24]}")
            if as_csv:
                name = f"{dataset_id}_{release}_vs_{body.against}.csv"
                return Response(diff_csv(body, table), media_type="text/csv; charset=utf-8",
                                headers={**headers, "Content-Disposition": f'attachment; filename="{name}"'})
            return Response(body.model_dump_json(), media_type="application/json", headers=headers)

        # /datasets/{id}/citation lives with the releases it cites (this router is included by DatasetsFactory)
        self.router.include_router(CitationFactory(registry_dependency=self.registry_dependency).router)


__all__ = ["ReleaseDiffBody", "ReleaseFile", "ReleaseFileList", "ReleaseInfo", "ReleaseList", "ReleasesFactory",
           "file_list", "release_diff"]
