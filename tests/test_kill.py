"""SIGKILL at random moments never leaves a half-written source file.

A worker process rewrites a set of files over and over with
``rmsport.files.sourcefile.write_atomic``, alternating each file between two full
contents A and B; we SIGKILL it at random (seeded) moments and check that every
file is exactly A or exactly B.  A SIGKILL between creating the temp file and
renaming it can leave a ``.<name>.<random>.rmsport-tmp`` file behind (nothing
can clean up after SIGKILL); that is allowed, but such a leftover must never
look like a source file (never ``*.py``/``*.pyi``/``*.ipynb``).

The same is then done to the real CLI: ``rmsport convert DIR`` is killed while
it converts a tree, and every file must be the original or the fully
converted version (the one a clean run produces).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import cli as cli_command

FILES = 200
SEED = 20240517
KILLS = 8

A = b"".join(b"a_%05d = torch.optim.RMSprop(params, lr=0.01)  # A\r\n" % i for i in range(1500))
B = b"".join(b"b_%05d = 'B'  # caf\xc3\xa9\n" % i for i in range(2000))

WORKER = r"""
import sys
from pathlib import Path
from rmsport.files.sourcefile import SourceError, write_atomic

folder = Path(sys.argv[1])
A = Path(sys.argv[2]).read_bytes()
B = Path(sys.argv[3]).read_bytes()
paths = sorted(folder.glob("f*.py"))
sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    for path in paths:
        current = path.read_bytes()
        new = B if current == A else A
        write_atomic(path, new, expected=current)
"""


def leftovers(folder: Path, source_names: set[str]) -> list[str]:
    """Names in *folder* that are not the source files; assert they are temp files."""
    extra = sorted(p.name for p in folder.iterdir() if p.name not in source_names)
    for name in extra:
        assert name.startswith("."), name
        assert name.endswith(".rmsport-tmp"), name
        assert not name.endswith((".py", ".pyi", ".ipynb")), name
    return extra


def test_sigkill_during_write_atomic_never_corrupts(tmp_path):
    rng = random.Random(SEED)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tmp_path / "A").write_bytes(A)
    (tmp_path / "B").write_bytes(B)
    names = {f"f{i:03d}.py" for i in range(FILES)}
    for name in names:
        (tree / name).write_bytes(A)
    (tree / "f007.py").chmod(0o755)

    seen_b = 0
    for _ in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tree), str(tmp_path / "A"), str(tmp_path / "B")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            assert proc.stdout.readline() == b"ready\n", proc.stderr.read()
            time.sleep(rng.uniform(0.005, 0.4))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        for name in names:
            data = (tree / name).read_bytes()
            assert data in (A, B), f"{name} is corrupted ({len(data)} bytes)"
            seen_b += data == B
        assert (tree / "f007.py").stat().st_mode & 0o777 == 0o755
        leftovers(tree, names)
    assert seen_b, "the worker never got to write anything; the test proved nothing"


# --- the real CLI -----------------------------------------------------------------

CLI_FILES = 300


def make_tree(folder: Path) -> None:
    folder.mkdir()
    for i in range(CLI_FILES):
        sub = folder / f"pkg{i % 7}"
        sub.mkdir(exist_ok=True)
        body = [
            "import torch\n",
            "from torch import nn\n",
            "\n",
            f"model_{i} = nn.Linear({i + 1}, 2)\n",
        ]
        if i % 3:
            body.append(f"opt = torch.optim.RMSprop(model_{i}.parameters(), lr=0.0{i % 9 + 1}, alpha=0.9)\r\n")
        else:
            body.append("opt = torch.optim.Adam(model.parameters())  # RMSprop not here\n")
        body.extend(f"value_{j} = {j} * 2  # filler\n" for j in range(200))
        (sub / f"mod{i:03d}.py").write_text("".join(body), encoding="utf-8", newline="")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def group_alive(pgid: int) -> bool:
    """Whether a process of group *pgid* still runs (zombies do not count)."""
    return group_size(pgid) > 0


def group_size(pgid: int) -> int:
    """How many processes of group *pgid* are running (zombies do not count)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces and parens
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            count += 1
    return count


@pytest.mark.slow
def test_sigkill_during_cli_convert_never_corrupts(tmp_path):
    """SIGKILL the CLI and its worker processes (they do the writing) at random moments."""
    rng = random.Random(SEED + 1)
    original = tmp_path / "original"
    make_tree(original)
    before = snapshot(original)

    reference = tmp_path / "reference"
    shutil.copytree(original, reference, symlinks=True)
    start = time.monotonic()
    done = subprocess.run([*cli_command(), "convert", "-q", str(reference)], capture_output=True, timeout=300)
    full_run = time.monotonic() - start
    assert done.returncode in (0, 1), done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    after = snapshot(reference)
    assert after.keys() == before.keys()
    changed = [name for name in before if before[name] != after[name]]
    assert len(changed) == sum(1 for i in range(CLI_FILES) if i % 3), "reference run converted an unexpected set"

    partial = 0
    for kill in range(KILLS):
        work = tmp_path / f"run{kill}"
        shutil.copytree(original, work, symlinks=True)
        with open(tmp_path / f"stderr{kill}", "wb") as err:
            proc = subprocess.Popen(
                [*cli_command(), "convert", "-q", str(work)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
            try:
                # kill moments spread over the time a whole run takes
                time.sleep(rng.uniform(0.2, 0.95) * full_run)
            finally:
                kill_group(proc)
        assert b"Traceback" not in (tmp_path / f"stderr{kill}").read_bytes()
        files = {p for p in work.rglob("*") if p.is_file()}
        n_converted = 0
        for path in files:
            name = str(path.relative_to(work))
            if name in before:
                data = path.read_bytes()
                assert data in (before[name], after[name]), f"{name} corrupted after SIGKILL"
                n_converted += data != before[name]
            else:
                assert path.name.startswith("."), name
                assert path.name.endswith(".rmsport-tmp"), name
        assert {str(p.relative_to(work)) for p in files} >= before.keys()
        partial += 0 < n_converted < len(changed)
        shutil.rmtree(work)
    assert partial, "no kill landed in the middle of a run; the test proved nothing"


def test_workers_exit_when_the_cli_is_killed(tmp_path):
    """Orphaned pool workers must not outlive a killed CLI: they would hold the
    output pipes open, and whoever waits for EOF (pre-commit, CI) would hang."""
    work = tmp_path / "tree"
    make_tree(work)
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.Popen(
            [*cli_command(), "convert", "-q", "-j", "2", str(work)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 20
            while group_size(proc.pid) < 3 and time.monotonic() < deadline:  # the CLI and its 2 workers
                time.sleep(0.005)
            assert group_size(proc.pid) >= 3, "the worker pool never started"
            proc.send_signal(signal.SIGKILL)  # only the main process, as the OOM killer would
            proc.wait()
            deadline = time.monotonic() + 10
            while group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not group_alive(proc.pid), "worker processes outlived the killed CLI"
        finally:
            kill_group(proc)
