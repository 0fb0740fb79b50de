"""The web map driven in headless Chromium (Debian's /usr/bin/chromium via Playwright's Python API).

The real server (``python -m api.serve``, uvicorn) serves a cube built by the real pipeline; the test
loads ``/``, checks that MapLibre rendered our tiles, moves the time slider, selects Germany through
the search box and compares the chart's numbers with ``GET /regions/DEU/emissions``, restores a
view from a shared link, checks that ``/docs`` renders offline, and asserts that no request left
127.0.0.1.  The screenshot goes to ``test-artifacts/map.png``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from tests.api.routes.live_server import live_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--use-gl=swiftshader",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
DATASET = "real-5deg"
DAYS = [f"2024-03-{d:02d}" for d in range(1, 11)]
LOCAL = re.compile(r"^(https?://127\.0\.0\.1:\d+/|blob:|data:|about:)")

if not CHROMIUM.is_file():
    pytest.skip(f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium); "
                "the browser test needs it and never downloads a browser", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")


@pytest.fixture(scope="module")
def server(real_cube: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server([real_cube], tmp_path_factory.mktemp("web-serve") / "server.log", start_timeout=180) as base:
        yield base


class Traffic:
    """Every request the browser made (pages and workers), and those that would have left 127.0.0.1."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.external: list[str] = []
        self.failed: list[str] = []

    def tiles(self) -> list[dict[str, list[str]]]:
        return [parse_qs(urlsplit(u).query) for u in self.urls if re.search(r"/tiles/[^/]+/WebMercatorQuad/\d+/", u)]

    def watch(self, context: sync_api.BrowserContext) -> None:
        """Record every request of ``context`` and let only local ones out (others are recorded and aborted)."""

        def guard(route: sync_api.Route) -> None:
            url = route.request.url
            if LOCAL.match(url):
                route.continue_()
            else:
                self.external.append(url)
                route.abort()

        context.route("**/*", guard)
        context.on("request", lambda r: self.urls.append(r.url))
        context.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))


@contextmanager
def chromium() -> Iterator[sync_api.Browser]:
    """Debian's headless chromium through playwright (never a downloaded browser), closed afterwards."""
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with chromium() as b:
        yield b


@pytest.fixture()
def page(browser: sync_api.Browser) -> Iterator[tuple[sync_api.Page, Traffic]]:
    context = browser.new_context(viewport={"width": 1400, "height": 860}, device_scale_factor=1)
    traffic = Traffic()
    traffic.watch(context)  # anything not local is recorded and never sent
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield pg, traffic
        assert not errors, f"JavaScript errors on the page: {errors}"
        assert not traffic.external, f"requests left 127.0.0.1: {traffic.external}"
    finally:
        context.close()


def wait_map_idle(pg: sync_api.Page, timeout: float = 60_000) -> None:
    """Until MapLibre has loaded the style and every visible tile (what its `idle` event means)."""
    pg.wait_for_function("() => { const c = window.carbonmap; return c && c.map.loaded() && c.map.areTilesLoaded() "
                         "&& !c.map.isMoving() && Number(document.body.dataset.idle || 0) > 0; }", timeout=timeout)


def warm_pixel_share(png: bytes) -> float:
    """Share of pixels drawn by the emissions colour ramp (inferno's reds/oranges/yellows).

    The basemap is dark blue-grey (#0a1624 sea, #1b2838 land, light grey borders): red above
    blue there, so counting pixels with R > 120 and R > B + 40 counts rendered emission tiles.
    """
    im = Image.open(io.BytesIO(png)).convert("RGB")
    px = im.getdata()
    warm = sum(1 for r, _g, b in px if r > 120 and r > b + 40)
    return warm / (im.width * im.height)


def test_map_renders_tiles_moves_in_time_and_charts_a_country(server: str, page: tuple) -> None:
    pg, traffic = page
    pg.goto(f"{server}/", wait_until="load")
    pg.wait_for_function("document.body.dataset.ready === 'true'", timeout=60_000)
    wait_map_idle(pg)

    # (a, b) our tiles rendered: tile requests for the default (last) day, and the canvas shows them
    assert pg.input_value("#dataset") == DATASET
    assert any(q.get("date") == [DAYS[-1]] and q.get("sector") == ["total"] for q in traffic.tiles()), traffic.urls
    share = warm_pixel_share(pg.locator("#map canvas").screenshot())
    assert share > 0.05, f"only {share:.1%} of the map canvas shows emissions"
    assert "kg CO2 per square kilometre per day" in pg.inner_text("#legend")

    # (c) the slider moves the map in time: keyboard on the range input, then the hash and tile URLs follow
    n_tiles_before = len(traffic.tiles())
    pg.focus("#day")
    pg.keyboard.press("Home")
    for _ in range(4):
        pg.keyboard.press("ArrowRight")
    pg.wait_for_function(f"location.hash.includes('date={DAYS[4]}')", timeout=10_000)
    pg.wait_for_function(f"document.body.dataset.tiles === '{DAYS[4]}|total'", timeout=10_000)
    wait_map_idle(pg)
    new_tiles = traffic.tiles()[n_tiles_before:]
    assert new_tiles and all(q["date"] == [DAYS[4]] for q in new_tiles[-4:]), new_tiles
    assert pg.get_attribute("#day", "aria-valuetext") == DAYS[4]

    # the sector picker changes the layer and the legend
    pg.select_option("#sector", "power")
    pg.wait_for_function("location.hash.includes('sector=power')", timeout=10_000)
    pg.wait_for_function(f"document.body.dataset.tiles === '{DAYS[4]}|power'", timeout=10_000)
    wait_map_idle(pg)
    assert traffic.tiles()[-1]["sector"] == ["power"]
    pg.select_option("#sector", "total")
    pg.wait_for_function(f"document.body.dataset.tiles === '{DAYS[4]}|total'", timeout=10_000)
    wait_map_idle(pg)

    # (d) search Germany; the chart's numbers equal the API's, day by day, to 1e-6 relative
    pg.fill("#search", "DEU")
    pg.press("#search", "Enter")
    pg.wait_for_function("document.querySelectorAll('#series-table tbody tr').length === 10", timeout=30_000)
    assert pg.inner_text("#selection-title") == "Germany (DEU)"
    rows = pg.eval_on_selector_all("#series-table tbody tr",
                                   "rs => rs.map(r => [r.dataset.date, +r.dataset.value, +r.dataset.lower, "
                                   "+r.dataset.upper])")
    api = httpx.get(f"{server}/regions/DEU/emissions", params={"dataset": DATASET, "freq": "day"}, timeout=60).json()
    assert [r[0] for r in rows] == [p["start"] for p in api["periods"]] == DAYS
    for (day, value, lower, upper), p in zip(rows, api["periods"], strict=True):
        want = p["total"]
        assert value == pytest.approx(want["emissions"], rel=1e-6), day
        assert lower == pytest.approx(want["lower"], rel=1e-6) and upper == pytest.approx(want["upper"], rel=1e-6)
        assert want["emissions"] > 0
    bars = dict(pg.eval_on_selector_all("#breakdown-list li", "ls => ls.map(l => [l.dataset.sector, +l.dataset.value])"))
    for sector, value in bars.items():
        want = sum(p["sectors"][sector]["emissions"] for p in api["periods"])
        assert value == pytest.approx(want, rel=1e-6), sector
    assert set(bars) == set(api["sectors"])
    chart_ink = pg.evaluate("() => { const c = document.getElementById('series-chart'); const d = c.getContext('2d')"
                            ".getImageData(0, 0, c.width, c.height).data; let n = 0; "
                            "for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n / (c.width * c.height); }")
    assert chart_ink > 0.02, "the chart canvas is (nearly) empty"
    assert "region=DEU" in pg.evaluate("location.hash")
    wait_map_idle(pg)
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "map.png"))

    # a drawn polygon: the area query when the server has it, otherwise a clear message in the panel
    probe = httpx.post(f"{server}/emissions/query", json={}, timeout=30)  # 422 if the route exists
    has_query = probe.status_code not in (404, 405)
    pg.click("#draw")
    box = pg.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-120, -80), (120, -80), (120, 80)):
        pg.mouse.click(cx + dx, cy + dy)
        pg.wait_for_timeout(150)
    pg.mouse.dblclick(cx - 120, cy + 80)
    pg.wait_for_function("document.getElementById('selection-title').textContent === 'Drawn area' && "
                         "!/^Summing/.test(document.getElementById('selection-status').textContent)", timeout=30_000)
    if has_query:
        rows = pg.eval_on_selector_all("#series-table tbody tr", "rs => rs.map(r => [r.dataset.date, +r.dataset.value])")
        assert [r[0] for r in rows] == DAYS and all(v >= 0 for _, v in rows), pg.inner_text("#selection-status")
    else:
        assert "/emissions/query" in pg.inner_text("#selection-status") and "not offer" in pg.inner_text("#selection-status")
    pg.screenshot(path=str(ARTIFACTS / "map-area.png"))

    # play steps through the days; pause stops
    before = pg.get_attribute("#day", "aria-valuetext")
    pg.click("#play")
    pg.wait_for_function(f"document.getElementById('day').getAttribute('aria-valuetext') !== '{before}'", timeout=15_000)
    pg.click("#play")
    assert pg.get_attribute("#play", "aria-pressed") == "false"


def test_shared_link_restores_the_view_and_docs_work_offline(server: str, page: tuple) -> None:
    pg, traffic = page
    pg.goto(f"{server}/#dataset={DATASET}&date={DAYS[2]}&sector=industry&z=3.5&lat=48.0&lon=8.0", wait_until="load")
    pg.wait_for_function("document.body.dataset.ready === 'true'", timeout=60_000)
    wait_map_idle(pg)
    assert pg.input_value("#sector") == "industry"
    assert pg.get_attribute("#day", "aria-valuetext") == DAYS[2]
    centre = pg.evaluate("() => { const m = window.carbonmap.map; const c = m.getCenter(); return [c.lng, c.lat, m.getZoom()]; }")
    assert centre == pytest.approx([8.0, 48.0, 3.5], abs=1e-3)
    last = traffic.tiles()[-1]
    assert last["date"] == [DAYS[2]] and last["sector"] == ["industry"]

    pg.goto(f"{server}/docs", wait_until="load")
    pg.wait_for_selector(".swagger-ui .opblock", timeout=60_000)
    assert "/regions/{iso3}/emissions" in pg.inner_text(".swagger-ui")
    assert not pg.locator(".swagger-ui .errors-wrapper").count(), pg.inner_text(".swagger-ui")
