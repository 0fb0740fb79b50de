"""``GET /datasets`` and ``GET /datasets/{id}``: what each served cube holds and where it came from."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends

from api import dataset_info
from api.deps import cube_from_path, get_registry
from api.models import DatasetDetail, DatasetSummary
from api.problems import problem_responses
from carbonmap.registry import Cube, Registry


@dataclass
class DatasetsFactory:
    """Builds the dataset catalogue router from injected registry/cube dependencies."""

    registry_dependency: Callable[..., Registry] = get_registry
    cube_dependency: Callable[..., Cube] = cube_from_path
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["datasets"]))

    def __post_init__(self) -> None:
        @self.router.get(
            "/datasets", response_model=list[DatasetSummary], summary="List the served datasets",
            responses={200: {"content": {"application/json": {"example": [{
                "id": "demo-2024", "title": "carbonmap daily fossil CO2, 2024, 0.25 degree",
                "time": {"start": "2024-01-01", "end": "2024-12-31", "days": 366, "resolution": "P1D"},
                "resolution_deg": 0.25, "links": {"self": "/datasets/demo-2024"}}]}}}},
        )
        def list_datasets(registry: Annotated[Registry, Depends(self.registry_dependency)]) -> list[DatasetSummary]:
            return [dataset_info.summary(registry.get(i)) for i in registry.ids()]

        @self.router.get(
            "/datasets/{id}", response_model=DatasetDetail,
            summary="One dataset: time range, sectors, units, grid, provenance, licence and citation",
            description="Provenance lists every input file with its path, sha256, source, licence and whether "
                        "it is real data (`real: true`) or a simplified proxy / synthetic fixture "
                        "(`real: false`); `provenance.proxies` says in words which parts are simplified.",
            responses=problem_responses(
                e404=("dataset-not-found", "unknown dataset 'demo-2023'; served datasets: demo-2024"),
                e422=("invalid-parameter", ("path parameter 'id' (got 'a b'): String should match pattern "
                                            "'^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'. Fix the parameter and retry."))),
        )
        def get_dataset(cube: Annotated[Cube, Depends(self.cube_dependency)]) -> DatasetDetail:
            return dataset_info.detail(cube)
