"""``GET /healthz``: liveness, the served datasets and the code version."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import Dependency, get_registry
from api.models import Health
from carbonmap import __version__
from carbonmap.registry import Registry


@dataclass
class HealthFactory:
    """Builds the health router; ``registry_dependency`` yields the served Registry."""

    registry_dependency: Dependency[Registry] = get_registry
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["health"]))

    def __post_init__(self) -> None:
        @self.router.get(
            "/healthz", response_model=Health, summary="Is the server up, and what does it serve?",
            responses={200: {"content": {"application/json": {"example": {
                "status": "ok", "version": "0.1.0", "datasets": ["demo-2024"]}}}}},
        )
        def healthz(registry: Annotated[Registry, Depends(self.registry_dependency)]) -> Health:
            return Health(version=__version__, datasets=registry.ids())
