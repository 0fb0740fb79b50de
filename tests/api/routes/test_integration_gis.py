"""Fits in GIS (issue 19.6), over real HTTP on a cube built by the real pipeline: WMTS ``LegendURL`` per layer
(read by OWSLib and GDAL), ``/tiles/colormaps``, every hint URL in error messages resolves, @2x tiles,
readable legend numbers, and per-sector default scales from the data's own values."""

from __future__ import annotations

import ast
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import zarr
from PIL import Image

from carbonmap import contract as cc
from pipelines.pyramid import area_km2
from tests.api.routes.live_server import live_server

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[3]
NS = {"w": "http://www.opengis.net/wmts/1.0", "ows": "http://www.opengis.net/ows/1.1",
      "xlink": "http://www.w3.org/1999/xlink"}
XLINK_HREF = f"{{{NS['xlink']}}}href"
READABLE = re.compile(r"^(< )?-?\d+(\.\d+)?[kMGT]?$")
"""A legend number as people read it: digits, an optional SI prefix, no exponent."""


@pytest.fixture(scope="module")
def server(real_cube: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server([real_cube], tmp_path_factory.mktemp("gis") / "server.log") as base:
        yield base


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=120, limits=httpx.Limits(max_keepalive_connections=0)) as c:
        yield c


@pytest.fixture(scope="module")
def ds(http: httpx.Client) -> str:
    return str(http.get("/datasets").json()[0]["id"])


def png_size(content: bytes) -> tuple[int, int]:
    im = Image.open(io.BytesIO(content))
    assert im.format == "PNG"
    return im.size


def test_wmts_has_a_png_legend_per_layer_style(http: httpx.Client, ds: str) -> None:
    r = http.get(f"/tiles/{ds}/WMTSCapabilities.xml")
    assert r.status_code == 200
    layers = ET.fromstring(r.content).findall("w:Contents/w:Layer", NS)
    assert len(layers) == 1 + 2 * len(cc.SECTORS)
    for layer in layers:
        ident = layer.findtext("ows:Identifier", namespaces=NS)
        style = layer.find("w:Style", NS)
        assert style is not None and style.get("isDefault") == "true"
        # WMTS 1.0.0 schema order inside Style: ows:Identifier, then LegendURL*
        assert [child.tag for child in style] == [f"{{{NS['ows']}}}Identifier", f"{{{NS['w']}}}LegendURL"]
        legend = style.find("w:LegendURL", NS)
        assert legend is not None and legend.get("format") == "image/png"
        href = legend.get(XLINK_HREF)
        assert href and href.startswith(http.base_url.scheme + "://") and "format=png" in href
        got = http.get(href)
        assert got.status_code == 200 and got.headers["content-type"] == "image/png", (ident, got.text[:200])
        assert png_size(got.content) == (int(legend.get("width", 0)), int(legend.get("height", 0)))
        sector = ident.removesuffix("_uncertainty")
        assert f"sector={sector}" in href and ("variable=uncertainty" in href) == ident.endswith("_uncertainty")


def test_owslib_reads_the_legend_urls(http: httpx.Client, ds: str) -> None:
    """OWSLib (the WMTS client library of many Python GIS tools) parses the document and its legends."""
    wmts = pytest.importorskip("owslib.wmts")
    cap = wmts.WebMapTileService(f"{str(http.base_url).rstrip('/')}/tiles/{ds}/WMTSCapabilities.xml")
    assert "power" in cap.contents and "WebMercatorQuad" in cap.tilematrixsets
    legend = cap.contents["power"].styles["default"]["legend"]
    assert "sector=power" in legend and http.get(legend).headers["content-type"] == "image/png"


def test_gdal_opens_the_wmts_at_256_and_512_pixels(server: str, ds: str, tmp_path: Path) -> None:
    if not shutil.which("gdalinfo"):
        pytest.skip("gdalinfo is not installed")
    sizes = []
    for query in ("", "?tilesize=512"):
        src = f"WMTS:{server}/tiles/{ds}/WMTSCapabilities.xml{query},layer=power"
        info = subprocess.run(["gdalinfo", src], capture_output=True, text=True, timeout=120, check=False,
                              cwd=tmp_path)
        assert info.returncode == 0, info.stderr
        m = re.search(r"Size is (\d+), (\d+)", info.stdout)
        assert m and "Band 4" in info.stdout
        sizes.append(int(m[1]))
    assert sizes[1] == 2 * sizes[0]  # same extent, twice the pixels
    out = tmp_path / "z1.png"
    tr = subprocess.run(["gdal_translate", "-of", "PNG", "-outsize", "512", "512",
                         f"WMTS:{server}/tiles/{ds}/WMTSCapabilities.xml?tilesize=512,layer=total,zoom_level=1",
                         str(out)], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert tr.returncode == 0, tr.stderr
    px = np.asarray(Image.open(out).convert("RGBA"))
    assert (px[..., 3] == 255).mean() > 0.05


def test_hidpi_tiles_in_tilejson_and_wmts(http: httpx.Client, ds: str) -> None:
    params = {"date": "2024-03-05", "sector": "power"}
    one = http.get(f"/tiles/{ds}/WebMercatorQuad/1/1/0.png", params=params)
    two = http.get(f"/tiles/{ds}/WebMercatorQuad/1/1/0@2x.png", params=params)
    assert png_size(one.content) == (256, 256) and png_size(two.content) == (512, 512)
    assert one.headers["etag"] != two.headers["etag"]
    # the 512 px tile shows the same place: downsampled, its opaque pixels are where the 256 px tile's are
    a1 = np.asarray(Image.open(io.BytesIO(one.content)).convert("RGBA"))[..., 3] > 0
    a2 = np.asarray(Image.open(io.BytesIO(two.content)).convert("RGBA"))[::2, ::2, 3] > 0
    assert (a1 == a2).mean() > 0.97
    assert http.get(f"/tiles/{ds}/WebMercatorQuad/1/1/0@3x.png", params=params).status_code == 422
    tj = http.get(f"/tiles/{ds}/WebMercatorQuad/tilejson.json", params={"sector": "power", "tilesize": 512}).json()
    assert "/{z}/{x}/{y}@2x.png?" in tj["tiles"][0] and tj["carbonmap"]["tilesize"] == 512
    url = tj["tiles"][0].replace("{z}/{x}/{y}", "1/1/0")
    assert png_size(http.get(url).content) == (512, 512)
    assert http.get(f"/tiles/{ds}/WebMercatorQuad/tilejson.json", params={"tilesize": 300}).status_code == 422
    xml = ET.fromstring(http.get(f"/tiles/{ds}/WMTSCapabilities.xml", params={"tilesize": 512}).content)
    assert xml.findtext("w:Contents/w:TileMatrixSet/w:TileMatrix/w:TileWidth", namespaces=NS) == "512"
    assert "@2x.png?" in xml.find("w:Contents/w:Layer/w:ResourceURL", NS).get("template")


def test_colormap_listing_and_each_entry(http: httpx.Client) -> None:
    r = http.get("/tiles/colormaps")
    assert r.status_code == 200
    doc = r.json()
    names = [m["name"] for m in doc["colormaps"]]
    assert {"inferno", "viridis", "magma", "ylorrd", "rdylgn_r"} <= set(names)
    assert doc["defaults"] == {"emissions": "inferno", "uncertainty": "viridis"}
    inferno = next(m for m in doc["colormaps"] if m["name"] == "inferno")
    colours = http.get(inferno["href"]).json()["colors"]
    assert len(colours) == 255 and colours[0] != colours[-1]
    assert png_size(http.get(inferno["swatch"]).content) == (256, 16)
    # every listed name is accepted by a tile request
    for name in names[::25]:
        assert http.get("/tiles/colormaps/" + name).status_code == 200
    assert http.get("/tiles/colormaps/nope").status_code == 404


def _message_strings(path: Path) -> list[str]:
    """Every string literal of a module except docstrings (f-string holes kept as ``{expression}``)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.append("".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                               for v in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            out.append(node.value)
    return out


HINT = re.compile(r"(?:see|search with|with|\()\s*(?:GET )?(/[a-z][A-Za-z0-9_/{}.?=<>-]*)")


def hint_urls() -> set[str]:
    """Paths that error messages send users to (``see /tiles/colormaps``, ``search with GET /regions?q=name``)."""
    files = [REPO / "carbonmap" / "problems.py", REPO / "carbonmap" / "errors.py", REPO / "api" / "deps.py", *sorted((REPO / "tiles").glob("*.py")),
             *sorted((REPO / "api" / "routes").glob("*.py"))]
    found = {m.group(1).rstrip(".") for f in files for s in _message_strings(f) for m in HINT.finditer(s)}
    return {h for h in found if not h.endswith("/")}  # "/zarr/" + name: a link being built, not a hint


def test_every_hint_url_in_error_messages_resolves(http: httpx.Client, ds: str) -> None:
    hints = hint_urls()
    assert {"/tiles/colormaps", "/docs", "/regions?q=name"} <= hints
    release = http.get(f"/datasets/{ds}/releases").json()["current"]
    values = {"dataset_id": ds, "dataset": ds, "id": ds, "release": release, "name": "inferno",
              "iso3": "DEU", "<dataset>": ds}
    failed = []
    for hint in sorted(hints):
        if "<server>" in hint or any(k not in values for k in re.findall(r"\{([^}]+)\}", hint)):
            failed.append((hint, "placeholder without a value"))
            continue
        url = re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], hint).replace("<dataset>", ds)
        url = url.replace("demo-2024", ds).replace("r0003", release)  # the OpenAPI examples' ids
        r = http.get(url)
        if r.status_code != 200:
            failed.append((hint, r.status_code))
    assert not failed, failed
    # and the errors that carry the colormap and /docs hints really send people there
    bad = http.get(f"/tiles/{ds}/legend", params={"colormap_name": "nope"}).json()["detail"]
    assert "/tiles/colormaps" in bad and http.get("/tiles/colormaps").status_code == 200
    assert "/docs" in http.get("/no/such/endpoint").json()["detail"]


def _power_density(cube: Path) -> np.ndarray:
    """Power emissions of every day of the cube as density (kg CO2 km-2 day-1), straight from the Zarr store."""
    root = zarr.open_group(str(cube), mode="r")
    sectors = list(root.attrs.get("sectors", cc.SECTORS))
    em = np.asarray(root[cc.EMISSIONS_VAR][:, sectors.index("power")], dtype=np.float64)
    lat = np.asarray(root["lat"][:])
    grid = cc.Grid(float(abs(lat[1] - lat[0])))
    return em / area_km2(grid)[None, :, None]


def test_power_default_scale_comes_from_its_own_data(http: httpx.Client, ds: str, real_cube: Path) -> None:
    values = _power_density(real_cube)
    positive = values[values > 0]
    leg = http.get(f"/tiles/{ds}/legend", params={"sector": "power"}).json()
    lo, hi = leg["rescale"]
    assert leg["scale"] == "log"
    assert positive.min() <= lo < hi <= positive.max()
    # the range the 2nd..99.5th percentile spans, rounded inwards: neither the old 1e-6..1e6 nor whole decades
    p2, p995 = np.percentile(positive, [2, 99.5])
    assert lo >= min(p2, 1e-3) * 0.999 and hi <= p995 * 1.001
    assert hi / lo < 1e8
    tj = http.get(f"/tiles/{ds}/WebMercatorQuad/tilejson.json", params={"sector": "power"}).json()
    assert tj["carbonmap"]["rescale"] == [lo, hi]
    other = http.get(f"/tiles/{ds}/legend", params={"sector": "international_shipping"}).json()["rescale"]
    assert other != [lo, hi]  # per sector


def test_legend_numbers_are_readable(http: httpx.Client, ds: str) -> None:
    for params in ({"sector": "power"}, {"sector": "power", "scale": "quantile"}, {"sector": "total"},
                   {"sector": "industry", "scale": "quantile", "classes": 8},
                   {"sector": "power", "variable": "uncertainty"}):
        leg = http.get(f"/tiles/{ds}/legend", params=params).json()
        assert all(READABLE.match(t) for t in leg["break_labels"]), (params, leg["break_labels"])
        for c in leg["classes"]:
            assert "e-" not in c["label"] and "e+" not in c["label"], c["label"]
            assert c["label_units"].endswith(leg["units"])
            parts = c["label"].removeprefix("< ").split(" – ")
            assert all(READABLE.match(p) for p in parts), c["label"]
    png = http.get(f"/tiles/{ds}/legend", params={"sector": "power", "format": "png"})
    assert png.headers["content-type"] == "image/png" and png_size(png.content)[0] >= 300
