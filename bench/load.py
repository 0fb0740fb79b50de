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
import contextlib
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
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


def _draw(rng: random.Random, base: str, ds_id: str, days: list[str], sectors: list[str],
          analysis: tuple[str, ...]) -> tuple[str, str, str, dict | None, dict | None]:
    """One request of the mix: (kind, method, url, query parameters, JSON body)."""
    draw = rng.random()
    if draw < 0.65:
        z = rng.randint(0, 4)
        x, y = rng.randrange(2 ** z), rng.randrange(2 ** z)
        return ("tile", "GET", f"{base}/tiles/{ds_id}/WebMercatorQuad/{z}/{x}/{y}.png",
                {"date": rng.choice(days), "sector": rng.choice(["total", *sectors])}, None)
    if draw >= 0.9 and analysis:
        return "analysis", "GET", f"{base}/regions/{rng.choice(analysis)}/analysis", {"dataset": ds_id}, None
    lon, lat = rng.uniform(-150, 140), rng.uniform(-50, 50)
    w = rng.uniform(2, 20)
    ring = [[lon, lat], [lon + w, lat], [lon + w, lat + w], [lon, lat + w], [lon, lat]]
    i = rng.randrange(len(days))
    j = min(len(days) - 1, i + rng.randrange(10))
    return ("region", "POST", f"{base}/emissions/query", None,
            {"dataset": ds_id, "geometry": {"type": "Polygon", "coordinates": [ring]}, "start": days[i],
             "end": days[j], "freq": "day"})


async def _client(send: Callable[[str, str, dict | None, dict | None], Awaitable[tuple[int, str]]], base: str,
                  ds_id: str, days: list[str], sectors: list[str], stop: float, rng: random.Random,
                  out: dict[str, list[float]], errors: list[str], analysis: tuple[str, ...], late_from: float) -> None:
    while time.monotonic() < stop:
        kind, method, url, params, body = _draw(rng, base, ds_id, days, sectors, analysis)
        t0 = time.perf_counter()
        try:
            status, text = await send(method, url, params, body)
            if not (status < 300 or status == 304):
                errors.append(f"{kind} {status} {url} {text[:200]}")
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            errors.append(f"{kind} {type(exc).__name__} {url}")
        except Exception as exc:  # noqa: BLE001 - aiohttp's client errors: counted, named
            errors.append(f"{kind} {type(exc).__name__} {url}")
        took = (time.perf_counter() - t0) * 1000
        out[kind].append(took)
        out["late" if time.monotonic() >= late_from else "early"].append(took)


@contextlib.asynccontextmanager
async def _sender(kind: str, clients: int) -> AsyncIterator[Callable[..., Awaitable[tuple[int, str]]]]:
    """An async ``send(method, url, params, json) -> (status, body text on error)`` over one keep-alive pool:
    aiohttp (default: less client CPU per request than httpx, see ``client_cpu_ms_per_request``, so the figures
    are more the server's and less the load generator's on a machine the two share) or httpx."""
    if kind == "httpx":
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            async def send_httpx(method: str, url: str, params: dict | None, body: dict | None) -> tuple[int, str]:
                r = await http.request(method, url, params=params, json=body)
                return r.status_code, (r.text if r.status_code >= 300 and r.status_code != 304 else "")

            yield send_httpx
        return
    import aiohttp

    connector = aiohttp.TCPConnector(limit=clients, limit_per_host=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        async def send_aiohttp(method: str, url: str, params: dict | None, body: dict | None) -> tuple[int, str]:
            async with session.request(method, url, params=params, json=body) as r:
                data = await r.read()
                return r.status, (data[:300].decode(errors="replace") if r.status >= 300 and r.status != 304 else "")

        yield send_aiohttp


async def run_load(base: str, ds_id: str, days: list[str], sectors: list[str], clients: int,
                   seconds: float, analysis: tuple[str, ...] = (), client: str = "aiohttp") -> dict:
    out: dict[str, list[float]] = {"tile": [], "region": [], "analysis": [], "early": [], "late": []}
    errors: list[str] = []
    cpu0 = time.process_time()
    async with _sender(client, clients) as send:
        stop = time.monotonic() + seconds
        t0 = time.monotonic()
        late_from = time.monotonic() + seconds / 2
        await asyncio.gather(*[_client(send, base, ds_id, days, sectors, stop, random.Random(i), out, errors,
                                       analysis, late_from) for i in range(clients)])
        wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0  # the load generator's own CPU (it shares the cores with the server)
    every = out["tile"] + out["region"] + out["analysis"]

    def pct(v: list[float], q: float) -> float | None:
        return round(float(np.percentile(v, q)), 1) if v else None

    return {"clients": clients, "client": client, "seconds": round(wall, 1), "requests": len(every),
            "errors": len(errors), "error_examples": errors[:5], "req_per_s": round(len(every) / wall, 1),
            "client_cpu_ms_per_request": round(1000 * cpu / max(1, len(every)), 2),
            "p50_ms": pct(every, 50), "p99_ms": pct(every, 99),
            "tile_p50_ms": pct(out["tile"], 50), "tile_p99_ms": pct(out["tile"], 99),
            "region_p50_ms": pct(out["region"], 50), "region_p99_ms": pct(out["region"], 99),
            "analysis_p50_ms": pct(out["analysis"], 50), "analysis_p99_ms": pct(out["analysis"], 99),
            "first_half_p99_ms": pct(out["early"], 99), "second_half_p99_ms": pct(out["late"], 99),
            "tiles": len(out["tile"]), "regions": len(out["region"]), "analyses": len(out["analysis"]),
            "goal_p99_ms": 1000, "goal_met": bool(every) and not errors and (pct(every, 99) or 0) <= 1000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    ap.add_argument("--store", type=Path, default=None, help="cube to serve (default: a synthetic one)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="uvicorn worker processes (default: one per core)")
    ap.add_argument("--client", choices=("aiohttp", "httpx"), default="aiohttp",
                    help="the load generator's HTTP client (its CPU per request is reported)")
    args = ap.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.workers < 1:
        ap.error("--clients and --workers must be >= 1 and --seconds > 0")
    if args.store is not None and not (args.store / "zarr.json").exists():
        ap.error(f"--store {args.store} is not a carbonmap cube (no zarr.json); build one with `carbonmap build`")
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
        asyncio.run(run_load(base, ds_id, days, sectors, min(args.clients, 8), 2.0, analysis, args.client))  # warm-up
        result = run = asyncio.run(run_load(base, ds_id, days, sectors, args.clients, seconds, analysis,
                                            args.client))
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
