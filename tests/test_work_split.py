"""When work leaves the process, and which walks a call skips: decisions made for speed, checked for behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from rmsport.cli import runner
from rmsport.engine import rewrite
from rmsport.engine.convert import convert_source
from rmsport.options import Options

CALL = "import torch\n\nopt = torch.optim.RMSprop(model.parameters(), lr=0.01, alpha=0.9)\n"


def run(paths: list[Path], jobs: int) -> list[runner.FileResult]:
    results: list[runner.FileResult] = []
    job = runner.Job(write=False, want_diff=False, options=Options())
    runner.run_files([(p, p.name) for p in paths], job, jobs=jobs, on_result=results.append)
    return results


def test_a_few_files_never_start_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The pool used to start at the second file to parse: +42% wall time on real trees.
    def no_pool(workers: int):
        raise AssertionError("a pool was started for a handful of small files")

    monkeypatch.setattr(runner, "_start_pool", no_pool)
    paths = []
    for index in range(12):
        path = tmp_path / f"m{index}.py"
        path.write_text(CALL)
        paths.append(path)
    results = run(paths, jobs=4)
    assert [r.path for r in results] == [p.name for p in paths]
    assert all(r.changed and not r.failed for r in results)


def test_workers_take_over_when_the_work_left_pays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    real_start = runner._start_pool

    def counting(workers: int):
        started.append(workers)
        return real_start(workers)

    monkeypatch.setattr(runner, "_start_pool", counting)
    monkeypatch.setattr(runner, "_POOL_PAYS_AFTER", -1.0)  # any measured work pays
    paths = []
    for index in range(6):
        path = tmp_path / f"m{index}.py"
        path.write_text(CALL if index % 2 else CALL.replace("lr=0.01", "lr=0.1"))
        paths.append(path)
    results = run(paths, jobs=2)
    assert started == [2]
    # Results keep the order of the files, whichever process made them.
    assert [r.path for r in results] == [p.name for p in paths]
    assert all(r.changed and not r.failed for r in results)


def test_calls_without_hash_skip_the_comment_walks(monkeypatch: pytest.MonkeyPatch) -> None:
    source = (
        "import torch\n\nopt = torch.optim.RMSprop(\n    model.parameters(),\n    0.01,\n    foreach=None,\n)\n"
    )
    expected = convert_source(source, Options()).source

    def refuse(node):
        raise AssertionError("comments_in ran on a call whose text holds no '#'")

    monkeypatch.setattr(rewrite, "comments_in", refuse)
    assert convert_source(source, Options()).source == expected


def test_calls_with_comments_still_keep_them() -> None:
    source = (
        "import torch\n\nopt = torch.optim.RMSprop(\n    model.parameters(),  # the weights\n"
        "    lr=0.01,  # tuned\n    foreach=None,  # dropped\n)\n"
    )
    result = convert_source(source, Options())
    for comment in ("# the weights", "# tuned", "# dropped"):
        assert comment in result.source


def test_idle_cores_are_counted_now_not_over_the_last_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    # Back-to-back runs kept the one-minute load average near 1 on an idle 2-core
    # machine, and the default --jobs never used the second core.
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(runner.os, "getloadavg", lambda: (1.2, 1.0, 0.9))
    monkeypatch.setattr(runner, "_busy_now", lambda: 0)
    assert runner._idle_cores() == 2
    monkeypatch.setattr(runner, "_busy_now", lambda: 1)
    assert runner._idle_cores() == 1
    monkeypatch.setattr(runner, "_busy_now", lambda: 7)
    assert runner._idle_cores() == 1
    monkeypatch.setattr(runner, "_busy_now", lambda: None)  # no /proc: the load average decides
    assert runner._idle_cores() == 1


def test_busy_now_reads_the_runnable_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_open = builtins.open
    answers = iter(["0.50 0.40 0.30 3/120 999\n", "0.50 0.40 0.30 1/120 999\n", "0.50 0.40 0.30 3/120 999\n"])

    def fake_open(path, *args, **kwargs):
        if path == "/proc/loadavg":
            target = tmp_path / "loadavg"
            target.write_text(next(answers))
            return real_open(target, *args, **kwargs)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    assert runner._busy_now(samples=3, pause=0) == 2  # median 3 running, less this process

    def no_proc(path, *args, **kwargs):
        raise FileNotFoundError(path)

    monkeypatch.setattr(builtins, "open", no_proc)
    assert runner._busy_now() is None


def test_default_jobs_start_no_pool_without_an_idle_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(workers: int):
        raise AssertionError("a pool was started with no idle core")

    monkeypatch.setattr(runner, "_start_pool", no_pool)
    monkeypatch.setattr(runner, "_POOL_PAYS_AFTER", -1.0)  # the work pays ...
    monkeypatch.setattr(runner, "_idle_cores", lambda: 1)  # ... but every other core is busy
    paths = []
    for index in range(4):
        path = tmp_path / f"m{index}.py"
        path.write_text(CALL)
        paths.append(path)
    results = run(paths, jobs=None)  # type: ignore[arg-type]
    assert all(r.changed for r in results)
