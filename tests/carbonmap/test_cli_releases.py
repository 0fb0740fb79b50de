"""`carbonmap update --prune` and `carbonmap releases`: the user's commands over a real store."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from carbonmap import contract as cc
from pipelines import store
from pipelines.build import BuildRequest, build
from pipelines.consistency import check_store
from pipelines.inputs import load_inputs

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "carbonmap", *args], cwd=REPO, capture_output=True, text=True, check=False,
                          timeout=600, env={**os.environ, "CARBONMAP_DASK_PROCESSES": "false",
                                            "CARBONMAP_DASK_WORKERS": "1", **env})


@pytest.fixture(scope="module")
def three_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-releases") / "c.zarr"
    build(BuildRequest(dt.date(2024, 5, 1), dt.date(2024, 5, 2), 10.0, path, "cli-releases"),
          inputs=load_inputs(cc.Grid(10.0)))
    r2 = run("update", "--store", str(path), "--through", "2024-05-03")
    assert r2.returncode == 0, r2.stderr[-2000:]
    r3 = run("update", "--store", str(path), "--through", "2024-05-04", "--prune", CARBONMAP_RELEASES_KEEP="2")
    assert r3.returncode == 0, r3.stderr[-2000:]
    summary = json.loads(r3.stdout.strip().splitlines()[-1])
    assert summary["release"] == "r0003" and summary["days_added"] == 1 and summary["pruned"] == ["r0001"]
    return path


def test_prune_keeps_the_newest_releases_and_their_data(three_releases: Path) -> None:
    path = three_releases
    assert store.release_ids(path) == ["r0002", "r0003"]
    report = check_store(path)
    assert report.ok and report.release == "r0003" and report.days == 4, report.problems
    # shards r0003 shares with the deleted r0001 (hard links) are intact
    ds = store.open_cube(path)
    first = ds[cc.EMISSIONS_VAR].isel(time=0).values.astype(np.float64)
    assert np.isfinite(first).all() and first.sum() > 0
    assert float(ds[cc.NATIONAL_VAR].isel(time=0).sum()) == pytest.approx(first.sum(), rel=1e-5)


def test_releases_lists_history_and_diffs(three_releases: Path) -> None:
    r = run("releases", "--store", str(three_releases))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.strip().splitlines()]
    assert [x["id"] for x in rows] == ["r0003", "r0002"] and rows[0]["current"] and not rows[1]["current"]
    assert rows[0]["days_added"] == [["2024-05-04", "2024-05-04"]]
    d = run("releases", "--store", str(three_releases), "--diff", "r0003")
    assert d.returncode == 0, d.stderr
    body = json.loads(d.stdout.strip().splitlines()[-1])
    assert body["days_added"] == ["2024-05-04"] and body["days_revised"] == [] and body["total_change_t"] == 0.0


def test_bad_release_requests_are_refused(three_releases: Path, tmp_path: Path) -> None:
    r = run("releases", "--store", str(three_releases), "--diff", "r0001")
    assert r.returncode != 0 and "r0001" in r.stderr and "Traceback" not in r.stderr
    r = run("update", "--store", str(tmp_path / "none.zarr"), "--through", "2024-05-04")
    assert r.returncode != 0 and "Traceback" not in r.stderr and r.stderr.strip(), r.stderr
