"""Security, over real HTTP: no client-given paths or URLs, size limits, configurable CORS, traversal refused.

One real uvicorn server (``tests.api.routes.live_server``) serves a synthetic cube with a restrictive
configuration from the environment (one allowed CORS origin, small body and vertex limits), so the
tests also show those settings are honoured.  Secret files sit next to the cube (and a symlink inside
the store points at one); no request may ever return their content.

Raw requests go through ``http.client``, which sends the path exactly as written (``httpx`` would
normalise ``..`` segments away before they reach the server).
"""

from __future__ import annotations

import http.client
import json
import math
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from carbonmap.registry import Registry
from tests.api.routes.live_server import live_server
from tests.conftest import write_synthetic_cube

DATASET = "synthetic-test"
ALLOWED_ORIGIN = "https://maps.example.org"
MAX_BODY = 200_000
MAX_VERTICES = 500
TOKEN = "carbonmap-secret-" + secrets.token_hex(8)

PATHLIKE_NAMES = {"url", "uri", "href", "link", "path", "filepath", "file", "filename", "dir", "directory",
                  "folder", "store", "store_path", "src", "source", "location", "root", "endpoint"}
URI_FORMATS = {"uri", "url", "uri-reference", "iri", "iri-reference", "uri-template", "file-path", "path"}


@dataclass(frozen=True)
class Server:
    url: str
    secrets: tuple[Path, ...]
    spec: dict[str, Any]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("security")
    cubes = base / "cubes"
    cubes.mkdir()
    cube = write_synthetic_cube(cubes / f"{DATASET}.zarr")
    outside = (base / "SECRET.txt", cubes / "SECRET.txt")
    for f in outside:
        f.write_text(f"{TOKEN}\nroot:x:0:0:root:/root:/bin/bash\n")
    store_dir = Path(Registry().add(cube).path)  # the directory whose zarr.json the server serves
    (store_dir / "leak.json").symlink_to(outside[1])  # a symlink inside the store pointing out of it
    env = {"CARBONMAP_CORS_ORIGINS": json.dumps([ALLOWED_ORIGIN]), "CARBONMAP_MAX_BODY_BYTES": str(MAX_BODY),
           "CARBONMAP_MAX_VERTICES": str(MAX_VERTICES)}
    with live_server([cube], base / "server.log", env_extra=env) as url:
        spec = httpx.get(f"{url}/openapi.json", timeout=60).json()
        yield Server(url, outside, spec)


def raw(server: Server, method: str, target: str, headers: dict[str, str] | None = None,
        body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send ``target`` byte for byte (no normalisation, no re-encoding); (status, headers, body)."""
    netloc = urlsplit(server.url).netloc
    conn = http.client.HTTPConnection(netloc, timeout=60)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def assert_no_leak(server: Server, content: bytes, where: str) -> None:
    assert TOKEN.encode() not in content, where
    assert b"root:x:0:0" not in content, where


# --- 1. no endpoint reads a client-given path or URL ---------------------------------------------------


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _input_schemas(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, schema node) for every parameter and request body schema, following ``$ref`` (inputs only:
    response models such as a dataset's provenance may well name input file paths)."""
    components = spec.get("components", {}).get("schemas", {})
    for route, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            roots = [(f"{method.upper()} {route} parameter {p['name']!r}", p.get("schema", {}))
                     for p in op.get("parameters", [])]
            roots += [(f"{method.upper()} {route} body", c.get("schema", {}))
                      for c in op.get("requestBody", {}).get("content", {}).values()]
            for where, root in roots:
                seen: set[str] = set()
                todo = [root]
                while todo:
                    for node in _walk(todo.pop()):
                        yield where, node
                        ref = node.get("$ref")
                        if isinstance(ref, str) and ref not in seen:
                            seen.add(ref)
                            todo.append(components[ref.rsplit("/", 1)[-1]])


def test_no_parameter_or_body_field_is_a_path_or_url(server: Server) -> None:
    """Over the whole OpenAPI schema: no parameter or request-body property is named like a path or URL, and
    none has a URI format; a path parameter taking slashes is only the key inside a served Zarr store."""
    spec = server.spec
    bad: list[str] = []
    n_params = 0
    for route, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for p in op.get("parameters", []):
                n_params += 1
                if p["name"].lower() in PATHLIKE_NAMES:
                    bad.append(f"{method.upper()} {route}: parameter {p['name']!r}")
        if "{key}" in route:
            assert route.startswith("/zarr/{dataset}/"), route
    n_body_props = 0
    for where, node in _input_schemas(spec):
        props = node.get("properties")
        if isinstance(props, dict):
            n_body_props += len(props) if "body" in where else 0
            bad += [f"{where}: property {k!r}" for k in props if k.lower() in PATHLIKE_NAMES]
        if str(node.get("format", "")).lower() in URI_FORMATS:
            bad.append(f"{where}: format {node['format']}")
    assert n_params > 40 and n_body_props >= 5, (n_params, n_body_props)  # the check saw the inputs
    assert not bad, bad


def test_no_route_has_a_path_converter_other_than_zarr_keys() -> None:
    """Starlette ``{x:path}`` converters (slashes allowed) appear only for keys inside a served Zarr store
    (a scan of the route sources: the OpenAPI schema does not show converters, and HEAD twins are not in it)."""
    repo = Path(__file__).resolve().parents[2]
    found = {(f.name, m.group(0)) for pkg in ("api", "tiles") for f in (repo / pkg).rglob("*.py")
             for m in re.finditer(r"[\"']/[^\"']*\{\w+:path\}[^\"']*[\"']", f.read_text())}
    assert found, "no {key:path} route found; has the Zarr route moved?"
    bad = [(f, route) for f, route in found if not re.fullmatch(r"[\"']/zarr/\{dataset\}/.*\{key:path\}[\"']", route)]
    assert not bad, bad


# --- 2. path traversal on every path parameter of every route --------------------------------------------

VALID = {"dataset": DATASET, "id": DATASET, "region_id": "AAA", "iso3": "AAA", "key": "zarr.json",
         "month": "2024-01", "tileMatrixSetId": "WebMercatorQuad", "z": "0", "x": "0", "y": "0", "format": "png",
         "release": "r0001"}


def traversal_payloads(server: Server) -> list[str]:
    """Values for one path segment, already percent-encoded as a client would send them."""
    absolute = str(server.secrets[1])
    return [
        "..%2fSECRET.txt", "..%2f..%2fSECRET.txt", "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "%2e%2e%2fSECRET.txt", "%2e%2e%2f%2e%2e%2fSECRET.txt", "%2E%2E%2FSECRET.txt",
        "..%252f..%252fSECRET.txt", "..%5c..%5cSECRET.txt", "....%2f%2fSECRET.txt", "..", "%2e%2e",
        quote(absolute, safe=""), "%2fetc%2fpasswd", "file%3a%2f%2f%2fetc%2fpasswd",
        quote("http://127.0.0.1:1/x", safe=""), "SECRET.txt%00.json", "~%2f.ssh%2fid_rsa",
    ]


def key_payloads(server: Server) -> list[str]:
    """Extra values for ``{key:path}`` (slashes allowed there): unencoded ``..``, absolute paths, hidden files."""
    absolute = str(server.secrets[1])
    return ["../SECRET.txt", "../../SECRET.txt", "emissions/../../SECRET.txt", "./../SECRET.txt",
            "/" + absolute.lstrip("/"), absolute, "//etc/passwd", "/etc/passwd", "..\\SECRET.txt",
            "leak.json", ".zattrs", "emissions/.hidden", "zarr.json/../../SECRET.txt", "%2e%2e/SECRET.txt",
            "emissions/%2e%2e/%2e%2e/SECRET.txt", quote(absolute)]


def _fill(route: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: values.get(m.group(1), "x"), route)


def test_path_traversal_is_refused_on_every_path_parameter(server: Server) -> None:
    failures: list[str] = []
    tried = 0
    for route, item in server.spec["paths"].items():
        if "get" not in item:
            continue
        names = re.findall(r"\{(\w+)\}", route)
        for name in names:
            payloads = traversal_payloads(server) + (key_payloads(server) if name == "key" else [])
            for payload in payloads:
                target = _fill(route, {**VALID, name: payload})
                status, _, content = raw(server, "GET", target)
                tried += 1
                if not 400 <= status < 500 or TOKEN.encode() in content or b"root:x:0:0" in content:
                    failures.append(f"GET {target} -> {status}")
    assert tried > 200, tried
    assert not failures, failures


def test_store_symlink_pointing_outside_is_not_followed(server: Server) -> None:
    status, _, content = raw(server, "GET", f"/zarr/{DATASET}/leak.json")
    assert status == 404
    assert_no_leak(server, content, "leak.json")
    ok_status, _, ok = raw(server, "GET", f"/zarr/{DATASET}/zarr.json")  # the store itself is served
    assert ok_status == 200 and json.loads(ok)["zarr_format"] == 3


TRAVERSALS_OUTSIDE_ROUTES = [
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
    "/static/../../../etc/passwd", "/static/..%2f..%2f..%2fetc%2fpasswd", "/static/%2e%2e/%2e%2e/SECRET.txt",
    "/tiles/../../etc/passwd", "/tiles/%2e%2e/%2e%2e/etc/passwd", "/zarr/..%2f..%2fSECRET.txt",
    "/zarr/../cubes/SECRET.txt", "/download/../../SECRET.txt", "/stac/..%2f..%2fetc%2fpasswd",
    "/docs/../../etc/passwd", "/static//etc/passwd",
]


@pytest.mark.parametrize("target", TRAVERSALS_OUTSIDE_ROUTES)
def test_path_traversal_outside_routes_is_refused(server: Server, target: str) -> None:
    status, _, content = raw(server, "GET", target)
    assert 400 <= status < 500, (target, status)
    assert_no_leak(server, content, target)


def test_string_query_parameters_never_open_a_path_or_url(server: Server) -> None:
    """Every string query parameter, given a path, file:// or http:// URL: never 5xx, never the file's content."""
    absolute = str(server.secrets[1])
    values = [absolute, "../SECRET.txt", "file://" + absolute, f"{server.url}/healthz", "/etc/passwd"]
    failures, tried = [], 0
    for route, item in server.spec["paths"].items():
        op = item.get("get")
        if op is None:
            continue
        for p in op.get("parameters", []):
            if p["in"] != "query":
                continue
            for v in values:
                target = _fill(route, VALID) + "?" + f"{p['name']}={quote(v, safe='')}"
                status, _, content = raw(server, "GET", target)
                tried += 1
                if status >= 500 or TOKEN.encode() in content or b"root:x:0:0" in content:
                    failures.append(f"GET {target} -> {status}")
    assert tried > 50, tried
    assert not failures, failures


# --- 3. request bodies and geometries are size-limited -------------------------------------------------

QUERY = "/emissions/query"


def _query_body(geometry: dict[str, Any]) -> dict[str, Any]:
    return {"geometry": geometry, "dataset": DATASET, "start": "2024-01-01", "end": "2024-01-02", "freq": "day"}


def _ring(n: int, cx: float = 0.0, r: float = 10.0) -> list[list[float]]:
    ring = [[cx + r * math.cos(2 * math.pi * k / n), r * math.sin(2 * math.pi * k / n)] for k in range(n)]
    return [*ring, ring[0]]


SMALL_POLYGON = {"type": "Polygon", "coordinates": [[[0, 0], [5, 0], [5, 5], [0, 5], [0, 0]]]}


def _assert_problem(status: int, headers: dict[str, str], content: bytes, want: int) -> dict[str, Any]:
    assert status == want, (status, content[:300])
    assert headers["content-type"].startswith("application/problem+json"), headers
    body = json.loads(content)
    assert body["status"] == want and body["detail"]
    return body


def test_oversized_body_with_content_length_is_refused_with_413(server: Server) -> None:
    body = json.dumps(_query_body(SMALL_POLYGON)).encode()[:-1] + b', "pad": "' + b"x" * MAX_BODY + b'"}'
    status, headers, content = raw(server, "POST", QUERY, {"Content-Type": "application/json"}, body)
    assert str(MAX_BODY) in _assert_problem(status, headers, content, 413)["detail"]


def test_oversized_chunked_body_without_content_length_is_refused_with_413(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"geometry": "'
        for _ in range(MAX_BODY // 16384 + 2):
            yield b"x" * 16384
        yield b'"}'

    r = httpx.post(f"{server.url}{QUERY}", content=chunks(), headers={"content-type": "application/json"},
                   timeout=60)
    assert r.request.headers.get("transfer-encoding") == "chunked"
    _assert_problem(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 413)


def test_body_limit_applies_to_every_route(server: Server) -> None:
    """A big body sent to a GET route is refused before it is read, too."""
    status, headers, content = raw(server, "POST", "/datasets", {"Content-Type": "application/json"},
                                   b"x" * (MAX_BODY + 1))
    _assert_problem(status, headers, content, 413)


def test_a_body_just_under_the_limit_reaches_the_route(server: Server) -> None:
    body = json.dumps(_query_body(SMALL_POLYGON)).encode()
    body = body[:-1] + b', "pad": "' + b"x" * (MAX_BODY - len(body) - 20) + b'"}'
    assert len(body) <= MAX_BODY
    status, _, content = raw(server, "POST", QUERY, {"Content-Type": "application/json"}, body)
    assert status == 200, content[:300]


def test_too_many_vertices_are_refused_with_413(server: Server) -> None:
    r = httpx.post(f"{server.url}{QUERY}", json=_query_body({"type": "Polygon", "coordinates": [_ring(MAX_VERTICES + 10)]}),
                   timeout=60)
    body = _assert_problem(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 413)
    assert "vertices" in body["detail"] and str(MAX_VERTICES) in body["detail"]


def test_vertices_are_counted_over_all_parts_and_rings(server: Server) -> None:
    """Many small parts (each under the limit) still add up past it."""
    parts = [[_ring(60, cx=-170 + 3 * k, r=1.0)] for k in range(MAX_VERTICES // 60 + 2)]
    r = httpx.post(f"{server.url}{QUERY}", json=_query_body({"type": "MultiPolygon", "coordinates": parts}),
                   timeout=60)
    assert r.status_code == 413 and "vertices" in r.json()["detail"], r.text[:300]
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                                 "coordinates": [_ring(MAX_VERTICES)]}}
    r = httpx.post(f"{server.url}{QUERY}", json=_query_body(feature), timeout=60)
    assert r.status_code == 413, r.text[:300]


@pytest.mark.parametrize("depth", [200, 5_000, 60_000])
def test_deeply_nested_geometries_are_a_4xx(server: Server, depth: int) -> None:
    """Deep nesting (under the byte limit) must not exhaust the parser or the vertex counter: a 4xx."""
    coords = "[" * depth + "0" + "]" * depth
    body = ('{"geometry": {"type": "Polygon", "coordinates": ' + coords + '}, "dataset": "' + DATASET + '"}').encode()
    assert len(body) <= MAX_BODY
    status, headers, content = raw(server, "POST", QUERY, {"Content-Type": "application/json"}, body)
    assert 400 <= status < 500, (depth, status, content[:200])
    assert headers["content-type"].startswith("application/problem+json")


# --- 4. CORS is configurable ----------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/datasets", "/healthz", QUERY])
def test_cors_preflight_allows_only_the_configured_origin(server: Server, route: str) -> None:
    pre = {"Access-Control-Request-Method": "POST" if route == QUERY else "GET",
           "Access-Control-Request-Headers": "content-type"}
    status, headers, _ = raw(server, "OPTIONS", route, {"Origin": ALLOWED_ORIGIN, **pre})
    assert status == 200 and headers.get("access-control-allow-origin") == ALLOWED_ORIGIN, (status, headers)
    status, headers, _ = raw(server, "OPTIONS", route, {"Origin": "https://evil.example.com", **pre})
    assert status == 400 and "access-control-allow-origin" not in headers, (status, headers)


def test_cors_simple_request_headers_only_for_the_configured_origin(server: Server) -> None:
    _, ok, _ = raw(server, "GET", "/datasets", {"Origin": ALLOWED_ORIGIN})
    assert ok.get("access-control-allow-origin") == ALLOWED_ORIGIN
    _, bad, _ = raw(server, "GET", "/datasets", {"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in bad
    assert "access-control-allow-credentials" not in bad
    _, none, _ = raw(server, "GET", "/datasets")
    assert "access-control-allow-origin" not in none


def test_cors_default_allows_any_origin(synthetic_cube: Path) -> None:
    """Default settings (``cors_origins=["*"]``) allow any origin, without credentials (in-process app)."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from carbonmap.settings import Settings

    reg = Registry()
    reg.add(synthetic_cube)
    c = TestClient(create_app(reg, Settings(cors_origins=["*"])))
    r = c.get("/healthz", headers={"origin": "https://anywhere.example.net"})
    assert r.headers.get("access-control-allow-origin") == "*"
    assert "access-control-allow-credentials" not in r.headers
