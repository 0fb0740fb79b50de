"""The pipeline runs unchanged on a real distributed cluster: a `dask scheduler` and two
`dask worker` processes on 127.0.0.1, started here as subprocesses."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import Client

from carbonmap import contract as cc
from pipelines import store
from pipelines.build import BuildRequest, build
from pipelines.consistency import check_store
from pipelines.inputs import load_inputs
from tests.api.routes.live_server import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    logs = tmp_path_factory.mktemp("dask-logs")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--dashboard-address", ":0"], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=open(logs / "scheduler.log", "w"))]  # noqa: SIM115
    for i in range(2):
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads",
                                       "1", "--nworkers", "1", "--host", "127.0.0.1", "--dashboard-address", ":0",
                                       "--memory-limit", "2GB"], cwd=REPO, stdout=subprocess.DEVNULL,
                                      stderr=open(logs / f"worker{i}.log", "w")))  # noqa: SIM115
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with Client(address, timeout="10s") as c:
                    c.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        yield address
    except BaseException:
        for f in sorted(logs.iterdir()):
            print(f"--- {f.name}\n{f.read_text()[-3000:]}")
        raise
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.mark.e2e
def test_build_through_an_external_scheduler_and_two_workers(cluster: str, tmp_path: Path) -> None:
    path = tmp_path / "dist.zarr"
    with Client(cluster) as c:
        before = c.run(lambda dask_worker: len(dask_worker.data) + dask_worker.state.transition_counter)
    build(BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 16), 10.0, path, "dist-10deg", scheduler=cluster),
          inputs=load_inputs(cc.Grid(10.0)))
    report = check_store(path)
    assert report.ok and report.days == 16, report.problems
    with Client(cluster) as c:
        after = c.run(lambda dask_worker: dask_worker.state.transition_counter)
        assert len(after) == 2
    worked = [w for w in after if after[w] > before.get(w, 0)]
    assert len(worked) == 2, "both external workers must have run tasks (16 days = 2 tasks)"
    assert store.open_cube(path).sizes["time"] == 16
