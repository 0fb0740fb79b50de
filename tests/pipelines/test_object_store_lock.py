"""The writer lock of an s3:// store (issue #20.4): a conditional PUT on a real S3-compatible server (moto's
server mode on localhost): one writer at a time, a stale lock taken over, a lost lock never publishes."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import obstore
import pytest

from carbonmap.settings import get_settings
from carbonmap.storage import remote
from pipelines import locks, store
from tests.pipelines.test_object_store import s3  # noqa: F401 - the moto server fixture

pytestmark = pytest.mark.usefixtures("s3")


def _lock_doc(url: str) -> dict | None:
    text = remote.read_text(url, locks.LOCK_KEY)
    return None if text is None else json.loads(text)


def test_one_writer_at_a_time_and_the_lock_is_removed_after(s3: str) -> None:  # noqa: F811
    url = f"{s3}/locks/one.zarr"
    with store.writer_lock(url, settings=get_settings()) as held:
        doc = _lock_doc(url)
        assert doc is not None and {"id", "host", "pid", "since", "heartbeat"} <= set(doc)
        with pytest.raises(locks.LockHeld, match=r"another build or update is writing .*pid"), \
                store.writer_lock(url, settings=get_settings()):
            pass
        held.check()
    assert _lock_doc(url) is None
    with store.writer_lock(url, settings=get_settings()):  # free again
        pass


def test_concurrent_writers_exactly_one_wins(s3: str) -> None:  # noqa: F811
    url = f"{s3}/locks/race.zarr"
    barrier = threading.Barrier(4)
    outcome: list[str] = []
    inside = [0, 0]  # holders now, most holders at once
    guard = threading.Lock()

    def writer() -> None:
        barrier.wait()
        try:
            with store.writer_lock(url, settings=get_settings()):
                with guard:
                    inside[0] += 1
                    inside[1] = max(inside[1], inside[0])
                outcome.append("held")
                time.sleep(0.5)
                with guard:
                    inside[0] -= 1
        except locks.LockHeld:
            outcome.append("refused")

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcome) == 4 and outcome.count("held") >= 1 and outcome.count("refused") >= 1
    assert inside[1] == 1  # never two holders at once


def test_a_stale_lock_is_taken_over(s3: str) -> None:  # noqa: F811
    url = f"{s3}/locks/stale.zarr"
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(timespec="seconds")
    obstore.put(remote.object_store(url), locks.LOCK_KEY,
                json.dumps({"id": "dead", "host": "gone", "pid": 1, "since": old, "heartbeat": old}).encode())
    with store.writer_lock(url, settings=get_settings()):
        assert _lock_doc(url)["id"] != "dead"
    assert _lock_doc(url) is None


def test_a_fresh_lock_of_another_writer_is_respected(s3: str) -> None:  # noqa: F811
    url = f"{s3}/locks/fresh.zarr"
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    obstore.put(remote.object_store(url), locks.LOCK_KEY,
                json.dumps({"id": "alive", "host": "elsewhere", "pid": 7, "since": now, "heartbeat": now}).encode())
    with pytest.raises(locks.LockHeld, match="host elsewhere, pid 7"), store.writer_lock(url, settings=get_settings()):
        pass
    assert _lock_doc(url)["id"] == "alive"  # not removed by the refused writer


def test_a_lost_lock_raises_and_is_not_deleted(s3: str) -> None:  # noqa: F811
    url = f"{s3}/locks/lost.zarr"
    st = remote.object_store(url)
    with pytest.raises(locks.LockLost, match="taken over"), locks.object_lock(st, url, ttl=0.4) as held:
        # another writer found it stale and took it over (an unconditional write stands in for that)
        obstore.put(st, locks.LOCK_KEY, json.dumps({"id": "usurper", "heartbeat": "x"}).encode())
        time.sleep(0.5)  # the next heartbeat (every ttl/4) sees the ETag changed
        with pytest.raises(locks.LockLost):
            held.check()  # what build/update call before they publish
    assert _lock_doc(url)["id"] == "usurper"
