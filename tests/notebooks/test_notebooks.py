"""notebooks/*.ipynb run top to bottom (nbclient) against a real server on the real 5 degree cube."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipelines.timeseries import build_timeseries
from tests.api.routes.live_server import live_server

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def server(real_cube: Path, tmp_path_factory: pytest.TempPathFactory):
    build_timeseries(real_cube)
    with live_server([real_cube], tmp_path_factory.mktemp("nb") / "server.log") as base:
        yield base


def test_there_are_five_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.e2e
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_against_the_server(path: Path, server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CARBONMAP_URL", server)
    monkeypatch.setenv("CARBONMAP_DATASET", "real-5deg")
    monkeypatch.setenv("CARBONMAP_BACKTEST_JSON", str(REPO / "reports" / "backtest.json"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no figure"
    assert os.listdir(tmp_path) == []  # the download notebook cleans up after itself
