"""ASGI middleware so the service fits behind a reverse proxy: ``HEAD`` everywhere, trusted ``X-Forwarded-*``.

- :class:`HeadMiddleware`: a ``HEAD`` request runs as the ``GET`` of the same URL and answers with the
  same status and headers (``Content-Length`` included) and no body.  FastAPI routes declare ``GET``
  only, so without it every ``HEAD`` answered 405.  The body is computed and dropped (a HEAD of a large
  download costs what its GET costs; HTTP caches and link checkers mostly HEAD small documents).
- :class:`ForwardedHeadersMiddleware`: when the TCP peer is a trusted proxy (``Settings.trusted_proxies``:
  IP addresses or CIDR networks, ``*`` for any; empty = off, the default), ``X-Forwarded-Proto``
  (``http``/``https``), ``X-Forwarded-Host`` (``host[:port]``) and ``X-Forwarded-Prefix`` (a path such as
  ``/carbonmap`` that the proxy strips) become the request's scheme, ``Host`` and root path, so every
  absolute link the app builds from the request (STAC, TileJSON, WMTS, dataset links, paging links)
  says ``https://public-host/prefix/...``; root-relative JSON links (``links.releases``, ``href``) are built
  with :func:`public_path` so they keep the prefix too.  From an untrusted peer the headers are ignored: a client
  must not be able to make the server hand out links to another host.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ORIGINAL_METHOD = "carbonmap.original_method"
"""Scope key holding ``HEAD`` while a HEAD request runs as its GET (error messages name the method sent)."""
_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")
_PREFIX_RE = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")


class HeadMiddleware:
    """Answer ``HEAD`` as the ``GET`` of the same URL, without the body (RFC 9110 section 9.3.2).

    A route that serves ``HEAD`` itself (the Zarr endpoints) answers it; only when the app answers
    ``405`` to the ``HEAD`` is the request run again as a ``GET``, whose status and headers are sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        refused = False

        async def send_native(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 405:
                refused = True
            if not refused:
                await send(message)

        await self.app(scope, receive, send_native)
        if not refused:
            return
        finished = False

        async def send_head(message: Message) -> None:
            nonlocal finished
            if finished:
                return
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            # other body chunks, trailers, pathsend: nothing of them goes on the wire for HEAD

        # a copy: the server's own scope keeps "HEAD", so it frames the response as bodiless
        await self.app({**scope, "method": "GET", ORIGINAL_METHOD: "HEAD"}, receive, send_head)
        if not finished:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def public_path(request: HTTPConnection, path: str) -> str:
    """A root-relative link (``/datasets/...``) as the client must follow it: prefixed with the request's
    ``root_path`` (a trusted proxy's ``X-Forwarded-Prefix``, or the server's ``--root-path``), so that behind a
    proxy serving the app under ``/carbonmap`` the link reads ``/carbonmap/datasets/...``.  Anything that is
    not root-relative (absolute URLs, ``None``-like empty strings) is returned unchanged."""
    return public_root(request) + path if path.startswith("/") and not path.startswith("//") else path


def public_root(request: HTTPConnection) -> str:
    """The prefix the client sees the app under (``/carbonmap``; ``""`` at the host's root), no trailing slash."""
    return str(request.scope.get("root_path", "") or "").rstrip("/")


def public_links(request: HTTPConnection, links: dict[str, str]) -> dict[str, str]:
    """:func:`public_path` of every value of a ``links`` mapping."""
    return {k: public_path(request, v) for k, v in links.items()}


def parse_trusted(trusted: Iterable[str]) -> tuple[bool, list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    """(any peer trusted, the trusted networks) from ``Settings.trusted_proxies``; ValueError on a bad entry."""
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    anyone = False
    for entry in trusted:
        entry = entry.strip()
        if entry == "*":
            anyone = True
        elif entry:
            try:
                nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"trusted_proxies entry {entry!r} is not an IP address, a CIDR network or '*'; "
                                 "e.g. CARBONMAP_TRUSTED_PROXIES='[\"10.0.0.0/8\"]'") from None
    return anyone, nets


def _first(value: str) -> str:
    """The first (client-most) entry of a comma-separated forwarded header."""
    return value.split(",")[0].strip()


class ForwardedHeadersMiddleware:
    """Honour ``X-Forwarded-Proto``/``-Host``/``-Prefix`` from trusted proxies only (see the module docstring)."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str] = ()) -> None:
        self.app = app
        self.anyone, self.networks = parse_trusted(trusted)

    @property
    def enabled(self) -> bool:
        return self.anyone or bool(self.networks)

    def trusts(self, client: tuple[str, int] | None) -> bool:
        """True if the TCP peer ``client`` (host, port) is a trusted proxy."""
        if self.anyone:
            return True
        if not self.networks or not client:
            return False
        try:
            addr = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(addr in net for net in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.enabled or not self.trusts(scope.get("client")):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v.decode("latin-1") for k, v in scope["headers"]}
        scope = dict(scope)
        proto = _first(headers.get(b"x-forwarded-proto", "")).lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
        host = _first(headers.get(b"x-forwarded-host", ""))
        if host and _HOST_RE.match(host):
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"host"]
            scope["headers"].append((b"host", host.encode("latin-1")))
            port = int(host.rsplit(":", 1)[1]) if re.search(r":\d+$", host) else (443 if proto == "https" else 80)
            scope["server"] = (host.rsplit(":", 1)[0] if re.search(r":\d+$", host) else host, port)
        prefix = _first(headers.get(b"x-forwarded-prefix", "")).rstrip("/")
        if prefix and _PREFIX_RE.match(prefix):
            # ASGI: ``path`` includes ``root_path``; the public URL is the prefix + what the proxy sent on
            # (a proxy that forwards the prefix instead of stripping it: the path already starts with it)
            scope["root_path"] = prefix + scope.get("root_path", "")
            if scope["path"] != prefix and not scope["path"].startswith(prefix + "/"):
                scope["path"] = prefix + scope["path"]
                if scope.get("raw_path") is not None:
                    scope["raw_path"] = prefix.encode() + scope["raw_path"]
        await self.app(scope, receive, send)
