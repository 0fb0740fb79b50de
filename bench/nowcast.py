"""Nowcast benchmark: a global day of temporal disaggregation + mass-conserving downscaling.

    python bench/nowcast.py --quick      # 3 days, 0.25 and 0.1 deg, best of 3 (~1 minute once weights are cached)
    python bench/nowcast.py              # a whole year (2024) at 0.25 and 0.1 deg

From the real shipped inputs (pipelines.inputs.load_inputs): national daily sector totals
(pipelines.national.national_daily, the annual -> monthly -> daily disaggregation and nowcast),
then the per-sector weight matrices (pipelines.weights.build_weights).  Timed: for every day, all 7
sectors' sparse mat-vecs -> float32 emissions (nowcast.downscale.downscale) and per-cell
uncertainty (nowcast.downscale.cell_uncertainty), i.e. exactly what a build task computes before
it writes, excluding I/O.  Sectors run on 1 thread and on 2 threads (the sparse kernels release
the GIL).  Weight building is timed once and cached in Settings.cache_dir/bench (it is per grid,
not per day).

``day_seconds_<res>`` = best downscaling time of a day (fused mat-vec,
nowcast.downscale.downscale_with_uncertainty, 1 or 2 threads) + the disaggregation time per day
(national_daily for the whole year / its days; it models whole years whatever the span).
``downscale_day_s_<res>_two_calls`` times the two separate calls (downscale + cell_uncertainty) that
pipelines/build.py made before it switched to the fused kernel (what it runs now is ``_1thread``).  ``year_seconds_<res>`` extrapolates to
365 days (quick) or is measured over the whole year (full run).  The last stdout line is JSON; it
also holds ``loadavg`` (os.getloadavg() at start and end): the machine is shared, so absolute
times vary with it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from carbonmap import contract as cc
from carbonmap.settings import get_settings
from nowcast.downscale import cell_uncertainty, downscale, downscale_with_uncertainty
from pipelines.inputs import load_inputs
from pipelines.national import national_daily
from pipelines.weights import build_weights

WEIGHT_SOURCES = ("nowcast/downscale.py", "nowcast/proxies.py", "nowcast/reweight.py", "pipelines/weights.py",
                  "pipelines/inputs.py", "ingest/power_plants.py")


def _weights_key(res: float, regions: tuple[str, ...]) -> str:
    h = hashlib.sha256(repr((res, regions)).encode())
    for rel in WEIGHT_SOURCES:
        h.update((REPO / rel).read_bytes())
    return h.hexdigest()[:16]


def weights_for(inputs, grid: cc.Grid, regions: tuple[str, ...]) -> tuple[list[sp.csr_matrix], float, bool]:
    """CSR (cell, region) matrices in cube sector order, the build time (s), and whether cached."""
    folder = get_settings().cache_dir / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    key = _weights_key(grid.resolution, regions)
    files = [folder / f"nowcast_w_{grid.resolution}_{key}_{s}.npz" for s in cc.SECTORS]
    if all(f.exists() for f in files):
        return [sp.load_npz(f).tocsr() for f in files], 0.0, True
    t0 = time.perf_counter()
    gw = build_weights(inputs, grid, regions)
    mats = list(gw.for_tasks().matrices)
    took = time.perf_counter() - t0
    for f, m in zip(files, mats, strict=True):
        tmp = f.with_name(f".{f.name}.{os.getpid()}.npz")
        sp.save_npz(tmp, m)
        os.replace(tmp, f)
    return mats, took, False


def one_day(mats: list[sp.csr_matrix], nat: np.ndarray, sig: np.ndarray, sigma: tuple[float, ...],
            shape: tuple[int, int], pool: ThreadPoolExecutor | None, fused: bool = True) -> float:
    """Downscale one day, all sectors: (sector, lat, lon) float32 emissions and uncertainty; grid sum."""
    ny, nx = shape
    em = np.empty((len(cc.SECTORS), ny, nx), dtype=np.float32)
    un = np.empty((len(cc.SECTORS), ny, nx), dtype=np.float32)

    def sector(s: int) -> float:
        m = mats[s]
        if fused:
            e, u = downscale_with_uncertainty(m, nat[s], sig[s], sigma[s])
            em[s], un[s] = e.reshape(ny, nx), u.reshape(ny, nx)
        else:  # the two separate calls pipelines/build.py made before it used the fused kernel
            em[s] = downscale(m, nat[s]).reshape(ny, nx)
            un[s] = cell_uncertainty(m, nat[s], sig[s], sigma[s]).reshape(ny, nx)
        return 0.0

    if pool is None:
        for s in range(len(cc.SECTORS)):
            sector(s)
    else:
        list(pool.map(sector, range(len(cc.SECTORS))))
    return float(em.sum(dtype=np.float64))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 days, best of 3, year extrapolated")
    ap.add_argument("--year", type=int, default=2024)
    args = ap.parse_args()
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    inputs = load_inputs()
    t_load = time.perf_counter() - t0
    year_days = pd.date_range(f"{args.year}-01-01", f"{args.year}-12-31", freq="D")
    n_days = 3 if args.quick else len(year_days)
    t0 = time.perf_counter()
    nat = national_daily(inputs, year_days)  # whole years are modelled anyway; amortised per day
    t_disagg = time.perf_counter() - t0
    print(f"load_inputs {t_load:.1f} s; national_daily for {len(year_days)} days {t_disagg:.2f} s", flush=True)
    from nowcast.proxies import PROXY_REL_SIGMA

    sigma = tuple(PROXY_REL_SIGMA[s] for s in cc.SECTORS)
    out: dict[str, object] = {"n_days": n_days, "year": args.year, "load_inputs_s": round(t_load, 2),
                              "national_daily_year_s": round(t_disagg, 3),
                              "disaggregate_day_s": round(t_disagg / len(year_days), 4)}
    pool = ThreadPoolExecutor(2)
    for res, tag in ((0.25, "0p25"), (0.1, "0p1")):
        grid = cc.Grid(res, -180.0, -90.0, 180.0, 90.0)
        mats, t_w, cached = weights_for(inputs, grid, nat.regions)
        nnz = sum(m.nnz for m in mats)
        worst = 0.0
        per_day: dict[str, list[float]] = {"1thread": [], "2threads": [], "two_calls": []}
        for d in range(n_days):
            for label, p, fused in (("1thread", None, True), ("two_calls", None, False), ("2threads", pool, True)):
                if label == "2threads" or d < 3:
                    t1 = time.perf_counter()
                    total = one_day(mats, nat.values[d], nat.rel_sigma[d], sigma, grid.shape, p, fused)
                    per_day[label].append(time.perf_counter() - t1)
            ref = float(nat.values[d].sum())
            worst = max(worst, abs(total - ref) / ref)
            if not args.quick and (d % 30 == 29 or d == n_days - 1):
                print(f"  {res} deg: day {d + 1}/{n_days}, {sum(per_day['2threads']):.0f} s downscaling so far",
                      file=sys.stderr, flush=True)
        best1, best2 = min(per_day["1thread"]), min(per_day["2threads"])
        day_s = min(best1, best2) + t_disagg / len(year_days)
        out.update({
            f"day_seconds_{tag}": round(day_s, 3),
            f"downscale_day_s_{tag}_1thread": round(best1, 3),
            f"downscale_day_s_{tag}_2threads": round(best2, 3),
            f"downscale_day_s_{tag}_two_calls": round(min(per_day["two_calls"]), 3),
            f"year_seconds_{tag}": round(len(year_days) * min(best1, best2) + t_disagg if args.quick
                                         else sum(per_day["2threads"]) + t_disagg, 1),
            f"weights_build_s_{tag}": None if cached else round(t_w, 1),
            f"weights_nnz_{tag}": nnz,
            f"mass_gap_float32_{tag}": worst,
        })
        print(f"{res} deg: day {day_s:.3f} s (downscale 1 thread {best1:.3f} s, 2 threads {best2:.3f} s, "
              f"two calls {min(per_day['two_calls']):.3f} s; "
              f"weights {'cached' if cached else f'{t_w:.1f} s'}, nnz {nnz}); float32 mass gap {worst:.1e}",
              flush=True)
    pool.shutdown()
    out["year_extrapolated"] = bool(args.quick)
    out["loadavg"] = {"start": [round(x, 2) for x in load0], "end": [round(x, 2) for x in os.getloadavg()]}
    out["cores"] = os.cpu_count()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
