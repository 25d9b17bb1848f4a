"""Find the files to process: walk directories, honour .gitignore and excludes.

Rules, in the spirit of black and ruff:

* Directories are walked for ``.py``, ``.pyi`` and ``.ipynb`` files.  Symlinked
  directories are not followed (git stores them as links, and following them can
  loop); symlinked files are followed only when they resolve inside the folder
  given on the command line: a link out of it (``x.py -> /etc/x.py``) would let a
  tree someone else prepared rewrite files elsewhere on the machine, so the walk
  leaves it out and appends it to the ``notes`` list passed in (black does the
  same).  A link named explicitly on the command line is honoured.
* ``.gitignore`` files are respected: the ones between the project root and a
  walked directory, and every nested one met on the way, each relative to its
  own folder; the deepest file with a matching pattern decides, as in git.
* ``exclude`` replaces :data:`DEFAULT_EXCLUDE`, ``extend_exclude`` adds to it.
  Both are **gitignore-style globs** (black uses regexes; we use globs because
  that is what users write, and the same syntax as ``.gitignore``): ``build/``
  matches a folder named build at any depth, ``/build/`` only at the project
  root, ``tests/fixtures/*.py`` is anchored (it contains a slash), ``!x`` negates.
  They are matched against the path relative to the project root
  (:func:`find_project_root`).
* Folders holding a ``pyvenv.cfg`` (virtual environments) or a ``conda-meta``
  folder (conda environments) are always skipped, even with ``exclude`` given:
  they are never the user's source.
* A path given explicitly as a file is always yielded, whatever its suffix,
  unless ``force_exclude`` is true and it matches an exclude pattern (pre-commit
  passes files explicitly and relies on that).  A directory given explicitly is
  walked even if it matches an exclude (with ``force_exclude`` it is skipped);
  inside it, the patterns are then matched relative to that directory.
* Files are yielded once each, in one deterministic order: sorted by path
  components (``a/b.py`` < ``a/c/d.py`` < ``a_b.py``).
* Unreadable directories and broken symlinks named like source files are not
  an error here: they are appended to the ``errors`` list passed in (as
  :class:`Skipped`), and the caller reports them (the CLI: RMS001, exit 123).
  A path that does not exist at all is the caller's problem (click checks).

``stdin`` (``-``) is the caller's business too: do not pass it here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a pattern is compiled: most runs never need it
    import pathspec

SOURCE_SUFFIXES = (".py", ".pyi", ".ipynb")

# Every default is a folder name matched at any depth.  ``env`` is deliberately
# absent: reinforcement-learning code often has an ``env/`` package, and a
# virtual environment called env is caught by its pyvenv.cfg anyway.
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".*/",  # hidden folders: .git, .venv, .tox, .mypy_cache, .ipynb_checkpoints, ...
    "venv/",
    "__pycache__/",
    "__pypackages__/",
    "build/",
    "_build/",
    "buck-out/",
    "dist/",
    "node_modules/",
    "site-packages/",
)
_DEFAULT_DIR_NAMES = frozenset(pattern.rstrip("/") for pattern in DEFAULT_EXCLUDE if pattern != ".*/")

_ROOT_MARKERS = (".git", ".hg")


@dataclass(frozen=True)
class Skipped:
    """A path that could not be examined; ``reason`` is a short human message."""

    path: Path
    reason: str


def find_project_root(paths: Iterable[Path]) -> Path:
    """The folder that anchors patterns: nearest ancestor of the paths' common
    folder holding ``.git``, ``.hg`` or ``pyproject.toml`` (black's rule); the
    common folder itself when there is none."""
    absolute = [os.path.abspath(p) for p in paths] or [os.getcwd()]
    common = Path(os.path.commonpath(absolute))
    if not common.is_dir():
        common = common.parent
    for directory in (common, *common.parents):
        if any((directory / marker).exists() for marker in _ROOT_MARKERS):
            return directory
        if (directory / "pyproject.toml").is_file():
            return directory
    return common


def _compile(patterns: Iterable[str]) -> pathspec.GitIgnoreSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


def _read_gitignore(path: Path, errors: list[Skipped] | None) -> pathspec.GitIgnoreSpec | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        if errors is not None:
            errors.append(Skipped(path, f"cannot read: {exc.strerror or exc}"))
        return None
    spec = _compile(lines)
    return spec if len(spec) else None


def _relative(path: str, base: str) -> str:
    """``path`` relative to ``base``; both are '/'-joined, '' is the root."""
    if not base:
        return path
    return path[len(base) + 1 :]


class _Matcher:
    """Decides whether a path relative to the root is excluded or ignored."""

    def __init__(self, exclude: list[str] | None, extend_exclude: list[str] | None) -> None:
        # The defaults are plain folder names: test them with a set lookup
        # instead of a regex per pattern (this is the hot path of a big walk).
        self.default_names = exclude is None
        user = list(exclude or []) + list(extend_exclude or [])
        self.spec = _compile(user) if user else None

    def excluded(self, rel: str, name: str, is_dir: bool) -> bool:
        if self.default_names and is_dir and (name.startswith(".") or name in _DEFAULT_DIR_NAMES):
            return True
        if self.spec is not None:
            return self.spec.match_file(rel + "/" if is_dir else rel)
        return False


def _ignored(rel: str, is_dir: bool, gitignores: list[tuple[str, pathspec.GitIgnoreSpec]]) -> bool:
    """git's rule: the deepest .gitignore with a matching pattern decides."""
    for base, spec in reversed(gitignores):
        result = spec.check_file(_relative(rel, base) + ("/" if is_dir else ""))
        if result.include is not None:
            return result.include
    return False


def _ancestor_gitignores(
    root: Path, directory: Path, errors: list[Skipped] | None
) -> list[tuple[str, pathspec.GitIgnoreSpec]]:
    """The .gitignore files from the root down to the parent of ``directory``,
    each with its folder relative to the root (the walk reads ``directory``'s own)."""
    found = []
    try:
        parts = directory.relative_to(root).parts
    except ValueError:
        parts = ()
        root = directory
    current = root
    for depth in range(len(parts)):
        if depth:
            current = current / parts[depth - 1]
        candidate = current / ".gitignore"
        if candidate.is_file():
            spec = _read_gitignore(candidate, errors)
            if spec is not None:
                found.append(("/".join(parts[:depth]), spec))
    return found


def iter_source_paths(
    paths: list[Path],
    *,
    exclude: list[str] | None = None,
    extend_exclude: list[str] | None = None,
    force_exclude: bool = False,
    respect_gitignore: bool = True,
    root: Path | None = None,
    errors: list[Skipped] | None = None,
    notes: list[Skipped] | None = None,
) -> Iterator[str]:
    """Yield the source files under ``paths`` (see the module docstring).

    ``root`` anchors the patterns (default: :func:`find_project_root`).  Paths
    are yielded as the user spelled them (``src`` -> ``src/pkg/a.py``), each once.
    ``notes`` receives what the walk leaves out on purpose and the user should
    hear about (symlinks leading out of the folder given).
    """
    if root is None:
        root = find_project_root(paths)
    root = Path(os.path.abspath(root))
    matcher = _Matcher(exclude, extend_exclude)
    found: dict[str, str] = {}  # absolute path -> path as spelled

    for given in paths:
        absolute = Path(os.path.abspath(given))
        rel = _root_relative(absolute, root)
        if absolute.is_dir():
            walk_root, walk_rel = root, rel
            if rel is None:
                walk_root, walk_rel = absolute, ""
            elif rel and (
                matcher.excluded(rel, absolute.name, True)
                or (respect_gitignore and _ignored(rel, True, _ancestor_gitignores(root, absolute, None)))
            ):
                if force_exclude:
                    continue
                # Given explicitly although excluded: walk it, matching the
                # patterns relative to the directory itself.
                walk_root, walk_rel = absolute, ""
            gitignores = _ancestor_gitignores(walk_root, absolute, errors) if respect_gitignore else []
            prefix = os.path.join(str(absolute), "")
            spelled = "" if os.path.normpath(given) == "." else os.path.join(str(given), "")
            links = _LinkGuard(str(absolute), prefix, spelled, notes)
            for child in _walk(str(absolute), walk_rel, matcher, gitignores, respect_gitignore, errors, links):
                if child not in found:
                    # strings, not Paths: building 2,000 Path objects costs more than the walk
                    found[child] = spelled + child[len(prefix) :]
        elif absolute.exists() or absolute.is_symlink():
            if force_exclude and rel and _file_excluded(rel, root, absolute, matcher, respect_gitignore):
                continue
            found.setdefault(str(absolute), str(given))
        elif errors is not None:
            errors.append(Skipped(given, "no such file or directory"))

    for key in sorted(found, key=_sort_key):
        yield found[key]


def iter_source_files(paths: list[Path], **options) -> Iterator[Path]:
    """:func:`iter_source_paths` as ``Path`` objects (same options)."""
    for path in iter_source_paths(paths, **options):
        yield Path(path)


def _file_excluded(rel: str, root: Path, absolute: Path, matcher: _Matcher, respect_gitignore: bool) -> bool:
    """Would a walk from the root skip this file (or one of its folders)?"""
    parts = rel.split("/")
    gitignores = _ancestor_gitignores(root, absolute, None) if respect_gitignore else []
    for depth in range(1, len(parts) + 1):
        path = "/".join(parts[:depth])
        is_dir = depth < len(parts)
        if matcher.excluded(path, parts[depth - 1], is_dir):
            return True
        applicable = [(base, spec) for base, spec in gitignores if not base or path.startswith(base + "/")]
        if applicable and _ignored(path, is_dir, applicable):
            return True
    return False


def _root_relative(absolute: Path, root: Path) -> str | None:
    try:
        rel = absolute.relative_to(root)
    except ValueError:
        return None
    return rel.as_posix() if rel.parts else ""


def _sort_key(path: str) -> list[str]:
    return path.split(os.sep)


class _LinkGuard:
    """Keeps a walk inside the folder it started from: a symlinked file is
    followed only if its target lies below that folder (resolved, so a link to
    a link is judged by where it finally lands)."""

    def __init__(self, top: str, prefix: str, spelled: str, notes: list[Skipped] | None) -> None:
        self.top = os.path.join(os.path.realpath(top), "")
        self.prefix, self.spelled, self.notes = prefix, spelled, notes

    def allows(self, path: str) -> bool:
        target = os.path.realpath(path)
        if target.startswith(self.top):
            return True
        if self.notes is not None:
            shown = self.spelled + path[len(self.prefix) :] if path.startswith(self.prefix) else path
            self.notes.append(Skipped(Path(shown), f"symbolic link to {target}, outside the folder walked"))
        return False


def _walk(
    directory: str,
    rel: str,
    matcher: _Matcher,
    gitignores: list[tuple[str, pathspec.GitIgnoreSpec]],
    respect_gitignore: bool,
    errors: list[Skipped] | None,
    links: _LinkGuard | None = None,
) -> Iterator[str]:
    """Depth-first walk yielding absolute file paths; ``rel`` is ``directory``
    relative to the pattern root ('' for the root itself)."""
    try:
        with os.scandir(directory) as iterator:
            entries = list(iterator)
    except OSError as exc:
        if errors is not None:
            errors.append(Skipped(Path(directory), f"cannot list directory: {exc.strerror or exc}"))
        return
    names = {entry.name for entry in entries}
    if "pyvenv.cfg" in names or "conda-meta" in names:
        return  # a virtual or conda environment, not the user's source
    if respect_gitignore and ".gitignore" in names:
        spec = _read_gitignore(Path(directory, ".gitignore"), errors)
        if spec is not None:
            gitignores = [*gitignores, (rel, spec)]

    for entry in entries:
        name = entry.name
        child_rel = f"{rel}/{name}" if rel else name
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            if matcher.excluded(child_rel, name, True):
                continue
            if gitignores and _ignored(child_rel, True, gitignores):
                continue
            yield from _walk(entry.path, child_rel, matcher, gitignores, respect_gitignore, errors, links)
            continue
        if not name.endswith(SOURCE_SUFFIXES):
            continue
        if matcher.excluded(child_rel, name, False):
            continue
        if gitignores and _ignored(child_rel, False, gitignores):
            continue
        try:
            is_file = entry.is_file()  # follows a symlink; no stat for plain files
        except OSError:
            is_file = False
        if is_file:
            # is_symlink() is answered from the directory entry: no extra stat
            if links is not None and entry.is_symlink() and not links.allows(entry.path):
                continue
            yield entry.path
        elif entry.is_symlink():
            if not os.path.exists(entry.path) and errors is not None:
                errors.append(Skipped(Path(entry.path), "broken symbolic link"))
        # a folder named like a source file (x.py/) is walked only if it is a
        # real folder, which the is_dir branch above already did.
