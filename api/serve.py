"""Run the API server: ``run(store_paths, host, port)`` (what ``carbonmap serve`` calls).

Also ``python -m api.serve --store PATH [--store PATH ...] --host H --port P`` for scripts and tests.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

import uvicorn

from api.app import create_app
from carbonmap.errors import InvalidInput
from carbonmap.registry import Registry
from carbonmap.settings import Settings, get_settings


class NothingToServe(InvalidInput):
    """No cube store was given or found."""


def store_paths_from(settings: Settings) -> list[Path]:
    """``settings.stores``, else every sealed ``*.zarr`` directory in ``settings.stores_dir``."""
    if settings.stores:
        return list(settings.stores)
    if settings.stores_dir.is_dir():
        return sorted(p for p in settings.stores_dir.glob("*.zarr") if (p / "zarr.json").is_file())
    return []


def build_registry(store_paths: Sequence[Path], settings: Settings | None = None) -> Registry:
    """Open each sealed store (``pipelines.store.StoreError`` if one is missing or unfinished)."""
    registry = Registry((settings or get_settings()).registry_cached_releases)
    for path in store_paths:
        registry.add(Path(path))
    return registry


def app_from_settings():  # -> FastAPI
    """The app for ``settings.stores`` (each worker process of a multi-worker server builds its own)."""
    settings = get_settings()
    return create_app(build_registry(store_paths_from(settings), settings), settings)


class _ServerOptions(TypedDict):
    """The ``uvicorn.run`` options shared by the one-process and the multi-worker server."""

    host: str
    port: int
    log_level: str
    proxy_headers: bool
    timeout_keep_alive: int


def run(store_paths: Sequence[Path] | None = None, host: str | None = None, port: int | None = None,
        settings: Settings | None = None, log_level: str = "info", workers: int | None = None) -> None:
    """Serve the given stores (default: from settings) on host:port (default: settings.host/port); blocks.

    ``workers`` (default ``settings.serve_workers``) > 1 runs that many uvicorn worker processes on one
    socket; the stores are checked here first, then handed to the workers as ``CARBONMAP_STORES``.
    Raises ``NothingToServe`` if there is no store, ``StoreError`` if a store is not a sealed cube.
    """
    settings = settings or get_settings()
    paths = list(store_paths) if store_paths else store_paths_from(settings)
    if not paths:
        raise NothingToServe(f"no dataset to serve: pass --store PATH or build one into {settings.stores_dir} "
                             "with `carbonmap build`")
    n = settings.serve_workers if workers is None else workers
    if n < 1:
        raise InvalidInput(f"--workers must be at least 1 (one per core is usual), got {n}")
    registry = build_registry(paths)  # fails here, with a clear message, before any worker starts
    common: _ServerOptions = {"host": host or settings.host, "port": port or settings.port, "log_level": log_level,
                              "proxy_headers": False, "timeout_keep_alive": settings.serve_keep_alive_s}
    if n == 1:
        uvicorn.run(create_app(registry, settings), workers=1, **common)
        return
    # worker processes re-read the settings from the environment: pass them the checked store paths
    os.environ["CARBONMAP_STORES"] = json.dumps([str(Path(p)) for p in paths])
    get_settings.cache_clear()
    # a worker imports the scientific stack and opens the stores before it answers the supervisor's
    # health check: give it a minute on a small machine instead of uvicorn's 5 s (else it is restarted)
    uvicorn.run("api.serve:app_from_settings", factory=True, workers=n, timeout_worker_healthcheck=60, **common)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api.serve", description="serve carbonmap cubes over HTTP")
    parser.add_argument("--store", action="append", type=Path, default=[], help="a sealed cube store (repeatable)")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: settings.serve_workers)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    try:
        run(args.store, args.host, args.port, log_level=args.log_level, workers=args.workers)
    except (ValueError, RuntimeError) as exc:  # NothingToServe, StoreError: a clear message, non-zero exit
        parser.exit(2, f"error: {exc}\n")


if __name__ == "__main__":
    main()
