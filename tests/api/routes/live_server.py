"""Test support: a cube with a random field (+ its time-series layout) and a real uvicorn server on it."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from carbonmap import contract as cc
from pipelines import store

REPO = Path(__file__).resolve().parents[3]


def write_random_cube(path: Path, *, resolution: float = 5.0, start: str = "2023-12-20", days: int = 20,
                      dataset_id: str = "random-test", seed: int = 7) -> Path:
    """A sealed cube with a random positive field (test data, not a proxy of anything); uncertainty 0.1..0.3."""
    grid = cc.Grid(resolution)
    times = pd.date_range(start, periods=days, freq="D")
    prov = cc.Provenance(inputs=(), code_version="test", build_time=dt.datetime.now(dt.UTC).isoformat(),
                         methods={"temporal": "random"}, proxies=("random test field",))
    attrs = cc.global_attrs(dataset_id=dataset_id, title="random test cube", grid=grid, start=str(times[0].date()),
                            end=str(times[-1].date()), provenance=prov, summary="random field for tests")
    tmp = store.building_path(path)
    store.create(tmp, grid, times, ["AAA"], attrs)
    rng = np.random.default_rng(seed)
    nat = np.zeros((days, len(cc.SECTORS), 1))
    for t in range(days):
        field = rng.uniform(0, 1e6, size=(len(cc.SECTORS), grid.nlat, grid.nlon)).astype(np.float32)
        unc = rng.uniform(0.1, 0.3, size=field.shape).astype(np.float32)
        store.write_day(tmp, t, field, unc)
        nat[t, :, 0] = field.reshape(len(cc.SECTORS), -1).sum(axis=1)
    store.write_national(tmp, nat, np.full_like(nat, 0.05))
    return Path(store.seal(tmp, path))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(stores: list[Path], log: Path, env_extra: dict[str, str] | None = None,
                module: tuple[str, ...] = ("api.serve",), extra_args: tuple[str, ...] = (),
                start_timeout: float = 120.0) -> Iterator[str]:
    """``python -m api.serve`` (or another ``module`` command, e.g. ``("carbonmap", "serve")``) on a free
    port; yields the base URL once ``/healthz`` answers (within ``start_timeout`` s); terminated on exit."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env_extra or {})}
    args = [sys.executable, "-m", *module, "--host", "127.0.0.1", "--port", str(port)]
    if module == ("api.serve",):
        args += ["--log-level", "warning"]
    for s in stores:
        args += ["--store", str(s)]
    args += list(extra_args)
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer /healthz within {start_timeout:.0f} s: "
                                   f"{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
