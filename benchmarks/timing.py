"""What every benchmark script shares: alternating runs, summaries, the installed CLI.

Rules, so that a shared and noisy machine still gives honest ratios:

* contenders run **alternately** (A B A B ...), so a burst of load from
  another process hits both sides, and a ratio is taken from medians of the
  same run;
* each side runs at least 7 times; min / median / max are printed, and the
  spread of the per-round ratios says how noisy the run was;
* the CLI is the **installed** package, run from a temporary folder outside
  any checkout (``python -m rmsport`` there imports what ``pip install`` put
  on the path, or what ``PYTHONPATH`` names); its modules are byte-compiled
  first, as pip does on install, since ``PYTHONDONTWRITEBYTECODE=1`` would
  otherwise make every start recompile them.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

OUTSIDE = Path(tempfile.gettempdir())  # the working folder of every CLI run
RMSPORT = [sys.executable, "-m", "rmsport"]
ENV = {**os.environ, "RMSPORT_QUIET": "1", "NO_COLOR": "1"}


def installed_rmsport() -> Path:
    """Where the ``rmsport`` that the CLI runs lives; byte-compiles it like pip would."""
    out = subprocess.run(
        [sys.executable, "-c", "import rmsport, os; print(os.path.dirname(rmsport.__file__))"],
        cwd=OUTSIDE, env=ENV, capture_output=True, text=True, check=True,
    ).stdout.strip()
    package = Path(out)
    import compileall

    compileall.compile_dir(str(package), quiet=1)
    return package


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{date.today().isoformat()}, load {load:.1f} at start"
    )


def run(command: list[str], *, ok: tuple[int, ...] = (0, 1), cwd: Path | None = None) -> None:
    proc = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV, cwd=cwd or OUTSIDE
    )
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}:\n{proc.stderr.decode()[-2000:]}")


def alternate(
    contenders: dict[str, Callable[[], object]],
    *,
    runs: int = 7,
    setup: Callable[[], object] | None = None,
    warmup: int = 1,
) -> dict[str, list[float]]:
    """Time each contender ``runs`` times, interleaved; ``setup`` runs untimed before each."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(warmup + runs):
        for name, action in contenders.items():
            if setup is not None:
                setup()
            start = time.perf_counter()
            action()
            elapsed = time.perf_counter() - start
            if round_ >= warmup:
                times[name].append(elapsed)
    return times


def describe(name: str, samples: list[float], width: int = 52) -> str:
    ms = [s * 1000 for s in samples]
    return f"{name:{width}} min {min(ms):8.1f}  median {statistics.median(ms):8.1f}  max {max(ms):8.1f} ms"


def ratio(times: dict[str, list[float]], a: str, b: str) -> tuple[float, float, float]:
    """Median ratio a/b, and the lowest and highest ratio of one round (noise)."""
    rounds = [x / y for x, y in zip(times[a], times[b])]
    return statistics.median(times[a]) / statistics.median(times[b]), min(rounds), max(rounds)


def verdict(label: str, value: tuple[float, float, float], goal: float, *, at_most: bool = True) -> bool:
    median, low, high = value
    met = median <= goal if at_most else median >= goal
    sign = "<=" if at_most else ">="
    print(f"  {label:50} {median:6.2f}x  (rounds {low:.2f}-{high:.2f})  goal {sign} {goal}x  "
          f"{'met' if met else 'MISSED'}")
    return met
