"""What the API and the tile server share to answer a request: which dataset and which release it reads.

Releases (issue 7): every data endpoint reads one *release* of a dataset (``r0001``, ``r0002``, ...; see
``carbonmap.storage.releases``).  By default the current one; ``?release=r0002`` pins a past release and
``?as_of=2024-03-05T12:00:00Z`` picks the release that was current at that time.  :func:`resolve_cube` does the
lookup for every route of both servers (``api.deps`` builds the API's dependencies on it, ``tiles.factory`` its
``ReleaseParams``); responses name the release in the header of :mod:`carbonmap.http_policy`.  An unknown release
is a 404 problem naming the known releases; a malformed id a 422.

This module sits below both servers (import-linter: the core imports no stage), so the tile server does not
import the API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeAlias, TypeVar

from fastapi import Query

from carbonmap import contract as cc
from carbonmap.registry import Cube, Registry, ReleaseNotFound
from carbonmap.storage import cube as cube_store
from carbonmap.storage import releases as cube_releases

_T = TypeVar("_T")
Dependency: TypeAlias = Callable[..., _T | Awaitable[_T]]
"""A FastAPI dependency that provides a ``_T``: a plain or an ``async`` callable (FastAPI awaits the latter),
e.g. ``Dependency[Registry]`` for ``api.deps.get_registry``."""

DATASET_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
RELEASE_PATTERN = r"^r\d{4,9}$"
"""A release id: ``r`` and 4 to 9 digits (the same rule as ``pipelines.store.RELEASE_RE``)."""

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


__all__ = ["AS_OF_DESCRIPTION", "DATASET_ID_PATTERN", "RELEASE_DESCRIPTION", "RELEASE_PATTERN", "AsOfQuery",
           "Dependency", "ReleaseQuery", "known_releases", "release_as_of", "resolve_cube"]
