"""File discovery: suffixes, .gitignore, excludes, explicit files, odd entries."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from rmsport.files.discovery import DEFAULT_EXCLUDE, Skipped, find_project_root, iter_source_files


def make_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def listed(root: Path, paths: list[str] | None = None, **kwargs) -> list[str]:
    """Discovered files as POSIX paths relative to ``root`` (cwd is ``root``)."""
    kwargs.setdefault("exclude", None)
    kwargs.setdefault("extend_exclude", None)
    kwargs.setdefault("force_exclude", False)
    found = iter_source_files([Path(p) for p in (paths or ["."])], **kwargs)
    return [p.as_posix() for p in found]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_suffixes_and_sorted_order(project: Path) -> None:
    make_tree(
        project,
        {
            "b.py": "",
            "a_b.py": "",
            "a/z.py": "",
            "a/c/d.pyi": "",
            "a/nb.ipynb": "{}",
            "a/readme.md": "",
            "a/data.pyc": "",
            "setup.cfg": "",
        },
    )
    assert listed(project) == ["a/c/d.pyi", "a/nb.ipynb", "a/z.py", "a_b.py", "b.py"]


@pytest.mark.parametrize(
    "folder",
    [
        pytest.param(".git", id="git"),
        pytest.param(".venv", id="dot-venv"),
        pytest.param(".tox", id="tox"),
        pytest.param(".ipynb_checkpoints", id="checkpoints"),
        pytest.param("venv", id="venv"),
        pytest.param("__pycache__", id="pycache"),
        pytest.param("build", id="build"),
        pytest.param("dist", id="dist"),
        pytest.param("node_modules", id="node-modules"),
        pytest.param("lib/python3.11/site-packages", id="site-packages"),
        pytest.param("pkg/build", id="nested-build"),
    ],
)
def test_default_excludes(project: Path, folder: str) -> None:
    make_tree(project, {"keep.py": "", f"{folder}/skip.py": ""})
    assert listed(project) == ["keep.py"]


def test_env_folder_is_not_excluded_by_name(project: Path) -> None:
    # RL code has env/ packages; a virtualenv named env is caught by pyvenv.cfg.
    make_tree(project, {"env/cartpole.py": "", "myenv/pyvenv.cfg": "", "myenv/lib/x.py": ""})
    assert listed(project) == ["env/cartpole.py"]


def test_conda_environment_is_skipped(project: Path) -> None:
    make_tree(project, {"conda/conda-meta/history": "", "conda/lib/x.py": "", "a.py": ""})
    assert listed(project) == ["a.py"]


def test_virtualenv_skipped_even_with_exclude_replaced(project: Path) -> None:
    make_tree(project, {"tools/pyvenv.cfg": "", "tools/x.py": "", "build/y.py": ""})
    assert listed(project, exclude=["nothing/"]) == ["build/y.py"]


@pytest.mark.parametrize(
    ("exclude", "extend", "expected"),
    [
        pytest.param(None, None, ["src/a.py", "src/gen/g.py", "tests/fixtures/f.py", "tests/t.py"], id="defaults"),
        pytest.param(None, ["gen/"], ["src/a.py", "tests/fixtures/f.py", "tests/t.py"], id="extend-folder-any-depth"),
        pytest.param(None, ["tests/fixtures/"], ["src/a.py", "src/gen/g.py", "tests/t.py"], id="extend-anchored"),
        pytest.param(None, ["*.py", "!a.py"], ["src/a.py"], id="negation"),
        pytest.param(
            None, ["/gen/"], ["src/a.py", "src/gen/g.py", "tests/fixtures/f.py", "tests/t.py"], id="root-anchor"
        ),
        pytest.param(
            ["fixtures/"],
            None,
            ["build/b.py", "src/a.py", "src/gen/g.py", "tests/t.py"],
            id="exclude-replaces-defaults",
        ),
        pytest.param(["fixtures/"], ["src/"], ["build/b.py", "tests/t.py"], id="exclude-and-extend"),
    ],
)
def test_exclude_globs(project: Path, exclude, extend, expected) -> None:
    make_tree(
        project,
        {"src/a.py": "", "src/gen/g.py": "", "tests/t.py": "", "tests/fixtures/f.py": "", "build/b.py": ""},
    )
    assert listed(project, exclude=exclude, extend_exclude=extend) == expected


def test_gitignore_root_and_nested(project: Path) -> None:
    make_tree(
        project,
        {
            ".gitignore": "generated/\n*_pb2.py\n/top.py\n",
            "top.py": "",
            "a/top.py": "",
            "a/m_pb2.py": "",
            "generated/x.py": "",
            "a/.gitignore": "local.py\n/only_here.py\n!keep_pb2.py\n",
            "a/local.py": "",
            "a/only_here.py": "",
            "a/keep_pb2.py": "",
            "a/b/only_here.py": "",
            "a/b/local.py": "",
            "c/local.py": "",
        },
    )
    assert listed(project) == ["a/b/only_here.py", "a/keep_pb2.py", "a/top.py", "c/local.py"]
    assert listed(project, respect_gitignore=False) == [
        "a/b/local.py",
        "a/b/only_here.py",
        "a/keep_pb2.py",
        "a/local.py",
        "a/m_pb2.py",
        "a/only_here.py",
        "a/top.py",
        "c/local.py",
        "generated/x.py",
        "top.py",
    ]


def test_gitignore_above_the_walked_folder_applies(project: Path) -> None:
    make_tree(project, {".gitignore": "secret/\n", "src/secret/x.py": "", "src/ok.py": ""})
    assert listed(project, ["src"]) == ["src/ok.py"]


def test_explicit_files_always_processed(project: Path) -> None:
    make_tree(project, {"build/gen.py": "", "script": "", ".gitignore": "ignored.py\n", "ignored.py": ""})
    assert listed(project, ["build/gen.py", "script", "ignored.py"]) == ["build/gen.py", "ignored.py", "script"]


@pytest.mark.parametrize(
    ("path", "extend", "kept"),
    [
        pytest.param("build/gen.py", None, False, id="default-excluded-folder"),
        pytest.param("pkg/.hidden/x.py", None, False, id="hidden-folder"),
        pytest.param("ignored.py", None, False, id="gitignored"),
        pytest.param("src/mod.py", ["src/mod.py"], False, id="extend-exclude"),
        pytest.param("src/mod.py", None, True, id="not-excluded"),
    ],
)
def test_force_exclude_applies_to_explicit_files(project: Path, path: str, extend, kept: bool) -> None:
    make_tree(project, {path: "", ".gitignore": "ignored.py\n"})
    expected = [path] if kept else []
    assert listed(project, [path], extend_exclude=extend, force_exclude=True) == expected


def test_explicit_excluded_directory(project: Path) -> None:
    make_tree(project, {"build/a.py": "", "build/__pycache__/c.py": "", "build/sub/b.py": ""})
    assert listed(project, ["build"]) == ["build/a.py", "build/sub/b.py"]
    assert listed(project, ["build"], force_exclude=True) == []


def test_duplicates_yielded_once(project: Path) -> None:
    make_tree(project, {"a/x.py": "", "a/y.py": ""})
    assert listed(project, ["a", "a/x.py", "./a"]) == ["a/x.py", "a/y.py"]


def test_paths_keep_the_spelling_given(project: Path) -> None:
    make_tree(project, {"pkg/m.py": ""})
    absolute = [
        str(p) for p in iter_source_files([project / "pkg"], exclude=None, extend_exclude=None, force_exclude=False)
    ]
    assert absolute == [str(project / "pkg" / "m.py")]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_symlinks(project: Path) -> None:
    make_tree(project, {"real/a.py": ""})
    os.symlink(project / "real" / "a.py", project / "link.py")
    os.symlink(project / "missing.py", project / "broken.py")
    os.symlink(project / "missing.txt", project / "broken.txt")
    os.symlink(project / "real", project / "linkdir")  # not followed
    os.symlink(project, project / "real" / "loop")  # would loop if followed
    errors: list[Skipped] = []
    assert listed(project, errors=errors) == ["link.py", "real/a.py"]
    assert errors == [Skipped(Path("./broken.py").absolute().resolve().parent / "broken.py", "broken symbolic link")]


def test_unreadable_directory_is_reported(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 does not stop root (CI runs as root), so simulate the OSError.
    make_tree(project, {"ok.py": "", "locked/x.py": ""})
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    errors: list[Skipped] = []
    assert listed(project, errors=errors) == ["ok.py"]
    assert errors == [Skipped(project / "locked", "cannot list directory: Permission denied")]


def test_missing_path_recorded(project: Path) -> None:
    errors: list[Skipped] = []
    assert listed(project, ["nope.py"], errors=errors) == []
    assert errors == [Skipped(Path("nope.py"), "no such file or directory")]


@pytest.mark.parametrize(
    ("markers", "start", "expected"),
    [
        pytest.param([".git"], "a/b", ".", id="git"),
        pytest.param([".hg"], "a/b", ".", id="hg"),
        pytest.param(["a/pyproject.toml"], "a/b", "a", id="pyproject"),
        pytest.param([".git", "a/b/.git"], "a/b", "a/b", id="nearest"),
    ],
)
def test_find_project_root(tmp_path: Path, markers: list[str], start: str, expected: str) -> None:
    for marker in markers:
        target = tmp_path / marker
        target.parent.mkdir(parents=True, exist_ok=True)
        if marker.endswith(".toml"):
            target.write_text("")
        else:
            target.mkdir()
    (tmp_path / start).mkdir(parents=True, exist_ok=True)
    (tmp_path / start / "x.py").write_text("")
    assert find_project_root([tmp_path / start / "x.py"]) == (tmp_path / expected).resolve()


def test_default_exclude_documented_as_globs() -> None:
    assert all(pattern.endswith("/") for pattern in DEFAULT_EXCLUDE)
    assert ".*/" in DEFAULT_EXCLUDE


def test_big_tree_is_fast(project: Path) -> None:
    # 2,000 files in 100 folders, plus noise that must be pruned.
    for package in range(20):
        for module in range(5):
            folder = project / f"pkg{package}" / f"mod{module}"
            folder.mkdir(parents=True)
            for index in range(20):
                (folder / f"file{index}.py").write_text("")
            (folder / "data.json").write_text("")
    for noise in range(200):
        (project / ".venv" / "lib" / f"p{noise}").mkdir(parents=True)
    (project / ".gitignore").write_text("*.log\n/build/\n")
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        files = list(iter_source_files([Path(".")], exclude=None, extend_exclude=None, force_exclude=False))
        best = min(best, time.perf_counter() - start)
    assert len(files) == 2000
    assert best < 0.1, f"listing 2,000 files took {best:.3f} s"
