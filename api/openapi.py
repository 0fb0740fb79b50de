"""OpenAPI text of the app: the description (what is real, what is a proxy) and problem+json content."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import dataset_info, national_regions
from api.problems import PROBLEM_MEDIA_TYPE
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


def _problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Error responses are documented as application/problem+json, as they are sent."""
    for path_item in schema.get("paths", {}).values():
        for op in path_item.values():
            if not isinstance(op, dict):
                continue
            for status, response in op.get("responses", {}).items():
                content = response.get("content")
                if str(status)[:1] in "45" and content and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return schema


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with a cached generator that post-processes error media types."""

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes, tags=app.openapi_tags, contact=app.contact,
                                 license_info=app.license_info)
            app.openapi_schema = _problem_media_types(schema)
        return app.openapi_schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
