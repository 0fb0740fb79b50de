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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap import contract as cc
from carbonmap.progress import ProgressFn
from pipelines import store
from pipelines.build import (
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

PLAN = "plan.json"
PROGRESS = "progress"
REVISION_RTOL = 1e-9
"""National values closer than this (relative) to the stored ones are not a revision."""


class UpdateError(BuildError):
    """An update cannot run (no store, bad period, inputs broken); the store is unchanged."""


@dataclass(frozen=True)
class UpdateRequest:
    """Update the store at ``store`` through ``through`` (default: yesterday, UTC)."""

    store: Path
    through: dt.date | None = None
    scheduler: str | None = None


@dataclass(frozen=True)
class UpdateResult:
    """What an update did: the new release (None: already up to date) and the days it touched."""

    store: Path
    release: str | None
    parent: str | None
    days_added: tuple[str, ...]
    days_revised: tuple[str, ...]
    resumed: bool = False

    @property
    def changed(self) -> bool:
        return self.release is not None


def _old_national(parent: Path, regions: tuple[str, ...]) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
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


def published_chain(final: Path) -> list[str]:
    """Release ids reachable from the current release through ``parent`` links, newest first."""
    chain: list[str] = []
    rid = store.current_release(final)
    rel = store.releases_dir(final)
    while rid and rid not in chain and (rel / rid / store.MANIFEST).exists():
        chain.append(rid)
        rid = store.read_manifest(rel / rid).get("parent")
    return chain


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def _sweep(final: Path, fingerprint: str) -> tuple[Path | None, str | None]:
    """Under the lock: find resumable work for ``fingerprint`` and delete every other leftover.

    Returns (staging directory to resume, sealed-but-unpublished release to publish)."""
    rel = store.releases_dir(final)
    chain = set(published_chain(final))
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
            plan = entry / PLAN
            try:
                ok = json.loads(plan.read_text()).get("fingerprint") == fingerprint
            except (OSError, ValueError):
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


def update(request: UpdateRequest, progress: ProgressFn | None = None,
           inputs: BuildInputs | None = None) -> UpdateResult:
    """Append the newest days (and revise changed ones) of ``request.store`` as one new release."""
    say = progress or (lambda done, total, msg: None)
    final = Path(request.store)
    parent_id = store.current_release(final)
    if parent_id is None:
        raise UpdateError(f"{final} is not a carbonmap store with releases; create it with `carbonmap build`")
    rel = store.releases_dir(final)
    parent = rel / parent_id
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
        prep = prepare(grid, times, dataset_id, inputs, say)
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
        say(1, 1, f"{final.name} is up to date (release {parent_id}, through {old_times[-1]:%Y-%m-%d})")
        return UpdateResult(final, None, parent_id, (), ())
    fingerprint = _fingerprint(parent_id, prep, nat, sig, wdigest, added, revised)
    prep = dataclasses.replace(prep, nat=dataclasses.replace(prep.nat, values=nat, rel_sigma=sig))
    days_added = tuple(f"{times[t]:%Y-%m-%d}" for t in added)
    days_revised = tuple(f"{times[t]:%Y-%m-%d}" for t in revised)

    with store.writer_lock(final):
        if store.current_release(final) != parent_id:
            raise UpdateError(f"{final} changed while this update was planning; run it again")
        staging, publishable = _sweep(final, fingerprint)
        if publishable is not None:
            say(1, 1, f"publishing the already sealed release {publishable}")
            store.publish(final, publishable)
            return UpdateResult(final, publishable, parent_id, days_added, days_revised, resumed=True)
        resumed = staging is not None
        if staging is None:
            rid = store.next_release_id(final)
            staging = rel / f"{rid}.building"
            _stage(staging, parent, prep, set(added) | set(revised), n_old, linked_layouts=not revised)
            plan = {"fingerprint": fingerprint, "parent": parent_id, "id": rid, "added": added, "revised": revised}
            (staging / PLAN).write_text(json.dumps(plan))
        rid = staging.name.split(".", 1)[0]
        markers = read_markers(staging / PROGRESS)
        todo = [t for t in added + revised if t not in markers]
        say(0, 1, f"release {rid}: {len(added)} day(s) to add, {len(revised)} to revise"
                  + (f", resuming ({len(markers)} done)" if resumed else ""))
        with dask_client(request.scheduler) as client:
            sums = write_days(client, staging, todo, prep, say, marker_dir=staging / PROGRESS)
            for t, v in read_markers(staging / PROGRESS).items():
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
            store.seal(staging, final, {"mass_balance_max_rel_gap": worst,
                                        "fallback_regions": prep.weights.fallback_summary(nat)}, manifest,
                       before_publish=lambda cube: derive_layouts(cube, client, say, changed_days,
                                                                   appended=bool(added)))
        shutil.rmtree(rel / rid / PROGRESS, ignore_errors=True)  # bookkeeping only; the release is published
        (rel / rid / PLAN).unlink(missing_ok=True)
    return UpdateResult(final, rid, parent_id, days_added, days_revised, resumed=resumed)


def _stage(staging: Path, parent: Path, prep: Prepared, rewrite: Iterable[int], n_old: int,
           linked_layouts: bool) -> None:
    """Create the staging cube: metadata, links to the parent's unchanged day shards and layouts, national table."""
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
    store.write_national(staging, prep.nat.values, prep.nat.rel_sigma)
    (staging / PROGRESS).mkdir(exist_ok=True)
