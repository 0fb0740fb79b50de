"""The serving side's catalogue of cubes: dataset id -> a sealed store that carbonmap built.

Tiles and the API look datasets up here by id.  Clients never supply a path or URL; the
only paths come from settings or the ``serve --store`` option, read at start-up.

Releases: a store is a symlink to its current release (pipelines.store).  ``get(id)`` returns
the Cube of the release current *now* (re-checked with one ``readlink`` per call, so a server
picks up a published update without restarting, and every Cube object stays on one release);
``get(id, release="r0003")`` pins a past release (validated id, opened once, kept in a small
LRU).  ``Cube.release`` is the release id (use it in ETags and cache keys); ``Cube.path`` is the
resolved release directory; ``Cube.zarr_store`` is a read-only zarr Store of that release (the
``/zarr/`` route should read keys through it, which also works for object-store cubes).

Object-store datasets (``s3://bucket/prefix``): the pointer is the ``CURRENT`` object (one GET
per ``get(id)`` instead of the ``readlink``), ``Cube.path`` is the release prefix
``s3://bucket/prefix/releases/<id>`` and ``root(id)`` the store URL, which
``pipelines.releases`` (history, as-of, diff) accepts like a local path.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from cachetools import LRUCache

from carbonmap import contract as cc
from carbonmap.errors import NotFound
from carbonmap.settings import get_settings
from carbonmap.storage import cube as cube_store
from carbonmap.storage.cube import StoreError, open_cube
from carbonmap.storage.location import location


class DatasetNotFound(NotFound):
    """No dataset with that id is served here."""


class DateOutOfRange(NotFound):
    """A date the dataset does not cover."""


class ReleaseNotFound(NotFound):
    """No release with that id exists for the dataset (or the id is malformed)."""


@dataclass
class Cube:
    """One served dataset: its id, store path and the opened (Dask-free) dataset."""

    id: str
    path: Path | str
    """The release directory (resolved), or the release prefix URL on object storage."""
    ds: xr.Dataset
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    release: str | None = None
    """Release id (``r0001``...) this Cube reads; None for a store without releases."""
    root: Path | str | None = None
    """The store path the dataset was registered with (the symlink, or an s3:// URL)."""

    @cached_property
    def zarr_store(self):
        """A read-only zarr Store of exactly this release (local or object storage)."""
        return cube_store.zarr_store(self.path, read_only=True)

    @cached_property
    def grid(self) -> cc.Grid:
        return cc.Grid.from_coords(self.ds["lat"].values, self.ds["lon"].values)

    @cached_property
    def times(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.ds["time"].values)

    @cached_property
    def sectors(self) -> tuple[str, ...]:
        return tuple(str(s) for s in self.ds["sector"].values)

    @cached_property
    def countries(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.ds["country"].values)

    @property
    def attrs(self) -> dict:
        return dict(self.ds.attrs)

    @property
    def start(self) -> dt.date:
        return self.times[0].date()

    @property
    def end(self) -> dt.date:
        return self.times[-1].date()

    @cached_property
    def days(self) -> np.ndarray:
        """The time axis as ``datetime64[D]``, dims (time,)."""
        return self.times.values.astype("datetime64[D]")

    def day_index(self, day: dt.date) -> int:
        """Index of ``day`` on the time axis; DateOutOfRange with the covered range otherwise."""
        target = np.datetime64(day, "D")
        pos = int(np.searchsorted(self.days, target))
        if pos >= len(self.days) or self.days[pos] != target:
            raise DateOutOfRange(f"date {day.isoformat()} is outside dataset {self.id!r}, which covers "
                                 f"{self.start.isoformat()} to {self.end.isoformat()}")
        return int(pos)

    def check_period(self, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
        """``start``/``end`` (None: the dataset's own first/last day), checked: ContractError when end comes before
        start, DateOutOfRange when either lies outside the dataset; the messages say what to change."""
        start, end = start or self.start, end or self.end
        if end < start:
            raise cc.ContractError(f"end {end.isoformat()} is before start {start.isoformat()}; swap them or pick "
                                   "an end on or after the start")
        for name, day in (("start", start), ("end", end)):
            if not self.start <= day <= self.end:
                raise DateOutOfRange(f"{name} {day.isoformat()} is outside dataset {self.id!r}, which covers "
                                     f"{self.start.isoformat()} to {self.end.isoformat()}; pick dates in that range")
        return start, end

    def period_slice(self, start: dt.date, end: dt.date) -> slice:
        """Time slice for [start, end] inclusive; errors name the problem."""
        if end < start:
            raise cc.ContractError(f"end {end.isoformat()} is before start {start.isoformat()}")
        i0, i1 = self.day_index(start), self.day_index(end)
        return slice(i0, i1 + 1)

    def sector_indices(self, sectors: tuple[str, ...]) -> list[int]:
        return [self.sectors.index(cc.validate_sector(s, allow_total=False)) for s in sectors]

    def read_day(self, day: dt.date, sector: str, variable: str = cc.EMISSIONS_VAR) -> np.ndarray:
        """One day's field, dims (lat, lon): kg CO2 day-1 cell-1 (``total`` = sum of sectors)."""
        cc.validate_sector(sector)
        t = self.day_index(day)
        var = self.ds[variable]
        if sector == cc.TOTAL:
            if variable != cc.EMISSIONS_VAR:
                raise cc.ContractError("the total is defined for emissions only; pick a sector for uncertainty")
            return np.asarray(var.isel(time=t).values, dtype=np.float64).sum(axis=0)
        return np.asarray(var.isel(time=t, sector=self.sectors.index(sector)).values)


class Registry:
    """Dataset id -> Cube, filled once at start-up from trusted paths."""

    def __init__(self, cached_releases: int | None = None) -> None:
        """``cached_releases``: pinned past releases kept open (default ``Settings.registry_cached_releases``)."""
        self._cached_releases = cached_releases or get_settings().registry_cached_releases
        self._cubes: dict[str, Cube] = {}
        self._roots: dict[str, Path | str] = {}
        self._pinned: LRUCache[tuple[str, str], Cube] = LRUCache(maxsize=self._cached_releases)
        self._lock = threading.Lock()
        self._pointers: dict[str, tuple[float, str | None, float]] = {}
        """dataset id -> (monotonic time read, current release, seconds to trust it)."""

    @staticmethod
    def _open(root: Path | str, release: str | None) -> Cube:
        target = location(cube_store.release_path(root, release)).resolved().target
        ds = open_cube(target)
        return Cube(str(ds.attrs["carbonmap_dataset_id"]), target, ds,
                    release=ds.attrs.get(cube_store.RELEASE_ATTR), root=root)

    def add(self, path: Path | str) -> Cube:
        """Open a sealed store and serve it under the id recorded in its metadata."""
        root = location(path).absolute().target
        cube = self._open(root, None)
        with self._lock:
            self._cubes[cube.id] = cube
            self._roots[cube.id] = root
        return cube

    def get(self, dataset_id: str, release: str | None = None) -> Cube:
        """The dataset's Cube: its current release, or the pinned ``release``."""
        try:
            cube = self._cubes[dataset_id]
        except KeyError:
            known = ", ".join(sorted(self._cubes)) or "none"
            raise DatasetNotFound(f"unknown dataset {dataset_id!r}; served datasets: {known}") from None
        root = self._roots[dataset_id]
        if release is not None:
            return self._get_pinned(dataset_id, root, release)
        current = self._current(dataset_id, root) if cube.release else None
        if current is not None and current != cube.release:
            with self._lock:
                cube = self._cubes[dataset_id]
                if cube.release != current:
                    try:
                        cube = self._open(root, current)
                        self._cubes[dataset_id] = cube
                    except StoreError:
                        pass  # keep serving the release we have
        return cube

    def _current(self, dataset_id: str, root: Path | str) -> str | None:
        """The store's current release id, read again once its location's ``pointer_ttl_s`` has passed (a
        readlink every time locally; on object storage one GET of ``CURRENT`` per TTL, not per request)."""
        now = time.monotonic()
        seen = self._pointers.get(dataset_id)
        if seen is not None and now - seen[0] < seen[2]:
            return seen[1]
        current = cube_store.current_release(root)
        self._pointers[dataset_id] = (now, current, location(root).pointer_ttl_s)
        return current

    @staticmethod
    def _still_there(root: Path | str, release: str) -> bool:
        """The release's manifest still exists (one stat, or one HEAD on object storage).

        ``prune`` deletes the manifest first, so a cached Cube of a pruned release is never served:
        its missing shards would read as the fill value (zeros), not as an error."""
        return location(cube_store.release_location(root, release)).exists(cube_store.MANIFEST)

    def _get_pinned(self, dataset_id: str, root: Path | str, release: str) -> Cube:
        key = (dataset_id, release)
        with self._lock:
            cached = self._pinned.get(key)  # a hit is the most recently used
        if cached is not None:
            if self._still_there(root, release):
                return cached
            with self._lock:
                self._pinned.pop(key, None)
            raise ReleaseNotFound(f"release {release!r} of dataset {dataset_id!r} was deleted (pruned); "
                                  f"see /datasets/{dataset_id}/releases")
        try:
            cube = self._open(root, release)
        except StoreError as exc:
            raise ReleaseNotFound(str(exc)) from None
        with self._lock:
            self._pinned[key] = cube  # evicts the least recently used beyond cached_releases
        return cube

    def root(self, dataset_id: str) -> Path | str:
        """The registered store of a dataset, a local path or an ``s3://`` URL (str); both work with
        pipelines.releases (list_releases, release_as_of, diff) and pipelines.store."""
        self.get(dataset_id)
        return self._roots[dataset_id]

    def ids(self) -> list[str]:
        return sorted(self._cubes)

    def __len__(self) -> int:
        return len(self._cubes)

    @property
    def default_id(self) -> str | None:
        return self.ids()[0] if self._cubes else None
