"""Cube stores, write side: create the template, write days, seal atomically into a versioned release.

The read side (release locations, the pointer, manifests, ``open_cube``) is :mod:`carbonmap.storage.cube`, which
the serving side imports; its names are re-exported here for the pipelines' own use (``store.open_cube``...).

A build writes into ``<store>.building`` and only a sealed store (status attribute
``complete``) is published, so a failed build never leaves a store that looks complete.

Releases (see docs/scaling.md): every sealed cube is an immutable *release* directory
``<store>.releases/<id>`` (ids ``r0001``, ``r0002``, ...) with a ``release.json`` manifest, and
``<store>`` itself is a symlink to the current release, swapped atomically (``os.replace`` of a
new symlink).  Path readers (xarray, zarr, the pyramid, the ``/zarr/`` file route) keep opening
``<store>`` and see one whole release; a server that resolved the link keeps its release until
it re-resolves.  Updates hard-link the unchanged day shards of the parent release, and zarr's
local store writes by temp file + rename, so rewriting a shard never changes an older release.
On object storage (``s3://bucket/prefix``) releases live under ``<prefix>/releases/<id>/`` and
the pointer is the object ``<prefix>/CURRENT`` (one atomic PUT: readers see the old or the new
id); the writer lock is the object ``<prefix>/LOCK`` (conditional PUT, see :mod:`pipelines.locks`).  A release is staged in place under its prefix and its ``release.json`` is written last, so
a prefix without a manifest is not a release (``release_ids`` and pinned opens ignore it) and an
update sweeps it as an orphan.  Unchanged shards are copied server-side, not linked.

Cube layout (Zarr v3, one group):

- ``emissions``/``uncertainty`` (time, sector, lat, lon) float32, map chunks
  (1, 1, 45 deg, 45 deg) inside one shard per day (all sectors, whole grid), zstd 3;
- ``national_emissions`` (time, sector, country) float64 kg CO2 day-1;
- ``national_uncertainty`` (time, sector, country) float32 relative 1-sigma.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
import zarr
from zarr.codecs import ZstdCodec

from carbonmap import cf_metadata as cf
from carbonmap import contract as cc
from carbonmap.atomic import replace_dir
from carbonmap.storage import remote
from carbonmap.storage.cube import (
    MANIFEST,
    RELEASE_ATTR,
    RELEASE_RE,
    AccessMode,
    StoreError,
    Target,
    array,
    current_release,
    open_cube,
    open_group,
    published_chain,
    published_manifests,
    read_manifest,
    release_ids,
    release_location,
    release_path,
    releases_dir,
    validate_release_id,
    zarr_store,
)
from carbonmap.storage.location import CURRENT, location
from carbonmap.storage.timeseries import timeseries_location, timeseries_path

__all__ = [  # the write side, and the read side's names the pipelines use through this module
    "CURRENT",
    "MANIFEST",
    "RELEASE_ATTR",
    "RELEASE_RE",
    "AccessMode",
    "StoreError",
    "Target",
    "array",
    "building_path",
    "create",
    "current_release",
    "encoding",
    "next_release_id",
    "open_cube",
    "open_group",
    "publish",
    "published_chain",
    "published_manifests",
    "read_manifest",
    "release_ids",
    "release_location",
    "release_path",
    "releases_dir",
    "replace_dir",
    "seal",
    "sidecars",
    "template",
    "validate_release_id",
    "write_day",
    "write_national",
    "writer_lock",
    "zarr_store",
]
from pipelines import locks

if TYPE_CHECKING:
    from carbonmap.settings import Settings


def building_path(final: Path) -> Path:
    """Where a build writes before it is sealed and moved to ``final``."""
    return final.with_name(final.name + ".building")


def staging_path(final: Target) -> Target:
    """Where a build stages its cube before :func:`seal`: beside a local store (``<store>.building``, renamed into
    the releases when sealed), or in place as the next release's prefix on object storage (no rename there;
    an unpublished prefix is invisible to readers)."""
    loc = location(final)
    if not loc.can_rename:  # object storage stages in place
        return loc.releases_root().child(next_release_id(final)).target
    return loc.sibling(loc.name + ".building").target


def staged_release_id(final: Target, staging: Target) -> str:
    """The id the release staged at ``staging`` gets when sealed (the same rule as :func:`seal`)."""
    name = location(staging).name
    return validate_release_id(name) if RELEASE_RE.match(name) else next_release_id(final)


def template(grid: cc.Grid, times: pd.DatetimeIndex, countries: Sequence[str],
             sectors: Sequence[str] = cc.SECTORS) -> xr.Dataset:
    """A lazy all-zero dataset with the contract's dims, coords and variable attrs."""
    nt, ns, nc = len(times), len(sectors), len(countries)
    map_chunks = (1, ns, grid.nlat, grid.nlon)
    coords = {
        "time": ("time", times.values.astype("datetime64[ns]"), cc.coord_attrs()["time"]),
        "sector": ("sector", np.array(list(sectors), dtype=object), cc.coord_attrs()["sector"]),
        "lat": ("lat", grid.lat, cc.coord_attrs()["lat"]),
        "lon": ("lon", grid.lon, cc.coord_attrs()["lon"]),
        "country": ("country", np.array(list(countries), dtype=object), cc.coord_attrs()["country"]),
    }
    dims4 = ("time", "sector", "lat", "lon")
    dims3 = ("time", "sector", "country")
    data = {
        cc.EMISSIONS_VAR: (dims4, da.zeros((nt, ns, grid.nlat, grid.nlon), chunks=map_chunks,
                                            dtype=cc.EMISSIONS_DTYPE), cc.emissions_attrs()),
        cc.UNCERTAINTY_VAR: (dims4, da.zeros((nt, ns, grid.nlat, grid.nlon), chunks=map_chunks,
                                              dtype=np.float32), cc.uncertainty_attrs()),
        cc.NATIONAL_VAR: (dims3, da.zeros((nt, ns, nc), chunks=(nt, ns, nc), dtype=cc.NATIONAL_DTYPE),
                          cc.national_attrs()),
        cc.NATIONAL_UNC_VAR: (dims3, da.zeros((nt, ns, nc), chunks=(nt, ns, nc), dtype=np.float32),
                              {**cc.uncertainty_attrs(), "long_name": "relative 1-sigma of national totals"}),
        cc.EVIDENCE_VAR: (dims3, da.full((nt, ns, nc), cc.EVIDENCE_NO_DATA, chunks=(nt, ns, nc), dtype=np.int8),
                          cc.evidence_attrs()),
    }
    return xr.Dataset(data, coords=coords)


def encoding(grid: cc.Grid, n_sectors: int = len(cc.SECTORS)) -> dict[str, dict[str, Any]]:
    """Zarr encodings: map chunks in day shards for the grids, one chunk for the national table."""
    zstd = [ZstdCodec(level=3)]
    grid_enc = {"chunks": grid.map_chunks(), "shards": grid.map_shards(n_sectors), "compressors": zstd,
                "fill_value": 0.0}
    return {
        cc.EMISSIONS_VAR: dict(grid_enc),
        cc.UNCERTAINTY_VAR: dict(grid_enc),
        cc.NATIONAL_VAR: {"compressors": zstd},
        cc.NATIONAL_UNC_VAR: {"compressors": zstd},
        cc.EVIDENCE_VAR: {"compressors": zstd, "fill_value": cc.EVIDENCE_NO_DATA},
        "time": {"units": "days since 1970-01-01", "calendar": "proleptic_gregorian", "dtype": "int32"},
    }


def create(path: Target, grid: cc.Grid, times: pd.DatetimeIndex, countries: Sequence[str],
           attrs: dict[str, Any]) -> None:
    """Write the metadata and coordinates of an empty cube at ``path`` (replacing it)."""
    location(path).delete_tree()
    # CF: lat_bnds/lon_bnds, cell_area (m2), a crs grid mapping and grid_mapping/cell_measures on the grids;
    # the attributes are the CF/ACDD set of every NetCDF download, lists and dicts kept as JSON
    ds = cf.apply_cf(template(grid, times, countries), release_id=None, dataset_attrs=attrs)
    if cc.EVIDENCE_VAR in ds:
        ds[cc.EVIDENCE_VAR].encoding = {}  # the fill value is set in encoding()
    ds.attrs = _jsonable(cf.global_attributes(attrs, release_id=None, grid=grid, netcdf=False))
    ds.attrs[cc.STATUS_ATTR] = cc.STATUS_BUILDING
    ds.to_zarr(zarr_store(path), mode="w", compute=False, zarr_format=3, consolidated=False,
               encoding=encoding(grid))


def write_day(path: Target, index: int, emissions: np.ndarray, uncertainty: np.ndarray) -> None:
    """Write one day, all sectors: arrays (sector, lat, lon), kg CO2 day-1 cell-1 and relative 1-sigma."""
    group = open_group(path)
    array(group, cc.EMISSIONS_VAR)[index] = emissions.astype(cc.EMISSIONS_DTYPE, copy=False)
    array(group, cc.UNCERTAINTY_VAR)[index] = uncertainty.astype(np.float32, copy=False)


def write_national(path: Target, national: np.ndarray, national_unc: np.ndarray,
                   evidence: np.ndarray | None = None) -> None:
    """Write the national table, arrays (time, sector, country): kg CO2 day-1, relative 1-sigma and the
    evidence code of each value (:data:`carbonmap.contract.EVIDENCE_LEVELS`; None leaves the fill, -1)."""
    group = open_group(path)
    array(group, cc.NATIONAL_VAR)[...] = national.astype(cc.NATIONAL_DTYPE, copy=False)
    array(group, cc.NATIONAL_UNC_VAR)[...] = national_unc.astype(np.float32, copy=False)
    if evidence is not None and cc.EVIDENCE_VAR in group:
        array(group, cc.EVIDENCE_VAR)[...] = evidence.astype(np.int8, copy=False)


def next_release_id(final: Target) -> str:
    """The next unused release id (counts staging and orphaned directories too)."""
    root = location(final).releases_root()
    names = root.list_dirs()  # releases, staging and orphaned directories (prefixes) alike
    nums = [int(m.group(1)) for n in names if (m := re.match(r"^r(\d{4,9})", n))]
    return f"r{max(nums, default=0) + 1:04d}"


def publish(final: Target, release: str) -> None:
    """Point ``final`` at release ``release`` atomically (a new symlink renamed over the old one;
    on object storage one PUT of the ``CURRENT`` object, which readers see whole or not at all).

    A legacy store (a plain directory at ``final``, from before releases) is replaced; that one
    migration is the only non-atomic step, as sealing was before releases existed."""
    loc = location(final)
    where = loc.releases_root().child(validate_release_id(release))
    if not where.exists(MANIFEST):
        raise StoreError(f"cannot publish {release}: {where} is not a sealed release")
    side = [(timeseries_location(loc).name, timeseries_location(where).name)]  # the release's sidecar layout
    loc.set_pointer(release, sidecars=side)


def writer_lock(final: Target, *, settings: Settings) -> contextlib.AbstractContextManager[locks.Held]:
    """Hold the store's single-writer lock or fail at once (:class:`pipelines.locks.LockHeld`, naming the holder).

    Local stores: ``flock`` on ``<store>.releases/.lock`` (freed by the kernel if the holder dies).  Object
    stores: the object ``<prefix>/LOCK`` made by a conditional PUT, kept alive by a heartbeat and taken over
    when stale (``Settings.s3_lock_ttl_s``); see :mod:`pipelines.locks`.  The context value's ``check()``
    raises if the lock was lost; writers call it before they publish.  Readers need no lock."""
    loc = location(final)
    rel = loc.releases_root().local_path
    if rel is not None:  # a file system: the kernel's flock
        return locks.local_lock(rel, str(final))
    return locks.object_lock(remote.object_store(loc.url), loc.url, settings.s3_lock_ttl_s)


def sidecars(cube: Path) -> list[Path]:
    """Layout stores that live next to (not inside) a cube directory and belong to its release."""
    return [Path(timeseries_path(cube))]


def seal(path: Target, final: Target, extra_attrs: dict[str, Any] | None = None,
         manifest: dict[str, Any] | None = None,
         before_publish: Callable[[Target], Any] | None = None) -> Target:
    """Mark a finished cube complete, consolidate it and publish it as a new release of ``final``.

    ``path`` is the staging cube (``building_path(final)`` or an update's staging directory);
    ``manifest`` describes the release (``kind``, ``days_added``, ``days_revised``, ...; ``id``
    and ``parent`` are filled in).  ``before_publish(path)`` runs on the complete but unpublished
    cube (the derived layouts go there, so they are part of the same release).  Returns ``final``,
    which now points at the new release."""
    staging, root = location(path), location(final)
    info = dict(manifest or {})
    if RELEASE_RE.match(staging.name):  # staged in place (object storage): the prefix names the release
        info["id"] = validate_release_id(staging.name)
    info.setdefault("id", next_release_id(final))
    info.setdefault("parent", current_release(final))
    info.setdefault("kind", "build")
    info.setdefault("created", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    group = zarr.open_group(store=staging.zarr_store(), mode="r+")
    if extra_attrs:
        group.attrs.update(_jsonable(extra_attrs))
    group.attrs[RELEASE_ATTR] = info["id"]
    group.attrs.update({"version": info["id"], "product_version": info["id"]})  # ACDD: the release id
    group.attrs[cc.STATUS_ATTR] = cc.STATUS_COMPLETE
    zarr.consolidate_metadata(staging.zarr_store())
    info.setdefault("dataset_id", group.attrs.get("carbonmap_dataset_id"))
    if before_publish is not None:
        layouts = before_publish(staging.target)
        if layouts:
            info["layouts"] = layouts
    staging.write_text(MANIFEST, json.dumps(_jsonable(info), indent=1))  # sealed: the manifest is last
    dest = root.releases_root().child(info["id"])
    if staging != dest:  # a local staging directory: renamed into the releases, its sidecar with it
        if dest.exists(MANIFEST) or dest.list_keys():
            raise StoreError(f"release {info['id']} already exists at {dest}")
        timeseries_location(staging).move_to(timeseries_location(dest))
        staging.move_to(dest)
    publish(final, info["id"])  # the commit: a symlink swap, or one atomic PUT of CURRENT
    return final


def _jsonable(value: Any) -> Any:
    """Attributes as plain JSON types (tuples -> lists, numpy scalars -> Python)."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
