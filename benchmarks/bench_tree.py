"""How fast is rmsport on a whole tree, against what reading and parsing cost?

    python benchmarks/bench_tree.py [--dir DIR] [--files 2000] [--lines 450000]
                                    [--all-calls-files 200] [--jobs N] [--repeat 3]

Generates two corpora with ``make_corpus.py`` (in a temporary folder, or under
``--dir``): a tree of ~450k lines where 1% of the modules build RMSprop
optimizers, and a smaller one where every module does.  Then prints, best of
``--repeat`` runs, with a warm page cache:

1. plain Python read of every file of the tree (bytes + decode): the floor,
   in-process and as a fresh ``python -c`` process (what the check goal is
   measured against: a CLI run pays interpreter start-up too);
2. rmsport's file discovery on the tree;
3. libcst parse + codegen, single process, of the files that hold calls (tree),
   and of every file of the all-calls corpus;
4. ``rmsport check TREE`` in a subprocess (the real CLI, start-up included),
   and ``rmsport --version`` for the start-up alone;
5. ``rmsport convert`` on a fresh copy of the all-calls corpus.

and the ratios against the goals: whole-tree check <= 4x the plain read, and
converting the all-call files <= 1.5x single-process libcst parse + codegen.
Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_corpus import make_corpus

CHECK_GOAL = 4.0
CONVERT_GOAL = 1.5
RMSPORT = [sys.executable, "-m", "rmsport"]


def best_of(repeat: int, action: Callable[[], object], setup: Callable[[], object] | None = None) -> float:
    best = float("inf")
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def source_files(root: Path) -> list[Path]:
    from rmsport.files.discovery import iter_source_files

    return list(iter_source_files([root]))


def read_all(paths: list[Path]) -> int:
    lines = 0
    for path in paths:
        with open(path, "rb") as handle:
            lines += handle.read().decode("utf-8").count("\n")
    return lines


def libcst_roundtrip(paths: list[Path]) -> None:
    import libcst

    for path in paths:
        text = path.read_text(encoding="utf-8")
        if libcst.parse_module(text).code != text:
            raise AssertionError(f"libcst did not round-trip {path}")


def run_cli(args: list[str], *, ok: tuple[int, ...] = (0, 1)) -> None:
    env = {**os.environ, "RMSPORT_QUIET": "1", "NO_COLOR": "1"}
    proc = subprocess.run([*RMSPORT, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if proc.returncode not in ok:
        raise SystemExit(f"rmsport {' '.join(args)} exited {proc.returncode}:\n{proc.stderr.decode()[-2000:]}")


READ_SCRIPT = """
import os, sys
lines = 0
for folder, dirs, names in os.walk(sys.argv[1]):
    dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
    for name in names:
        if name.endswith((".py", ".pyi", ".ipynb")):
            with open(os.path.join(folder, name), "rb") as handle:
                lines += handle.read().decode("utf-8").count("\\n")
"""


def read_in_subprocess(root: Path) -> None:
    subprocess.run([sys.executable, "-c", READ_SCRIPT, str(root)], check=True)


def rate(lines: int, seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms  {lines / seconds / 1000:9.0f}k lines/s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="benchmark rmsport on a generated tree")
    parser.add_argument("--dir", type=Path, help="where to generate the corpora (default: a temporary folder)")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=450_000)
    parser.add_argument("--all-calls-files", type=int, default=200)
    parser.add_argument("--jobs", type=int, help="passed to rmsport as --jobs")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    workdir = args.dir or Path(tempfile.mkdtemp(prefix="rmsport-bench-"))
    try:
        return run(args, workdir)
    finally:
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, workdir: Path) -> int:
    tree, all_calls_src, all_calls = workdir / "tree", workdir / "all-calls-src", workdir / "all-calls"
    for folder in (tree, all_calls_src, all_calls):
        shutil.rmtree(folder, ignore_errors=True)
    lines_per_file = args.lines // args.files
    call_files = make_corpus(tree, files=args.files, lines=args.lines)
    make_corpus(
        all_calls_src, files=args.all_calls_files, lines=lines_per_file * args.all_calls_files, calls_fraction=1
    )
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    # An installed rmsport has byte-compiled modules (pip compiles at install);
    # a checkout run with PYTHONDONTWRITEBYTECODE=1 would recompile them on every
    # start.  Compile once, like an install, so start-up is measured as users see it.
    import compileall

    import rmsport

    compileall.compile_dir(str(Path(rmsport.__file__).parent), quiet=1)

    files = source_files(tree)
    total_lines = read_all(files)  # also warms the page cache
    call_lines = read_all(call_files)
    all_files = source_files(all_calls_src)
    all_lines = read_all(all_files)
    print(f"tree: {len(files)} files, {total_lines} lines, {len(call_files)} with calls ({call_lines} lines)")
    print(f"all-calls corpus: {len(all_files)} files, {all_lines} lines")
    print(f"cores: {os.cpu_count()}, jobs: {args.jobs or 'rmsport default'}, best of {args.repeat}\n")

    t_read = best_of(args.repeat, lambda: read_all(files))
    t_read_process = best_of(args.repeat, lambda: read_in_subprocess(tree))
    t_discover = best_of(args.repeat, lambda: source_files(tree))
    t_cst_calls = best_of(args.repeat, lambda: libcst_roundtrip(call_files))
    t_cst_all = best_of(args.repeat, lambda: libcst_roundtrip(all_files))
    t_start = best_of(args.repeat, lambda: run_cli(["--version"], ok=(0,)))
    t_check = best_of(args.repeat, lambda: run_cli(["check", "-q", *jobs, str(tree)]))

    def fresh_copy() -> None:
        shutil.rmtree(all_calls, ignore_errors=True)
        shutil.copytree(all_calls_src, all_calls)

    t_convert = best_of(args.repeat, lambda: run_cli(["convert", "-q", *jobs, str(all_calls)]), setup=fresh_copy)
    pairs = zip(source_files(all_calls_src), source_files(all_calls), strict=True)
    changed = sum(a.read_bytes() != b.read_bytes() for a, b in pairs)

    print(f"{'plain read (tree)':44} {rate(total_lines, t_read)}")
    print(f"{'plain read (tree), fresh python process':44} {rate(total_lines, t_read_process)}")
    print(f"{'discovery (tree)':44} {rate(total_lines, t_discover)}  ({len(files)} files)")
    print(f"{'libcst parse+codegen (tree call files)':44} {rate(call_lines, t_cst_calls)}")
    print(f"{'libcst parse+codegen (all-calls corpus)':44} {rate(all_lines, t_cst_all)}")
    print(f"{'rmsport --version (start-up)':44} {t_start * 1000:9.1f} ms")
    print(f"{'rmsport check (tree)':44} {rate(total_lines, t_check)}")
    print(f"{'rmsport convert (all-calls corpus)':44} {rate(all_lines, t_convert)}  ({changed} files changed)")

    check_ratio = t_check / t_read_process
    convert_ratio = t_convert / t_cst_all
    print()
    # Like for like: both sides of a ratio are whole runs (a fresh interpreter
    # for the CLI and for the plain read; libcst timed in-process on the same files).
    print(f"check / plain read (both fresh processes): {check_ratio:6.2f}x  goal <= {CHECK_GOAL}x")
    print(f"check / plain read in-process:             {t_check / t_read:6.2f}x  (start-up and imports included)")
    print(f"convert / libcst parse+codegen:            {convert_ratio:6.2f}x  goal <= {CONVERT_GOAL}x")
    met = check_ratio <= CHECK_GOAL and convert_ratio <= CONVERT_GOAL
    print("goals met" if met else "goal missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
