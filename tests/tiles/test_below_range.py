"""Scattered power must not look like it is everywhere: on the default (data-derived) scale, values below the
range's low end are transparent; an explicit ``rescale`` keeps clamping them to the lowest colour.

Checked pixel by pixel on the real test cube (``real_cube``: the real pipeline, 5 degrees, 2024-03-01..10),
against the cube's own power density read straight from the store.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from carbonmap.registry import Registry
from tiles import colormap as cm
from tiles.app import create_tiles_app
from tiles.reader import density

DAY = dt.date(2024, 3, 5)
Z = 2
"""Zoom of the checked tiles: 1024 px around the world, a 5 degree cell spans ~14 px."""


@pytest.fixture(scope="module")
def real(real_cube: Path) -> Iterator[tuple[TestClient, Registry]]:
    reg = Registry()
    reg.add(real_cube)
    with TestClient(create_tiles_app(reg)) as client:
        yield client, reg


def _pixel(lon: float, lat: float) -> tuple[int, int]:
    """Global Web Mercator pixel (x, y) of a point at zoom Z (256 px tiles)."""
    n = 256 * 2 ** Z
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2
    return int((lon + 180) / 360 * n), int(y * n)


def _alpha_at_cells(client: TestClient, ds: str, params: dict[str, str], lat: np.ndarray, lon: np.ndarray,
                    cells: list[tuple[int, int]]) -> list[int]:
    """Alpha of the tile pixel at the centre of each (row, col) cell of the grid."""
    tiles: dict[tuple[int, int], np.ndarray] = {}
    out = []
    for i, j in cells:
        px, py = _pixel(float(lon[j]), float(lat[i]))
        key = (px // 256, py // 256)
        if key not in tiles:
            r = client.get(f"/tiles/{ds}/WebMercatorQuad/{Z}/{key[0]}/{key[1]}.png", params=params)
            assert r.status_code == 200, r.text
            tiles[key] = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
        out.append(int(tiles[key][py % 256, px % 256, 3]))
    return out


def test_power_below_the_default_low_end_is_transparent_above_it_opaque(real: tuple[TestClient, Registry]) -> None:
    client, reg = real
    ds = reg.ids()[0]
    cube = reg.get(ds)
    leg = client.get(f"/tiles/{ds}/legend", params={"sector": "power"}).json()
    vmin, vmax = leg["rescale"]
    assert leg["below"] == "not drawn" and leg["below_label"].startswith(f"below {cm.readable(vmin)} ")
    field = density(cube.read_day(DAY, "power"), cube.grid)  # kg CO2 km-2 day-1, (lat, lon)
    lat, lon = cube.grid.lat, cube.grid.lon
    inside = (np.abs(lat) < 80)[:, None] & np.ones(field.shape, bool)  # Web Mercator's reach, clear of the pole
    dust = np.argwhere(inside & (field > 0) & (field < 0.9 * vmin))
    shown = np.argwhere(inside & (field > 1.1 * vmin))
    zero = np.argwhere(inside & (field == 0))
    # the real field has all three: downscaling dust below the low end, plants above it, and empty cells
    assert len(dust) >= 5 and len(shown) >= 5 and len(zero) >= 5, (len(dust), len(shown), len(zero))
    cells = [tuple(c) for c in (*dust, *shown, *zero[:50])]
    params = {"date": DAY.isoformat(), "sector": "power"}
    alpha = dict(zip(cells, _alpha_at_cells(client, ds, params, lat, lon, cells), strict=True))
    assert [c for c in map(tuple, dust) if alpha[c] != 0] == []      # dust: not drawn
    assert [c for c in map(tuple, shown) if alpha[c] != 255] == []   # above the low end: drawn
    assert [c for c in map(tuple, zero[:50]) if alpha[c] != 0] == []  # zero stays transparent
    # an explicit rescale (the same numbers) keeps today's clamping: the dust takes the lowest colour
    clamped = {**params, "rescale": f"{vmin},{vmax}"}
    assert client.get(f"/tiles/{ds}/legend", params={**clamped, "sector": "power"}).json()["below"] == "lowest colour"
    dust_cells = [tuple(c) for c in dust]
    assert set(_alpha_at_cells(client, ds, clamped, lat, lon, dust_cells)) == {255}


def test_default_scale_says_below_is_not_drawn_in_tilejson_wmts_and_png(real: tuple[TestClient, Registry]) -> None:
    client, reg = real
    ds = reg.ids()[0]
    tj = client.get(f"/tiles/{ds}/WebMercatorQuad/tilejson.json", params={"sector": "power"}).json()
    lo = cm.readable(tj["carbonmap"]["rescale"][0])
    assert tj["carbonmap"]["below"] == "not drawn" and f"below {lo}: not drawn" in tj["description"]
    tj = client.get(f"/tiles/{ds}/WebMercatorQuad/tilejson.json",
                    params={"sector": "power", "rescale": "1,1000"}).json()
    assert tj["carbonmap"]["below"] == "lowest colour" and "not drawn" not in tj["description"]
    xml = client.get(f"/tiles/{ds}/WMTSCapabilities.xml").text
    assert xml.count("are not drawn (transparent)") == 8  # total + 7 sectors; not the uncertainty layers
    assert "not drawn" not in client.get(f"/tiles/{ds}/WMTSCapabilities.xml", params={"rescale": "1,1000"}).text
    # uncertainty keeps its fixed 0..1 scale
    assert client.get(f"/tiles/{ds}/legend", params={"sector": "power", "variable": "uncertainty"}
                      ).json()["below"] == "lowest colour"
    # the PNG legend draws the extra line only when values below are hidden
    pngs = [np.asarray(Image.open(io.BytesIO(client.get(f"/tiles/{ds}/legend", params={
        "sector": "power", "format": "png", **extra}).content)).convert("RGBA")) for extra in ({}, {"rescale": "1,1000"})]
    assert pngs[0].shape[:2] == (cm.LEGEND_PNG_SIZE[1], cm.LEGEND_PNG_SIZE[0]) == pngs[1].shape[:2]
    last_line = [(p[60:, :, :3].min(axis=2) < 80).sum() for p in pngs]
    assert last_line[0] > 100 and last_line[1] == 0


def test_to_indices_hides_below_vmin_only_when_asked() -> None:
    v = np.array([0.0, 0.0005, 0.001, 0.002, 10.0, 1e9, np.nan])
    hide = cm.ColorScale("log", 0.001, 1000.0, "inferno", hide_below=True)
    clamp = cm.ColorScale("log", 0.001, 1000.0, "inferno")
    assert cm.to_indices(v, hide).tolist() == [0, 0, 1, cm.to_indices(v, clamp)[3], *cm.to_indices(v, clamp)[4:6], 0]
    assert cm.to_indices(v, clamp).tolist()[:3] == [0, 1, 1]
    assert hide.key() != clamp.key()  # different tiles, different ETags and cache entries
    assert cm.legend(clamp, units="u", long_units="u")["below"] == "lowest colour"
    leg = cm.legend(hide, units="u", long_units="u")
    assert leg["below"] == "not drawn" and leg["below_label"] == "below 0.001 u: not drawn"
