"""The download helper against a real local HTTP server (no mocks)."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from carbonmap.settings import get_settings
from ingest.base import IngestError
from ingest.download import cache_path, fetch


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    root = tmp_path / "www"
    root.mkdir()
    hits: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            hits.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, hits
    httpd.shutdown()
    httpd.server_close()


def test_fetch_caches_and_checks_sha(server, tmp_cache: Path) -> None:
    base, root, hits = server
    body = b"Country,Year\nA,2000\n"
    (root / "f.csv").write_bytes(body)
    sha = hashlib.sha256(body).hexdigest()
    p = fetch(f"{base}/f.csv", source="t", settings=get_settings(), sha256=sha)
    assert p == cache_path("t", f"{base}/f.csv", settings=get_settings()) and p.read_bytes() == body
    assert p.is_relative_to(tmp_cache)
    n = len(hits)
    assert fetch(f"{base}/f.csv", source="t", settings=get_settings(), sha256=sha) == p
    assert len(hits) == n  # served from the cache


def test_sha_mismatch_refused_and_nothing_cached(server, tmp_cache: Path) -> None:
    base, root, _ = server
    (root / "g.csv").write_bytes(b"changed")
    with pytest.raises(IngestError, match="expected 0{64}"):
        fetch(f"{base}/g.csv", source="t", settings=get_settings(), sha256="0" * 64, retries=1)
    assert not cache_path("t", f"{base}/g.csv", settings=get_settings()).exists()


def test_http_404_is_clear(server, tmp_cache: Path) -> None:
    base, _, _ = server
    with pytest.raises(IngestError, match="answered HTTP 404"):
        fetch(f"{base}/missing.csv", source="t", settings=get_settings(), retries=1)


def test_offline_error_after_retries(tmp_cache: Path) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now
    with pytest.raises(IngestError, match=r"after 2 attempts .* are you offline\?"):
        fetch(f"http://127.0.0.1:{port}/x.csv", source="t", settings=get_settings(), retries=2, backoff_s=0.01, timeout_s=2)
