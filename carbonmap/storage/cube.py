"""The cube store, read side: where releases live, the release pointer, manifests, and opening a release.

Releases (see docs/scaling.md): every sealed cube is an immutable *release* directory ``<store>.releases/<id>``
(ids ``r0001``, ``r0002``, ...) with a ``release.json`` manifest, and ``<store>`` itself is a symlink to the
current release.  On object storage (``s3://bucket/prefix``) releases live under ``<prefix>/releases/<id>/`` and
the pointer is the object ``<prefix>/CURRENT``; a prefix without a manifest is not a release.  The write side
(templates, writing days, sealing, publishing, the writer lock) is ``pipelines/store.py``; readers (the
registry, the tile server, the API) use only this module.

Cube layout (Zarr v3, one group): ``emissions``/``uncertainty`` (time, sector, lat, lon) float32, map chunks
(1, 1, 45 deg, 45 deg) inside one shard per day, zstd 3; ``national_emissions`` (time, sector, country) float64
kg CO2 day-1; ``national_uncertainty`` (time, sector, country) float32 relative 1-sigma; ``evidence``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import xarray as xr
import zarr

from carbonmap import contract as cc
from carbonmap.errors import StorageError
from carbonmap.storage import remote

Target = str | Path
"""Where a cube lives: a local path or an object-store URL (``s3://bucket/prefix``)."""


RELEASE_RE = re.compile(r"^r\d{4,9}$")


MANIFEST = "release.json"


RELEASE_ATTR = "carbonmap_release"


CURRENT = "CURRENT"
"""Object stores: the object naming the current release (the pointer a local store's symlink is)."""


class StoreError(StorageError):
    """A cube store is missing, unfinished or does not follow the contract."""


def zarr_store(target: Target, read_only: bool = False) -> Any:
    """A zarr Store for a local path or an object-store URL."""
    if remote.is_remote(target):
        return remote.zarr_store(str(target), read_only=read_only)
    return zarr.storage.LocalStore(Path(target), read_only=read_only)


AccessMode = Literal["r", "r+", "a", "w", "w-"]
"""How a Zarr group is opened (zarr's access modes)."""


def open_group(target: Target, mode: AccessMode = "r+") -> zarr.Group:
    return zarr.open_group(store=zarr_store(target, read_only=(mode == "r")), mode=mode, zarr_format=3)


def array(group: zarr.Group, name: str) -> zarr.Array:
    """The array ``name`` of ``group``: KeyError if there is none, TypeError if ``name`` is a subgroup.

    ``group[name]`` is typed ``Array | Group``; every reader and writer of a store's variables goes through
    this, so an index or a ``resize`` on the result is checked against ``zarr.Array``."""
    node = group[name]
    if not isinstance(node, zarr.Array):
        raise TypeError(f"{name!r} in the Zarr group {group.store_path} is a group, not an array")
    return node


def releases_dir(final: Path) -> Path:
    """The directory holding the immutable releases of the store ``final``."""
    final = Path(final)
    return final.with_name(final.name + ".releases")


def validate_release_id(release: str) -> str:
    """``release`` if it is a well-formed release id (``r0001``...); StoreError otherwise.

    Release ids come from clients (``?release=``), so this check is what keeps them from
    naming any other path."""
    if not isinstance(release, str) or not RELEASE_RE.match(release):
        raise StoreError(f"release {release!r} is not a release id; ids look like r0001 (see /datasets/<id>/releases)")
    return release


def current_release(final: Target) -> str | None:
    """Id of the release ``final`` points at; None for a store without releases (or no store)."""
    if remote.is_remote(final):
        text = remote.read_text(str(final), CURRENT)
        name = text.strip() if text else ""
        return name if RELEASE_RE.match(name) else None
    final = Path(final)
    if not final.is_symlink():
        return None
    name = Path(os.readlink(final)).name
    return name if RELEASE_RE.match(name) else None


def release_ids(final: Target) -> list[str]:
    """Ids of all sealed releases present (published or not), oldest first."""
    if remote.is_remote(final):
        names = remote.list_dirs(str(final), "releases")
        return sorted(n for n in names
                      if RELEASE_RE.match(n) and remote.exists(str(release_location(final, n)), MANIFEST))
    rel = releases_dir(Path(final))
    if not rel.is_dir():
        return []
    return sorted(p.name for p in rel.iterdir() if RELEASE_RE.match(p.name) and (p / MANIFEST).exists())


def release_location(final: Target, release: str) -> Target:
    """Where release ``release`` of the store ``final`` lives or would live (not checked):
    ``<store>.releases/<id>`` locally, ``<store>/releases/<id>`` on object storage."""
    rid = validate_release_id(release)
    if remote.is_remote(final):
        return remote.join(str(final), f"releases/{rid}")
    return releases_dir(Path(final)) / rid


def release_path(final: Target, release: str | None = None) -> Target:
    """Where release ``release`` (default: the current one) of the store ``final`` lives."""
    if remote.is_remote(final):
        parts = str(final).rstrip("/").rsplit("/", 2)
        if release is None and len(parts) == 3 and parts[1] == "releases" and RELEASE_RE.match(parts[2]):
            return str(final)  # already a release prefix (what a Registry pins)
        if release is None:
            rid = current_release(final)
            if rid is None:
                raise StoreError(f"no carbonmap cube at {final} (no CURRENT release); build one with "
                                 "`carbonmap build`")
            return release_location(final, rid)
        path = release_location(final, release)
        if not remote.exists(str(path), MANIFEST):  # staged or half-deleted releases are not releases
            known = ", ".join(release_ids(final)) or "none"
            raise StoreError(f"store {final} has no release {release!r}; releases: {known}")
        return path
    final = Path(final)
    if release is None:
        return final
    path = releases_dir(final) / validate_release_id(release)
    if not (path / MANIFEST).exists():
        known = ", ".join(release_ids(final)) or "none"
        raise StoreError(f"store {final.name} has no release {release!r}; releases: {known}")
    return path


def read_manifest(release_dir: Target) -> dict[str, Any]:
    """The ``release.json`` manifest of a release directory (or prefix)."""
    try:
        if remote.is_remote(release_dir):
            text = remote.read_text(str(release_dir), MANIFEST)
            if text is None:
                raise FileNotFoundError(MANIFEST)
        else:
            text = (Path(release_dir) / MANIFEST).read_text()
        return json.loads(text)
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read the release manifest of {release_dir}: {exc}") from exc


def published_manifests(final: Target) -> list[tuple[str, dict[str, Any]]]:
    """(id, manifest) of the releases reachable from the current one through ``parent`` links,
    newest first (the published history).

    A missing manifest ends the chain (pruned history); an unreadable one (a network error) raises
    StoreError rather than shortening the history, since the update's orphan sweep trusts it."""
    chain: list[tuple[str, dict[str, Any]]] = []
    rid = current_release(final)
    while isinstance(rid, str) and RELEASE_RE.match(rid) and rid not in (c[0] for c in chain):
        where = release_location(final, rid)
        if remote.is_remote(where):
            text = remote.read_text(str(where), MANIFEST)  # one GET; None: no such object
            if text is None:
                break
            try:
                manifest = json.loads(text)
            except ValueError as exc:
                raise StoreError(f"cannot read the release manifest of {where}: {exc}") from exc
        else:
            if not (Path(where) / MANIFEST).exists():
                break
            manifest = read_manifest(where)
        chain.append((rid, manifest))
        rid = manifest.get("parent")
    return chain


def published_chain(final: Target) -> list[str]:
    """Release ids reachable from the current release through ``parent`` links, newest first."""
    return [rid for rid, _ in published_manifests(final)]


def open_cube(path: Target, release: str | None = None) -> xr.Dataset:
    """Open a sealed cube without Dask (numpy-backed lazy arrays); refuse unfinished stores.

    ``release`` pins a past release (default: the current one)."""
    target = release_path(path, release)
    if remote.is_remote(target):
        text = remote.read_text(str(target), "zarr.json")
        if text is None:
            raise StoreError(f"no carbonmap cube at {target} (no zarr.json)")
    else:
        target = Path(target).resolve()
        if not (target / "zarr.json").exists():
            raise StoreError(f"no carbonmap cube at {path} (no zarr.json); build one with `carbonmap build`")
        try:
            text = (target / "zarr.json").read_text()
        except OSError as exc:
            raise StoreError(f"cannot read the cube metadata at {path}: {exc}") from exc
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise StoreError(f"cannot read the cube metadata at {path}: {exc}") from exc
    attrs = meta.get("attributes", {})
    if attrs.get(cc.STATUS_ATTR) != cc.STATUS_COMPLETE:
        raise StoreError(f"the cube at {path} is not complete (status {attrs.get(cc.STATUS_ATTR)!r}); "
                         "re-run the build")
    if "carbonmap_dataset_id" not in attrs:
        raise StoreError(f"{path} was not built by carbonmap (no carbonmap_dataset_id)")
    return xr.open_zarr(zarr_store(target, read_only=True), chunks=None, consolidated=True, zarr_format=3)
