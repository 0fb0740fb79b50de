"""Small HTTP client for the publishers' credentialed APIs (CDS, CDSE, ENTSO-E): secrets, retries, clear errors.

File downloads go through :func:`ingest.download.fetch` (cache, checksums); this module does the API
calls around them (search, submit, poll).  Credentials come only from :class:`carbonmap.settings.Settings`
(:func:`secret`) and are never echoed in an error message (``redact``).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from carbonmap.settings import Settings
from ingest.base import IngestError
from ingest.download import USER_AGENT, Transient, transient_or_raise, with_retries


class APIHTTPError(IngestError):
    """The API answered with an HTTP error; ``status`` and ``body`` say which."""

    def __init__(self, message: str, status: int, body: bytes) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def secret(setting: str, what: str, *, settings: Settings) -> str:
    """The value of the SecretStr setting ``setting`` of the caller's ``settings``; IngestError naming it (and its
    env var) when unset."""
    value = getattr(settings, setting)
    if value is None or not value.get_secret_value():
        raise IngestError(f"{what} needs a credential: set the setting {setting!r} "
                          f"(environment variable CARBONMAP_{setting.upper()} or .env)")
    return str(value.get_secret_value())


def with_params(url: str, params: Mapping[str, str | int] | None) -> str:
    """``url`` with ``params`` appended as an encoded query string."""
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params, safe=",:'()/")


def _safe(text: str, redact: Sequence[str]) -> str:
    for s in redact:
        if s:
            text = text.replace(s, "***").replace(urllib.parse.quote(s, safe=""), "***")
    return text


def request(url: str, *, params: Mapping[str, str | int] | None = None, headers: Mapping[str, str] | None = None,
            method: str = "GET", json_body: Any = None, retries: int = 3, backoff_s: float = 1.0,
            timeout_s: float = 60.0, redact: Sequence[str] = ()) -> bytes:
    """The response body of one API call; retried on network errors and HTTP 5xx/429.

    Raises :class:`APIHTTPError` on other HTTP errors (401/403 say the credential was refused) and
    IngestError ("are you offline?") when the server cannot be reached after ``retries`` attempts.
    """
    full = with_params(url, params)
    shown = _safe(full, redact)
    data = None if json_body is None else json.dumps(json_body).encode()
    hdrs = {"User-Agent": USER_AGENT, "Accept": "application/json, application/xml;q=0.9, */*;q=0.5", **(headers or {})}
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    def client_error(e: httpx.HTTPStatusError) -> Exception:
        code, reason, body = e.response.status_code, e.response.reason_phrase, e.response.content or b""
        if code in (401, 403):
            return APIHTTPError(f"{shown} answered HTTP {code} {reason}: the credential was refused "
                                f"(expired or wrong token?)", code, body)
        detail = _safe(body[:400].decode("utf-8", "replace"), redact)
        return APIHTTPError(f"{shown} answered HTTP {code} {reason}: {detail}", code, body)

    def attempt() -> bytes:
        try:
            resp = httpx.request(method, full, content=data, headers=hdrs, timeout=timeout_s, follow_redirects=True)
            resp.raise_for_status()
            return bytes(resp.content)
        except (httpx.HTTPError, OSError) as e:
            raise transient_or_raise(e, client_error) from None

    try:
        return with_retries(attempt, retries=retries, backoff_s=backoff_s)
    except Transient as e:
        raise IngestError(f"could not reach {shown} after {max(1, retries)} attempts "
                          f"({_safe(str(e.cause), redact)}); are you offline?") from None


def request_json(url: str, **kw: Any) -> Any:
    """:func:`request`, parsed as JSON (IngestError if the body is not JSON)."""
    body = request(url, **kw)
    try:
        return json.loads(body)
    except json.JSONDecodeError as e:
        raise IngestError(f"{_safe(url, kw.get('redact', ()))} did not answer JSON ({e}): "
                          f"{body[:200]!r}") from e
