"""API fuzzing: schemathesis over every operation of the OpenAPI schema, over real HTTP.

A real uvicorn server (``tests.api.routes.live_server``) serves a synthetic cube; schemathesis loads
``/openapi.json`` from it and sends generated requests (valid and invalid) to every operation.  Each
response must:

- not be a 5xx (``not_a_server_error``);
- have a status code the operation documents (``status_code_conformance``);
- have a content type documented for that status (``content_type_conformance``);
- match the documented schema for that status and content type (``response_schema_conformance``);
  errors are ``application/problem+json`` (``carbonmap.problems.Problem``).

Bounded: ``CARBONMAP_FUZZ_EXAMPLES`` examples per operation (default 8, which keeps the whole module
under ~3 minutes on a loaded 2-core machine); raise it for a deeper run, e.g.
``CARBONMAP_FUZZ_EXAMPLES=50 pytest tests/robustness/test_api_fuzz.py``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, settings

if os.environ.get("PYTEST_XDIST_WORKER"):
    # schemathesis generates its cases at run time; under xdist they are silently not run
    pytest.skip("run the API fuzz without xdist (make test runs it as its own pytest call)", allow_module_level=True)

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from carbonmap.registry import Registry
from tests.api.routes.live_server import live_server
from tests.conftest import write_synthetic_cube

EXAMPLES = int(os.environ.get("CARBONMAP_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
REQUEST_TIMEOUT_S = 60.0  # one request; a slow answer under load is not a failure, a hang is


# The schema is built at collection time (schemathesis parametrizes from it), from the same app code over
# the same cube the live server serves; ``test_the_fuzzed_schema_is_the_served_one`` checks they are equal.
# (``schemathesis.pytest.from_fixture`` would load it from the server, but fails under pytest 9.)
_CUBE_DIR = Path(tempfile.mkdtemp(prefix="carbonmap-fuzz-"))
atexit.register(shutil.rmtree, _CUBE_DIR, True)
_CUBE = write_synthetic_cube(_CUBE_DIR / "synthetic-test.zarr")
_registry = Registry()
_registry.add(_CUBE)
SPEC = create_app(_registry).openapi()
schema = schemathesis.openapi.from_dict(SPEC)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``python -m api.serve --store <the cube>`` on a free port (real uvicorn, real sockets)."""
    with live_server([_CUBE], _CUBE_DIR / "server.log") as url:
        yield url


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_responses_follow_the_schema(case, server: str) -> None:
    case.call_and_validate(base_url=server, checks=CHECKS, timeout=REQUEST_TIMEOUT_S)


def test_the_fuzzed_schema_is_the_served_one_and_covers_every_operation(server: str) -> None:
    """The fuzz run above is only as good as its schema: it is what the server serves, with every route."""
    spec = httpx.get(f"{server}/openapi.json", timeout=60).json()
    assert spec == SPEC
    ops = {(m.upper(), p) for p, item in spec["paths"].items() for m in item if m in ("get", "post")}
    assert len(ops) >= 19, sorted(ops)
    for prefix in ("/datasets", "/regions", "/emissions/query", "/download", "/zarr", "/stac", "/tiles"):
        assert any(p.startswith(prefix) for _, p in ops), prefix
