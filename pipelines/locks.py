"""The single-writer lock of a store: one build, update or prune at a time, on a file system or object storage.

- **Local store**: ``flock`` on ``<store>.releases/.lock``; the kernel releases it when the holder dies, so a
  SIGKILLed update never leaves a stale lock.
- **Object storage** (``s3://bucket/prefix``): the object ``<prefix>/LOCK``, created with a conditional PUT
  (``If-None-Match: *``): of two writers exactly one creates it.  It names its holder (id, host, pid, since)
  and a heartbeat that the holder rewrites every ``ttl / 4`` with ``If-Match`` on the object's ETag, so only
  the holder can refresh it.  A lock whose heartbeat is older than ``ttl`` (the holder died: no kernel frees it
  here) is taken over with ``If-Match`` on the stale ETag, so of two writers recovering it only one wins.  The
  holder deletes it when done (after checking it is still its own).  If a heartbeat finds the lock taken
  over, the holder has lost it: :func:`writer_lock` raises on exit and the release it staged is not
  published by a writer that no longer holds the lock (``seal`` checks :meth:`Held.check` first).

Readers never lock: releases are immutable and the pointer (symlink / ``CURRENT``) changes in one step.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carbonmap.errors import StorageError

log = logging.getLogger(__name__)

LOCK_KEY = "LOCK"
DEFAULT_TTL_S = 900.0
"""Seconds without a heartbeat after which an object-store lock is stale (its holder died)."""


class LockHeld(StorageError):
    """Another writer holds the store's lock."""

    http_status = 409


class LockLost(StorageError):
    """The lock was taken over while this writer held it (its heartbeat stopped for longer than the ttl)."""


@dataclass
class Held:
    """A held lock: ``check()`` raises :class:`LockLost` if an object-store lock was taken over."""

    target: str
    lost: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        if self.lost.is_set():
            raise LockLost(f"the writer lock of {self.target} was taken over by another writer while this one "
                           "ran (its heartbeat stopped for longer than the lock's ttl); nothing was published")


@contextlib.contextmanager
def local_lock(releases_dir: Path, target: str) -> Iterator[Held]:
    """``flock`` on ``<releases_dir>/.lock``, or :class:`LockHeld` at once."""
    releases_dir.mkdir(parents=True, exist_ok=True)
    with open(releases_dir / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise LockHeld(f"another build or update is writing {target}; wait for it to finish") from exc
            raise
        try:
            yield Held(target)
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _body(holder: dict[str, Any]) -> bytes:
    return json.dumps({**holder, "heartbeat": _now().isoformat(timespec="seconds")}).encode()


def _read(store: Any) -> tuple[dict[str, Any], str | None] | None:
    """(holder, etag) of the lock object, None if there is none."""
    import obstore

    try:
        got = obstore.get(store, LOCK_KEY)
    except FileNotFoundError:
        return None
    raw = bytes(got.bytes())
    try:
        holder = json.loads(raw)
    except ValueError:
        holder = {}
    return (holder if isinstance(holder, dict) else {}), got.meta.get("e_tag")


def _stale(holder: dict[str, Any], ttl: float) -> bool:
    try:
        beat = dt.datetime.fromisoformat(str(holder["heartbeat"]))
    except (KeyError, ValueError):
        return True  # unreadable: nobody can refresh it
    return (_now() - beat).total_seconds() > ttl


@contextlib.contextmanager
def object_lock(store: Any, target: str, ttl: float = DEFAULT_TTL_S) -> Iterator[Held]:
    """The lock object ``LOCK`` of an obstore ``store`` (rooted at the store's prefix); see the module docstring."""
    import obstore
    from obstore.exceptions import AlreadyExistsError, PreconditionError

    holder = {"id": uuid.uuid4().hex, "host": socket.gethostname(), "pid": os.getpid(),
              "since": _now().isoformat(timespec="seconds")}
    try:
        etag = obstore.put(store, LOCK_KEY, _body(holder), mode="create")["e_tag"]
    except AlreadyExistsError:
        current = _read(store)
        if current is not None and not _stale(current[0], ttl):
            other = current[0]
            raise LockHeld(f"another build or update is writing {target} (host {other.get('host')}, pid "
                           f"{other.get('pid')}, since {other.get('since')}, last heartbeat "
                           f"{other.get('heartbeat')}); wait for it to finish, or for the lock to expire "
                           f"{ttl:.0f} s after its last heartbeat if that writer died") from None
        try:  # stale (or gone meanwhile): take it over, conditional on the stale object we saw
            etag = (obstore.put(store, LOCK_KEY, _body(holder), mode={"e_tag": current[1]})["e_tag"]
                    if current is not None and current[1] else
                    obstore.put(store, LOCK_KEY, _body(holder), mode="create")["e_tag"])
        except (PreconditionError, AlreadyExistsError):
            raise LockHeld(f"another writer took over the stale lock of {target} first; wait for it to "
                           "finish") from None
    held = Held(target)
    stop = threading.Event()
    box = {"etag": etag}

    def heartbeat() -> None:
        while not stop.wait(ttl / 4):
            try:
                box["etag"] = obstore.put(store, LOCK_KEY, _body(holder), mode={"e_tag": box["etag"]})["e_tag"]
            except PreconditionError:
                held.lost.set()
                return
            except Exception as exc:  # noqa: BLE001 - a failed heartbeat is retried at the next beat
                log.warning("heartbeat of the writer lock of %s failed (%s); retrying", target, exc)

    beat = threading.Thread(target=heartbeat, name=f"lock-heartbeat {target}", daemon=True)
    beat.start()
    try:
        yield held
    finally:
        stop.set()
        beat.join()
        current = _read(store)
        if current is not None and current[0].get("id") == holder["id"]:
            obstore.delete(store, LOCK_KEY)
    held.check()
