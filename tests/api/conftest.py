"""API fixtures: real sealed cubes (written with pipelines.store), a Registry and a TestClient."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from carbonmap import contract as cc
from carbonmap.registry import Registry
from carbonmap.settings import Settings
from pipelines import store

REPO = Path(__file__).resolve().parents[2]
MULTI_ID = "multi-test"
MULTI_COUNTRIES = ("AAA", "BBB", "XIA", "XIS")
MULTI_START = "2023-12-20"
MULTI_DAYS = 48  # 2023-12-20 .. 2024-02-05: crosses a year and two month boundaries


def multi_national(days: int = MULTI_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic national table (time, sector, country): kg CO2 day-1 and relative 1-sigma.

    Test data, not a proxy of anything.  Bunker pseudo-countries only carry their own sector.
    """
    rng = np.random.default_rng(20240101)
    nat = rng.uniform(1e6, 5e8, size=(days, len(cc.SECTORS), len(MULTI_COUNTRIES)))
    for k, code in enumerate(MULTI_COUNTRIES):
        for s, sector in enumerate(cc.SECTORS):
            bunker = cc.INTERNATIONAL_SECTORS.get(sector)
            if (code in ("XIA", "XIS")) != (bunker == code):
                nat[:, s, k] = 0.0
    unc = rng.uniform(0.02, 0.3, size=nat.shape)
    return nat, np.where(nat > 0, unc, 0.0)


def write_multi_cube(path: Path) -> Path:
    """A sealed 10 degree cube whose grid puts each country's national total in its own cell."""
    grid = cc.Grid(10.0)
    times = pd.date_range(MULTI_START, periods=MULTI_DAYS, freq="D")
    gcb = REPO / "data" / "statistical" / "GCB2025v15_MtCO2_flat.csv"
    prov = cc.Provenance(
        inputs=(cc.InputFile.of(gcb, source="Global Carbon Budget 2025", license="CC-BY-4.0",
                                role="national annual totals (not used by this test cube)", real=True,
                                root=REPO / "data"),
                cc.InputFile("synthetic/field.npy", "0" * 64, "carbonmap test fixture", "CC0-1.0",
                             "synthetic national table", real=False)),
        code_version="test", build_time=dt.datetime.now(dt.UTC).isoformat(),
        methods={"temporal": "random test values", "spatial": "one cell per country"},
        proxies=("the national table is random test data",))
    attrs = cc.global_attrs(dataset_id=MULTI_ID, title="multi-country test cube", grid=grid,
                            start=str(times[0].date()), end=str(times[-1].date()), provenance=prov,
                            summary="random national table for API tests")
    tmp = store.building_path(path)
    store.create(tmp, grid, times, list(MULTI_COUNTRIES), attrs)
    nat, unc = multi_national()
    cells = [(3, 4), (5, 20), (2, 30), (12, 10)]  # one (row, col) per country
    for t in range(MULTI_DAYS):
        field = np.zeros((len(cc.SECTORS), grid.nlat, grid.nlon))
        rel = np.zeros_like(field)
        for k, (r, c) in enumerate(cells):
            field[:, r, c] = nat[t, :, k]
            rel[:, r, c] = unc[t, :, k]
        store.write_day(tmp, t, field, rel)
    store.write_national(tmp, nat, unc)
    return store.seal(tmp, path)


@pytest.fixture(scope="session")
def multi_cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_multi_cube(tmp_path_factory.mktemp("api-cubes") / "multi-test.zarr")


@pytest.fixture(scope="session")
def registry(synthetic_cube: Path, multi_cube: Path) -> Registry:
    reg = Registry()
    reg.add(multi_cube)
    reg.add(synthetic_cube)
    return reg


@pytest.fixture(scope="session")
def api_settings() -> Settings:
    return Settings(max_body_bytes=1000, cors_origins=["https://example.org"])


@pytest.fixture(scope="session")
def client(registry: Registry, api_settings: Settings) -> TestClient:
    return TestClient(create_app(registry, api_settings), raise_server_exceptions=False)
