"""What every benchmark script shares: alternating runs, summaries, the installed CLI.

Rules, so that a shared and noisy machine still gives honest ratios:

* contenders run **alternately** (A B A B ...), so a burst of load from
  another process hits both sides, and a ratio is taken from medians of the
  same run;
* each side runs at least 7 times; min / median / max are printed, and the
  spread of the per-round ratios says how noisy the run was;
* rmsport's result cache is a fresh folder of the benchmark's own
  (``CACHE``): a script says which runs are cold (``--no-cache``) and which
  find it filled by an earlier, untimed round;
* the CLI is the **installed** package, run from a temporary folder outside
  any checkout (``python -m rmsport`` there imports what ``pip install`` put
  on the path, or what ``PYTHONPATH`` names); its modules are byte-compiled
  first, as pip does on install, since ``PYTHONDONTWRITEBYTECODE=1`` would
  otherwise make every start recompile them.
"""

from __future__ import annotations

import atexit
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

OUTSIDE = Path(tempfile.gettempdir())  # the working folder of every CLI run
# The console script pip installs next to the interpreter, as users run it.
_SCRIPT = shutil.which("rmsport", path=os.path.dirname(sys.executable))
RMSPORT = [_SCRIPT] if _SCRIPT else [sys.executable, "-m", "rmsport"]
# The result cache (rmsport/cli/cache.py) lives in a folder of the benchmark's own,
# so the user's cache never answers a timed run; scripts that time a cold run pass --no-cache.
CACHE = Path(tempfile.mkdtemp(prefix="rmsport-bench-cache-"))
atexit.register(shutil.rmtree, CACHE, ignore_errors=True)
ENV = {**os.environ, "RMSPORT_QUIET": "1", "NO_COLOR": "1", "RMSPORT_CACHE_DIR": str(CACHE)}
ENV.pop("RMSPORT_NO_CACHE", None)


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


class Timings:
    """Wall-clock seconds per contender, and CPU seconds (user + system, of the
    process and its children): CPU time barely moves when other processes
    compete for the cores, so it tells load noise from real change."""

    def __init__(self, names: list[str]) -> None:
        self.wall: dict[str, list[float]] = {name: [] for name in names}
        self.cpu: dict[str, list[float]] = {name: [] for name in names}


def _cpu() -> float:
    self_, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + children.ru_utime + children.ru_stime


def alternate(
    contenders: dict[str, Callable[[], object]],
    *,
    runs: int = 7,
    setup: Callable[[], object] | None = None,
    warmup: int = 1,
) -> Timings:
    """Time each contender ``runs`` times, interleaved; ``setup`` runs untimed before each."""
    timings = Timings(list(contenders))
    for round_ in range(warmup + runs):
        for name, action in contenders.items():
            if setup is not None:
                setup()
            cpu, start = _cpu(), time.perf_counter()
            action()
            elapsed, used = time.perf_counter() - start, _cpu() - cpu
            if round_ >= warmup:
                timings.wall[name].append(elapsed)
                timings.cpu[name].append(used)
    return timings


def describe(name: str, timings: Timings, width: int = 46) -> str:
    wall = [s * 1000 for s in timings.wall[name]]
    cpu = statistics.median(timings.cpu[name]) * 1000
    return (
        f"{name:{width}} min {min(wall):8.1f}  median {statistics.median(wall):8.1f}  max {max(wall):8.1f} ms"
        f"   (cpu median {cpu:7.1f} ms)"
    )


def ratio(timings: Timings, a: str, b: str, *, kind: str = "wall") -> tuple[float, float, float]:
    """Median ratio a/b, and the lowest and highest ratio within one round (the noise)."""
    samples = timings.wall if kind == "wall" else timings.cpu
    rounds = [x / y for x, y in zip(samples[a], samples[b])]
    return statistics.median(samples[a]) / statistics.median(samples[b]), min(rounds), max(rounds)


def verdict(label: str, timings: Timings, a: str, b: str, goal: float) -> bool:
    """Print the wall-time ratio a/b against ``goal`` (and the CPU-time ratio); True when met."""
    median, low, high = ratio(timings, a, b)
    cpu = ratio(timings, a, b, kind="cpu")[0]
    met = median <= goal
    print(
        f"  {label:50} {median:6.2f}x  (rounds {low:.2f}-{high:.2f}; cpu {cpu:.2f}x)  goal <= {goal}x  "
        f"{'met' if met else 'MISSED'}"
    )
    return met
