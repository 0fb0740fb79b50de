"""carbonmap.problems: every error is application/problem+json with a sentence, never a bare 500 for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from carbonmap import errors
from carbonmap.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["status"] == status and body["type"].startswith(PROBLEM_TYPE_PREFIX)
    assert len(body["detail"]) > 20
    return body


def test_unknown_route_and_method_are_problems(client: TestClient):
    body = _is_problem(client.get("/no/such/thing"), 404)
    assert "/docs" in body["detail"]
    body = _is_problem(client.delete("/healthz"), 405)
    assert "DELETE" in body["detail"]


def test_validation_error_names_the_parameter_and_the_fix(client: TestClient):
    body = _is_problem(client.get("/regions/AAA/emissions", params={"start": "2024-13-01"}), 422)
    assert "'start'" in body["detail"] and "YYYY-MM-DD" in body["detail"]
    assert body["errors"][0]["name"] == "start" and body["errors"][0]["in"] == "query"


@pytest.fixture(scope="module")
def app_with_bug_routes(registry, api_settings):
    """The real app plus two routes that fail the way internal bugs do."""
    app = create_app(registry, api_settings)

    @app.get("/_bug/keyerror")
    def keyerror() -> None:
        raise KeyError("internal")

    @app.get("/_bug/crash")
    def crash() -> None:
        raise RuntimeError("boom")

    @app.get("/_bug/valueerror")
    def valueerror() -> None:
        np.zeros(3).reshape(2, 2)  # a numpy ValueError: a bug, not the client's fault

    @app.get("/_bug/lookuperror")
    def lookuperror() -> None:
        raise LookupError("boom")

    @app.get("/_bug/storage")
    def storage() -> None:
        raise errors.StorageError("boom: /srv/stores/x.zarr has no emissions")

    @app.get("/_client/{kind}")
    def client_errors(kind: str) -> None:
        raise {"invalid": errors.InvalidInput("sector 'coal' is unknown; use power"),
               "missing": errors.NotFound("no region 'XXX'; see /regions"),
               "large": errors.TooLarge("3,000 days is more than 1,000; shorten the period")}[kind]

    return TestClient(app, raise_server_exceptions=False)


def test_bugs_are_500_problems_not_404(app_with_bug_routes: TestClient):
    for url in ("/_bug/keyerror", "/_bug/crash", "/_bug/valueerror", "/_bug/lookuperror"):
        body = _is_problem(app_with_bug_routes.get(url), 500)
        assert "bug" in body["detail"] and "boom" not in body["detail"] and body["type"].endswith("internal-error")
    body = _is_problem(app_with_bug_routes.get("/_bug/storage"), 500)
    assert body["type"].endswith("storage-error") and "/srv" not in body["detail"]


def test_the_error_tree_sets_the_status(app_with_bug_routes: TestClient):
    for kind, status, slug in (("invalid", 422, "invalid-parameter"), ("missing", 404, "not-found"),
                               ("large", 422, "query-too-large")):
        body = _is_problem(app_with_bug_routes.get(f"/_client/{kind}"), status)
        assert body["type"] == f"urn:carbonmap:problem:{slug}" and "; " in body["detail"]
