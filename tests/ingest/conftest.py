"""Shared fixtures of the ingest tests: the shipped data dir and an isolated cache dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from carbonmap.settings import get_settings


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return get_settings().data_dir


@pytest.fixture()
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point Settings.cache_dir at a fresh temporary directory."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CARBONMAP_CACHE_DIR", str(cache))
    get_settings.cache_clear()
    yield cache
    get_settings.cache_clear()
