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
