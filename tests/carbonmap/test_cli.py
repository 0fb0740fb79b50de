"""The command line refuses bad input with a clear message and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "carbonmap", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize("args,message", [
    (["build", "--start", "2024-02-01", "--end", "2024-01-01", "--store", "/tmp/never.zarr"], "before start"),
    (["build", "--start", "2024-13-01", "--store", "/tmp/never.zarr"], "not a date"),
    (["build", "--resolution", "0.7", "--store", "/tmp/never.zarr"], "does not divide"),
    (["info", "--store", "/nonexistent/cube.zarr"], "no carbonmap cube"),
    (["serve", "--store", "/nonexistent/cube.zarr"], "no carbonmap cube"),
    (["ingest", "no-such-source"], "unknown ingest source"),
    (["ingest", "gcb"], "--file"),
    (["ingest", "gcb", "--file", "/nonexistent.csv"], "no such file"),
    (["spatial-report", "--resolution", "0.7"], "does not divide"),
    (["ingest", "nbs_china_province_output", "--file", "/nonexistent.csv"], "no such file"),
])
def test_bad_input_exits_non_zero_with_message(args: list[str], message: str) -> None:
    r = run(*args)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_malformed_input_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "GCB2025v15_MtCO2_flat.csv"
    bad.write_text("Country,Year\nX,2024\n")
    r = run("ingest", "gcb", "--file", str(bad), "--out", str(tmp_path / "out.parquet"))
    assert r.returncode == 1 and "error:" in r.stderr
    assert not (tmp_path / "out.parquet").exists()


def test_ingest_list_names_sources_and_licences() -> None:
    r = run("ingest", "--list")
    assert r.returncode == 0
    assert "gcb" in r.stdout and "CC-BY-4.0" in r.stdout and "simplified proxy" in r.stdout


def test_a_bad_setting_is_one_line_naming_the_variable_not_a_traceback() -> None:
    import os

    r = subprocess.run([sys.executable, "-m", "carbonmap", "serve", "--store", "/nonexistent/cube.zarr"], cwd=REPO,
                       capture_output=True, text=True, env={**os.environ, "CARBONMAP_SERVE_THREADS": "0"}, timeout=120,
                       check=False)
    assert r.returncode == 2, r.stderr
    assert "CARBONMAP_SERVE_THREADS='0'" in r.stderr and "greater than or equal to 1" in r.stderr
    assert "Traceback" not in r.stderr
