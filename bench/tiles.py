"""Tile benchmark: carbonmap's tile endpoint vs stock titiler.xarray on the same Zarr, over real HTTP.

    python bench/tiles.py --quick          # 0.25 deg x 8 days, z0-z8, < 1 minute once cached
    python bench/tiles.py                  # 0.1 deg x 90 days x 7 sectors, z0-z8 (recorded in RESULTS.md)
    python bench/tiles.py --store stores/demo.zarr

The cube (a synthetic heavy-tailed field shaped like ours: blurred "cities" over land-like areas,
point-source "plants" in power, shipping lanes, weekday/seasonal factors per sector; benchmark data,
not a proxy of anything) and its pyramid are built once under ``--cache-dir`` and reused.  Both
servers run under uvicorn in subprocesses on 127.0.0.1 (one process each).  The same list of
distinct tiles spread over z0-z8 (one day, one sector) is fetched in passes, each concurrency level
over one keep-alive client reused across passes.  carbonmap runs as users run it, ``python -m
api.serve`` with ``--workers`` processes (default one per core); titiler as one uvicorn process (its
stock app has no multi-process entry point here, and it is the per-tile cost that is compared):

- ``cold``:    first request of each tile (chunks not decoded yet), concurrency 1;
- ``warm``:    the same tiles with another colormap, so no encoded tile is reused but the decoded
               chunks are cached (the steady state of a map being browsed), concurrency 1 and 8 (with
               several server workers, a c=8 pass with a third colormap first warms every worker);
- ``repeat``:  the same URLs again (answered from the encoded-tile LRU), concurrency 1 and 8;
- titiler:     stock ``titiler.xarray`` ``TilerFactory`` (``url=`` the same store, ``sel=time=..``,
               ``sel=sector=..``), a first pass and a second (warm) pass, concurrency 1 and 8.

The last stdout line is JSON: p50_ms / p99_ms (carbonmap warm, concurrency 1, all zooms),
tiles_per_s (warm, concurrency 8), titiler_p50_ms (titiler second pass, concurrency 1), per-zoom
numbers, the other passes and the load average before and after.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


# ---- the benchmark cube ---------------------------------------------------------------------

def synthetic_fields(resolution: float, seed: int = 0) -> np.ndarray:
    """(sector, lat, lon) float32 kg CO2 day-1 cell-1: a heavy-tailed, spatially structured field."""
    from scipy.ndimage import gaussian_filter

    from carbonmap import contract as cc

    grid = cc.Grid(resolution)
    rng = np.random.default_rng(seed)
    ny, nx = grid.shape
    # land-like mask: smooth noise thresholded, away from the poles
    coarse = gaussian_filter(rng.standard_normal((ny // 10 + 1, nx // 10 + 1)), 3, mode="wrap")
    land = np.kron(coarse > 0.05, np.ones((10, 10), bool))[:ny, :nx] & (np.abs(grid.lat) < 72)[:, None]
    # population-like: point "cities" with lognormal sizes, blurred, times lognormal noise
    pop = np.zeros(grid.shape)
    n_cities = 20000
    rows, cols = rng.integers(0, ny, n_cities), rng.integers(0, nx, n_cities)
    np.add.at(pop, (rows, cols), rng.lognormal(0, 1.5, n_cities))
    pop = gaussian_filter(pop, max(1.0, 0.3 / resolution), mode="wrap") * rng.lognormal(0, 0.5, grid.shape)
    pop = np.where(land, pop, 0.0)
    pop /= pop.sum()
    plants = np.zeros(grid.shape)
    n_plants = 8000
    prow, pcol = rng.integers(0, ny, n_plants), rng.integers(0, nx, n_plants)
    ok = land[prow, pcol]
    np.add.at(plants, (prow[ok], pcol[ok]), rng.lognormal(0, 1.2, ok.sum()))
    plants /= plants.sum()
    lanes = np.zeros(grid.shape)
    for _ in range(60):  # great-circle-ish shipping lanes as sinusoids over the ocean
        lon = np.linspace(-180, 180, nx * 2)
        lat = rng.uniform(-50, 55) + rng.uniform(5, 20) * np.sin(np.radians(lon) * rng.integers(1, 3) + rng.uniform(0, 6))
        r, c = grid.cell_index(lon, lat)
        good = r >= 0
        lanes[r[good], c[good]] += 1.0
    lanes = np.where(land, 0.0, gaussian_filter(lanes, 1.0, mode="wrap"))
    lanes /= lanes.sum()
    # global daily totals per sector, kg day-1 (~ 38 Gt yr-1 split roughly like the real sectors)
    totals = np.array([14.0, 9.5, 7.5, 4.0, 0.3, 0.6, 0.7]) * 1e12 / 365
    spread = [plants, pop, pop, pop, pop, pop, lanes]
    return np.stack([(t * f).astype(np.float32) for t, f in zip(totals, spread, strict=True)])


def bench_cube(path: Path, resolution: float, days: int, progress: bool = True) -> Path:
    """A sealed benchmark cube at ``path`` (reused when it exists), with its pyramid."""
    import pandas as pd

    from carbonmap import contract as cc
    from carbonmap.storage.pyramid import pyramid_path
    from pipelines import store
    from pipelines.pyramid import build_pyramid

    if not path.exists():
        grid = cc.Grid(resolution)
        times = pd.date_range("2024-01-01", periods=days, freq="D")
        prov = cc.Provenance(inputs=(), code_version="bench", build_time=dt.datetime.now(dt.UTC).isoformat(),
                             proxies=("synthetic benchmark field",))
        attrs = cc.global_attrs(dataset_id="bench", title="tile benchmark cube", grid=grid,
                                start=str(times[0].date()), end=str(times[-1].date()), provenance=prov,
                                summary="synthetic benchmark field")
        tmp = store.building_path(path)
        store.create(tmp, grid, times, ["AAA"], attrs)
        base = synthetic_fields(resolution)
        unc = np.where(base > 0, 0.2, 0.0).astype(np.float32)
        t0 = time.perf_counter()
        for t, day in enumerate(times):
            weekday = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.85, 0.8])[day.dayofweek]
            season = 1 + 0.2 * np.cos(2 * np.pi * (day.dayofyear - 15) / 365)
            factors = np.array([weekday * season, weekday, weekday, season ** 2, 1.0, 1.0, 1.0], np.float32)
            store.write_day(tmp, t, base * factors[:, None, None], unc)
            if progress and (t % 10 == 0 or t == days - 1):
                print(f"  cube day {t + 1}/{days} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        store.write_national(tmp, np.zeros((days, len(cc.SECTORS), 1)), np.zeros((days, len(cc.SECTORS), 1)))
        store.seal(tmp, path)
    if not (pyramid_path(path) / "zarr.json").exists():
        t0 = time.perf_counter()

        def say(done: int, total: int, msg: str) -> None:
            if progress:
                print(f"  {msg}: {done}/{total} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)

        from carbonmap.settings import get_settings
        from pipelines.cluster import dask_client

        with dask_client(settings=get_settings()) as client:
            build_pyramid(path, say, client)
        print(f"  pyramid built in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return path


# ---- servers (run as subprocesses of this script) ---------------------------------------------

def serve(kind: str, store_path: Path, port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    if kind == "carbonmap":
        from carbonmap.registry import Registry
        from tiles.app import create_tiles_app

        reg = Registry()
        reg.add(store_path)
        app = create_tiles_app(reg)
    else:
        from titiler.xarray.factory import TilerFactory

        app = FastAPI()
        md = TilerFactory(router_prefix="/md")
        app.include_router(md.router, prefix="/md")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, store_path: Path, workers: int = 1, chunk_cache_mb: int | None = None
          ) -> tuple[subprocess.Popen, str]:
    """A server subprocess: carbonmap = ``python -m api.serve`` (the whole app, as users run it) with
    ``workers`` processes and ``CARBONMAP_CHUNK_CACHE_BYTES`` from ``chunk_cache_mb`` (None: the
    default setting); titiler = stock ``TilerFactory`` under uvicorn (one process)."""
    port = free_port()
    env = dict(os.environ)
    if chunk_cache_mb is not None:
        env["CARBONMAP_CHUNK_CACHE_BYTES"] = str(chunk_cache_mb * 2**20)
    if kind == "carbonmap":
        args = [sys.executable, "-m", "api.serve", "--store", str(store_path), "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    else:
        args = [sys.executable, __file__, "--serve", kind, "--store", str(store_path), "--port", str(port)]
    proc = subprocess.Popen(args, cwd=REPO, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/openapi.json", timeout=2)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


# ---- load -----------------------------------------------------------------------------------

def tile_list(zooms: range, per_zoom: int, seed: int = 1) -> list[tuple[int, int, int]]:
    """Distinct tiles per zoom, rows limited to ~70S..70N (where the field is), sorted by zoom."""
    rng = random.Random(seed)
    out: list[tuple[int, int, int]] = []
    for z in zooms:
        size = 2**z
        lo, hi = int(size * 0.25), max(int(size * 0.75), int(size * 0.25) + 1)
        candidates = [(z, x, y) for x in range(size) for y in range(lo, hi)] if size <= 64 else None
        if candidates is not None:
            out += rng.sample(candidates, min(per_zoom, len(candidates)))
        else:
            chosen: set[tuple[int, int, int]] = set()
            while len(chosen) < per_zoom:
                chosen.add((z, rng.randrange(size), rng.randrange(lo, hi)))
            out += sorted(chosen)
    return out


_CLIENTS: dict[int, httpx.Client] = {}


def client_for(concurrency: int) -> httpx.Client:
    """One keep-alive client per concurrency level, reused across passes (as a browser keeps its
    connections): no pass pays for opening connections on its first tiles."""
    if concurrency not in _CLIENTS:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        _CLIENTS[concurrency] = httpx.Client(timeout=300, limits=limits)
    return _CLIENTS[concurrency]


_POOLS: dict[int, cf.ThreadPoolExecutor] = {}


def pool_for(concurrency: int) -> cf.ThreadPoolExecutor:
    """One client thread pool per concurrency level, reused across passes like the clients: a fresh
    thread's first request cost 30-40 ms here (client side), which with a new pool per pass landed on
    each pass's first tile (the single z0 tile, so the whole of z0's "warm" figure)."""
    if concurrency not in _POOLS:
        _POOLS[concurrency] = cf.ThreadPoolExecutor(concurrency)
    return _POOLS[concurrency]


def close_clients() -> None:
    for c in _CLIENTS.values():
        c.close()
    _CLIENTS.clear()
    for pool in _POOLS.values():
        pool.shutdown()
    _POOLS.clear()


def fetch_all(urls: list[str], concurrency: int) -> tuple[np.ndarray, float]:
    """Latencies (ms) of GETs at the given concurrency (each request is a fresh tile), and wall seconds."""
    def one(client: httpx.Client, url: str) -> float:
        t = time.perf_counter()
        r = client.get(url)
        if r.status_code != 200:
            raise RuntimeError(f"{url} -> {r.status_code} {r.text[:200]}")
        return (time.perf_counter() - t) * 1000

    client = client_for(concurrency)
    pool = pool_for(concurrency)
    t0 = time.perf_counter()
    lat = list(pool.map(lambda u: one(client, u), urls))
    wall = time.perf_counter() - t0
    return np.array(lat), wall


def stats(lat: np.ndarray, wall: float) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(lat, 50)), 2), "p99_ms": round(float(np.percentile(lat, 99)), 2),
            "tiles_per_s": round(len(lat) / wall, 1), "n": len(lat)}


def per_zoom(tiles: list[tuple[int, int, int]], lat: np.ndarray) -> dict[str, dict[str, float]]:
    zs = np.array([t[0] for t in tiles])
    return {f"z{z}": {"p50_ms": round(float(np.percentile(lat[zs == z], 50)), 2),
                      "p99_ms": round(float(np.percentile(lat[zs == z], 99)), 2)} for z in sorted(set(zs.tolist()))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="0.25 deg x 8 days, fewer tiles (< 1 minute once cached)")
    ap.add_argument("--store", type=Path, help="a sealed carbonmap cube (default: the synthetic benchmark cube)")
    ap.add_argument("--cache-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "carbonmap-bench",
                    help="where the benchmark cube and its pyramid are kept between runs")
    ap.add_argument("--days", type=int, default=None, help="days in the synthetic cube (default 90; quick 8)")
    ap.add_argument("--zooms", default="0-8", help="zoom range, e.g. 0-8")
    ap.add_argument("--chunk-cache-mb", type=int, default=2048,
                    help="decoded-chunk cache per worker (CARBONMAP_CHUNK_CACHE_BYTES); the default setting, "
                         "512 MB, is smaller than one pass's chunks at 0.1 deg, so the first tiles' chunks are "
                         "evicted before the warm pass")
    ap.add_argument("--per-zoom", type=int, default=None, help="distinct tiles per zoom (default 40; quick 12)")
    ap.add_argument("--titiler-per-zoom", type=int, default=None, help="tiles per zoom for titiler (default 8; quick 3)")
    ap.add_argument("--date", default=None, help="day to render (default: the cube's middle day)")
    ap.add_argument("--sector", default="total")
    ap.add_argument("--titiler-sector", default="power", help="titiler has no 'total'; a sector of the same cube")
    ap.add_argument("--no-titiler", action="store_true")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="carbonmap server worker processes (default: one per core, as deployed)")
    ap.add_argument("--serve", choices=["carbonmap", "titiler"], help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.store, args.port)
        return

    load_before = os.getloadavg()
    resolution, days = (0.25, args.days or 8) if args.quick else (0.1, args.days or 90)
    per = args.per_zoom or (12 if args.quick else 40)
    tper = args.titiler_per_zoom or (3 if args.quick else 8)
    z0, z1 = (int(v) for v in args.zooms.split("-"))
    if args.store:
        store_path = args.store.resolve()
    else:
        args.cache_dir.mkdir(parents=True, exist_ok=True)
        store_path = bench_cube(args.cache_dir / f"bench-{resolution:g}deg-{days}d.zarr", resolution, days)
    import xarray as xr

    ds = xr.open_zarr(store_path, chunks=None, consolidated=True)
    dataset_id = ds.attrs["carbonmap_dataset_id"]
    times = ds["time"].values
    date = args.date or str(np.datetime_as_string(times[len(times) // 2], unit="D"))
    grid_shape = (ds.sizes["lat"], ds.sizes["lon"])
    rescale = "1,1000000"  # kg km-2 day-1 (carbonmap density)
    tiles = tile_list(range(z0, z1 + 1), per)
    ttiles = tile_list(range(z0, z1 + 1), tper, seed=2)
    results: dict[str, dict] = {}

    proc, base = start("carbonmap", store_path, args.workers, args.chunk_cache_mb)
    try:
        def urls(cmap: str) -> list[str]:
            return [f"{base}/tiles/{dataset_id}/WebMercatorQuad/{z}/{x}/{y}.png?date={date}&sector={args.sector}"
                    f"&rescale={rescale}&colormap_name={cmap}" for z, x, y in tiles]

        # the probe goes over the c=1 passes' own connection and client thread, so the worker that answers the c=1
        # passes is the one that decoded the probe's chunks (with a separate connection another worker
        # did, and the z0 tile of the "warm" pass was in fact cold: one 15 ms sample was all of z0)
        probe = pool_for(1).submit(client_for(1).get, urls("inferno")[0]).result()
        renderer = probe.headers.get("x-tile-renderer")
        # the probe decoded a few chunks; use other tiles' first visits for the cold pass
        cold, wall = fetch_all(urls("magma")[1:], 1)
        results["cold_c1"] = stats(cold, wall)
        warm, wall = fetch_all(urls("viridis"), 1)
        results["warm_c1"] = stats(warm, wall)
        results["warm_c1_by_zoom"] = per_zoom(tiles, warm)
        if args.workers > 1:  # the c=1 passes warmed one worker's caches: warm the others' too
            fetch_all(urls("cividis"), 8)
        warm8, wall = fetch_all(urls("plasma"), 8)
        results["warm_c8"] = stats(warm8, wall)
        rep, wall = fetch_all(urls("viridis"), 1)
        results["repeat_c1"] = stats(rep, wall)
        rep8, wall = fetch_all(urls("viridis"), 8)
        results["repeat_c8"] = stats(rep8, wall)
    finally:
        close_clients()
        proc.terminate()
        proc.wait(timeout=30)

    if not args.no_titiler:
        proc, base = start("titiler", store_path)
        try:
            turls = [f"{base}/md/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={store_path}&variable=emissions"
                     f"&sel=time={date}&sel=sector={args.titiler_sector}&rescale=1000,100000000"
                     f"&colormap_name=inferno" for z, x, y in ttiles]
            first, wall = fetch_all(turls, 1)
            results["titiler_first_c1"] = stats(first, wall)
            second, wall = fetch_all(turls, 1)
            results["titiler_c1"] = stats(second, wall)
            results["titiler_c1_by_zoom"] = per_zoom(ttiles, second)
            eight, wall = fetch_all(turls, 8)
            results["titiler_c8"] = stats(eight, wall)
        finally:
            close_clients()
            proc.terminate()
            proc.wait(timeout=30)

    for name, s in results.items():
        if "by_zoom" in name:
            print(f"{name:22s} " + "  ".join(f"{z}: {v['p50_ms']:.1f}/{v['p99_ms']:.1f}" for z, v in s.items()))
        else:
            print(f"{name:22s} p50 {s['p50_ms']:8.2f} ms  p99 {s['p99_ms']:8.2f} ms  {s['tiles_per_s']:7.1f} tiles/s "
                  f"(n={s['n']})")
    by_zoom = results["warm_c1_by_zoom"]
    summary = {
        "p50_ms": results["warm_c1"]["p50_ms"], "p99_ms": results["warm_c1"]["p99_ms"],
        "tiles_per_s": results["warm_c8"]["tiles_per_s"],
        "titiler_p50_ms": results.get("titiler_c1", {}).get("p50_ms"),
        "speedup_p50": (round(results["titiler_c1"]["p50_ms"] / results["warm_c1"]["p50_ms"], 1)
                        if "titiler_c1" in results else None),
        "worst_zoom_p50_ms": max(v["p50_ms"] for v in by_zoom.values()),
        "worst_zoom_p99_ms": max(v["p99_ms"] for v in by_zoom.values()),
        "cold_p50_ms": results["cold_c1"]["p50_ms"], "cold_p99_ms": results["cold_c1"]["p99_ms"],
        "repeat_p50_ms": results["repeat_c1"]["p50_ms"], "repeat_tiles_per_s": results["repeat_c8"]["tiles_per_s"],
        "renderer": renderer, "workers": args.workers, "chunk_cache_mb": args.chunk_cache_mb, "zooms": args.zooms, "tiles": len(tiles), "titiler_tiles": len(ttiles),
        "date": date, "sector": args.sector, "grid": list(grid_shape), "days": len(times),
        "store": str(store_path), "cpus": os.cpu_count(),
        "loadavg_before": [round(v, 2) for v in load_before], "loadavg_after": [round(v, 2) for v in os.getloadavg()],
        "detail": results,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
