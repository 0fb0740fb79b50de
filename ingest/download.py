"""Download helper: real URL -> local cache, sha256-checked, with retries and a clear offline error.

Files land in ``Settings.cache_dir / "downloads" / <source> / <file name>``.  A file already in the
cache with the right sha256 is not fetched again.  When no sha256 is known in advance, the first
download records it in a ``<file>.sha256`` sidecar and later uses are checked against it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from carbonmap.atomic import atomic_path, write_bytes_atomic
from carbonmap.contract import sha256_file
from carbonmap.errors import CarbonmapError
from carbonmap.settings import Settings
from ingest.base import IngestError

USER_AGENT = "carbonmap-ingest/0.1 (+https://github.com/carbonmap)"
T = TypeVar("T")


class Transient(CarbonmapError):
    """A failure worth another attempt: the network, a timeout, HTTP 429 or 5xx. ``cause`` is the original."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def with_retries(attempt: Callable[[], T], *, retries: int, backoff_s: float) -> T:
    """``attempt()`` until it returns, retrying on :class:`Transient` with exponential backoff (tenacity):
    ``retries`` attempts in all, waits of ``backoff_s``, 2 x ``backoff_s``, ... Re-raises the last Transient."""
    for trial in Retrying(stop=stop_after_attempt(max(1, retries)), reraise=True,
                          wait=wait_exponential(multiplier=backoff_s, min=backoff_s, max=max(backoff_s, 60.0)),
                          retry=retry_if_exception_type(Transient)):
        with trial:
            return attempt()
    raise AssertionError("unreachable: tenacity re-raises the last failure")


def transient_or_raise(exc: Exception, on_client_error: Callable[[httpx.HTTPStatusError], Exception]) -> Exception:
    """Sort an httpx failure: network errors, 429 and 5xx become :class:`Transient`; other HTTP errors become
    ``on_client_error(exc)`` (raised at once, not retried)."""
    if isinstance(exc, httpx.HTTPStatusError):
        code = exc.response.status_code
        return Transient(exc) if code == 429 or code >= 500 else on_client_error(exc)
    return Transient(exc)


def store_download(path: Path, body: bytes) -> Path:
    """Keep a downloaded ``body`` at ``path`` in the cache: written atomically, with its ``.sha256`` sidecar."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, body)
    path.with_name(path.name + ".sha256").write_text(sha256_file(path) + "\n")
    return path


def cache_path(source: str, url: str, filename: str | None = None, *, settings: Settings) -> Path:
    """Where the download of ``url`` for ``source`` is cached (under the caller's ``settings.cache_dir``)."""
    name = filename or url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    if not name or "/" in name or name in {".", ".."}:
        raise IngestError(f"cannot derive a cache file name from URL {url!r}; pass filename=")
    return settings.cache_dir / "downloads" / source / name


def _check(path: Path, sha256: str | None) -> bool:
    """True if ``path`` exists and matches ``sha256`` (or its recorded sidecar)."""
    if not path.exists():
        return False
    side = path.with_name(path.name + ".sha256")
    expected = sha256 or (side.read_text().strip() if side.exists() else None)
    return expected is None or sha256_file(path) == expected


def fetch(url: str, *, source: str, sha256: str | None = None, filename: str | None = None,
          retries: int = 3, backoff_s: float = 1.0, timeout_s: float = 60.0,
          headers: Mapping[str, str] | None = None, digest: tuple[str, str] | None = None,
          settings: Settings) -> Path:
    """Download ``url`` into the cache (or reuse the cached copy) and return its path.

    ``settings``: the caller's (an adapter's ``self.settings``); the cache is under ``settings.cache_dir``.
    ``headers`` are sent with the request (e.g. an ``Authorization`` header; never part of the cache
    name).  ``digest`` is a publisher checksum other than sha256, ``(hashlib algorithm, hex)``, e.g.
    ``("md5", "...")``; it is checked on the temporary file before it enters the cache.

    Raises IngestError when the server cannot be reached after ``retries`` attempts (offline), when it
    answers with an HTTP error, or when the bytes do not match ``sha256`` / ``digest``.
    """
    dest = cache_path(source, url, filename, settings=settings)
    if _check(dest, sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)

    def client_error(e: httpx.HTTPStatusError) -> Exception:
        return IngestError(f"{url} answered HTTP {e.response.status_code} {e.response.reason_phrase}; "
                           "check the URL or the period")

    def attempt() -> Path:
        with atomic_path(dest) as tmp:  # renamed onto dest only if every check below passes
            try:
                with httpx.stream("GET", url, headers={"User-Agent": USER_AGENT, **(headers or {})},
                                  timeout=timeout_s, follow_redirects=True) as resp, open(tmp, "wb") as out:
                    resp.raise_for_status()
                    out.writelines(resp.iter_bytes(1 << 20))
            except (httpx.HTTPError, OSError) as e:
                raise transient_or_raise(e, client_error) from e
            got = sha256_file(tmp)
            if sha256 is not None and got != sha256.lower():
                raise IngestError(f"download of {url} has sha256 {got}, expected {sha256}; "
                                  f"the published file changed or the transfer was corrupted")
            if digest is not None:
                algo, want = digest
                h = hashlib.new(algo)
                with open(tmp, "rb") as f:
                    while block := f.read(1 << 20):
                        h.update(block)
                if h.hexdigest() != want.lower():
                    raise IngestError(f"download of {url} has {algo} {h.hexdigest()}, expected {want.lower()} "
                                      f"(publisher checksum); the transfer was corrupted")
        dest.with_name(dest.name + ".sha256").write_text(got + "\n")
        return dest

    try:
        return with_retries(attempt, retries=retries, backoff_s=backoff_s)
    except Transient as e:
        raise IngestError(
            f"could not download {url} after {max(1, retries)} attempts ({e.cause}); are you offline? "
            f"Put the file at {dest} or pass it with --file"
        ) from None
