"""Shared fixtures: tiny cubes on coarse grids so the suite runs in minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonmap import contract as cc
from pipelines import store

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"


def write_synthetic_cube(path: Path, *, resolution: float = 5.0, start: str = "2024-01-01", days: int = 10,
                         dataset_id: str = "synthetic-test") -> Path:
    """A sealed cube with a known synthetic field (test data, not a proxy of anything).

    emissions[t, s, i, j] = (s + 1) * (t + 1) * 1000 kg day-1 on land-ish cells (|lat| < 60), 0 elsewhere;
    national_emissions holds the exact sums under country 'AAA'.
    """
    grid = cc.Grid(resolution)
    times = pd.date_range(start, periods=days, freq="D")
    prov = cc.Provenance(inputs=(), code_version="test", build_time=dt.datetime.now(dt.UTC).isoformat(),
                         methods={"temporal": "synthetic"}, proxies=("synthetic test field",))
    attrs = cc.global_attrs(dataset_id=dataset_id, title="synthetic test cube", grid=grid,
                            start=str(times[0].date()), end=str(times[-1].date()), provenance=prov,
                            summary="synthetic field for tests")
    tmp = store.building_path(path)
    store.create(tmp, grid, times, ["AAA"], attrs)
    mask = (np.abs(grid.lat) < 60)[:, None] & np.ones(grid.nlon, bool)[None, :]
    nat = np.zeros((days, len(cc.SECTORS), 1))
    for t in range(days):
        field = np.stack([mask * (s + 1) * (t + 1) * 1000.0 for s in range(len(cc.SECTORS))])
        store.write_day(tmp, t, field, np.where(field > 0, 0.1, 0.0))
        nat[t, :, 0] = field.reshape(len(cc.SECTORS), -1).sum(axis=1)
    store.write_national(tmp, nat, np.full_like(nat, 0.05))
    return store.seal(tmp, path)


@pytest.fixture(scope="session")
def synthetic_cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_cube(tmp_path_factory.mktemp("cubes") / "synthetic-test.zarr")


@pytest.fixture(scope="session")
def real_cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cube built by the real pipeline from the shipped inputs: 5 degrees, 2024-03-01..10."""
    from pipelines.build import BuildRequest, build

    path = tmp_path_factory.mktemp("real") / "real-5deg.zarr"
    return build(BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 10), 5.0, path, "real-5deg"))
