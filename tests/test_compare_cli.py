"""``rmsport compare``: argument checks before computing, the call printed as written (issue 10)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from conftest import run_cli as rmsport

from rmsport.cli.app import COMPARE_MAX_STEPS
from rmsport.cli.plotfile import PlotPathError, write_png
from rmsport.numerics.verify import STANDARD_STEPS

CALL = "torch.optim.RMSprop(p, lr=0.01)"


def test_steps_range_is_the_standard_problem() -> None:
    assert COMPARE_MAX_STEPS == STANDARD_STEPS


def test_steps_past_the_problem_is_a_usage_error() -> None:
    result = rmsport("compare", "--steps", str(STANDARD_STEPS + 1), CALL, text=True)
    assert result.returncode == 2
    assert (
        f"Invalid value for '--steps': {STANDARD_STEPS + 1}: the standard problem has {STANDARD_STEPS} steps "
        f"(use 1..{STANDARD_STEPS}, or --grads to replay a longer recording)"
    ) in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    help_text = " ".join(rmsport("compare", "--help", text=True).stdout.split())
    assert f"Steps to simulate: 1..{STANDARD_STEPS} on the standard problem" in help_text
    too_many = rmsport("compare", "--steps", "100001", CALL, text=True)
    assert too_many.returncode == 2 and "100001 is not in the range 1<=x<=100000" in too_many.stderr


def test_steps_at_the_limit_works() -> None:
    result = rmsport("compare", "--steps", str(STANDARD_STEPS), CALL, text=True)
    assert result.returncode == 0, result.stderr
    assert f"steps {STANDARD_STEPS}" in result.stdout


def _unwritable(tmp_path: Path) -> str:
    """A .png path the file system refuses even to root (sysfs), else a read-only folder."""
    if os.geteuid() == 0 and os.path.isdir("/sys/kernel"):
        return "/sys/kernel/rmsport-test.png"
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    return str(folder / "cmp.png")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing folder", "folder {tmp}/nope does not exist"),
        ("txt", "give a file name ending in .png"),
        ("empty", "--plot needs a file name ending in .png"),
        ("dev full", "give a file name ending in .png"),
        ("link to dev full", "not a regular file"),
        ("folder", "a folder"),
        ("file as folder", "is not a folder"),
        ("unwritable", "cannot write: Permission denied"),
    ],
)
def test_bad_plot_target_stops_before_computing(tmp_path: Path, case: str, message: str) -> None:
    (tmp_path / "file").write_text("")
    (tmp_path / "dir.png").mkdir()
    os.symlink("/dev/full", tmp_path / "full.png")
    target = {
        "missing folder": str(tmp_path / "nope" / "cmp.png"),
        "txt": str(tmp_path / "x.txt"),
        "empty": "",
        "dev full": "/dev/full",
        "link to dev full": str(tmp_path / "full.png"),
        "folder": str(tmp_path / "dir.png"),
        "file as folder": str(tmp_path / "file" / "cmp.png"),
        "unwritable": _unwritable(tmp_path),
    }[case]
    result = rmsport("compare", "--plot", target, CALL, text=True)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message.format(tmp=tmp_path) in lines[0]
    assert "wrote" not in result.stderr
    assert result.stdout == ""  # checked before anything was computed or printed
    assert not (tmp_path / "x.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "readonly") == ["dir.png", "file", "full.png"]


def test_without_matplotlib_says_how_to_install_before_computing(tmp_path: Path) -> None:
    hidden = tmp_path / "hide" / "matplotlib"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('matplotlib hidden by the test')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "hide"), env.get("PYTHONPATH", "")])
    result = rmsport("compare", "--plot", str(tmp_path / "cmp.png"), CALL, env=env, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --plot needs matplotlib: pip install 'rmsport[plot]'"
    assert result.stdout == ""
    assert not (tmp_path / "cmp.png").exists()


def test_plot_written_says_wrote(tmp_path: Path) -> None:
    png = tmp_path / "cmp.png"
    result = rmsport("compare", "--steps", "20", "--plot", str(png), CALL, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"wrote {png}"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cmp.png"]  # no temp file left


@pytest.mark.parametrize("existing", [False, True])
def test_disk_full_while_writing_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    png = tmp_path / "cmp.png"
    if existing:
        png.write_bytes(b"old picture")

    def full(fd: int, data) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(PlotPathError, match=r"^cannot write .*cmp\.png: No space left on device$"):
        write_png(png, b"\x89PNG new")
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == (["cmp.png"] if existing else [])
    if existing:
        assert png.read_bytes() == b"old picture"


@pytest.mark.parametrize(
    ("call", "shown"),
    [
        ("torch.optim.RMSprop([w, b], lr=0.1)", "nn.RMSProp(params=[w, b], learning_rate=0.1"),
        ("torch.optim.RMSprop(p, lr=0.1)  # [/]", "nn.RMSProp(params=p, learning_rate=0.1, decay=0.99, epsilon=1e-08)"),
        ("torch.optim.RMSprop([p['[/]']], lr=0.1)", "nn.RMSProp(params=[p['[/]']], learning_rate=0.1"),
        ("torch.optim.RMSprop([p['[bold]x[/bold]'], q['[link=y]z']], lr=0.1)",
         "params=[p['[bold]x[/bold]'], q['[link=y]z']], learning_rate=0.1"),
        ("torch.optim.RMSprop([p[0]], lr=0.1)  # \\[", "params=[p[0]], learning_rate=0.1, decay=0.99, epsilon=1e-08)"),
    ],
)
def test_call_text_is_printed_as_written(call: str, shown: str) -> None:
    """Rich markup must never see the user's text: '[/]' crashed, '[w, b]' vanished."""
    result = rmsport("compare", "--steps", "5", call, text=True)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("convert writes ")
    assert shown in first
