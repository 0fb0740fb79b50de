"""WMTS capabilities: the document's content, and GDAL's WMTS driver (Debian gdal-bin) as the real client."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from carbonmap.registry import Registry
from tiles.app import create_tiles_app
from tiles.cache_policy import version_token

from .conftest import start_server

NS = {"w": "http://www.opengis.net/wmts/1.0", "ows": "http://www.opengis.net/ows/1.1"}
CAP = "/tiles/random-test/WMTSCapabilities.xml"


@pytest.fixture(scope="module")
def rreg(random_cube: Path) -> Registry:
    reg = Registry()
    reg.add(random_cube)
    return reg


def test_capabilities_list_layers_time_steps_and_matrices(rreg: Registry) -> None:
    with TestClient(create_tiles_app(rreg)) as c:
        r = c.get(CAP, params={"colormap_name": "viridis"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
        root = ET.fromstring(r.content)
        layers = root.findall("w:Contents/w:Layer", NS)
        ids = [layer.findtext("ows:Identifier", namespaces=NS) for layer in layers]
        assert ids[:2] == ["total", "power"] and "power_uncertainty" in ids and len(ids) == 15
        values = [v.text for v in layers[0].findall("w:Dimension/w:Value", NS)]
        assert values == ["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-01", "2024-02", "2024"]
        assert layers[0].findtext("w:Dimension/w:Default", namespaces=NS) == "2024-02-02"
        template = layers[1].find("w:ResourceURL", NS).get("template")
        assert "/tiles/random-test/WebMercatorQuad/{TileMatrix}/{TileCol}/{TileRow}.png?" in template
        assert "sector=power" in template and "date={Time}" in template and "colormap_name=viridis" in template
        assert f"v={version_token(rreg.get('random-test'))}" in template
        matrices = root.findall("w:Contents/w:TileMatrixSet/w:TileMatrix", NS)
        assert [m.findtext("ows:Identifier", namespaces=NS) for m in matrices][:3] == ["0", "1", "2"]
        assert matrices[1].findtext("w:MatrixWidth", namespaces=NS) == "2"
        tile = template.replace("{TileMatrix}", "1").replace("{TileCol}", "0").replace("{TileRow}", "0")
        assert c.get(tile.replace("{Time}", "2024-02")).status_code == 200
        assert c.get("/tiles/nope/WMTSCapabilities.xml").status_code == 404
        assert c.get(CAP, params={"colormap_name": "nope"}).status_code == 422


def _gdal_available() -> str | None:
    """Paths of gdalinfo/gdal_translate, installing Debian's gdal-bin if needed; None if impossible."""
    if shutil.which("gdalinfo") and shutil.which("gdal_translate"):
        return shutil.which("gdalinfo")
    if shutil.which("apt-get") is None:
        return None
    subprocess.run(["apt-get", "install", "-y", "-q", "gdal-bin"], capture_output=True, timeout=600, check=False)
    return shutil.which("gdalinfo")


@pytest.fixture(scope="module")
def live(rreg: Registry) -> Iterator[str]:
    server, thread, url = start_server(create_tiles_app(rreg))
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.e2e
def test_gdal_wmts_driver_opens_the_service_and_reads_a_tile(live: str, tmp_path: Path) -> None:
    if _gdal_available() is None:
        pytest.skip("GDAL's command-line tools are missing and apt-get is unavailable to install gdal-bin")
    src = f"WMTS:{live}{CAP}"
    info = subprocess.run(["gdalinfo", src], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert "SUBDATASET_1_NAME=" in info.stdout and "layer=total" in info.stdout
    one = subprocess.run(["gdalinfo", f"{src},layer=power"], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert "EPSG\",3857" in one.stdout and "Band 4" in one.stdout
    out = tmp_path / "tile.png"
    tr = subprocess.run(["gdal_translate", "-of", "PNG", "-srcwin", "0", "0", "256", "256",
                         f"{src},layer=total,zoom_level=1", str(out)], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert tr.returncode == 0, tr.stderr
    px = np.asarray(Image.open(out).convert("RGBA"))
    assert px.shape == (256, 256, 4)
    assert (px[..., 3] == 255).mean() > 0.2 and (px[..., 3] == 0).any()   # land-ish cells and empty poles
