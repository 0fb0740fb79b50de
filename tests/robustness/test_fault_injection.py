"""Fault injection: SIGKILL `carbonmap update` at random points; a corrupt input; a full disk.

After every kill the store opens, passes the consistency check and shows either the old or the
new release (never a mix), and a final re-run completes the update.  The suite kills 20 times
(CARBONMAP_FAULT_KILLS changes it, CARBONMAP_FAULT_SEED the kill points).
"""

from __future__ import annotations

import datetime as dt
import errno
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import subprocess
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
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
KILLS = int(os.environ.get("CARBONMAP_FAULT_KILLS", "20"))
START, END, THROUGH = dt.date(2024, 3, 1), dt.date(2024, 3, 3), dt.date(2024, 3, 7)


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(cc.Grid(10.0))


def _base_store(root: Path, inputs) -> Path:
    path = root / "f.zarr"
    build(BuildRequest(START, END, 10.0, path, "fault-10deg"), inputs=inputs)
    return path


def _run_update(path: Path, log: Path) -> None:
    """Child process body: ``carbonmap update`` (the CLI command itself) in its own session."""
    os.setsid()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    from carbonmap.cli import app

    try:
        app(["update", "--store", str(path), "--through", THROUGH.isoformat()], standalone_mode=False)
    except SystemExit as exc:
        os._exit(int(exc.code or 0))
    except BaseException:  # noqa: BLE001 - a child must exit with a code, never unwind into the forkserver
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


_FORKSERVER = mp.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(["carbonmap.cli", "pipelines.update", "pipelines.inputs", "distributed"])


def _start_update(path: Path, log: Path) -> mp.process.BaseProcess:
    """Start a real process running the update.  It is forked from a forkserver that has already
    imported carbonmap (and has no threads, unlike this test process), so a run costs the update
    itself, not seconds of imports; the cluster is a threaded LocalCluster inside the child
    (CARBONMAP_DASK_PROCESSES=false), so SIGKILL of its session takes everything down at once."""
    proc = _FORKSERVER.Process(target=_run_update, args=(path, log), daemon=False)
    proc.start()
    return proc


@pytest.fixture()
def threaded_cluster(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CARBONMAP_DASK_PROCESSES", "false")
    monkeypatch.setenv("CARBONMAP_DASK_WORKERS", "1")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("CARBONMAP_DASK_PROCESSES")
    get_settings.cache_clear()


def _copy_store(src: Path, dst: Path) -> None:
    """Copy a store: its releases, its pointer and its sidecar pointers (the time-series layout)."""
    shutil.copytree(store.releases_dir(src), store.releases_dir(dst), symlinks=True)
    rel_src, rel_dst = store.releases_dir(src).name, store.releases_dir(dst).name
    for link_src, link_dst in zip([src, *store.sidecars(src)], [dst, *store.sidecars(dst)], strict=True):
        if link_src.is_symlink():
            os.symlink(os.readlink(link_src).replace(rel_src, rel_dst, 1), link_dst)


def _remove_store(path: Path) -> None:
    shutil.rmtree(store.releases_dir(path))
    for link in [path, *store.sidecars(path)]:
        if link.is_symlink():
            link.unlink()


def _kill_lane(path: Path, pristine: Path, log: Path, rng: random.Random, kills: int, plan_s: float,
               duration: float) -> tuple[int, list[tuple[float, str, int | None]]]:
    """Start updates of ``path`` and SIGKILL them after random delays until ``kills`` runs were really
    killed mid-update; after every run the store must be consistent and on the old or the new release."""
    seen: list[tuple[float, str, int | None]] = []
    killed = 0
    while killed < kills and len(seen) < 4 * kills + 10:
        delay = rng.uniform(0.5 * plan_s, 0.85 * duration)
        proc = _start_update(path, log)
        proc.join(timeout=delay)
        if proc.exitcode is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.join(timeout=60)
            killed += 1
        report = check_store(path)
        assert report.ok, (path.name, delay, report.problems)
        assert report.release in ("r0001", "r0002"), report.release
        assert report.days == (3 if report.release == "r0001" else 7)
        seen.append((round(delay, 1), str(report.release), proc.exitcode))
        if report.release == "r0002":  # published before the kill: start the next kill from the old store
            _remove_store(path)
            _copy_store(pristine, path)
    return killed, seen


@pytest.mark.e2e
def test_sigkill_at_random_points_never_corrupts_and_rerun_completes(tmp_path: Path, inputs,
                                                                    threaded_cluster: None) -> None:
    path = _base_store(tmp_path, inputs)
    pristine = tmp_path / "pristine.zarr"
    _copy_store(path, pristine)
    log = tmp_path / "update.log"
    # how long an uninterrupted update takes here (on a copy), to spread the kill points over it
    ref = tmp_path / "ref.zarr"
    _copy_store(path, ref)
    t0 = time.monotonic()
    proc = _start_update(ref, log)
    proc.join(timeout=900)
    duration = time.monotonic() - t0
    assert proc.exitcode == 0, log.read_text()[-2000:]
    # when the reference run started staging (its progress line "release r0002: ..."): kills are
    # spread from halfway through planning (nothing written yet) to near the publish; runs that finish
    # first (a resumed run is shorter) do not count as kills
    staged = re.search(r"\[\s*([0-9.]+)s\] release r0002", log.read_text())
    assert staged, log.read_text()[-2000:]
    plan_s = float(staged.group(1))
    # two lanes, each killing updates of its own copy of the store, run side by side (one core each):
    # KILLS kills in all, in half the wall time
    seed = int(os.environ.get("CARBONMAP_FAULT_SEED", "7"))
    lanes = [(path, KILLS - KILLS // 2), (tmp_path / "lane1.zarr", KILLS // 2)]
    _copy_store(pristine, lanes[1][0])
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        runs = [pool.submit(_kill_lane, lane, pristine, tmp_path / f"lane{i}.log", random.Random(seed + i), kills,
                            plan_s, duration) for i, (lane, kills) in enumerate(lanes)]
        results = [r.result() for r in runs]
    seen = [run for lane in results for run in lane[1]]
    assert [k for k, _ in results] == [kills for _, kills in lanes], seen  # all really killed mid-update
    log.write_text("")
    proc = _start_update(path, log)
    proc.join(timeout=900)
    assert proc.exitcode == 0, log.read_text()[-2000:]
    report = check_store(path)
    assert report.ok and report.release == "r0002" and report.days == 7, (seen, report)
    assert store.open_cube(path).sizes["time"] == 7
    log.write_text("")
    proc = _start_update(path, log)
    proc.join(timeout=900)
    assert proc.exitcode == 0 and "up to date" in log.read_text(), (seen, log.read_text()[-2000:])
    print(f"kills (delay s, release after, exit code): {seen}; reference update {duration:.1f} s")


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
