"""Process files: read, convert, write or diff, and collect what to report.

Everything here works on one file at a time and returns a small ``FileResult``
(findings and, when asked for, a diff), so results can come back from worker
processes and memory stays flat however large the tree is.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..findings import Finding
from ..options import Options

if TYPE_CHECKING:
    from ..engine.convert import Conversion

# Measured on 2 cores: forking a pool and shipping results costs more than it
# saves until a run has a few dozen files to parse (a 1%-calls tree of 450k lines
# has ~20), so the first files are done in this process and a pool takes the rest.
_POOL_THRESHOLD = 2


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    changed: bool = False  # convert would change (or changed) the file
    written: bool = False
    diff: str = ""
    failed: bool = False  # could not be read, decoded, parsed or written; or a notebook cell does not parse (exit 123)
    output: bytes | None = None  # stdin mode: the bytes to print (input's encoding and BOM)


@dataclass
class Job:
    write: bool  # convert in place
    want_diff: bool
    options: Options
    write_read_only: bool = False  # --write-read-only: rewrite files without write permission too


def _error(path: str, message: str, line: int = 1, column: int = 1) -> FileResult:
    finding = Finding(path, line, column, line, column, "RMS001", message)
    return FileResult(path, [finding], failed=True)


def convert_text(text: str, path: str, options: Options, *, predict: bool = False) -> Conversion:
    """Dispatch on file type: notebooks go cell by cell."""
    from ..engine.convert import convert_source

    if path.endswith(".ipynb"):
        from ..files.notebook import convert_notebook

        return convert_notebook(text, options, path=path)
    return convert_source(text, options, path=path, predict=predict)


def make_diff(old: str, new: str, path: str) -> str:
    if path.endswith(".ipynb"):
        from ..files.notebook import diff_notebook

        return diff_notebook(old, new, path)
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{path.lstrip('/')}",
            tofile=f"b/{path.lstrip('/')}",
        )
    )


def _convert_data(data: bytes, name: str, job: Job) -> tuple[FileResult, object, str | None]:
    """What files and stdin share: prefilter, decode, convert, diff.

    Returns the result, the decoded source (for re-encoding) and the new text,
    which is None when there is nothing to write.
    """
    from ..engine.convert import ParseError
    from ..engine.prefilter import might_contain_calls
    from ..files.sourcefile import SourceError, decode, encode

    if not might_contain_calls(data):
        return FileResult(name), None, None
    try:
        source = decode(data)
    except SourceError as exc:
        return _error(name, f"cannot decode: {exc}"), None, None
    try:
        # check without --diff needs the verdict, not the text: skip libcst.
        conv = convert_text(source.text, name, job.options, predict=not (job.write or job.want_diff))
    except ParseError as exc:
        return _error(name, exc.message, exc.line, exc.column), None, None
    except RecursionError:
        return _error(name, "cannot parse: nested too deeply"), None, None
    # A notebook cell that does not parse is an RMS001 like a file that does not
    # parse: exit 123 (the cells that parse are still converted).
    failed = any(f.code == "RMS001" for f in conv.findings)
    out = FileResult(name, list(conv.findings), changed=conv.changed, failed=failed)
    if not conv.changed:
        return out, source, None
    try:
        # --diff must fail where convert would: text the file's encoding cannot hold.
        encode(source, conv.source)
    except SourceError as exc:
        out.findings.append(Finding(name, 1, 1, 1, 1, "RMS001", f"cannot encode: {exc}"))
        out.failed = True
        return out, source, None
    if job.want_diff:
        out.diff = make_diff(source.text, conv.source, name)
    return out, source, conv.source


def process_file(path: Path, job: Job, display: str | None = None, data: bytes | None = None) -> FileResult:
    """Convert or check one file on disk.  Never raises for a user error.

    ``data`` is the file's content when the caller has already read it.
    """
    from ..files.line_length import with_line_length
    from ..files.sourcefile import SourceError, encode, read_bytes, write_atomic

    name = display or str(path)
    job = replace(job, options=with_line_length(job.options, path))  # the project's line-length
    if data is None:
        try:
            data = read_bytes(path)
        except SourceError as exc:
            return _error(name, f"cannot read: {exc}")
    out, source, new_text = _convert_data(data, name, job)
    if new_text is None or not job.write:
        return out
    notes: list[str] = []
    try:
        write_atomic(
            path, encode(source, new_text), expected=data,  # type: ignore[arg-type]
            allow_read_only=job.write_read_only, notes=notes,
        )
    except SourceError as exc:
        out.findings.append(Finding(name, 1, 1, 1, 1, "RMS001", f"cannot write: {exc}"))
        out.failed = True
        return out
    out.findings.extend(Finding(name, 1, 1, 1, 1, "RMS003", note) for note in notes)
    out.written = True
    return out


def process_stdin(data: bytes, job: Job, name: str) -> FileResult:
    """``-``: convert prints the result (or the input unchanged) on stdout."""
    from ..files.line_length import with_line_length
    from ..files.sourcefile import SourceError, encode

    # the project's line-length: the named file's, else the current folder's
    job = replace(job, options=with_line_length(job.options, name if name != "-" else "stdin"))

    try:
        out, source, new_text = _convert_data(data, name, job)
    except Exception as exc:  # noqa: BLE001 - as _work does for files: a finding, the input echoed
        out, source, new_text = _error(name, f"internal error: {type(exc).__name__}: {exc}"), None, None
    out.output = data
    if new_text is not None and job.write:
        try:
            out.output = encode(source, new_text)  # type: ignore[arg-type]
        except SourceError as exc:
            out.findings.append(Finding(name, 1, 1, 1, 1, "RMS001", f"cannot encode: {exc}"))
            out.failed = True
    return out


def _work(args: tuple[str, Job, str], data: bytes | None = None) -> FileResult:
    from .interrupts import busy

    path, job, display = args
    try:
        with busy():
            return process_file(Path(path), job, display, data)
    except Exception as exc:  # noqa: BLE001 - a bug in one file must not take the others down
        return _error(display, f"internal error: {type(exc).__name__}: {exc}")


def _worker_init(parent: int) -> None:
    """Workers die with the parent: a SIGKILLed run must not leave orphans
    holding the terminal's (or pre-commit's) pipes open.  A daemon thread
    watches for re-parenting; cheaper to start than loading ctypes for prctl.

    Ctrl-C reaches the whole process group: workers ignore it and finish the
    file in hand, while the parent stops handing out new ones.  SIGTERM unwinds
    a worker like the parent, so a write in progress removes its temp file."""
    import threading
    import time

    from .interrupts import worker_signals

    worker_signals()

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()


def run_files(
    files: Iterable[tuple[Path, str]],
    job: Job,
    *,
    jobs: int | None,
    on_result: Callable[[FileResult], None],
    on_total: Callable[[int], None] | None = None,
) -> None:
    """Process ``(path, display name)`` pairs; ``on_result`` sees each result in order.

    The cheap byte test runs here in the parent, so only files that can hold a
    call are parsed at all; past ``_POOL_THRESHOLD`` of them, worker processes
    take the rest while this process goes on walking the tree.
    """
    from ..engine.prefilter import might_contain_calls
    from ..files.sourcefile import SourceError, read_bytes

    workers = worker_count(jobs)
    pool = None  # None: not started yet; _NO_POOL: could not start (fd or process limit)
    queue: list[object] = []  # a FileResult, or (Future, item) for one
    candidates = 0
    try:
        for path, display in files:
            try:
                data = read_bytes(path)  # non-blocking: a FIFO cannot hang the run
            except SourceError as exc:
                queue.append(_error(display, f"cannot read: {exc}"))
                continue
            if not might_contain_calls(data):
                continue
            candidates += 1
            item = (str(path), job, display)
            if pool is None and workers > 1 and candidates >= _POOL_THRESHOLD:
                pool = _start_pool(workers)
            # Before the pool pays off, files are done right here, during the walk,
            # from the bytes already read.  Workers read their own: shipping the
            # bytes through a pipe costs more than reading them again.
            future = _submit(pool, item)
            if future is None and pool not in (None, _NO_POOL):
                _stop_pool(pool)
                pool = _NO_POOL  # the rest in this process: slower, but every file is done
            queue.append((future, item) if future is not None else _work(item, data))
        if on_total is not None:
            on_total(candidates)
        for entry in queue:
            on_result(entry if isinstance(entry, FileResult) else _result(*entry))  # type: ignore[misc]
    finally:
        if pool not in (None, _NO_POOL):
            _stop_pool(pool)


_NO_POOL = object()


def worker_count(jobs: int | None) -> int:
    """``-j``, capped by the cores this process may use: every worker is forked
    up front, so ``-j 100000`` would otherwise hit the process limit."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(jobs or cores, cores))


def _submit(pool: object, item: tuple[str, Job, str]):
    """The Future of *item* in *pool*, or None to do it in this process (no pool,
    or the pool cannot start or has broken: out of file descriptors or processes)."""
    if pool is None or pool is _NO_POOL:
        return None
    from concurrent.futures import BrokenExecutor

    try:
        return pool.submit(_work, item)  # type: ignore[attr-defined]
    except (OSError, BrokenExecutor, RuntimeError):
        return None


def _result(future, item: tuple[str, Job, str]) -> FileResult:
    """A worker's result; a worker that died or could not start is replaced by this process."""
    from concurrent.futures import BrokenExecutor

    try:
        return future.result()
    except (OSError, BrokenExecutor):
        return _work(item)


def _stop_pool(pool) -> None:
    try:
        pool.shutdown(cancel_futures=True)
    except (OSError, RuntimeError):  # a pool that never fully started
        pass


def _start_pool(workers: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Loaded once here, so forked workers inherit them instead of each importing.
    from ..engine import convert  # noqa: F401
    from ..files import sourcefile  # noqa: F401

    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    try:
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),)
        )
    except OSError:  # no file descriptors left for its pipes
        return _NO_POOL
