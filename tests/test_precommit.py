"""The project's own .pre-commit-hooks.yaml, run by the real pre-commit.

``pre-commit try-repo`` installs the hook from this checkout (uncommitted
changes included) into a throwaway environment, as a user's pre-commit would.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

# Subprocess-heavy: deselect with -m 'not slow' in the fast loop; CI runs everything.
pytestmark = pytest.mark.slow

SRC = "import torch\n\nmodel = torch.nn.Linear(2, 3)\nopt = torch.optim.RMSprop(model.parameters(), lr=0.01)\n"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", *args],
        cwd=cwd, check=True, capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is needed for the pre-commit test")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "train.py").write_text(SRC)
    (repo / "README.md").write_text("RMSprop is mentioned here, but this is not Python.\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "init")
    return repo


def _try_repo(repo: Path, hook: str, home: Path) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--all-files"],
        cwd=repo, capture_output=True, text=True, env=env, timeout=600,
    )


def test_convert_hook_fails_then_passes(repo: Path, tmp_path: Path):
    first = _try_repo(repo, "rmsport-convert", tmp_path / "pc-home")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    converted = (repo / "train.py").read_text()
    assert "nn.RMSProp(params=model.trainable_params(), learning_rate=0.01" in converted
    # no progress bar or colour escapes under pre-commit
    assert "\x1b[" not in first.stdout
    second = _try_repo(repo, "rmsport-convert", tmp_path / "pc-home")
    assert second.returncode == 0, second.stdout + second.stderr
    assert (repo / "train.py").read_text() == converted


def test_check_hook_fails_and_never_writes(repo: Path, tmp_path: Path):
    result = _try_repo(repo, "rmsport-check", tmp_path / "pc-home")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (repo / "train.py").read_text() == SRC
