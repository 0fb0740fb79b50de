"""The one atomic file writer: a temporary sibling, fsync, then rename, so readers see the old file or the new one.

:func:`atomic_path` is the context for files that a library writes itself (Parquet, NetCDF, GeoTIFF): it yields
the temporary sibling to write to and renames it into place only if the block succeeds (else removes it).
:func:`write_bytes_atomic` and :func:`write_text_atomic` write bytes or text that way.  Temporary names carry
the process id and a random token, so concurrent writers (threads or processes) never share one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write; on success fsync'ed and renamed onto ``path``, else removed.
    The directory must exist."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (the directory must exist); returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; returns the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def replace_dir(tmp: Path, final: Path) -> None:
    """Put the finished directory ``tmp`` at ``final``, replacing what was there (renames; the old
    directory is moved aside to ``<final>.old`` first and deleted last)."""
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        shutil.rmtree(old)
