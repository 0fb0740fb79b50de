"""Keep-alive connections recycled after a number of requests, so worker processes share the load.

`carbonmap serve --workers N` runs N processes on one listening socket; a client's keep-alive connection stays
with the process that accepted it.  Clients that connect together (a page's tile requests, a load test) split
unevenly between the processes, and the split then lasts: measured with 50 clients on 2 workers
(`bench/load.py`), one process ran at 83 % CPU and the other at 47 %, and the busy one's queue made the slow tail.
Answering the N-th request of a connection with ``Connection: close`` (nginx's ``keepalive_requests``) makes the
client reconnect, and a new connection is accepted by whichever process gets to it first: the less busy one.
"""

from __future__ import annotations

from cachetools import LRUCache
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ConnectionRecycleMiddleware:
    """Add ``Connection: close`` to every ``every``-th response of a client connection (HTTP/1.1)."""

    def __init__(self, app: ASGIApp, every: int) -> None:
        self.app = app
        self.every = max(1, int(every))
        self._served: LRUCache[tuple[str, int], int] = LRUCache(maxsize=65536)  # (client host, port) -> requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") if scope["type"] == "http" else None
        if client is None or scope.get("http_version") not in ("1.1", "1.0"):
            await self.app(scope, receive, send)
            return
        key = (str(client[0]), int(client[1]))
        n = self._served.get(key, 0) + 1
        last = n >= self.every
        if last:
            self._served.pop(key, None)  # the client will come back on a new connection (a new port)
        else:
            self._served[key] = n

        async def send_closing(message: Message) -> None:
            if last and message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_closing)
