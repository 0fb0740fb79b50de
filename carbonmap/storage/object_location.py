"""An object-store prefix (``s3://bucket/prefix``) as a :class:`~carbonmap.storage.location.Location`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from carbonmap.storage import remote
from carbonmap.storage.location import CURRENT, READ_BLOCK, RELEASE_RE, Location, same_kind


class ObjectLocation(Location):
    """A prefix in an object store (``s3://bucket/prefix``), reached through obstore."""

    can_rename = False
    concurrent_reads = remote.COPY_THREADS

    def __init__(self, url: str) -> None:
        from carbonmap.settings import get_settings

        self.url = url.rstrip("/")
        self.pointer_ttl_s = get_settings().s3_pointer_ttl_s
        self._store: Any = None

    @property
    def store(self) -> Any:
        if self._store is None:
            self._store = remote.object_store(self.url)
        return self._store

    def __getstate__(self) -> dict[str, Any]:  # Dask ships the URL; each worker builds its own client
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])  # type: ignore[misc]

    def child(self, key: str) -> ObjectLocation:
        return ObjectLocation(remote.join(self.url, key))

    def sibling(self, name: str) -> ObjectLocation:
        return ObjectLocation(self.url.rsplit("/", 1)[0] + "/" + name)

    def read_bytes(self, key: str) -> bytes | None:
        import obstore

        try:
            return bytes(obstore.get(self.store, key).bytes())
        except FileNotFoundError:
            return None

    def write_parts(self, key: str, parts: Sequence[bytes]) -> None:
        import obstore

        obstore.put(self.store, key, parts[0] if len(parts) == 1 else b"".join(parts))

    def exists(self, key: str = "zarr.json") -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        import obstore

        try:
            return int(obstore.head(self.store, key)["size"])
        except FileNotFoundError:
            return None

    def read_ranges(self, key: str, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        import obstore

        if not ranges:
            return []
        got = obstore.get_ranges(self.store, key, starts=[o for o, _ in ranges],
                                 ends=[o + n for o, n in ranges])
        return [bytes(b) for b in got]

    def read_suffix(self, key: str, length: int) -> tuple[int, bytes] | None:
        import obstore

        try:
            got = obstore.get(self.store, key, options={"range": {"suffix": length}})
        except FileNotFoundError:
            return None
        return int(got.meta["size"]), bytes(got.bytes())

    def stat(self, key: str) -> tuple[int, str] | None:
        import obstore

        try:
            meta = obstore.head(self.store, key)
        except (FileNotFoundError, ValueError):  # ValueError: not a valid object path ("..", empty segments)
            return None
        version = str(meta.get("e_tag") or meta.get("version") or meta["last_modified"]).strip('"')
        return int(meta["size"]), version

    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        import obstore

        for a in range(start, end, READ_BLOCK):
            yield bytes(obstore.get_range(self.store, key, start=a, end=min(end, a + READ_BLOCK)))

    def delete(self, key: str) -> None:
        remote.delete(self.url, [key])

    def delete_tree(self) -> None:
        remote.delete_prefix(self.url)

    def list_keys(self) -> list[str]:
        return remote.list_keys(self.url)

    def list_dirs(self) -> list[str]:
        import obstore

        result = obstore.list_with_delimiter(self.store, None)
        return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in result["common_prefixes"])

    @property
    def target(self) -> str:
        return self.url

    def releases_root(self) -> ObjectLocation:
        return self.child("releases")

    def pointer(self) -> str | None:
        text = self.read_text(CURRENT)
        return text.strip() if text else None

    def current(self) -> ObjectLocation | None:
        parts = self.url.rsplit("/", 2)
        if len(parts) == 3 and parts[1] == "releases" and RELEASE_RE.match(parts[2]):
            return self  # already a release prefix (what a Registry pins)
        name = self.pointer()
        return self.releases_root().child(name) if name and RELEASE_RE.match(name) else None

    def set_pointer(self, release: str, sidecars: Sequence[tuple[str, str]] = ()) -> None:
        del sidecars  # readers resolve the release prefix first, and find its sidecars beside it
        self.write_text(CURRENT, release + "\n")

    def move_to(self, dest: Location) -> None:
        if dest != self and self.list_keys():
            raise NotImplementedError(f"object storage has no rename ({self} -> {dest}); stage in place")

    def copy_tree_to(self, dest: Location) -> None:
        target = same_kind(self, dest)
        target.delete_tree()
        bucket, here, there = _bucket_paths(self.url, target.url)
        remote.copy_keys(bucket, ((f"{here}/{k}", f"{there}/{k}") for k in self.list_keys()))

    def upload(self, source: Path, key: str) -> None:
        import obstore

        with open(source, "rb") as f:
            obstore.put(self.store, key, f)

    def download(self, key: str, dest: Path) -> None:
        data = self.read_bytes(key)
        if data is None:
            raise FileNotFoundError(f"{self.url}/{key}")
        from carbonmap.atomic import write_bytes_atomic

        write_bytes_atomic(dest, data)

    def copy_object(self, key: str, dest: Location, dest_key: str) -> None:
        target = same_kind(self, dest)
        bucket, here, there = _bucket_paths(self.url, target.url)
        remote.copy_keys(bucket, [(f"{here}/{key}".lstrip("/"), f"{there}/{dest_key}".lstrip("/"))])

    @contextmanager
    def workdir(self, last: str | None = None) -> Iterator[Path]:
        import tempfile
        from concurrent.futures import ThreadPoolExecutor

        with tempfile.TemporaryDirectory(prefix="carbonmap-upload-") as tmp:
            yield Path(tmp)
            files = sorted(p for p in Path(tmp).iterdir() if p.is_file() and not p.name.startswith("."))
            first = [p for p in files if p.name != last]
            with ThreadPoolExecutor(max_workers=remote.COPY_THREADS) as pool:
                list(pool.map(lambda p: self.upload(p, p.name), first))
            for p in files:
                if p.name == last:
                    self.upload(p, p.name)

    def zarr_store(self, read_only: bool = False) -> Any:
        from zarr.storage import ObjectStore

        return ObjectStore(self.store, read_only=read_only)

    @contextmanager
    def staged(self) -> Iterator[ObjectLocation]:
        self.delete_tree()
        yield self


def _bucket_paths(a: str, b: str) -> tuple[str, str, str]:
    """(``s3://bucket``, path of ``a``, path of ``b``) for two URLs in one bucket."""
    sa, sb = a.split("/", 3), b.split("/", 3)
    if sa[:3] != sb[:3]:
        raise ValueError(f"server-side copies stay in one bucket: {a} and {b}")
    return "/".join(sa[:3]), sa[3] if len(sa) > 3 else "", sb[3] if len(sb) > 3 else ""
