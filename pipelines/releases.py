"""The revision history of a store, write side: :func:`prune` deletes old releases.

Reading the history (list, as-of, diff) is :mod:`carbonmap.storage.releases`, re-exported here for the
pipelines' and the CLI's use.

Every function takes a local store path or an object-store URL (``s3://bucket/prefix``): the
history is the chain of ``release.json`` manifests reachable from the current release (the
symlink, or the ``CURRENT`` object) through their ``parent`` links.
"""

from __future__ import annotations

import shutil

from carbonmap.settings import Settings
from carbonmap.storage import remote
from carbonmap.storage.releases import ReleaseDiff, ReleaseInfo, as_target, diff, list_releases, release_as_of
from carbonmap.storage.timeseries import timeseries_location
from pipelines import store

__all__ = ["ReleaseDiff", "ReleaseInfo", "diff", "list_releases", "prune", "release_as_of"]


def prune(path: store.Target, keep: int, *, settings: Settings) -> list[str]:
    """Delete all but the newest ``keep`` published releases of the store at ``path`` (never the
    current one); returns the deleted ids, oldest first.  ``keep`` 0 keeps everything.

    Safe for the data readers see: unchanged shards are hard links shared between releases, so
    deleting an old release directory frees only what no kept release uses.  Pinned readers of a
    deleted release get 404 (release not found) afterwards; takes the single-writer lock.

    Object stores: releases hold their own copies of unchanged shards, so a release's prefix is
    simply deleted, manifest first (from then on it is no release: a crash mid-delete leaves an
    orphan prefix that the next update sweeps).  One writer by convention, as for updates.
    ``settings``: the caller's (the lock's time-to-live on object stores)."""
    if keep < 0:
        raise ValueError(f"keep must be >= 0, got {keep}")
    path = as_target(path)
    if keep == 0:
        return []
    with store.writer_lock(path, settings=settings):
        chain = store.published_chain(path)  # newest first
        doomed = list(reversed(chain[keep:]))
        if isinstance(path, str):
            for rid in doomed:
                prefix = str(store.release_location(path, rid))
                remote.delete(prefix, [store.MANIFEST])
                remote.delete_prefix(prefix)
                timeseries_location(prefix).delete_tree()  # the release's sidecar
            return doomed
        rel = store.releases_dir(path)
        for rid in doomed:
            target = rel / store.validate_release_id(rid)
            # rename first (atomic), so a crash mid-delete never leaves a half release with a manifest
            trash = rel / f".{rid}.deleting"
            target.rename(trash)
            shutil.rmtree(trash)
    return doomed
