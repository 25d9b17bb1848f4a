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
    assert "nn.RMSProp(\n    params=model.trainable_params(),\n    learning_rate=0.01," in converted
    # no progress bar or colour escapes under pre-commit
    assert "\x1b[" not in first.stdout
    second = _try_repo(repo, "rmsport-convert", tmp_path / "pc-home")
    assert second.returncode == 0, second.stdout + second.stderr
    assert (repo / "train.py").read_text() == converted


def test_check_hook_fails_and_never_writes(repo: Path, tmp_path: Path):
    result = _try_repo(repo, "rmsport-check", tmp_path / "pc-home")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (repo / "train.py").read_text() == SRC


# --- the README's snippet, as pasted ------------------------------------------------------


def readme_snippet() -> str:
    """The first ```yaml block of README's "## pre-commit" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## pre-commit\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def _publish_checkout(dest: Path, tag: str) -> None:
    """A throwaway git repository holding this checkout's files (uncommitted
    edits included, as ``try-repo`` would), tagged like a release."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    dest.mkdir()
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "release")
    _git(dest, "tag", tag)


@pytest.mark.slow
def test_readme_snippet_runs_with_real_pre_commit(repo: Path, tmp_path: Path):
    """Paste the README's snippet into a project: pre-commit accepts it, installs
    the hook at the given rev, and the hook converts, then passes."""
    import os
    import re

    from rmsport import __version__

    snippet = readme_snippet()
    assert snippet.startswith("repos:\n"), snippet
    rev = re.search(r"^\s*rev:\s*(\S+)", snippet, re.M).group(1)
    assert rev == f"v{__version__}", "the README's rev must be the tag of this version"
    url = re.search(r"^\s*-\s*repo:\s*(\S+)", snippet, re.M).group(1)
    published = tmp_path / "rmsport-release"
    _publish_checkout(published, rev)
    # The only edit to the pasted text: where the repository lives.
    (repo / ".pre-commit-config.yaml").write_text(snippet.replace(url, str(published)))
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pc-home")}

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--all-files"],
            cwd=repo, capture_output=True, text=True, env=env, timeout=600,
        )

    first = run()
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    # past 88 characters on one line: broken one argument per line (issue 14)
    assert "nn.RMSProp(\n    params=model.trainable_params(),\n    learning_rate=0.01," in (repo / "train.py").read_text()
    second = run()
    assert second.returncode == 0, second.stdout + second.stderr
