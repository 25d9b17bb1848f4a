"""Load: a tree of 5,000 small files converted by two concurrent CLI runs.

pre-commit runs hooks in parallel batches, and people run ``rmsport convert .``
twice by accident; two processes converting the same tree at once must leave
every file either untouched or fully converted, exactly as one run would, and
both runs must end cleanly (exit 0 or 1, no traceback).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import cli

# Subprocess-heavy: deselect with -m 'not slow' in the fast loop; CI runs everything.
pytestmark = pytest.mark.slow

N_FILES = 5_000
N_DIRS = 50




def file_body(i: int) -> str:
    kind = i % 10
    if kind == 0:
        return (
            "import torch\n"
            "from torch import nn\n\n"
            f"model = nn.Linear({i % 97 + 1}, 1)\n"
            f"opt = torch.optim.RMSprop(model.parameters(), lr=0.0{i % 9 + 1}, momentum=0.9)\n"
        )
    if kind == 1:
        return (
            "from torch.optim import RMSprop as R\r\n\r\n"
            "def make(params):\r\n"
            f"    return R(params, 1e-3, alpha=0.9{i % 10}, centered=True)  # file {i}\r\n"
        )
    if kind == 2:
        # mentions the class but calls another library: untouched
        return f"import keras\nopt = keras.optimizers.RMSprop(learning_rate=0.00{i % 9 + 1})\n"
    if kind == 3:
        # an error finding: left unchanged, exit 1
        return "import torch\nopt = torch.optim.RMSprop(p, maximize=True)\n"
    return f'"""Module {i}."""\n\nVALUE = {i}\n\n\ndef f(x):\n    return x + VALUE\n'


def make_tree(root: Path) -> dict[str, bytes]:
    root.mkdir()
    contents = {}
    for i in range(N_FILES):
        rel = f"pkg{i % N_DIRS:02d}/mod{i:04d}.py"
        path = root / rel
        path.parent.mkdir(exist_ok=True)
        data = file_body(i).encode()
        path.write_bytes(data)
        contents[rel] = data
    return contents


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_two_concurrent_runs_on_5000_files(tmp_path):
    original = make_tree(tmp_path / "original")

    reference_root = tmp_path / "reference"
    shutil.copytree(tmp_path / "original", reference_root)
    start = time.perf_counter()
    single = subprocess.run([*cli(), "convert", "-q", str(reference_root)], capture_output=True, timeout=300)
    single_seconds = time.perf_counter() - start
    assert b"Traceback" not in single.stderr, single.stderr.decode(errors="replace")
    assert single.returncode == 1, single.stderr.decode(errors="replace")[-2000:]  # the maximize=True files
    reference = snapshot(reference_root)
    assert reference.keys() == original.keys()
    converted = {rel for rel in original if reference[rel] != original[rel]}
    assert len(converted) == N_FILES // 10 * 2  # kinds 0 and 1
    for rel in converted:
        ast.parse(reference[rel])
        assert b"RMSProp(" in reference[rel]

    work = tmp_path / "work"
    shutil.copytree(tmp_path / "original", work)
    start = time.perf_counter()
    procs = [
        subprocess.Popen([*cli(), "convert", "-q", str(work)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    concurrent_seconds = time.perf_counter() - start
    for proc, (_, stderr) in zip(procs, outputs):
        text = stderr.decode(errors="replace")
        assert "Traceback" not in text, text[-3000:]
        assert proc.returncode in (0, 1), (proc.returncode, text[-3000:])

    after = snapshot(work)
    assert after.keys() == original.keys(), sorted(after.keys() - original.keys())[:10]
    corrupted = [rel for rel in original if after[rel] != reference[rel]]
    assert not corrupted, f"{len(corrupted)} files differ from a single run, e.g. {corrupted[:5]}"
    print(f"single run {single_seconds:.1f}s, two concurrent runs {concurrent_seconds:.1f}s")
    assert single_seconds + concurrent_seconds < 120


def test_overlapping_explicit_batches(tmp_path):
    """pre-commit style: files passed explicitly, in batches that overlap, all at once."""
    original = make_tree(tmp_path / "original")
    reference_root = tmp_path / "reference"
    shutil.copytree(tmp_path / "original", reference_root)
    single = subprocess.run([*cli(), "convert", "-q", str(reference_root)], capture_output=True, timeout=300)
    assert single.returncode == 1, single.stderr.decode(errors="replace")[-2000:]
    reference = snapshot(reference_root)

    work = tmp_path / "work"
    shutil.copytree(tmp_path / "original", work)
    names = sorted(original)
    half = len(names) // 2
    batches = [names[: half + 500], names[half - 500 :], names[::2], names[1::3]]
    procs = [
        subprocess.Popen(
            [*cli(), "convert", "-q", "-j", "1", *batch],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for batch in batches
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_, stderr) in zip(procs, outputs):
        text = stderr.decode(errors="replace")
        assert "Traceback" not in text, text[-3000:]
        assert proc.returncode in (0, 1), (proc.returncode, text[-3000:])
    after = snapshot(work)
    assert after.keys() == original.keys()
    corrupted = [rel for rel in original if after[rel] != reference[rel]]
    assert not corrupted, f"{len(corrupted)} files differ from a single run, e.g. {corrupted[:5]}"


def test_file_edited_during_conversion_is_not_overwritten(tmp_path, monkeypatch):
    """An editor saves the file while rmsport converts it: the save must win.

    The runner must pass the bytes it read to ``write_atomic(..., expected=...)``,
    which then refuses to overwrite (RMS001 "changed on disk while converting").
    """
    from click.testing import CliRunner

    from rmsport.cli import runner
    from rmsport.cli import main

    path = tmp_path / "train.py"
    path.write_bytes(b"import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\n")
    edited = b"import torch\nopt = torch.optim.RMSprop(p, lr=0.2)  # edited meanwhile\n"
    real_convert_text = runner.convert_text

    def convert_while_someone_saves(*args, **kwargs):
        result = real_convert_text(*args, **kwargs)
        path.write_bytes(edited)
        return result

    monkeypatch.setattr(runner, "convert_text", convert_while_someone_saves)
    result = CliRunner().invoke(main, ["convert", "-j", "1", str(path)])
    assert path.read_bytes() == edited, "the edit made during the conversion was overwritten"
    assert result.exit_code == 123, result.output
    assert "RMS001" in result.output
    assert "changed on disk" in result.output


def test_summary_of_a_file_that_could_not_be_written(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from rmsport.cli import runner
    from rmsport.cli import main

    path = tmp_path / "train.py"
    path.write_bytes(b"import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\n")
    real_convert_text = runner.convert_text

    def convert_while_someone_saves(*args, **kwargs):
        result = real_convert_text(*args, **kwargs)
        path.write_bytes(b"x = 1  # edited meanwhile\n")
        return result

    monkeypatch.setattr(runner, "convert_text", convert_while_someone_saves)
    result = CliRunner().invoke(main, ["convert", "-j", "1", str(path)])
    assert result.exit_code == 123
    summary = result.output.strip().splitlines()[-1]
    assert "-1" not in summary, summary
    assert "1 file converted" not in summary, summary
