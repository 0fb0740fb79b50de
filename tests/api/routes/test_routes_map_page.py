"""GET / and /static: the dependency-free map page."""

from __future__ import annotations

import re

from api.routes.map_page import STATIC_DIR


def test_index_is_html_that_loads_only_local_assets(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert 'id="date"' in html and 'id="sector"' in html and 'id="map"' in html
    assets = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    for asset in assets:
        if asset.startswith("/static/"):
            got = client.get(asset)
            assert got.status_code == 200 and got.content == (STATIC_DIR / asset.removeprefix("/static/")).read_bytes()


def test_script_uses_the_api_and_tile_routes_that_exist(client):
    js = (STATIC_DIR / "map.js").read_text()
    assert "http://" not in js and "https://" not in js  # no CDN, no internet
    assert "/datasets" in js and "/tiles/" in js and "WebMercatorQuad" in js and "location.hash" in js
    schema = client.get("/openapi.json").json()["paths"]
    assert "/tiles/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}.{format}" in schema
    assert "/tiles/{dataset}/legend" in schema and "/datasets/{id}" in schema
