"""A server process answers its first requests to itself before it takes traffic.

The first request of a kind in a fresh worker pays for what every later one reuses: imports of the raster stack,
opening the pyramid and the time-series layout, the display range of each map layer (its own values over the
cube, ~130 ms a layer), the country and land-fraction grids of the region engine, the analysis tables.  Measured
in `bench/load.py` (50 clients, 2 workers), those first requests made the first half of the run's p99 3x the
second's.  :func:`warm` sends each served dataset one map tile per layer, one small region query and one
analysis through the app itself (in process, no socket) during start-up, so a worker that accepts connections
is already warm.  Failures are logged and never stop the server (a dataset without a national table, say).
"""

from __future__ import annotations

import logging
import time

import httpx
from fastapi import FastAPI

from carbonmap.registry import Registry

log = logging.getLogger("carbonmap.warmup")

BOX = {"type": "Polygon", "coordinates": [[[5.0, 45.0], [15.0, 45.0], [15.0, 55.0], [5.0, 55.0], [5.0, 45.0]]]}
"""A small box (central Europe) for the region engine's first query."""


def requests_for(registry: Registry) -> list[tuple[str, str, dict]]:
    """(method, path, params or JSON body) of the warm-up requests of every served dataset."""
    from tiles.layer import LAYER_SECTORS

    out: list[tuple[str, str, dict]] = []
    for dataset in registry.ids():
        cube = registry.get(dataset)
        day = cube.end.isoformat()
        for sector in LAYER_SECTORS:
            out.append(("GET", f"/tiles/{dataset}/WebMercatorQuad/0/0/0.png", {"date": day, "sector": sector}))
        out.append(("GET", f"/tiles/{dataset}/WebMercatorQuad/0/0/0.png",
                    {"date": day, "sector": "power", "variable": "uncertainty"}))
        out.append(("POST", "/emissions/query", {"dataset": dataset, "geometry": BOX, "start": day, "end": day,
                                                 "freq": "day"}))
        if "WLD" in cube.countries:
            out.append(("GET", "/regions/WLD/analysis", {"dataset": dataset}))
    return out


async def warm(app: FastAPI, registry: Registry,
               requests: list[tuple[str, str, dict]] | None = None) -> dict[str, int]:
    """Send ``requests`` (default :func:`requests_for`) to ``app`` in process; returns counts of ``ok`` and
    ``failed`` requests (an answer >= 400 or an exception: logged, never raised)."""
    t0 = time.perf_counter()
    counts = {"ok": 0, "failed": 0}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warmup", timeout=120) as http:
        for method, path, args in requests_for(registry) if requests is None else requests:
            try:
                if method == "POST":
                    r = await http.post(path, json=args)
                else:
                    r = await http.get(path, params=args)
                ok = r.status_code < 400
            except Exception:
                log.exception("warm-up request %s %s failed", method, path)
                ok = False
            counts["ok" if ok else "failed"] += 1
    log.info("warm-up: %d requests in %.1f s (%d failed)", counts["ok"] + counts["failed"],
             time.perf_counter() - t0, counts["failed"])
    return counts
