"""Odd files through the real CLI: empty, comment-only, huge, deeply nested.

Each must either convert, or fail with one clean RMS001 line and exit code
123; never a traceback.
"""

from __future__ import annotations

import ast
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import run_cli

CALL = "opt = torch.optim.RMSprop(model.parameters(), lr=0.01)\n"






def run(*args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return run_cli(*args, stdin=stdin, timeout=timeout)


def assert_clean(proc: subprocess.CompletedProcess) -> None:
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    assert "Traceback" not in proc.stdout.decode("utf-8", "replace")
    assert proc.returncode in (0, 1, 123), (proc.returncode, stderr)


def assert_converted_or_rms001(proc: subprocess.CompletedProcess, path: Path, before: bytes) -> str:
    """Return "converted" or "rms001"; the file must parse in either case."""
    assert_clean(proc)
    after = path.read_bytes()
    if proc.returncode == 123:
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        lines = [line for line in output.splitlines() if "RMS001" in line]
        assert len(lines) == 1, output
        assert len(lines[0]) < 400, lines[0]
        assert after == before, "a file reported as RMS001 was changed"
        return "rms001"
    ast.parse(after)
    return "converted"


# --- empty and comment-only files --------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\n",
        b"\r\n\r\n",
        b"# only a comment",
        b"# only a comment\n# and another one mentioning torch.optim.RMSprop(p)\n",
        b"\xef\xbb\xbf",
        b"\xef\xbb\xbf# bom and comment\r\n",
        b"# -*- coding: latin-1 -*-\n# caf\xe9\n",
        b'"""Only a docstring mentioning RMSprop."""\n',
        b"   \n\t\n",
    ],
)
@pytest.mark.parametrize("command", ["convert", "check"])
def test_empty_and_comment_only_files(tmp_path, content, command):
    path = tmp_path / "odd.py"
    path.write_bytes(content)
    proc = run(command, str(path))
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr.decode()
    assert path.read_bytes() == content


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"# comment only\r\n",
        b"\xef\xbb\xbf# bom\n",
    ],
)
def test_empty_and_comment_only_stdin(content):
    proc = run("convert", "-", stdin=content)
    assert_clean(proc)
    assert proc.returncode == 0
    assert proc.stdout == content


# --- a 50k-line file --------------------------------------------------------------


def big_module(lines: int) -> bytes:
    out = ["import torch\n", "from torch import nn\n", "\n"]
    i = 0
    while len(out) < lines - 2:
        if i % 1000 == 0:
            out.append(f"opt_{i} = torch.optim.RMSprop(model.parameters(), lr=0.0{i % 9 + 1}, alpha=0.9)\n")
        elif i % 500 == 0:
            out.append(f"def f_{i}(x):\n    return x * {i}\n")
        else:
            out.append(f"value_{i} = {i} * 2  # RMSprop is not called here {i}\n")
        i += 1
    out.append("# end\n")
    return "".join(out).encode()


@pytest.mark.slow
def test_50k_line_file(tmp_path):
    path = tmp_path / "huge.py"
    data = big_module(50_000)
    path.write_bytes(data)
    assert data.count(b"\n") >= 50_000
    start = time.perf_counter()
    proc = run("convert", str(path))
    elapsed = time.perf_counter() - start
    assert_clean(proc)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    after = path.read_bytes()
    ast.parse(after)
    assert b"torch.optim.RMSprop(" not in after
    assert after.count(b"RMSProp(") == data.count(b"torch.optim.RMSprop(")
    # every unrelated line is still there, in order
    unrelated = [line for line in data.splitlines() if b"RMSprop(" not in line and not line.startswith(b"import")]
    kept = set(after.splitlines())
    assert all(line in kept for line in unrelated)
    assert elapsed < 60, f"50k-line file took {elapsed:.1f}s"

    proc = run("check", str(path))
    assert_clean(proc)


@pytest.mark.slow
def test_50k_line_file_stdin():
    data = big_module(50_000)
    proc = run("convert", "-", stdin=data)
    assert_clean(proc)
    assert proc.returncode in (0, 1)
    ast.parse(proc.stdout)
    assert proc.stdout.count(b"RMSProp(") == data.count(b"torch.optim.RMSprop(")


# --- deep nesting -------------------------------------------------------------------


def nested(depth: int, opener: str, closer: str, inner: str) -> str:
    return opener * depth + inner + closer * depth


DEEP_CASES = {
    # 100 levels of brackets around the call: within Python's limit (200)
    "parens100": "import torch\nx = " + nested(100, "(", ")", "torch.optim.RMSprop(p, lr=0.1)") + "\n",
    "lists100": "import torch\nx = " + nested(100, "[", "]", "torch.optim.RMSprop(p, lr=0.1)") + "\n",
    "mixed100": "import torch\nx = "
    + nested(50, "[(", ")]", "torch.optim.RMSprop(p, lr=0.1)")
    + "\n",
    "calls100": "import torch\nx = " + nested(100, "f(", ")", "torch.optim.RMSprop(p, lr=0.1)") + "\n",
    # 1000-deep expressions: the parser (and any recursive walker) recurses
    "binop1000_outside": "import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\nx = 1" + "+1" * 1000 + "\n",
    "binop1000_in_lr": "import torch\nopt = torch.optim.RMSprop(p, lr=1e-3" + " + 0" * 1000 + ")\n",
    "unary1000_in_lr": "import torch\nopt = torch.optim.RMSprop(p, lr=" + "-" * 1000 + "1e-3)\n",
    "unary1000_outside": "import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\nx = " + "-" * 1000 + "1\n",
    "attr1000": "import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\nx = a" + ".b" * 1000 + "\n",
    "attr5000": "import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\nx = a" + ".b" * 5000 + "\n",
    "call_chain1000": "import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\nx = f" + "()" * 1000 + "\n",
    "lambda500": "import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\nx = " + "lambda: " * 500 + "1\n",
    "if_nesting100": "import torch\n"
    + "".join("    " * i + "if x:\n" for i in range(100))
    + "    " * 100
    + "opt = torch.optim.RMSprop(p, lr=0.1)\n",
    "too_many_parens": "import torch\nx = " + nested(250, "(", ")", "torch.optim.RMSprop(p, lr=0.1)") + "\n",
}


@pytest.mark.parametrize("name", sorted(DEEP_CASES))
def test_deeply_nested_file(tmp_path, name):
    data = DEEP_CASES[name].encode()
    path = tmp_path / f"{name}.py"
    path.write_bytes(data)
    proc = run("convert", str(path))
    outcome = assert_converted_or_rms001(proc, path, data)
    if outcome == "converted":
        after = path.read_bytes()
        assert b"torch.optim.RMSprop(" not in after or proc.returncode == 1

    proc = run("check", str(path))
    assert_clean(proc)


@pytest.mark.parametrize("name", sorted(DEEP_CASES))
def test_deeply_nested_stdin(name):
    data = DEEP_CASES[name].encode()
    proc = run("convert", "-", stdin=data)
    assert_clean(proc)
    if proc.returncode == 123:
        assert proc.stdout == data, "unparsable stdin must be echoed unchanged"
    else:
        ast.parse(proc.stdout)


# --- special files -------------------------------------------------------------------


@pytest.mark.parametrize("command", ["convert", "check"])
def test_fifo_given_explicitly_does_not_hang(tmp_path, command):
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    try:
        proc = run(command, str(fifo), timeout=6)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"rmsport {command} hangs on a FIFO") from None
    assert_clean(proc)
    assert proc.returncode == 123
    assert "FIFO" in proc.stderr.decode()


@pytest.mark.parametrize("command", ["convert", "check"])
def test_special_files_in_a_tree(tmp_path, command):
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "broken.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    (tmp_path / "dir.py").mkdir()
    (tmp_path / "dir.py" / "inner.py").write_bytes(CALL.encode())
    (tmp_path / "ok.py").write_bytes(b"import torch\n" + CALL.encode())
    proc = run(command, str(tmp_path), timeout=60)
    assert_clean(proc)
    assert proc.returncode in (1, 123)
    assert (tmp_path / "ok.py").read_bytes().startswith(b"import torch\n") == (command == "check")


def test_cli_keeps_symlinks_and_modes(tmp_path):
    real = tmp_path / "real.py"
    real.write_bytes(b"#!/usr/bin/env python\nimport torch\n" + CALL.encode())
    real.chmod(0o755)
    link = tmp_path / "link.py"
    link.symlink_to("real.py")
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "impl.py"
    target.write_bytes(b"import torch\n" + CALL.encode())
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "alias.py").symlink_to(target)
    proc = run("convert", str(tmp_path / "link.py"), str(tmp_path / "pkg" / "alias.py"))
    assert_clean(proc)
    assert proc.returncode in (0, 1)
    assert link.is_symlink() and os.readlink(link) == "real.py"
    assert (tmp_path / "pkg" / "alias.py").is_symlink()
    assert b"RMSProp(" in real.read_bytes() and b"RMSProp(" in target.read_bytes()
    assert real.stat().st_mode & 0o777 == 0o755
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".rmsport-tmp")]
    assert leftovers == []
