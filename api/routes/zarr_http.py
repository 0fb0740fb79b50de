"""``/zarr/{dataset}/...``: the cube's Zarr store, read-only, with HTTP Range requests.

``xarray.open_zarr("http://host/zarr/{dataset}")`` works (consolidated metadata in ``zarr.json``), and
sharded arrays are read partially: zarr asks for the shard index with a suffix range
(``bytes=-N``) and for single inner chunks with ``bytes=a-b``.

Releases: ``/zarr/{dataset}/releases/{release}/...`` is the store of one pinned release
(``xarray.open_zarr("http://host/zarr/demo-2024/releases/r0002")``); it never changes, so it is
served ``Cache-Control: immutable``, and it is the URL to use for reproducible work.  The plain
``/zarr/{dataset}/...`` serves the current release (also ``?release=`` for single keys), which moves
to the next release when an update is published: a client that reads across a publish can mix
releases, so pin one for anything longer than a glance.  Every response names its release in
``X-Carbonmap-Release`` and ETags include the release id; the caching rules (ETag matching, max-age,
immutable) are :mod:`carbonmap.http_policy`'s, the same as the tiles'.

Keys are read through the release's :class:`~carbonmap.storage.location.Location` (local directory or
object storage, one interface).  For a local store only regular files inside the release directory are
served: the path is resolved (symlinks included) and must stay inside it; hidden files, ``..`` and
absolute paths are refused with 404.  Nothing a client sends is ever used as a path outside that directory.
"""


import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response, StreamingResponse

from api.deps import get_registry
from carbonmap.errors import NotFound
from carbonmap.http_policy import (
    CURRENT_MAX_AGE,
    cache_headers,
    etag_matches,
    immutable_url,
    release_headers,
    strong_etag,
)
from carbonmap.problems import problem, problem_responses
from carbonmap.registry import Cube, Registry
from carbonmap.serving import DATASET_ID_PATTERN, RELEASE_PATTERN, AsOfQuery, Dependency, ReleaseQuery, resolve_cube
from carbonmap.storage.location import Location, location

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class StoreFileNotFound(NotFound):
    """No such file in the served store."""


def _key_parts(relative: str) -> list[str]:
    parts = [p for p in relative.split("/") if p]
    if not parts or any(p in (".", "..") or p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
        raise StoreFileNotFound(f"no file {relative!r} in this store")
    return parts


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) of a single ``bytes=`` range; None if unsatisfiable; ValueError if malformed."""
    m = _RANGE.match(header.strip())
    if not m or (m.group(1) == "" and m.group(2) == ""):
        raise ValueError(f"unsupported Range {header!r}; send one range like bytes=0-99 or bytes=-100")
    a, b = m.group(1), m.group(2)
    if a == "":
        n = int(b)
        if n == 0:
            return None
        return max(0, size - n), size
    start = int(a)
    end = size if b == "" else min(size, int(b) + 1)
    if start >= size or end <= start:
        return None
    return start, end


def _media_type(key: str) -> str:
    return "application/json" if key.endswith(".json") else "application/octet-stream"


class KeyReader:
    """Size, version and byte ranges of one key under a :class:`~carbonmap.storage.location.Location` (a release's
    store, or its ``files/``): a local file or an object, read the same way."""

    def __init__(self, root: Location, key: str, release: str | None) -> None:
        self.root, self.release = root, release
        self.key = "/".join(_key_parts(key))
        got = root.stat(self.key)
        if got is None:
            raise StoreFileNotFound(f"no file {key!r} in this store")
        self.size, self.version = got

    @property
    def etag(self) -> str:
        return strong_etag(f"{self.release or 'store'}-{self.version}-{self.size:x}")

    def iter_bytes(self, start: int, end: int) -> Iterator[bytes]:
        return self.root.iter_range(self.key, start, end)


def serve_range(request: Request, reader: KeyReader, headers: dict[str, str], media_type: str) -> Response:
    """The object of ``reader``, whole or a single byte range (206), HEAD without a body; ``headers`` are the
    caching headers of the caller (ETag included)."""
    size = reader.size
    headers = {"Accept-Ranges": "bytes", **headers}
    rng = request.headers.get("range")
    if etag_matches(request.headers.get("if-none-match"), headers.get("ETag", reader.etag)) and not rng:
        return Response(status_code=304, headers=headers)
    start, end, status = 0, size, 200
    if rng:
        try:
            span = parse_range(rng, size)
        except ValueError as exc:
            return problem(416, str(exc), "range-not-satisfiable", headers={"Content-Range": f"bytes */{size}"})
        if span is None:
            return problem(416, f"{rng} is past the end of a {size}-byte file", "range-not-satisfiable",
                           headers={"Content-Range": f"bytes */{size}"})
        start, end, status = span[0], span[1], 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(reader.iter_bytes(start, end), status_code=status, headers=headers,
                             media_type=media_type)


def serve_key(request: Request, cube: Cube, key: str, immutable: bool) -> Response:
    """One key of ``cube``'s release store, whole or a single byte range (206), with caching headers
    (``immutable``: the URL pins a release; else :data:`~carbonmap.http_policy.CURRENT_MAX_AGE` seconds)."""
    reader = KeyReader(location(cube.path), key, cube.release)
    headers = {**cache_headers(reader.etag, CURRENT_MAX_AGE, immutable), **release_headers(cube)}
    return serve_range(request, reader, headers, _media_type(key))


DatasetPath = Annotated[str, Path(pattern=DATASET_ID_PATTERN, description="dataset id",
                                  openapi_examples={"demo": {"summary": "demo", "value": "demo-2024"}})]
KeyPath = Annotated[str, Path(description="key inside the store, e.g. zarr.json or emissions/c/0/0/0/0",
                              openapi_examples={"meta": {"summary": "root metadata", "value": "zarr.json"}})]
ReleasePath = Annotated[str, Path(pattern=RELEASE_PATTERN, description="release id (GET /datasets/{id}/releases)",
                                  openapi_examples={"r2": {"summary": "the second release", "value": "r0002"}})]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}, "application/json": {
        "example": {"zarr_format": 3, "node_type": "group"}}}},
    206: {"description": "the requested byte range"},
    304: {"description": "Not Modified: the `If-None-Match` ETag is current"},
    **problem_responses(e404=("store-file-not-found", "no file 'emissions/c/0/0/0/9' in this store"),
                        e422=("invalid-parameter", ("path parameter 'dataset' (got 'a b'): String should "
                                                   "match pattern ...")),
                        e416=("range-not-satisfiable", "bytes=900-999 is past the end of a 512-byte file"))}


@dataclass
class ZarrHttpFactory:
    registry_dependency: Dependency[Registry] = get_registry
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["downloads"]))

    def __post_init__(self) -> None:
        reg = self.registry_dependency

        # the pinned form first: /zarr/{dataset}/{key:path} would otherwise take "releases/r0002/..." as a key
        @self.router.api_route(
            "/zarr/{dataset}/releases/{release}/{key:path}", methods=["GET"],
            summary="Read the Zarr store of one release of a dataset over HTTP (immutable; Range requests)",
            description="The files of one release's Zarr v3 store, read-only, for "
                        "`xarray.open_zarr('http://host/zarr/{dataset}/releases/{release}')`. A release never "
                        "changes: responses are `Cache-Control: immutable` and a reader never mixes releases. "
                        "Supports `Range: bytes=a-b`, `bytes=a-` and `bytes=-n` (206), `HEAD` for sizes.",
            responses=_RESPONSES,
        )
        def zarr_release_file(request: Request, registry: Annotated[Registry, Depends(reg)], dataset: DatasetPath,
                              release: ReleasePath, key: KeyPath) -> Response:
            return serve_key(request, resolve_cube(registry, dataset, release), key,
                             immutable=immutable_url(release=release))

        self.router.add_api_route("/zarr/{dataset}/releases/{release}/{key:path}", zarr_release_file,
                                  methods=["HEAD"], include_in_schema=False)

        @self.router.api_route("/zarr/{dataset}/releases/{release}", methods=["GET", "HEAD"], include_in_schema=False)
        def zarr_release_root(registry: Annotated[Registry, Depends(reg)], dataset: DatasetPath,
                              release: ReleasePath) -> Response:
            cube = resolve_cube(registry, dataset, release)
            return Response(status_code=200, content=b"", headers=release_headers(cube))

        @self.router.api_route(
            "/zarr/{dataset}/{key:path}", methods=["GET"],
            summary="Read the Zarr store of a dataset's current release over HTTP (Range requests supported)",
            description="Serves the files of the dataset's Zarr v3 store read-only, for "
                        "`xarray.open_zarr('http://host/zarr/{dataset}')` or `zarr.open_group`. Supports "
                        "`Range: bytes=a-b`, `bytes=a-` and `bytes=-n` (206 Partial Content), `HEAD` for sizes. "
                        "This is the *current* release, which moves on when an update is published; for "
                        "reproducible reads open `/zarr/{dataset}/releases/{release}` (see "
                        "`GET /datasets/{id}/releases`). `release=`/`as_of=` pin single keys.",
            responses=_RESPONSES,
        )
        def zarr_file(request: Request, registry: Annotated[Registry, Depends(reg)], dataset: DatasetPath,
                      key: KeyPath, release: ReleaseQuery = None, as_of: AsOfQuery = None) -> Response:
            cube = resolve_cube(registry, dataset, release, as_of)
            return serve_key(request, cube, key, immutable=immutable_url(release=release))

        self.router.add_api_route("/zarr/{dataset}/{key:path}", zarr_file, methods=["HEAD"], include_in_schema=False)

        @self.router.api_route("/zarr/{dataset}", methods=["GET", "HEAD"], include_in_schema=False)
        def zarr_root(dataset: Annotated[str, Path(pattern=DATASET_ID_PATTERN)],
                      registry: Annotated[Registry, Depends(reg)]) -> Response:
            cube = registry.get(dataset)
            return Response(status_code=200, content=b"", headers=release_headers(cube))


__all__ = ["KeyReader", "ZarrHttpFactory", "parse_range", "serve_key", "serve_range"]
