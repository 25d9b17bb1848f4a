"""Signals and exit codes for a run that is stopped from outside.

* Ctrl-C (SIGINT): the run stops, every file is either fully old or fully new
  (writes are atomic, and a write in progress removes its temp file), exit 130
  like any shell command killed by SIGINT.  Not click's "Aborted!" + exit 1:
  1 is what ``check`` uses for "would rewrite".
* SIGTERM: the handler raises :class:`Terminated`, so the same ``finally``
  blocks run (temp files removed, worker pool shut down); exit 143.

Kept in a module of its own, with nothing but the standard library, so that the
CLI can install the handler at start-up without importing the runner.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143

_busy = False  # a worker process is converting a file (see worker_sigterm)


class Terminated(BaseException):
    """SIGTERM arrived.  A BaseException, so ``except Exception`` never swallows it."""


def on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def sigterm_unwinds(*, then_ignore: bool = False) -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` for the duration (main thread only).

    ``then_ignore`` (the CLI run as a program): afterwards SIGTERM is ignored
    instead of restored.  The command has finished and its exit code is decided;
    what is left is the interpreter's shutdown, during which Python puts back the
    default action of every signal it handled, so a SIGTERM there killed the
    process (status -15) instead of letting it exit with the code it already
    had or 143.  Nothing is left to clean up by then.
    """
    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN if then_ignore else previous)


@contextmanager
def busy() -> Iterator[None]:
    """Mark a worker as in the middle of a file: SIGTERM must unwind, not just exit."""
    global _busy
    _busy = True
    try:
        yield
    finally:
        _busy = False


def worker_signals() -> None:
    """In a pool worker: ignore Ctrl-C (the parent stops the run and the worker
    finishes the file in hand); on SIGTERM unwind a file in progress (its temp
    file is removed), or exit at once when idle, without a traceback."""
    import os

    def on_term(signum: int, frame: object) -> None:
        if _busy:
            raise Terminated()
        os._exit(EXIT_TERMINATED)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, on_term)
