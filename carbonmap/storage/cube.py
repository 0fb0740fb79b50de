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
from pathlib import Path
from typing import Any, Literal

import xarray as xr
import zarr

from carbonmap import contract as cc
from carbonmap.errors import StorageError
from carbonmap.storage.location import RELEASE_RE, location

Target = str | Path
"""Where a cube lives: a local path or an object-store URL (``s3://bucket/prefix``)."""




MANIFEST = "release.json"


RELEASE_ATTR = "carbonmap_release"


class StoreError(StorageError):
    """A cube store is missing, unfinished or does not follow the contract."""


def zarr_store(target: Target, read_only: bool = False) -> Any:
    """A zarr Store for a local path or an object-store URL."""
    return location(target).zarr_store(read_only=read_only)


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
    name = location(final).pointer()
    return name if name and RELEASE_RE.match(name) else None


def release_ids(final: Target) -> list[str]:
    """Ids of all sealed releases present (published or not), oldest first."""
    root = location(final).releases_root()
    return sorted(n for n in root.list_dirs() if RELEASE_RE.match(n) and root.child(n).exists(MANIFEST))


def release_location(final: Target, release: str) -> Target:
    """Where release ``release`` of the store ``final`` lives or would live (not checked):
    ``<store>.releases/<id>`` locally, ``<store>/releases/<id>`` on object storage."""
    return location(final).releases_root().child(validate_release_id(release)).target


def release_path(final: Target, release: str | None = None) -> Target:
    """Where release ``release`` (default: the current one) of the store ``final`` lives: the release's own
    place, or for the current release of a local store the store itself (its symlink)."""
    loc = location(final)
    if release is None:
        here = loc.current()
        if here is None:
            raise StoreError(f"no carbonmap cube at {final} (no CURRENT release); build one with "
                             "`carbonmap build`")
        return here.target
    path = location(release_location(final, release))
    if not path.exists(MANIFEST):  # staged or half-deleted releases are not releases
        known = ", ".join(release_ids(final)) or "none"
        raise StoreError(f"store {loc.name} has no release {release!r}; releases: {known}")
    return path.target


def read_manifest(release_dir: Target) -> dict[str, Any]:
    """The ``release.json`` manifest of a release directory (or prefix)."""
    try:
        text = location(release_dir).read_text(MANIFEST)
        if text is None:
            raise FileNotFoundError(f"{release_dir}/{MANIFEST}")
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
        text = location(where).read_text(MANIFEST)  # one GET (or read); None: no such object
        if text is None:
            break
        try:
            manifest = json.loads(text)
        except ValueError as exc:
            raise StoreError(f"cannot read the release manifest of {where}: {exc}") from exc
        chain.append((rid, manifest))
        rid = manifest.get("parent")
    return chain


def published_chain(final: Target) -> list[str]:
    """Release ids reachable from the current release through ``parent`` links, newest first."""
    return [rid for rid, _ in published_manifests(final)]


def open_cube(path: Target, release: str | None = None) -> xr.Dataset:
    """Open a sealed cube without Dask (numpy-backed lazy arrays); refuse unfinished stores.

    ``release`` pins a past release (default: the current one)."""
    target = location(release_path(path, release)).resolved()
    try:
        text = target.read_text("zarr.json")
    except OSError as exc:
        raise StoreError(f"cannot read the cube metadata at {path}: {exc}") from exc
    if text is None:
        raise StoreError(f"no carbonmap cube at {path} (no zarr.json); build one with `carbonmap build`")
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
    return xr.open_zarr(target.zarr_store(read_only=True), chunks=None, consolidated=True, zarr_format=3)
