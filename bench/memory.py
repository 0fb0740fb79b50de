"""Peak memory of a 0.1 degree build: `carbonmap build` in a subprocess, RSS of its whole process tree.

    python bench/memory.py [--days 31] [--resolution 0.1] [--workers 2] [--keep]

Samples every 0.5 s the RSS of the build process and all its descendants (the LocalCluster's
nanny and worker processes) with psutil; reports the peak of the sum and the peak of the largest
single process.  Memory per worker is bounded by design (a task holds one day, all sectors, of
emissions + uncertainty, plus the broadcast weights), so the peak does not grow with the number
of days; a month is enough to measure it, and the wall time scales linearly (stated as such in
the JSON, ``extrapolated_year_s``).  The last stdout line is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent


def _tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """(sum of RSS, largest RSS) over the process and its descendants, bytes."""
    procs = [proc]
    try:
        procs += proc.children(recursive=True)
    except psutil.Error:
        pass
    rss = []
    for p in procs:
        try:
            rss.append(p.memory_info().rss)
        except psutil.Error:
            continue
    return sum(rss), max(rss, default=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=31)
    ap.add_argument("--start", default="2024-01-01")
    ap.add_argument("--resolution", type=float, default=0.1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the built store")
    args = ap.parse_args()
    start = dt.date.fromisoformat(args.start)
    end = start + dt.timedelta(days=args.days - 1)
    tmp = Path(tempfile.mkdtemp(prefix="carbonmap-mem-"))
    store = tmp / "mem.zarr"
    env = {**os.environ, "CARBONMAP_DASK_WORKERS": str(args.workers)}
    cmd = [sys.executable, "-m", "carbonmap", "build", "--start", str(start), "--end", str(end), "--resolution",
           str(args.resolution), "--store", str(store), "--id", "bench-memory"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ps = psutil.Process(proc.pid)
    peak_sum = peak_one = 0
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(proc.stdout or []), daemon=True)
    reader.start()
    while proc.poll() is None:
        s, one = _tree_rss(ps)
        peak_sum, peak_one = max(peak_sum, s), max(peak_one, one)
        time.sleep(0.5)
    wall = time.monotonic() - t0
    reader.join(timeout=5)
    size = sum(f.stat().st_size for f in store.resolve().rglob("*") if f.is_file()) if store.exists() else 0
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {"resolution": args.resolution, "days": args.days, "workers": args.workers,
              "exit_code": proc.returncode, "wall_s": round(wall, 1),
              "peak_rss_total_gb": round(peak_sum / 1e9, 2), "peak_rss_largest_process_gb": round(peak_one / 1e9, 2),
              "store_gb": round(size / 1e9, 3),
              "extrapolated_year_s": round(wall / args.days * 366, 0) if args.days else None,
              "note": "peak RSS is per-day bounded; a longer period changes wall time, not the peak"}
    if proc.returncode != 0:
        print("".join(log[-40:]))
    print(f"{args.days} days at {args.resolution} deg: peak RSS {result['peak_rss_total_gb']} GB (tree), "
          f"{result['peak_rss_largest_process_gb']} GB (largest process), {result['wall_s']} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
