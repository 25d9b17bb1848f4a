"""Does the default ``--jobs`` ever lose to ``-j1``?

    python benchmarks/bench_jobs.py [--runs 7]

rmsport starts worker processes only when the work left, timed on the files
already done, is estimated to pay for them (``runner._POOL_PAYS_AFTER``).  This
times, alternately, ``rmsport ... -q`` with the default ``--jobs`` against
``-j1`` at every size of the other benchmarks:

* ``check`` of real-shaped trees of 40k, 160k and 650k lines (``corpus.py``);
* ``convert`` of 2, 8, 32 and 128 call-dense files (``corpus.py --call-dense``),
  each run on a fresh copy (copying is not timed).

Goal (issue 11): the default is never slower than ``-j1`` by more than 5%.
Exit status 1 when missed at some size.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from corpus import make_call_dense, make_tree
from timing import RMSPORT, alternate, describe, installed_rmsport, machine, run, verdict

GOAL = 1.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tree-lines", type=int, nargs="+", default=[40_000, 160_000, 650_000])
    parser.add_argument("--dense-files", type=int, nargs="+", default=[2, 8, 32, 128])
    args = parser.parse_args(argv)
    print(f"rmsport: {installed_rmsport()}")
    print(f"machine: {machine()}")
    met = True
    with tempfile.TemporaryDirectory(prefix="rmsport-bench-") as work:
        for lines in args.tree_lines:
            tree = Path(work) / f"tree-{lines}"
            stats = make_tree(tree, lines=lines)
            print(f"\ncheck, tree of {stats['lines']:,} lines ({stats['rmsprop']} files mention RMSprop)")
            times = alternate(
                {
                    # --no-cache: every run parses, or there would be nothing to split
                    "check -q (default --jobs)": lambda: run([*RMSPORT, "check", "-q", "--no-cache", str(tree)]),
                    "check -q -j1": lambda: run([*RMSPORT, "check", "-q", "--no-cache", "-j1", str(tree)]),
                },
                runs=args.runs,
            )
            for name in times.wall:
                print(describe(name, times))
            met &= verdict(f"default / -j1, check {lines:,} lines", times,
                           "check -q (default --jobs)", "check -q -j1", GOAL)
            shutil.rmtree(tree)
        for files in args.dense_files:
            source, target = Path(work) / f"dense-{files}", Path(work) / "target"
            calls = make_call_dense(source, files=files)
            print(f"\nconvert, {files} call-dense files ({calls} calls)")

            def fresh_copy() -> None:
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(source, target)

            times = alternate(
                {
                    "convert -q (default --jobs)": lambda: run([*RMSPORT, "convert", "-q", str(target)]),
                    "convert -q -j1": lambda: run([*RMSPORT, "convert", "-q", "-j1", str(target)]),
                },
                runs=args.runs,
                setup=fresh_copy,
            )
            for name in times.wall:
                print(describe(name, times))
            met &= verdict(f"default / -j1, convert {files} files", times,
                           "convert -q (default --jobs)", "convert -q -j1", GOAL)
    print("goals met" if met else "goal missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
