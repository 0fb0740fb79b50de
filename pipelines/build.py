"""Build a daily emissions cube: inputs -> national daily sector totals -> grid -> Zarr.

Dask distributed runs one task per block of days; each task downscales its days with the
(broadcast) sparse weights and writes whole day shards, so tasks never touch the same
object.  The store is written under ``<store>.building`` and sealed (checked, marked
complete, moved into place) only when every day is written and mass balance holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import zarr
from distributed import as_completed

from carbonmap import __version__
from carbonmap import contract as cc
from carbonmap.progress import ProgressFn
from nowcast.downscale import cell_uncertainty, downscale
from pipelines import store
from pipelines.cluster import dask_client
from pipelines.inputs import BuildInputs, load_inputs
from pipelines.national import NationalDaily, national_daily
from pipelines.weights import SectorWeights, build_weights

DAYS_PER_TASK = 8
MASS_TOLERANCE = 1e-6


class BuildError(RuntimeError):
    """A build failed; the previous store (if any) is untouched."""


@dataclass(frozen=True)
class BuildRequest:
    """What to build: the period (inclusive), the grid resolution and where to put it."""

    start: dt.date
    end: dt.date
    resolution: float
    store: Path
    dataset_id: str | None = None
    scheduler: str | None = None

    def __post_init__(self) -> None:
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


def _write_block(path: str, days: list[int], national: np.ndarray, national_unc: np.ndarray,
                 weights: SectorWeights, proxy_sigma: tuple[float, ...],
                 shape: tuple[int, int]) -> tuple[list[int], np.ndarray]:
    """Dask task: downscale and write the given day indices.

    national: (day_in_block, sector, region) kg CO2 day-1; national_unc same dims, relative 1-sigma.
    Returns the day indices and the float64 sums of the float32 fields as stored, (day, sector),
    kg CO2 day-1, so the caller can check mass balance without reading the store back.
    """
    group = zarr.open_group(path, mode="r+")
    em_arr, un_arr = group[cc.EMISSIONS_VAR], group[cc.UNCERTAINTY_VAR]
    ny, nx = shape
    sums = np.zeros((len(days), len(cc.SECTORS)))
    for k, t in enumerate(days):
        em = np.empty((len(cc.SECTORS), ny, nx), dtype=np.float32)
        un = np.empty((len(cc.SECTORS), ny, nx), dtype=np.float32)
        for s in range(len(cc.SECTORS)):
            m = weights.matrices[s]
            em[s] = downscale(m, national[k, s]).reshape(ny, nx)
            un[s] = cell_uncertainty(m, national[k, s], national_unc[k, s], proxy_sigma[s]).reshape(ny, nx)
        em_arr[t] = em
        un_arr[t] = un
        sums[k] = em.sum(axis=(1, 2), dtype=np.float64)
    return days, sums


def mass_gap(grid_sums: np.ndarray, national: np.ndarray) -> float:
    """Largest relative gap between grid sums (day, sector) and national (day, sector, region) totals."""
    nat_sum = national.sum(axis=2)
    gap = np.abs(grid_sums - nat_sum) / np.where(nat_sum > 0, nat_sum, 1.0)
    return float(gap.max()) if gap.size else 0.0


def check_complete(path: Path, n_days: int) -> None:
    """Every day's shard of both grids exists (a task that died would leave a hole)."""
    for var in (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR):
        chunk_dir = path / var / "c"
        have = {p.name for p in chunk_dir.iterdir()} if chunk_dir.is_dir() else set()
        missing = [t for t in range(n_days) if str(t) not in have]
        if missing:
            raise BuildError(f"{var} has no data for {len(missing)} day(s), first index {missing[0]}")


def build(request: BuildRequest, progress: ProgressFn | None = None,
          inputs: BuildInputs | None = None) -> Path:
    """Build the cube for ``request`` and return the sealed store path."""
    say = progress or (lambda done, total, msg: None)
    grid, times = request.grid, request.times
    say(0, 1, "reading inputs")
    inputs = inputs or load_inputs(grid)
    say(0, 1, "national daily sector totals")
    nat: NationalDaily = national_daily(inputs, times)
    say(0, 1, f"downscaling weights on the {grid.resolution} degree grid")
    weights = build_weights(inputs, grid, nat.regions)
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
    attrs = cc.global_attrs(dataset_id=request.id, title=title, grid=grid, start=f"{times[0]:%Y-%m-%d}",
                            end=f"{times[-1]:%Y-%m-%d}", provenance=prov,
                            summary="Daily fossil CO2 emissions in 7 sectors on a regular global grid, "
                                    "downscaled from national inventories (Global Carbon Budget) with "
                                    "spatial proxies. See provenance_proxies for the simplified parts.")
    final = Path(request.store)
    tmp = store.building_path(final)
    store.create(tmp, grid, times, nat.regions, attrs)
    store.write_national(tmp, nat.values, nat.rel_sigma)

    blocks = [list(range(i, min(i + DAYS_PER_TASK, len(times)))) for i in range(0, len(times), DAYS_PER_TASK)]
    proxy_sigma = tuple(weights.proxy_sigma[s] for s in cc.SECTORS)
    with dask_client(request.scheduler) as client:
        w_future = client.scatter(weights.for_tasks(), broadcast=True)
        futures = [client.submit(_write_block, str(tmp), days, nat.values[days], nat.rel_sigma[days], w_future,
                                 proxy_sigma, grid.shape, pure=False) for days in blocks]
        done = 0
        grid_sums = np.full((len(times), len(cc.SECTORS)), np.nan)
        say(0, len(times), "writing days")
        for fut in as_completed(futures):
            days, sums = fut.result()
            grid_sums[days] = sums
            done += len(days)
            say(done, len(times), "writing days")
    check_complete(tmp, len(times))
    worst = mass_gap(grid_sums, nat.values)
    if worst > MASS_TOLERANCE:
        raise BuildError(f"mass balance broken: grid and national totals differ by {worst:.2e} (relative); "
                         f"the unfinished store stays at {tmp} for inspection")
    return store.seal(tmp, final, {"mass_balance_max_rel_gap": worst,
                                   "fallback_regions": weights.fallback_summary(nat.values)})
