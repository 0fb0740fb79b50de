"""A local directory as a :class:`~carbonmap.storage.location.Location` (hard links, renames, flock-free)."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from carbonmap.storage.location import READ_BLOCK, Location, same_kind


class LocalLocation(Location):
    """A directory on this machine."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.url = str(self.path)

    def child(self, key: str) -> LocalLocation:
        return LocalLocation(self.path / key.strip("/"))

    def sibling(self, name: str) -> LocalLocation:
        return LocalLocation(self.path.with_name(name))

    @property
    def local_path(self) -> Path:
        return self.path

    def absolute(self) -> LocalLocation:
        return LocalLocation(os.path.abspath(self.path))

    def resolved(self) -> LocalLocation:
        return LocalLocation(self.path.resolve()) if self.path.is_symlink() else self

    def read_bytes(self, key: str) -> bytes | None:
        try:
            return (self.path / key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def write_parts(self, key: str, parts: Sequence[bytes]) -> None:
        path = self.path / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{id(parts)}.tmp")
        with open(tmp, "wb") as f:
            f.writelines(parts)
        os.replace(tmp, path)

    def exists(self, key: str = "zarr.json") -> bool:
        return (self.path / key).exists()

    def size(self, key: str) -> int | None:
        try:
            return (self.path / key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read_ranges(self, key: str, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        with open(self.path / key, "rb") as f:
            return [os.pread(f.fileno(), length, offset) for offset, length in ranges]

    def read_suffix(self, key: str, length: int) -> tuple[int, bytes] | None:
        try:
            f = open(self.path / key, "rb")  # noqa: SIM115 - closed below
        except (FileNotFoundError, NotADirectoryError):
            return None
        with f:
            size = os.fstat(f.fileno()).st_size
            return size, os.pread(f.fileno(), min(length, size), max(0, size - length))

    def _inside(self, key: str) -> Path | None:
        root = self.path.resolve()
        candidate = (root / key).resolve()
        return candidate if candidate.is_relative_to(root) and candidate.is_file() else None

    def stat(self, key: str) -> tuple[int, str] | None:
        path = self._inside(key)
        if path is None:
            return None
        st = path.stat()
        return st.st_size, f"{int(st.st_mtime_ns):x}"

    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        path = self._inside(key)
        if path is None:
            raise FileNotFoundError(f"{self.url}/{key}")
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start
            while left > 0:
                block = f.read(min(READ_BLOCK, left))
                if not block:
                    break
                left -= len(block)
                yield block

    def delete(self, key: str) -> None:
        (self.path / key).unlink(missing_ok=True)

    def delete_tree(self) -> None:
        if self.path.is_symlink() or self.path.is_file():
            self.path.unlink()
        elif self.path.exists():
            shutil.rmtree(self.path)

    def list_keys(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(str(p.relative_to(self.path)).replace(os.sep, "/") for p in self.path.rglob("*") if p.is_file())

    def list_dirs(self) -> list[str]:
        return sorted(p.name for p in self.path.iterdir() if p.is_dir()) if self.path.is_dir() else []

    @property
    def target(self) -> Path:
        return self.path

    def releases_root(self) -> LocalLocation:
        return self.sibling(self.path.name + ".releases")

    def pointer(self) -> str | None:
        return Path(os.readlink(self.path)).name if self.path.is_symlink() else None

    def current(self) -> LocalLocation:
        return self

    def set_pointer(self, release: str, sidecars: Sequence[tuple[str, str]] = ()) -> None:
        releases = self.releases_root()
        for link_name, target_name in sidecars:
            link = self.sibling(link_name)
            if releases.child(target_name).path.exists():
                link._swap_link(f"{releases.name}/{target_name}")
            elif link.path.is_symlink():
                link.path.unlink()
        self._swap_link(f"{releases.name}/{release}")
        _fsync_dir(self.path.parent)  # the rename is durable once its directory is

    def _swap_link(self, relative_target: str) -> None:
        """Make this path a symlink to ``relative_target`` atomically (a legacy directory is replaced)."""
        link = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.link")
        os.symlink(relative_target, link)
        if self.path.exists() and not self.path.is_symlink():
            old = self.sibling(self.path.name + ".old")
            old.delete_tree()
            self.path.rename(old.path)
            os.replace(link, self.path)
            old.delete_tree()
        else:
            os.replace(link, self.path)

    def write_text(self, key: str, text: str) -> None:
        from carbonmap.atomic import write_text_atomic

        (self.path / key).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.path / key, text)  # fsync'ed: manifests and markers survive a power cut

    def move_to(self, dest: Location) -> None:
        target = same_kind(self, dest)
        if not self.path.exists():
            return
        target.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.rename(target.path)
        _fsync_dir(target.path.parent)

    def copy_tree_to(self, dest: Location) -> None:
        target = same_kind(self, dest)
        target.delete_tree()
        shutil.copytree(self.path, target.path, copy_function=os.link)

    def upload(self, source: Path, key: str) -> None:
        path = self.path / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        try:
            os.link(source, path)
        except OSError:
            shutil.copyfile(source, path)

    def download(self, key: str, dest: Path) -> None:
        LocalLocation(dest.parent).upload(self.path / key, dest.name)

    def copy_object(self, key: str, dest: Location, dest_key: str) -> None:
        same_kind(self, dest).upload(self.path / key, dest_key)

    @contextmanager
    def workdir(self, last: str | None = None) -> Iterator[Path]:
        self.path.mkdir(parents=True, exist_ok=True)
        yield self.path

    def zarr_store(self, read_only: bool = False) -> Any:
        import zarr.storage

        return zarr.storage.LocalStore(self.path, read_only=read_only)

    @contextmanager
    def staged(self) -> Iterator[LocalLocation]:
        from carbonmap.atomic import replace_dir

        tmp = self.sibling(self.path.name + ".building")
        tmp.delete_tree()
        yield tmp
        replace_dir(tmp.path, self.path)


def _fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename in it survives a power cut); best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
