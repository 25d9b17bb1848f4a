"""How much do .gitignore files cost a walk, and what would pathspec cost instead?

    python benchmarks/bench_gitignore.py [--lines 40000 650000] [--runs 7]

In one process, on real-shaped trees (``corpus.py``: ~145-pattern root
.gitignore, nested ones, ignored run folders), alternately:

* ``os.walk`` listing the source files (hidden folders pruned, no patterns):
  the floor;
* rmsport's walk (``iter_source_paths``) with its own matcher
  (``rmsport/files/gitignore.py``), with a cold pattern cache each time;
* pathspec (if installed), as rmsport used it before: import, compile each
  .gitignore with ``GitIgnoreSpec``, match every entry the walk meets.

Prints min/median/max and ratios; no goal of its own (the whole-tree goal is
``bench_check_tree.py``'s).  The pathspec import is timed once, in a fresh
process, since an import happens only once per process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from corpus import make_tree
from timing import alternate, describe, installed_rmsport, machine, ratio

SUFFIXES = (".py", ".pyi", ".ipynb")


def plain_walk(root: Path) -> int:
    count = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        count += sum(name.endswith(SUFFIXES) for name in names)
    return count


def rmsport_walk(root: Path) -> int:
    from rmsport.files import gitignore
    from rmsport.files.discovery import iter_source_paths

    gitignore._CACHE.clear()  # every run compiles, as a fresh process would
    return sum(1 for _ in iter_source_paths([root]))


def pathspec_walk(root: Path) -> int:
    """The walk as it was with pathspec: one GitIgnoreSpec per .gitignore, deepest decides."""
    import pathspec

    def walk(folder: str, rel: str, specs: list) -> int:
        count = 0
        entries = list(os.scandir(folder))
        if any(e.name == ".gitignore" for e in entries):
            with open(os.path.join(folder, ".gitignore"), encoding="utf-8") as handle:
                specs = [*specs, (rel, pathspec.GitIgnoreSpec.from_lines(handle.read().splitlines()))]
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if is_dir and (entry.name.startswith(".") or entry.name == "__pycache__"):
                continue
            if not is_dir and not entry.name.endswith(SUFFIXES):
                continue
            ignored = False
            for base, spec in reversed(specs):
                result = spec.check_file((child[len(base) + 1 :] if base else child) + ("/" if is_dir else ""))
                if result.include is not None:
                    ignored = result.include
                    break
            if ignored:
                continue
            count += walk(entry.path, child, specs) if is_dir else 1
        return count

    return walk(str(root), "", [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[40_000, 650_000])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"rmsport: {installed_rmsport()}")
    print(f"machine: {machine()}")
    try:
        import pathspec  # noqa: F401

        have_pathspec = True
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import pathspec"], capture_output=True, text=True
        ).stderr.strip().splitlines()
        print(f"pathspec import (fresh process): {int(out[-1].split('|')[1]) / 1000:.1f} ms")
    except ImportError:
        have_pathspec = False
        print("pathspec is not installed: only rmsport's matcher is timed")
    with tempfile.TemporaryDirectory(prefix="rmsport-bench-") as work:
        for lines in args.lines:
            tree = Path(work) / f"tree-{lines}"
            stats = make_tree(tree, lines=lines)
            contenders = {"os.walk, no patterns": lambda: plain_walk(tree), "rmsport walk": lambda: rmsport_walk(tree)}
            if have_pathspec:
                contenders["walk with pathspec"] = lambda: pathspec_walk(tree)
                if pathspec_walk(tree) != rmsport_walk(tree):
                    raise SystemExit("pathspec and rmsport disagree on this tree")
            print(f"\ntree of {stats['lines']:,} lines, {rmsport_walk(tree)} source files kept")
            times = alternate(contenders, runs=args.runs)
            for name in times.wall:
                print(describe(name, times))
            print(f"  rmsport walk / os.walk: {ratio(times, 'rmsport walk', 'os.walk, no patterns')[0]:.2f}x")
            if have_pathspec:
                print(f"  pathspec walk / rmsport walk: {ratio(times, 'walk with pathspec', 'rmsport walk')[0]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
