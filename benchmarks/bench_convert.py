"""Is converting call-dense files cheaper than just parsing and printing them with libcst?

    python benchmarks/bench_convert.py [--files 40] [--runs 7]

Generates modules with an RMSprop call every ~13-17 lines (``corpus.py
--call-dense``: keyword and positional arguments, comments inside calls, param
groups), then times, alternately, in fresh processes:

* **libcst parse + codegen**, single process: ``libcst.parse_module(text).code``
  for every file (what a libcst-based converter pays before doing anything);
* **rmsport convert -q -j1 DIR** and **rmsport convert -q DIR** (default
  ``--jobs``), each on a fresh copy of the corpus (copying is not timed).

Goal (issue 11): convert <= 0.6x single-process libcst parse + codegen.
Exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from corpus import make_call_dense
from timing import RMSPORT, alternate, describe, installed_rmsport, machine, run, verdict

GOAL = 0.6

LIBCST = """
import sys, libcst
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if libcst.parse_module(text).code != text:
        raise SystemExit("libcst did not round-trip " + path)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"rmsport: {installed_rmsport()}")
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="rmsport-bench-") as work:
        source, target = Path(work) / "source", Path(work) / "target"
        calls = make_call_dense(source, files=args.files)
        files = sorted(str(p) for p in source.glob("*.py"))
        lines = sum(Path(p).read_text().count("\n") for p in files)
        print(f"\ncall-dense corpus: {len(files)} files, {lines:,} lines, {calls:,} calls "
              f"(one every {lines / calls:.1f} lines)")

        def fresh_copy() -> None:
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)

        libcst = "libcst parse + codegen (one process)"
        times = alternate(
            {
                libcst: lambda: run([sys.executable, "-c", LIBCST, *files], ok=(0,)),
                "rmsport convert -q -j1": lambda: run([*RMSPORT, "convert", "-q", "-j1", str(target)]),
                "rmsport convert -q": lambda: run([*RMSPORT, "convert", "-q", str(target)]),
            },
            runs=args.runs,
            setup=fresh_copy,
        )
        changed = sum((source / p.name).read_bytes() != p.read_bytes() for p in target.glob("*.py"))
        print(f"files changed by the last convert: {changed} of {len(files)}")
    for name in times.wall:
        print(describe(name, times))
    met = verdict("convert -j1 / libcst parse+codegen", times, "rmsport convert -q -j1", libcst, GOAL)
    met &= verdict("convert (default jobs) / libcst parse+codegen", times, "rmsport convert -q", libcst, GOAL)
    print("goals met" if met else "goal missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
