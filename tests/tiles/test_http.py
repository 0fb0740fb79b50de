"""The tile endpoints over real HTTP (uvicorn on 127.0.0.1, httpx)."""

from __future__ import annotations

import io

import httpx
import morecantile
import numpy as np
import pytest
from PIL import Image
from titiler.core.models.mapbox import TileJSON

from carbonmap import contract as cc
from pipelines.pyramid import area_km2
from tiles import colormap as cm
from tiles.render import pixel_lonlat

pytestmark = pytest.mark.e2e
T = "/tiles/synthetic-test/WebMercatorQuad"


def rgba(r: httpx.Response) -> np.ndarray:
    assert r.status_code == 200, r.text
    im = Image.open(io.BytesIO(r.content))
    assert im.size == (256, 256)
    return np.asarray(im.convert("RGBA"))


@pytest.mark.parametrize("zxy", ["0/0/0", "1/0/0", "1/1/1"])
def test_tiles_are_256_png_with_opaque_land(http: httpx.Client, zxy: str) -> None:
    r = http.get(f"{T}/{zxy}.png", params={"date": "2024-01-05", "sector": "total"})
    assert r.headers["content-type"] == "image/png" and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    px = rgba(r)
    assert (px[..., 3] == 255).mean() > 0.3     # the synthetic field covers |lat| < 60
    assert (px[..., 3] == 0).any()              # polar rows carry no emissions -> transparent


def test_ocean_tile_is_transparent_not_an_error(http: httpx.Client) -> None:
    px = rgba(http.get(f"{T}/2/1/0.png", params={"date": "2024-01-05"}))   # 66.5..85 N: all zero
    assert np.all(px[..., 3] == 0)


def test_webp_tile(http: httpx.Client) -> None:
    r = http.get(f"{T}/1/0/1.webp", params={"date": "2024-01-05", "sector": "power"})
    assert r.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(r.content)).format == "WEBP"
    assert (rgba(r)[..., 3] == 255).any()


def test_colours_follow_sector_and_date(http: httpx.Client) -> None:
    # synthetic field = (sector + 1) * (day + 1) * 1000 kg per cell; tiles show it per km2 of the cell.
    # Pixel (row 150, col 128) of z0 lies at ~-30 lat.
    def colour(sector: str, date: str) -> np.ndarray:
        px = rgba(http.get(f"{T}/0/0/0.png", params={"date": date, "sector": sector, "rescale": "0.001,10"}))
        return px[150, 128]

    grid = cc.Grid(5.0)
    _, lat = pixel_lonlat(morecantile.tms.get("WebMercatorQuad"), 0, 0, 0, 256)
    row = grid.cell_index(np.array([0.0]), lat[150:151])[0][0]
    area = area_km2(grid)[row]
    scale = cm.ColorScale("log", 1e-3, 10.0, "inferno")
    expect = {(s, d): cm.palette("inferno")[cm.to_indices(np.array([v / area]), scale)[0]]
              for (s, d, v) in [("power", "2024-01-01", 1000.0), ("industry", "2024-01-01", 2000.0),
                                ("power", "2024-01-10", 10000.0), ("total", "2024-01-10", 280000.0)]}
    got = {k: colour(*k) for k in expect}
    for k, want in expect.items():
        np.testing.assert_array_equal(got[k], want, err_msg=str(k))
    assert len({tuple(v) for v in got.values()}) == 4


def test_default_colours_differ_between_days(http: httpx.Client) -> None:
    a = rgba(http.get(f"{T}/0/0/0.png", params={"date": "2024-01-02", "sector": "power"}))[150, 128]
    b = rgba(http.get(f"{T}/0/0/0.png", params={"date": "2024-01-10", "sector": "power"}))[150, 128]
    assert a[3] == b[3] == 255 and tuple(a) != tuple(b)
    # the first day (1000 kg per cell) lies below the default range's low end there: not drawn, unless the
    # scale is given explicitly (then it takes the lowest colour)
    lo, hi = http.get("/tiles/synthetic-test/legend", params={"sector": "power"}).json()["rescale"]
    first = {"date": "2024-01-01", "sector": "power"}
    assert rgba(http.get(f"{T}/0/0/0.png", params=first))[150, 128][3] == 0
    clamped = rgba(http.get(f"{T}/0/0/0.png", params={**first, "rescale": f"{lo},{hi}"}))[150, 128]
    assert tuple(clamped) == tuple(cm.palette("inferno")[1])


def test_uncertainty_layer(http: httpx.Client) -> None:
    px = rgba(http.get(f"{T}/0/0/0.png", params={"date": "2024-01-02", "sector": "power",
                                                  "variable": "uncertainty"}))
    expected = cm.palette("viridis")[cm.to_indices(np.array([0.1]), cm.ColorScale("linear", 0, 1, "viridis"))[0]]
    np.testing.assert_array_equal(px[150, 128], expected)


def test_tilejson_validates_and_its_template_serves_tiles(http: httpx.Client) -> None:
    r = http.get(f"{T}/tilejson.json", params={"date": "2024-01-03", "sector": "power"})
    assert r.status_code == 200
    doc = r.json()
    TileJSON.model_validate(doc)
    assert doc["tilejson"] == "3.0.0" and len(doc["tiles"]) == 1
    template = doc["tiles"][0]
    assert "/tiles/synthetic-test/WebMercatorQuad/{z}/{x}/{y}.png?" in template
    assert "date=2024-01-03" in template and "sector=power" in template
    w, s, e, n = doc["bounds"]
    assert (w, e) == (-180.0, 180.0) and s == pytest.approx(-85.0511287798066) and n == pytest.approx(85.0511287798066)
    assert 0 <= doc["minzoom"] <= doc["maxzoom"] <= 24
    assert doc["attribution"]
    url = template.replace("{z}", "1").replace("{x}", "0").replace("{y}", "0")
    assert (rgba(httpx.get(url, timeout=30))[..., 3] == 255).any()
    legend = httpx.get(doc["legend_url"], timeout=30).json()
    assert legend["rescale"] == doc["carbonmap"]["rescale"]
    default_day = http.get(f"{T}/tilejson.json").json()
    assert "date=2024-01-10" in default_day["tiles"][0]


def test_conditional_get_over_http(http: httpx.Client) -> None:
    params = {"date": "2024-01-07", "sector": "industry"}
    first = http.get(f"{T}/1/0/0.png", params=params)
    etag = first.headers["etag"]
    second = http.get(f"{T}/1/0/0.png", params=params, headers={"If-None-Match": etag})
    assert second.status_code == 304 and second.headers["etag"] == etag
    assert "max-age" in second.headers["cache-control"]


def test_errors_over_http(http: httpx.Client) -> None:
    r = http.get(f"{T}/0/0/0.png", params={"date": "2025-06-01"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert http.get(f"{T}/0/0/0.png", params={"date": "2024-01-01", "sector": "coal"}).status_code == 422
    assert http.get(f"{T}/5/40/0.png", params={"date": "2024-01-01"}).status_code == 404
