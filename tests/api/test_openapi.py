"""api.openapi: every documented error is the application/problem+json Problem the app sends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import Body, FastAPI, Query

from api import openapi
from api.app import create_app
from carbonmap.problems import PROBLEM_MEDIA_TYPE, Problem, install_problem_handlers
from carbonmap.registry import Registry

PROBLEM_REF = "#/components/schemas/Problem"


@pytest.fixture(scope="module")
def spec(synthetic_cube: Path) -> dict[str, Any]:
    reg = Registry()
    reg.add(synthetic_cube)
    return create_app(reg).openapi()


def _operations(spec: dict[str, Any]):
    for route, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                yield f"{method.upper()} {route}", op


def test_fastapi_default_validation_models_are_gone(spec: dict[str, Any]) -> None:
    text = str(spec)
    assert "HTTPValidationError" not in text and "#/components/schemas/ValidationError" not in text
    assert set(spec["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail"}


def test_every_error_response_is_problem_json(spec: dict[str, Any]) -> None:
    n = 0
    for name, op in _operations(spec):
        for status, response in op["responses"].items():
            if status[0] not in "45":
                continue
            n += 1
            assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], (name, status)
            schema = response["content"][PROBLEM_MEDIA_TYPE]["schema"]
            assert schema.get("$ref") == PROBLEM_REF or {"type", "title", "status", "detail"} <= set(
                schema.get("required", ())), (name, status, schema)
    assert n > 20


def test_inputs_imply_documented_422_and_bodies_400_413(spec: dict[str, Any]) -> None:
    for name, op in _operations(spec):
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in op["responses"], name
        if op.get("requestBody"):
            assert {"400", "413"} <= set(op["responses"]), name


def test_default_422_of_a_plain_fastapi_route_is_rewritten() -> None:
    """A route declaring no error responses gets FastAPI's HTTPValidationError 422; it is replaced."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/echo")
    def echo(n: int = Query(), payload: dict = Body()) -> dict:  # noqa: B008
        return {"n": n}

    openapi.install_openapi(app)
    spec = app.openapi()
    responses = spec["paths"]["/echo"]["post"]["responses"]
    assert responses["422"]["content"][PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": PROBLEM_REF}
    assert set(responses) == {"200", "400", "413", "422"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["Problem"]["properties"].keys() == Problem.model_fields.keys()
    # the documented example validates against the model
    for status in ("400", "413", "422"):
        Problem.model_validate(responses[status]["content"][PROBLEM_MEDIA_TYPE]["example"])
