"""OpenAPI text of the app: the description (what is real, what is a proxy) and problem+json content."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import dataset_info, national_regions
from carbonmap.problems import PROBLEM_MEDIA_TYPE, Problem, problem_example, problem_title
from carbonmap.registry import Registry

INTRO = """
carbonmap serves a daily, global, gridded map of fossil CO2 emissions in 7 sectors, with uncertainty:
map tiles, dataset metadata with full provenance, and region totals. Datasets are addressed by id only;
the server never opens a path or URL given by a client.

**What is real and what is a proxy.** {static}

**Regions.** A country is its {country}.

**Errors** are `application/problem+json` (RFC 9457) with a `detail` sentence naming the bad parameter
and what to change: unknown dataset, country or date outside a dataset -> 404; a malformed or invalid
parameter (unknown sector, end before start, a period longer than the server allows) -> 422; a request
body over the size limit -> 413.
"""


def description(registry: Registry) -> str:
    """The API description, with one paragraph per served dataset read from its provenance attrs."""
    text = INTRO.format(static=dataset_info.STATIC_HONESTY, country=national_regions.COUNTRY_DEFINITION)
    per_dataset = [dataset_info.honesty_statement(registry.get(i)) for i in registry.ids()]
    if per_dataset:
        text += "\n**Served datasets.**\n\n" + "\n".join(f"- {p}" for p in per_dataset) + "\n"
    else:
        text += "\nThis server serves no dataset yet.\n"
    return text


_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_PROBLEM_REF = "#/components/schemas/Problem"


def _problem_content(status: int, kind: str, detail: str) -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _PROBLEM_REF},
                                 "example": problem_example(status, kind, detail)}}


# Errors any operation with such inputs can answer, whatever its route declares (added when missing):
_E422_PARAMETER = (422, "invalid-parameter", ("query parameter 'start' (got '2024-13-01'): Input should be a "
                                              "valid date or datetime, month value is outside expected range of "
                                              "1-12; use a date like 2024-03-01 (YYYY-MM-DD). Fix the parameter "
                                              "and retry."))
_E400_BODY = (400, "bad-request", "There was an error parsing the body")
_E413_BODY = (413, "payload-too-large", ("the request body is larger than this server's limit of 5000000 bytes; "
                                         "send a smaller body (for geometries: simplify them or split the region)"))


def _replace_refs(node: Any, old: str, new: str) -> Any:
    if isinstance(node, dict):
        return {k: (new if k == "$ref" and v == old else _replace_refs(v, old, new)) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_refs(v, old, new) for v in node]
    return node


def _problem_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every error response as the ``application/problem+json`` body it is sent as.

    - 4xx/5xx content documented as ``application/json`` moves to ``application/problem+json``;
    - FastAPI's default 422 model (``HTTPValidationError`` / ``ValidationError``), which the app never
      sends, is replaced by :class:`carbonmap.problems.Problem` and dropped from the components;
    - every operation with parameters or a body documents 422; every operation with a body documents
      400 (an unparsable body) and 413 (a body over ``max_body_bytes``, see ``api.limits``).
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" not in components:
        components["Problem"] = Problem.model_json_schema()
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schema = _replace_refs(schema, f"#/components/schemas/{name}", _PROBLEM_REF)
        schema["components"]["schemas"].pop(name, None)
    for path_item in schema.get("paths", {}).values():
        for op in path_item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            for status, response in responses.items():
                content = response.get("content")
                if str(status)[:1] in "45" and content and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
            wanted = []
            if op.get("parameters") or op.get("requestBody"):
                wanted.append(_E422_PARAMETER)
            if op.get("requestBody"):
                wanted += [_E400_BODY, _E413_BODY]
            for status, kind, detail in wanted:
                if str(status) not in responses:
                    responses[str(status)] = {"description": problem_title(status),
                                              "content": _problem_content(status, kind, detail)}
                else:  # e.g. FastAPI's own 422 ("Validation Error", no example), rewritten above
                    media = responses[str(status)].setdefault("content", {}).setdefault(PROBLEM_MEDIA_TYPE, {})
                    media.setdefault("schema", {"$ref": _PROBLEM_REF})
                    if "example" not in media and "examples" not in media:
                        media["example"] = problem_example(status, kind, detail)
                        responses[str(status)]["description"] = problem_title(status)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with a cached generator that post-processes error media types."""

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes, tags=app.openapi_tags, contact=app.contact,
                                 license_info=app.license_info)
            app.openapi_schema = _problem_error_responses(schema)
        return app.openapi_schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
