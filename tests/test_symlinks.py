"""A walk never follows a symlink out of the folder given on the command line (issue 14)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import run_cli as rmsport

from rmsport.files.discovery import Skipped, iter_source_paths

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symlinks")

CALL = "import torch\nopt = torch.optim.RMSprop(model.parameters())\n"


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """repo/ holds the walked tree; elsewhere/ is a file the tree must not reach."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pkg").mkdir()
    (repo / "pkg" / "own.py").write_text(CALL)
    (tmp_path / "elsewhere.py").write_text(CALL)
    os.symlink(tmp_path / "elsewhere.py", repo / "pkg" / "escape.py")  # absolute link out
    os.symlink("../../elsewhere.py", repo / "pkg" / "relative_escape.py")  # relative link out
    os.symlink("own.py", repo / "pkg" / "inside.py")  # stays in the tree: followed
    os.symlink("escape.py", repo / "pkg" / "chain.py")  # link to a link out: judged by where it lands
    monkeypatch.chdir(repo)
    return tmp_path


def test_walk_skips_links_leaving_the_root_and_notes_them(layout: Path) -> None:
    errors: list[Skipped] = []
    notes: list[Skipped] = []
    found = list(iter_source_paths([Path(".")], errors=errors, notes=notes))
    assert found == ["pkg/inside.py", "pkg/own.py"]
    assert errors == []
    target = os.path.realpath(layout / "elsewhere.py")
    assert sorted((n.path.as_posix(), n.reason) for n in notes) == [
        (name, f"symbolic link to {target}, outside the folder walked")
        for name in ("pkg/chain.py", "pkg/escape.py", "pkg/relative_escape.py")
    ]


def test_root_is_the_folder_given_not_the_project(layout: Path) -> None:
    """Walking pkg/, a link to a sibling folder of pkg is outside it."""
    (layout / "repo" / "lib").mkdir()
    (layout / "repo" / "lib" / "shared.py").write_text(CALL)
    os.symlink("../lib/shared.py", layout / "repo" / "pkg" / "shared.py")
    notes: list[Skipped] = []
    assert "pkg/shared.py" not in list(iter_source_paths([Path("pkg")], notes=notes))
    assert "pkg/shared.py" in [n.path.as_posix() for n in notes]
    # walking the whole repo, the same link stays inside: followed
    assert "pkg/shared.py" in list(iter_source_paths([Path(".")]))


def test_symlinked_folder_given_explicitly_is_walked(layout: Path) -> None:
    os.symlink(layout / "repo" / "pkg", layout / "pkglink")
    found = list(iter_source_paths([layout / "pkglink"]))
    assert [Path(p).name for p in found] == ["inside.py", "own.py"]


def test_explicit_link_is_honoured(layout: Path) -> None:
    notes: list[Skipped] = []
    assert list(iter_source_paths([Path("pkg/escape.py")], notes=notes)) == ["pkg/escape.py"]
    assert notes == []


def test_convert_leaves_the_target_alone_and_says_so(layout: Path) -> None:
    result = rmsport("convert", ".", text=True)
    assert result.returncode == 0, result.stderr
    assert (layout / "elsewhere.py").read_text() == CALL  # outside the tree: untouched
    assert "nn.RMSProp" in (layout / "repo" / "pkg" / "own.py").read_text()
    info = [line for line in result.stderr.splitlines() if line.startswith("info: skipped")]
    assert info == [
        f"info: skipped pkg/{name}: symbolic link to {os.path.realpath(layout / 'elsewhere.py')}, "
        "outside the folder walked"
        for name in ("chain.py", "escape.py", "relative_escape.py")
    ]
    assert os.path.islink(layout / "repo" / "pkg" / "escape.py")


def test_quiet_hides_the_info_line(layout: Path) -> None:
    result = rmsport("check", "-q", ".", text=True)
    assert "info: skipped" not in result.stderr
    assert result.returncode == 1  # own.py would still be converted


def test_explicit_link_is_converted_through(layout: Path) -> None:
    result = rmsport("convert", "pkg/escape.py", text=True)
    assert result.returncode == 0, result.stderr
    assert "nn.RMSProp" in (layout / "elsewhere.py").read_text()
