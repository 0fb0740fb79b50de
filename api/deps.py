"""FastAPI dependencies: the registry and settings come from the app, never from globals or paths.

``create_app`` stores them on ``app.state``; routers (and the tile router) receive them via
these dependencies, so tests and the tile factory can inject others with ``dependency_overrides``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from carbonmap.registry import Cube, DatasetNotFound, Registry
from carbonmap.settings import Settings


def get_registry(request: Request) -> Registry:
    """The registry of served datasets (``app.state.registry``)."""
    return request.app.state.registry


def get_settings(request: Request) -> Settings:
    """The settings the app was created with (``app.state.settings``)."""
    return request.app.state.settings


RegistryDep = Annotated[Registry, Depends(get_registry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

DATASET_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


def cube_from_path(
    registry: RegistryDep,
    dataset_id: Annotated[str, Path(alias="id", description="dataset id, as listed by GET /datasets",
                                    pattern=DATASET_ID_PATTERN,
                                    openapi_examples={"demo": {"summary": "the demo dataset",
                                                               "value": "demo-2024"}})],
) -> Cube:
    """The cube named by the ``{id}`` path parameter (404 if it is not served)."""
    return registry.get(dataset_id)


def cube_from_query(
    registry: RegistryDep,
    dataset: Annotated[str | None, Query(description="dataset id (GET /datasets); default: the server's "
                                                     "default dataset", pattern=DATASET_ID_PATTERN,
                                         openapi_examples={"demo": {"summary": "a dataset by id",
                                                                    "value": "demo-2024"}})] = None,
) -> Cube:
    """The cube named by ``?dataset=`` or the registry's default one."""
    if dataset is None:
        dataset = registry.default_id
        if dataset is None:
            raise DatasetNotFound("this server serves no dataset; start it with `carbonmap serve --store PATH`")
    return registry.get(dataset)
