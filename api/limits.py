"""Request-size guardrail: bodies over ``max_body_bytes`` get a 413 problem, never reach a route."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbonmap.problems import problem


class _TooLarge(Exception):
    """Raised inside ``receive`` once a streamed body passes the limit."""


class BodySizeLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with ``413 application/problem+json``.

    Checks ``Content-Length`` up front and counts streamed (chunked) bodies as they arrive, so a
    client cannot bypass the limit by omitting the header.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _response(self):
        return problem(413, f"the request body is larger than this server's limit of {self.max_bytes} bytes; "
                            "send a smaller body (for geometries: simplify them or split the region)",
                       "payload-too-large")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._response()(scope, receive, send)
                    return
        state = {"received": 0, "too_large": False, "started": False}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_bytes:
                    state["too_large"] = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            if state["too_large"]:
                return  # the app's own reaction (e.g. a 400 "error parsing the body") is replaced below
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            pass
        if state["too_large"] and not state["started"]:
            await self._response()(scope, receive, send)
