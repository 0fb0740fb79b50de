"""Progress display for long-running commands (rich bars on a terminal, plain lines otherwise).

Every long stage reports through one callback type, :class:`ProgressFn`: ``progress(done, total, message)``
with ``done`` and ``total`` counts (ints) and ``message`` the stage's label. The type checker in ``make lint``
(mypy, ``check_untyped_defs``) checks every call against it, so a call with its arguments out of order
(issue #14: ``progress(label, done, total)``) can't land.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressFn(Protocol):
    """``progress(done, total, message)``: ``done`` of ``total`` steps of the stage ``message`` are finished."""

    def __call__(self, done: int, total: int, message: str, /) -> None: ...


def no_progress(done: int, total: int, message: str, /) -> None:
    """The silent :class:`ProgressFn`, for callers that pass none."""


def _check(done: object, total: object, message: object) -> None:
    if not (isinstance(done, int) and isinstance(total, int) and isinstance(message, str)):
        raise TypeError(f"progress(done: int, total: int, message: str) was called as "
                        f"progress({done!r}, {total!r}, {message!r})")


def plain_line(elapsed: float, done: int, total: int, message: str) -> str:
    """One plain progress line: ``[   12.3s] label: done/total``."""
    return f"[{elapsed:7.1f}s] {message}: {done}/{total}"


@contextmanager
def progress_reporter() -> Iterator[ProgressFn]:
    """Yield a :class:`ProgressFn` that draws a bar per message on a terminal and prints plain lines otherwise."""
    console = Console(stderr=True)
    if not console.is_terminal:
        last: dict[str, float] = {}
        start = time.monotonic()

        def plain(done: int, total: int, message: str, /) -> None:
            _check(done, total, message)
            now = time.monotonic()
            if done in (0, total) or now - last.get(message, 0) > 5:
                last[message] = now
                print(plain_line(now - start, done, total, message), file=sys.stderr, flush=True)

        yield plain
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=console) as bar:
        tasks: dict[str, TaskID] = {}

        def draw(done: int, total: int, message: str, /) -> None:
            _check(done, total, message)
            if message not in tasks:
                tasks[message] = bar.add_task(message, total=total)
            bar.update(tasks[message], completed=done, total=total)

        yield draw
