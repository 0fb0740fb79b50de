"""Fault injection: SIGKILL `carbonmap update` at random points; a corrupt input; a full disk.

After every kill the store opens, passes the consistency check and shows either the old or the
new release (never a mix), and a final re-run completes the update.  The default run kills 5
times; set CARBONMAP_FAULT_KILLS=20 for the dedicated run.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carbonmap import contract as cc
from carbonmap.settings import get_settings
from pipelines import store
from pipelines.build import BuildRequest, build
from pipelines.consistency import check_store
from pipelines.inputs import GCB_FILE, load_inputs
from pipelines.update import UpdateError, UpdateRequest, update

REPO = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("CARBONMAP_FAULT_KILLS", "5"))
START, END, THROUGH = dt.date(2024, 3, 1), dt.date(2024, 3, 3), dt.date(2024, 3, 7)


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(cc.Grid(10.0))


def _base_store(root: Path, inputs) -> Path:
    path = root / "f.zarr"
    build(BuildRequest(START, END, 10.0, path, "fault-10deg"), inputs=inputs)
    return path


def _update_cmd(path: Path) -> list[str]:
    return [sys.executable, "-m", "carbonmap", "update", "--store", str(path), "--through", THROUGH.isoformat()]


def _env() -> dict[str, str]:
    return {**os.environ, "CARBONMAP_DASK_WORKERS": "1", "PYTHONUNBUFFERED": "1"}


def _copy_store(src: Path, dst: Path) -> None:
    shutil.copytree(store.releases_dir(src), store.releases_dir(dst), symlinks=True)
    os.symlink(os.readlink(src), dst)


@pytest.mark.e2e
def test_sigkill_at_random_points_never_corrupts_and_rerun_completes(tmp_path: Path, inputs) -> None:
    path = _base_store(tmp_path, inputs)
    # how long an uninterrupted update takes here (on a copy), to spread the kill points over it
    ref = tmp_path / "ref.zarr"
    _copy_store(path, ref)
    t0 = time.monotonic()
    done = subprocess.run(_update_cmd(ref), cwd=REPO, env=_env(), check=False, capture_output=True, text=True, timeout=900)
    duration = time.monotonic() - t0
    assert done.returncode == 0, done.stderr[-2000:]
    rng = random.Random(int(os.environ.get("CARBONMAP_FAULT_SEED", "7")))
    seen = []
    for _ in range(KILLS):
        delay = rng.uniform(0.05, 1.05) * duration
        proc = subprocess.Popen(_update_cmd(path), cwd=REPO, env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the update and its Dask workers (its own session)
            proc.wait(timeout=60)
        report = check_store(path)
        assert report.ok, (delay, report.problems)
        assert report.release in ("r0001", "r0002"), report.release
        assert report.days == (3 if report.release == "r0001" else 7)
        seen.append((round(delay, 1), report.release, proc.returncode))
    final = subprocess.run(_update_cmd(path), cwd=REPO, env=_env(), check=False, capture_output=True, text=True, timeout=900)
    assert final.returncode == 0, final.stderr[-2000:]
    report = check_store(path)
    assert report.ok and report.release == "r0002" and report.days == 7, (seen, report)
    again = subprocess.run(_update_cmd(path), cwd=REPO, env=_env(), check=False, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and "up to date" in again.stdout, (seen, again.stdout)
    print(f"kills (delay s, release after, exit code): {seen}; reference update {duration:.0f} s")


@pytest.fixture()
def data_with_corrupt_gcb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir of symlinks to the shipped files, with the GCB table replaced by garbage."""
    src = get_settings().data_dir
    dst = tmp_path / "data"
    for root, _dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for f in files:
            os.symlink(Path(root) / f, dst / rel / f)
    (dst / GCB_FILE).unlink()
    (dst / GCB_FILE).write_bytes(b"\x00\x01 not a csv \xff\xfe" * 100)
    monkeypatch.setenv("CARBONMAP_DATA_DIR", str(dst))
    get_settings.cache_clear()
    yield dst
    monkeypatch.delenv("CARBONMAP_DATA_DIR")
    get_settings.cache_clear()


def _snapshot(path: Path) -> tuple:
    rel = store.releases_dir(path)
    return (store.current_release(path), sorted(p.name for p in rel.iterdir() if not p.name.startswith(".")),
            store.open_cube(path).sizes["time"])


def test_corrupt_input_gives_a_clear_error_and_the_store_is_unchanged(tmp_path: Path, inputs,
                                                                      data_with_corrupt_gcb: Path) -> None:
    path = _base_store(tmp_path, inputs)
    before = _snapshot(path)
    with pytest.raises(UpdateError, match="inputs cannot be read") as exc:
        update(UpdateRequest(path, THROUGH))
    assert "GCB" in str(exc.value) or "gcb" in str(exc.value).lower() or "csv" in str(exc.value).lower()
    assert _snapshot(path) == before and check_store(path).ok


@pytest.fixture()
def small_disk(tmp_path: Path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mnt)], check=False, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a 20 MB tmpfs here (needs root/CAP_SYS_ADMIN): {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False, capture_output=True)


def test_full_disk_gives_a_clear_error_and_the_store_is_unchanged(small_disk: Path, inputs) -> None:
    path = _base_store(small_disk, inputs)
    before = _snapshot(path)
    filler = small_disk / "filler"
    with open(filler, "wb") as f:  # fill the disk, then leave ~48 KB
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    os.truncate(filler, max(0, filler.stat().st_size - 48 * 1024))
    with pytest.raises(OSError) as exc:
        update(UpdateRequest(path, THROUGH), inputs=inputs)
    assert exc.value.errno == errno.ENOSPC or "No space left" in str(exc.value), repr(exc.value)
    assert _snapshot(path)[0::2] == before[0::2] and check_store(path).ok
    filler.unlink()  # space again: the update resumes and completes
    res = update(UpdateRequest(path, THROUGH), inputs=inputs)
    assert res.release == "r0002" and check_store(path).ok
