"""The ``carbonmap`` command line: build, serve, demo, info, ingest."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from carbonmap import contract as cc
from carbonmap.errors import StorageError

app = typer.Typer(help="carbonmap: a daily, global, gridded map of fossil CO2 emissions by sector.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

DEMO_START = dt.date(2024, 1, 1)
DEMO_END = dt.date(2026, 3, 31)
"""The newest month Carbon Monitor Power covers for the largest emitters (China, the US, the EU, India, Japan)."""
DEMO_RESOLUTION = 0.25
DEMO_ID = "carbonmap-demo-0p25"


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@app.callback()
def _check_settings() -> None:
    """Read the settings (``CARBONMAP_*`` environment, ``.env``) once before any command, so a bad value is one
    line naming the variable, not a traceback."""
    from pydantic import ValidationError

    from carbonmap.settings import get_settings

    try:
        get_settings()
    except ValidationError as exc:
        problems = "; ".join(f"CARBONMAP_{'_'.join(str(p) for p in e['loc']).upper()}={e.get('input')!r}: "
                             f"{e['msg']}" for e in exc.errors())
        _fail(f"invalid setting: {problems}; fix the environment variable (or .env) and retry")


def _parse_date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _fail(f"--{name} {text!r} is not a date; use YYYY-MM-DD, e.g. 2024-03-01")
        raise  # unreachable


def _build(start: dt.date, end: dt.date, resolution: float, store: Path, dataset_id: str | None,
           scheduler: str | None, layouts: bool = True) -> Path | str:
    from carbonmap.progress import progress_reporter
    from pipelines.build import BuildRequest, build

    try:
        request = BuildRequest(start, end, resolution, store, dataset_id, scheduler, layouts)
    except cc.ContractError as exc:
        _fail(str(exc))
    try:
        with progress_reporter() as progress:
            return build(request, progress)
    except (StorageError, FileNotFoundError, ValueError) as exc:  # BuildError, StoreError, LockHeld...
        _fail(str(exc), code=1)
    raise AssertionError("unreachable")


@app.command()
def build(
    start: Annotated[str, typer.Option(help="first day, YYYY-MM-DD")] = "2024-01-01",
    end: Annotated[str, typer.Option(help="last day (inclusive), YYYY-MM-DD")] = "2024-12-31",
    resolution: Annotated[float, typer.Option(help="grid resolution in degrees (0.1 canonical)")] = 0.25,
    store: Annotated[Path, typer.Option(help="output Zarr store path")] = Path("stores/carbonmap.zarr"),
    dataset_id: Annotated[str | None, typer.Option("--id", help="dataset id (default from period+grid)")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address; default a LocalCluster")] = None,
    layouts: Annotated[bool, typer.Option(help="also write the map pyramid and the time-series layout "
                                               "(--no-layouts: the cube only, e.g. for downloads)")] = True,
) -> None:
    """Build a daily emissions cube from the shipped inputs."""
    path = _build(_parse_date(start, "start"), _parse_date(end, "end"), resolution, store, dataset_id, scheduler,
                  layouts)
    typer.echo(f"built {path}")


@app.command()
def info(store: Annotated[Path, typer.Option(help="cube store path")]) -> None:
    """Describe a built cube: id, period, grid, sectors, totals and provenance."""
    from pipelines.store import StoreError, open_cube

    try:
        ds = open_cube(store)
    except StoreError as exc:
        _fail(str(exc), code=1)
    a = ds.attrs
    total = float(ds[cc.NATIONAL_VAR].sum()) / 1e9
    out = {
        "id": a.get("carbonmap_dataset_id"), "title": a.get("title"),
        "time": [a.get("time_coverage_start"), a.get("time_coverage_end")], "days": int(ds.sizes["time"]),
        "resolution_deg": a.get("grid_resolution"), "shape": [int(ds.sizes["lat"]), int(ds.sizes["lon"])],
        "sectors": [str(s) for s in ds["sector"].values], "total_Mt": round(total, 3),
        "mass_balance_max_rel_gap": a.get("mass_balance_max_rel_gap"),
        "inputs": [f"{i['path']} sha256:{i['sha256'][:12]} ({i['license']})" for i in a.get("provenance_inputs", [])],
        "proxies": a.get("provenance_proxies", []), "methods": a.get("provenance_methods", {}),
    }
    typer.echo(json.dumps(out, indent=2))


@app.command()
def serve(
    store: Annotated[list[Path], typer.Option(help="cube store(s) to serve, by their dataset id")],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int | None, typer.Option(min=1, help="worker processes (default: settings.serve_workers; "
                                                            "one per core for the most tiles per second)")] = None,
) -> None:
    """Serve cubes: web map at /, API docs at /docs, tiles, region queries."""
    _serve(store, host, port, workers)


def _serve(stores: list[Path], host: str, port: int, workers: int | None = None) -> None:
    from api.serve import NothingToServe, run
    from pipelines.store import StoreError

    try:
        run(stores, host=host, port=port, workers=workers)
    except (NothingToServe, StoreError) as exc:
        _fail(str(exc), code=1)


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    rebuild: Annotated[bool, typer.Option(help="rebuild even if the demo cube exists")] = False,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="build only")] = False,
) -> None:
    """Build the default dataset (global, daily, 0.25 degree, DEMO_START to DEMO_END) if needed and serve it."""
    from carbonmap.settings import get_settings
    from pipelines.store import StoreError, open_cube

    path = get_settings().stores_dir / f"{DEMO_ID}.zarr"
    fresh = rebuild
    if not fresh:
        try:
            open_cube(path)
            typer.echo(f"using the existing demo cube {path} (--rebuild to rebuild)")
        except StoreError:
            fresh = True
    if fresh:
        typer.echo(f"building the demo cube: {DEMO_START} to {DEMO_END}, {DEMO_RESOLUTION} degree -> {path}")
        _build(DEMO_START, DEMO_END, DEMO_RESOLUTION, path, DEMO_ID, None)
    if no_serve:
        return
    base = f"http://{host}:{port}"
    typer.echo("\ncarbonmap demo is up:")
    typer.echo(f"  map          {base}/")
    typer.echo(f"  API docs     {base}/docs")
    typer.echo(f"  sample tile  {base}/tiles/{DEMO_ID}/WebMercatorQuad/2/2/1.png?date=2024-03-01&sector=total")
    typer.echo(f"  region query {base}/regions/DEU/emissions?dataset={DEMO_ID}&start=2024-01-01&end=2024-12-31"
               "&freq=month")
    sys.stdout.flush()
    _serve([path], host, port)


@app.command()
def ingest(
    source: Annotated[str | None, typer.Argument(help="source name (see --list)")] = None,
    file: Annotated[list[Path] | None, typer.Option("--file", help="local file(s) of the source")] = None,
    download: Annotated[bool, typer.Option("--download", help="fetch the period from the publisher")] = False,
    start: Annotated[str | None, typer.Option(help="first day to download, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="last day to download, YYYY-MM-DD")] = None,
    out: Annotated[Path | None, typer.Option(help="canonical output (.parquet or .zarr)")] = None,
    list_: Annotated[bool, typer.Option("--list", help="list the sources and exit")] = False,
) -> None:
    """Run one ingest adapter: read (or download), validate, write a canonical Parquet/Zarr input."""
    from ingest.base import IngestError
    from ingest.registry import adapter, list_sources

    if list_:
        from carbonmap.settings import get_settings

        rows = list_sources(get_settings().data_dir)
        width = max(len(str(r["name"])) for r in rows)
        for r in rows:
            shipped = "ships in data/" if r.get("ships_in_data") else "download only"
            real = "" if r.get("real", True) else " [simplified proxy]"
            typer.echo(f"{r['name']!s:<{width}}  {r['kind']:<14} {r['licence']:<32} {shipped}{real}  {r['title']}")
        return
    if not source:
        _fail("name a source (see `carbonmap ingest --list`)")
    try:
        ad = adapter(source)
    except (KeyError, ValueError) as exc:
        _fail(str(exc).strip("'\""))
    try:
        if download:
            if not (start and end):
                _fail("--download needs --start and --end")
            paths = ad.download(_parse_date(start, "start"), _parse_date(end, "end"))
        elif file:
            missing = [str(p) for p in file if not p.exists()]
            if missing:
                _fail(f"no such file: {', '.join(missing)}")
            paths = list(file)
        else:
            _fail("give --file PATH (repeatable) or --download --start --end")
        data = ad.read(paths)
        ad.validate(data)
        target = out or Path(f"{source}.parquet" if not hasattr(data, "dims") else f"{source}.zarr")
        written = ad.write(data, target, paths)
    except IngestError as exc:
        _fail(str(exc), code=1)
    typer.echo(f"wrote {written}")


@app.command()
def backtest(
    quick: Annotated[bool, typer.Option("--quick", help="top 5 only, rolling 2021-2023 (seconds)")] = False,
    out: Annotated[Path, typer.Option(help="report directory")] = Path("reports"),
) -> None:
    """Backtest the nowcast: GCB2024v17 -> GCB2025v15 vintage test, rolling origins 2010-2023, and the as-of tests
    that use only the data published by each day (2024 as of 2024-11-13 and 2025-03-01, rolling 2016-2023 as of
    each 13 November, 2025 beside GCB 2025's projection)."""
    import time

    import pandas as pd

    from carbonmap.settings import get_settings
    from ingest import cait, edgar
    from ingest.activity import PUBLICATION_LAG_DAYS
    from ingest.gcb import read_gcb
    from ingest.gcb_extra import PROJECTIONS_FILE, read_gcb_projections
    from ingest.sector_shares import national_sector_shares
    from nowcast.asof import AsofInputs, lag_table
    from nowcast.backtest import run_backtest
    from pipelines.indicators import annual_indicator_table, load_daily_indicators
    from pipelines.inputs import CAIT_FILE, EDGAR_FILE
    from pipelines.measured_inputs import load_measured, load_split, published_monthly

    data = get_settings().data_dir
    t0 = time.perf_counter()

    def record(_info: object, p: Path, _role: str) -> Path:
        return p

    try:
        old = read_gcb(data / "statistical" / "GCB2024v17_MtCO2_flat.csv")
        new = read_gcb(data / "statistical" / "GCB2025v15_MtCO2_flat.csv")
        typer.echo(f"GCB vintages {old.attrs.get('vintage')} and {new.attrs.get('vintage')} read")
        ind = annual_indicator_table(load_daily_indicators(data))
        typer.echo(f"indicators: {len(ind)} country-years ({', '.join(ind.columns)}), "
                   f"{int(ind['power_demand'].notna().sum())} with observed power demand")
        codes = [x for x in new["iso3"].dropna().unique() if x not in ("WLD", *cc.INTERNATIONAL_SECTORS.values())]
        shares = national_sector_shares(edgar.read_edgar_v5(data / EDGAR_FILE), cait.read_cait(data / CAIT_FILE),
                                        countries=codes)
        measured = load_measured(data, record)
        split = load_split(data, record, new, shares, list(range(2009, 2025)))
        if split is None:
            raise FileNotFoundError("no sector split inputs (Ember yearly, EDGAR v7.0, Carbon Monitor Power) ship")
        # the power series in Mt CO2 month-1 (Grid-India's daily reports are kt CO2 day-1, summed per month)
        kt = [c for c, lab in measured.sources.get("power", {}).items() if lab.startswith("Grid-India")]

        def published(as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
            cut = {s: published_monthly(measured, s, as_of) for s in measured.monthly}
            if "power" in cut and kt:
                cut["power"] = cut["power"].assign(**{c: cut["power"][c] / 1000.0 for c in kt})
            return cut

        proj_path = data / PROJECTIONS_FILE
        proj = None
        if proj_path.exists():
            p = read_gcb_projections(proj_path)
            proj = p.set_index("iso3")["value"]
        asof = AsofInputs(published=published, split=split.for_year, projection=proj,
                          lags=lag_table(measured.sources, measured.lags, PUBLICATION_LAG_DAYS),
                          today=pd.Timestamp(dt.date.today()))
        typer.echo("running the vintage, rolling-origin and as-of tests" + (" (quick)" if quick else ""))
        out.mkdir(parents=True, exist_ok=True)
        figs = run_backtest(old, new, out, indicators=ind, shares=shares, quick=quick, asof=asof)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc), code=1)
        raise  # unreachable

    def f(key: str) -> str:
        v = figs.get(key)
        return "n/a" if v is None else f"{v:.2f}"

    typer.echo(f"vintage {figs['vintage_year']}: top-20 growth MAE {f('top20_growth_mae_pp')} pp "
               f"(persistence {f('persistence_top20_growth_mae_pp')}, trend5 {f('trend5_top20_growth_mae_pp')}, "
               f"Carbon Monitor ratio {f('cm_ratio_top20_growth_mae_pp')}); "
               f"global growth error {f('global_growth_error_pp')} pp")
    typer.echo(f"rolling: top-20 MAPE {f('rolling_top20_mape')}% (persistence "
               f"{f('rolling_persistence_top20_mape')}%, Carbon Monitor ratio {f('rolling_cm_ratio_top20_mape')}%); "
               f"90% interval coverage {f('coverage90')}")
    typer.echo(f"as of 2024-11-13: top-20 growth MAE {f('asof_nov_top20_growth_mae_pp')} pp, global error "
               f"{f('asof_nov_global_growth_error_pp')} pp, CN+US+IN {f('asof_nov_cn_us_in_mae_pp')} pp (GCB2024 "
               f"projection {f('gcb_projection_cn_us_in_mae_pp')}); as of 2025-03-01: "
               f"{f('asof_mar_top20_growth_mae_pp')} pp; rolling as of 13 November: top-20 MAPE "
               f"{f('rolling_asof_top20_mape')}%; coverage {f('asof_coverage90')}")
    typer.echo(json.dumps({"goals": figs.get("goals"), "seconds": round(time.perf_counter() - t0, 1)}))
    typer.echo(f"wrote {out / 'backtest.md'} and {out / 'backtest.json'}")


@app.command("spatial-report")
def spatial_report(
    resolution: Annotated[float, typer.Option(help="grid resolution in degrees for the check")] = 0.25,
    out: Annotated[Path, typer.Option(help="directory for spatial.md and spatial.json")] = Path("reports"),
) -> None:
    """Score modelled province/state power against held-out subnational statistics (reports/spatial.md)."""
    from pipelines.spatial_report import run

    try:
        cc.Grid(resolution)
    except cc.ContractError as exc:
        _fail(str(exc))
    try:
        from carbonmap.settings import get_settings

        figs = run(resolution, out, settings=get_settings())
    except (ValueError, FileNotFoundError) as exc:
        _fail(str(exc), code=1)
    typer.echo(json.dumps({c: {k: r["held_out"][k] for k in ("spearman", "within_30pct")}
                           for c, r in figs["countries"].items()} | {"seconds": figs["seconds"]}))
    typer.echo(f"wrote {out / 'spatial.md'} and {out / 'spatial.json'}")


@app.command()
def update(
    store: Annotated[Path, typer.Option(help="store to update (a symlink to its current release)")] = Path(
        "stores/carbonmap.zarr"),
    through: Annotated[str | None, typer.Option(help="last day to include, YYYY-MM-DD (default yesterday)")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address; default a LocalCluster")] = None,
    prune: Annotated[bool, typer.Option(help="afterwards delete all but the newest `releases_keep` releases "
                                              "(setting CARBONMAP_RELEASES_KEEP; 0 keeps all)")] = False,
) -> None:
    """Append the newest days (and revise changed ones) as a new release; idempotent and resumable."""
    from carbonmap.progress import progress_reporter
    from pipelines.update import UpdateRequest
    from pipelines.update import update as run_update

    day = _parse_date(through, "through") if through else None
    try:
        with progress_reporter() as progress:
            result = run_update(UpdateRequest(store, day, scheduler), progress)
    except (StorageError, OSError, ValueError) as exc:  # BuildError, StoreError, LockHeld...
        _fail(f"{exc} (the store is unchanged)", code=1)
        raise  # unreachable
    if result.release is None:
        typer.echo(f"{store} is up to date (release {result.parent})")
    else:
        typer.echo(f"published release {result.release} of {store}: {len(result.days_added)} day(s) added, "
                   f"{len(result.days_revised)} revised" + (" (resumed)" if result.resumed else ""))
    pruned: list[str] = []
    if prune:
        from carbonmap.settings import get_settings
        from pipelines.releases import prune as prune_releases

        settings = get_settings()
        pruned = prune_releases(store, settings.releases_keep, settings=settings)
        typer.echo(f"pruned {len(pruned)} old release(s): {', '.join(pruned) or 'none'}")
    typer.echo(json.dumps({"release": result.release, "parent": result.parent,
                           "days_added": len(result.days_added), "days_revised": len(result.days_revised),
                           "pruned": pruned}))


@app.command()
def releases(
    store: Annotated[Path, typer.Option(help="store (a symlink to its current release)")] = Path(
        "stores/carbonmap.zarr"),
    diff: Annotated[str | None, typer.Option(help="show what release ID changed against its parent")] = None,
) -> None:
    """List a store's releases (newest first, one JSON object per line), or diff one against its parent."""
    from pipelines import releases as rel
    from pipelines.store import StoreError

    try:
        if diff is None:
            for info in rel.list_releases(store):
                typer.echo(json.dumps(info.to_json()))
            return
        infos = {i.id: i for i in rel.list_releases(store)}
        if diff not in infos or infos[diff].parent is None:
            _fail(f"release {diff!r} is not a published release with a parent; releases: {', '.join(infos) or 'none'}")
        d = rel.diff(store, str(infos[diff].parent), diff)
    except (StoreError, OSError) as exc:
        _fail(str(exc), code=1)
        raise  # unreachable
    typer.echo(json.dumps(d.to_json(max_rows=20)))


if __name__ == "__main__":
    app()
