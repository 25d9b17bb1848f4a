"""Process files: read, convert, write or diff, and collect what to report.

Everything here works on one file at a time and returns a small ``FileResult``
(findings and, when asked for, a diff), so results can come back from worker
processes and memory stays flat however large the tree is.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..findings import Finding
from ..options import Options

if TYPE_CHECKING:
    from ..engine.convert import Conversion
    from .cache import ResultCache, StatIndex

# Workers start only when the work left is measured to pay for them.  Starting a
# pool (importing multiprocessing, forking, shipping each result back) costs
# about 0.1-0.2 s of CPU on 2 cores, and two workers save at most half of what
# is left, so the pool waits until the files still to parse are estimated, at
# the CPU time per byte measured on the files already done here, to take longer
# than this.  CPU time, not wall time: on a loaded machine wall time swells and
# would start workers just when no core is free to run them.  Real trees of
# 40k-160k lines with a few % of files naming RMSprop stay in one process;
# converting dozens of call-dense files does not (benchmarks/bench_jobs.py).
_POOL_PAYS_AFTER = 0.5  # seconds of estimated in-process CPU time left


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
    import difflib  # only diffs need it: not a plain check's start-up

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
    if job.write or job.want_diff:  # only a rewrite is laid out; check's verdict needs no line-length
        job = replace(job, options=with_line_length(job.options, path))
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

    # the project's line-length (the named file's, else the current folder's), when something is laid out
    if job.write or job.want_diff:
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
    cache: ResultCache | None = None,
    index: StatIndex | None = None,
) -> None:
    """Process ``(path, display name)`` pairs; ``on_result`` sees each result in order.

    The walk and the cheap byte test run first, here in the parent, so only
    files that can hold a call are parsed at all.  They are then parsed in this
    process, timing each one; once the estimated work left exceeds
    ``_POOL_PAYS_AFTER``, worker processes take the rest.  With a ``cache``,
    files whose bytes were seen before (same options, same rmsport) are not
    parsed at all (``cache.py``).
    """
    from ..engine.prefilter import might_contain_calls
    from ..files.sourcefile import SourceError, read_bytes

    # The idle cores are counted when a pool would start, not here: most runs never get that far.
    workers = worker_count(jobs)
    pool = None  # None: not started yet; _NO_POOL: could not start (fd or process limit)
    queue: list[object] = []  # a FileResult, or (Future, item) for one
    candidates: list[tuple[int, str, str, bytes]] = []  # queue slot, path, display, bytes
    signatures: dict[int, object] = {}  # queue slot -> the file's stat signature (StatIndex)
    restore_gc = _relax_gc()
    try:
        for path, display in files:
            signature = None
            if index is not None:
                signature, held = index.recall(str(path), display)
                if held == "":  # unchanged, and it named no RMSProp class when it was read
                    continue
                if held is not None:
                    known = cache.get(held, display) if cache is not None else None
                    if known is not None:  # unchanged, and its result is kept
                        queue.append(known)
                        continue
                    index.forget(str(path))  # its result is gone: read and parse it again
            try:
                data = read_bytes(path)  # non-blocking: a FIFO cannot hang the run
            except SourceError as exc:
                queue.append(_error(display, f"cannot read: {exc}"))
                continue
            if might_contain_calls(data):
                candidates.append((len(queue), str(path), display, data))
                queue.append(None)
                if index is not None:
                    signatures[len(queue) - 1] = signature
            elif index is not None:
                index.remember(str(path), signature, "", display)
        if on_total is not None:
            on_total(len(candidates))
        keys: dict[int, tuple[str, str]] = {}  # queue slot -> (cache key, path), for the files parsed now
        if cache is not None:
            misses = []
            for candidate in candidates:
                slot, path, display, data = candidate
                key = cache.key(data, display, path)
                queue[slot] = cache.get(key, display)
                if queue[slot] is None:
                    keys[slot] = (key, path)
                    misses.append(candidate)
                elif index is not None:
                    index.remember(path, signatures.get(slot), key, display)
            candidates = misses

        left = sum(len(data) for _, _, _, data in candidates)
        measured_bytes = 0
        measured_time = 0.0
        for number, (slot, path, display, data) in enumerate(candidates):
            item = (path, job, display)
            if (
                pool is None
                and workers > 1
                and measured_bytes
                and left * measured_time / measured_bytes > _POOL_PAYS_AFTER
            ):
                if not jobs:
                    workers = min(workers, _idle_cores())
                pool = _start_pool(min(workers, len(candidates) - number)) if workers > 1 else _NO_POOL
            # The bytes go with the file: a worker that read the file again could
            # see it changed since, and its result would be kept under the key of
            # the bytes read here (a few KB each: nothing next to parsing them).
            future = _submit(pool, item, data)
            if future is None and pool not in (None, _NO_POOL):
                _stop_pool(pool)
                pool = _NO_POOL  # the rest in this process: slower, but every file is done
            if future is not None:
                queue[slot] = (future, item, data)
                continue
            start = time.process_time()
            queue[slot] = _work(item, data)
            if slot in keys:
                _keep(cache, index, *keys.pop(slot), queue[slot], signatures.get(slot))  # type: ignore[arg-type]
            left -= len(data)
            if number:  # the first file pays the one-time imports: not a measure of the rest
                measured_time += time.process_time() - start
                measured_bytes += len(data)
        for slot, entry in enumerate(queue):
            result = entry if isinstance(entry, FileResult) else _result(*entry)  # type: ignore[misc]
            if slot in keys:
                _keep(cache, index, *keys[slot], result, signatures.get(slot))
            on_result(result)
        if index is not None:
            index.save()
    except BaseException:
        if pool not in (None, _NO_POOL):
            _abort_pool(pool)
            pool = None
        raise
    finally:
        if pool not in (None, _NO_POOL):
            _stop_pool(pool)
        restore_gc()


_NO_POOL = object()


def _keep(cache, index, key: str, path: str, result: FileResult, signature) -> None:
    """Store a fresh result, and tell the index where to find it next time."""
    if cache.put(key, result) and index is not None:
        index.remember(path, signature, key, result.path)


def worker_count(jobs: int | None) -> int:
    """``-j``, capped by the cores this process may use: every worker is forked
    up front, so ``-j 100000`` would otherwise hit the process limit."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(jobs or cores, cores))


def _submit(pool: object, item: tuple[str, Job, str], data: bytes | None = None):
    """The Future of *item* in *pool*, or None to do it in this process (no pool,
    or the pool cannot start or has broken: out of file descriptors or processes)."""
    if pool is None or pool is _NO_POOL:
        return None
    from concurrent.futures import BrokenExecutor

    try:
        return pool.submit(_work, item, data)  # type: ignore[attr-defined]
    except (OSError, BrokenExecutor, RuntimeError):
        return None


def _result(future, item: tuple[str, Job, str], data: bytes | None = None) -> FileResult:
    """A worker's result; a worker that died or could not start is replaced by this process."""
    from concurrent.futures import BrokenExecutor

    try:
        return future.result()
    except (OSError, BrokenExecutor):
        return _work(item, data)


def _stop_pool(pool) -> None:
    try:
        pool.shutdown(cancel_futures=True)
    except (OSError, RuntimeError):  # a pool that never fully started
        pass


def _abort_pool(pool) -> None:
    """Stop a pool without waiting on it (Ctrl-C, SIGTERM, an error in the parent).

    ``shutdown(wait=True)`` can hang here: a worker that exited on SIGTERM while
    it held the call queue's lock leaves its siblings blocked on that lock, and
    the shutdown waits for them forever.  So: cancel what has not started, send
    SIGTERM (a busy worker unwinds and removes its temp file, an idle one
    exits), give them a moment, then SIGKILL what is left.
    """
    processes = list(getattr(pool, "_processes", {}).values())
    try:
        pool.shutdown(wait=False, cancel_futures=True)
    except (OSError, RuntimeError):
        pass
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


def _idle_cores() -> int:
    """Workers for the default ``--jobs``: the cores, less the ones other
    processes keep busy now (a worker without a free core only adds forking and
    pickling to the run).  An explicit ``--jobs N`` is taken as asked.

    "Now": the runnable count of ``/proc/loadavg``, sampled a few times over
    ~10 ms, less this process.  The one-minute load average that served before
    counts the runs that just ended: in back-to-back runs (a script, CI steps,
    the benchmarks) it stayed near 1 on an idle 2-core machine and kept the
    second core unused.  Elsewhere the load average is all there is.
    """
    cores = os.cpu_count() or 1
    busy = _busy_now()
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):  # not on every platform
            return cores
        return max(1, min(cores, int(cores - busy + 1)))
    return max(1, min(cores, cores - busy))


def _busy_now(samples: int = 5, pause: float = 0.002) -> int | None:
    """Processes other than this one running or ready to run (median of a few samples), or None."""
    counts = []
    try:
        for sample in range(samples):
            if sample:
                time.sleep(pause)
            with open("/proc/loadavg", encoding="ascii") as handle:
                counts.append(int(handle.read().split()[3].split("/")[0]))
    except (OSError, ValueError, IndexError):
        return None
    counts.sort()
    return max(0, counts[len(counts) // 2] - 1)  # this process is running while it reads


def _relax_gc() -> Callable[[], None]:
    """Parsing builds many short-lived objects that reference counting frees;
    the cyclic collector scanning them (and every module object loaded so far)
    cost 10-15% of a whole-tree check.  Loaded objects are frozen out of its
    view and it runs less often; cycles are still collected."""
    import gc

    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 50_000), *threshold[1:])

    def restore() -> None:  # for callers that live on (tests, library use)
        # The frozen objects stay frozen: they were alive before the run (modules,
        # classes), and scanning them again at exit only makes exit slower.
        gc.set_threshold(*threshold)

    return restore


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
