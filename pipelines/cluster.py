"""Connecting to Dask: a distributed LocalCluster by default, or any scheduler by address."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from distributed import Client, LocalCluster

from carbonmap.settings import Settings


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, settings: Settings) -> Iterator[Client]:
    """A Dask distributed client for the pipeline.

    ``scheduler`` (or ``settings.dask_scheduler``) is the address of a running scheduler,
    e.g. ``tcp://10.0.0.5:8786``; without one a LocalCluster of worker processes is started
    (``dask_workers`` x ``dask_threads_per_worker``; threads instead of processes when
    ``dask_processes`` is False) and closed afterwards.  ``settings``: the caller's (a request's) settings.
    """
    address = scheduler or settings.dask_scheduler
    if address:
        with Client(address, timeout="30s") as client:
            yield client
        return
    with LocalCluster(n_workers=settings.dask_workers, threads_per_worker=settings.dask_threads_per_worker,
                      memory_limit=settings.dask_memory_limit, processes=settings.dask_processes, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        yield client
