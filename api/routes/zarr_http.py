"""``/zarr/{dataset}/...``: the cube's Zarr store, read-only, with HTTP Range requests.

``xarray.open_zarr("http://host/zarr/{dataset}")`` works (consolidated metadata in ``zarr.json``), and
sharded arrays are read partially: zarr asks for the shard index with a suffix range
(``bytes=-N``) and for single inner chunks with ``bytes=a-b``.

Only regular files inside the registered store's release directory are served: the path is
resolved (symlinks included) and must stay inside it; hidden files, ``..`` and absolute paths are
refused with 404.  Nothing a client sends is ever used as a path outside that directory.
"""


import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response, StreamingResponse

from api.deps import DATASET_ID_PATTERN, get_registry
from api.problems import problem, problem_responses
from carbonmap.registry import Registry

READ_BLOCK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class StoreFileNotFound(LookupError):
    """No such file in the served store."""


def safe_file(root: FsPath, relative: str) -> FsPath:
    """The file ``relative`` inside ``root``; StoreFileNotFound for anything outside it or not a regular file."""
    parts = [p for p in relative.split("/") if p]
    if not parts or any(p in (".", "..") or p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
        raise StoreFileNotFound(f"no file {relative!r} in this store")
    root = root.resolve()
    candidate = (root / FsPath(*parts)).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise StoreFileNotFound(f"no file {relative!r} in this store")
    return candidate


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


def _iter_file(path: FsPath, start: int, end: int) -> Iterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            block = f.read(min(READ_BLOCK, left))
            if not block:
                break
            left -= len(block)
            yield block


def _media_type(path: FsPath) -> str:
    return "application/json" if path.suffix == ".json" else "application/octet-stream"


@dataclass
class ZarrHttpFactory:
    registry_dependency: Callable[..., Registry] = get_registry
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["downloads"]))

    def __post_init__(self) -> None:
        @self.router.api_route(
            "/zarr/{dataset}/{key:path}", methods=["GET"],
            summary="Read the Zarr store of a dataset over HTTP (Range requests supported)",
            description="Serves the files of the dataset's Zarr v3 store read-only, for "
                        "`xarray.open_zarr('http://host/zarr/{dataset}')` or `zarr.open_group`. Supports "
                        "`Range: bytes=a-b`, `bytes=a-` and `bytes=-n` (206 Partial Content), `HEAD` for sizes.",
            responses={200: {"content": {"application/octet-stream": {}, "application/json": {
                "example": {"zarr_format": 3, "node_type": "group"}}}},
                206: {"description": "the requested byte range"},
                **problem_responses(e404=("store-file-not-found", "no file 'emissions/c/0/0/0/9' in this store"),
                                    e422=("invalid-parameter", "path parameter 'dataset' (got 'a b'): String should "
                                                               "match pattern ..."),
                                    e416=("range-not-satisfiable", "bytes=900-999 is past the end of a 512-byte file"))},
        )
        def zarr_file(
            request: Request,
            registry: Annotated[Registry, Depends(self.registry_dependency)],
            dataset: Annotated[str, Path(pattern=DATASET_ID_PATTERN, description="dataset id",
                                         openapi_examples={"demo": {"summary": "demo", "value": "demo-2024"}})],
            key: Annotated[str, Path(description="key inside the store, e.g. zarr.json or emissions/c/0/0/0/0",
                                     openapi_examples={"meta": {"summary": "root metadata", "value": "zarr.json"}})],
        ) -> Response:
            cube = registry.get(dataset)
            path = safe_file(FsPath(cube.path), key)
            size = path.stat().st_size
            headers = {"Accept-Ranges": "bytes", "Cache-Control": "public, max-age=3600",
                       "ETag": f'"{int(path.stat().st_mtime_ns):x}-{size:x}"'}
            rng = request.headers.get("range")
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
                return Response(status_code=status, headers=headers, media_type=_media_type(path))
            return StreamingResponse(_iter_file(path, start, end), status_code=status, headers=headers,
                                     media_type=_media_type(path))

        self.router.add_api_route("/zarr/{dataset}/{key:path}", zarr_file, methods=["HEAD"], include_in_schema=False)

        @self.router.api_route("/zarr/{dataset}", methods=["GET", "HEAD"], include_in_schema=False)
        def zarr_root(dataset: Annotated[str, Path(pattern=DATASET_ID_PATTERN)],
                      registry: Annotated[Registry, Depends(self.registry_dependency)]) -> Response:
            registry.get(dataset)
            return Response(status_code=200, content=b"")


__all__ = ["ZarrHttpFactory", "parse_range", "safe_file"]
