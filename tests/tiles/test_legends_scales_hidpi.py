"""Readable legend numbers, default scales from the data, @2x tiles, WMTS legends and the colormap listing
(issue 19.6), on the tile app and its pure functions."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tiles import colormap as cm
from tiles import scales
from tiles.layer import BadTileRequest
from tiles.params import pixel_ratio, tile_ratio

T = "/tiles/synthetic-test/WebMercatorQuad"
NS = {"w": "http://www.opengis.net/wmts/1.0", "ows": "http://www.opengis.net/ows/1.1"}


@pytest.mark.parametrize(("value", "text"), [
    (3.69e-11, "< 0.001"), (0.000999, "< 0.001"), (0.001, "0.001"), (0.0012345, "0.0012"), (0.238, "0.24"),
    (7.0, "7"), (12.0, "12"), (238.0, "240"), (999.6, "1k"), (1234.0, "1.2k"), (25_000.0, "25k"),
    (2.5e7, "25M"), (3.3e9, "3.3G"), (0.0, "0"), (-1500.0, "-1.5k")])
def test_readable_numbers(value: float, text: str) -> None:
    assert cm.readable(value) == text


def test_quantile_legend_reads_without_exponents() -> None:
    """The case of the issue: a quantile legend whose first break is downscaling dust (3.69e-11)."""
    s = cm.ColorScale.quantile([3.69e-11, 0.004, 0.05, 0.238], "inferno")
    leg = cm.legend(s, units="kg km-2 day-1", long_units="kg CO2 per square kilometre per day", n_classes=3)
    labels = [c["label"] for c in leg["classes"]]
    assert labels[0] == "< 0.004" and labels[-1] == "0.05 – 0.24"
    assert leg["break_labels"] == ["< 0.001", "0.004", "0.05", "0.24"]
    assert leg["classes"][-1]["label_units"] == "0.05 – 0.24 kg km-2 day-1"
    assert not any("e-" in t or "e+" in t for t in [*labels, *leg["break_labels"]])


def test_legend_png_is_wide_enough_for_its_labels() -> None:
    png = Image.open(io.BytesIO(cm.legend_png(cm.ColorScale("log", 1e-3, 1e6, "inferno"),
                                              units="kg CO2 per square kilometre per day")))
    assert png.size == cm.LEGEND_PNG_SIZE
    px = np.asarray(png.convert("RGBA"))
    text_rows = px[30:, :, :3].min(axis=2) < 80   # dark label pixels under the bar
    assert text_rows.any(axis=0).sum() > 100       # labels spread along the bar
    assert (text_rows.any(axis=0)[-20:]).any()     # the last label ("1M") is drawn at the right end


def test_nice_steps_and_range_of() -> None:
    assert [scales.nice_up(v) for v in (0.0013, 0.002, 0.0021, 7.0, 11.0)] == [0.002, 0.002, 0.005, 10.0, 20.0]
    assert [scales.nice_down(v) for v in (0.0013, 0.002, 4.9, 7.0, 9999.0)] == [0.001, 0.002, 2.0, 5.0, 5000.0]
    rng = np.random.default_rng(1)
    v = np.concatenate([rng.lognormal(3, 2, 100_000), np.full(5000, 1e-9), np.zeros(50_000)])
    lo, hi = scales.range_of(v)
    p2, p995 = np.percentile(v[v > 0], [2, 99.5])
    assert p2 <= lo and hi <= p995          # inside the data's own 2nd..99.5th percentile
    assert lo >= scales.DISPLAY_FLOOR and hi / lo > 100
    for x in (lo, hi):
        mantissa = x / 10 ** math.floor(math.log10(x))
        assert round(mantissa, 9) in (1.0, 2.0, 5.0)
    assert scales.range_of(np.zeros(4)) == (1.0, 1.0e6)
    assert scales.range_of(np.full(10, 5.0)) == (5.0, 50.0)
    lo, hi = scales.range_of(np.array([1.0, 1.2, 1.4]))      # rounding would leave < 2x: the percentiles
    assert 1.0 <= lo < hi <= 1.4
    assert scales.range_of(v, "linear")[0] == 0.0


def test_sample_days_spread_over_the_cube() -> None:
    assert scales.sample_days(1) == [0]
    assert scales.sample_days(5) == [0, 1, 2, 3, 4]
    days = scales.sample_days(366)
    assert len(days) == scales.MAX_SAMPLE_DAYS and days[0] == 0 and days[-1] == 365


def test_pixel_ratio_and_tile_sizes() -> None:
    assert (pixel_ratio(None), pixel_ratio("1"), pixel_ratio("2")) == (1, 1, 2)
    assert (tile_ratio(256), tile_ratio(512)) == (1, 2)
    for bad in ("3", "x", "02x"):
        with pytest.raises(BadTileRequest, match="@2x"):
            pixel_ratio(bad)
    with pytest.raises(BadTileRequest, match="tilesize=512"):
        tile_ratio(300)


def test_hidpi_tile_is_512_and_matches_the_256_tile(client: TestClient) -> None:
    q = {"date": "2024-01-05", "sector": "power"}
    one = Image.open(io.BytesIO(client.get(f"{T}/1/0/0.png", params=q).content)).convert("RGBA")
    r = client.get(f"{T}/1/0/0@2x.png", params=q)
    assert r.status_code == 200, r.text
    two = Image.open(io.BytesIO(r.content)).convert("RGBA")
    assert one.size == (256, 256) and two.size == (512, 512)
    a, b = np.asarray(one), np.asarray(two)[::2, ::2]
    assert (np.all(a == b, axis=2)).mean() > 0.95
    assert client.get(f"{T}/1/0/0@2x.webp", params=q).headers["content-type"] == "image/webp"
    assert client.get(f"{T}/1/0/0@4x.png", params=q).status_code == 422


def test_tilejson_and_wmts_offer_512_px(client: TestClient) -> None:
    tj = client.get(f"{T}/tilejson.json", params={"tilesize": 512}).json()
    assert "/{z}/{x}/{y}@2x.png?" in tj["tiles"][0]
    base = ET.fromstring(client.get("/tiles/synthetic-test/WMTSCapabilities.xml").content)
    hidpi = ET.fromstring(client.get("/tiles/synthetic-test/WMTSCapabilities.xml", params={"tilesize": 512}).content)
    m1 = base.find("w:Contents/w:TileMatrixSet/w:TileMatrix", NS)
    m2 = hidpi.find("w:Contents/w:TileMatrixSet/w:TileMatrix", NS)
    assert m1.findtext("w:TileWidth", namespaces=NS) == "256" and m2.findtext("w:TileWidth", namespaces=NS) == "512"
    assert float(m2.findtext("w:ScaleDenominator", namespaces=NS)) == pytest.approx(
        float(m1.findtext("w:ScaleDenominator", namespaces=NS)) / 2)
    ids = {e.text for e in hidpi.findall("w:Contents/w:Layer/w:TileMatrixSetLink/w:TileMatrixSet", NS)}
    assert ids == {hidpi.findtext("w:Contents/w:TileMatrixSet/ows:Identifier", namespaces=NS)} == \
        {"WebMercatorQuad@2x"}


def test_wmts_legend_urls_follow_the_style_parameters(client: TestClient) -> None:
    root = ET.fromstring(client.get("/tiles/synthetic-test/WMTSCapabilities.xml",
                                    params={"colormap_name": "viridis", "scale": "quantile"}).content)
    hrefs = {layer.findtext("ows:Identifier", namespaces=NS):
             layer.find("w:Style/w:LegendURL", NS).get("{http://www.w3.org/1999/xlink}href")
             for layer in root.findall("w:Contents/w:Layer", NS)}
    assert "colormap_name=viridis" in hrefs["power"] and "scale=quantile" in hrefs["power"]
    assert "colormap_name" not in hrefs["power_uncertainty"]  # uncertainty layers keep their own style
    r = client.get(hrefs["power"].split("testserver", 1)[1])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"


def test_colormaps_listing_and_bad_names(client: TestClient) -> None:
    doc = client.get("/tiles/colormaps").json()
    names = [m["name"] for m in doc["colormaps"]]
    assert names == sorted(names) and "inferno" in names
    r = client.get("/tiles/synthetic-test/legend", params={"colormap_name": "nope"})
    assert r.status_code == 422 and "/tiles/colormaps" in r.json()["detail"]
    assert client.get("/tiles/colormaps/inferno", params={"format": "svg"}).status_code == 422
    assert client.get("/tiles/colormaps/nope").status_code == 404


def test_default_range_is_inside_the_layers_own_values(client: TestClient) -> None:
    """Synthetic cube: power = 1000 * (day + 1) kg per cell on |lat| < 60, shown per km2 of the cell."""
    leg = client.get("/tiles/synthetic-test/legend", params={"sector": "power"}).json()
    lo, hi = leg["rescale"]
    from carbonmap import contract as cc
    from pipelines.pyramid import area_km2
    grid = cc.Grid(5.0)
    area = area_km2(grid)[np.abs(grid.lat) < 60]
    values = np.concatenate([1000.0 * (t + 1) / area for t in range(10)])
    assert values.min() <= lo < hi <= values.max()
    total = client.get("/tiles/synthetic-test/legend", params={"sector": "total"}).json()["rescale"]
    assert total[1] > hi  # the total is 28x power: its own range


def test_new_endpoints_are_documented_with_examples(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/tiles/colormaps", "/tiles/colormaps/{name}",
                 "/tiles/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}@{pixel_ratio}x.{format}"):
        op = paths[path]["get"]
        assert "Example:" in op["description"], path
    hidpi = paths["/tiles/{dataset}/{tileMatrixSetId}/{z}/{x}/{y}@{pixel_ratio}x.{format}"]["get"]
    assert any(p["name"] == "pixel_ratio" and p.get("example") == 2 for p in hidpi["parameters"])
    ok = paths["/tiles/colormaps"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["example"]["colormaps"][0]["name"] == "inferno"
