"""API fuzzing: schemathesis over every operation of the OpenAPI schema of the app serving the
synthetic cube; zero 5xx and no response that breaks the schema.  Bounded examples per operation
(CARBONMAP_FUZZ_EXAMPLES, default 8) so it stays a modest part of the suite."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from carbonmap.registry import Registry
from tests.conftest import write_synthetic_cube

EXAMPLES = int(os.environ.get("CARBONMAP_FUZZ_EXAMPLES", "8"))

# the schema is loaded at collection time, so the app (over a synthetic cube) is built here
_CUBE_DIR = Path(tempfile.mkdtemp(prefix="carbonmap-fuzz-"))
_registry = Registry()
_registry.add(write_synthetic_cube(_CUBE_DIR / "synthetic-test.zarr"))
APP = create_app(_registry)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_responses_follow_the_schema(case) -> None:
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
