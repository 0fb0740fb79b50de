"""The CLI as a person runs it: in a real pseudo-terminal (rich progress bars) and in plain mode (log lines).

Regression for issue #14: ``carbonmap build`` died at the time-series stage in a terminal because a progress
callback was called as ``progress(label, done, total)`` against ``ProgressFn(done, total, message)``.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def run_in_pty(args: list[str], timeout: float = 600.0) -> tuple[int, str]:
    """Run ``python -m carbonmap ARGS`` with stdin, stdout and stderr on a pseudo-terminal; (exit code, output)."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    env.pop("CI", None)  # rich treats CI as "not interactive"; a person's shell has no CI variable
    proc = subprocess.Popen([sys.executable, "-m", "carbonmap", *args], cwd=REPO, stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"{args} did not finish in {timeout} s; output so far:\n"
                                     + b"".join(chunks).decode(errors="replace")[-4000:])
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
    code = proc.wait(timeout=60)
    return code, b"".join(chunks).decode(errors="replace")


def run_plain(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "carbonmap", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600, check=False, stdin=subprocess.DEVNULL)


def published(store: Path) -> None:
    assert store.is_symlink(), f"{store} was not published"
    assert (store / "zarr.json").exists()
    leftovers = sorted(p.name for p in store.parent.iterdir() if ".building" in p.name or p.name.endswith(".tmp"))
    assert not leftovers, f"half-written stores left behind: {leftovers}"


def test_build_and_update_in_a_terminal_draw_bars_and_finish(tmp_path: Path) -> None:
    store = tmp_path / "x.zarr"
    code, out = run_in_pty(["build", "--start", "2024-01-01", "--end", "2024-01-20", "--resolution", "5",
                            "--store", str(store)])
    assert "Traceback" not in out, out[-4000:]
    assert code == 0, out[-4000:]
    published(store)
    assert "built" in out
    # every stage drew its bar in the terminal: cube days, pyramid and time-series layout
    for label in ("writing days", "pyramid", "timeseries: shard columns"):
        assert label in out, f"no progress bar for {label!r}:\n{out[-3000:]}"
    assert "\x1b[" in out, "rich drew no terminal bar (no escape sequences): not run on a terminal?"

    code, out = run_in_pty(["update", "--store", str(store), "--through", "2024-01-23"])
    assert "Traceback" not in out, out[-4000:]
    assert code == 0, out[-4000:]
    assert "published release" in out
    published(store)


def test_plain_progress_lines_read_label_done_over_total(tmp_path: Path) -> None:
    store = tmp_path / "y.zarr"
    r = run_plain(["build", "--start", "2024-01-01", "--end", "2024-01-05", "--resolution", "5",
                   "--store", str(store)])
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [ln for ln in r.stderr.splitlines() if re.match(r"^\[\s*[\d.]+s\] ", ln)]
    assert lines, r.stderr[-3000:]
    for ln in lines:
        assert re.match(r"^\[\s*[\d.]+s\] [^\d].*: \d+/\d+$", ln), f"not 'label: done/total': {ln!r}"
    assert any(ln.split("] ", 1)[1].startswith("timeseries: shard columns") for ln in lines), lines
