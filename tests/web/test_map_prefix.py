"""The web map behind a reverse proxy that serves carbonmap under ``/carbonmap/`` (headless Chromium).

A small prefix-stripping proxy runs on 127.0.0.1 in the test (a threaded ``http.server``): it answers only
under ``/carbonmap/``, forwards the rest of the path to the real server (``python -m api.serve`` on the real
5 degree cube, run with ``CARBONMAP_TRUSTED_PROXIES=["127.0.0.1"]``) and adds ``X-Forwarded-Prefix``,
``-Host`` and ``-Proto``, as nginx or Traefik would.  A request the page makes from the host's root
(``/datasets``, ``/static/map.js``) gets the proxy's 404, as it would behind a real proxy.  The browser
loads ``/carbonmap/``; the test checks that the map renders tiles, the dataset list fills, a region search
through the catalogue finds and charts Bavaria, and that every request went to the proxy under the prefix
with no 404 (or other error) in the page's network log.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.web.test_map_page import CHROMIUM, DATASET, DAYS, Traffic, chromium, wait_map_idle, warm_pixel_share

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

if not CHROMIUM.is_file():
    pytest.skip(f"Debian chromium is not installed at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")

PREFIX = "/carbonmap"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "content-length", "host"}


class PrefixProxy(ThreadingHTTPServer):
    """Serves ``PREFIX/...`` by forwarding ``/...`` to ``upstream`` (host, port); anything else is 404.

    ``seen`` lists every path asked for (with the query), ``outside`` those not under the prefix."""

    daemon_threads = True

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.seen: list[str] = []
        self.outside: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ProxyHandler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(BaseHTTPRequestHandler):
    server: PrefixProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def forward(self) -> None:
        with self.server.lock:
            self.server.seen.append(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.path != PREFIX and not self.path.startswith((PREFIX + "/", PREFIX + "?")):
            with self.server.lock:
                self.server.outside.append(self.path)
            self.reply(404, [("Content-Type", "text/plain")], b"not under " + PREFIX.encode() + b"/\n")
            return
        if self.path == PREFIX or self.path.startswith(PREFIX + "?"):  # nginx: location /carbonmap/ redirects
            self.reply(301, [("Location", PREFIX + "/" + self.path[len(PREFIX):])], b"")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers.update({"X-Forwarded-Prefix": PREFIX, "X-Forwarded-Host": f"127.0.0.1:{self.server.server_address[1]}",
                        "X-Forwarded-Proto": "http"})
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=120)
        try:
            conn.request(self.command, self.path[len(PREFIX):], body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            self.reply(r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in HOP_BY_HOP], data)
        finally:
            conn.close()

    def reply(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_HEAD = forward


@pytest.fixture(scope="module")
def proxied(real_cube: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, PrefixProxy]]:
    """(the public URL ``http://127.0.0.1:<proxy>/carbonmap``, the proxy) in front of a real server."""
    from tests.api.routes.live_server import live_server

    env = {"CARBONMAP_TRUSTED_PROXIES": json.dumps(["127.0.0.1"])}
    with live_server([real_cube], tmp_path_factory.mktemp("web-prefix") / "server.log", env_extra=env,
                     start_timeout=180) as base:
        up = urlsplit(base)
        proxy = PrefixProxy((str(up.hostname), int(up.port or 80)))
        thread = threading.Thread(target=proxy.serve_forever, daemon=True)
        thread.start()
        try:
            yield proxy.base + PREFIX, proxy
        finally:
            proxy.shutdown()
            proxy.server_close()
            thread.join(timeout=10)


def test_map_works_behind_a_prefix_stripping_proxy(proxied: tuple[str, PrefixProxy]) -> None:
    public, proxy = proxied
    traffic = Traffic()
    bad: list[str] = []  # responses >= 400 the page got
    errors: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 860}, device_scale_factor=1)
        traffic.watch(context)
        context.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        pg = context.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        try:
            pg.goto(f"{public}/", wait_until="load")
            pg.wait_for_function("document.body.dataset.ready === 'true'", timeout=90_000)
            wait_map_idle(pg, timeout=90_000)

            # the page, its scripts and styles came from under the prefix: <base> says so
            assert pg.evaluate("document.baseURI") == f"{public}/"
            # the dataset list filled from /carbonmap/datasets, the About link points under the prefix
            options = pg.eval_on_selector_all("#dataset option", "os => os.map(o => o.value)")
            assert DATASET in options and pg.input_value("#dataset") == DATASET
            assert pg.get_attribute("#dataset-link", "href") == f"{public}/datasets/{DATASET}"
            assert pg.evaluate("document.querySelector('a[href=\"docs\"]').href") == f"{public}/docs"
            assert "kg CO2 per square kilometre per day" in pg.inner_text("#legend")

            # the tiles: the TileJSON's absolute template names the proxy and the prefix, and they drew
            tiles = [u for u in traffic.urls if "/WebMercatorQuad/" in u and "tilejson" not in u]
            assert tiles and all(u.startswith(f"{public}/tiles/{DATASET}/WebMercatorQuad/") for u in tiles), tiles[:5]
            assert any(q.get("date") == [DAYS[-1]] for q in traffic.tiles())
            share = warm_pixel_share(pg.locator("#map canvas").screenshot())
            assert share > 0.05, f"only {share:.1%} of the map canvas shows emissions"

            # a region search through the catalogue (GET /carbonmap/regions?q=), then its shape and series
            pg.fill("#search", "Bayern")
            pg.press("#search", "Enter")
            pg.wait_for_function("document.querySelectorAll('#series-table tbody tr').length === 10", timeout=60_000)
            assert "Bayern" in pg.inner_text("#selection-title") or "Bavaria" in pg.inner_text("#selection-title")
            assert any(urlsplit(u).path == f"{PREFIX}/regions" and "q=Bayern" in u for u in traffic.urls)
            assert any(urlsplit(u).path.startswith(f"{PREFIX}/regions/") for u in traffic.urls), traffic.urls
            # the hash still writes onto the page's own URL (a bare "#..." would resolve against <base>)
            assert pg.evaluate("location.pathname") == f"{PREFIX}/" and "dataset=" in pg.evaluate("location.hash")
            wait_map_idle(pg, timeout=60_000)
        finally:
            context.close()

    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not traffic.external, f"requests left 127.0.0.1: {traffic.external}"
    assert not proxy.outside, f"requests outside {PREFIX}/ (they 404 behind a real proxy): {proxy.outside}"
    assert not bad, f"error responses in the page's network log: {bad}"
    # MapLibre cancels tiles it no longer needs when the map flies (net::ERR_ABORTED); nothing else may fail
    assert not [f for f in traffic.failed if "ERR_ABORTED" not in f], traffic.failed
    # the browser only ever talked to the proxy, under the prefix (blob:/data: aside)
    http_urls = [u for u in traffic.urls if u.startswith("http")]
    assert http_urls and all(u.startswith(f"{public}/") for u in http_urls), \
        [u for u in http_urls if not u.startswith(f"{public}/")]
    assert any(p.startswith(f"{PREFIX}/static/map.js") for p in proxy.seen)
    assert any(p.startswith(f"{PREFIX}/static/basemap/countries.geojson") for p in proxy.seen)
    assert any(p.startswith(f"{PREFIX}/tiles/{DATASET}/legend") for p in proxy.seen)
