"""Consistency check of a published store: every committed day complete, mass conserved.

Used by the fault-injection tests after each SIGKILL and by operators (``check_store(path)``).
Reads the current (or a pinned) release day by day, so memory stays at one day of the grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbonmap import contract as cc
from carbonmap.storage.location import location
from pipelines import store

MASS_RTOL = 1e-6


@dataclass(frozen=True)
class Report:
    """Result of :func:`check_store`: ``ok`` when ``problems`` is empty."""

    path: str
    release: str | None
    days: int
    max_rel_gap: float
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_store(path: store.Target, release: str | None = None) -> Report:
    """Open the store (current release unless ``release``), check metadata, every day's shards,
    finite non-negative values and grid sum == national sum (rel 1e-6) for every day and sector."""
    problems: list[str] = []
    try:
        ds = store.open_cube(path, release)
    except store.StoreError as exc:
        return Report(str(path), release, 0, float("nan"), (str(exc),))
    rid = ds.attrs.get(store.RELEASE_ATTR)
    target = location(store.release_path(path, release)).resolved().target
    try:
        manifest = store.read_manifest(target)
        if manifest.get("id") != rid:
            problems.append(f"manifest id {manifest.get('id')!r} != cube release {rid!r}")
    except store.StoreError as exc:
        problems.append(str(exc))
    current = store.current_release(path)
    if current is not None and release is None and current != rid:
        problems.append(f"store points at {current} but the cube says {rid}")
    n = int(ds.sizes["time"])
    group = store.open_group(target, mode="r")
    em, un = store.array(group, cc.EMISSIONS_VAR), store.array(group, cc.UNCERTAINTY_VAR)
    nat = np.asarray(ds[cc.NATIONAL_VAR].values, dtype=np.float64).sum(axis=2)  # (time, sector)
    worst = 0.0
    for t in range(n):
        try:
            e = np.asarray(em[t], dtype=np.float64)
            u = np.asarray(un[t])
        except Exception as exc:  # noqa: BLE001 - a damaged shard: report it, keep checking
            problems.append(f"day {t}: cannot read ({exc})")
            continue
        if not np.isfinite(e).all() or (e < 0).any():
            problems.append(f"day {t}: emissions not finite or negative")
        if not np.isfinite(u).all():
            problems.append(f"day {t}: uncertainty not finite")
        sums = e.sum(axis=(1, 2))
        gap = np.abs(sums - nat[t]) / np.where(nat[t] > 0, nat[t], 1.0)
        worst = max(worst, float(gap.max()))
        if (nat[t] > 0).any() and not (sums > 0).any():
            problems.append(f"day {t}: empty grid (shard missing) though national totals are positive")
    if worst > MASS_RTOL:
        problems.append(f"mass not conserved: grid vs national differ by {worst:.2e} (relative)")
    ds.close()
    return Report(str(path), rid, n, worst, tuple(problems))
