"""Does ``rmsport check`` on one small file start about as fast as click itself?

    python benchmarks/bench_startup.py [--runs 15]

The pre-commit case: a project with a real-shaped ``.gitignore`` (~145
patterns) and a ``pyproject.toml`` without a ``[tool.rmsport]`` table, and one
small module passed explicitly, as the hook does (``--force-exclude``).  Times,
alternately, in fresh processes from outside the checkout:

* ``python -c "import click"``: the floor (rmsport is a click application);
* ``rmsport check --force-exclude small.py`` and ``rmsport check small.py``;
* ``rmsport --version``.

Goal (issue 11): check of one small file <= 1.3x ``python -c "import click"``.
Exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from corpus import ROOT_GITIGNORE
from timing import RMSPORT, alternate, describe, installed_rmsport, machine, run, verdict

GOAL = 1.3
SMALL = '"""Helpers."""\n\nimport os\n\n\ndef here(*parts: str) -> str:\n    return os.path.join(os.getcwd(), *parts)\n'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    print(f"rmsport: {installed_rmsport()}")
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="rmsport-bench-") as work:
        project = Path(work)
        (project / ".git").mkdir()
        (project / ".gitignore").write_text(ROOT_GITIGNORE)
        (project / "pyproject.toml").write_text('[project]\nname = "demo"\n\n[tool.black]\nline-length = 100\n')
        small = project / "src" / "demo" / "paths.py"
        small.parent.mkdir(parents=True)
        small.write_text(SMALL)
        click = 'python -c "import click"'
        pre_commit = "rmsport check --force-exclude small.py"
        times = alternate(
            {
                click: lambda: run([sys.executable, "-c", "import click"]),
                pre_commit: lambda: run([*RMSPORT, "check", "--force-exclude", str(small)], cwd=project),
                "rmsport check small.py": lambda: run([*RMSPORT, "check", str(small)], cwd=project),
                "rmsport --version": lambda: run([*RMSPORT, "--version"], ok=(0,)),
            },
            runs=args.runs,
        )
    for name in times.wall:
        print(describe(name, times))
    met = verdict("check --force-exclude small.py / import click", times, pre_commit, click, GOAL)
    met &= verdict("check small.py / import click", times, "rmsport check small.py", click, GOAL)
    print("goals met" if met else "goal missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
