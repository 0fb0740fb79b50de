"""Object storage for cube stores (``s3://bucket/prefix``) through obstore.

Only URLs with a scheme in :data:`SCHEMES` are remote; everything else is a local path.
The endpoint, region and credentials come from Settings (``CARBONMAP_S3_*``); when the key
settings are empty obstore falls back to the standard AWS environment/instance credentials.
Dask workers build their own store objects from their own settings, so a remote cluster's
workers need the same ``CARBONMAP_S3_*`` environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import obstore
from obstore.store import from_url

from carbonmap.settings import get_settings

SCHEMES = ("s3://",)


def is_remote(target: Any) -> bool:
    """True for an object-store URL (``s3://...``), False for a local path."""
    return isinstance(target, str) and target.startswith(SCHEMES)


def normalise(target: str | Path) -> str | Path:
    """A store target as given on the command line: ``s3://`` URLs as str (a Path would have
    collapsed ``s3://`` to ``s3:/``), anything else as a Path."""
    text = str(target)
    for scheme in SCHEMES:
        collapsed = scheme[:-1]  # "s3:/"
        if text.startswith(scheme):
            return text
        if text.startswith(collapsed):
            return scheme + text[len(collapsed):]
    return Path(target)


def join(url: str, key: str) -> str:
    return url.rstrip("/") + "/" + key.strip("/")


def _config() -> dict[str, Any]:
    s = get_settings()
    cfg: dict[str, Any] = {}
    if s.s3_endpoint_url:
        cfg["endpoint"] = s.s3_endpoint_url
        if s.s3_endpoint_url.startswith("http://"):  # a local S3-compatible server (tests, MinIO)
            cfg["client_options"] = {"allow_http": True}
    if s.s3_region:
        cfg["region"] = s.s3_region
    if s.s3_access_key_id:
        cfg["access_key_id"] = s.s3_access_key_id
    if s.s3_secret_access_key:
        cfg["secret_access_key"] = s.s3_secret_access_key.get_secret_value()
    return cfg


def object_store(url: str) -> Any:
    """An obstore store rooted at ``url`` (bucket + prefix)."""
    return from_url(url.rstrip("/"), **_config())


def read_text(url: str, key: str) -> str | None:
    """The object ``url/key`` as text, or None if it does not exist."""
    try:
        return bytes(obstore.get(object_store(url), key).bytes()).decode()
    except FileNotFoundError:
        return None


def write_text(url: str, key: str, text: str) -> None:
    """PUT ``text`` at ``url/key`` (a single atomic object write)."""
    obstore.put(object_store(url), key, text.encode())


def list_dirs(url: str, key: str) -> list[str]:
    """Names of the immediate 'directories' under ``url/key``."""
    result = obstore.list_with_delimiter(object_store(url), key.strip("/") + "/")
    return [Path(p.rstrip("/")).name for p in result["common_prefixes"]]


def list_keys(url: str, prefix: str | None = None) -> list[str]:
    """Every object key under ``url`` (or under ``url/prefix``), relative to ``url``."""
    keys: list[str] = []
    sub = prefix.strip("/") + "/" if prefix else None
    for batch in obstore.list(object_store(url), sub):
        keys.extend(str(m["path"]) for m in batch)
    return keys


def delete(url: str, keys: Sequence[str]) -> None:
    """Delete the objects ``url/<key>`` (missing ones are not an error)."""
    store = object_store(url)
    keys = list(keys)
    for i in range(0, len(keys), 500):
        obstore.delete(store, keys[i:i + 500])


def delete_prefix(url: str) -> None:
    """Delete every object under ``url``."""
    delete(url, list_keys(url))


COPY_THREADS = 16
"""Concurrent requests for server-side copies and batched reads (each is one small HTTP call)."""


def copy_keys(url: str, pairs: Iterable[tuple[str, str]]) -> int:
    """Server-side copy (S3 CopyObject: no bytes through this process) of ``url/src`` to ``url/dst``
    for each ``(src, dst)`` pair, overwriting; returns how many objects were copied."""
    store = object_store(url)
    pairs = list(pairs)
    with ThreadPoolExecutor(max_workers=COPY_THREADS) as pool:
        list(pool.map(lambda p: obstore.copy(store, p[0], p[1], overwrite=True), pairs))
    return len(pairs)


def read_texts(url: str, keys: Iterable[str]) -> dict[str, str]:
    """The objects ``url/<key>`` as text, fetched concurrently; missing keys are left out."""
    store = object_store(url)

    def one(key: str) -> tuple[str, str | None]:
        try:
            return key, bytes(obstore.get(store, key).bytes()).decode()
        except FileNotFoundError:
            return key, None

    with ThreadPoolExecutor(max_workers=COPY_THREADS) as pool:
        return {k: v for k, v in pool.map(one, list(keys)) if v is not None}


def write_texts(url: str, items: dict[str, str]) -> None:
    """PUT each ``text`` at ``url/<key>`` concurrently (each object written atomically)."""
    store = object_store(url)
    with ThreadPoolExecutor(max_workers=COPY_THREADS) as pool:
        list(pool.map(lambda kv: obstore.put(store, kv[0], kv[1].encode()), items.items()))
