""".gitignore semantics, compared with git itself (``git ls-files --others --exclude-standard``).

The walk compiles each .gitignore into two regular expressions of its own
(``rmsport/files/gitignore.py``); git is the reference for what they must mean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmsport.files.discovery import iter_source_files
from rmsport.files.gitignore import compile_patterns

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is the reference")


def git_listed(root: Path) -> list[str]:
    """The untracked .py files git does not ignore, as sorted POSIX paths."""
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(root),
        "XDG_CONFIG_HOME": str(root / ".xdg"),
    }
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "--others", "--exclude-standard", "-z"],
        check=True,
        capture_output=True,
        env=env,
    ).stdout.decode()
    return sorted(p for p in out.split("\0") if p.endswith(".py"))


def rmsport_listed(root: Path) -> list[str]:
    found = iter_source_files([root], exclude=[], extend_exclude=None, root=root)
    return sorted(p.relative_to(root).as_posix() for p in found)


def make_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())


# Hand-written cases: each one a rule of gitignore(5) that a matcher can get wrong.
CASES = {
    "nested-negation": {
        ".gitignore": "*.py\n!keep*.py\nruns/\n",
        "keep_me.py": "",
        "drop.py": "",
        "pkg/.gitignore": "!*.py\nsecret.py\n",
        "pkg/a.py": "",
        "pkg/secret.py": "",
        "pkg/sub/b.py": "",
        "pkg/sub/.gitignore": "b.py\n!secret.py\n",
        "pkg/sub/secret.py": "",
        "runs/r.py": "",
        "pkg/runs/keep.py": "",
    },
    "reinclude-inside-ignored-folder-fails": {
        ".gitignore": "logs/\n!logs/keep.py\n",
        "logs/keep.py": "",
        "logs/x.py": "",
        "src/logs.py": "",
    },
    "anchored-and-floating": {
        ".gitignore": "/top.py\nmid/deep.py\nname.py\n",
        "top.py": "",
        "a/top.py": "",
        "mid/deep.py": "",
        "a/mid/deep.py": "",
        "a/b/name.py": "",
    },
    "double-star": {
        ".gitignore": "**/gen/*.py\nckpt/**\na/**/z.py\n**/tmp\n",
        "gen/x.py": "",
        "p/q/gen/x.py": "",
        "p/gen/sub/x.py": "",
        "ckpt/x.py": "",
        "ckpt/d/y.py": "",
        "a/z.py": "",
        "a/b/c/z.py": "",
        "x/tmp/t.py": "",
        "tmp.py": "",
    },
    "brackets-and-wildcards": {
        ".gitignore": "run[0-9]/\n[!m]*_test.py\nexp?.py\n[[:upper:]]*.py\n",
        "run1/a.py": "",
        "runx/a.py": "",
        "a_test.py": "",
        "m_test.py": "",
        "exp1.py": "",
        "exp10.py": "",
        "Upper.py": "",
    },
    "escapes-spaces-comments-crlf": {
        ".gitignore": "# comment.py\n\\#hash.py\nspace.py   \nkeep\\ .py\n\\!bang.py\r\nstar\\*.py\n",
        "# comment.py": "",
        "#hash.py": "",
        "space.py": "",
        "keep .py": "",
        "!bang.py": "",
        "star*.py": "",
        "starx.py": "",
    },
    "folder-only-and-files": {
        ".gitignore": "data/\nmodels\n",
        "data/a.py": "",
        "x/data/b.py": "",
        "data.py": "",
        "models/m.py": "",
        "y/models": "",
        "y/models.py": "",
    },
    "unterminated-bracket-and-trailing-backslash": {
        ".gitignore": "[abc.py\nbad\\\nok.py\n",
        "[abc.py": "",
        "ok.py": "",
        "other.py": "",
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_git(tmp_path: Path, name: str) -> None:
    make_tree(tmp_path, CASES[name])
    assert rmsport_listed(tmp_path) == git_listed(tmp_path)


def test_identical_files_compile_once() -> None:
    lines = ["*.pt", "checkpoints/", "!keep.pt"]
    assert compile_patterns(list(lines)) is compile_patterns(list(lines))


# Random trees and patterns: names a walk would exclude anyway (hidden, build, ...) are avoided.
NAMES = ["a", "b", "run1", "run2", "ckpt", "x.py", "y.py", "a.py", "run1.py", "test_a.py"]
PIECES = ["a", "b", "run1", "ckpt", "*", "?", "run?", "*.py", "x*", "[ab]", "[!a]*", "**", "a.py", "[0-9]", "t*_a.py"]


@st.composite
def patterns(draw) -> str:
    segments = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=3))
    text = "/".join(segments)
    if draw(st.booleans()):
        text = "/" + text
    if draw(st.integers(0, 3)) == 0:
        text += "/"
    if draw(st.integers(0, 3)) == 0:
        text = "!" + text
    return text


@st.composite
def trees(draw) -> dict[str, str]:
    files: dict[str, str] = {}
    for _ in range(draw(st.integers(1, 12))):
        depth = draw(st.integers(0, 3))
        folders = [draw(st.sampled_from([n for n in NAMES if not n.endswith(".py")])) for _ in range(depth)]
        leaf = draw(st.sampled_from([n for n in NAMES if n.endswith(".py")]))
        files["/".join([*folders, leaf])] = ""
    folders = sorted({os.path.dirname(f) for f in files})
    for folder in draw(st.lists(st.sampled_from(folders), max_size=3, unique=True)):
        lines = draw(st.lists(patterns(), min_size=1, max_size=6))
        files[os.path.join(folder, ".gitignore")] = "\n".join(lines) + "\n"
    return files


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=trees())
def test_random_patterns_match_git(tmp_path_factory: pytest.TempPathFactory, files: dict[str, str]) -> None:
    root = tmp_path_factory.mktemp("tree")
    make_tree(root, files)
    assert rmsport_listed(root) == git_listed(root), files
