"""TROPOMI binning benchmark: carbonmap's np.bincount binning vs scipy.stats.binned_statistic_2d.

    python bench/ingest.py --quick        # one orbit fixture, 0.1 deg, best of 3 (< 1 minute)
    python bench/ingest.py                # 0.1 and 0.25 deg, best of 7

A format-exact fixture orbit (ingest.tropomi_fixture: the real S5P header with SYNTHETIC pixels,
4172 scanlines x 450 ground pixels = 1.88 M pixels) is written once to the cache and read with
ingest.tropomi.read_tropomi_l2.  The QA >= 0.75 pixels are then binned to a global daily grid
(mean of pixel centres per cell) by:

- carbonmap, one core: ``ingest.tropomi.bin_mean``;
- carbonmap, two cores: ``ingest.tropomi.bin_mean_threads`` (2 dask.delayed tasks, threads);
- scipy: ``binned_statistic_2d(lat, lon, no2, "mean", bins=[lat_edges, lon_edges])`` on the same pixels.

Timings cover binning only (pixels already in memory); reading the orbit is timed separately.
The last stdout line is JSON: ``pixels_per_s`` (one core, 0.1 deg), ``pixels_per_s_2cores``,
``scipy_pixels_per_s``, ``speedup``, ``max_abs_diff`` (carbonmap vs scipy, mol m-2; NaN patterns must
match too), ``n_pixels``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FIXTURE_NAME = "S5P_OFFL_L2__NO2____20200303T013547_20200303T031717_12367_01_010302_20200306T053815.nc"


def _best(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(resolutions: list[float], repeats: int) -> dict:
    from scipy.stats import binned_statistic_2d

    from carbonmap.contract import Grid
    from carbonmap.settings import get_settings
    from ingest.tropomi import bin_mean, bin_mean_threads, grid_edges, qa_filter, read_tropomi_l2
    from tests.ingest.fixture_gen.tropomi import make_fixture

    path = get_settings().cache_dir / "bench" / "tropomi" / FIXTURE_NAME
    if not path.exists():
        t0 = time.perf_counter()
        make_fixture(path)
        print(f"fixture written in {time.perf_counter() - t0:.1f} s: {path}")
    t_read, sw = _best(lambda: read_tropomi_l2(path), 1)
    keep = qa_filter(sw)
    lat, lon, v = sw.lat[keep], sw.lon[keep], sw.no2[keep]
    n = int(v.size)
    print(f"orbit {sw.shape[0]} x {sw.shape[1]} pixels, read in {t_read:.2f} s; {n} pass QA >= 0.75")
    results: dict = {"n_pixels": n, "orbit_shape": list(sw.shape), "read_s": round(t_read, 3)}
    for res in resolutions:
        grid = Grid(res)
        le, oe = grid_edges(grid)
        t1, ours = _best(lambda grid=grid: bin_mean(lat, lon, v, grid), repeats)
        t2, ours2 = _best(lambda grid=grid: bin_mean_threads(lat, lon, v, grid, n_threads=2), repeats)
        ts, ref = _best(lambda le=le, oe=oe: binned_statistic_2d(lat, lon, v, "mean", bins=[le, oe]).statistic[::-1], repeats)
        same_nan = bool(np.array_equal(np.isnan(ours), np.isnan(ref)) and np.array_equal(np.isnan(ours2), np.isnan(ref)))
        diff = float(max(np.nanmax(np.abs(ours - ref)), np.nanmax(np.abs(ours2 - ref))))
        row = {"resolution": res, "ours_1core_s": round(t1, 4), "ours_2cores_s": round(t2, 4), "scipy_s": round(ts, 4),
               "pixels_per_s": round(n / t1), "pixels_per_s_2cores": round(n / t2),
               "scipy_pixels_per_s": round(n / ts), "speedup": round(ts / t1, 2),
               "speedup_2cores": round(ts / t2, 2), "max_abs_diff": diff, "same_empty_cells": same_nan}
        print(json.dumps(row))
        results.setdefault("by_resolution", []).append(row)
    head = results["by_resolution"][0]
    results.update({k: head[k] for k in ("pixels_per_s", "pixels_per_s_2cores", "scipy_pixels_per_s", "speedup",
                                          "speedup_2cores", "max_abs_diff", "same_empty_cells")})
    results["max_abs_diff"] = max(r["max_abs_diff"] for r in results["by_resolution"])
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="0.1 deg only, best of 3")
    args = ap.parse_args()
    res = run([0.1], 3) if args.quick else run([0.1, 0.25], 7)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
