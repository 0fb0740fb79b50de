"""Bounded load test on loopback: N concurrent clients mixing map tiles, region queries and analysis.

    python bench/load.py [--clients 50] [--seconds 60] [--quick] [--store PATH] [--workers N]

Starts `carbonmap serve` on 127.0.0.1 over ``--store`` or a synthetic 5 degree, 30-day cube written to a
temp dir, with ``--workers`` uvicorn worker processes (default: one per core, as `carbonmap serve` is meant to
run), then runs an asyncio + httpx client pool in this process (on the same cores: the figures include the
clients' own CPU): 65% tile requests (random z0-4 tile, date, sector incl. total), 25% region queries (``POST
/emissions/query`` with a random small polygon, daily, a random 1-10 day period), 10% analysis
(``GET /regions/{iso3}/analysis`` of a random large emitter; when the dataset has them).  Counts any
non-2xx/304 or transport error as an error; p99 is also given per half of the run (a cold start shows in the
first).  Goal (issue #20.5): 0 errors and p99 <= 1 s with 50 clients for 60 s
on 2 cores.  The last stdout line is JSON with the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def synthetic_cube(path: Path, days: int = 30) -> Path:
    """A sealed 5 degree cube with a smooth synthetic field (bench data, not a proxy of anything)."""
    from carbonmap import contract as cc
    from pipelines import store

    grid = cc.Grid(5.0)
    times = pd.date_range("2024-01-01", periods=days, freq="D")
    prov = cc.Provenance(inputs=(), code_version="bench", build_time=dt.datetime.now(dt.UTC).isoformat(),
                         methods={"temporal": "synthetic"}, proxies=("synthetic bench field",))
    attrs = cc.global_attrs(dataset_id="bench-load", title="synthetic load-test cube", grid=grid,
                            start=str(times[0].date()), end=str(times[-1].date()), provenance=prov,
                            summary="synthetic field for the load test")
    tmp = store.building_path(path)
    store.create(tmp, grid, times, ["AAA"], attrs)
    lat = np.cos(np.radians(grid.lat))[:, None] * np.ones(grid.nlon)[None, :]
    nat = np.zeros((days, len(cc.SECTORS), 1))
    for t in range(days):
        field = np.stack([lat * (s + 1) * (t + 1) * 1e6 for s in range(len(cc.SECTORS))])
        store.write_day(tmp, t, field, np.full(field.shape, 0.1))
        nat[t, :, 0] = field.reshape(len(cc.SECTORS), -1).sum(axis=1)
    store.write_national(tmp, nat, np.full_like(nat, 0.05))
    store.seal(tmp, path)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _meta(store_path: Path) -> tuple[str, list[str], list[str], list[str]]:
    from pipelines.store import open_cube

    ds = open_cube(store_path)
    days = [f"{t:%Y-%m-%d}" for t in pd.DatetimeIndex(ds["time"].values)]
    countries = [str(c) for c in ds["country"].values] if "country" in ds.coords else []
    return str(ds.attrs["carbonmap_dataset_id"]), days, [str(s) for s in ds["sector"].values], countries


ANALYSIS_REGIONS = ("CHN", "USA", "IND", "DEU", "JPN", "BRA", "TUR", "GBR")


async def _client(http: httpx.AsyncClient, base: str, ds_id: str, days: list[str], sectors: list[str],
                  stop: float, rng: random.Random, out: dict[str, list[float]], errors: list[str],
                  analysis: tuple[str, ...], late_from: float) -> None:
    while time.monotonic() < stop:
        draw = rng.random()
        if draw < 0.65:
            kind = "tile"
            z = rng.randint(0, 4)
            x, y = rng.randrange(2 ** z), rng.randrange(2 ** z)
            req = http.build_request("GET", f"{base}/tiles/{ds_id}/WebMercatorQuad/{z}/{x}/{y}.png",
                                     params={"date": rng.choice(days), "sector": rng.choice(["total", *sectors])})
        elif draw >= 0.9 and analysis:
            kind = "analysis"
            req = http.build_request("GET", f"{base}/regions/{rng.choice(analysis)}/analysis",
                                     params={"dataset": ds_id})
        else:
            kind = "region"
            lon, lat = rng.uniform(-150, 140), rng.uniform(-50, 50)
            w = rng.uniform(2, 20)
            ring = [[lon, lat], [lon + w, lat], [lon + w, lat + w], [lon, lat + w], [lon, lat]]
            i = rng.randrange(len(days))
            j = min(len(days) - 1, i + rng.randrange(10))
            req = http.build_request("POST", f"{base}/emissions/query", json={
                "dataset": ds_id, "geometry": {"type": "Polygon", "coordinates": [ring]},
                "start": days[i], "end": days[j], "freq": "day"})
        t0 = time.perf_counter()
        try:
            r = await http.send(req)
            ok = r.status_code < 300 or r.status_code == 304
            if not ok:
                errors.append(f"{kind} {r.status_code} {req.url} {r.text[:200]}")
        except httpx.HTTPError as exc:
            errors.append(f"{kind} {type(exc).__name__} {req.url}")
        out[kind].append((time.perf_counter() - t0) * 1000)
        out["late" if time.monotonic() >= late_from else "early"].append((time.perf_counter() - t0) * 1000)


async def run_load(base: str, ds_id: str, days: list[str], sectors: list[str], clients: int,
                   seconds: float, analysis: tuple[str, ...] = ()) -> dict:
    out: dict[str, list[float]] = {"tile": [], "region": [], "analysis": [], "early": [], "late": []}
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        stop = time.monotonic() + seconds
        t0 = time.monotonic()
        late_from = time.monotonic() + seconds / 2
        await asyncio.gather(*[_client(http, base, ds_id, days, sectors, stop, random.Random(i), out, errors,
                                       analysis, late_from) for i in range(clients)])
        wall = time.monotonic() - t0
    every = out["tile"] + out["region"] + out["analysis"]

    def pct(v: list[float], q: float) -> float | None:
        return round(float(np.percentile(v, q)), 1) if v else None

    return {"clients": clients, "seconds": round(wall, 1), "requests": len(every), "errors": len(errors),
            "error_examples": errors[:5], "req_per_s": round(len(every) / wall, 1),
            "p50_ms": pct(every, 50), "p99_ms": pct(every, 99),
            "tile_p50_ms": pct(out["tile"], 50), "tile_p99_ms": pct(out["tile"], 99),
            "region_p50_ms": pct(out["region"], 50), "region_p99_ms": pct(out["region"], 99),
            "analysis_p50_ms": pct(out["analysis"], 50), "analysis_p99_ms": pct(out["analysis"], 99),
            "first_half_p99_ms": pct(out["early"], 99), "second_half_p99_ms": pct(out["late"], 99),
            "tiles": len(out["tile"]), "regions": len(out["region"]), "analyses": len(out["analysis"]),
            "goal_p99_ms": 1000, "goal_met": bool(every) and not errors and pct(every, 99) <= 1000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    ap.add_argument("--store", type=Path, default=None, help="cube to serve (default: a synthetic one)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="uvicorn worker processes (default: one per core)")
    args = ap.parse_args()
    seconds = 10.0 if args.quick else args.seconds
    tmp = Path(tempfile.mkdtemp(prefix="carbonmap-load-"))
    store_path = args.store or synthetic_cube(tmp / "bench-load.zarr")
    ds_id, days, sectors, countries = _meta(store_path)
    analysis = tuple(c for c in ANALYSIS_REGIONS if c in countries)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "carbonmap", "serve", "--store", str(store_path), "--host",
                               "127.0.0.1", "--port", str(port), "--workers", str(args.workers)], cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.3)
        asyncio.run(run_load(base, ds_id, days, sectors, min(args.clients, 8), 2.0, analysis))  # warm-up
        result = run = asyncio.run(run_load(base, ds_id, days, sectors, args.clients, seconds, analysis))
        result["workers"] = args.workers
        del run
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"{result['requests']} requests from {result['clients']} clients in {result['seconds']} s: "
          f"{result['req_per_s']}/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
          f"{result['errors']} errors")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
