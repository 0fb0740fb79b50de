"""Benchmark of object storage as a home (#20.4): the same cube on local disk and on S3, written and served.

The peer in the same run is the local disk.  S3 is moto's server (``moto.server.ThreadedMotoServer``) on
loopback in this process: real HTTP, real S3 requests and signatures, but no network latency and a
single-threaded pure-Python server, so it is a *floor* on what the store code itself costs, not a
model of a real bucket (see "a real bucket" below).

Cube: a synthetic smooth field (benchmark data, not emissions) on a global grid, 7 sectors, ``--days`` days
from 2024-01-01 (default 0.5 degree x 31 days; ``--quick`` 1 degree x 10 days), written with
``pipelines.store`` on both stores and sealed with its derived layouts (pyramid and time-series layout,
``pipelines.build.derive_layouts``; release files are left out: ``--with-files`` adds them).  Then one
``api.serve`` process serves both, and this script measures over HTTP:

* ``layouts_s_local`` / ``layouts_s_s3``: seconds to write the pyramid + time-series layout;
* ``tile_first_ms_*``: the server's first tile of the dataset (opens the pyramid: its metadata and first chunks);
* ``tile_cold_ms_*``: the first request of each of ``--tiles`` distinct tiles (z2..z4, the day, sector total;
  nothing of it cached by the server yet), median; ``tile_warm_ms_*``: the same tiles again (the server's
  decoded-chunk cache warm, its rendered-tile cache defeated by a fresh ``rescale``), median;
* ``region_cold_ms_*``: the first ``POST /emissions/query`` of a Europe-sized box over the whole period
  (``freq=day``), ``region_warm_ms_*`` the median of repeats; ``region_window_cold_ms_*``: a 7-day window
  inside the period in a fresh process-wide state is not possible here, so the window query is timed
  cold on its first call after the whole-period one (other chunks: the cumulative sums at its ends);
* ``*_ratio``: S3 / local for each.

A real bucket: each cold read of a shard costs two requests (the shard index by a suffix range, then the
inner chunks by one ranged GET); in-region S3 answers a small GET in ~15-30 ms first byte, so a cold tile
(one to four shards) adds ~30-120 ms and a cold region query over a Europe-sized box (four shard columns,
two steps of cumulative sums) ~60-250 ms over the figures here, warm reads nothing (decoded chunks cached).
The last stdout line is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.regions import field  # the same synthetic benchmark field as the region benchmark
from carbonmap import contract as cc

BOX = {"type": "Polygon", "coordinates": [[[-10, 35], [30, 35], [30, 60], [-10, 60], [-10, 35]]]}


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def write_cube(final: str | Path, dataset_id: str, resolution: float, days: int, with_files: bool) -> float:
    """A sealed synthetic cube at ``final`` (local path or s3:// URL) with its layouts; returns the seconds spent
    writing the layouts (pyramid + time-series layout, + release files if asked)."""
    from carbonmap.settings import get_settings
    from pipelines import release_files, store
    from pipelines.build import derive_layouts
    from pipelines.cluster import dask_client

    grid = cc.Grid(resolution)
    times = pd.date_range("2024-01-01", periods=days, freq="D")
    prov = cc.Provenance(inputs=(), code_version="bench", build_time=dt.datetime.now(dt.UTC).isoformat(),
                         methods={"all": "synthetic benchmark field"}, proxies=("synthetic benchmark field",))
    attrs = cc.global_attrs(dataset_id=dataset_id, title="object-store benchmark cube (synthetic)", grid=grid,
                            start=str(times[0].date()), end=str(times[-1].date()), provenance=prov,
                            summary="synthetic field for bench/object_store.py")
    tmp = store.staging_path(final)
    store.create(tmp, grid, times, ["AAA"], attrs)
    nat = np.zeros((days, len(cc.SECTORS), 1))
    for t in range(days):
        f = field(grid, t)
        store.write_day(tmp, t, f, np.full_like(f, 0.1))
        nat[t, :, 0] = f.reshape(len(cc.SECTORS), -1).sum(axis=1)
    store.write_national(tmp, nat, np.full_like(nat, 0.05))
    spent = [0.0]
    rid = store.staged_release_id(final, tmp)

    def layouts(cube: store.Target) -> list[str]:
        t0 = time.perf_counter()
        with dask_client(None, settings=get_settings()) as client:
            done = derive_layouts(cube, client, lambda d, n, m: None)
            if with_files:
                done += release_files.for_release(cube, rid, client=client, settings=get_settings())
        spent[0] = time.perf_counter() - t0
        return done

    store.seal(tmp, final, manifest={"kind": "build"}, before_publish=layouts)
    return spent[0]


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000.0, 2)


def measure(http: object, ds: str, tiles: list[tuple[int, int, int]], date: str, repeat: int) -> dict[str, float]:
    import httpx

    assert isinstance(http, httpx.Client)

    def tile(z: int, x: int, y: int, rescale: str) -> float:
        t0 = time.perf_counter()
        r = http.get(f"/tiles/{ds}/WebMercatorQuad/{z}/{x}/{y}.png",
                     params={"date": date, "sector": "total", "rescale": rescale})
        took = time.perf_counter() - t0
        if r.status_code != 200 or r.headers.get("x-tile-renderer") != "pyramid":
            raise RuntimeError(f"{ds} tile {z}/{x}/{y}: {r.status_code} {r.headers.get('x-tile-renderer')} "
                               f"{r.text[:200]}")
        return took

    def query(body: dict) -> float:
        t0 = time.perf_counter()
        r = http.post("/emissions/query", json=body)
        took = time.perf_counter() - t0
        if r.status_code != 200:
            raise RuntimeError(f"{ds} query: {r.status_code} {r.text[:300]}")
        return took

    out: dict[str, float] = {}
    cold = [tile(z, x, y, "1,1000000") for z, x, y in tiles]
    out["tile_first_ms"] = round(cold[0] * 1000.0, 2)  # the server's first tile of the dataset: opens the pyramid
    out["tile_cold_ms"] = median_ms(cold)
    out["tile_warm_ms"] = median_ms([tile(z, x, y, f"1,{1000000 + k + 1}") for k, (z, x, y) in
                                     enumerate(tiles * max(1, repeat // len(tiles) + 1))][:max(repeat, len(tiles))])
    whole = {"dataset": ds, "geometry": BOX, "freq": "day"}
    out["region_cold_ms"] = median_ms([query(whole)])
    out["region_warm_ms"] = median_ms([query(whole) for _ in range(repeat)])
    window = {"dataset": ds, "geometry": BOX, "start": "2024-01-03", "end": "2024-01-09", "freq": "day"}
    out["region_window_cold_ms"] = median_ms([query(window)])
    out["region_window_warm_ms"] = median_ms([query(window) for _ in range(repeat)])
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 degree x 10 days, fewer requests (under a minute)")
    ap.add_argument("--resolution", type=float, default=None, help="grid step in degrees (default 0.5; quick 1)")
    ap.add_argument("--days", type=int, default=None, help="days in the cube (default 31; quick 10)")
    ap.add_argument("--tiles", type=int, default=None, help="distinct tiles (default 24; quick 8)")
    ap.add_argument("--repeat", type=int, default=None, help="warm repeats (default 20; quick 5)")
    ap.add_argument("--with-files", action="store_true", help="also write the release files on both stores")
    args = ap.parse_args(argv)
    resolution = args.resolution if args.resolution is not None else (1.0 if args.quick else 0.5)
    days = args.days if args.days is not None else (10 if args.quick else 31)
    n_tiles = args.tiles if args.tiles is not None else (8 if args.quick else 24)
    repeat = args.repeat if args.repeat is not None else (5 if args.quick else 20)
    if days < 8 or resolution not in (0.1, 0.25, 0.5, 1.0, 2.0):
        ap.error("--days must be >= 8 (the window query) and --resolution one of 0.1, 0.25, 0.5, 1, 2")
    if n_tiles < 3 or repeat < 1:
        ap.error("--tiles must be >= 3 (one per zoom 2-4) and --repeat >= 1")

    import httpx

    from tests.api.routes.live_server import live_server
    from tests.s3_server import moto_s3

    rng = np.random.default_rng(3)
    tiles = [(z, int(rng.integers(0, 2 ** z)), int(rng.integers(2 ** (z - 2), 3 * 2 ** (z - 2))))
             for z in (2, 3, 4) for _ in range(max(1, n_tiles // 3))]
    result: dict[str, object] = {"bench": "object_store", "resolution": resolution, "days": days,
                                 "tiles": len(tiles), "repeat": repeat}
    with tempfile.TemporaryDirectory(prefix="carbonmap-bench-s3-") as tmp, moto_s3("carbonmap-bench") as (bucket, env):
        local = Path(tmp) / "bench-local.zarr"
        url = f"{bucket}/bench-s3.zarr"
        say(f"writing the cube ({resolution} deg x {days} days) on local disk ...")
        result["layouts_s_local"] = round(write_cube(local, "bench-local", resolution, days, args.with_files), 2)
        say(f"  layouts {result['layouts_s_local']} s; writing it on S3 (moto) ...")
        result["layouts_s_s3"] = round(write_cube(url, "bench-s3", resolution, days, args.with_files), 2)
        say(f"  layouts {result['layouts_s_s3']} s; serving both ...")
        date = "2024-01-05"
        server = live_server([local, url], Path(tmp) / "server.log", env_extra=env)  # type: ignore[list-item]
        with server as base, httpx.Client(base_url=base, timeout=120) as http:
            for ds, name in (("bench-local", "local"), ("bench-s3", "s3")):
                say(f"  measuring {name} ...")
                for k, v in measure(http, ds, tiles, date, repeat).items():
                    result[f"{k}_{name}"] = v
    for key in ("layouts_s", "tile_first_ms", "tile_cold_ms", "tile_warm_ms", "region_cold_ms", "region_warm_ms",
                "region_window_cold_ms", "region_window_warm_ms"):
        a, b = result[f"{key}_s3"], result[f"{key}_local"]
        assert isinstance(a, float) and isinstance(b, float)
        result[f"{key}_ratio"] = round(a / b, 2) if b > 0 else None
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
