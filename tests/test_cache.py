"""The result cache (rmsport/cli/cache.py): a file read again unchanged is not
parsed again, and a cached answer is always the answer a fresh run gives.

conftest.py points RMSPORT_CACHE_DIR at an empty folder for every test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import invoke
from rmsport.cli import cache as cache_module
from rmsport.cli.cache import ResultCache, _keepable, default_root
from rmsport.cli.runner import FileResult, Job
from rmsport.findings import Finding
from rmsport.options import Options

CALLS = """import torch

model = torch.nn.Linear(2, 2)
opt = torch.optim.RMSprop(model.parameters(), lr=0.01, alpha=0.9)
opt.step()
"""
OTHER = """import torch

model = torch.nn.Linear(2, 2)
opt = torch.optim.RMSprop(model.parameters(), eps=0)
"""
NOTHING = "x = 1  # RMSprop is only named in this comment\n"
BROKEN = "import torch\ntorch.optim.RMSprop(\n"


def _tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text(CALLS)
    (root / "pkg" / "b.py").write_text(OTHER)
    (root / "pkg" / "c.py").write_text(NOTHING)
    (root / "pkg" / "d.py").write_text(BROKEN)
    (root / "pkg" / "same_as_a.py").write_text(CALLS)
    return root / "pkg"


def _entries() -> list[Path]:
    return sorted(default_root().glob("*/*.entry"))


def _run(*args: str, cwd: Path) -> tuple[int, str, str]:
    result = invoke(*args, cwd=cwd, text=True)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("check", "--output-format", "json"),
        ("check",),
        ("check", "--diff"),
        ("check", "--output-format", "sarif", "--to", "mindspore", "--target", "experimental"),
        ("check", "--output-format", "json", "--verify", "--eps-mapping", "matched"),
    ],
    ids=["json", "text", "diff", "sarif-experimental", "verify"],
)
def test_a_cached_answer_is_the_fresh_answer(tmp_path: Path, args: tuple[str, ...]) -> None:
    pkg = _tree(tmp_path)
    fresh = _run(*args, "--no-cache", "pkg", cwd=tmp_path)
    assert not _entries()  # --no-cache writes nothing
    first = _run(*args, "pkg", cwd=tmp_path)
    assert _entries()
    second = _run(*args, "pkg", cwd=tmp_path)
    assert fresh == first == second
    assert fresh[0] == 123  # d.py does not parse, and that is cached too
    assert len(list(pkg.iterdir())) == 5


def test_a_hit_parses_nothing(tmp_path: Path, monkeypatch) -> None:
    _tree(tmp_path)
    first = _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    import rmsport.engine.convert as engine

    def refuse(*args, **kwargs):
        raise AssertionError("a cached file was parsed again")

    monkeypatch.setattr(engine, "convert_source", refuse)
    second = _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    assert second == first
    assert _findings(second[1])


def test_identical_bytes_share_one_entry_and_report_their_own_path(tmp_path: Path) -> None:
    _tree(tmp_path)
    code, out, _ = _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    paths = {f["path"] for f in _findings(out)}
    assert {"pkg/a.py", "pkg/same_as_a.py"} <= paths
    # a.py and same_as_a.py share an entry; c.py holds no call after all; d.py does not parse
    assert len(_entries()) == 4
    code2, out2, _ = _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    assert {f["path"] for f in _findings(out2)} == paths


def _findings(out: str) -> list[dict]:
    data = json.loads(out)
    return data["findings"] if isinstance(data, dict) else data


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(tmp_path: Path) -> None:
    pkg = _tree(tmp_path)
    target = pkg / "a.py"
    before = _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    stat = target.stat()
    edited = CALLS.replace("opt.step()", "opt.stop()")  # no training-step finding (RMS501) now
    assert len(edited) == len(CALLS)
    target.write_text(edited)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    fresh = _run("check", "--output-format", "json", "--no-cache", "pkg", cwd=tmp_path)
    assert after == fresh
    assert after != before


def test_diff_headers_name_each_file(tmp_path: Path) -> None:
    _tree(tmp_path)
    _run("check", "--diff", "pkg", cwd=tmp_path)
    _, out, _ = _run("check", "--diff", "pkg", cwd=tmp_path)
    assert "--- pkg/a.py" in out or "a/pkg/a.py" in out
    assert out.count("same_as_a.py") >= 2  # its own ---/+++ lines, not a.py's


def test_options_are_part_of_the_key(tmp_path: Path) -> None:
    _tree(tmp_path)
    for args in [(), ("--target", "experimental"), ("--eps-mapping", "matched"), ("--verify",)]:
        cached = _run("check", "--output-format", "json", *args, "pkg", cwd=tmp_path)
        fresh = _run("check", "--output-format", "json", "--no-cache", *args, "pkg", cwd=tmp_path)
        assert cached == fresh, args


def test_notebook_and_module_with_the_same_bytes_do_not_collide(tmp_path: Path) -> None:
    source = json.dumps(
        {
            "cells": [{"cell_type": "code", "metadata": {}, "source": CALLS.splitlines(True),
                       "outputs": [], "execution_count": None}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
        }
    )
    (tmp_path / "n.ipynb").write_text(source)
    (tmp_path / "n.py").write_text(source)  # as Python, a notebook's JSON is a dict of strings
    first = _run("check", "--output-format", "json", "n.py", "n.ipynb", cwd=tmp_path)
    second = _run("check", "--output-format", "json", "n.ipynb", "n.py", cwd=tmp_path)
    fresh = _run("check", "--output-format", "json", "--no-cache", "n.py", "n.ipynb", cwd=tmp_path)
    assert first == fresh
    assert sorted(_findings(second[1]), key=str) == sorted(_findings(first[1]), key=str)
    codes = {(f["path"], f["code"]) for f in _findings(first[1])}
    assert ("n.ipynb", "RMS101") in codes and not any(path == "n.py" for path, _ in codes)


def test_convert_keeps_only_files_it_left_alone(tmp_path: Path) -> None:
    pkg = _tree(tmp_path)
    (pkg / "d.py").unlink()
    code, _, _ = _run("convert", "pkg", cwd=tmp_path)
    assert code == 1  # b.py's eps=0 is left unchanged (RMS205)
    converted = (pkg / "a.py").read_text()
    assert "mindspore" in converted
    # b.py (left unchanged: RMS205) and c.py (no call) are kept; what it wrote is done again next time
    assert len(_entries()) == 2
    # Put the torch version back: a cache must not answer "nothing to do" for it.
    (pkg / "a.py").write_text(CALLS)
    _run("convert", "pkg", cwd=tmp_path)
    assert (pkg / "a.py").read_text() == converted
    # A second convert finds nothing to do: those answers are kept ...
    _run("convert", "pkg", cwd=tmp_path)
    kept = _entries()
    assert kept
    # ... and give the same (empty-handed) run again.
    before = {p.name: p.read_bytes() for p in pkg.iterdir()}
    again = _run("convert", "--output-format", "json", "pkg", cwd=tmp_path)
    fresh = _run("convert", "--output-format", "json", "--no-cache", "pkg", cwd=tmp_path)
    assert again == fresh
    assert {p.name: p.read_bytes() for p in pkg.iterdir()} == before


def test_corrupt_or_foreign_entries_are_misses(tmp_path: Path) -> None:
    _tree(tmp_path)
    first = _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    for number, entry in enumerate(_entries()):
        entry.write_text(["", "{", "[1, 2]", '{"findings": 3}', "null"][number % 5])
    second = _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    assert second == first


def test_an_unusable_cache_folder_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    _tree(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("RMSPORT_CACHE_DIR", str(blocker / "cache"))
    fresh = _run("check", "--output-format", "json", "--no-cache", "pkg", cwd=tmp_path)
    assert _run("check", "--output-format", "json", "pkg", cwd=tmp_path) == fresh


def test_rmsport_no_cache_turns_it_off(tmp_path: Path, monkeypatch) -> None:
    _tree(tmp_path)
    monkeypatch.setenv("RMSPORT_NO_CACHE", "1")
    _run("check", "pkg", cwd=tmp_path)
    assert not _entries()


def test_other_rmsport_code_does_not_see_the_entries(tmp_path: Path, monkeypatch) -> None:
    _tree(tmp_path)
    _run("check", "pkg", cwd=tmp_path)
    monkeypatch.setattr(cache_module, "_code_fingerprint", lambda: "edited-checkout")
    import rmsport.engine.convert as engine

    calls = []
    real = engine.convert_source
    monkeypatch.setattr(engine, "convert_source", lambda *a, **k: calls.append(1) or real(*a, **k))
    _run("check", "pkg", cwd=tmp_path)
    assert len(calls) == 5  # every file that names RMSprop, c.py's comment included


def test_stale_folders_of_other_versions_are_removed(tmp_path: Path) -> None:
    root = default_root()
    old = root / ("0" * 8)
    old.mkdir(parents=True)
    (old / "x.json").write_text("{}")
    os.utime(old, (0, 0))
    recent = root / ("1" * 8)
    recent.mkdir()
    _tree(tmp_path)
    _run("check", "pkg", cwd=tmp_path)
    assert not old.exists()
    assert recent.exists()


def test_default_root_follows_the_platform_conventions(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RMSPORT_CACHE_DIR")
    monkeypatch.setattr(cache_module.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg" / "rmsport"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert default_root() == Path.home() / ".cache" / "rmsport"
    monkeypatch.setenv("RMSPORT_CACHE_DIR", str(tmp_path / "mine"))
    assert default_root() == tmp_path / "mine"


@pytest.mark.parametrize(
    ("result", "write", "keep"),
    [
        (FileResult("f.py", []), False, True),
        (FileResult("f.py", [Finding("f.py", 1, 1, 1, 1, "RMS001", "cannot parse: x")], failed=True), False, True),
        (FileResult("f.py", [Finding("f.py", 1, 1, 1, 1, "RMS001", "cannot read: denied")], failed=True), False, False),
        (FileResult("f.py", [Finding("f.py", 1, 1, 1, 1, "RMS001", "internal error: boom")], failed=True), False, False),
        (FileResult("f.py", [Finding("f.py", 1, 1, 1, 1, "RMS002", "call left unchanged")]), False, False),
        (FileResult("f.py", [], changed=True), False, True),  # check: would change
        (FileResult("f.py", [], changed=True, written=True), True, False),  # convert wrote it
        (FileResult("f.py", [], changed=True), True, False),
        (FileResult("f.py", []), True, True),  # convert: nothing to do
        (FileResult("f.py", [Finding("other.py", 1, 1, 1, 1, "RMS101", "x")]), False, False),
    ],
)
def test_only_results_the_bytes_decide_are_kept(result: FileResult, write: bool, keep: bool) -> None:
    job = Job(write=write, want_diff=False, options=Options())
    assert _keepable(result, job) is keep


def test_entries_round_trip_every_finding_field(tmp_path: Path) -> None:
    job = Job(write=False, want_diff=False, options=Options())
    cache = ResultCache(tmp_path, job)
    finding = Finding("x.ipynb", 3, 4, 5, 6, "RMS401", "verdict", "warning", cell=2,
                      verification={"max_abs_diff": 1e-3, "steps": [1, 2]}, file_region=(10, 11, 12, 13))
    result = FileResult("x.ipynb", [finding], changed=True, diff="")
    key = cache.key(b"data", "x.ipynb")
    cache.put(key, result)
    back = cache.get(key, "x.ipynb")
    assert back == result
    assert back.findings[0].file_region == (10, 11, 12, 13)


def test_results_from_workers_are_kept_and_served(tmp_path: Path, monkeypatch) -> None:
    from rmsport.cli import runner

    monkeypatch.setattr(runner, "_POOL_PAYS_AFTER", -1.0)  # any measured work pays: workers start
    job = Job(write=False, want_diff=False, options=Options())
    paths = []
    for index in range(6):
        path = tmp_path / f"m{index}.py"
        path.write_text(CALLS.replace("lr=0.01", f"lr=0.0{index + 1}"))
        paths.append(path)
    cache = ResultCache(default_root(), job)

    def run() -> list[FileResult]:
        results: list[FileResult] = []
        runner.run_files([(p, p.name) for p in paths], job, jobs=2, on_result=results.append, cache=cache)
        return results

    first = run()
    assert len(_entries()) == 6
    import rmsport.engine.convert as engine

    monkeypatch.setattr(engine, "convert_source", lambda *a, **k: (_ for _ in ()).throw(AssertionError("parsed")))
    assert run() == first
    assert [r.path for r in first] == [p.name for p in paths]


# -- the stat index: unchanged files of a tree checked before are not read ----------


def _reads(monkeypatch) -> list[str]:
    from rmsport.files import sourcefile

    seen: list[str] = []
    real = sourcefile.read_bytes

    def counting(path):
        seen.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(sourcefile, "read_bytes", counting)
    return seen


def test_a_tree_checked_before_is_not_read_again(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cache_module, "_RACY_NS", 0)  # the test's files are seconds old
    pkg = _tree(tmp_path)
    (pkg / "plain.py").write_text("import os\n")
    fresh = _run("check", "--output-format", "json", "--no-cache", "pkg", cwd=tmp_path)
    _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    reads = _reads(monkeypatch)
    second = _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    assert second == fresh
    # d.py does not parse: an RMS001 the bytes decide, kept like any other result
    assert reads == []


def test_an_edit_that_keeps_size_and_mtime_changes_the_ctime(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cache_module, "_RACY_NS", 0)
    pkg = _tree(tmp_path)
    plain = pkg / "plain.py"
    padding = "# " + "x" * (len(CALLS) - 3) + "\n"
    assert len(padding) == len(CALLS)
    plain.write_text(padding)
    _run("check", "pkg", cwd=tmp_path)
    stat = plain.stat()
    plain.write_text(CALLS)  # now it has a call, same size ...
    os.utime(plain, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ... and the same mtime
    reads = _reads(monkeypatch)
    after = _run("check", "--output-format", "json", "pkg", cwd=tmp_path)
    assert "plain.py" in reads
    assert any(f["path"] == "pkg/plain.py" and f["code"] == "RMS101" for f in _findings(after[1]))
    assert after == _run("check", "--output-format", "json", "--no-cache", "pkg", cwd=tmp_path)


def test_files_changed_just_now_are_read_again(tmp_path: Path, monkeypatch) -> None:
    _tree(tmp_path)  # written a moment ago: within the racy window
    _run("check", "pkg", cwd=tmp_path)
    reads = _reads(monkeypatch)
    _run("check", "pkg", cwd=tmp_path)
    assert sorted(reads) == ["a.py", "b.py", "c.py", "d.py", "same_as_a.py"]


def test_a_lost_result_or_a_broken_index_means_reading_again(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cache_module, "_RACY_NS", 0)
    _tree(tmp_path)
    fresh = _run("check", "--output-format", "json", "--no-cache", "pkg", cwd=tmp_path)
    _run("check", "pkg", cwd=tmp_path)
    for entry in _entries():
        entry.unlink()
    assert _run("check", "--output-format", "json", "pkg", cwd=tmp_path) == fresh
    for index in default_root().glob("*/index-*.marshal"):
        index.write_bytes(b"\x00garbage")
    assert _run("check", "--output-format", "json", "pkg", cwd=tmp_path) == fresh


def test_files_given_one_by_one_are_always_read(tmp_path: Path, monkeypatch) -> None:
    # The pre-commit case: a different list of files every time, no index for it.
    monkeypatch.setattr(cache_module, "_RACY_NS", 0)
    _tree(tmp_path)
    _run("check", "pkg/a.py", "pkg/c.py", cwd=tmp_path)
    reads = _reads(monkeypatch)
    _run("check", "pkg/a.py", "pkg/c.py", cwd=tmp_path)
    assert sorted(reads) == ["a.py", "c.py"]
    assert not list(default_root().glob("*/index-*.marshal"))


def test_a_diff_follows_the_projects_line_length(tmp_path: Path) -> None:
    # How a long rewritten call is broken depends on pyproject.toml, not on the file's bytes.
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 200\n")
    long_call = (
        "import torch\n\noptimizer = torch.optim.RMSprop(model.parameters(), lr=cfg.learning_rate_value, "
        "momentum=cfg.mom)\n"
    )
    (tmp_path / "m.py").write_text(long_call)
    wide = _run("check", "--diff", "m.py", cwd=tmp_path)
    assert wide == _run("check", "--diff", "m.py", cwd=tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 88\n")
    from rmsport.files import line_length

    line_length._for_folder.cache_clear()  # one process per run in real use; here they share one
    narrow = _run("check", "--diff", "m.py", cwd=tmp_path)
    assert narrow == _run("check", "--diff", "--no-cache", "m.py", cwd=tmp_path)
    assert narrow != wide


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "convert"


@pytest.mark.parametrize(
    "options",
    [
        ("--to", "mindspore"),
        ("--to", "mindspore", "--target", "experimental", "--eps-mapping", "matched"),
        ("--to", "torch"),
    ],
    ids=["nn", "experimental-matched", "torch"],
)
@pytest.mark.parametrize("mode", [("--output-format", "json"), ("--diff",)], ids=["json", "diff"])
def test_every_fixture_answers_the_same_from_the_cache(tmp_path: Path, monkeypatch, options, mode) -> None:
    # The property over the whole fixture corpus (every import shape, notebook-free): a run
    # answered from the cache and the stat index prints exactly what a fresh run prints.
    monkeypatch.setattr(cache_module, "_RACY_NS", 0)
    tree = tmp_path / "tree"
    tree.mkdir()
    for case in sorted(FIXTURES.iterdir()):
        for name in ("input.py", "expected.py"):
            if (case / name).is_file():
                (tree / f"{case.name}_{name}").write_bytes((case / name).read_bytes())
    fresh = _run("check", *mode, *options, "--no-cache", "tree", cwd=tmp_path)
    filling = _run("check", *mode, *options, "tree", cwd=tmp_path)
    reads = _reads(monkeypatch)
    warm = _run("check", *mode, *options, "tree", cwd=tmp_path)
    assert fresh == filling == warm
    assert reads == []  # every file answered without being read
    assert fresh[1]


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    job = Job(write=False, want_diff=False, options=Options())
    cache = ResultCache(tmp_path / "cache", job)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.put(cache.key(b"x", "f.py"), FileResult("f.py", []))
    assert [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_a_cache_file_is_checked_before_marshal_reads_it(tmp_path: Path) -> None:
    # marshal trusts its input: a list header claiming 2**31 items made it allocate for seconds.
    hostile = b"[\xff\xff\xff\x7f"
    for data in (hostile, cache_module._MAGIC + b"\0" * 20 + hostile, cache_module._seal({"a": 1})[:-1]):
        with pytest.raises(ValueError):
            cache_module._unseal(data)
    assert cache_module._unseal(cache_module._seal({"a": (1, "b")})) == {"a": (1, "b")}


def test_a_result_is_kept_under_the_key_of_the_bytes_it_came_from(tmp_path: Path, monkeypatch) -> None:
    # A worker that read the file again could see other bytes than the ones the key
    # was made of (the file edited in between); the bytes now travel with the file.
    from rmsport.cli import runner
    from rmsport.files import sourcefile

    monkeypatch.setattr(runner, "_POOL_PAYS_AFTER", -1.0)  # workers take every file after the first
    paths = []
    for index in range(4):
        path = tmp_path / f"m{index}.py"
        path.write_text(CALLS.replace("lr=0.01", f"lr=0.0{index + 1}"))
        paths.append(path)
    real = sourcefile.read_bytes
    seen: set[str] = set()

    def edited_after_the_first_read(path):
        data = real(path)
        if str(path) in seen:  # a second read of the same file: someone edited it meanwhile
            return data.replace(b"opt.step()", b"opt.stop()")
        seen.add(str(path))
        return data

    monkeypatch.setattr(sourcefile, "read_bytes", edited_after_the_first_read)
    job = Job(write=False, want_diff=False, options=Options())
    cache = ResultCache(default_root(), job)
    results: list[FileResult] = []
    runner.run_files([(p, p.name) for p in paths], job, jobs=2, on_result=results.append, cache=cache)
    # Every result is the one of the bytes the parent read (and keyed): a training-step finding each.
    assert all(any(f.code == "RMS501" for f in r.findings) for r in results)
