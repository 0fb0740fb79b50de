"""Build a daily emissions cube: inputs -> national daily sector totals -> grid -> Zarr.

Dask distributed runs one task per block of days; each task downscales its days with the
(broadcast) sparse weights and writes whole day shards, so tasks never touch the same
object.  The store is written under ``<store>.building`` (object stores: under the next
release's prefix) and sealed (checked, marked complete, published as a new release, see
pipelines.store) only when every day is written and mass balance holds.  The derived
layouts (pyramid, time series) are written into the staged cube before it is published, so
they belong to the same release.  ``pipelines.update`` reuses the pieces for daily appends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from distributed import as_completed

from carbonmap import __version__
from carbonmap import contract as cc
from carbonmap.atomic import write_text_atomic
from carbonmap.errors import StorageError
from carbonmap.progress import ProgressFn, no_progress
from carbonmap.settings import Settings, get_settings
from carbonmap.storage import shards
from carbonmap.storage.location import location
from nowcast.downscale import downscale_with_uncertainty
from pipelines import release_files, store
from pipelines.cluster import dask_client
from pipelines.inputs import BuildInputs, load_inputs
from pipelines.national import NationalDaily, national_daily
from pipelines.release_tables import release_tables, write_tables
from pipelines.weights import SectorWeights, build_weights

DAYS_PER_TASK = 8
MASS_TOLERANCE = 1e-6


class BuildError(StorageError):
    """A build failed; the previous store (if any) is untouched."""


@dataclass(frozen=True)
class BuildRequest:
    """What to build: the period (inclusive), the grid resolution and where to put it."""

    start: dt.date
    end: dt.date
    resolution: float
    store: Path | str
    """A local path or an object-store URL (``s3://bucket/prefix``)."""
    dataset_id: str | None = None
    scheduler: str | None = None
    layouts: bool = True
    """Also write the map pyramid and the time-series layout (False: the cube only; the server then
    renders tiles and answers region queries from the map-chunked cube, more slowly, and the next
    update writes both layouts whole).  At 0.1 degree the two layouts cost more than a day's cube."""
    settings: Settings = field(default_factory=get_settings, compare=False, repr=False)
    """The settings this build runs with (inputs, caches, Dask, lock, release files): read once, here, when the
    request is made (the edge); every step below receives them from the request."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "store", location(self.store).target)
        if self.end < self.start:
            raise cc.ContractError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days > 366 * 20:
            raise cc.ContractError("a build covers at most 20 years; split it")
        cc.Grid(self.resolution)  # validates the resolution

    @property
    def grid(self) -> cc.Grid:
        return cc.Grid(self.resolution)

    @property
    def times(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, self.end, freq="D")

    @property
    def id(self) -> str:
        if self.dataset_id:
            return self.dataset_id
        res = f"{self.resolution:g}".replace(".", "p")
        return f"carbonmap-{self.start:%Y%m%d}-{self.end:%Y%m%d}-{res}deg"


def _write_block(target: str, days: list[int], national: np.ndarray, national_unc: np.ndarray,
                 weights: SectorWeights, proxy_sigma: tuple[float, ...],
                 shape: tuple[int, int], marker_dir: str | None = None) -> tuple[list[int], np.ndarray]:
    """Dask task: downscale and write the given day indices.

    national: (day_in_block, sector, region) kg CO2 day-1; national_unc same dims, relative 1-sigma.
    Returns the day indices and the float64 sums of the float32 fields as stored, (day, sector),
    kg CO2 day-1, so the caller can check mass balance without reading the store back.
    ``marker_dir``: after a day's shards are written, a ``<t>.json`` marker with its sums is
    written there (atomically), so a resumed update knows which days are done.
    """
    group = store.open_group(target)
    # a local cube's day shards are written whole by carbonmap.storage.shards (zarr's bytes, without its per-chunk cost)
    em_arr = shards.ShardedArray(store.array(group, cc.EMISSIONS_VAR))
    un_arr = shards.ShardedArray(store.array(group, cc.UNCERTAINTY_VAR))
    ny, nx = shape
    sums = np.zeros((len(days), len(cc.SECTORS)))
    for k, t in enumerate(days):
        em = np.empty((len(cc.SECTORS), ny, nx), dtype=np.float32)
        un = np.empty((len(cc.SECTORS), ny, nx), dtype=np.float32)
        for s in range(len(cc.SECTORS)):
            # one sparse pass for emissions and uncertainty (two right-hand sides; bench/nowcast.py)
            e, u = downscale_with_uncertainty(weights.matrices[s], national[k, s], national_unc[k, s],
                                              proxy_sigma[s])
            em[s] = e.reshape(ny, nx)
            un[s] = u.reshape(ny, nx)
        em_arr.write_step(t, em)
        un_arr.write_step(t, un)
        sums[k] = em.sum(axis=(1, 2), dtype=np.float64)
        if marker_dir is not None:
            write_marker(Path(marker_dir), t, sums[k])
    return days, sums


def write_marker(marker_dir: Path, t: int, sums: np.ndarray) -> None:
    """Record that day index ``t`` is written, with its per-sector grid sums (kg CO2 day-1)."""
    write_text_atomic(marker_dir / f"{t}.json", json.dumps([float(v) for v in sums]))


def read_markers(marker_dir: Path) -> dict[int, np.ndarray]:
    """Day index -> per-sector grid sums of the days a previous (interrupted) run finished."""
    out: dict[int, np.ndarray] = {}
    if marker_dir.is_dir():
        for p in marker_dir.glob("*.json"):
            try:
                out[int(p.stem)] = np.asarray(json.loads(p.read_text()), dtype=np.float64)
            except (ValueError, OSError):
                continue  # a marker is written atomically; an unreadable one means "not done"
    return out


def mass_gap(grid_sums: np.ndarray, national: np.ndarray) -> float:
    """Largest relative gap between grid sums (day, sector) and national (day, sector, region) totals."""
    nat_sum = national.sum(axis=2)
    gap = np.abs(grid_sums - nat_sum) / np.where(nat_sum > 0, nat_sum, 1.0)
    return float(gap.max()) if gap.size else 0.0


def check_complete(path: store.Target, n_days: int) -> None:
    """Every day's shard of both grids exists (a task that died would leave a hole)."""
    for var in (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR):
        have = set(location(path).child(f"{var}/c").list_dirs())
        missing = [t for t in range(n_days) if str(t) not in have]
        if missing:
            raise BuildError(f"{var} has no data for {len(missing)} day(s), first index {missing[0]}")


@dataclass(frozen=True)
class Prepared:
    """Everything a build or update computes before writing: national table, weights, metadata."""

    grid: cc.Grid
    times: pd.DatetimeIndex
    nat: NationalDaily
    weights: Any
    attrs: dict[str, Any]
    files: tuple[cc.InputFile, ...] = field(default=())
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Small tables written into the release (``pipelines.release_tables``): national history, facilities."""


def weights_digest(prep: Prepared) -> str:
    """sha256 of the downscaling matrices: a change moves emissions between cells on every day."""
    h = hashlib.sha256()
    for s in cc.SECTORS:
        m = prep.weights.matrices[s].tocsc()
        m.sort_indices()
        for a in (m.indptr, m.indices, m.data):
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def prepare(grid: cc.Grid, times: pd.DatetimeIndex, dataset_id: str, inputs: BuildInputs | None,
            say: ProgressFn, *, settings: Settings) -> Prepared:
    """Inputs -> national daily sector totals -> downscaling weights -> the cube's global attributes.
    ``settings``: the request's."""
    say(0, 1, "reading inputs")
    inputs = inputs or load_inputs(grid, settings=settings)
    say(1, 1, "reading inputs")
    say(0, 1, "national daily sector totals")
    nat: NationalDaily = national_daily(inputs, times)
    say(1, 1, "national daily sector totals")
    weights_label = f"downscaling weights on the {grid.resolution} degree grid"
    say(0, 1, weights_label)
    weights = build_weights(inputs, grid, nat.regions)
    say(1, 1, weights_label)
    lost = weights.unplaced(nat.values)
    if lost:
        raise BuildError(f"emissions with nowhere to go on the grid: {lost[:10]}; add a fallback location")
    prov = cc.Provenance(
        inputs=inputs.files,
        code_version=__version__,
        build_time=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        methods={**nat.methods, **weights.methods},
        proxies=inputs.proxies + weights.proxies,
    )
    title = f"carbonmap daily fossil CO2, {times[0]:%Y-%m-%d} to {times[-1]:%Y-%m-%d}, {grid.resolution} degree"
    attrs = cc.global_attrs(dataset_id=dataset_id, title=title, grid=grid, start=f"{times[0]:%Y-%m-%d}",
                            end=f"{times[-1]:%Y-%m-%d}", provenance=prov,
                            summary="Daily fossil CO2 emissions in 7 sectors on a regular global grid: national "
                                    "inventories (Global Carbon Budget) split by sector from current data, "
                                    "shaped and carried to the present by measured activity (power generation, "
                                    "industrial output, fuel sales, flights) where it exists, downscaled with "
                                    "spatial proxies. The variable 'evidence' says what carries each national "
                                    "value; see provenance_proxies for the simplified parts.")
    attrs["carbonmap_data_edge"] = {r: dict(sorted(e.items())) for r, e in sorted(nat.data_edge.items())}
    # history from 1970, facilities: pinned to the release
    tables = release_tables(inputs, nat.regions, weights, grid, settings=settings)
    return Prepared(grid, times, nat, weights, attrs, tuple(inputs.files), tables)


def write_days(client: Any, target: store.Target, days: list[int], prep: Prepared, say: ProgressFn,
               marker_dir: Path | None = None) -> np.ndarray:
    """Downscale and write ``days`` (indices into prep.times) as Dask tasks of DAYS_PER_TASK days.

    Returns grid sums (day, sector) kg CO2 day-1 for every day of prep.times (NaN where not written)."""
    nat = prep.nat
    n = len(prep.times)
    grid_sums = np.full((n, len(cc.SECTORS)), np.nan)
    if not days:
        return grid_sums
    blocks = [days[i:i + DAYS_PER_TASK] for i in range(0, len(days), DAYS_PER_TASK)]
    proxy_sigma = tuple(prep.weights.proxy_sigma[s] for s in cc.SECTORS)
    w_future = client.scatter(prep.weights.for_tasks(), broadcast=True)
    futures = [client.submit(_write_block, str(target), b, nat.values[b], nat.rel_sigma[b], w_future, proxy_sigma,
                             prep.grid.shape, None if marker_dir is None else str(marker_dir), pure=False)
               for b in blocks]
    done = 0
    say(0, len(days), "writing days")
    for fut in as_completed(futures):
        written, sums = fut.result()
        grid_sums[written] = sums
        done += len(written)
        say(done, len(days), "writing days")
    return grid_sums


def derive_layouts(cube_path: store.Target, client: Any, say: ProgressFn,
                   changed_days: Iterable[dt.date] | None = None, parent: store.Target | None = None) -> list[str]:
    """Write the map pyramid and the time-series layout of a staged cube (same release); returns
    the names of the writers that ran.

    ``changed_days`` None: build both whole.  Else update them for those days (appended or revised):
    the staged cube holds hard links to the parent's pyramid, and ``update_pyramid`` rewrites only the
    touched days, their months and years (new files, so the parent is never altered; it builds the
    pyramid whole if the parent had none); the time-series layout of ``parent`` (the parent release's
    directory) is hard-linked (server-side copies on object storage) and rewritten from the 32-day block holding
    the first changed day on."""
    from pipelines import pyramid, timeseries

    if changed_days is None:
        pyramid.build_pyramid(cube_path, progress=say, client=client)
        timeseries.build_timeseries(cube_path, progress=say)
        return ["pyramid.build_pyramid", "timeseries.build_timeseries"]
    days = sorted(pd.Timestamp(d).normalize() for d in changed_days)
    pyramid.update_pyramid(cube_path, days=[d.date() for d in days], progress=say, client=client)
    first: int | None = None
    if days:
        first = int(_cube_times(cube_path).searchsorted(days[0]))
    timeseries.build_timeseries(cube_path, progress=say, parent=parent, first_changed_day=first)
    return ["pyramid.update_pyramid", "timeseries.build_timeseries"]


def _cube_times(cube_path: store.Target) -> pd.DatetimeIndex:
    """The decoded time axis of a (possibly staged) cube."""
    with xr.open_zarr(location(cube_path).zarr_store(read_only=True), consolidated=False) as ds:
        return pd.DatetimeIndex(ds["time"].values)


def day_ranges(days: Iterable[pd.Timestamp | dt.date]) -> list[list[str]]:
    """Consecutive days as [first, last] ISO pairs (compact release manifests)."""
    ds = sorted({pd.Timestamp(d).normalize() for d in days})
    out: list[list[str]] = []
    for d in ds:
        if out and pd.Timestamp(out[-1][1]) + pd.Timedelta(days=1) == d:
            out[-1][1] = f"{d:%Y-%m-%d}"
        else:
            out.append([f"{d:%Y-%m-%d}", f"{d:%Y-%m-%d}"])
    return out


def build(request: BuildRequest, progress: ProgressFn | None = None,
          inputs: BuildInputs | None = None) -> Path | str:
    """Build the cube for ``request``, publish it as a new release and return the store path."""
    say = progress or no_progress
    grid, times = request.grid, request.times
    settings = request.settings
    prep = prepare(grid, times, request.id, inputs, say, settings=settings)
    nat = prep.nat
    final = request.store
    with store.writer_lock(final, settings=settings) as held:
        tmp = store.staging_path(final)
        store.create(tmp, grid, times, nat.regions, prep.attrs)
        store.write_national(tmp, nat.values, nat.rel_sigma, nat.evidence)
        write_tables(tmp, prep.tables)
        with dask_client(request.scheduler, settings=settings) as client:
            grid_sums = write_days(client, tmp, list(range(len(times))), prep, say)
            check_complete(tmp, len(times))
            worst = mass_gap(grid_sums, nat.values)
            if worst > MASS_TOLERANCE:
                raise BuildError(f"mass balance broken: grid and national totals differ by {worst:.2e} (relative); "
                                 f"the unfinished store stays at {tmp} for inspection")
            manifest = {"kind": "build", "days_added": day_ranges(times), "days_revised": [],
                        "reason": "full build", "weights_digest": weights_digest(prep),
                        "inputs": [{"path": f.path, "sha256": f.sha256} for f in prep.files]}
            rid = store.staged_release_id(final, tmp)

            def before_publish(cube: store.Target) -> list[str]:
                done = derive_layouts(cube, client, say) if request.layouts else []
                done += release_files.for_release(cube, rid, client=client, progress=say, settings=settings)
                held.check()  # never publish after losing the lock (object storage: taken over as stale)
                return done

            return store.seal(tmp, final, {"mass_balance_max_rel_gap": worst,
                                           "fallback_regions": prep.weights.fallback_summary(nat.values)},
                              manifest, before_publish=before_publish)
