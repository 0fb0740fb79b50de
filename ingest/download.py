"""Download helper: real URL -> local cache, sha256-checked, with retries and a clear offline error.

Files land in ``Settings.cache_dir / "downloads" / <source> / <file name>``.  A file already in the
cache with the right sha256 is not fetched again.  When no sha256 is known in advance, the first
download records it in a ``<file>.sha256`` sidecar and later uses are checked against it.
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path

from carbonmap.contract import sha256_file
from carbonmap.settings import get_settings
from ingest.base import IngestError

USER_AGENT = "carbonmap-ingest/0.1 (+https://github.com/carbonmap)"


def cache_path(source: str, url: str, filename: str | None = None) -> Path:
    """Where the download of ``url`` for ``source`` is cached."""
    name = filename or url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    if not name or "/" in name or name in {".", ".."}:
        raise IngestError(f"cannot derive a cache file name from URL {url!r}; pass filename=")
    return get_settings().cache_dir / "downloads" / source / name


def _check(path: Path, sha256: str | None) -> bool:
    """True if ``path`` exists and matches ``sha256`` (or its recorded sidecar)."""
    if not path.exists():
        return False
    side = path.with_name(path.name + ".sha256")
    expected = sha256 or (side.read_text().strip() if side.exists() else None)
    return expected is None or sha256_file(path) == expected


def fetch(url: str, *, source: str, sha256: str | None = None, filename: str | None = None,
          retries: int = 3, backoff_s: float = 1.0, timeout_s: float = 60.0,
          headers: Mapping[str, str] | None = None, digest: tuple[str, str] | None = None) -> Path:
    """Download ``url`` into the cache (or reuse the cached copy) and return its path.

    ``headers`` are sent with the request (e.g. an ``Authorization`` header; never part of the cache
    name).  ``digest`` is a publisher checksum other than sha256, ``(hashlib algorithm, hex)``, e.g.
    ``("md5", "...")``; it is checked on the temporary file before it enters the cache.

    Raises IngestError when the server cannot be reached after ``retries`` attempts (offline), when it
    answers with an HTTP error, or when the bytes do not match ``sha256`` / ``digest``.
    """
    dest = cache_path(source, url, filename)
    if _check(dest, sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    last: Exception | None = None
    for attempt in range(1, max(1, retries) + 1):
        tmp = dest.with_name(f".{dest.name}.part-{uuid.uuid4().hex[:8]}")
        try:
            req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
            with urllib.request.urlopen(req, timeout=timeout_s) as resp, open(tmp, "wb") as out:
                while chunk := resp.read(1 << 20):
                    out.write(chunk)
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
            os.replace(tmp, dest)
            dest.with_name(dest.name + ".sha256").write_text(got + "\n")
            return dest
        except urllib.error.HTTPError as e:
            last = e
            if 400 <= e.code < 500:  # not transient
                raise IngestError(f"{url} answered HTTP {e.code} {e.reason}; check the URL or the period") from e
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            last = e
        finally:
            tmp.unlink(missing_ok=True)
        if attempt < retries:
            time.sleep(backoff_s * 2 ** (attempt - 1))
    raise IngestError(
        f"could not download {url} after {retries} attempts ({last}); are you offline? "
        f"Put the file at {dest} or pass it with --file"
    )
