"""Tile benchmark: carbonmap's tile endpoint vs stock titiler.xarray on the same Zarr, over real HTTP.

    python bench/tiles.py --quick                 # synthetic 1 deg cube, z0-z4, ~1 minute
    python bench/tiles.py --store stores/demo.zarr --zooms 0-8 --n 400

Both servers run under uvicorn in subprocesses on 127.0.0.1.  For each server and concurrency
(1 and 8) the same list of distinct tiles (one day, one sector) is fetched once ("render": no
encoded tile cached; carbonmap's decoded-field cache is warmed by one request first), then
fetched again ("repeat": carbonmap answers from its encoded-tile LRU).  The last line is JSON with
p50_ms, p99_ms and tiles_per_s (carbonmap, render, concurrency 8 for tiles/s, 1 for latency) and
titiler_p50_ms.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def synthetic_store(path: Path, resolution: float, days: int) -> Path:
    """A sealed cube with a heavy-tailed synthetic field (benchmark data, not a proxy of anything)."""
    import pandas as pd

    from carbonmap import contract as cc
    from pipelines import store

    if path.exists():
        return path
    grid = cc.Grid(resolution)
    times = pd.date_range("2024-01-01", periods=days, freq="D")
    prov = cc.Provenance(inputs=(), code_version="bench", build_time=dt.datetime.now(dt.UTC).isoformat(),
                         proxies=("synthetic benchmark field",))
    attrs = cc.global_attrs(dataset_id="bench", title="tile benchmark cube", grid=grid, start=str(times[0].date()),
                            end=str(times[-1].date()), provenance=prov, summary="synthetic benchmark field")
    tmp = store.building_path(path)
    store.create(tmp, grid, times, ["AAA"], attrs)
    rng = np.random.default_rng(0)
    land = (np.abs(grid.lat) < 70)[:, None] & (rng.random(grid.shape) < 0.4)
    base = np.where(land, rng.lognormal(8, 2.5, grid.shape), 0).astype(np.float32)
    for t in range(days):
        field = np.stack([base * (s + 1) * (1 + 0.01 * t) for s in range(len(cc.SECTORS))])
        store.write_day(tmp, t, field, np.where(field > 0, 0.2, 0).astype(np.float32))
    store.write_national(tmp, np.zeros((days, len(cc.SECTORS), 1)), np.zeros((days, len(cc.SECTORS), 1)))
    return store.seal(tmp, path)


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


def start(kind: str, store_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--store", str(store_path),
                             "--port", str(port)], cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/openapi.json", timeout=2)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


# ---- load -----------------------------------------------------------------------------------

def tile_list(zooms: range, n: int, seed: int = 1) -> list[tuple[int, int, int]]:
    """Distinct tiles spread over zooms, rows limited to 70S..70N (where the field is)."""
    rng = random.Random(seed)
    out: set[tuple[int, int, int]] = set()
    per = max(1, n // len(zooms))
    for z in zooms:
        size = 2**z
        lo, hi = int(size * 0.30), max(int(size * 0.70), int(size * 0.30) + 1)
        candidates = [(z, x, y) for x in range(size) for y in range(lo, hi)] if size <= 64 else None
        if candidates is not None:
            out.update(rng.sample(candidates, min(per, len(candidates))))
        else:
            while sum(1 for t in out if t[0] == z) < per:
                out.add((z, rng.randrange(size), rng.randrange(lo, hi)))
    return sorted(out)


def fetch_all(urls: list[str], concurrency: int) -> tuple[np.ndarray, float]:
    """Latencies (ms) of GETs at the given concurrency, and wall seconds."""
    def one(client: httpx.Client, url: str) -> float:
        t = time.perf_counter()
        r = client.get(url)
        if r.status_code != 200:
            raise RuntimeError(f"{url} -> {r.status_code} {r.text[:200]}")
        return (time.perf_counter() - t) * 1000

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(timeout=120, limits=limits) as client:
        t0 = time.perf_counter()
        with cf.ThreadPoolExecutor(concurrency) as pool:
            lat = list(pool.map(lambda u: one(client, u), urls))
        wall = time.perf_counter() - t0
    return np.array(lat), wall


def stats(lat: np.ndarray, wall: float) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(lat, 50)), 2), "p99_ms": round(float(np.percentile(lat, 99)), 2),
            "tiles_per_s": round(len(lat) / wall, 1), "n": len(lat)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small synthetic cube, z0-4, fewer tiles")
    ap.add_argument("--store", type=Path, help="a sealed carbonmap cube (default: a synthetic one)")
    ap.add_argument("--zooms", default=None, help="zoom range, e.g. 0-8")
    ap.add_argument("--n", type=int, default=None, help="distinct tiles per run")
    ap.add_argument("--date", default=None, help="day to render (default: the cube's first day)")
    ap.add_argument("--sector", default="power")
    ap.add_argument("--serve", choices=["carbonmap", "titiler"], help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.store, args.port)
        return

    zooms = args.zooms or ("0-4" if args.quick else "0-8")
    z0, z1 = (int(v) for v in zooms.split("-"))
    n = args.n or (60 if args.quick else 400)
    store_path = args.store or synthetic_store(Path(tempfile.gettempdir()) / f"carbonmap-bench-{'q' if args.quick else 'f'}.zarr",
                                               1.0 if args.quick else 0.1, 10 if args.quick else 90)
    store_path = store_path.resolve()
    import xarray as xr

    ds = xr.open_zarr(store_path, chunks=None, consolidated=True)
    dataset_id = ds.attrs["carbonmap_dataset_id"]
    date = args.date or str(np.datetime_as_string(ds["time"].values[0], unit="D"))
    # a fixed range so both servers do the same colour work
    rescale = "1000,100000000"
    tiles = tile_list(range(z0, z1 + 1), n)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for kind in ("carbonmap", "titiler"):
        proc, base = start(kind, store_path)
        try:
            if kind == "carbonmap":
                urls = [f"{base}/tiles/{dataset_id}/WebMercatorQuad/{z}/{x}/{y}.png?date={date}&sector={args.sector}"
                        f"&rescale={rescale}" for z, x, y in tiles]
                httpx.get(urls[0].replace(f"/{tiles[0][0]}/{tiles[0][1]}/{tiles[0][2]}.png", "/0/0/0.png") +
                          "&colormap_name=viridis", timeout=120)  # warm the decoded-field cache
            else:
                urls = [f"{base}/md/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={store_path}&variable=emissions"
                        f"&sel=time={date}&sel=sector={args.sector}&rescale={rescale}&colormap_name=inferno"
                        for z, x, y in tiles]
                httpx.get(urls[-1], timeout=120)  # warm imports/opened dataset
            half = len(urls) // 2
            for conc, part in ((1, urls[:half]), (8, urls[half:])):
                lat, wall = fetch_all(part, conc)
                results.setdefault(kind, {})[f"render_c{conc}"] = stats(lat, wall)
                if kind == "carbonmap":
                    lat, wall = fetch_all(part, conc)
                    results[kind][f"repeat_c{conc}"] = stats(lat, wall)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        for name, s in results[kind].items():
            print(f"{kind:10s} {name:10s} p50 {s['p50_ms']:8.2f} ms  p99 {s['p99_ms']:8.2f} ms  "
                  f"{s['tiles_per_s']:7.1f} tiles/s  (n={s['n']})")
    cm = results["carbonmap"]
    print(json.dumps({"p50_ms": cm["render_c1"]["p50_ms"], "p99_ms": cm["render_c1"]["p99_ms"],
                      "tiles_per_s": cm["render_c8"]["tiles_per_s"],
                      "titiler_p50_ms": results["titiler"]["render_c1"]["p50_ms"],
                      "repeat_p50_ms": cm["repeat_c1"]["p50_ms"], "repeat_tiles_per_s": cm["repeat_c8"]["tiles_per_s"],
                      "zooms": zooms, "store": str(store_path), "detail": results}))


if __name__ == "__main__":
    main()
