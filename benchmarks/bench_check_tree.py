"""Is a whole-tree ``rmsport check`` close to the cost of just reading the files?

    python benchmarks/bench_check_tree.py [--lines 40000 650000] [--runs 7] [--jobs N]

For each size, generates a real-shaped tree (``corpus.py``: ~145-pattern root
.gitignore, nested .gitignore files, ignored run/checkpoint folders full of
code snapshots, 3.5% of modules mentioning RMSprop, notebooks), then times,
alternately, in fresh processes:

* **plain read**: ``python`` reading every file that ``check`` examines (the
  list is handed over, so it does not even walk or match patterns), bytes
  decoded as UTF-8: the floor;
* **rmsport check -q --no-cache TREE**: the first run on a tree (the
  installed CLI, start-up included; every file that names RMSprop is parsed);
* **rmsport check -q TREE** with the result cache filled by the untimed first
  round: every later run on an unchanged tree (CI re-runs, pre-commit, editors).

Goals (issue 11): check <= 3x the plain read at 40k lines, <= 2x at 650k.
Both runs are judged; exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from corpus import make_tree
from timing import RMSPORT, alternate, describe, installed_rmsport, machine, run, verdict

GOALS = {40_000: 3.0, 650_000: 2.0}
PLAIN = "plain read of the same files (fresh python)"

READ_LISTED = """
import sys
lines = 0
with open(sys.argv[1], encoding="utf-8") as listing:
    for path in listing.read().splitlines():
        with open(path, "rb") as handle:
            lines += handle.read().decode("utf-8").count("\\n")
"""


def checked_files(tree: Path) -> list[str]:
    """The files ``check`` examines: what the installed rmsport's walk yields."""
    from rmsport.files.discovery import iter_source_paths

    return [str(Path(p).resolve()) for p in iter_source_paths([tree])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=sorted(GOALS))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--jobs", type=int, help="passed to rmsport as --jobs (default: rmsport's default)")
    args = parser.parse_args(argv)
    print(f"rmsport: {installed_rmsport()}")
    print(f"machine: {machine()}")
    met = True
    with tempfile.TemporaryDirectory(prefix="rmsport-bench-") as work:
        for lines in args.lines:
            tree = Path(work) / f"tree-{lines}"
            stats = make_tree(tree, lines=lines)
            files = checked_files(tree)
            listing = Path(work) / f"files-{lines}.txt"
            listing.write_text("\n".join(files) + "\n")
            jobs = ["--jobs", str(args.jobs)] if args.jobs else []
            print(f"\ntree of {stats['lines']:,} lines: {len(files)} files checked "
                  f"({stats['rmsprop']} mention RMSprop, {stats['notebooks']} notebooks), "
                  f"{stats['ignored_files']} .py files in ignored run folders")
            read, cold, warm = PLAIN, "rmsport check -q --no-cache TREE", "rmsport check -q TREE (cache filled)"
            times = alternate(
                {
                    read: lambda: run([sys.executable, "-c", READ_LISTED, str(listing)]),
                    cold: lambda: run([*RMSPORT, "check", "-q", "--no-cache", *jobs, str(tree)]),
                    warm: lambda: run([*RMSPORT, "check", "-q", *jobs, str(tree)]),
                },
                runs=args.runs,
            )
            for name in times.wall:
                print(describe(name, times))
            goal = GOALS.get(lines, 3.0)
            met &= verdict(f"first run / plain read at {lines:,} lines", times, cold, read, goal)
            met &= verdict(f"cache filled / plain read at {lines:,} lines", times, warm, read, goal)
            shutil.rmtree(tree)
    print("goals met" if met else "goal missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
