"""Fits behind a proxy (issue 19.6), over real HTTP (``python -m api.serve`` on a real pipeline cube):
``HEAD`` on every GET route, ``X-Forwarded-*`` honoured only from trusted proxies, CORS exposed headers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import routing as fastapi_routing
from starlette.routing import Mount, Route

from api.app import EXPOSED_HEADERS, create_app
from carbonmap.registry import Registry
from carbonmap.settings import Settings
from tests.api.routes.live_server import live_server

pytestmark = pytest.mark.e2e
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "maps.example.org",
             "X-Forwarded-Prefix": "/carbonmap"}
PUBLIC = "https://maps.example.org/carbonmap/"
VOLATILE = {"date", "server", "content-length", "transfer-encoding", "x-tile-cache", "server-timing"}
"""Headers that may differ between two answers to the same request (time, cache state, framing)."""


@pytest.fixture(scope="module")
def server(real_cube: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API with default settings (no trusted proxy)."""
    with live_server([real_cube], tmp_path_factory.mktemp("proxy") / "plain.log") as base:
        yield base


@pytest.fixture(scope="module")
def proxied(real_cube: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API told that 127.0.0.1 (the test client) is a trusted reverse proxy."""
    env = {"CARBONMAP_TRUSTED_PROXIES": json.dumps(["127.0.0.1/32"])}
    with live_server([real_cube], tmp_path_factory.mktemp("proxy") / "trusted.log", env) as base:
        yield base


def _routes(routes: list[Any]) -> Iterator[Any]:
    """Every route of the app, descending into FastAPI's included routers."""
    for r in routes:
        if isinstance(r, fastapi_routing._IncludedRouter):  # FastAPI >= 0.160 keeps included routers nested
            yield from _routes(r.effective_candidates())
        else:
            yield r


def get_paths(real_cube: Path) -> list[str]:
    """Path templates of every GET route of the real app (from ``app.routes``) plus one file per mount."""
    reg = Registry()
    reg.add(real_cube)
    app = create_app(reg, Settings())
    paths: list[str] = []
    for r in _routes(list(app.routes)):
        if isinstance(r, Mount):
            paths.append(f"{r.path}/{'map.js' if r.path == '/static' else 'swagger-ui.css'}")
        elif (isinstance(r, Route) or hasattr(r, "methods")) and "GET" in (r.methods or ()) and r.path not in paths:
            paths.append(r.path)
    return paths


def fill(template: str, values: dict[str, str]) -> str:
    """A concrete URL for a route template: each ``{name}`` or ``{name:convertor}`` from ``values``."""
    def one(m: re.Match[str]) -> str:
        name, _, conv = m.group(1).partition(":")
        return values["admin1" if conv == "catalogueid" else name]
    return re.sub(r"\{([^}]+)\}", one, template)


def test_head_answers_on_every_get_route_like_get(server: str, real_cube: Path) -> None:
    # a fresh connection per request: one route failing must not take the next request's connection with it
    with httpx.Client(base_url=server, timeout=120, limits=httpx.Limits(max_keepalive_connections=0)) as c:
        dataset = c.get("/datasets").json()
        ds_id = (dataset["datasets"][0] if isinstance(dataset, dict) else dataset[0])["id"]
        release = c.get(f"/datasets/{ds_id}/releases").json()["current"]
        admin1 = c.get("/regions", params={"type": "admin1", "limit": 1}).json()["regions"][0]["id"]
        values = {"id": ds_id, "dataset": ds_id, "release": release, "region_id": "DEU", "iso3": "DEU",
                  "admin1": admin1, "key": "zarr.json", "month": "2024-03", "tileMatrixSetId": "WebMercatorQuad",
                  "z": "1", "x": "1", "y": "0", "format": "png", "pixel_ratio": "2", "name": "inferno"}
        query = {"/tiles/": {"date": "2024-03-05", "sector": "power"}}
        paths = get_paths(real_cube)
        assert len(paths) >= 25 and any("@{pixel_ratio}x" in p for p in paths)
        ok = 0
        for template in paths:
            url = fill(template, values)
            params = next((q for k, q in query.items() if url.startswith(k) and "{" in template), {})
            got, head = c.get(url, params=params), c.head(url, params=params)
            assert head.status_code != 405, f"HEAD {url}: 405"
            assert head.status_code == got.status_code, (url, head.status_code, got.status_code, got.text[:300])
            assert head.content == b"", url
            same = {k: v for k, v in got.headers.items() if k not in VOLATILE}
            assert {k: v for k, v in head.headers.items() if k not in VOLATILE} == same, url
            if "content-length" in got.headers and "content-length" in head.headers:
                assert head.headers["content-length"] == str(len(got.content)), url
            ok += got.status_code == 200
        assert ok >= 0.75 * len(paths), f"only {ok} of {len(paths)} GET routes answered 200 with the filled values"
        # a route without GET still refuses HEAD, and a HEAD of a missing thing is its GET's 404
        assert c.head("/emissions/query").status_code == 405
        assert c.head("/datasets/nope").status_code == 404 == c.get("/datasets/nope").status_code


def _absolute_links(c: httpx.Client, ds: str, headers: dict[str, str]) -> list[str]:
    """Every absolute link of the STAC catalogue/collection, a TileJSON, the WMTS document and /tiles/colormaps."""
    links: list[str] = []
    for path in ("/stac", f"/stac/collections/{ds}"):
        doc = c.get(path, headers=headers).json()
        links += [lk["href"] for lk in doc.get("links", []) if lk["href"].startswith("http")]
        links += [a["href"] for a in doc.get("assets", {}).values() if a["href"].startswith("http")]
    tj = c.get(f"/tiles/{ds}/WebMercatorQuad/tilejson.json", headers=headers).json()
    links += [*tj["tiles"], tj["legend_url"]]
    xml = c.get(f"/tiles/{ds}/WMTSCapabilities.xml", headers=headers).text
    links += re.findall(r'(?:href|template)="(http[^"]+)"', xml)
    links += [m["href"] for m in c.get("/tiles/colormaps", headers=headers).json()["colormaps"][:3]]
    ours = re.compile(r"^https?://[^/]+(/carbonmap)?/(stac|tiles|datasets|zarr|download|regions)\b")
    return [u for u in links if ours.match(u)]  # not the licence's or the inputs' own sites


def test_forwarded_headers_from_a_trusted_proxy_make_https_links(proxied: str) -> None:
    with httpx.Client(base_url=proxied, timeout=60) as c:
        ds = c.get("/healthz").json()
        ds_id = c.get("/datasets").json()
        ds_id = (ds_id["datasets"][0] if isinstance(ds_id, dict) else ds_id[0])["id"]
        links = _absolute_links(c, ds_id, FORWARDED)
        assert len(links) > 20 and ds
        wrong = [u for u in links if not u.startswith(PUBLIC)]
        assert not wrong, wrong[:5]
        # a proxy that strips the prefix sends what the client sent after it: those links resolve here
        tile = next(u for u in links if "/WebMercatorQuad/{z}/" in u)
        local = tile.replace(PUBLIC, "/").replace("{z}/{x}/{y}", "1/1/0")
        assert c.get(local, headers=FORWARDED).status_code == 200
        # a proxy that forwards the prefix as well: the same answer
        assert c.get("/carbonmap" + local, headers=FORWARDED).status_code == 200
        # without the headers the same server says plain http://127.0.0.1
        plain = _absolute_links(c, ds_id, {})
        assert all(u.startswith(proxied + "/") for u in plain), [u for u in plain if not u.startswith(proxied)][:3]
        # junk in the headers is ignored, not echoed into links
        bad = {"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil.example/x y", "X-Forwarded-Prefix": "/../x"}
        assert all(u.startswith(proxied + "/") for u in _absolute_links(c, ds_id, bad))


def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(server: str) -> None:
    with httpx.Client(base_url=server, timeout=60) as c:
        ds_id = c.get("/datasets").json()
        ds_id = (ds_id["datasets"][0] if isinstance(ds_id, dict) else ds_id[0])["id"]
        links = _absolute_links(c, ds_id, FORWARDED)
        assert links and all(u.startswith(server + "/") for u in links), \
            [u for u in links if not u.startswith(server)][:5]
        assert not any("example.org" in u or u.startswith("https") for u in links)


def test_cors_exposes_etag_release_and_range_headers(server: str) -> None:
    origin = {"Origin": "https://app.example.net"}
    with httpx.Client(base_url=server, timeout=60) as c:
        ds_id = c.get("/datasets").json()
        ds_id = (ds_id["datasets"][0] if isinstance(ds_id, dict) else ds_id[0])["id"]
        r = c.get(f"/tiles/{ds_id}/WebMercatorQuad/1/1/0.png", params={"date": "2024-03-05"}, headers=origin)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] in ("*", origin["Origin"])
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        wanted = {"etag", "x-carbonmap-release", "content-range", "content-length", "accept-ranges"}
        assert wanted <= exposed and {h.lower() for h in EXPOSED_HEADERS} <= exposed
        assert r.headers["etag"] and r.headers["x-carbonmap-release"]
        # a HEAD from a browser gets the same CORS answer; the preflight allows HEAD
        h = c.head(f"/datasets/{ds_id}", headers=origin)
        assert h.status_code == 200 and "etag" in h.headers["access-control-expose-headers"].lower()
        pre = c.options(f"/datasets/{ds_id}", headers={**origin, "Access-Control-Request-Method": "HEAD"})
        assert pre.status_code == 200 and "HEAD" in pre.headers["access-control-allow-methods"]


def test_trusted_proxy_matching_and_bad_entries() -> None:
    from api.proxy import ForwardedHeadersMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called here
        raise AssertionError

    off = ForwardedHeadersMiddleware(app, [])
    assert not off.enabled and not off.trusts(("127.0.0.1", 1))
    some = ForwardedHeadersMiddleware(app, ["10.0.0.0/8", "::1"])
    assert some.trusts(("10.2.3.4", 1)) and some.trusts(("::1", 1))
    assert not some.trusts(("11.0.0.1", 1)) and not some.trusts(("testclient", 1)) and not some.trusts(None)
    assert ForwardedHeadersMiddleware(app, ["*"]).trusts(("203.0.113.9", 1))
    with pytest.raises(ValueError, match="trusted_proxies entry 'proxy.local'"):
        ForwardedHeadersMiddleware(app, ["proxy.local"])
    with pytest.raises(ValueError, match="CIDR"):  # at start-up, not on the first request
        create_app(Registry(), Settings(trusted_proxies=["10.0.0.0/33"]))


PREFIX = "/carbonmap"


def _relative_links(c: httpx.Client, headers: dict[str, str]) -> dict[str, list[str]]:
    """Every link of /datasets, /datasets/{id}, /datasets/{id}/releases, a region search (hits, next, prev) and
    /datasets/{id}/releases/{current}/files, by where it was found."""
    def get(path: str, **params: Any) -> Any:
        r = c.get(path, params=params, headers=headers)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return r.json()

    found: dict[str, list[str]] = {}
    listing = get("/datasets")
    ds_id = listing[0]["id"]
    found["/datasets"] = [v for d in listing for v in d["links"].values()]
    found["/datasets/{id}"] = list(get(f"/datasets/{ds_id}")["links"].values())
    history = get(f"/datasets/{ds_id}/releases")
    found["/datasets/{id}/releases"] = [v for r in history["releases"] for v in r["links"].values()]
    found["/datasets/{id}/releases/{release}"] = list(get(f"/datasets/{ds_id}/releases/{history['current']}")
                                                      ["links"].values())
    search = get("/regions", q="Bayern", limit=2)  # by name (the alias table's Bavaria too)
    found["/regions?q="] = [v for h in search["regions"] for v in h["links"].values()]
    paged = get("/regions", type="admin1", limit=2, offset=2)  # a middle page: next and prev
    found["/regions?q="] += [v for h in paged["regions"] for v in h["links"].values()]
    found["/regions?q="] += [u for u in (paged["next"], paged["prev"]) if u]
    found["/regions/{id}"] = list(get("/regions/DEU")["properties"]["links"].values())
    files = get(f"/datasets/{ds_id}/releases/{history['current']}/files")
    found["/datasets/{id}/releases/{release}/files"] = [f["href"] for f in files["files"]]
    return found


def _concrete(link: str) -> str:
    """A link as a client would follow it: tile template filled, fragment dropped."""
    return link.replace("{z}/{x}/{y}", "1/1/0").split("#")[0] or "/"


def test_root_relative_links_keep_the_prefix_of_a_trusted_proxy(proxied: str) -> None:
    with httpx.Client(base_url=proxied, timeout=120) as c:
        found = _relative_links(c, FORWARDED)
        assert all(found.values()), {k: len(v) for k, v in found.items()}  # every answer has links to check
        assert len(found["/regions?q="]) >= 11 and sum("offset=" in u for u in found["/regions?q="]) == 2
        links = [u for v in found.values() for u in v]
        wrong = [u for u in links if not u.startswith(PREFIX + "/")]
        assert not wrong, wrong[:5]
        # behind a proxy that strips the prefix the client's request arrives without it: each link resolves
        for link in sorted(set(links)):
            local = _concrete(link[len(PREFIX):])
            r = c.get(local, headers=FORWARDED)
            assert r.status_code == 200, (link, r.status_code, r.text[:300])
        # a proxy that forwards the path as the client sent it (prefix kept): the same links resolve too
        for link in found["/datasets"]:
            assert c.get(_concrete(link), headers=FORWARDED).status_code == 200, link
        # the paging link of the proxied answer leads to the proxied next page, whose links carry the prefix
        nxt = next(u for u in found["/regions?q="] if "offset=4" in u)
        page = c.get(nxt[len(PREFIX):], headers=FORWARDED).json()
        assert page["offset"] == 4 and page["prev"].startswith(PREFIX + "/regions?")
        assert all(u.startswith(PREFIX + "/") for h in page["regions"] for u in h["links"].values())
        # the same server without the headers hands out plain links
        plain = [u for v in _relative_links(c, {}).values() for u in v]
        assert plain and all(u.startswith("/") and not u.startswith(PREFIX) for u in plain), plain[:5]
        assert sorted(u[len(PREFIX):] for u in links) == sorted(plain)


def test_root_relative_links_stay_plain_unless_the_proxy_is_trusted(server: str) -> None:
    with httpx.Client(base_url=server, timeout=120) as c:
        found = _relative_links(c, FORWARDED)
        links = [u for v in found.values() for u in v]
        assert len(links) > 20
        bad = [u for u in links if not u.startswith("/") or u.startswith(PREFIX) or "example.org" in u]
        assert not bad, bad[:5]
        for link in found["/datasets/{id}"] + found["/datasets/{id}/releases/{release}/files"][:2]:
            assert c.get(_concrete(link)).status_code == 200, link


def test_the_api_docs_load_their_assets_through_the_prefix(proxied: str, server: str) -> None:
    with httpx.Client(base_url=proxied, timeout=60) as c:
        html = c.get("/docs", headers=FORWARDED).text
        for ref in ("/carbonmap/openapi.json", "/carbonmap/docs-assets/swagger-ui-bundle.js",
                    "/carbonmap/docs-assets/swagger-ui.css", "/carbonmap/docs/oauth2-redirect"):
            assert ref in html, ref
            assert c.get(ref.removeprefix("/carbonmap"), headers=FORWARDED).status_code == 200  # stripped by the proxy
    with httpx.Client(base_url=server, timeout=60) as c:  # no proxy: plain paths
        html = c.get("/docs").text
        assert ("'/openapi.json'" in html or '"/openapi.json"' in html) and "/carbonmap" not in html
