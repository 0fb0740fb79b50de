"""Daily updates: append the newest days (and revise changed ones) as a new release, transactionally.

``update(UpdateRequest(store, through))``:

1. reads the current release of ``store`` (see pipelines.store for the release layout);
2. recomputes the national daily table and the downscaling weights for the whole period
   ``[first day, through]`` from today's inputs (ingest -> nowcast, as a build does);
3. plans: days after the current end are *added*; earlier days whose national values (or whose
   weights) differ from the stored ones are *revised*; nothing to add or revise -> no release
   (running it twice changes nothing);
4. stages the new release in ``<store>.releases/<id>.building``: fresh metadata, hard links to the
   parent's shards of unchanged days and to its pyramid, the national table, then the written
   days, each followed by an atomic marker ``progress/<t>.json`` (its grid sums);
5. checks completeness and mass balance, writes the derived layouts (pyramid, time series) into
   the staged cube, and publishes it (seal + atomic symlink swap).

Crash safety: the plan is written to ``plan.json`` with a fingerprint of everything that decides
the result.  A re-run with the same fingerprint resumes the staging directory (days with a marker
are not recomputed) or publishes a sealed-but-unpublished release; anything else left behind is
an orphan and is deleted under the single-writer lock.  Readers only ever follow ``<store>``.

Object storage (``s3://bucket/prefix``, see pipelines.store): the same steps, with
:class:`_RemoteReleases` in place of :class:`_LocalReleases`.  The release is staged directly
under ``<prefix>/releases/<id>/`` (a prefix without ``release.json`` is not a release: readers
and ``release_ids`` ignore it); unchanged day shards are *copied server-side* (S3 CopyObject, no
bytes through this process; there are no hard links on S3), ``plan.json`` is written after the
staged metadata and copies, day markers are objects ``progress/<t>.json``, the manifest is
written last and the release is published by one PUT of ``<prefix>/CURRENT``, so readers see the
old release or the new one.  There is no lock on object storage: one writer per store by
convention (a single scheduled job); a second writer could delete the first one's staging
prefix in the orphan sweep, never a published release.  The derived layouts (pyramid, time
series) are not written on object storage yet (``derive_layouts`` skips remote cubes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from carbonmap import contract as cc
from carbonmap.progress import ProgressFn, no_progress
from carbonmap.settings import Settings, get_settings
from carbonmap.storage import remote
from carbonmap.storage.location import location
from pipelines import release_files, store
from pipelines.build import (
    DAYS_PER_TASK,
    MASS_TOLERANCE,
    BuildError,
    Prepared,
    check_complete,
    day_ranges,
    derive_layouts,
    mass_gap,
    prepare,
    read_markers,
    weights_digest,
    write_days,
)
from pipelines.cluster import dask_client
from pipelines.inputs import BuildInputs
from pipelines.release_tables import write_tables

PLAN = "plan.json"
PROGRESS = "progress"
REVISION_RTOL = 1e-9
"""National values closer than this (relative) to the stored ones are not a revision."""


class UpdateError(BuildError):
    """An update cannot run (no store, bad period, inputs broken); the store is unchanged."""


@dataclass(frozen=True)
class UpdateRequest:
    """Update the store at ``store`` through ``through`` (default: yesterday, UTC)."""

    store: store.Target
    """A local store path (a symlink to its current release) or an object-store URL (``s3://...``)."""
    through: dt.date | None = None
    scheduler: str | None = None
    settings: Settings = field(default_factory=get_settings, compare=False, repr=False)
    """The settings this update runs with (inputs, caches, Dask, lock, release files): read once, here, when the
    request is made (the edge); every step below receives them from the request."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "store", location(self.store).target)


@dataclass(frozen=True)
class UpdateResult:
    """What an update did: the new release (None: already up to date) and the days it touched."""

    store: store.Target
    release: str | None
    parent: str | None
    days_added: tuple[str, ...]
    days_revised: tuple[str, ...]
    resumed: bool = False

    @property
    def changed(self) -> bool:
        return self.release is not None


def _old_national(parent: store.Target, regions: tuple[str, ...]) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """The parent's national table aligned to ``regions`` (NaN for regions it lacks)."""
    ds = store.open_cube(parent)
    times = pd.DatetimeIndex(ds["time"].values)
    countries = [str(c) for c in ds["country"].values]
    pos = {c: i for i, c in enumerate(countries)}
    vals = np.asarray(ds[cc.NATIONAL_VAR].values, dtype=np.float64)
    sig = np.asarray(ds[cc.NATIONAL_UNC_VAR].values, dtype=np.float64)
    out_v = np.full((len(times), len(cc.SECTORS), len(regions)), np.nan)
    out_s = np.full_like(out_v, np.nan)
    for j, r in enumerate(regions):
        if r in pos:
            out_v[:, :, j] = vals[:, :, pos[r]]
            out_s[:, :, j] = sig[:, :, pos[r]]
    extra = set(countries) - set(regions)
    if extra:  # a country vanished: all days change (its emissions would otherwise be lost)
        out_v[:] = np.nan
    ds.close()
    return times, out_v, out_s


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link every file of ``src`` into ``dst`` (directories created); skips temp files."""
    for root, _dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for f in files:
            if f.endswith((".partial", ".tmp")):
                continue
            target = dst / rel / f
            if not target.exists():
                os.link(Path(root) / f, target)


def _fingerprint(parent: str, prep: Prepared, nat: np.ndarray, sig: np.ndarray, wdigest: str,
                 added: list[int], revised: list[int]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([parent, str(prep.times[0].date()), str(prep.times[-1].date()), list(prep.nat.regions),
                         prep.grid.resolution, wdigest, added, revised]).encode())
    h.update(np.ascontiguousarray(nat).tobytes())
    h.update(np.ascontiguousarray(sig.astype(np.float32)).tobytes())
    return h.hexdigest()[:32]


published_chain = store.published_chain  # re-exported: it used to live here


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def _plan_matches(text: str | None, fingerprint: str, key: str = "fingerprint") -> bool:
    """True if ``text`` is the plan.json (``key`` fingerprint) or the manifest (``key``
    plan_fingerprint) of this very plan."""
    try:
        doc = json.loads(text) if text is not None else {}
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get(key) == fingerprint


class _LocalReleases:
    """Staging, bookkeeping and publishing of an update on a local store (hard links, renames)."""

    def __init__(self, final: Path) -> None:
        self.final = Path(final)
        self.rel = store.releases_dir(self.final)

    def sweep(self, fingerprint: str) -> tuple[Path | None, str | None]:
        """Under the lock: find resumable work for ``fingerprint`` and delete every other leftover.

        Returns (staging directory to resume, sealed-but-unpublished release to publish)."""
        rel = self.rel
        chain = set(store.published_chain(self.final))
        resume: Path | None = None
        publishable: str | None = None
        for entry in sorted(rel.iterdir()):
            name = entry.name
            if name.startswith(".") or name in chain:
                continue
            base = name.split(".", 1)[0]
            if base in chain:
                continue  # a published release's sidecar
            if name.endswith(".building") and store.RELEASE_RE.match(base):
                try:
                    ok = _plan_matches((entry / PLAN).read_text(), fingerprint)
                except OSError:
                    ok = False
                if ok and resume is None:
                    resume = entry
                    continue
            elif store.RELEASE_RE.match(name) and (entry / store.MANIFEST).exists():
                try:
                    ok = store.read_manifest(entry).get("plan_fingerprint") == fingerprint
                except store.StoreError:
                    ok = False
                if ok and publishable is None:
                    publishable = name
                    continue
            elif name.endswith(".timeseries") and (base == (publishable or "") or
                                                   (resume is not None and name.startswith(resume.name))):
                continue
            _remove(entry)
        return resume, publishable

    def location(self, rid: str) -> Path:
        """Where release ``rid`` lives (``<store>.releases/<id>``)."""
        return Path(store.release_location(self.final, rid))

    def new_staging(self, rid: str) -> Path:
        return self.rel / f"{rid}.building"

    @staticmethod
    def release_id(staging: store.Target) -> str:
        return Path(staging).name.split(".", 1)[0]

    def stage(self, staging: Path, parent: Path, prep: Prepared, rewrite: Iterable[int], n_old: int,
              linked_layouts: bool, say: ProgressFn) -> None:
        """Create the staging cube: metadata, links to the parent's unchanged day shards and layouts,
        national table."""
        if staging.exists():
            shutil.rmtree(staging)
        for side in store.sidecars(staging):
            _remove(side)
        store.create(staging, prep.grid, prep.times, prep.nat.regions, prep.attrs)
        rewrite = set(rewrite)
        for var in (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR):
            for t in range(n_old):
                src = parent / var / "c" / str(t)
                if t not in rewrite and src.exists():
                    _link_tree(src, staging / var / "c" / str(t))
        if (parent / "pyramid").is_dir():
            _link_tree(parent / "pyramid", staging / "pyramid")
        if linked_layouts:
            for p_side, s_side in zip(store.sidecars(parent), store.sidecars(staging), strict=True):
                if p_side.is_dir():
                    _link_tree(p_side, s_side)
        store.write_national(staging, prep.nat.values, prep.nat.rel_sigma, prep.nat.evidence)
        write_tables(staging, prep.tables)
        (staging / PROGRESS).mkdir(exist_ok=True)

    @staticmethod
    def write_plan(staging: Path, plan: dict[str, Any]) -> None:
        (staging / PLAN).write_text(json.dumps(plan))

    @staticmethod
    def markers(staging: Path) -> dict[int, np.ndarray]:
        return read_markers(staging / PROGRESS)

    @staticmethod
    def write_days(client: Any, staging: Path, todo: list[int], prep: Prepared, say: ProgressFn) -> np.ndarray:
        return write_days(client, staging, todo, prep, say, marker_dir=staging / PROGRESS)

    def finish(self, rid: str) -> None:
        """Drop the bookkeeping of the published release ``rid``."""
        shutil.rmtree(self.rel / rid / PROGRESS, ignore_errors=True)
        (self.rel / rid / PLAN).unlink(missing_ok=True)


class _RemoteReleases:
    """Staging, bookkeeping and publishing of an update on an object store (copies, PUT of CURRENT).

    All keys are relative to the store URL ``final``; a release is the prefix ``releases/<id>/``."""

    def __init__(self, final: str) -> None:
        self.final = str(final)

    def _key(self, rid: str, rest: str = "") -> str:
        return f"releases/{store.validate_release_id(rid)}/{rest}".rstrip("/")

    def sweep(self, fingerprint: str) -> tuple[str | None, str | None]:
        """Find resumable work for ``fingerprint`` and delete every other unpublished prefix.

        A prefix with a manifest whose ``plan_fingerprint`` matches is a sealed-but-unpublished
        release (publish it); one with a matching ``plan.json`` and no manifest is a staging prefix
        to resume; the rest (crashed builds, staging of other plans, junk) are orphans.  The current
        release's leftover bookkeeping (a crash between publish and cleanup) is dropped too."""
        chain = store.published_chain(self.final)
        if chain:
            self.finish(chain[0])
        resume: str | None = None
        publishable: str | None = None
        names = sorted(remote.list_dirs(self.final, "releases"))
        sidecars = [n for n in names if not store.RELEASE_RE.match(n)]
        for name in [n for n in names if store.RELEASE_RE.match(n)] + sidecars:  # releases first, then sidecars
            base = name.split(".", 1)[0]
            if name in chain or (name in sidecars and (base in chain or base == publishable
                                                       or (resume is not None and resume.endswith(base)))):
                continue  # a published (or kept) release, or its sidecar (the time-series layout)
            prefix = remote.join(self.final, f"releases/{name}")
            if store.RELEASE_RE.match(name):
                manifest = remote.read_text(prefix, store.MANIFEST)
                if manifest is not None:
                    if publishable is None and _plan_matches(manifest, fingerprint, "plan_fingerprint"):
                        publishable = name
                        continue
                elif resume is None and _plan_matches(remote.read_text(prefix, PLAN), fingerprint):
                    resume = prefix
                    continue
            remote.delete_prefix(prefix)
        return resume, publishable

    def location(self, rid: str) -> str:
        """Where release ``rid`` lives (the prefix ``<store>/releases/<id>``)."""
        return str(store.release_location(self.final, rid))

    def new_staging(self, rid: str) -> str:
        return str(store.release_location(self.final, rid))

    @staticmethod
    def release_id(staging: store.Target) -> str:
        return str(staging).rstrip("/").rsplit("/", 1)[-1]

    def stage(self, staging: str, parent: str, prep: Prepared, rewrite: Iterable[int], n_old: int,
              linked_layouts: bool, say: ProgressFn) -> None:
        """Create the staging prefix: metadata, server-side copies of the parent's unchanged day
        shards and of its pyramid (``update_pyramid`` rewrites the changed steps), national table.  The
        time-series layout is copied by ``build_timeseries`` from the parent's, when it can be appended to."""
        del linked_layouts
        store.create(staging, prep.grid, prep.times, prep.nat.regions, prep.attrs)  # clears the prefix first
        rewrite = set(rewrite)
        src_rid, dst_rid = self.release_id(parent), self.release_id(staging)
        pairs = []
        for var in (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR):
            head = self._key(src_rid, f"{var}/c") + "/"
            for key in remote.list_keys(self.final, head):
                t = key[len(head):].split("/", 1)[0]
                if t.isdigit() and int(t) < n_old and int(t) not in rewrite:
                    pairs.append((key, self._key(dst_rid, key[len(self._key(src_rid)) + 1:])))
        head = self._key(src_rid, "pyramid") + "/"
        pairs += [(key, self._key(dst_rid, key[len(self._key(src_rid)) + 1:]))
                  for key in remote.list_keys(self.final, head)]
        say(0, 1, f"copying {len(pairs)} unchanged object(s) from {src_rid} (server-side)")
        remote.copy_keys(self.final, pairs)
        store.write_national(staging, prep.nat.values, prep.nat.rel_sigma, prep.nat.evidence)
        write_tables(staging, prep.tables)

    @staticmethod
    def write_plan(staging: str, plan: dict[str, Any]) -> None:
        remote.write_text(staging, PLAN, json.dumps(plan))

    @staticmethod
    def markers(staging: str) -> dict[int, np.ndarray]:
        """Day index -> grid sums from the ``progress/<t>.json`` marker objects of a staging prefix."""
        out: dict[int, np.ndarray] = {}
        for key, text in remote.read_texts(staging, remote.list_keys(staging, PROGRESS)).items():
            stem = key.rsplit("/", 1)[-1].removesuffix(".json")
            try:
                out[int(stem)] = np.asarray(json.loads(text), dtype=np.float64)
            except ValueError:
                continue  # each marker is one PUT; an unreadable one means "not done"
        return out

    @staticmethod
    def write_days(client: Any, staging: str, todo: list[int], prep: Prepared, say: ProgressFn) -> np.ndarray:
        """build.write_days in waves (one task per worker thread); after each wave its day markers are
        PUT as objects.  Dask workers cannot write the local marker files build.write_days knows,
        so a crash loses at most the wave in flight."""
        sums = np.full((len(prep.times), len(cc.SECTORS)), np.nan)
        wave = DAYS_PER_TASK * max(1, sum(client.nthreads().values()))
        for i in range(0, len(todo), wave):
            batch = todo[i:i + wave]
            got = write_days(client, staging, batch, prep, say)
            sums[batch] = got[batch]
            remote.write_texts(staging, {f"{PROGRESS}/{t}.json": json.dumps([float(v) for v in got[t]])
                                         for t in batch})
            say(i + len(batch), len(todo), "day markers written")
        return sums

    def finish(self, rid: str) -> None:
        """Drop the bookkeeping objects (day markers, plan) of release ``rid``."""
        prefix = str(store.release_location(self.final, rid))
        keys = remote.list_keys(prefix, PROGRESS)
        remote.delete(prefix, [*keys, PLAN])


_Loc = TypeVar("_Loc", Path, str)


class _Releases(Protocol[_Loc]):
    """What :func:`update` needs of a store's releases, located by local paths (:class:`_LocalReleases`)
    or by object-store URLs (:class:`_RemoteReleases`)."""

    def location(self, rid: str) -> _Loc: ...

    def sweep(self, fingerprint: str) -> tuple[_Loc | None, str | None]: ...

    def new_staging(self, rid: str) -> _Loc: ...

    def release_id(self, staging: store.Target) -> str: ...

    def stage(self, staging: _Loc, parent: _Loc, prep: Prepared, rewrite: Iterable[int], n_old: int,
              linked_layouts: bool, say: ProgressFn) -> None: ...

    def write_plan(self, staging: _Loc, plan: dict[str, Any]) -> None: ...

    def markers(self, staging: _Loc) -> dict[int, np.ndarray]: ...

    def write_days(self, client: Any, staging: _Loc, todo: list[int], prep: Prepared, say: ProgressFn
                   ) -> np.ndarray: ...

    def finish(self, rid: str) -> None: ...


def update(request: UpdateRequest, progress: ProgressFn | None = None,
           inputs: BuildInputs | None = None) -> UpdateResult:
    """Append the newest days (and revise changed ones) of ``request.store`` as one new release."""
    say = progress or no_progress
    where = location(request.store)
    if where.can_rename:  # a file system: stage beside, hard-link, rename into place
        return _update(request, Path(where.target), _LocalReleases(Path(where.target)), say, inputs)
    return _update(request, str(where.target), _RemoteReleases(str(where.target)), say, inputs)  # stage in place


def _update(request: UpdateRequest, final: store.Target, backend: _Releases[_Loc], say: ProgressFn,
            inputs: BuildInputs | None) -> UpdateResult:
    """:func:`update` of the store ``final`` through its releases ``backend``."""
    name = final.name if isinstance(final, Path) else final.rstrip("/").rsplit("/", 1)[-1]
    parent_id = store.current_release(final)
    if parent_id is None:
        raise UpdateError(f"{final} is not a carbonmap store with releases; create it with `carbonmap build`")
    parent = backend.location(parent_id)
    try:
        head = store.open_cube(parent)
    except store.StoreError as exc:
        raise UpdateError(f"the current release of {final} cannot be read: {exc}") from exc
    grid = cc.Grid.from_coords(head["lat"].values, head["lon"].values)
    old_times = pd.DatetimeIndex(head["time"].values)
    dataset_id = str(head.attrs["carbonmap_dataset_id"])
    head.close()
    through = request.through or (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))
    end = max(pd.Timestamp(through), old_times[-1])
    if (end - old_times[0]).days > 366 * 20:
        raise UpdateError("a store covers at most 20 years; start a new dataset")
    times = pd.date_range(old_times[0], end, freq="D")

    try:
        prep = prepare(grid, times, dataset_id, inputs, say, settings=request.settings)
    except (OSError, ValueError, KeyError) as exc:
        raise UpdateError(f"the inputs cannot be read, so nothing was changed: {exc}") from exc
    nat, sig = prep.nat.values.copy(), prep.nat.rel_sigma.copy()
    _, old_v, old_s = _old_national(parent, prep.nat.regions)
    n_old = len(old_times)
    wdigest = weights_digest(prep)
    parent_digest = store.read_manifest(parent).get("weights_digest")
    same = np.isclose(nat[:n_old], old_v, rtol=REVISION_RTOL, atol=0.0) & np.isclose(
        sig[:n_old], old_s, rtol=1e-6, atol=0.0)
    unchanged = same.all(axis=(1, 2))
    if parent_digest is not None and parent_digest != wdigest:
        unchanged[:] = False  # new proxies: every day moves
    revised = [int(t) for t in np.flatnonzero(~unchanged)]
    added = list(range(n_old, len(times)))
    nat[:n_old][unchanged] = old_v[unchanged]  # keep the stored history bit for bit
    sig[:n_old][unchanged] = old_s[unchanged]
    if not added and not revised:
        say(1, 1, f"{name} is up to date (release {parent_id}, through {old_times[-1]:%Y-%m-%d})")
        return UpdateResult(final, None, parent_id, (), ())
    fingerprint = _fingerprint(parent_id, prep, nat, sig, wdigest, added, revised)
    prep = dataclasses.replace(prep, nat=dataclasses.replace(prep.nat, values=nat, rel_sigma=sig))
    days_added = tuple(f"{times[t]:%Y-%m-%d}" for t in added)
    days_revised = tuple(f"{times[t]:%Y-%m-%d}" for t in revised)

    with store.writer_lock(final, settings=request.settings) as held:
        if store.current_release(final) != parent_id:
            raise UpdateError(f"{final} changed while this update was planning; run it again")
        staging, publishable = backend.sweep(fingerprint)
        if publishable is not None:
            say(1, 1, f"publishing the already sealed release {publishable}")
            store.publish(final, publishable)
            backend.finish(publishable)
            return UpdateResult(final, publishable, parent_id, days_added, days_revised, resumed=True)
        resumed = staging is not None
        if staging is None:
            rid = store.next_release_id(final)
            staging = backend.new_staging(rid)
            backend.stage(staging, parent, prep, set(added) | set(revised), n_old, linked_layouts=not revised,
                          say=say)
            # the plan is written last: a staging area without one is an orphan, swept by the next run
            backend.write_plan(staging, {"fingerprint": fingerprint, "parent": parent_id, "id": rid,
                                         "added": added, "revised": revised})
        rid = backend.release_id(staging)
        markers = backend.markers(staging)
        todo = [t for t in added + revised if t not in markers]
        say(0, 1, f"release {rid}: {len(added)} day(s) to add, {len(revised)} to revise"
                  + (f", resuming ({len(markers)} done)" if resumed else ""))
        with dask_client(request.scheduler, settings=request.settings) as client:
            sums = backend.write_days(client, staging, todo, prep, say)
            for t, v in backend.markers(staging).items():
                if t < len(times):
                    sums[t] = v
            written = sorted(set(added) | set(revised))
            check_complete(staging, len(times))
            if np.isnan(sums[written]).any():
                raise UpdateError("some updated days have no recorded grid sums; run the update again")
            worst = mass_gap(sums[written], nat[written])
            if worst > MASS_TOLERANCE:
                raise UpdateError(f"mass balance broken in the new days ({worst:.2e} relative); "
                                  "the release was not published")
            changed_days = [times[t].date() for t in written]
            manifest = {"id": rid, "parent": parent_id, "kind": "update",
                        "days_added": day_ranges(times[added]), "days_revised": day_ranges(times[revised]),
                        "reason": "daily update" if not revised else "daily update with revised inputs",
                        "plan_fingerprint": fingerprint, "weights_digest": wdigest,
                        "inputs": [{"path": f.path, "sha256": f.sha256} for f in prep.files]}

            def before_publish(cube: store.Target) -> list[str]:
                done = derive_layouts(cube, client, say, changed_days, parent=parent)
                done += release_files.for_release(cube, rid, client=client, progress=say, parent=parent,
                                                  changed_days=changed_days, settings=request.settings)
                held.check()  # never publish after losing the lock (object storage: taken over as stale)
                return done

            store.seal(staging, final, {"mass_balance_max_rel_gap": worst,
                                        "fallback_regions": prep.weights.fallback_summary(nat)}, manifest,
                       before_publish=before_publish)
        backend.finish(rid)  # bookkeeping only; the release is published
    return UpdateResult(final, rid, parent_id, days_added, days_revised, resumed=resumed)
