"""FastAPI dependencies: the registry and settings come from the app, never from globals or paths.

``create_app`` stores them on ``app.state``; routers (and the tile router) receive them via
these dependencies, so tests and the tile factory can inject others with ``dependency_overrides``.

Releases (issue 7): every data endpoint reads one *release* of a dataset (``r0001``, ``r0002``,
...; see ``pipelines.store``).  By default the current one; ``?release=r0002`` pins a past
release and ``?as_of=2024-03-05T12:00:00Z`` picks the release that was current at that time.
:func:`resolve_cube` does the lookup for every route; responses name the release they come from
in the ``X-Carbonmap-Release`` header (and a ``release`` field where the body has metadata).
An unknown release is a 404 problem naming the known releases; a malformed id a 422.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeAlias, TypeVar

from fastapi import Depends, Path, Query, Request, Response

from carbonmap import contract as cc
from carbonmap.registry import Cube, DatasetNotFound, Registry, ReleaseNotFound
from carbonmap.settings import Settings
from carbonmap.storage import cube as cube_store
from carbonmap.storage import releases as cube_releases


async def get_registry(request: Request) -> Registry:
    """The registry of served datasets (``app.state.registry``).

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, and a thread hop per
    dependency costs more than this attribute read (measured on tile hits and region queries)."""
    return request.app.state.registry


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with (``app.state.settings``); ``async`` like :func:`get_registry`."""
    return request.app.state.settings


_T = TypeVar("_T")
Dependency: TypeAlias = Callable[..., _T | Awaitable[_T]]
"""A FastAPI dependency that provides a ``_T``: a plain or an ``async`` callable (FastAPI awaits the latter),
e.g. ``Dependency[Registry]`` for :func:`get_registry`."""

RegistryDep = Annotated[Registry, Depends(get_registry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

DATASET_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
RELEASE_PATTERN = r"^r\d{4,9}$"
"""A release id: ``r`` and 4 to 9 digits (the same rule as ``pipelines.store.RELEASE_RE``)."""
RELEASE_HEADER = "X-Carbonmap-Release"
"""Response header naming the release an answer was read from."""

RELEASE_DESCRIPTION = ("release id to read (`r0001`, `r0002`, ... as listed by GET /datasets/{id}/releases); "
                       "default: the current release. A pinned release never changes, so its answers and "
                       "tiles can be cached for ever.")
AS_OF_DESCRIPTION = ("read the release that was current at this time (ISO 8601 date-time, UTC if no offset), "
                     "e.g. to reproduce an answer given on that day; not together with `release`")

ReleaseQuery = Annotated[str | None, Query(
    description=RELEASE_DESCRIPTION, pattern=RELEASE_PATTERN,
    openapi_examples={"pinned": {"summary": "a past release", "value": "r0002"}})]
AsOfQuery = Annotated[dt.datetime | None, Query(
    description=AS_OF_DESCRIPTION,
    openapi_examples={"as_of": {"summary": "what was served on 5 March 2024, noon UTC",
                                "value": "2024-03-05T12:00:00Z"}})]


def known_releases(registry: Registry, dataset_id: str) -> list[str]:
    """Ids of the sealed releases of a served dataset, oldest first (empty for a store without releases)."""
    try:
        return cube_store.release_ids(registry.root(dataset_id))
    except (OSError, cube_store.StoreError):
        return []


def release_as_of(registry: Registry, dataset_id: str, when: dt.datetime) -> str:
    """Id of the release of ``dataset_id`` that was current at ``when`` (ReleaseNotFound if none was)."""
    root = registry.root(dataset_id)
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    try:
        return cube_releases.release_as_of(root, when)
    except LookupError:
        history = cube_releases.list_releases(root)
        first = f"; its first release, {history[-1].id}, was created {history[-1].created}" if history else ""
        raise ReleaseNotFound(f"dataset {dataset_id!r} had no release at {when.isoformat()}{first}") from None


def resolve_cube(registry: Registry, dataset_id: str, release: str | None = None,
                 as_of: dt.datetime | None = None) -> Cube:
    """The Cube of ``dataset_id``: its current release, the pinned ``release`` or the one current ``as_of``.

    DatasetNotFound / ReleaseNotFound (404) name what exists; ``release`` and ``as_of`` together,
    or a malformed release id, are a ContractError (422)."""
    if release is not None and as_of is not None:
        raise cc.ContractError("give either release or as_of, not both")
    if release is not None and not cube_store.RELEASE_RE.match(release):
        raise cc.ContractError(f"release {release!r} is not a release id; ids look like r0001 "
                               f"(see GET /datasets/{dataset_id}/releases)")
    current = registry.get(dataset_id)
    if as_of is not None:
        release = release_as_of(registry, dataset_id, as_of)
    if release is None or release == current.release:
        return current
    try:
        return registry.get(dataset_id, release)
    except ReleaseNotFound:
        known = ", ".join(known_releases(registry, dataset_id)) or "none (this store has no releases)"
        raise ReleaseNotFound(f"dataset {dataset_id!r} has no release {release!r}; its releases are: {known} "
                              f"(GET /datasets/{dataset_id}/releases)") from None


def release_headers(cube: Cube) -> dict[str, str]:
    """The ``X-Carbonmap-Release`` header of an answer read from ``cube`` (empty without releases)."""
    return {RELEASE_HEADER: cube.release} if cube.release else {}


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


def cube_from_query(
    registry: RegistryDep,
    response: Response,
    dataset: Annotated[str | None, Query(description="dataset id (GET /datasets); default: the server's "
                                                     "default dataset", pattern=DATASET_ID_PATTERN,
                                         openapi_examples={"demo": {"summary": "a dataset by id",
                                                                    "value": "demo-2024"}})] = None,
    release: ReleaseQuery = None,
    as_of: AsOfQuery = None,
) -> Cube:
    """The cube named by ``?dataset=`` or the registry's default one, at ``release``/``as_of``."""
    if dataset is None:
        dataset = registry.default_id
        if dataset is None:
            raise DatasetNotFound("this server serves no dataset; start it with `carbonmap serve --store PATH`")
    return mark_release(response, resolve_cube(registry, dataset, release, as_of))
