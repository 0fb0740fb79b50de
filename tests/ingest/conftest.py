"""Shared fixtures of the ingest tests: the shipped data dir and an isolated cache dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from carbonmap.settings import get_settings


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return get_settings().data_dir


@pytest.fixture()
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point Settings.cache_dir at a fresh temporary directory."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CARBONMAP_CACHE_DIR", str(cache))
    get_settings.cache_clear()
    yield cache
    get_settings.cache_clear()


@pytest.fixture()
def publisher(tmp_cache: Path):
    """A real HTTP server on 127.0.0.1 imitating a publisher's API.

    Yields ``(base_url, routes, hits)``: set ``routes[(method, path)] = fn(query: dict, headers, body) ->
    (status, content_type, bytes)``; ``hits`` records ``(method, path, query, headers)`` of each request.
    """
    import http.server
    import threading
    import urllib.parse

    routes: dict = {}
    hits: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def _serve(self, method: str) -> None:
            u = urllib.parse.urlsplit(self.path)
            q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            hits.append((method, urllib.parse.unquote(u.path), q, dict(self.headers)))
            fn = routes.get((method, urllib.parse.unquote(u.path)))
            status, ctype, out = fn(q, self.headers, body) if fn else (404, "text/plain", b"not found")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", routes, hits
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def dead_url() -> str:
    """A 127.0.0.1 URL where nothing listens (connection refused)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture()
def set_settings(monkeypatch: pytest.MonkeyPatch):
    """Set CARBONMAP_* settings for one test: ``set_settings(cds_url=..., cds_api_key=...)``."""
    def _set(**kw: str) -> None:
        for k, v in kw.items():
            monkeypatch.setenv(f"CARBONMAP_{k.upper()}", v)
        get_settings.cache_clear()
    yield _set
    get_settings.cache_clear()
