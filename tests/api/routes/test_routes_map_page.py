"""GET / (the MapLibre web map), /static (its built assets) and /docs (Swagger UI from local files).

The browser itself is driven in tests/web/test_map_page.py; these tests check what is served.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from api.app import create_app
from api.routes.docs import DocsAssetsMissing, DocsFactory
from api.routes.map_page import STATIC_DIR, MapPageFactory, with_base
from carbonmap.settings import Settings

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "web"


def local_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"#]+)"', html)


def base_href(html: str) -> str:
    bases = re.findall(r'<base href="([^"]*)">', html)
    assert len(bases) == 1, bases
    return bases[0]


def test_index_is_html_that_loads_only_local_assets(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    for control in ('id="map"', 'id="day"', 'id="play"', 'id="sector"', 'id="search"', 'id="draw"', 'id="legend"',
                    'id="series-table"', 'id="license"', 'id="citation"'):
        assert control in html, control
    # the base is the app's root; every asset is relative to it (so a proxy's prefix applies), none leaves the host
    assert base_href(html) == "/"
    assert html.index("<base ") < html.index("<link ")  # before any relative URL in <head>
    assets = [a for a in local_assets(html) if a != "/"]
    assert "static/vendor/maplibre-gl.js" in assets and "static/map.js" in assets
    assert all(not a.startswith("/") and ":" not in a for a in assets), assets
    for asset in assets:
        if asset.startswith("static/"):
            got = client.get("/" + asset)
            assert got.status_code == 200, asset
            assert got.content == (STATIC_DIR / asset.removeprefix("static/")).read_bytes()


@pytest.mark.parametrize("root_path", ["/carbonmap", "/a/b/"])
def test_index_base_is_the_servers_root_path(registry, root_path: str):
    app = create_app(registry, Settings())
    html = TestClient(app, root_path=root_path).get("/").text
    assert base_href(html) == root_path.rstrip("/") + "/"


def test_index_base_follows_a_trusted_proxys_prefix_only(registry):
    headers = {"X-Forwarded-Prefix": "/carbonmap", "X-Forwarded-Host": "maps.example.org", "X-Forwarded-Proto": "https"}
    trusted = TestClient(create_app(registry, Settings(trusted_proxies=["*"])))
    assert base_href(trusted.get("/", headers=headers).text) == "/carbonmap/"
    assert base_href(trusted.get("/").text) == "/"
    untrusted = TestClient(create_app(registry, Settings()))
    assert base_href(untrusted.get("/", headers=headers).text) == "/"


def test_with_base_escapes_and_places_the_tag():
    assert with_base('<!doctype html>\n<html><head>\n<meta charset="utf-8">', '/x"><script>') == (
        '<!doctype html>\n<html><head>\n  <base href="/x&quot;&gt;&lt;script&gt;/">\n<meta charset="utf-8">')
    assert with_base("<HEAD lang=en><title>t</title>", "") == '<HEAD lang=en>\n  <base href="/"><title>t</title>'
    assert with_base("<!DOCTYPE html><title>t</title>", "/p/") == '<!DOCTYPE html><base href="/p/"><title>t</title>'
    assert with_base("<header>x</header>", "/p") == '<base href="/p/"><header>x</header>'


def test_every_form_control_has_a_label(client):
    html = client.get("/").text
    labelled_by_wrapper = set(re.findall(r"<label[^>]*>[^<]*<(?:select|input)[^>]*id=\"([\w-]+)\"", html))
    labelled_by_for = set(re.findall(r'<label[^>]*for="([\w-]+)"', html))
    aria = set(re.findall(r'<(?:input|select|button)[^>]*id="([\w-]+)"[^>]*aria-label=', html))
    for control in re.findall(r'<(?:input|select)[^>]*id="([\w-]+)"', html):
        assert control in labelled_by_wrapper | labelled_by_for | aria, f"#{control} has no label"


def test_page_script_uses_routes_that_exist_and_no_internet(client):
    js = (STATIC_DIR / "map.js").read_text()
    assert "http://" not in js and "https://" not in js  # our code: no CDN, no internet
    # every path goes through url()/abs() (the page's <base>, i.e. a proxy's prefix): no raw root-relative fetch
    assert not re.search(r"""fetch\(\s*[`"']/""", js), re.findall(r"""fetch\(\s*[`"']/[^)]*""", js)
    for needle in ("/datasets", "/tiles/", "WebMercatorQuad", "tilejson.json", "/legend", "/regions/",
                   "/emissions/query", "/openapi.json", "location.hash"):
        assert needle in js, needle
    schema = client.get("/openapi.json").json()["paths"]
    assert "/tiles/{dataset}/{tileMatrixSetId}/tilejson.json" in schema
    assert "/tiles/{dataset}/legend" in schema and "/datasets/{id}" in schema
    assert "/regions/{iso3}/emissions" in schema


def test_map_page_route_reads_the_given_static_dir(tmp_path: Path):
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>", encoding="utf-8")
    app = FastAPI()
    app.include_router(MapPageFactory(static_dir=tmp_path).router)
    r = TestClient(app).get("/")
    assert r.text == '<!doctype html><base href="/"><title>t</title>' and r.headers["cache-control"] == "no-cache"


def test_basemap_layers_are_well_formed():
    countries = json.loads((STATIC_DIR / "basemap" / "countries.geojson").read_text(encoding="utf-8"))
    codes = [f["properties"]["iso3"] for f in countries["features"]]
    assert len(codes) == len(set(codes)) > 150
    assert all(re.fullmatch(r"[A-Z]{3}", c) for c in codes)
    assert {"DEU", "FRA", "NOR", "CHN", "USA", "IND", "BRA"} <= set(codes)  # NE's -99 codes are resolved
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in countries["features"])
    places = json.loads((STATIC_DIR / "basemap" / "places.json").read_text(encoding="utf-8"))
    assert len(places) > 500
    for name, iso3, lon, lat, pop in places:
        assert name and re.fullmatch(r"[A-Z0-9]{3}", iso3) and -180 <= lon <= 180 and -90 <= lat <= 90 and pop > 0
    assert [p[4] for p in places] == sorted((p[4] for p in places), reverse=True)


def test_docs_are_served_from_local_files(client):
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "cdn" not in html.lower() and "https://" not in html and "http://" not in html
    scripts = local_assets(html)
    assert "/docs-assets/swagger-ui-bundle.js" in scripts and "/docs-assets/swagger-ui.css" in scripts
    for asset in scripts:
        got = client.get(asset)
        assert got.status_code == 200 and len(got.content) > 100, asset
    assert client.get("/docs/oauth2-redirect").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/docs" not in paths and "/docs-assets" not in paths


def test_docs_factory_replaces_fastapis_cdn_routes(tmp_path: Path):
    app = FastAPI()  # with FastAPI's default, CDN-based /docs and /redoc
    DocsFactory().install(app)
    client = TestClient(app)
    cdn_routes = [r for r in app.router.routes if isinstance(r, Route) and r.path in ("/docs", "/redoc")]
    assert cdn_routes == []
    html = client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/redoc").status_code == 404  # ReDoc is not shipped: its CDN page is gone, not half-working
    with pytest.raises(DocsAssetsMissing, match="swagger-ui-bundle.js"):
        DocsFactory(assets_dir=tmp_path)


@pytest.mark.skipif(shutil.which("node") is None or not (WEB / "node_modules" / "esbuild").is_dir(),
                    reason="node or web/node_modules missing (run `npm ci` in web/ to check the built assets)")
def test_built_assets_match_the_web_sources():
    run = subprocess.run(["node", "build.mjs", "--check"], check=False, cwd=WEB, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr + run.stdout
