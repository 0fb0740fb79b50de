"""Object storage for cube stores (``s3://bucket/prefix``) through obstore.

Only URLs with a scheme in :data:`SCHEMES` are remote; everything else is a local path.
The endpoint, region and credentials come from Settings (``CARBONMAP_S3_*``); when the key
settings are empty obstore falls back to the standard AWS environment/instance credentials.
Dask workers build their own store objects from their own settings, so a remote cluster's
workers need the same ``CARBONMAP_S3_*`` environment.
"""

from __future__ import annotations

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


def zarr_store(url: str, read_only: bool = False) -> Any:
    """A zarr 3 ``ObjectStore`` rooted at ``url``."""
    from zarr.storage import ObjectStore

    return ObjectStore(object_store(url), read_only=read_only)


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


def list_keys(url: str) -> list[str]:
    """Every object key under ``url`` (relative to it)."""
    keys: list[str] = []
    for batch in obstore.list(object_store(url)):
        keys.extend(str(m["path"]) for m in batch)
    return keys


def delete_prefix(url: str) -> None:
    """Delete every object under ``url``."""
    store = object_store(url)
    keys = list_keys(url)
    for i in range(0, len(keys), 500):
        obstore.delete(store, keys[i:i + 500])
