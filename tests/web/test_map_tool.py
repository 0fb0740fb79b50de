"""The map as a tool (issue #17), driven in headless Chromium: regression tests for the map defects of the issue
and the new controls (period, target, roadmap, levers, exports, basemap, opacity, phone layout).

Same set-up as ``test_map_page.py``: the real server on the real 5 degree cube (2024-03-01..10), Debian's
chromium through Playwright, every request outside 127.0.0.1 recorded and refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import shapely

from tests.web.test_map_page import CHROMIUM, DATASET, DAYS, Traffic, chromium, wait_map_idle

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

if not CHROMIUM.is_file():
    pytest.skip(f"Debian chromium is not installed at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def server(real_cube: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from pipelines.timeseries import build_timeseries
    from tests.api.routes.live_server import live_server

    build_timeseries(real_cube)
    with live_server([real_cube], tmp_path_factory.mktemp("web-tool") / "server.log", start_timeout=180) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with chromium() as b:
        yield b


def open_page(browser: sync_api.Browser, width: int = 1400, height: int = 860, mobile: bool = False
              ) -> tuple[sync_api.BrowserContext, sync_api.Page, Traffic, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                  is_mobile=mobile, has_touch=mobile, accept_downloads=True)
    traffic = Traffic()
    traffic.watch(context)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    return context, pg, traffic, errors


@pytest.fixture()
def desk(browser: sync_api.Browser) -> Iterator[tuple[sync_api.Page, Traffic]]:
    context, pg, traffic, errors = open_page(browser)
    try:
        yield pg, traffic
        assert not errors, f"JavaScript errors on the page: {errors}"
        assert not traffic.external, f"requests left 127.0.0.1: {traffic.external}"
    finally:
        context.close()


def ready(pg: sync_api.Page, url: str) -> None:
    pg.goto(url, wait_until="load")
    pg.wait_for_function("document.body.dataset.ready === 'true'", timeout=60_000)
    wait_map_idle(pg)


def analysed(pg: sync_api.Page, title: str) -> None:
    """Until the panel shows ``title`` and its analysis (verdict, facilities) for that same region."""
    pg.wait_for_function("([t]) => document.getElementById('selection-title').textContent === t && "
                         "document.body.dataset.analysis === t", arg=[title], timeout=60_000)


def px(pg: sync_api.Page, lon: float, lat: float) -> tuple[float, float]:
    """Page pixel of (lon, lat) on the map."""
    box = pg.locator("#map").bounding_box()
    x, y = pg.evaluate("([lon, lat]) => { const p = window.carbonmap.map.project([lon, lat]); return [p.x, p.y]; }",
                       [lon, lat])
    return box["x"] + x, box["y"] + y


def test_readable_numbers_links_cells_and_the_about_panel(server: str, desk: tuple):
    """Defects: totals read '1.23e+4 Mt'; a link opened 'PL-7332' as the heading; a cell was labelled
    '-98.00°…-97.75°E'; the About panel showed raw '<https://…>'."""
    pg, _ = desk
    ready(pg, f"{server}/#dataset={DATASET}&region=WLD")
    analysed(pg, "World")
    status = pg.inner_text("#selection-status")
    assert re.search(r"\d{1,3}(,\d{3})+ Mt|\d+(\.\d+)? Mt", status) and not re.search(r"\de[+-]?\d", status), status
    assert not re.search(r"\de[+-]?\d", pg.inner_text("#legend")), pg.inner_text("#legend")
    about = pg.inner_text("#about")
    assert "<http" not in about
    assert pg.locator("#about a[href^='http']").count() >= 1

    place = httpx.get(f"{server}/regions", params={"q": "Shanghai", "type": "place"}).json()["regions"][0]
    ready(pg, f"{server}/#dataset={DATASET}&region={place['id']}")
    analysed(pg, place["name"])
    assert place["id"] not in pg.inner_text("#selection-title")

    pg.evaluate("window.carbonmap.map.jumpTo({center: [-97.9, 29.6], zoom: 5})")
    wait_map_idle(pg)
    pg.mouse.click(*px(pg, -97.9, 29.6))
    pg.wait_for_function("document.getElementById('cell-title').textContent.includes('°W')", timeout=10_000)
    cell = pg.inner_text("#cell-title")
    assert "°N" in cell and "-" not in cell.replace("–", ""), cell


def test_a_searched_city_stays_and_panels_never_go_stale(server: str, desk: tuple):
    """Defects: clicking inside a searched city replaced it with its country; a drawn polygon showed the
    country's plants; 'not found' still showed the previous verdict."""
    pg, _ = desk
    ua = httpx.get(f"{server}/regions", params={"q": "Houston", "type": "urban_area"}).json()["regions"][0]
    ready(pg, f"{server}/#dataset={DATASET}&region={ua['id']}")
    analysed(pg, ua["name"])
    inside = shapely.geometry.shape(httpx.get(f"{server}/regions/{ua['id']}").json()["geometry"]).representative_point()
    wait_map_idle(pg)
    pg.mouse.click(*px(pg, inside.x, inside.y))
    pg.wait_for_timeout(1500)
    assert pg.inner_text("#selection-title") == ua["name"]

    ready(pg, f"{server}/#dataset={DATASET}&region=FRA")
    analysed(pg, "France (FRA)")
    assert pg.locator("#facilities li").count() > 0
    pg.evaluate("window.carbonmap.map.jumpTo({center: [4.85, 45.75], zoom: 7})")
    wait_map_idle(pg)
    ring = [(4.3, 45.4), (5.4, 45.4), (5.4, 46.1), (4.3, 46.1)]
    pg.click("#draw")
    for lon, lat in ring[:-1]:
        pg.mouse.click(*px(pg, lon, lat))
        pg.wait_for_timeout(150)
    pg.mouse.dblclick(*px(pg, *ring[-1]))
    analysed(pg, "Drawn area")
    drawn = shapely.Polygon(ring)
    pts = pg.eval_on_selector_all("#facilities li[data-status='operating']", "ls => ls.map(l => [+l.dataset.lon, "
                                  "+l.dataset.lat, l.dataset.name])")
    assert pts, "no facilities listed for the drawn area"
    assert all(drawn.buffer(0.05).contains(shapely.Point(x, y)) for x, y, _ in pts), pts

    pg.fill("#search", "zzqxnotaplace")
    pg.press("#search", "Enter")
    pg.wait_for_function("document.getElementById('selection-title').textContent === 'Not found'", timeout=10_000)
    assert pg.locator("#analysis").is_hidden() and pg.locator("#facilities li").count() == 0
    assert "peak" not in pg.inner_text("#selection").lower()


def test_period_target_roadmap_levers_exports_opacity_and_basemap(server: str, desk: tuple):
    pg, traffic = desk
    ready(pg, f"{server}/#dataset={DATASET}&region=DEU")
    analysed(pg, "Germany (DEU)")
    # evidence and the data edge: in the panel and, for the picked sector, in the legend
    info = httpx.get(f"{server}/datasets/{DATASET}").json()
    assert "%" in pg.inner_text("#evidence")
    edge = info["data_edge"].get("DEU", {})
    if edge:
        sector = min(edge)
        pg.select_option("#sector", sector)
        pg.wait_for_function("([s]) => document.getElementById('legend').innerText.includes(s + ':')",
                             arg=[sector.replace("_", " ")], timeout=10_000)
        assert "after that" in pg.inner_text("#legend") and "after that" in pg.inner_text("#edge")
        pg.select_option("#sector", "total")

    # the period picker: the numbers follow it
    pg.fill("#period-start", DAYS[2])
    pg.fill("#period-end", DAYS[6])
    pg.click("#period-apply")
    pg.wait_for_function("document.querySelectorAll('#series-table tbody tr').length === 5", timeout=30_000)
    analysed(pg, "Germany (DEU)")
    api = httpx.get(f"{server}/regions/DEU/analysis", params={"start": DAYS[2], "end": DAYS[6]}).json()
    shown = float(pg.get_attribute("#selection-status", "data-total"))
    assert shown == pytest.approx(api["total"]["emissions_t"], rel=1e-9)
    assert f"start={DAYS[2]}" in pg.evaluate("location.hash")

    # a half-given target is refused with the API's sentence; a whole one gives the gap and the rate
    pg.select_option("#target-kind", "cut")
    pg.fill("#target-year", "2035")
    pg.fill("#cut-pct", "50")
    pg.fill("#base-year", "")
    pg.click("#target-apply")
    pg.wait_for_function("document.getElementById('target-result').textContent.includes('missing: base_year')",
                         timeout=30_000)
    pg.fill("#base-year", "1990")
    pg.click("#target-apply")
    pg.wait_for_function("document.getElementById('target-result').textContent.includes('against 1990')",
                         timeout=30_000)
    assert "a year" in pg.inner_text("#target-result")

    # the roadmap with a lever, its chart, its CSV
    pg.fill("#lever-electric_share_road", "50")
    pg.dispatch_event("#lever-electric_share_road", "input")
    pg.click("#pathway-run")
    pg.wait_for_function("document.querySelectorAll('#pathway-table tbody tr').length > 5", timeout=30_000)
    assert "electric" in pg.inner_text("#pathway-levers")
    href = pg.get_attribute("#pathway-csv", "href")
    csv = httpx.get(server + href if href.startswith("/") else href).text
    assert csv.startswith("dataset,release,region,year,sector,pathway_t,trend_t") and "electric_share_road" in href
    with pg.expect_download() as dl:
        pg.click("#export-csv")
    text = Path(dl.value.path()).read_text()
    assert text.splitlines()[0].startswith("region,period") and len(text.splitlines()) == 6
    with pg.expect_download() as dl:
        pg.click("#export-png")
    assert Path(dl.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the emissions layer's opacity, and the local basemap at city zoom
    pg.fill("#opacity", "0.3")
    pg.dispatch_event("#opacity", "input")
    assert pg.evaluate("window.carbonmap.map.getPaintProperty('emissions', 'raster-opacity')") == pytest.approx(0.3)
    pg.evaluate("window.carbonmap.map.jumpTo({center: [2.35, 48.86], zoom: 8})")
    wait_map_idle(pg)
    pg.wait_for_function("document.querySelectorAll('.place-label').length > 0", timeout=20_000)
    assert any("/static/basemap/admin1" in u for u in traffic.urls) and any("/static/basemap/urban" in u
                                                                              for u in traffic.urls)
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "map-tool.png"))


def test_phone_layout(server: str, browser: sync_api.Browser):
    context, pg, traffic, errors = open_page(browser, 390, 844, mobile=True)
    try:
        ready(pg, f"{server}/#dataset={DATASET}&region=DEU")
        analysed(pg, "Germany (DEU)")
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways ({width}px)"
        bar = pg.locator("#timebar").bounding_box()
        attrib = pg.locator(".maplibregl-ctrl-attrib").bounding_box()
        legend = pg.locator("#legend").bounding_box()

        def overlap(a: dict, b: dict) -> bool:
            return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                        or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])

        assert not overlap(bar, attrib), (bar, attrib)
        assert not overlap(bar, legend), (bar, legend)
        assert bar["x"] >= 0 and bar["x"] + bar["width"] <= 390
        side = pg.locator("#side").bounding_box()
        assert side["y"] >= pg.locator("#map-wrap").bounding_box()["y"] + 100  # the panel below the map
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "map-phone.png"), full_page=False)
        assert not errors and not traffic.external
    finally:
        context.close()
