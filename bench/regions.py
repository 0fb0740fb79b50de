"""Benchmark of region queries: carbonmap's endpoint over real HTTP vs exactextract vs xarray with a mask.

Cube: 0.1 degree, 60E..150E x 10N..60N (covers China and Tokyo), 7 sectors, a smooth synthetic field
(benchmark data, not emissions) written with ``pipelines.store`` and sealed, plus its time-series
layout; cached in ``--cache`` between runs.  Full run: 366 days (2024); ``--quick``: 40 days.

Measured, in one run:

1. ``city_ms``: ``POST /emissions/query`` for the Tokyo urban-area polygon, all days x 7 sectors,
   ``freq=day``, over HTTP to a uvicorn subprocess; the median of warm calls (weights cached, chunks in
   the OS page cache); the first (cold) call is reported too, and the server's own share of a warm call
   from its ``Server-Timing`` header (``city_server_query_ms``, ``city_server_encode_ms``).  The client
   is urllib3 (a keep-alive connection; the JSON body encoded once, as a page holding the polygon's
   GeoJSON text sends it): against a bare uvicorn app it adds ~0.8 ms a request for this 330 kB answer,
   httpx ~2.6 ms, so ``city_httpx_ms`` (same calls through httpx) is reported as well;
2. ``exactextract_ms``: exactextract 0.3 on the same arrays in memory (the polygon's window of every day
   loaded first), looping over days, op ``sum`` (coverage-weighted) on 7 bands;
3. ``xarray_mask_ms``: xarray reading the map-chunked cube (one shard per day) over the polygon's window
   and summing with the coverage-fraction mask;
4. ``country_period_ms`` / ``country_period_cold_ms`` (issue #20): China over an arbitrary 40-day window
   (days 100..139 in the full run, the whole cube in ``--quick``), ``freq=year``: warm median, and the
   server's first call (cold: China's coverage weights computed, no layout chunk read yet by the process);
   ``country_year_ms``: China, ``freq=year`` over the whole cube period (annual sums in the full run), warm
   median;
5. ``analysis_*`` (issue #17): ``GET /regions/{id}/analysis`` and ``GET /regions/{id}/pathway`` warm medians over
   HTTP: on the bench cube for China (not in its national table, so its polygon: the heavy case) and, when a
   demo store is given (``--demo-store``, default ``stores/carbonmap-demo-0p25.zarr`` if it exists), on the
   demo dataset for CHN, USA, WLD (national table) and Texas (polygon); goal: a country in <= 300 ms.
``max_rel_err``: the largest relative difference between the endpoint's and exactextract's per-day,
per-sector sums (t CO2) for the city (exactextract on the field per unit of land; it differs where the city
covers more of a coastal cell than its land, which the land-share weights clip at 1);
``api_vs_xarray_max_rel_err`` the same against xarray with the endpoint's own land-share weights (the exactness
check of the ``rel_err_le_1e-6`` goal, with the two country figures).  The last stdout line is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from carbonmap import contract as cc
from pipelines import store
from pipelines.timeseries import TS_FORMAT_VERSION, build_timeseries, timeseries_path

BOUNDS = (60.0, 10.0, 150.0, 60.0)


def field(grid: cc.Grid, t: int) -> np.ndarray:
    """Benchmark field (sector, lat, lon), kg day-1 cell-1: smooth, positive, varying by day and sector."""
    lat, lon = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    base = (1.0 + 0.5 * np.sin(np.radians(lat) * 7.0) * np.cos(np.radians(lon) * 11.0)) * 1000.0
    season = 1.0 + 0.2 * np.sin(2 * np.pi * t / 365.0)
    return np.stack([base * (s + 1) * season * (1 + 0.01 * ((t * (s + 3)) % 7)) for s in range(len(cc.SECTORS))]
                    ).astype(np.float32)


def ensure_cube(cache: Path, days: int) -> Path:
    path = cache / f"bench-regions-{days}d.zarr"
    if (path / "zarr.json").exists():
        layout = timeseries_path(path.resolve())
        fmt = json.loads((layout / "zarr.json").read_text()).get("attributes", {}).get(
            "carbonmap_timeseries_format") if (layout / "zarr.json").exists() else None
        if fmt != TS_FORMAT_VERSION:  # a layout of an older format: rebuild it from the cached cube
            t0 = time.perf_counter()
            build_timeseries(path)
            print(f"time-series layout rebuilt in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        return path
    grid = cc.Grid(0.1, *BOUNDS)
    times = pd.date_range("2024-01-01", periods=days, freq="D")
    prov = cc.Provenance(inputs=(), code_version="bench", build_time=dt.datetime.now(dt.UTC).isoformat(),
                         methods={"all": "synthetic benchmark field"}, proxies=("synthetic benchmark field",))
    attrs = cc.global_attrs(dataset_id=path.stem, title="region benchmark cube (synthetic)", grid=grid,
                            start=str(times[0].date()), end=str(times[-1].date()), provenance=prov,
                            summary="synthetic field for bench/regions.py")
    tmp = store.building_path(path)
    store.create(tmp, grid, times, ["AAA"], attrs)
    nat = np.zeros((days, len(cc.SECTORS), 1))
    t0 = time.perf_counter()
    for t in range(days):
        f = field(grid, t)
        store.write_day(tmp, t, f, np.full_like(f, 0.1))
        nat[t, :, 0] = f.reshape(len(cc.SECTORS), -1).sum(axis=1)
        if t % 30 == 0:
            print(f"writing day {t}/{days} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    store.write_national(tmp, nat, np.full_like(nat, 0.05))
    store.seal(tmp, path)
    t0 = time.perf_counter()
    build_timeseries(path)
    print(f"time-series layout built in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return path


def server_timing(header: str) -> dict[str, float]:
    """``Server-Timing: query;dur=1.2, encode;dur=0.3`` -> {"query": 1.2, "encode": 0.3} (ms)."""
    out = {}
    for item in header.split(","):
        name, _, rest = item.strip().partition(";dur=")
        if rest:
            out[name] = float(rest)
    return out


def median_ms(fn, n: int) -> float:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def analysis_rows(http, bench_id: str, demo: Path | None, repeat: int) -> dict:
    """Warm medians (ms) of the analysis and pathway endpoints, with their first (cold) call."""
    import xarray as xr

    out: dict = {}
    calls: list[tuple[str, str, str, dict]] = [("analysis_bench_chn", bench_id, "/regions/CHN/analysis", {})]
    if demo is not None:
        demo_id = str(xr.open_zarr(demo).attrs["carbonmap_dataset_id"])
        cut = {"target_year": 2035, "cut_pct": 50, "base_year": 2005}
        calls += [("analysis_demo_chn", demo_id, "/regions/CHN/analysis", {}),
                  ("analysis_demo_usa", demo_id, "/regions/USA/analysis", cut),
                  ("analysis_demo_wld", demo_id, "/regions/WLD/analysis", {}),
                  ("analysis_demo_us_tx", demo_id, "/regions/US-TX/analysis", cut),
                  ("pathway_demo_chn", demo_id, "/regions/CHN/pathway", {"peak_year": 2028, "coal_share_power": 40}),
                  ("pathway_demo_us_tx", demo_id, "/regions/US-TX/pathway", {**cut, "electric_share_road": 40})]
    for key, ds, path, params in calls:
        q = {"dataset": ds, **params}
        t = time.perf_counter()
        r = http.get(path, params=q)
        if r.status_code != 200:
            out[key] = f"HTTP {r.status_code}: {r.text[:200]}"
            continue
        out[f"{key}_cold_ms"] = round((time.perf_counter() - t) * 1000, 1)
        out[f"{key}_ms"] = round(median_ms(lambda p=path, q=q: http.get(p, params=q).raise_for_status(), repeat), 1)
    countries = [v for k, v in out.items() if k.startswith("analysis_demo_") and k.endswith("_ms")
                 and not k.endswith("cold_ms") and "us_tx" not in k]
    if countries:
        out["analysis_country_le_300ms"] = max(countries) <= 300
    return out


def cold_then_warm(http: httpx.Client, body: dict, name: str, repeat: int, result: dict) -> httpx.Response:
    """POST ``body`` once (``<name>_cold_ms``: the server's first call), then ``<name>_ms``: the warm median of
    ``repeat`` calls; returns the first response."""
    t = time.perf_counter()
    r = http.post("/emissions/query", json=body)
    r.raise_for_status()
    result[f"{name}_cold_ms"] = round((time.perf_counter() - t) * 1000, 1)
    result[f"{name}_ms"] = round(median_ms(lambda: http.post("/emissions/query", json=body).raise_for_status(),
                                           repeat), 1)
    return r


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 days instead of 366 (under a minute once cached)")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "bench")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--demo-store", type=Path, default=REPO / "stores" / "carbonmap-demo-0p25.zarr",
                    help="a demo cube store to time the analysis endpoints on (skipped if absent)")
    args = ap.parse_args(argv)
    days = 40 if args.quick else 366
    args.cache.mkdir(parents=True, exist_ok=True)
    t_setup = time.perf_counter()
    cube = ensure_cube(args.cache, days)

    import geopandas as gpd
    import httpx
    import shapely
    import xarray as xr
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    from api import regions_query as rq
    from carbonmap.settings import get_settings
    from ingest.region_catalogue import load_catalogue
    from tests.api.routes.live_server import live_server

    settings = get_settings()
    cat = load_catalogue(settings.data_dir, settings.cache_dir)
    city = cat.get("UA2132").geometry  # Tokyo urban area
    china = cat.get("CHN").geometry
    city_json = shapely.geometry.mapping(city)
    china_json = shapely.geometry.mapping(china)
    ds = xr.open_zarr(cube, chunks=None)
    grid = cc.Grid.from_coords(ds["lat"].values, ds["lon"].values)
    start, end = str(ds.time.values[0])[:10], str(ds.time.values[-1])[:10]
    # warm the country map of this grid once (cached on disk for the server too)
    from api.query_engine import country_map

    country_map(grid)
    setup_s = time.perf_counter() - t_setup

    result: dict = {"days": days, "sectors": len(cc.SECTORS), "resolution": 0.1, "setup_s": round(setup_s, 1)}
    log = args.cache / "server.log"
    demo = args.demo_store if (args.demo_store / "zarr.json").exists() else None
    with live_server([cube] + ([demo] if demo else []), log) as base, httpx.Client(base_url=base, timeout=300) as http:
        # an arbitrary 40-day window (the whole cube in --quick): the server's first call (cold: China's weights
        # computed, no layout chunk read yet by the process), then the warm median
        times = pd.DatetimeIndex(ds.time.values)
        p0 = min(100, len(times) - 40)
        body_period = {"geometry": china_json, "start": str(times[p0].date()), "end": str(times[p0 + 39].date()),
                       "freq": "year", "dataset": cube.stem}
        r = cold_then_warm(http, body_period, "country_period", max(5, args.repeat // 4), result)
        result["country_period"] = [body_period["start"], body_period["end"]]
        api_china_period = r.json()["periods"][0]["total"]["emissions"]
        result.update(analysis_rows(http, cube.stem, demo, max(5, args.repeat // 4)))
        body_city = {"geometry": city_json, "start": start, "end": end, "freq": "day", "dataset": cube.stem}
        t = time.perf_counter()
        r = http.post("/emissions/query", json=body_city)
        r.raise_for_status()
        result["city_cold_ms"] = round((time.perf_counter() - t) * 1000, 1)
        timings: list[dict[str, float]] = []

        def city_call() -> None:
            resp = http.post("/emissions/query", json=body_city)
            resp.raise_for_status()
            timings.append(server_timing(resp.headers.get("server-timing", "")))

        result["city_httpx_ms"] = round(median_ms(city_call, args.repeat), 1)
        import urllib3

        raw_city = json.dumps(body_city).encode()
        pool = urllib3.HTTPConnectionPool(base.split("//")[1].split(":")[0], int(base.rsplit(":", 1)[1]), maxsize=1)

        def city_call_thin() -> None:
            resp = pool.request("POST", "/emissions/query", body=raw_city,
                                headers={"Content-Type": "application/json"})
            if resp.status != 200:
                raise RuntimeError(f"POST /emissions/query: {resp.status} {resp.data[:300]!r}")
            timings.append(server_timing(resp.headers.get("server-timing", "")))

        result["city_ms"] = round(median_ms(city_call_thin, args.repeat), 1)
        pool.close()
        for part in ("query", "encode"):  # the server's own share (Server-Timing); the rest is HTTP + framework
            result[f"city_server_{part}_ms"] = round(statistics.median(t.get(part, float("nan")) for t in timings), 2)
        api_city = np.array([[p["sectors"][s]["emissions"] for s in cc.SECTORS] for p in r.json()["periods"]])
        body_china = {"geometry": china_json, "start": start, "end": end, "freq": "year", "dataset": cube.stem}
        r = cold_then_warm(http, body_china, "country_year", max(5, args.repeat // 4), result)
        result["china_cells"] = r.json()["region"]["cells"]
        result["country_year_source"] = r.json()["source"]
        api_china = r.json()["periods"][0]["total"]["emissions"]

    # 2. exactextract in memory, looping over days, on the polygon's window. The endpoint weighs a partly-land
    # cell by the polygon's share of its land (api.regions_query.land_weights), so the peer sums the field per
    # unit of land (value / land fraction; open sea as is) with its area coverage: the same quantity wherever a
    # polygon's part of a cell is land (it differs only where a polygon also covers sea in a coastal cell).
    land = rq.land_fraction(grid)
    per_land = np.where(land >= rq.LAND_MIN, 1.0 / np.maximum(land, rq.LAND_MIN), 1.0)
    w = rq.coverage_weights(city, grid)
    sub = ds["emissions"].isel(lat=w.row_slice, lon=w.col_slice)
    arrays = np.asarray(sub.values) * per_land[w.row_slice, w.col_slice]  # (time, sector, lat, lon) in memory
    sw, ss = float(sub.lon.values[0]) - 0.05, float(sub.lat.values[-1]) - 0.05
    se, sn = float(sub.lon.values[-1]) + 0.05, float(sub.lat.values[0]) + 0.05
    gdf = gpd.GeoDataFrame(geometry=[city], crs=4326)

    def ee_all() -> np.ndarray:
        out = np.zeros((days, len(cc.SECTORS)))
        for t in range(days):
            rasters = [NumPyRasterSource(arrays[t, s].astype(np.float64), xmin=sw, ymin=ss, xmax=se, ymax=sn,
                                         name=f"b{s}") for s in range(len(cc.SECTORS))]
            res = exact_extract(rasters, gdf, "sum", output="pandas")
            out[t] = res.iloc[0].to_numpy(dtype=np.float64)
        return out

    t = time.perf_counter()
    ee = ee_all()
    result["exactextract_ms"] = round((time.perf_counter() - t) * 1000, 1)
    ref_t = ee / 1000.0
    result["max_rel_err"] = float(np.max(np.abs(api_city - ref_t) / np.maximum(np.abs(ref_t), 1e-30)))

    # 3. xarray on the map-chunked cube with a coverage mask
    mask = xr.DataArray(np.zeros(w.block_shape), dims=("lat", "lon"), coords={"lat": sub.lat, "lon": sub.lon})
    mask.values[w.rows - w.row_slice.start, w.cols - w.col_slice.start] = rq.land_weights(w, land).fraction

    def xr_mask() -> np.ndarray:
        d = xr.open_zarr(cube, chunks=None)
        return (d["emissions"].isel(lat=w.row_slice, lon=w.col_slice).astype(np.float64) * mask).sum(
            ("lat", "lon")).values

    t = time.perf_counter()
    xr_vals = xr_mask()
    result["xarray_mask_ms"] = round((time.perf_counter() - t) * 1000, 1)
    result["xarray_max_rel_err"] = float(np.max(np.abs(xr_vals / 1000.0 - ref_t) / np.maximum(ref_t, 1e-30)))
    # the endpoint against xarray with the same land-share weights (exactly the same definition; exactextract on
    # value / land differs where a polygon covers more of a coastal cell than its land, which the weights clip)
    result["api_vs_xarray_max_rel_err"] = float(np.max(np.abs(api_city - xr_vals / 1000.0)
                                                       / np.maximum(np.abs(xr_vals / 1000.0), 1e-30)))

    # China: exactextract's sum of the whole period's field (one call) vs the endpoint
    wc = rq.coverage_weights(china, grid)
    ann = ds["emissions"].isel(lat=wc.row_slice, lon=wc.col_slice).astype(np.float64).sum(("time", "sector")).values
    ann = ann * per_land[wc.row_slice, wc.col_slice]
    cl = ds.lat.values[wc.row_slice]
    co = ds.lon.values[wc.col_slice]
    rs = NumPyRasterSource(ann, xmin=co[0] - 0.05, ymin=cl[-1] - 0.05, xmax=co[-1] + 0.05, ymax=cl[0] + 0.05)
    china_ee = float(exact_extract(rs, gpd.GeoDataFrame(geometry=[china], crs=4326), "sum", output="pandas")
                     .iloc[0, 0]) / 1000.0
    result["country_rel_err"] = abs(api_china - china_ee) / china_ee
    window = ds["emissions"].isel(time=slice(p0, p0 + 40), lat=wc.row_slice, lon=wc.col_slice)
    rs_p = NumPyRasterSource(window.astype(np.float64).sum(("time", "sector")).values
                             * per_land[wc.row_slice, wc.col_slice], xmin=co[0] - 0.05,
                             ymin=cl[-1] - 0.05, xmax=co[-1] + 0.05, ymax=cl[0] + 0.05)
    china_period_ee = float(exact_extract(rs_p, gpd.GeoDataFrame(geometry=[china], crs=4326), "sum",
                                          output="pandas").iloc[0, 0]) / 1000.0
    result["country_period_rel_err"] = abs(api_china_period - china_period_ee) / china_period_ee
    result["speedup_vs_exactextract"] = round(result["exactextract_ms"] / result["city_ms"], 1)
    result["goals"] = {"city_le_15ms": result["city_ms"] <= 15, "city_8x_exactextract": result["speedup_vs_exactextract"] >= 8,
                       "analysis_country_le_300ms": result.get("analysis_country_le_300ms"),
                       "country_year_le_300ms": result["country_year_ms"] <= 300,
                       "country_period_le_100ms": result["country_period_ms"] <= 100,
                       "country_period_cold_le_500ms": result["country_period_cold_ms"] <= 500,
                       "rel_err_le_1e-6": max(result["api_vs_xarray_max_rel_err"], result["country_rel_err"],
                                              result["country_period_rel_err"]) <= 1e-6}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
