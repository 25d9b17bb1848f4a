"""Issue 10, hardening round two: hostile inputs end in a finding or one clear
line with a defined exit code, never a hang, a traceback, or a changed byte the
user did not ask for.  Subprocess-heavy tests carry the ``slow`` marker."""

from __future__ import annotations

import ast
import json
import time

import pytest

from click.testing import CliRunner

from rmsport.cli import main
from rmsport.engine.convert import convert_source
from rmsport.engine.literals import MAX_INT_BITS, NOT_LITERAL, literal_value
from rmsport.options import Options


@pytest.fixture
def run():
    """The CLI in-process (click's runner): fast, for everything but signals and limits."""

    def invoke(*args: str, stdin: str | bytes | None = None):
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)

    return invoke


def _value(text: str) -> object:
    return literal_value(ast.parse(text, mode="eval").body)


# -- literal folding is bounded by the size of what it builds ------------------


@pytest.mark.parametrize(
    "text",
    [
        "((((9**64)**64)**64)**64)**64",
        "(10**64)**64",
        "(2**64)**64 * (2**64)**64",
        "1e999",
        "10**400",
        "1e300 * 1e300",
        "(-1) ** 0.5",
        "-(((7**64)**64)**64)",
    ],
)
def test_values_too_large_to_evaluate_are_not_literal(text):
    started = time.perf_counter()
    assert _value(text) is NOT_LITERAL
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "text, value", [("10**-8", 1e-08), ("2**10", 1024), ("1e-3 * 2", 0.002), ("(2**16)**16", 2**256), ("-0.5", -0.5)]
)
def test_ordinary_arithmetic_still_folds(text, value):
    assert _value(text) == value


def test_the_bound_is_a_float_s_range():
    assert _value("(2**32)**31") == 2**992
    assert (2**992).bit_length() <= MAX_INT_BITS
    assert _value("(2**32)**32") is NOT_LITERAL  # 2**1024 overflows a float


def test_check_on_a_literal_blow_up_returns_at_once():
    source = "import torch\nopt = torch.optim.RMSprop(p, lr=((((9**64)**64)**64)**64)**64)\n"
    started = time.perf_counter()
    result = convert_source(source, Options(verify=True))
    assert time.perf_counter() - started < 5
    assert result.changed
    assert any(f.code == "RMS401" and "unverifiable" in f.message for f in result.findings)


# -- a bad value costs its call, not the file -----------------------------------


def test_complex_sqrt_in_one_call_leaves_the_others_converted():
    source = (
        "import mindspore.nn as nn\n"
        "opt = nn.RMSProp(p, epsilon=-1)\n"
        "opt2 = nn.RMSProp(p, learning_rate=0.1)\n"
    )
    result = convert_source(source, Options(to="torch", eps_mapping="matched"))
    bad = [f for f in result.findings if f.line == 2]
    assert [f.code for f in bad if f.severity == "error"] in (["RMS002"], ["RMS205"])
    assert "nn.RMSProp(p, epsilon=-1)" in result.source
    assert "torch.optim.RMSprop(" in result.source.splitlines()[-1]


def test_overflow_while_verifying_one_call_leaves_the_others_converted(monkeypatch):
    from rmsport.numerics import verify as verify_module

    real = verify_module.compare  # what --verify calls (rmsport.numerics.advice, issue 9)

    def flaky(src_api, src_kwargs, dst_api, dst_kwargs, **options):
        if src_kwargs.get("lr") == 0.5:
            raise OverflowError("int too large to convert to float")
        return real(src_api, src_kwargs, dst_api, dst_kwargs, **options)

    monkeypatch.setattr(verify_module, "compare", flaky)
    source = "import torch\na = torch.optim.RMSprop(p, lr=0.5)\nb = torch.optim.RMSprop(p, lr=0.1)\n"
    result = convert_source(source, Options(verify=True))
    errors = [f for f in result.findings if f.severity == "error"]
    assert [(f.line, f.code) for f in errors] == [(2, "RMS002")]
    assert "too large" in errors[0].message
    lines = result.source.splitlines()
    assert "torch.optim.RMSprop(p, lr=0.5)" in lines[-2]
    assert "RMSProp(" in lines[-1]


def test_huge_lr_with_verify_is_a_finding_not_an_internal_error(run):
    source = "import torch\nopt = torch.optim.RMSprop(p, lr=(10**64)**64)\nopt2 = torch.optim.RMSprop(p, lr=0.1)\n"
    result = run("check", "--verify", "-", stdin=source)
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.output
    assert "Traceback" not in result.output


# -- [tool.rmsport] problems: exit 2, one line naming the file and the key --------


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"tool = 3\n", "[tool] must be a table"),
        (b"[tool]\nrmsport = 3\n", "[tool.rmsport] must be a table"),
        (b'[tool.rmsport]\nto = "jax"\n', "[tool.rmsport] to: 'jax' is not one of"),
        (b"[tool.rmsport]\njobs = 0\n", "[tool.rmsport] jobs: must be a whole number"),
        (b"[tool.rmsport]\n# caf\xe9\n", "cannot decode as UTF-8"),
        (b"[tool.rmsport\n", "invalid TOML"),
    ],
)
def test_config_problems_exit_2_naming_file_and_key(tmp_path, monkeypatch, run, content, needle):
    (tmp_path / "pyproject.toml").write_bytes(content)
    (tmp_path / "train.py").write_text("import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\n")
    monkeypatch.chdir(tmp_path)
    result = run("check", "train.py")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(tmp_path / "pyproject.toml") in lines[0]
    assert needle in lines[0]
    assert "PATHS" not in lines[0] and "Traceback" not in result.output


# -- resource limits, signals, a full stdout: one line and a defined exit code --------

CALL = "import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\n"


def _tree(folder, count: int = 10, text: str = CALL):
    folder.mkdir()
    for i in range(count):
        (folder / f"f{i:02d}.py").write_text(text)
    return folder


def _limited(nofile: int):
    import resource

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    return apply


@pytest.mark.slow
def test_too_few_file_descriptors_for_workers_still_converts_every_file(tmp_path):
    import subprocess

    from conftest import cli

    tree = _tree(tmp_path / "tree")
    done = subprocess.run(
        [*cli(), "convert", "-j", "2", str(tree)], capture_output=True, timeout=120, preexec_fn=_limited(12)
    )
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    assert done.returncode in (0, 123), done.stderr.decode()
    converted = [p for p in tree.iterdir() if "nn.RMSProp(" in p.read_text()]
    failed = done.stderr.decode().count("RMS001")
    assert len(converted) + failed == 10
    if done.returncode == 0:
        assert len(converted) == 10


def test_jobs_are_capped_by_cores():
    from rmsport.cli.runner import worker_count

    cores = len(__import__("os").sched_getaffinity(0))
    assert worker_count(100_000) == cores
    assert worker_count(1) == 1
    assert worker_count(None) == cores


def test_pool_that_cannot_start_falls_back_to_this_process(tmp_path, monkeypatch):
    from rmsport.cli import runner
    from rmsport.options import Options

    class NoPool:
        def submit(self, *args, **kwargs):
            raise OSError(24, "Too many open files")

        def shutdown(self, **kwargs):
            raise OSError(24, "Too many open files")

    monkeypatch.setattr(runner, "_start_pool", lambda workers: NoPool())
    monkeypatch.setattr(runner, "worker_count", lambda jobs: 4)
    tree = _tree(tmp_path / "tree", 6)
    seen = []
    runner.run_files(
        ((p, str(p)) for p in sorted(tree.iterdir())),
        runner.Job(write=True, want_diff=False, options=Options()),
        jobs=4,
        on_result=seen.append,
    )
    assert [r.written for r in seen] == [True] * 6
    assert all("nn.RMSProp(" in p.read_text() for p in tree.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("args", [["convert", "-q", "-"], ["check", "-q", "--diff", "-"], ["check", "-q", "--output-format", "json", "-"]])
def test_stdout_that_cannot_be_written_is_one_line_and_123(args):
    import subprocess

    from conftest import cli

    with open("/dev/full", "wb") as full:
        done = subprocess.run([*cli(), *args], input=CALL.encode(), stdout=full, stderr=subprocess.PIPE, timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 123, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert err.strip().splitlines()[-1] == "error: cannot write to stdout: No space left on device"


def _wait_until_reading_stdin(pid: int) -> None:
    from pathlib import Path

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if "pipe" in Path(f"/proc/{pid}/wchan").read_text() or "wait" in Path(f"/proc/{pid}/wchan").read_text():
                stat = Path(f"/proc/{pid}/stat").read_text()
                if stat.rsplit(")", 1)[1].split()[0] == "S":
                    time.sleep(0.2)
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("the CLI never waited for stdin")


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, word", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_ctrl_c_and_sigterm_exit_codes(sig, code, word):
    import signal
    import subprocess

    from conftest import cli

    proc = subprocess.Popen([*cli(), "check", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_until_reading_stdin(proc.pid)
        proc.send_signal(getattr(signal, sig))
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == code, err.decode()
    assert b"Aborted!" not in err and b"Traceback" not in err
    assert err.decode().strip().splitlines() == [f"error: {word}; every file is either fully converted or untouched"]


@pytest.mark.slow
def test_sigterm_during_a_convert_leaves_no_temp_file(tmp_path):
    """SIGTERM the CLI (one process, and with workers) while it writes big files."""
    import os
    import random
    import signal
    import subprocess

    from conftest import cli

    body = CALL + "".join(f"value_{i} = {i}  # filler line to make the write take a while\n" for i in range(5_000))
    rng = random.Random(10)
    for attempt in range(6):
        tree = _tree(tmp_path / f"tree{attempt}", 8, body)
        jobs = "1" if attempt % 2 else "2"
        proc = subprocess.Popen(
            [*cli(), "convert", "-q", "-j", jobs, str(tree)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        time.sleep(rng.uniform(0.3, 2.5))
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        _, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 143), err.decode()
        assert b"Traceback" not in err, err.decode()
        names = sorted(os.listdir(tree))
        assert names == [f"f{i:02d}.py" for i in range(8)], names
        for path in tree.iterdir():
            text = path.read_text()
            assert text == body or text.startswith("from mindspore import nn\n"), path


@pytest.mark.parametrize("command", ["check", "convert"])
def test_sigterm_after_the_run_keeps_its_exit_code(tmp_path, command):
    """A SIGTERM that lands once the command has finished (during the interpreter's
    shutdown, where Python has put back the default action) must not kill the process
    with status -15: the run ends with the code it had.  Sent from an atexit hook, it
    lands there every time."""
    import subprocess
    import sys

    target = tmp_path / "m.py"
    target.write_text(CALL)
    script = (
        "import atexit, os, signal\n"
        "atexit.register(lambda: os.kill(os.getpid(), signal.SIGTERM))\n"
        "from rmsport.cli import main\n"
        f"main([{command!r}, '-q', {str(target)!r}])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == (1 if command == "check" else 0), proc.stderr.decode()
    assert b"Traceback" not in proc.stderr


# -- bytes and metadata the user did not ask to change --------------------------------


def test_read_only_file_is_refused_unless_forced(tmp_path, run):
    import stat

    path = tmp_path / "ro.py"
    path.write_text(CALL)
    path.chmod(0o444)
    result = run("convert", str(path))
    assert result.exit_code == 123, result.output
    assert "RMS001" in result.output and "read-only (mode 0444)" in result.output
    assert "--write-read-only" in result.output
    assert path.read_text() == CALL
    forced = run("convert", "--write-read-only", str(path))
    assert forced.exit_code == 0, forced.output
    assert "nn.RMSProp(" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_check_and_diff_never_mind_read_only_files(tmp_path, run):
    path = tmp_path / "ro.py"
    path.write_text(CALL)
    path.chmod(0o444)
    assert run("check", str(path)).exit_code == 1
    assert run("convert", "--diff", str(path)).exit_code == 0


def test_owner_or_group_that_cannot_be_kept_is_reported(tmp_path, monkeypatch):
    """As a non-root user, fchown to another owner fails: the file is written
    (its content is what was asked for) and RMS003 says what changed."""
    import os

    from rmsport.cli.runner import Job, process_file
    from rmsport.files import sourcefile
    from rmsport.options import Options

    path = tmp_path / "shared.py"
    path.write_text(CALL)
    real_fstat = os.fstat
    original = os.stat(path)

    def foreign_owner_fstat(fd):
        info = real_fstat(fd)
        if (info.st_dev, info.st_ino) == (original.st_dev, original.st_ino):
            fields = list(info)
            fields[4], fields[5] = 4242, 4343  # st_uid, st_gid of someone else
            return os.stat_result(fields)
        return info

    def refuse(fd, uid, gid):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(sourcefile.os, "fstat", foreign_owner_fstat)
    monkeypatch.setattr(sourcefile.os, "fchown", refuse)
    result = process_file(path, Job(write=True, want_diff=False, options=Options()))
    assert result.written and not result.failed
    notes = [f for f in result.findings if f.code == "RMS003"]
    assert len(notes) == 1 and notes[0].severity == "warning"
    assert "owner 4242 is now" in notes[0].message and "group 4343 is now" in notes[0].message
    assert "Operation not permitted" in notes[0].message


def test_temp_names_are_cut_by_bytes(tmp_path, run):
    from rmsport.files.sourcefile import temp_name_for

    name = "\u20ac" * 80 + ".py"  # 243 bytes in 83 characters: a cut at 100 characters keeps all of it
    assert len(name.encode()) == 243
    prefix, suffix = temp_name_for(tmp_path / name)
    assert len((prefix + "12345678" + suffix).encode()) <= 255
    assert prefix == "." + "\u20ac" * 33 + "."  # 99 bytes: never half a character
    path = tmp_path / name
    path.write_text(CALL)
    result = run("convert", str(path))
    assert result.exit_code == 0, result.output
    assert "nn.RMSProp(" in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_cr_only_line_endings_with_a_cookie_decode_like_python(encoding, run):
    from rmsport.files.sourcefile import decode

    data = (
        f"# -*- coding: {encoding} -*-\r# caf\u00e9\rimport torch\ropt = torch.optim.RMSprop(p, lr=0.1)\r"
    ).encode(encoding)
    compile(data, "x.py", "exec")  # CPython accepts it
    source = decode(data)
    assert source.encoding.replace("_", "-").lower() in ("latin-1", "iso-8859-1", "cp1252")
    assert "café" in source.text
    result = run("convert", "-q", "-", stdin=data)
    assert result.exit_code == 0, result.output
    out = result.stdout_bytes
    assert b"nn.RMSProp(" in out and b"caf\xe9\r" in out and b"\n" not in out


# -- notebooks: only the changed cells' source changes ----------------------------------

NB_TEXT = (
    '{\r\n "cells": [\r\n'
    '  {"cell_type": "markdown", "metadata": {}, "source": ["caf\\u00e9 \\/ x"]},\n'
    '  {"cell_type": "code", "execution_count": null, "metadata": {"a": 1, "a": 2}, "outputs": [],'
    ' "source": ["import torch\\n", "# caf\\u00e9\\n",'
    ' "opt = torch.optim.RMSprop(p, lr=0.1)  # \\u00e9t\\u00e9\\n", "x = 1"]},\n'
    '  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],'
    ' "source": "import torch\\nopt2 = torch.optim.RMSprop(q, lr=1e-3)"}\n'
    ' ],\n "metadata": {"v": 1E5, "path": "a\\/b"},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n'
)


def _outside_sources(text: str) -> list[str]:
    from rmsport.files.notebook_json import locate

    spans = [span for span in locate(text) if span is not None]
    pieces, pos = [], 0
    for span in spans:
        pieces.append(text[pos : span.start])
        pos = span.end
    pieces.append(text[pos:])
    return pieces


def test_notebook_bytes_outside_changed_sources_are_kept():
    from rmsport.files.notebook import convert_notebook

    result = convert_notebook(NB_TEXT, Options(), path="nb.ipynb")
    assert result.changed
    new = result.source
    assert _outside_sources(new) == _outside_sources(NB_TEXT)  # escapes, duplicate keys, 1E5, CRLF+LF mix
    assert '"metadata": {"a": 1, "a": 2}' in new and "\r\n" in new and new.count("\r\n") == NB_TEXT.count("\r\n")
    # inside the changed cell: unchanged lines and unchanged characters keep their spelling
    assert '"# caf\\u00e9\\n"' in new
    assert "# \\u00e9t\\u00e9\\n" in new
    cells = json.loads(new)["cells"]
    assert cells[1]["source"][0] == "from mindspore import nn\n"
    assert isinstance(cells[2]["source"], str) and cells[2]["source"].startswith("opt2 = nn.RMSProp(")


def test_compact_one_line_cell_stays_one_line():
    from rmsport.files.notebook import convert_notebook

    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": ["import torch\n", "opt = torch.optim.RMSprop(p)"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(nb, indent=1).replace(
        '[\n    "import torch\\n",\n    "opt = torch.optim.RMSprop(p)"\n   ]', '["import torch\\n", "opt = torch.optim.RMSprop(p)"]'
    )
    assert '["import torch\\n", "opt' in text
    new = convert_notebook(text, Options(), path="nb.ipynb").source
    line = next(line for line in new.splitlines() if '"source"' in line)
    assert line.strip().startswith('"source": ["from mindspore import nn\\n", "opt = nn.RMSProp(')
    assert _outside_sources(new) == _outside_sources(text)


def _lone_surrogate_notebook() -> str:
    return (
        '{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["odd \\ud800 text"]},'
        ' {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null,'
        ' "source": ["import torch\\n", "opt = torch.optim.RMSprop(p)"]}],'
        ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
    )


def test_lone_surrogate_convert_and_diff_agree(tmp_path, run):
    path = tmp_path / "odd.ipynb"
    path.write_text(_lone_surrogate_notebook())
    diff = run("convert", "--diff", str(path))
    converted = run("convert", str(path))
    assert diff.exit_code == converted.exit_code == 0, (diff.output, converted.output)
    assert "\\ud800" in path.read_text() and "nn.RMSProp(" in path.read_text()


def test_diff_fails_where_convert_fails_to_encode(tmp_path, run):
    path = tmp_path / "latin.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\nimport torch\nopt = torch.optim.RMSprop(p, lr=0.1)\n")
    from rmsport.cli import runner

    real = runner.convert_text

    def with_euro(*args, **kwargs):  # a rewrite the file's encoding cannot hold
        conv = real(*args, **kwargs)
        conv.source = conv.source.replace("nn.RMSProp(", "nn.RMSProp(  # \u20ac\n")
        return conv

    import pytest as _pytest

    with _pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "convert_text", with_euro)
        diff = run("convert", "--diff", str(path))
        converted = run("convert", str(path))
    assert diff.exit_code == converted.exit_code == 123
    assert "cannot encode" in diff.output and "cannot" in converted.output


def test_unparsable_notebook_cell_exits_123_and_other_cells_convert(tmp_path, run):
    nb = {"cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["def broken(:\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["import torch\n", "opt = torch.optim.RMSprop(p)"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb, indent=1))
    assert run("check", str(path)).exit_code == 123
    result = run("convert", str(path))
    assert result.exit_code == 123, result.output
    assert "RMS001" in result.output and "cell does not parse" in result.output
    assert "nn.RMSProp(" in path.read_text()


def test_github_and_sarif_point_at_the_notebook_line_of_the_code(tmp_path, run, monkeypatch):
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# title\n", "text"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["import torch\n", "\n", "opt = torch.optim.RMSprop(p, lr=0.1)"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "import torch\nopt2 = torch.optim.RMSprop(q)"},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(nb, indent=1)
    (tmp_path / "nb.ipynb").write_text(text)
    monkeypatch.chdir(tmp_path)
    file_lines = text.splitlines()
    call_line = next(i for i, line in enumerate(file_lines, 1) if "opt = torch.optim.RMSprop" in line)
    call_col = file_lines[call_line - 1].index("torch.optim") + 1
    string_line = next(i for i, line in enumerate(file_lines, 1) if "opt2 = torch" in line)
    string_col = file_lines[string_line - 1].index("torch.optim.RMSprop(q)") + 1

    github = run("check", "--output-format", "github", "nb.ipynb").stdout
    rms101 = [line for line in github.splitlines() if "title=RMS101" in line]
    assert f"line={call_line},col={call_col}," in rms101[0], rms101
    assert "(cell 1)" in rms101[0]
    assert f"line={string_line},col={string_col}," in rms101[1], rms101

    sarif = json.loads(run("check", "--output-format", "sarif", "nb.ipynb").stdout)
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in sarif["runs"][0]["results"]
               if r["ruleId"] == "RMS101"]
    assert (regions[0]["startLine"], regions[0]["startColumn"]) == (call_line, call_col)
    assert (regions[1]["startLine"], regions[1]["startColumn"]) == (string_line, string_col)
    # JSON keeps the cell-relative lines it always had
    data = json.loads(run("check", "--output-format", "json", "nb.ipynb").stdout)
    first = next(f for f in data if f["code"] == "RMS101")
    assert (first["cell"], first["line"], first["column"]) == (1, 3, 7)
    assert "file_region" not in first


def test_json_with_a_non_utf8_file_name_is_valid_utf8(tmp_path, monkeypatch):
    import os
    import subprocess

    from conftest import cli

    name = os.fsdecode(b"caf\xe9.py")
    (tmp_path / name).write_text(CALL)
    monkeypatch.chdir(tmp_path)
    for fmt in ("json", "sarif", "github"):
        done = subprocess.run([*cli(), "check", "-q", "--output-format", fmt, "."], capture_output=True, timeout=60)
        assert done.returncode == 1, done.stderr
        text = done.stdout.decode("utf-8")  # raises if not UTF-8
        if fmt == "json":
            paths = {f["path"] for f in json.loads(text)}
            assert {os.fsencode(p) for p in paths} == {b"caf\xe9.py"}  # lossless: surrogateescape
        elif fmt == "sarif":
            assert '"uri": "caf%E9.py"' in text
        else:
            assert "file=caf\ufffd.py" in text


@pytest.mark.parametrize(
    "args",
    [
        ["--to", "torch", "--eps-mapping", "matched", "nn.RMSProp(p, epsilon=-1)"],
        ["torch.optim.RMSprop(p, lr=(10**64)**64)"],
    ],
)
def test_compare_on_a_bad_value_is_one_line_and_exit_2(run, args):
    result = run("compare", *args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output


# -- messages that tell the truth -------------------------------------------------------


def test_summary_calls_only_errors_errors(tmp_path, run):
    (tmp_path / "strings.py").write_text("x = 'torch.optim.RMSprop is mentioned here'\n")
    (tmp_path / "train.py").write_text(CALL)
    result = run("check", str(tmp_path))
    summary = result.output.strip().splitlines()[-1]
    assert summary == "1 file would be converted, 1 needed no change.", summary
    (tmp_path / "broken.py").write_text("import torch\nopt = torch.optim.RMSprop(\n")
    (tmp_path / "blocked.py").write_text("import torch\nopt = torch.optim.RMSprop(p, maximize=True)\n")
    summary = run("check", str(tmp_path)).output.strip().splitlines()[-1]
    assert summary == (
        "1 file would be converted, 1 needed no change, 1 file with calls left unchanged (errors above), "
        "1 file could not be read, decoded, parsed or written (errors above)."
    ), summary


def test_readme_says_which_files_are_parsed(tmp_path, run):
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "whose bytes never spell `RMSprop` or `RMSProp`" in readme
    (tmp_path / "notes.py").write_bytes(b"this is not Python (\n")
    assert run("check", str(tmp_path / "notes.py")).exit_code == 0  # never parsed
    (tmp_path / "notes.py").write_bytes(b"this is not Python, says RMSprop (\n")
    assert run("check", str(tmp_path / "notes.py")).exit_code == 123


def test_readme_documents_rms401_as_it_is(run):
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`RMS401`: `info` when the rewrite verifies equivalent or cannot\nbe simulated, `warning` when it is divergent" in readme
    result = run("check", "--verify", "--output-format", "json", "-", stdin=CALL)
    rms401 = [f for f in json.loads(result.stdout) if f["code"] == "RMS401"]
    assert rms401 and rms401[0]["severity"] == "warning" and rms401[0]["message"].startswith("divergent")


def test_a_bug_on_stdin_is_a_finding_and_the_input_is_echoed(monkeypatch, run):
    from rmsport.cli import runner

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(runner, "convert_text", broken)
    result = run("convert", "-", stdin=CALL)
    assert result.exit_code == 123
    assert result.stdout_bytes == CALL.encode()
    assert "internal error: KeyError" in result.output and "Traceback" not in result.output
