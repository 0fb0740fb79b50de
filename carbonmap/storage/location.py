"""Where a store (or a part of one) lives, behind one interface: a local directory or an object-store prefix.

:func:`location` is the one place that tells ``s3://bucket/prefix`` from a local path; everything else (the
cube's releases, the pyramid, the time-series layout, release files, the shard reader and writer) asks the
:class:`Location` it gets for keys, bytes, byte ranges, listings, copies and a Zarr store.  Keys are
``/``-separated and relative to the location.

Two things differ by nature and are named as such rather than hidden:

* renaming a tree is atomic on a file system and does not exist on object storage: :meth:`Location.staged`
  builds a tree beside its final place and renames it in (local), or writes it in place (object storage,
  where carbonmap only ever writes inside an unpublished release prefix, which readers never see);
* copying a tree is a hard-link copy locally (no bytes move) and a server-side copy on object storage.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from carbonmap.storage import remote

T = TypeVar("T")
R = TypeVar("R")

READ_BLOCK = 1 << 20
"""Bytes per block when an object is streamed (:meth:`Location.iter_range`)."""

RELEASE_RE = re.compile(r"^r\d{4,9}$")
"""A release id: ``r0001``, ``r0002``, ..."""

CURRENT = "CURRENT"
"""Object stores: the object naming the current release (the pointer a local store's symlink is)."""


class Location(ABC):
    """A directory-like place holding objects under keys."""

    url: str
    pointer_ttl_s: float = 0.0
    """Seconds a reader may trust the release pointer it read (:meth:`pointer`): 0 for a symlink (a readlink is
    free), ``Settings.s3_pointer_ttl_s`` on object storage (a GET per read)."""
    concurrent_reads: int = 1
    """Reads worth overlapping (the shard reader's threads): 1 on a local disk (a read costs microseconds), more on
    object storage (each read is a round trip)."""
    can_rename: bool = True
    """Whether a tree can be renamed into place atomically (a file system: yes; object storage: no, so writers
    stage there in place, inside a prefix readers do not see yet)."""

    @abstractmethod
    def child(self, key: str) -> Location:
        """The location ``key`` below this one."""

    @abstractmethod
    def sibling(self, name: str) -> Location:
        """The location ``name`` beside this one (same parent)."""

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def local_path(self) -> Path | None:
        """The directory on this machine, or None on object storage."""
        return None

    def absolute(self) -> Location:
        """This location with a relative local path made absolute (symlinks kept: a store is its pointer)."""
        return self

    def map_reads(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``[fn(i) for i in items]``, overlapped on :attr:`concurrent_reads` threads where reads are round trips
        (object storage); in order, here, on a local disk."""
        todo = list(items)
        if self.concurrent_reads <= 1 or len(todo) <= 1:
            return [fn(i) for i in todo]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(self.concurrent_reads, len(todo))) as pool:
            return list(pool.map(fn, todo))

    def resolved(self) -> Location:
        """This location with a local symlink followed (a store's pointer to its current release)."""
        return self

    @abstractmethod
    def read_bytes(self, key: str) -> bytes | None:
        """The object ``key``, or None if there is none."""

    def read_text(self, key: str) -> str | None:
        data = self.read_bytes(key)
        return None if data is None else data.decode()

    @abstractmethod
    def write_parts(self, key: str, parts: Sequence[bytes]) -> None:
        """Write the concatenation of ``parts`` as the object ``key``, atomically (readers see the old
        object or the new one; a new inode locally, so a hard-linked parent's file is never changed)."""

    def write_bytes(self, key: str, data: bytes) -> None:
        self.write_parts(key, [data])

    def write_text(self, key: str, text: str) -> None:
        """Write a small text object (a manifest, a marker) atomically and durably."""
        self.write_parts(key, [text.encode()])

    @abstractmethod
    def exists(self, key: str = "zarr.json") -> bool:
        """True if the object ``key`` exists."""

    @abstractmethod
    def size(self, key: str) -> int | None:
        """Bytes in the object ``key``, or None if there is none."""

    @abstractmethod
    def read_ranges(self, key: str, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """The byte ranges ``(offset, length)`` of the object ``key`` (one request per batch on object storage)."""

    @abstractmethod
    def read_suffix(self, key: str, length: int) -> tuple[int, bytes] | None:
        """(size, the last ``length`` bytes) of the object ``key`` in one request, or None if there is none."""

    @abstractmethod
    def stat(self, key: str) -> tuple[int, str] | None:
        """(size in bytes, a version token that changes when the object does) of the object ``key``, or None
        if there is none.  Locally only regular files inside this directory count (symlinks resolved; ``..``
        cannot leave it), so a client-given key never reaches another file."""

    @abstractmethod
    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) of the object ``key``, in blocks of at most ``READ_BLOCK``."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object ``key`` (missing is not an error)."""

    @abstractmethod
    def delete_tree(self) -> None:
        """Remove everything under this location."""

    @abstractmethod
    def list_keys(self) -> list[str]:
        """Every object key under this location, relative to it."""

    @abstractmethod
    def list_dirs(self) -> list[str]:
        """Names of the immediate sub-locations (directories / common prefixes)."""

    @property
    @abstractmethod
    def target(self) -> str | Path:
        """This location as a store target: a Path locally, the URL on object storage."""

    @abstractmethod
    def releases_root(self) -> Location:
        """Where the releases of the store rooted here live: ``<store>.releases`` beside a local store,
        ``<prefix>/releases`` inside an object-store prefix."""

    @abstractmethod
    def pointer(self) -> str | None:
        """The release name the store rooted here points at (a local symlink's target name, the ``CURRENT``
        object on object storage), or None."""

    @abstractmethod
    def current(self) -> Location | None:
        """Where the current release of the store rooted here is read: a local store itself (its symlink, or a
        legacy plain directory); on object storage the release prefix ``CURRENT`` names, or this location if
        it already is a release prefix; None when there is none."""

    @abstractmethod
    def set_pointer(self, release: str, sidecars: Sequence[tuple[str, str]] = ()) -> None:
        """Point the store rooted here at ``release`` atomically (a symlink swap; one PUT of ``CURRENT``).

        ``sidecars``: (link name, target name) of layouts that live beside a release (the time-series layout);
        a local store links ``<link>`` beside itself to ``<releases>/<target>`` (or drops a stale link when the
        release has none); object-store readers resolve the release first, so they need no such links."""

    @abstractmethod
    def move_to(self, dest: Location) -> None:
        """Rename this tree to ``dest`` (an atomic rename locally; nothing to move when there is no tree).  Object
        storage has no rename: carbonmap stages there in place, so asking for a move there is an error."""

    @abstractmethod
    def copy_tree_to(self, dest: Location) -> None:
        """Make ``dest`` hold a copy of this tree (hard links locally, server-side copies remotely); same kind."""

    @abstractmethod
    def upload(self, source: Path, key: str) -> None:
        """Copy the local file ``source`` to ``key`` (a hard link where it can be, locally)."""

    @abstractmethod
    def download(self, key: str, dest: Path) -> None:
        """Copy the object ``key`` to the local file ``dest`` (a hard link where it can be, locally)."""

    @abstractmethod
    def copy_object(self, key: str, dest: Location, dest_key: str) -> None:
        """Copy the object ``key`` to ``dest/dest_key`` (a hard link locally, a server-side copy remotely)."""

    @abstractmethod
    @contextmanager
    def workdir(self, last: str | None = None) -> Iterator[Path]:
        """A local directory for libraries that write files themselves (NetCDF, GeoTIFF, Parquet): this directory
        itself locally; a temporary one on object storage, whose files are uploaded here when the block ends
        without error (``last`` uploaded after all the others: a manifest that lists them)."""

    @abstractmethod
    def zarr_store(self, read_only: bool = False) -> Any:
        """A zarr 3 Store rooted here."""

    @abstractmethod
    @contextmanager
    def staged(self) -> Iterator[Location]:
        """A place to build this tree: the tree replaces this location when the block ends without error."""

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Location) and type(other) is type(self) and other.url == self.url

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.url))


def same_kind(here: Location, dest: Location) -> Any:
    if type(dest) is not type(here):
        raise TypeError(f"cannot copy {here} to {dest}: one is local, the other on object storage")
    return dest


def location(target: str | Path | Location) -> Location:
    """The :class:`Location` of a store target: an ``s3://`` URL or a local path (the one place that tells)."""
    if isinstance(target, Location):
        return target
    normalised = remote.normalise(target)
    if remote.is_remote(normalised):
        from carbonmap.storage.object_location import ObjectLocation

        return ObjectLocation(str(normalised))
    from carbonmap.storage.local_location import LocalLocation

    return LocalLocation(normalised)


def of_zarr_store(store: Any) -> Location | None:
    """The Location a zarr Store (LocalStore or ObjectStore over S3) is rooted at; None for any other store."""
    import zarr.storage

    from carbonmap.storage.local_location import LocalLocation
    from carbonmap.storage.object_location import ObjectLocation

    if isinstance(store, zarr.storage.LocalStore):
        return LocalLocation(Path(store.root))
    if isinstance(store, zarr.storage.ObjectStore):
        inner = store.store
        config = getattr(inner, "config", None) or {}
        bucket = config.get("bucket") if isinstance(config, dict) else None
        if bucket:
            prefix = str(getattr(inner, "prefix", "") or "").strip("/")
            loc = ObjectLocation(f"s3://{bucket}" + (f"/{prefix}" if prefix else ""))
            loc._store = inner
            return loc
    return None
