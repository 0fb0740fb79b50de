"""FastAPI dependencies: the registry and settings come from the app, never from globals or paths.

``create_app`` stores them on ``app.state``; routers (and the tile router) receive them via
these dependencies, so tests and the tile factory can inject others with ``dependency_overrides``.

Releases (issue 7): every data endpoint reads one *release* of a dataset (``r0001``, ``r0002``,
...); ``?release=`` pins a past release and ``?as_of=`` picks the one current at that time.
:func:`carbonmap.serving.resolve_cube` does the lookup for every route (the API's and the tile server's;
its query parameter types live there too and are re-exported here); responses name the release they come
from in the ``X-Carbonmap-Release`` header (:func:`carbonmap.http_policy.release_headers`) and a ``release``
field where the body has metadata.  An unknown release is a 404 problem naming the known releases; a
malformed id a 422.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Path, Query, Request, Response

from carbonmap.http_policy import RELEASE_HEADER, release_headers
from carbonmap.registry import Cube, DatasetNotFound, Registry
from carbonmap.serving import (
    AS_OF_DESCRIPTION,
    DATASET_ID_PATTERN,
    RELEASE_DESCRIPTION,
    RELEASE_PATTERN,
    AsOfQuery,
    Dependency,
    ReleaseQuery,
    known_releases,
    release_as_of,
    resolve_cube,
)
from carbonmap.settings import Settings


async def get_registry(request: Request) -> Registry:
    """The registry of served datasets (``app.state.registry``).

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, and a thread hop per
    dependency costs more than this attribute read (measured on tile hits and region queries)."""
    return request.app.state.registry


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with (``app.state.settings``); ``async`` like :func:`get_registry`."""
    return request.app.state.settings


RegistryDep = Annotated[Registry, Depends(get_registry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def mark_release(response: Response, cube: Cube) -> Cube:
    """Set the release header on the route's response (for routes returning models, not Responses)."""
    response.headers.update(release_headers(cube))
    return cube


def cube_from_path(
    registry: RegistryDep,
    response: Response,
    dataset_id: Annotated[str, Path(alias="id", description="dataset id, as listed by GET /datasets",
                                    pattern=DATASET_ID_PATTERN,
                                    openapi_examples={"demo": {"summary": "the demo dataset",
                                                               "value": "demo-2024"}})],
    release: ReleaseQuery = None,
    as_of: AsOfQuery = None,
) -> Cube:
    """The cube named by the ``{id}`` path parameter (404 if it is not served), at ``release``/``as_of``."""
    return mark_release(response, resolve_cube(registry, dataset_id, release, as_of))


def cube_from_dataset_path(
    registry: RegistryDep,
    response: Response,
    dataset: Annotated[str, Path(description="dataset id, as listed by GET /datasets", pattern=DATASET_ID_PATTERN,
                                 openapi_examples={"demo": {"summary": "the demo dataset", "value": "demo-2024"}})],
    release: ReleaseQuery = None,
    as_of: AsOfQuery = None,
) -> Cube:
    """The cube named by a ``{dataset}`` path parameter, at ``release``/``as_of``."""
    return mark_release(response, resolve_cube(registry, dataset, release, as_of))


async def cube_from_query(
    registry: RegistryDep,
    response: Response,
    dataset: Annotated[str | None, Query(description="dataset id (GET /datasets); default: the server's "
                                                     "default dataset", pattern=DATASET_ID_PATTERN,
                                         openapi_examples={"demo": {"summary": "a dataset by id",
                                                                    "value": "demo-2024"}})] = None,
    release: ReleaseQuery = None,
    as_of: AsOfQuery = None,
) -> Cube:
    """The cube named by ``?dataset=`` or the registry's default one, at ``release``/``as_of``.

    ``async``: the current release is a lookup (no thread-pool hop, one fewer wait in its queue per request);
    a pinned release or ``as_of`` may read manifests, so those resolve on the thread pool."""
    if dataset is None:
        dataset = registry.default_id
        if dataset is None:
            raise DatasetNotFound("this server serves no dataset; start it with `carbonmap serve --store PATH`")
    if release is None and as_of is None:
        return mark_release(response, resolve_cube(registry, dataset, None, None))
    name = dataset
    cube = await anyio.to_thread.run_sync(lambda: resolve_cube(registry, name, release, as_of))
    return mark_release(response, cube)


__all__ = ["AS_OF_DESCRIPTION", "DATASET_ID_PATTERN", "RELEASE_DESCRIPTION", "RELEASE_HEADER", "RELEASE_PATTERN",
           "AsOfQuery", "Dependency", "RegistryDep", "ReleaseQuery", "SettingsDep", "cube_from_dataset_path",
           "cube_from_path", "cube_from_query", "get_registry", "get_settings", "known_releases", "mark_release",
           "release_as_of", "release_headers", "resolve_cube"]
