"""A progress bar on stderr for long runs, and only where a person watches.

Never under pre-commit (``PRE_COMMIT`` is set), with ``-q``, or when stderr is not
a terminal; it never writes to stdout, which carries diffs and machine output.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

# Fewer files than this finish before a bar would be worth drawing.
_MIN_FILES = 20


class _Bar:
    def __init__(self, progress=None, description: str = "") -> None:
        self._progress = progress
        self._description = description
        self._task = None

    def total(self, n: int) -> None:
        if self._progress is not None and n >= _MIN_FILES:
            self._task = self._progress.add_task(self._description, total=n)

    def advance(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)


def wanted(console, enabled: bool) -> bool:
    return enabled and not os.environ.get("PRE_COMMIT") and console.is_terminal and not console.is_dumb_terminal


@contextmanager
def progress_for(console, *, enabled: bool, description: str = "converting") -> Iterator[_Bar]:
    if not wanted(console, enabled):
        yield _Bar()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        yield _Bar(progress, description)
