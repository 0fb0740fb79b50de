"""Progress display for long-running commands (rich bars on a terminal, plain lines otherwise)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

ProgressFn = Callable[[int, int, str], None]
"""progress(done, total, message)."""


@contextmanager
def progress_reporter() -> Iterator[ProgressFn]:
    """Yield a ``progress(done, total, message)`` callback that draws a bar per message."""
    console = Console(stderr=True)
    if not console.is_terminal:
        last: dict[str, float] = {}
        start = time.monotonic()

        def plain(done: int, total: int, message: str) -> None:
            now = time.monotonic()
            if done in (0, total) or now - last.get(message, 0) > 5:
                last[message] = now
                print(f"[{now - start:7.1f}s] {message}: {done}/{total}", file=sys.stderr, flush=True)

        yield plain
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=console) as bar:
        tasks: dict[str, int] = {}

        def draw(done: int, total: int, message: str) -> None:
            if message not in tasks:
                tasks[message] = bar.add_task(message, total=total)
            bar.update(tasks[message], completed=done, total=total)

        yield draw
