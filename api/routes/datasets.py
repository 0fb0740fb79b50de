"""``GET /datasets`` and ``GET /datasets/{id}``: what each served cube holds and where it came from.

``/datasets/{id}?release=r0002`` (or ``?as_of=``) describes a past release; the revision history
itself (``/datasets/{id}/releases...``) is served by :mod:`api.routes.releases`, whose router this
one includes.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ConfigDict, Field

from api import dataset_info
from api.deps import Dependency, cube_from_path, get_registry
from api.models import DATASET_DETAIL_EXAMPLE, DatasetDetail, DatasetSummary
from api.proxy import public_links
from api.routes.releases import ReleasesFactory
from carbonmap.problems import problem_responses
from carbonmap.registry import Cube, Registry


class DatasetSummaryOut(DatasetSummary):
    release: str | None = Field(None, description="the release served by default now (`r0001`, ...)")


class DatasetDetailOut(DatasetDetail):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        **DATASET_DETAIL_EXAMPLE, "release": "r0003"}]})

    release: str | None = Field(None, description="the release these metadata describe; pin it with ?release=")


def _links(request: Request, cube: Cube) -> dict[str, str]:
    """The dataset's links, root-relative and prefixed with the request's root path (behind a proxy)."""
    links = dataset_info.links(cube)
    links["releases"] = f"/datasets/{cube.id}/releases"
    if cube.release:
        links["zarr"] = f"/zarr/{cube.id}/releases/{cube.release}"
    return public_links(request, links)


@dataclass
class DatasetsFactory:
    """Builds the dataset catalogue router from injected registry/cube dependencies."""

    registry_dependency: Dependency[Registry] = get_registry
    cube_dependency: Callable[..., Cube] = cube_from_path
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["datasets"]))

    def __post_init__(self) -> None:
        @self.router.get(
            "/datasets", response_model=list[DatasetSummaryOut], summary="List the served datasets",
            responses={200: {"content": {"application/json": {"example": [{
                "id": "demo-2024", "title": "carbonmap daily fossil CO2, 2024, 0.25 degree",
                "time": {"start": "2024-01-01", "end": "2024-12-31", "days": 366, "resolution": "P1D"},
                "resolution_deg": 0.25, "links": {"self": "/datasets/demo-2024",
                                                  "releases": "/datasets/demo-2024/releases"},
                "release": "r0003"}]}}}},
        )
        def list_datasets(request: Request, registry: Annotated[Registry, Depends(self.registry_dependency)]
                          ) -> list[DatasetSummaryOut]:
            out = []
            for i in registry.ids():
                cube = registry.get(i)
                s = dataset_info.summary(cube)
                out.append(DatasetSummaryOut(**{**s.model_dump(), "links": _links(request, cube)},
                                                release=cube.release))
            return out

        @self.router.get(
            "/datasets/{id}", response_model=DatasetDetailOut,
            summary="One dataset: time range, sectors, units, grid, provenance, licence and citation",
            description="Provenance lists every input file with its path, sha256, source, licence and whether "
                        "it is real data (`real: true`) or a simplified proxy / synthetic fixture "
                        "(`real: false`); `provenance.proxies` says in words which parts are simplified. "
                        "`release=` (or `as_of=`) describes a past release; `release` in the answer and the "
                        "`X-Carbonmap-Release` header name the release described.",
            responses=problem_responses(
                e404=("dataset-not-found", "unknown dataset 'demo-2023'; served datasets: demo-2024"),
                e422=("invalid-parameter", ("path parameter 'id' (got 'a b'): String should match pattern "
                                            "'^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'. Fix the parameter and retry."))),
        )
        def get_dataset(request: Request, cube: Annotated[Cube, Depends(self.cube_dependency)]) -> DatasetDetailOut:
            d = dataset_info.detail(cube)
            return DatasetDetailOut(**{**d.model_dump(), "links": _links(request, cube)}, release=cube.release)

        self.router.include_router(ReleasesFactory(registry_dependency=self.registry_dependency).router)
